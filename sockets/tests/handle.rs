//! Thread-safe sockets from a `Context`: the blocking API on plain threads, the
//! async API on tokio, timeouts and ZMQ_DONTWAIT, REQ/REP's turn checked by the
//! call that breaks it, subscriptions, ROUTER_MANDATORY, the poller, and context
//! termination that still delivers what was queued.

use std::sync::Arc;
use std::time::{Duration, Instant};

use zeroring_sockets::{Context, Error, PollEvents, PollItem, Socket, SocketType, poll};

const ANY: &str = "tcp://127.0.0.1:0";
const WAIT: Duration = Duration::from_secs(10);

fn with_timeouts(s: &Socket) {
    s.set_rcvtimeo(Some(WAIT));
    s.set_sndtimeo(Some(WAIT));
}

#[test]
fn req_rep_between_plain_threads() {
    let ctx = Context::new().unwrap();
    let rep = ctx.socket(SocketType::Rep).unwrap();
    with_timeouts(&rep);
    let ep = rep.bind(ANY).unwrap().to_string();
    let server = std::thread::spawn(move || {
        for _ in 0..100 {
            let q = rep.recv().unwrap();
            let mut reply = q[0].to_vec();
            reply.reverse();
            rep.send(reply).unwrap();
        }
    });
    let req = ctx.socket(SocketType::Req).unwrap();
    with_timeouts(&req);
    req.connect(&ep).unwrap();
    for i in 0..100 {
        req.send(format!("q{i:03}")).unwrap();
        let r = req.recv().unwrap();
        let expected: String = format!("q{i:03}").chars().rev().collect();
        assert_eq!(r[0], expected);
    }
    server.join().unwrap();
}

#[test]
fn req_rep_turns_are_checked_at_once() {
    let ctx = Context::new().unwrap();
    let req = ctx.socket(SocketType::Req).unwrap();
    // Nothing listens: LINGER 0, or closing would wait for the request forever.
    req.set_linger(Some(Duration::ZERO));
    assert!(matches!(req.recv(), Err(Error::InvalidState(_))));
    req.connect("tcp://127.0.0.1:9").unwrap();
    req.send("one").unwrap();
    assert!(matches!(req.send("two"), Err(Error::InvalidState(_))));
    let rep = ctx.socket(SocketType::Rep).unwrap();
    assert!(matches!(rep.send("x"), Err(Error::InvalidState(_))));
    let push = ctx.socket(SocketType::Push).unwrap();
    assert!(matches!(push.recv(), Err(Error::NotSupported { .. })));
    assert!(matches!(
        push.send(Vec::<bytes::Bytes>::new()),
        Err(Error::EmptyMessage)
    ));
}

#[test]
fn a_stream_between_threads_arrives_whole_and_in_order() {
    const N: u32 = 200_000;
    let ctx = Context::with_io_threads(2).unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    with_timeouts(&pull);
    let ep = pull.bind(ANY).unwrap().to_string();
    let push = ctx.socket(SocketType::Push).unwrap();
    with_timeouts(&push);
    push.connect(&ep).unwrap();
    let sender = std::thread::spawn(move || {
        for i in 0..N {
            push.send(i.to_be_bytes().to_vec()).unwrap();
        }
        push
    });
    for i in 0..N {
        let m = pull.recv().unwrap();
        assert_eq!(m[0][..], i.to_be_bytes());
    }
    drop(sender.join().unwrap());
}

#[test]
fn timeouts_and_dontwait() {
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.bind(ANY).unwrap();
    assert!(matches!(pull.try_recv(), Err(Error::WouldBlock("recv"))));
    pull.set_rcvtimeo(Some(Duration::from_millis(50)));
    let t = Instant::now();
    assert!(matches!(pull.recv(), Err(Error::Timeout("recv"))));
    assert!(t.elapsed() >= Duration::from_millis(50));
    // A bound PUSH with no peer takes nothing, as in libzmq: sends wait and
    // time out, DONTWAIT fails at once, and the poller says it is not writable.
    let push = ctx.socket(SocketType::Push).unwrap();
    let ep = push.bind(ANY).unwrap().to_string();
    push.set_sndtimeo(Some(Duration::from_millis(50)));
    assert!(matches!(push.try_send("x"), Err(Error::WouldBlock("send"))));
    assert!(matches!(push.send("x"), Err(Error::Timeout("send"))));
    let mut out = [PollItem::new(&push, PollEvents::OUT)];
    assert_eq!(poll(&mut out, Some(Duration::from_millis(30))).unwrap(), 0);
    // A peer arrives: sends go, and the one waiting meanwhile goes too.
    let peer = ctx.socket(SocketType::Pull).unwrap();
    peer.set_rcvtimeo(Some(WAIT));
    peer.connect(&ep).unwrap();
    push.set_sndtimeo(Some(WAIT));
    push.send("first").unwrap();
    assert_eq!(&peer.recv().unwrap()[0][..], b"first");
    let mut out = [PollItem::new(&push, PollEvents::OUT)];
    assert_eq!(poll(&mut out, Some(WAIT)).unwrap(), 1);
}

