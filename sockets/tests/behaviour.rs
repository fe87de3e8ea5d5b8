//! Engine behaviour users rely on: PAIR exclusivity, connect-before-bind, accepting
//! new peers, cancel-safe receives, and reconnecting after the bound side restarts.

mod common;

use std::rc::Rc;
use std::time::Duration;

use zeroring_sockets::{
    DEFAULT_ADAPTIVE_SPIN, DealerSocket, Error, PairSocket, PullSocket, PushSocket, RepSocket,
    ReqSocket, RouterSocket,
};

use common::*;

// PAIR talks to exactly one peer; a second one is refused and the first keeps
// working.
#[compio::test]
async fn pair_refuses_a_second_peer() {
    let watch = panic_watch();
    let a = PairSocket::new();
    let ep = a.bind(ANY).await.unwrap();
    let b = PairSocket::new();
    b.connect(&ep.to_string()).await.unwrap();
    within("send", b.send("hello a")).await.unwrap();
    assert_msg(&within("a recv", a.recv()).await.unwrap(), &[b"hello a"]);
    a.send("hello b").await.unwrap();
    assert_msg(&within("b recv", b.recv()).await.unwrap(), &[b"hello b"]);

    let c = PairSocket::new();
    c.set_sndtimeo(Some(Duration::from_millis(20)));
    c.connect(&ep.to_string()).await.unwrap();
    // C keeps being refused (and reconnecting); sample for a while.
    for i in 0..20 {
        // Whatever C manages to push into a connection that is being refused must
        // never reach A.
        let _ = c.send("from c").await;
        assert_eq!(a.peer_count(), 1, "A accepted a second peer");
        b.send(format!("b{i}")).await.unwrap();
        let want = format!("b{i}");
        assert_msg(
            &within("a recv", a.recv()).await.unwrap(),
            &[want.as_bytes()],
        );
        a.send(format!("a{i}")).await.unwrap();
        let want = format!("a{i}");
        assert_msg(
            &within("b recv", b.recv()).await.unwrap(),
            &[want.as_bytes()],
        );
        pause(15).await;
    }
    a.set_rcvtimeo(Some(Duration::from_millis(100)));
    assert!(matches!(
        within("a.recv", a.recv()).await,
        Err(Error::Timeout(_))
    ));
    c.set_rcvtimeo(Some(Duration::ZERO));
    assert!(matches!(
        within("c.recv", c.recv()).await,
        Err(Error::Timeout(_))
    ));

    // Once B is gone, a new peer is accepted.
    within("close", b.close()).await;
    drop(b);
    wait_until("B detached", || a.peer_count() == 0).await;
    // C may still hand a message to a connection A refused before B left (it is
    // lost), so retry until A hears from C.
    c.set_sndtimeo(Some(Duration::from_millis(500)));
    a.set_rcvtimeo(Some(Duration::from_millis(500)));
    let mut got = None;
    for k in 0..20 {
        let _ = c.send(format!("c now {k}")).await;
        match within("a recv from c", a.recv()).await {
            Ok(m) => {
                got = Some(m);
                break;
            }
            Err(Error::Timeout(_)) => {}
            Err(e) => panic!("recv failed: {e}"),
        }
    }
    let m = got.expect("A never heard from C after B left");
    assert!(
        m.len() == 1 && (m[0].starts_with(b"c now") || m[0] == "from c"),
        "{:?}",
        show(&m)
    );
    assert_eq!(a.peer_count(), 1);
    within("a send to c", a.send("hi c")).await.unwrap();
    c.set_rcvtimeo(None);
    assert_msg(&within("c recv", c.recv()).await.unwrap(), &[b"hi c"]);
    watch.assert_none();
}

async fn check_connect_before_bind(endpoint: &str) {
    let push = Rc::new(PushSocket::new());
    push.connect(endpoint).await.unwrap();
    let p = push.clone();
    // Sent before anyone listens: like libzmq (ZMQ_IMMEDIATE off), the messages
    // queue in the connect() slot and the sends complete at once.
    let pending = compio::runtime::spawn(async move {
        for i in 0..3 {
            p.send(format!("early-{i}")).await?;
        }
        Ok::<_, Error>(())
    });
    pause(250).await;
    assert!(
        pending.is_finished(),
        "sends should queue before the peer binds"
    );
    let pull = PullSocket::new();
    within("bind", pull.bind(endpoint)).await.unwrap();
    within("pending sends", pending).await.unwrap().unwrap();
    for i in 0..3 {
        let want = format!("early-{i}");
        assert_msg(
            &within("recv", pull.recv()).await.unwrap(),
            &[want.as_bytes()],
        );
    }
}

