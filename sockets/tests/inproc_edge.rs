//! `inproc://` off the happy path: unbind or disconnect around a connect that is
//! still waiting for its bind, a bound socket that goes away under a sending
//! connecter, LINGER=0 with a full queue, many connecters to one socket, a
//! socket dropped without close() as its thread's runtime stops, context
//! termination with connected sockets, and an XPUB/XSUB proxy.
//!
//! Where libzmq defines the behaviour, the tests follow it: an inproc connection
//! does not come back once its peer is gone, a PUSH left without peers blocks
//! (or times out with SNDTIMEO), and messages already in an inproc pipe reach
//! the reader even when the writer closes with LINGER=0.

mod common;

use std::rc::Rc;
use std::time::Duration;

use compio::runtime::JoinHandle;

use zeroring_sockets::{
    Context, Error, PubSocket, PullSocket, PushSocket, Result, SocketEvent, SocketType, SubSocket,
    XpubSocket, XsubSocket, proxy,
};

use common::*;

/// Asserts that `pull` gets nothing more within `ms` milliseconds.
async fn assert_nothing_more(pull: &PullSocket, ms: u64) {
    pull.set_rcvtimeo(Some(Duration::from_millis(ms)));
    match within("pull.recv", pull.recv()).await {
        Err(Error::Timeout(_)) => {}
        other => panic!("expected nothing, got {:?}", other.map(|m| show(&m))),
    }
    pull.set_rcvtimeo(None);
}

/// Asserts that a send with a short SNDTIMEO times out (no peer takes it).
async fn assert_send_times_out(push: &PushSocket) {
    push.set_sndtimeo(Some(Duration::from_millis(100)));
    assert!(
        matches!(
            within("push.send", push.send("nobody")).await,
            Err(Error::Timeout(_))
        ),
        "a PUSH without peers must not send"
    );
    push.set_sndtimeo(None);
}

/// Sends `m{start}`, `m{start+1}`, ... without waiting until the peer's queue
/// is full; returns the next index.
async fn fill(push: &PushSocket, start: usize) -> usize {
    let mut next = start;
    while push.try_send(format!("m{next}")).await.is_ok() {
        next += 1;
        assert!(next - start <= 10_000, "SNDHWM never stopped the sender");
    }
    next
}

/// Fills the PUSH's only peer until a send has to wait, and returns how many went
/// and that waiting send (of the next message in sequence). Room can appear right
/// after a fill, while the PULL moves messages under its RCVHWM: then fill again.
async fn send_that_waits(push: &Rc<PushSocket>) -> (usize, JoinHandle<Result<()>>) {
    let mut sent = 0;
    for _ in 0..20 {
        sent = fill(push, sent).await;
        let p = push.clone();
        let body = format!("m{sent}");
        let send = compio::runtime::spawn(async move { p.send(body).await });
        pause(50).await;
        if !send.is_finished() {
            return (sent, send);
        }
        within("a send that found room", send)
            .await
            .unwrap()
            .unwrap();
        sent += 1;
    }
    panic!("sends to a peer that does not read keep finding room");
}

/// Receives `n` messages `m0`, `m1`, ... in order.
async fn expect_sequence(pull: &PullSocket, n: usize) {
    for i in 0..n {
        let want = format!("m{i}");
        assert_msg(
            &within("recv", pull.recv()).await.unwrap(),
            &[want.as_bytes()],
        );
    }
}

// A connect that waits for its bind, and the bind goes away before accepting it:
// the connect is refused, so the connecter's close() (default LINGER: infinite,
// with messages queued) finishes instead of waiting for a bind that never comes.
#[compio::test]
async fn unbind_before_the_pending_connect_is_accepted() {
    let watch = panic_watch();
    let ep = inproc_name("unbind-pending");
    let push = PushSocket::new();
    let events = push.monitor();
    push.connect(&ep).await.unwrap();
    for i in 0..3 {
        push.send(format!("m{i}")).await.unwrap();
    }
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    // Before the accept loop ran.
    pull.unbind(&ep).unwrap();
    within("the connect is refused", async {
        while !matches!(events.recv().await, SocketEvent::HandshakeFailed { .. }) {}
    })
    .await;
    within("connecter close", push.close()).await;
    assert_nothing_more(&pull, 100).await;
    watch.assert_none();
}

