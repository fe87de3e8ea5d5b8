//! A libzmq peer restarted in the middle of a conversation.
//!
//! zeroring connected: the bound libzmq PULL or REP is closed and a new socket binds
//! the same port; zeroring notices the closed connection, reconnects on its own
//! (RECONNECT_IVL) and the stream or the request-reply dialogue continues.
//! zeroring bound: the connecting libzmq client (PUSH, REQ, DEALER with a fixed
//! routing id) is closed and a new one connects; zeroring accepts it and, for the
//! ROUTER, routes replies to the new connection under the reused routing id.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroring::{PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket};
use zeroring_interop_tests::*;

/// Binds a new libzmq socket on `ep`, retrying while the port is still held by the
/// socket just closed (libzmq releases it asynchronously in its I/O thread).
fn rebind(ctx: &zmq::Context, kind: zmq::SocketType, ep: &str) -> zmq::Socket {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = zsocket(ctx, kind);
        match s.bind(ep) {
            Ok(()) => return s,
            Err(zmq::Error::EADDRINUSE) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("rebind {ep}: {e}"),
        }
    }
}

/// zeroring PUSH keeps sending numbered messages while the libzmq PULL it is
/// connected to is closed and re-bound on the same port. Messages written into the
/// dying connection may be lost (PUSH semantics, as with libzmq), but after the
/// restart the stream continues in order.
#[compio::test]
async fn zeroring_push_survives_libzmq_pull_restart() {
    const EACH: usize = 30;
    let ctx = zmq::Context::new();
    let pull = zsocket(&ctx, zmq::PULL);
    let ep = zbind(&pull, "tcp://127.0.0.1:*");
    let push = PushSocket::new();
    ok("connect", push.connect(&ep)).await;
    let (done_tx, done_rx) = mpsc::channel();
    let ctx2 = ctx.clone();
    let ep2 = ep.clone();
    let peer = spawn_peer("libzmq PULL (restarted)", move || {
        let seq = |m: Vec<Vec<u8>>| -> usize { String::from_utf8_lossy(&m[0]).parse().unwrap() };
        let mut first = Vec::new();
        for _ in 0..EACH {
            first.push(seq(zrecv(&pull)));
        }
        pull.set_linger(0).unwrap();
        drop(pull);
        let pull = rebind(&ctx2, zmq::PULL, &ep2);
        let mut second = Vec::new();
        for _ in 0..EACH {
            second.push(seq(zrecv(&pull)));
        }
        done_tx.send(()).unwrap();
        (first, second)
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut i = 0usize;
    while done_rx.try_recv().is_err() {
        assert!(
            Instant::now() < deadline,
            "stream did not resume after the restart"
        );
        ok("PUSH send", push.send(format!("{i}"))).await;
        i += 1;
        compio::time::sleep(Duration::from_millis(1)).await;
    }
    let (first, second) = peer.join().await;
    assert_eq!(first, (0..EACH).collect::<Vec<_>>(), "before the restart");
    assert!(
        second.windows(2).all(|w| w[1] == w[0] + 1),
        "after the restart the stream continues in order: {second:?}"
    );
    assert!(second[0] >= EACH, "no message is delivered twice");
}

/// zeroring REQ talks to a libzmq REP that is restarted between two requests. Once
/// zeroring has seen the connection close, the next request waits for the
/// reconnection and goes to the new REP.
#[compio::test]
async fn zeroring_req_survives_libzmq_rep_restart() {
    const EACH: usize = 5;
    let ctx = zmq::Context::new();
    let rep = zsocket(&ctx, zmq::REP);
    let ep = zbind(&rep, "tcp://127.0.0.1:*");
    let req = ReqSocket::new();
    ok("connect", req.connect(&ep)).await;
    let ctx2 = ctx.clone();
    let ep2 = ep.clone();
    let peer = spawn_peer("libzmq REP (restarted)", move || {
        let serve = |rep: &zmq::Socket, generation: usize| {
            for i in 0..EACH {
                assert_eq!(zrecv(rep), parts(&[format!("request {generation}.{i}")]));
                zsend(rep, &[format!("reply {generation}.{i}")]);
            }
        };
        serve(&rep, 0);
        // Closed with the default LINGER, so the last reply still goes out.
        drop(rep);
        let rep = rebind(&ctx2, zmq::REP, &ep2);
        serve(&rep, 1);
    });
    for generation in 0..2 {
        if generation == 1 {
            // A request written into the dying connection would be lost and leave
            // the REQ waiting for a reply that never comes (libzmq's REQ too).
            wait_peers(&req, 0).await;
        }
        for i in 0..EACH {
            ok("REQ send", req.send(format!("request {generation}.{i}"))).await;
            let reply = ok("REQ recv", req.recv()).await;
            assert_eq!(frames(&reply), parts(&[format!("reply {generation}.{i}")]));
        }
    }
    assert_eq!(req.peer_count(), 1);
    peer.join().await;
}

/// zeroring PULL stays bound while the connecting libzmq PUSH is closed and a new
/// one connects: every message of both arrives, each sender's in order.
#[compio::test]
async fn zeroring_pull_accepts_restarted_libzmq_push() {
    const EACH: usize = 50;
    let pull = PullSocket::new();
    let ep = ok("bind", pull.bind("tcp://127.0.0.1:0")).await.to_string();
    let ctx = zmq::Context::new();
    let (closed_tx, closed_rx) = mpsc::channel();
    let peer = spawn_peer("libzmq PUSH (restarted)", move || {
        for generation in 0..2 {
            let push = zsocket(&ctx, zmq::PUSH);
            push.connect(&ep).unwrap();
            for i in 0..EACH {
                zsend(&push, &[format!("{generation}.{i}")]);
            }
            // Dropping with LINGER delivers what is queued, then disconnects.
            drop(push);
            closed_tx.send(generation).unwrap();
        }
    });
    // The new PUSH may connect before the old connection has drained, so the two
    // generations can interleave (fair queuing); each one stays in order.
    let mut next = [0usize; 2];
    for _ in 0..2 * EACH {
        let m = frames(&ok("PULL recv", pull.recv()).await);
        let text = String::from_utf8(m[0].clone()).unwrap();
        let (generation, i) = text.split_once('.').unwrap();
        let generation: usize = generation.parse().unwrap();
        assert_eq!(i.parse::<usize>().unwrap(), next[generation], "{text}");
        next[generation] += 1;
    }
    assert_eq!(next, [EACH; 2]);
    for generation in 0..2 {
        assert_eq!(recv_chan(&closed_rx, "PUSH closed").await, generation);
    }
    wait_peers(&pull, 0).await;
    peer.join().await;
}

/// zeroring REP stays bound while libzmq REQ clients come and go.
#[compio::test]
async fn zeroring_rep_accepts_restarted_libzmq_req() {
    const EACH: usize = 3;
    let rep = RepSocket::new();
    let ep = ok("bind", rep.bind("tcp://127.0.0.1:0")).await.to_string();
    let ctx = zmq::Context::new();
    let peer = spawn_peer("libzmq REQ (restarted)", move || {
        for generation in 0..3 {
            let req = zsocket(&ctx, zmq::REQ);
            req.connect(&ep).unwrap();
            for i in 0..EACH {
                zsend(&req, &[format!("request {generation}.{i}")]);
                assert_eq!(zrecv(&req), parts(&[format!("reply {generation}.{i}")]));
            }
        }
    });
    for generation in 0..3 {
        for i in 0..EACH {
            let m = ok("REP recv", rep.recv()).await;
            assert_eq!(frames(&m), parts(&[format!("request {generation}.{i}")]));
            ok("REP send", rep.send(format!("reply {generation}.{i}"))).await;
        }
    }
    peer.join().await;
}

/// zeroring ROUTER: a libzmq DEALER with routing id "client" is closed and a new
/// DEALER with the same id connects. Once the old connection is gone the id is free
/// again, and replies go to the new connection.
#[compio::test]
async fn zeroring_router_reuses_routing_id_of_restarted_libzmq_dealer() {
    let router = RouterSocket::new();
    let ep = ok("bind", router.bind("tcp://127.0.0.1:0"))
        .await
        .to_string();
    let ctx = zmq::Context::new();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (closed_tx, closed_rx) = mpsc::channel();
    let peer = spawn_peer("libzmq DEALER (restarted)", move || {
        for generation in 0..2 {
            if generation == 1 {
                go_rx
                    .recv_timeout(WAIT)
                    .expect("go-ahead for the second client");
            }
            let dealer = zsocket(&ctx, zmq::DEALER);
            dealer.set_identity(b"client").unwrap();
            dealer.connect(&ep).unwrap();
            zsend(&dealer, &[format!("hello {generation}")]);
            assert_eq!(zrecv(&dealer), parts(&[format!("welcome {generation}")]));
            drop(dealer);
            closed_tx.send(()).unwrap();
        }
    });
    for generation in 0..2 {
        let m = ok("ROUTER recv", router.recv()).await;
        assert_eq!(
            frames(&m),
            parts(&["client".to_string(), format!("hello {generation}")])
        );
        ok(
            "ROUTER send",
            router.send(msg(&[
                "client".to_string(),
                format!("welcome {generation}"),
            ])),
        )
        .await;
        recv_chan(&closed_rx, "DEALER closed").await;
        wait_peers(&router, 0).await;
        if generation == 0 {
            go_tx.send(()).unwrap();
        }
    }
    peer.join().await;
}

/// `disconnect()` closes the connection to a bound libzmq socket and stops
/// reconnecting: libzmq sees the disconnect and no new connection follows.
#[compio::test]
async fn zeroring_disconnect_stops_reconnecting() {
    let ctx = zmq::Context::new();
    let rep = zsocket(&ctx, zmq::REP);
    let monitor = Monitor::new(&ctx, &rep);
    let ep = zbind(&rep, "tcp://127.0.0.1:*");
    let req = ReqSocket::new();
    ok("connect", req.connect(&ep)).await;
    let (disc_tx, disc_rx) = mpsc::channel::<()>();
    let peer = spawn_peer("libzmq REP", move || {
        assert_eq!(zrecv(&rep), parts(&["hi"]));
        zsend(&rep, &["ho"]);
        disc_rx.recv_timeout(WAIT).expect("disconnected");
        monitor.expect(zmq::SocketEvent::DISCONNECTED);
        // Several of zeroring's RECONNECT_IVLs: nobody comes back.
        let later = monitor.drain(400);
        assert!(!later.contains(&zmq::SocketEvent::ACCEPTED), "{later:?}");
    });
    ok("send", req.send("hi")).await;
    assert_eq!(frames(&ok("recv", req.recv()).await), parts(&["ho"]));
    req.disconnect(&ep).unwrap();
    disc_tx.send(()).unwrap();
    wait_peers(&req, 0).await;
    peer.join().await;
    assert_eq!(req.peer_count(), 0);
}

/// `unbind()` closes the connections accepted on that endpoint and the port;
/// the connecting libzmq socket cannot get back in.
#[compio::test]
async fn zeroring_unbind_closes_libzmq_connections() {
    let pull = PullSocket::new();
    let ep = ok("bind", pull.bind("tcp://127.0.0.1:0")).await.to_string();
    let ctx = zmq::Context::new();
    let push = zsocket(&ctx, zmq::PUSH);
    push.set_linger(0).unwrap();
    let monitor = Monitor::new(&ctx, &push);
    push.connect(&ep).unwrap();
    let (unbound_tx, unbound_rx) = mpsc::channel::<()>();
    let peer = spawn_peer("libzmq PUSH", move || {
        zsend(&push, &["before"]);
        unbound_rx.recv_timeout(WAIT).expect("unbound");
        let before = monitor.expect(zmq::SocketEvent::DISCONNECTED);
        assert!(
            before.contains(&zmq::SocketEvent::HANDSHAKE_SUCCEEDED),
            "{before:?}"
        );
        let later = monitor.drain(300);
        assert!(
            !later.contains(&zmq::SocketEvent::HANDSHAKE_SUCCEEDED),
            "reconnected after unbind: {later:?}"
        );
    });
    assert_eq!(frames(&ok("recv", pull.recv()).await), parts(&["before"]));
    pull.unbind(&ep).unwrap();
    unbound_tx.send(()).unwrap();
    wait_peers(&pull, 0).await;
    peer.join().await;
    pull.set_rcvtimeo(Some(Duration::from_millis(50)));
    assert!(matches!(
        within("recv after unbind", pull.recv()).await,
        Err(zeroring::Error::Timeout(_))
    ));
}