#[compio::test]
async fn connect_before_bind_works_over_tcp() {
    let watch = panic_watch();
    check_connect_before_bind(&format!("tcp://127.0.0.1:{}", free_port())).await;
    watch.assert_none();
}

#[compio::test]
async fn connect_before_bind_works_over_ipc() {
    let watch = panic_watch();
    check_connect_before_bind(&ipc_endpoint("cbb")).await;
    watch.assert_none();
}

#[compio::test]
async fn connect_before_bind_req_rep() {
    let watch = panic_watch();
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let req = ReqSocket::new();
    req.connect(&ep).await.unwrap();
    pause(150).await;
    let rep = RepSocket::new();
    within("bind", rep.bind(&ep)).await.unwrap();
    within("send", req.send("late")).await.unwrap();
    assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"late"]);
    rep.send("ok").await.unwrap();
    assert_msg(&within("req recv", req.recv()).await.unwrap(), &[b"ok"]);
    watch.assert_none();
}

// A bound socket keeps accepting peers as they come and go.
#[compio::test]
async fn bound_socket_keeps_accepting_new_peers() {
    let watch = panic_watch();
    let pull = PullSocket::new();
    let ep = pull.bind(ANY).await.unwrap();
    let mut live: Vec<PushSocket> = Vec::new();
    for round in 0..6 {
        let p = PushSocket::new();
        p.connect(&ep.to_string()).await.unwrap();
        live.push(p);
        if round % 2 == 1 {
            // Let one of the older peers go.
            let gone = live.remove(0);
            within("close", gone.close()).await;
        }
        wait_until("peer count follows", || pull.peer_count() == live.len()).await;
        for (i, p) in live.iter().enumerate() {
            let body = format!("r{round}-p{i}");
            within("send", p.send(body.as_str())).await.unwrap();
            assert_msg(
                &within("recv", pull.recv()).await.unwrap(),
                &[body.as_bytes()],
            );
        }
    }
    watch.assert_none();
}

async fn receive_all_with_short_timeouts(
    n: usize,
    recv: impl AsyncFn() -> zeroring_sockets::Message,
) {
    let deadline = std::time::Instant::now() + LIMIT * 3;
    let mut next = 0usize;
    let mut timeouts = 0usize;
    let waits = [
        Duration::ZERO,
        Duration::from_micros(1),
        Duration::from_micros(50),
        Duration::from_micros(300),
        Duration::from_millis(1),
    ];
    while next < n {
        assert!(
            std::time::Instant::now() < deadline,
            "only {next} of {n} messages arrived"
        );
        let wait = waits[(next + timeouts) % waits.len()];
        match compio::time::timeout(wait, recv()).await {
            Ok(m) => {
                let got: usize = std::str::from_utf8(&m[0]).unwrap().parse().unwrap();
                assert_eq!(got, next, "a message was lost or reordered");
                next += 1;
            }
            Err(_) => timeouts += 1,
        }
    }
    assert!(timeouts > 0, "the test never cancelled a receive");
}

// recv() is cancel-safe: receives abandoned by a timeout lose nothing.
#[compio::test]
async fn pull_recv_is_cancel_safe() {
    let watch = panic_watch();
    const N: usize = 10_000;
    let pull = PullSocket::new();
    let ep = pull.bind(ANY).await.unwrap();
    let push = Rc::new(PushSocket::new());
    push.connect(&ep.to_string()).await.unwrap();
    let sender = spawn_paced_sender(push.clone(), N);
    receive_all_with_short_timeouts(N, async || pull.recv().await.unwrap()).await;
    within("sender done", sender).await.unwrap();
    watch.assert_none();
}

/// Sends `0..n` as text, pausing 100 µs every 64 messages so receives interleave.
fn spawn_paced_sender(push: Rc<PushSocket>, n: usize) -> compio::runtime::JoinHandle<()> {
    compio::runtime::spawn(async move {
        for i in 0..n {
            push.send(i.to_string()).await.unwrap();
            if i % 64 == 0 {
                compio::time::sleep(Duration::from_micros(100)).await;
            }
        }
    })
}