// The same after the bound side accepted: unbind ends the connection, the
// connecter loses its peer, and its close() finishes.
#[compio::test]
async fn unbind_after_the_connect_was_accepted() {
    let watch = panic_watch();
    let ep = inproc_name("unbind-accepted");
    let push = PushSocket::new();
    push.connect(&ep).await.unwrap();
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    wait_until("attached", || {
        push.peer_count() == 1 && pull.peer_count() == 1
    })
    .await;
    pull.unbind(&ep).unwrap();
    wait_until("the connecter sees the unbind", || push.peer_count() == 0).await;
    assert_send_times_out(&push).await;
    within("connecter close", push.close()).await;
    watch.assert_none();
}

// A connect still waiting for its bind, never bound: close() finishes once LINGER
// ends (with LINGER=0 at once). (With an infinite LINGER and messages queued it
// waits for the bind, as libzmq's context termination does.)
#[compio::test]
async fn close_of_a_connect_that_never_found_its_bind() {
    let watch = panic_watch();
    for linger in [Duration::ZERO, Duration::from_millis(50)] {
        let push = PushSocket::new();
        push.set_linger(Some(linger));
        push.connect(&inproc_name("never-bound")).await.unwrap();
        push.send("queued").await.unwrap();
        within("close within LINGER", push.close()).await;
    }
    watch.assert_none();
}

// close() of a connect still waiting for its bind, with the default (infinite)
// LINGER and messages queued, waits for the bind and delivers them, as libzmq
// does.
#[compio::test]
async fn close_waits_for_the_bind_and_delivers() {
    let watch = panic_watch();
    let ep = inproc_name("close-then-bind");
    let push = Rc::new(PushSocket::new());
    push.connect(&ep).await.unwrap();
    for i in 0..3 {
        push.send(format!("m{i}")).await.unwrap();
    }
    let p = push.clone();
    let closing = compio::runtime::spawn(async move { p.close().await });
    pause(50).await;
    assert!(!closing.is_finished(), "close() must wait for the bind");
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    within("close once delivered", closing).await.unwrap();
    expect_sequence(&pull, 3).await;
    assert_nothing_more(&pull, 100).await;
    watch.assert_none();
}

// The same when the bound socket saw the connect (and could have taken its
// messages) while the connecting side's runtime was busy: the messages still
// count as the connecter's, so its close() waits and delivers them.
#[compio::test]
async fn close_of_a_connect_whose_bind_came_while_its_runtime_was_busy() {
    let watch = panic_watch();
    let ep = inproc_name("busy-connecter");
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = go.clone();
    let sender = std::thread::spawn(move || {
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let push = PushSocket::new();
                push.connect(&ep).await.unwrap();
                for i in 0..3 {
                    push.send(format!("m{i}")).await.unwrap();
                }
                // Busy: this runtime runs nothing until the test says so.
                while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                push.close().await;
            })
    });
    // The PULL's accept loop and driver run meanwhile.
    pause(50).await;
    go.store(true, std::sync::atomic::Ordering::SeqCst);
    join(sender).await;
    expect_sequence(&pull, 3).await;
    watch.assert_none();
}

// disconnect() before the connection is set up: the connect is forgotten. The
// bound socket gets neither a peer nor the messages queued before the
// disconnect: when it binds later, also right away (before the connecter's task
// ran), and when it was bound already but had not accepted the connect yet.
#[compio::test]
async fn disconnect_before_the_connection_is_set_up() {
    let watch = panic_watch();
    for (bound_first, settle) in [(false, false), (false, true), (true, false)] {
        let ep = inproc_name("disconnect-first");
        let pull = PullSocket::new();
        if bound_first {
            pull.bind(&ep).await.unwrap();
        }
        let push = PushSocket::new();
        push.connect(&ep).await.unwrap();
        push.send("before the disconnect").await.unwrap();
        push.disconnect(&ep).unwrap();
        if settle {
            pause(20).await;
        }
        if !bound_first {
            pull.bind(&ep).await.unwrap();
        }
        assert_nothing_more(&pull, 200).await;
        assert_eq!(pull.peer_count(), 0, "bound first: {bound_first}");
        assert_send_times_out(&push).await;
    }
    watch.assert_none();
}