#[test]
fn a_handle_holds_at_most_two_sndhwm_beyond_its_native_socket() {
    let ctx = Context::new().unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.set_sndhwm(Some(10)).unwrap();
    push.set_linger(Some(Duration::ZERO));
    // Nothing listens there: the connect's slot queues until SNDHWM (libzmq
    // takes exactly SNDHWM); the handle adds at most two SNDHWM of its own: its
    // queue to the I/O thread and the batch the I/O thread took from it.
    push.connect("tcp://127.0.0.1:9").unwrap();
    // The I/O thread takes the handle's queue in batches, so a send may find
    // room for a moment while the batch moves on: send until one times out.
    push.set_sndtimeo(Some(Duration::from_millis(20)));
    let mut taken = 0;
    loop {
        match push.send("x") {
            Ok(()) => taken += 1,
            Err(Error::Timeout("send")) => break,
            Err(e) => panic!("send failed with {e:?}"),
        }
        assert!(taken <= 30, "the handle kept taking messages");
    }
    assert!(taken >= 10, "took {taken}");
    // Now everything is full and stays so: DONTWAIT fails at once.
    assert!(push.try_send("x").is_err());
}

#[test]
fn pub_sub_and_subscriptions_through_handles() {
    let ctx = Context::new().unwrap();
    let publisher = ctx.socket(SocketType::Pub).unwrap();
    let ep = publisher.bind(ANY).unwrap().to_string();
    let sub = ctx.socket(SocketType::Sub).unwrap();
    with_timeouts(&sub);
    sub.subscribe("weather").unwrap();
    sub.connect(&ep).unwrap();
    // Subscriptions travel asynchronously: publish until one arrives.
    sub.set_rcvtimeo(Some(Duration::from_millis(20)));
    let deadline = Instant::now() + WAIT;
    loop {
        publisher.send(vec!["sport", "x"]).unwrap();
        publisher.send(vec!["weather.paris", "21C"]).unwrap();
        match sub.recv() {
            Ok(m) => {
                assert_eq!(&m[0][..], b"weather.paris");
                break;
            }
            Err(Error::Timeout(_)) => assert!(Instant::now() < deadline, "nothing arrived"),
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn router_mandatory_reports_unknown_peers() {
    let ctx = Context::new().unwrap();
    let router = ctx.socket(SocketType::Router).unwrap();
    router.bind(ANY).unwrap();
    router.set_router_mandatory(true);
    assert!(matches!(
        router.send(vec!["nobody", "hello"]),
        Err(Error::HostUnreachable(_))
    ));
    router.set_router_mandatory(false);
    router.send(vec!["nobody", "dropped"]).unwrap();
}

#[test]
fn poll_says_which_socket_is_readable() {
    let ctx = Context::new().unwrap();
    let a = ctx.socket(SocketType::Pull).unwrap();
    let b = ctx.socket(SocketType::Pull).unwrap();
    let ep_b = b.bind(ANY).unwrap().to_string();
    a.bind(ANY).unwrap();
    {
        let mut items = [
            PollItem::new(&a, PollEvents::IN),
            PollItem::new(&b, PollEvents::IN),
        ];
        assert_eq!(
            poll(&mut items, Some(Duration::from_millis(30))).unwrap(),
            0
        );
    }
    let push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&ep_b).unwrap();
    push.send("for b").unwrap();
    let mut items = [
        PollItem::new(&a, PollEvents::IN),
        PollItem::new(&b, PollEvents::IN),
    ];
    assert_eq!(poll(&mut items, Some(WAIT)).unwrap(), 1);
    assert!(!items[0].is_readable());
    assert!(items[1].is_readable());
    assert_eq!(&b.recv().unwrap()[0][..], b"for b");
    let mut out = [PollItem::new(&push, PollEvents::OUT)];
    assert_eq!(poll(&mut out, Some(Duration::ZERO)).unwrap(), 1);
    assert!(out[0].is_writable());
}

#[test]
fn terminating_the_context_delivers_what_was_queued() {
    let receiver_ctx = Context::new().unwrap();
    let pull = receiver_ctx.socket(SocketType::Pull).unwrap();
    with_timeouts(&pull);
    let ep = pull.bind(ANY).unwrap().to_string();
    {
        let ctx = Context::new().unwrap();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect(&ep).unwrap();
        for i in 0..5000u32 {
            push.send(i.to_be_bytes().to_vec()).unwrap();
        }
        drop(push);
        ctx.terminate();
        // Sockets of a terminated context fail.
        assert!(matches!(ctx.socket(SocketType::Push), Err(Error::Closed)));
    }
    for i in 0..5000u32 {
        assert_eq!(pull.recv().unwrap()[0][..], i.to_be_bytes());
    }
}

#[test]
fn async_api_on_tokio_tasks() {
    let ctx = Context::new().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let rep = Arc::new(ctx.socket(SocketType::Rep).unwrap());
        let ep = rep.bind_async(ANY).await.unwrap().to_string();
        let server = {
            let rep = rep.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    let q = rep.recv_async().await.unwrap();
                    rep.send_async(q).await.unwrap();
                }
            })
        };
        let req = Arc::new(ctx.socket(SocketType::Req).unwrap());
        req.connect_async(&ep).await.unwrap();
        let client = tokio::spawn(async move {
            for i in 0..50 {
                req.send_async(format!("m{i}")).await.unwrap();
                let r = tokio::time::timeout(WAIT, req.recv_async())
                    .await
                    .expect("reply within the time limit")
                    .unwrap();
                assert_eq!(r[0], format!("m{i}"));
            }
        });
        client.await.unwrap();
        server.await.unwrap();
    });
}