#[compio::test]
async fn dealer_and_router_recv_are_cancel_safe() {
    let watch = panic_watch();
    const N: usize = 10_000;
    let router = Rc::new(RouterSocket::new());
    let ep = router.bind(ANY).await.unwrap();
    let dealer = Rc::new(DealerSocket::new());
    dealer.set_routing_id("d").unwrap();
    dealer.connect(&ep.to_string()).await.unwrap();
    wait_until("attached", || router.peer_count() == 1).await;

    // DEALER -> ROUTER.
    let d = dealer.clone();
    let sender = compio::runtime::spawn(async move {
        for i in 0..N {
            d.send(i.to_string()).await.unwrap();
            if i % 64 == 0 {
                compio::runtime::time::sleep(Duration::from_micros(100)).await;
            }
        }
    });
    receive_all_with_short_timeouts(N, async || {
        let mut m = router.recv().await.unwrap();
        assert_eq!(m.pop_front().as_deref(), Some(&b"d"[..]));
        m
    })
    .await;
    within("sender done", sender).await.unwrap();

    // ROUTER -> DEALER.
    let r = router.clone();
    let sender = compio::runtime::spawn(async move {
        for i in 0..N {
            r.send(msg(["d".to_string(), i.to_string()])).await.unwrap();
            if i % 64 == 0 {
                compio::runtime::time::sleep(Duration::from_micros(100)).await;
            }
        }
    });
    receive_all_with_short_timeouts(N, async || dealer.recv().await.unwrap()).await;
    within("sender done", sender).await.unwrap();
    watch.assert_none();
}

// The connecting side reconnects after the bound peer is closed and bound again on
// the same port.
#[compio::test]
async fn reconnects_after_the_bound_peer_restarts() {
    let watch = panic_watch();
    let mut pull = PullSocket::new();
    let ep = pull.bind(ANY).await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep.to_string()).await.unwrap();
    within("send", push.send("before")).await.unwrap();
    assert_msg(&within("recv", pull.recv()).await.unwrap(), &[b"before"]);

    for restart in 0..3 {
        within("close", pull.close()).await;
        wait_until("push sees the PULL leave", || push.peer_count() == 0).await;
        pull = PullSocket::new();
        let ep2 = within("rebind same port", pull.bind(&ep.to_string()))
            .await
            .unwrap_or_else(|e| panic!("re-binding {ep} after close: {e}"));
        assert_eq!(ep2, ep);
        for i in 0..3 {
            let body = format!("after restart {restart} #{i}");
            within("send after restart", push.send(body.as_str()))
                .await
                .unwrap();
            assert_msg(
                &within("recv", pull.recv()).await.unwrap(),
                &[body.as_bytes()],
            );
        }
    }
    watch.assert_none();
}

// Same with a routing id: the restarted ROUTER learns it again and routes to it.
#[compio::test]
async fn dealer_reconnects_to_a_restarted_router_with_its_routing_id() {
    let watch = panic_watch();
    let mut router = RouterSocket::new();
    let ep = router.bind(ANY).await.unwrap();
    let dealer = DealerSocket::new();
    dealer.set_routing_id("worker").unwrap();
    dealer.connect(&ep.to_string()).await.unwrap();
    for restart in 0..2 {
        within("dealer send", dealer.send("hi")).await.unwrap();
        assert_msg(
            &within("router recv", router.recv()).await.unwrap(),
            &[b"worker", b"hi"],
        );
        router.send(vec!["worker", "welcome"]).await.unwrap();
        assert_msg(
            &within("dealer recv", dealer.recv()).await.unwrap(),
            &[b"welcome"],
        );
        within("close", router.close()).await;
        wait_until("dealer sees the ROUTER leave", || dealer.peer_count() == 0).await;
        router = RouterSocket::new();
        within("rebind", router.bind(&ep.to_string()))
            .await
            .unwrap_or_else(|e| panic!("re-binding {ep} after close (round {restart}): {e}"));
    }
    wait_until("router sees the DEALER again", || router.peer_count() == 1).await;
    router.set_router_mandatory(true);
    within(
        "route to the returning worker",
        router.send(vec!["worker", "back"]),
    )
    .await
    .unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"back"],
    );
    watch.assert_none();
}