// The bound PULL closes under a connected PUSH: the PUSH has no peer left, and an
// inproc connection does not come back, not even when the name is bound again.
// Sends then block, or time out with SNDTIMEO, as a libzmq PUSH without peers
// does.
#[compio::test]
async fn a_push_whose_bound_pull_closed_has_no_peer() {
    let watch = panic_watch();
    let ep = inproc_name("pull-closed");
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep).await.unwrap();
    push.send("one").await.unwrap();
    assert_msg(&within("recv", pull.recv()).await.unwrap(), &[b"one"]);
    within("pull close", pull.close()).await;
    wait_until("the PUSH sees its peer leave", || push.peer_count() == 0).await;
    assert_send_times_out(&push).await;

    let again = PullSocket::new();
    again.bind(&ep).await.unwrap();
    assert_send_times_out(&push).await;
    assert_eq!(
        again.peer_count(),
        0,
        "an inproc connect does not reconnect"
    );
    watch.assert_none();
}

// A send blocked at SNDHWM when the bound PULL closes keeps waiting (no peer has
// room), and goes to the next peer that connects, not into the dead link.
#[compio::test]
async fn a_send_blocked_at_sndhwm_moves_on_when_the_pull_closes() {
    let watch = panic_watch();
    let ep = inproc_name("blocked-pull-closed");
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(2)).unwrap();
    pull.bind(&ep).await.unwrap();
    let push = Rc::new(PushSocket::new());
    push.set_sndhwm(Some(2)).unwrap();
    push.connect(&ep).await.unwrap();
    wait_until("attached", || push.peer_count() == 1).await;
    let (sent, blocked) = send_that_waits(&push).await;
    assert!(sent >= 2, "at least SNDHWM messages fit ({sent})");

    within("pull close", pull.close()).await;
    wait_until("the PUSH sees its peer leave", || push.peer_count() == 0).await;
    pause(50).await;
    assert!(
        !blocked.is_finished(),
        "without peers the send keeps waiting"
    );

    let next = PullSocket::new();
    let ep2 = next.bind(&inproc_name("blocked-next")).await.unwrap();
    push.connect(&ep2.to_string()).await.unwrap();
    within("blocked send", blocked).await.unwrap().unwrap();
    let want = format!("m{sent}");
    assert_msg(
        &within("recv", next.recv()).await.unwrap(),
        &[want.as_bytes()],
    );
    watch.assert_none();
}

// LINGER=0 close with the peer's queue full and a send waiting finishes at once;
// the waiting send fails. The messages already in the inproc pipe still reach the
// PULL (libzmq writes the pipe's terminator after them), and nothing else does.
#[compio::test]
async fn linger_zero_close_with_a_full_queue() {
    let watch = panic_watch();
    let ep = inproc_name("linger-zero");
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(5)).unwrap();
    pull.bind(&ep).await.unwrap();
    let push = Rc::new(PushSocket::new());
    push.set_sndhwm(Some(5)).unwrap();
    push.set_linger(Some(Duration::ZERO));
    push.connect(&ep).await.unwrap();
    wait_until("attached", || push.peer_count() == 1).await;
    let (sent, blocked) = send_that_waits(&push).await;
    assert!(sent >= 5, "at least SNDHWM messages fit ({sent})");
    within("LINGER=0 close", push.close()).await;
    let unsent = within("the waiting send ends", blocked).await.unwrap();
    assert!(unsent.is_err(), "a send waiting at close() is not sent");
    expect_sequence(&pull, sent).await;
    assert_nothing_more(&pull, 100).await;
    wait_until("the PULL sees its peer leave", || pull.peer_count() == 0).await;
    watch.assert_none();
}