#[test]
fn a_handles_monitor_reports_from_another_thread_and_ends_with_the_socket() {
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    let events = pull.monitor().unwrap();
    let ep = pull.bind(ANY).unwrap().to_string();
    assert!(matches!(
        events.recv_timeout(WAIT).unwrap(),
        zeroring_sockets::SocketEvent::Listening { .. }
    ));
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        loop {
            match events.recv() {
                Ok(e) => seen.push(e),
                Err(Error::Closed) => return seen,
                Err(e) => panic!("{e}"),
            }
        }
    });
    let push = ctx.socket(SocketType::Push).unwrap();
    push.connect(&ep).unwrap();
    push.send("x").unwrap();
    pull.set_rcvtimeo(Some(WAIT));
    pull.recv().unwrap();
    pull.close();
    let seen = reader.join().unwrap();
    assert!(
        seen.iter()
            .any(|e| matches!(e, zeroring_sockets::SocketEvent::HandshakeSucceeded { .. })),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, zeroring_sockets::SocketEvent::Closed { .. })),
        "{seen:?}"
    );
}

/// A ROUTER that answers each request with "reply to " and its body.
fn answer(router: &Socket) {
    let mut request = router.recv().unwrap();
    let body = request.pop_back().unwrap();
    let mut reply = b"reply to ".to_vec();
    reply.extend_from_slice(&body);
    request.push_back(reply);
    router.send(request).unwrap();
}

/// REQ_RELAXED + REQ_CORRELATE on a handle: a reply that already reached the
/// handle when the next request goes out answers the earlier request and is
/// dropped, as libzmq (and the native ReqSocket) drop it. Without
/// REQ_CORRELATE it is delivered, as in libzmq.
#[test]
fn a_correlating_req_handle_drops_a_reply_to_an_earlier_request() {
    for correlate in [true, false] {
        let ctx = Context::new().unwrap();
        let router = ctx.socket(SocketType::Router).unwrap();
        with_timeouts(&router);
        let ep = router.bind(ANY).unwrap().to_string();
        let req = ctx.socket(SocketType::Req).unwrap();
        with_timeouts(&req);
        req.set_req_relaxed(true);
        req.set_req_correlate(correlate);
        req.connect(&ep).unwrap();
        req.send("a").unwrap();
        answer(&router);
        // The reply to "a" is in the handle's queue once the REQ polls readable.
        let mut items = [PollItem::new(&req, PollEvents::IN)];
        assert_eq!(poll(&mut items, Some(WAIT)).unwrap(), 1);
        req.send("b").unwrap();
        answer(&router);
        let got = req.recv().unwrap();
        let want: &[u8] = if correlate {
            b"reply to b"
        } else {
            b"reply to a"
        };
        assert_eq!(&got[0][..], want, "correlate = {correlate}");
    }
}

/// A thread that panics while it holds a context and its sockets unwinds
/// normally: dropping them wakes the I/O thread without aborting the process
/// (compio's executor aborts when a task is woken from a panicking thread).
#[test]
fn a_panic_while_holding_handles_unwinds_without_aborting() {
    let panicked = std::thread::spawn(|| {
        let ctx = Context::new().unwrap();
        let pull = ctx.socket(SocketType::Pull).unwrap();
        let ep = pull.bind(ANY).unwrap().to_string();
        let push = ctx.socket(SocketType::Push).unwrap();
        push.connect(&ep).unwrap();
        push.send("queued").unwrap();
        panic!("a failed assertion while the sockets are alive");
    })
    .join();
    assert!(panicked.is_err());
    // The process is still here, and a new context works.
    let ctx = Context::new().unwrap();
    let s = ctx.socket(SocketType::Pull).unwrap();
    s.bind(ANY).unwrap();
}