// disconnect() closes a connection whose reader is waiting for RCVHWM room: the peer
// is gone at once (peer_count, ROUTER_MANDATORY), and its routing id is free again.
#[compio::test]
async fn disconnect_while_the_inbound_queue_is_full_removes_the_peer() {
    let watch = panic_watch();
    let dealer = DealerSocket::new();
    dealer.set_routing_id("w").unwrap();
    let ep = dealer.bind(ANY).await.unwrap();
    let router = RouterSocket::new();
    router.set_rcvhwm(Some(1)).unwrap();
    router.set_router_mandatory(true);
    router.set_sndtimeo(Some(Duration::from_millis(200)));
    router.connect(&ep.to_string()).await.unwrap();
    wait_until("attached", || router.peer_count() == 1).await;
    for i in 0..5 {
        dealer.send(format!("m{i}")).await.unwrap();
    }
    // The ROUTER does not read: its queue for the peer fills up (RCVHWM 1).
    pause(200).await;
    router.disconnect(&ep.to_string()).unwrap();
    wait_until("peer removed after disconnect", || router.peer_count() == 0).await;
    match router.send(vec!["w", "x"]).await {
        Err(Error::HostUnreachable(_)) => {}
        other => panic!("expected HostUnreachable, got {other:?}"),
    }
    // Connecting again: the routing id is free, the peer comes back.
    router.connect(&ep.to_string()).await.unwrap();
    wait_until("peer back", || router.peer_count() == 1).await;
    router.send(vec!["w", "hello again"]).await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"hello again"],
    );
    watch.assert_none();
}

// A PAIR that disconnects from a peer it stopped reading can pair with another.
#[compio::test]
async fn pair_can_switch_peers_after_disconnect_with_a_full_queue() {
    let watch = panic_watch();
    let b = PairSocket::new();
    let ep_b = b.bind(ANY).await.unwrap();
    let c = PairSocket::new();
    let ep_c = c.bind(ANY).await.unwrap();
    let a = PairSocket::new();
    a.set_rcvhwm(Some(1)).unwrap();
    a.connect(&ep_b.to_string()).await.unwrap();
    for i in 0..5 {
        within("b send", b.send(format!("b{i}"))).await.unwrap();
    }
    pause(200).await;
    a.disconnect(&ep_b.to_string()).unwrap();
    wait_until("B removed", || a.peer_count() == 0).await;
    a.connect(&ep_c.to_string()).await.unwrap();
    wait_until("C attached", || a.peer_count() == 1 && c.peer_count() == 1).await;
    a.set_sndtimeo(Some(Duration::from_secs(5)));
    within("a send to c", a.send("hi c")).await.unwrap();
    assert_msg(&within("c recv", c.recv()).await.unwrap(), &[b"hi c"]);
    watch.assert_none();
}

// unbind() stops accepting, closes the connections accepted through that endpoint,
// and releases the port so that it can be bound again right away.
#[compio::test]
async fn unbind_drops_its_peers_and_releases_the_port() {
    let watch = panic_watch();
    let pull = PullSocket::new();
    let ep = pull.bind(ANY).await.unwrap();
    let other = pull.bind(ANY).await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep.to_string()).await.unwrap();
    let push2 = PushSocket::new();
    push2.connect(&other.to_string()).await.unwrap();
    wait_until("both attached", || pull.peer_count() == 2).await;

    pull.unbind(&ep.to_string()).unwrap();
    assert!(matches!(
        pull.unbind(&ep.to_string()),
        Err(Error::UnknownEndpoint(_))
    ));
    wait_until("the peer of the unbound endpoint is gone", || {
        pull.peer_count() == 1 && push.peer_count() == 0
    })
    .await;
    // The other endpoint's peer is untouched.
    within("send", push2.send("still")).await.unwrap();
    assert_msg(&within("recv", pull.recv()).await.unwrap(), &[b"still"]);

    // Bind the same port again at once; the connecting PUSH comes back.
    let again = within("rebind right after unbind", pull.bind(&ep.to_string()))
        .await
        .unwrap_or_else(|e| panic!("rebinding {ep} right after unbind: {e}"));
    assert_eq!(again, ep);
    within("send", push.send("back")).await.unwrap();
    assert_msg(&within("recv", pull.recv()).await.unwrap(), &[b"back"]);
    watch.assert_none();
}