// Fifty PUSH sockets, half connecting before the bind and half after, each send
// their messages to one PULL: everything arrives, each sender's in order, and
// when they close the PULL is left without peers.
#[compio::test]
async fn fifty_connecters_to_one_bound_pull() {
    let watch = panic_watch();
    const SENDERS: usize = 50;
    const EACH: usize = 20;
    let ep = inproc_name("fifty");
    let pushes: Vec<PushSocket> = (0..SENDERS).map(|_| PushSocket::new()).collect();
    for p in &pushes[..SENDERS / 2] {
        p.connect(&ep).await.unwrap();
    }
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    for p in &pushes[SENDERS / 2..] {
        p.connect(&ep).await.unwrap();
    }
    for seq in 0..EACH {
        for (s, p) in pushes.iter().enumerate() {
            within("send", p.send(tag(s, seq, 0))).await.unwrap();
        }
    }
    let mut next = [0usize; SENDERS];
    for _ in 0..SENDERS * EACH {
        let (s, seq, _) = parse_tag(&within("recv", pull.recv()).await.unwrap()[0]);
        assert_eq!(seq, next[s], "sender {s}'s messages out of order");
        next[s] += 1;
    }
    assert_eq!(pull.peer_count(), SENDERS);
    for p in &pushes {
        within("push close", p.close()).await;
    }
    wait_until("every PUSH gone", || pull.peer_count() == 0).await;
    watch.assert_none();
}

/// Waits for `events` to report that a connection ended: it was set up and
/// went (Disconnected), or it ended before it was set up (HandshakeFailed).
async fn connection_ended(events: &zeroring_sockets::Monitor) {
    within("the connection ends", async {
        loop {
            match events.recv().await {
                SocketEvent::Disconnected { .. } | SocketEvent::HandshakeFailed { .. } => return,
                _ => {}
            }
        }
    })
    .await;
}

/// Takes what `pull` has (waiting up to 100 ms for each next message) and
/// checks it is `m0`, `m1`, ... in order; returns how many came.
async fn drain_sequence(pull: &PullSocket) -> usize {
    pull.set_rcvtimeo(Some(Duration::from_millis(100)));
    let mut n = 0;
    while let Ok(m) = within("pull.recv", pull.recv()).await {
        let want = format!("m{n}");
        assert_msg(&m, &[want.as_bytes()]);
        n += 1;
    }
    pull.set_rcvtimeo(None);
    n
}

/// How a socket on a thread of its own goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// Dropped without close() right before its runtime stops (the runtime
    /// still runs the tasks this wakes, once).
    Dropped,
    /// Leaked (never closed) when its runtime stops: only the runtime dropping
    /// the socket's tasks can tell the peer.
    Leaked,
}

impl End {
    fn apply<T>(self, socket: T) {
        match self {
            End::Dropped => drop(socket),
            End::Leaked => std::mem::forget(socket),
        }
    }
}

/// Runs a PUSH on a thread of its own that connects to `ep`, sends `m0`..`m9`,
/// (with `attach`) waits until it is connected, and goes as `end` says as the
/// thread's runtime stops.
fn push_on_a_thread(ep: String, attach: bool, end: End) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let push = PushSocket::new();
                push.connect(&ep).await.unwrap();
                for i in 0..10 {
                    push.send(format!("m{i}")).await.unwrap();
                }
                if attach {
                    wait_until("attached", || push.peer_count() == 1).await;
                }
                end.apply(push);
            });
    })
}

/// A PULL bound to `ep` gets a PUSH from another thread that ends as `end` says;
/// returns how many of its messages arrived (in order) once the PULL saw the
/// connection end.
async fn pull_from_a_thread(ep: String, attach: bool, end: End) -> usize {
    let pull = PullSocket::new();
    let events = pull.monitor();
    pull.bind(&ep).await.unwrap();
    join(push_on_a_thread(ep, attach, end)).await;
    connection_ended(&events).await;
    let got = drain_sequence(&pull).await;
    assert_eq!(pull.peer_count(), 0);
    got
}

// A connected socket dropped without close() on another thread whose runtime
// stops right after: its messages are in the pipe already and arrive, and its
// peer sees it leave instead of keeping a peer that will never speak again.
#[compio::test]
async fn a_connected_socket_dropped_as_its_runtime_stops() {
    let watch = panic_watch();
    let got = pull_from_a_thread(inproc_name("dropped"), true, End::Dropped).await;
    assert_eq!(got, 10);
    watch.assert_none();
}

// The same when the socket was leaked rather than dropped.
#[compio::test]
async fn a_connected_socket_leaked_as_its_runtime_stops() {
    let watch = panic_watch();
    let got = pull_from_a_thread(inproc_name("leaked"), true, End::Leaked).await;
    assert_eq!(got, 10);
    watch.assert_none();
}

// Dropped before the connection was set up: it ends on the bound side too, and
// the messages arrive all or not at all (over tcp they would be lost with the
// runtime).
#[compio::test]
async fn a_connecting_socket_dropped_as_its_runtime_stops() {
    let watch = panic_watch();
    let got = pull_from_a_thread(inproc_name("dropped-early"), false, End::Dropped).await;
    assert!(got == 0 || got == 10, "{got} of 10 messages arrived");
    watch.assert_none();
}

/// A PUSH connected to `ep` sees the PULL bound there on another thread go as
/// `end` says when that thread's runtime stops; the name is free again after.
async fn bound_on_a_thread(end: End) {
    let ep = inproc_name("bound-on-a-thread");
    let push = PushSocket::new();
    push.connect(&ep).await.unwrap();
    let name = ep.clone();
    let binder = std::thread::spawn(move || {
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let pull = PullSocket::new();
                pull.bind(&name).await.unwrap();
                wait_until("attached", || pull.peer_count() == 1).await;
                end.apply(pull);
            });
    });
    join(binder).await;
    wait_until("the PUSH sees its peer leave", || push.peer_count() == 0).await;
    let again = PullSocket::new();
    again.bind(&ep).await.expect("the name is free again");
}

// A bound socket dropped without close() as its runtime stops: its connecter sees
// the connection end, and the name is free for the next bind.
#[compio::test]
async fn a_bound_socket_dropped_as_its_runtime_stops() {
    let watch = panic_watch();
    bound_on_a_thread(End::Dropped).await;
    watch.assert_none();
}

// The same when the bound socket was leaked rather than dropped.
#[compio::test]
async fn a_bound_socket_leaked_as_its_runtime_stops() {
    let watch = panic_watch();
    bound_on_a_thread(End::Leaked).await;
    watch.assert_none();
}

// Both ends of a connection on one runtime, leaked as it stops: the hang-ups
// find their peer's task gone with the same runtime (nothing breaks), and the
// name is free for the next bind.
#[compio::test]
async fn both_ends_leaked_as_their_runtime_stops() {
    let watch = panic_watch();
    let ep = inproc_name("both-leaked");
    let name = ep.clone();
    join(std::thread::spawn(move || {
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let pull = PullSocket::new();
                pull.bind(&name).await.unwrap();
                let push = PushSocket::new();
                push.connect(&name).await.unwrap();
                push.send("m0").await.unwrap();
                wait_until("attached", || pull.peer_count() == 1).await;
                End::Leaked.apply(push);
                End::Leaked.apply(pull);
            });
    }))
    .await;
    let again = PullSocket::new();
    again.bind(&ep).await.expect("the name is free again");
    watch.assert_none();
}

/// Runs `f` on a new thread and waits (without blocking the runtime) for it to
/// finish: a hang fails the test instead of hanging it.
async fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    join(std::thread::spawn(f)).await
}

// Context termination with inproc handles still connected and unread messages in
// the pipe returns (their messages are already delivered into the pipe).
#[compio::test]
async fn context_terminate_with_connected_inproc_handles() {
    let watch = panic_watch();
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    let ep = inproc_name("terminate");
    pull.bind(&ep).unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&ep).unwrap();
    for i in 0..100 {
        push.send(format!("m{i}")).unwrap();
    }
    on_thread(move || ctx.terminate()).await;
    assert!(matches!(push.send("late"), Err(Error::Closed)));
    drop((pull, push));
    watch.assert_none();
}