// Busy-poll latency mode: round trips work, RCVTIMEO still ends a receive that
// spins, a closed socket's receive fails instead of spinning on, and a spinning
// receive is cancel-safe like any other.
#[compio::test]
async fn busy_poll_round_trips_timeouts_and_cancel_safety() {
    let watch = panic_watch();
    let rep = RepSocket::new();
    rep.set_busy_poll(Some(Duration::from_micros(200))).unwrap();
    let ep = rep.bind(ANY).await.unwrap();
    let req = ReqSocket::new();
    req.set_busy_poll(Some(Duration::from_millis(5))).unwrap();
    req.connect(&ep.to_string()).await.unwrap();
    let server = async {
        for _ in 0..200 {
            let m = rep.recv().await.unwrap();
            rep.send(m).await.unwrap();
        }
    };
    let client = async {
        for i in 0..200 {
            req.send(format!("ping {i}")).await.unwrap();
            let reply = req.recv().await.unwrap();
            assert_msg(&reply, &[format!("ping {i}").as_bytes()]);
        }
    };
    within("round trips", futures_util::future::join(server, client)).await;

    // The spin is bounded by RCVTIMEO.
    let pull = PullSocket::new();
    pull.set_busy_poll(Some(Duration::from_secs(60))).unwrap();
    pull.set_rcvtimeo(Some(Duration::from_millis(20)));
    let ep = pull.bind(ANY).await.unwrap();
    assert!(matches!(
        within("recv times out", pull.recv()).await,
        Err(Error::Timeout(_))
    ));

    // Cancelled spinning receives lose nothing.
    pull.set_rcvtimeo(None);
    pull.set_busy_poll(Some(Duration::from_micros(100)))
        .unwrap();
    let push = Rc::new(PushSocket::new());
    push.connect(&ep.to_string()).await.unwrap();
    const N: usize = 2_000;
    let sender = spawn_paced_sender(push.clone(), N);
    receive_all_with_short_timeouts(N, async || pull.recv().await.unwrap()).await;
    within("sender done", sender).await.unwrap();

    // A closed socket's receive ends instead of spinning.
    pull.set_busy_poll(Some(Duration::from_secs(60))).unwrap();
    pull.close().await;
    assert!(matches!(
        within("recv after close", pull.recv()).await,
        Err(Error::Closed)
    ));
    watch.assert_none();
}

// Adaptive spin (on by default for REQ and REP): round trips work with it, a
// receive whose messages come late (spins that find nothing, then the back-off)
// still gets each of them, RCVTIMEO still bounds a spinning receive, and
// cancelled receives lose nothing.
#[compio::test]
async fn adaptive_spin_round_trips_slow_peers_timeouts_and_cancel_safety() {
    let watch = panic_watch();
    let rep = RepSocket::new();
    assert_eq!(rep.options().adaptive_spin, Some(DEFAULT_ADAPTIVE_SPIN));
    let ep = rep.bind(ANY).await.unwrap();
    let req = ReqSocket::new();
    req.connect(&ep.to_string()).await.unwrap();
    // Fast round trips, then requests 3 ms apart: the REP's spins run out and it
    // backs off; every request is still answered, in order.
    let server = async {
        for _ in 0..220 {
            let m = rep.recv().await.unwrap();
            rep.send(m).await.unwrap();
        }
    };
    let client = async {
        for i in 0..220 {
            if i >= 200 {
                pause(3).await;
            }
            req.send(format!("ping {i}")).await.unwrap();
            let reply = req.recv().await.unwrap();
            assert_msg(&reply, &[format!("ping {i}").as_bytes()]);
        }
    };
    within("round trips", futures_util::future::join(server, client)).await;

    // RCVTIMEO shorter than the spin ends the receive.
    req.set_rcvtimeo(Some(Duration::from_micros(20)));
    req.send("unanswered").await.unwrap();
    assert!(matches!(
        within("recv times out", req.recv()).await,
        Err(Error::Timeout(_))
    ));

    // Cancelled spinning receives lose nothing.
    let pull = PullSocket::new();
    pull.set_adaptive_spin(Some(Duration::from_micros(100)))
        .unwrap();
    let ep = pull.bind(ANY).await.unwrap();
    let push = Rc::new(PushSocket::new());
    push.connect(&ep.to_string()).await.unwrap();
    const N: usize = 2_000;
    let sender = spawn_paced_sender(push.clone(), N);
    receive_all_with_short_timeouts(N, async || pull.recv().await.unwrap()).await;
    within("sender done", sender).await.unwrap();
    watch.assert_none();
}