/// A context whose PUSH handle is blocked in send at SNDHWM on another thread
/// (PUSH LINGER `linger`) terminates, and the blocked send fails.
async fn terminate_with_a_send_blocked_at_sndhwm(linger: Option<Duration>) {
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.set_rcvhwm(Some(2)).unwrap();
    let ep = inproc_name("terminate-blocked");
    pull.bind(&ep).unwrap();
    let push = std::sync::Arc::new(ctx.socket(SocketType::Push).unwrap());
    push.set_sndhwm(Some(2)).unwrap();
    push.set_linger(linger);
    push.connect(&ep).unwrap();
    let p = push.clone();
    let sender = std::thread::spawn(move || {
        let mut sent = 0;
        loop {
            match p.send(format!("m{sent}")) {
                Ok(()) => sent += 1,
                Err(e) => return (sent, e),
            }
            assert!(sent <= 10_000, "SNDHWM never stopped the sender");
        }
    });
    // Until the handle's own queue is full too: the sender is stuck.
    wait_until("the sender blocks", || push.try_send("probe").is_err()).await;
    on_thread(move || ctx.terminate()).await;
    let (sent, e) = join(sender).await;
    assert!(sent >= 2, "at least SNDHWM messages went ({sent})");
    assert!(matches!(e, Error::Closed), "blocked send ended with {e:?}");
    drop(pull);
}

#[compio::test]
async fn context_terminate_with_a_send_blocked_at_sndhwm() {
    let watch = panic_watch();
    terminate_with_a_send_blocked_at_sndhwm(Some(Duration::from_millis(100))).await;
    watch.assert_none();
}

// With the default (infinite) LINGER, libzmq's blocked zmq_send returns ETERM and
// termination completes once the PULL is closed too. The message the I/O
// thread's pump holds, waiting for room when the close came, still had a peer
// then; the PULL closes as part of the same termination, and the message must
// be dropped once no peer is left instead of waiting forever (it hung before).
#[compio::test]
async fn context_terminate_with_a_send_blocked_at_sndhwm_default_linger() {
    let watch = panic_watch();
    terminate_with_a_send_blocked_at_sndhwm(None).await;
    watch.assert_none();
}

// A native socket of the context, connected to one of its handles, sees that
// handle go when the context terminates (termination closes the handles only).
#[compio::test]
async fn context_terminate_ends_a_native_sockets_inproc_peer() {
    let watch = panic_watch();
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    let ep = inproc_name("terminate-native");
    pull.bind(&ep).unwrap();
    let push = PushSocket::with_context(&ctx);
    push.connect(&ep).await.unwrap();
    push.send("m0").await.unwrap();
    wait_until("attached", || push.peer_count() == 1).await;
    on_thread(move || ctx.terminate()).await;
    wait_until("the handle's end reached the native socket", || {
        push.peer_count() == 0
    })
    .await;
    assert_send_times_out(&push).await;
    drop(pull);
    watch.assert_none();
}

// PUB -> XSUB [proxy] XPUB -> SUB, every hop over inproc: the subscription travels
// up through the proxy, and only matching messages come down.
#[compio::test]
async fn xpub_xsub_proxy_over_inproc() {
    let watch = panic_watch();
    let front = inproc_name("proxy-front");
    let back = inproc_name("proxy-back");
    let xsub = XsubSocket::new();
    xsub.bind(&front).await.unwrap();
    let xpub = XpubSocket::new();
    xpub.bind(&back).await.unwrap();
    compio::runtime::spawn(async move {
        let _ = proxy(&xsub, &xpub, None::<&PullSocket>).await;
    })
    .detach();
    let publisher = PubSocket::new();
    publisher.connect(&front).await.unwrap();
    let sub = SubSocket::new();
    sub.subscribe("a");
    sub.connect(&back).await.unwrap();

    // The subscription reaches the publisher at some point: publish until the
    // first matching message comes through.
    within("the subscription reaches the publisher", async {
        loop {
            publisher.send("a-probe").await.unwrap();
            sub.set_rcvtimeo(Some(Duration::from_millis(20)));
            if sub.recv().await.is_ok() {
                break;
            }
        }
    })
    .await;
    sub.set_rcvtimeo(None);
    // Probes still on their way come first; the non-matching message never does.
    publisher.send("b-filtered").await.unwrap();
    publisher.send("a-last").await.unwrap();
    loop {
        let m = within("sub recv", sub.recv()).await.unwrap();
        match &m[0][..] {
            b"a-probe" => {}
            b"a-last" => break,
            other => panic!("unexpected {:?}", String::from_utf8_lossy(other)),
        }
    }
    watch.assert_none();
}
