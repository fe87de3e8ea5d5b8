//! Every valid socket-type pairing against libzmq: REQ-REP, REQ-ROUTER, DEALER-REP,
//! DEALER-ROUTER, DEALER-DEALER, ROUTER-ROUTER, PUSH-PULL and PAIR-PAIR, with
//! zeroring on each side of the pairing once, and each of those both ways round
//! (zeroring binds and libzmq connects; libzmq binds and zeroring connects).
//!
//! Each test exchanges several messages and checks their content and envelopes:
//! REP strips and restores the whole envelope (also several hops), and a ROUTER
//! sees its peer's routing id, either the one the peer set (ZMQ_ROUTING_ID, sent as
//! the `Identity` property) or a generated 5-byte id starting with 0x00.

use std::time::{Duration, Instant};

use zeroring::{
    DealerSocket, PairSocket, PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket,
};
use zeroring_interop_tests::*;

const N: usize = 5;

/// Asserts a ROUTER's view of its peer's routing id: `expected` when the peer set
/// one, a generated id otherwise.
fn check_id(id: &[u8], set_id: bool, expected: &[u8]) {
    if set_id {
        assert_eq!(id, expected);
    } else {
        assert!(is_generated_id(id), "generated id: {id:?}");
    }
}

/// `body` behind an envelope: a two-hop one for odd `i`, just the delimiter for even.
fn enveloped(i: usize, body: String) -> Vec<Vec<u8>> {
    let mut m = if i % 2 == 1 {
        parts(&["hop-a", "hop-b", ""])
    } else {
        parts(&[""])
    };
    m.push(body.into_bytes());
    m
}

both_dirs! {
    zeroring_req_libzmq_rep => req_rep;
    zeroring_rep_libzmq_req => rep_req;
    zeroring_req_libzmq_router => req_router;
    zeroring_router_libzmq_req => router_req;
    zeroring_dealer_libzmq_rep => dealer_rep;
    zeroring_rep_libzmq_dealer => rep_dealer;
    zeroring_dealer_libzmq_router => dealer_router;
    zeroring_router_libzmq_dealer => router_dealer;
    dealer_dealer => dealer_dealer;
    router_router => router_router;
    zeroring_push_libzmq_pull => push_pull;
    zeroring_pull_libzmq_push => pull_push;
    pair_pair => pair_pair;
}

async fn req_rep(dir: Dir) {
    let ctx = zmq::Context::new();
    let rep = zsocket(&ctx, zmq::REP);
    let req = ReqSocket::new();
    link(&req, &rep, dir).await;
    let reply = |i| parts(&[format!("reply {i}"), "second frame".into()]);
    let peer = spawn_peer("libzmq REP", move || {
        zserve(&rep, N, numbered("request"), reply);
    });
    request_each(&req, N, numbered("request"), reply).await;
    peer.join().await;
}

async fn rep_req(dir: Dir) {
    let ctx = zmq::Context::new();
    let req = zsocket(&ctx, zmq::REQ);
    let rep = RepSocket::new();
    link(&rep, &req, dir).await;
    let request = |i| parts(&[format!("request {i}"), "more".into()]);
    let peer = spawn_peer("libzmq REQ", move || {
        zrequest(&req, N, request, numbered("reply"));
    });
    // REP hands over the request without its envelope.
    serve_each(&rep, N, request, numbered("reply")).await;
    peer.join().await;
}

async fn req_router(dir: Dir) {
    let ctx = zmq::Context::new();
    let router = zsocket(&ctx, zmq::ROUTER);
    let req = ReqSocket::new();
    // One direction checks a routing id we set, the other a generated one.
    let set_id = dir == Dir::LibzmqBinds;
    if set_id {
        req.set_routing_id("zr-req").unwrap();
    }
    link(&req, &router, dir).await;
    let peer = spawn_peer("libzmq ROUTER", move || {
        let mut first_id = None;
        for i in 0..N {
            let m = zrecv(&router);
            assert_eq!(m.len(), 3, "ROUTER sees [id, \"\", body]: {m:?}");
            check_id(&m[0], set_id, b"zr-req");
            assert_eq!(*first_id.get_or_insert_with(|| m[0].clone()), m[0]);
            assert_eq!(m[1], b"", "REQ puts an empty delimiter first");
            assert_eq!(m[2], format!("request {i}").as_bytes());
            zsend(&router, &[&m[0][..], b"", format!("reply {i}").as_bytes()]);
        }
    });
    request_each(&req, N, numbered("request"), numbered("reply")).await;
    peer.join().await;
}

async fn router_req(dir: Dir) {
    let ctx = zmq::Context::new();
    let req = zsocket(&ctx, zmq::REQ);
    let set_id = dir == Dir::ZeroringBinds;
    if set_id {
        req.set_identity(b"lz-req").unwrap();
    }
    let router = RouterSocket::new();
    link(&router, &req, dir).await;
    let peer = spawn_peer("libzmq REQ", move || {
        zrequest(&req, N, numbered("request"), numbered("reply"));
    });
    for i in 0..N {
        let m = frames(&ok("ROUTER recv", router.recv()).await);
        assert_eq!(m.len(), 3, "ROUTER sees [id, \"\", body]: {m:?}");
        check_id(&m[0], set_id, b"lz-req");
        assert_eq!(m[1], b"");
        assert_eq!(m[2], format!("request {i}").as_bytes());
        let reply = vec![m[0].clone(), vec![], format!("reply {i}").into_bytes()];
        ok("ROUTER send", router.send(reply)).await;
    }
    peer.join().await;
}

async fn dealer_rep(dir: Dir) {
    let ctx = zmq::Context::new();
    let rep = zsocket(&ctx, zmq::REP);
    let dealer = DealerSocket::new();
    link(&dealer, &rep, dir).await;
    let peer = spawn_peer("libzmq REP", move || {
        zserve(&rep, N, numbered("request"), numbered("reply"));
    });
    // Odd requests carry a two-hop envelope that libzmq's REP must hand back.
    request_each(
        &dealer,
        N,
        |i| enveloped(i, format!("request {i}")),
        |i| enveloped(i, format!("reply {i}")),
    )
    .await;
    peer.join().await;
}

async fn rep_dealer(dir: Dir) {
    let ctx = zmq::Context::new();
    let dealer = zsocket(&ctx, zmq::DEALER);
    let rep = RepSocket::new();
    link(&rep, &dealer, dir).await;
    let peer = spawn_peer("libzmq DEALER", move || {
        // REP restores the whole envelope.
        zrequest(
            &dealer,
            N,
            |i| enveloped(i, format!("request {i}")),
            |i| enveloped(i, format!("reply {i}")),
        );
    });
    serve_each(&rep, N, numbered("request"), numbered("reply")).await;
    peer.join().await;
}

async fn dealer_router(dir: Dir) {
    let ctx = zmq::Context::new();
    let router = zsocket(&ctx, zmq::ROUTER);
    let dealer = DealerSocket::new();
    let set_id = dir == Dir::ZeroringBinds;
    if set_id {
        dealer.set_routing_id("zr-dealer").unwrap();
    }
    link(&dealer, &router, dir).await;
    let peer = spawn_peer("libzmq ROUTER", move || {
        let mut ids = Vec::new();
        for i in 0..N {
            let m = zrecv(&router);
            assert_eq!(m.len(), 3, "[id, body, tail]: {m:?}");
            assert_eq!(m[1], format!("message {i}").as_bytes());
            assert_eq!(m[2], b"tail");
            ids.push(m[0].clone());
        }
        for (i, id) in ids.iter().enumerate() {
            check_id(id, set_id, b"zr-dealer");
            assert_eq!(id, &ids[0]);
            zsend(&router, &[&id[..], format!("reply {i}").as_bytes()]);
        }
    });
    // Asynchronous: all requests first, then all replies.
    for i in 0..N {
        ok(
            "DEALER send",
            dealer.send(msg(&[format!("message {i}"), "tail".into()])),
        )
        .await;
    }
    for i in 0..N {
        let reply = ok("DEALER recv", dealer.recv()).await;
        assert_eq!(frames(&reply), parts(&[format!("reply {i}")]));
    }
    peer.join().await;
}

async fn router_dealer(dir: Dir) {
    let ctx = zmq::Context::new();
    let dealer = zsocket(&ctx, zmq::DEALER);
    let set_id = dir == Dir::LibzmqBinds;
    if set_id {
        dealer.set_identity(b"lz-dealer").unwrap();
    }
    let router = RouterSocket::new();
    link(&router, &dealer, dir).await;
    let peer = spawn_peer("libzmq DEALER", move || {
        for i in 0..N {
            zsend(&dealer, &[format!("message {i}")]);
        }
        for i in 0..N {
            assert_eq!(zrecv(&dealer), parts(&[format!("reply {i}"), "x".into()]));
        }
    });
    let mut id = None;
    for i in 0..N {
        let m = frames(&ok("ROUTER recv", router.recv()).await);
        assert_eq!(m.len(), 2, "[id, body]: {m:?}");
        assert_eq!(m[1], format!("message {i}").as_bytes());
        assert_eq!(id.get_or_insert_with(|| m[0].clone()), &m[0]);
    }
    let id = id.unwrap();
    check_id(&id, set_id, b"lz-dealer");
    for i in 0..N {
        let reply = vec![id.clone(), format!("reply {i}").into_bytes(), b"x".to_vec()];
        ok("ROUTER send", router.send(reply)).await;
    }
    peer.join().await;
}

async fn dealer_dealer(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    let z = DealerSocket::new();
    link(&z, &l, dir).await;
    let peer = spawn_peer("libzmq DEALER", move || {
        zsend(&l, &["hello", "from libzmq"]);
        zserve(&l, N, numbered("ping"), numbered("pong"));
    });
    let hello = ok("DEALER recv", z.recv()).await;
    assert_eq!(frames(&hello), parts(&["hello", "from libzmq"]));
    request_each(&z, N, numbered("ping"), numbered("pong")).await;
    peer.join().await;
}

/// ROUTER to ROUTER needs routing ids on both sides: the connecting side must know
/// the bound side's id, and may only send once the handshake is done (before that
/// the id is unknown and, with ROUTER_MANDATORY, the send fails with EHOSTUNREACH).
async fn router_router(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::ROUTER);
    l.set_identity(b"lz-router").unwrap();
    l.set_router_mandatory(true).unwrap();
    let z = RouterSocket::new();
    z.set_routing_id("zr-router").unwrap();
    z.set_router_mandatory(true);
    link(&z, &l, dir).await;
    let libzmq_connects = dir == Dir::ZeroringBinds;
    let peer = spawn_peer("libzmq ROUTER", move || {
        if libzmq_connects {
            // Retry until the handshake has made "zr-router" routable.
            let deadline = Instant::now() + WAIT;
            loop {
                match l.send_multipart([&b"zr-router"[..], b"hello"], 0) {
                    Ok(()) => break,
                    Err(zmq::Error::EHOSTUNREACH) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(e) => panic!("libzmq ROUTER send: {e}"),
                }
            }
        } else {
            assert_eq!(zrecv(&l), parts(&["zr-router", "hello"]));
        }
        zserve(
            &l,
            N,
            |i| parts(&["zr-router".to_string(), format!("request {i}")]),
            |i| parts(&["zr-router".to_string(), format!("reply {i}")]),
        );
    });
    if libzmq_connects {
        let m = ok("ROUTER recv", z.recv()).await;
        assert_eq!(frames(&m), parts(&["lz-router", "hello"]));
    } else {
        wait_peers(&z, 1).await;
        ok("ROUTER send", z.send(vec!["lz-router", "hello"])).await;
    }
    request_each(
        &z,
        N,
        |i| parts(&["lz-router".to_string(), format!("request {i}")]),
        |i| parts(&["lz-router".to_string(), format!("reply {i}")]),
    )
    .await;
    peer.join().await;
}

/// The PUSH-PULL pipeline's messages: `["item {i}", "x" repeated i times]`.
fn items() -> impl Iterator<Item = Vec<Vec<u8>>> {
    (0..4 * N).map(|i| parts(&[format!("item {i}"), "x".repeat(i)]))
}

async fn push_pull(dir: Dir) {
    let ctx = zmq::Context::new();
    let pull = zsocket(&ctx, zmq::PULL);
    let push = PushSocket::new();
    link(&push, &pull, dir).await;
    let peer = spawn_peer("libzmq PULL", move || {
        zrecv_all(&pull, items());
        znothing(&pull, 50);
    });
    send_all(&push, items()).await;
    peer.join().await;
}

async fn pull_push(dir: Dir) {
    let ctx = zmq::Context::new();
    let push = zsocket(&ctx, zmq::PUSH);
    let pull = PullSocket::new();
    link(&pull, &push, dir).await;
    let peer = spawn_peer("libzmq PUSH", move || {
        zsend_all(&push, items());
    });
    recv_all(&pull, items()).await;
    peer.join().await;
}

async fn pair_pair(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::PAIR);
    let z = PairSocket::new();
    link(&z, &l, dir).await;
    let pong = |i| parts(&[format!("pong {i}"), "!".into()]);
    let peer = spawn_peer("libzmq PAIR", move || {
        zserve(&l, N, numbered("ping"), pong);
    });
    request_each(&z, N, numbered("ping"), pong).await;
    peer.join().await;
}

/// zeroring REQ with REQ_CORRELATE and REQ_RELAXED against a libzmq ROUTER: the
/// request id travels before the delimiter, a reply to an abandoned request is
/// discarded, and the reply to the current one is delivered.
#[compio::test]
async fn zeroring_req_correlate_relaxed_libzmq_router() {
    let ctx = zmq::Context::new();
    let router = zsocket(&ctx, zmq::ROUTER);
    let req = ReqSocket::new();
    req.set_req_correlate(true);
    req.set_req_relaxed(true);
    link(&req, &router, Dir::LibzmqBinds).await;
    let peer = spawn_peer("libzmq ROUTER", move || {
        let first = zrecv(&router);
        let second = zrecv(&router);
        for m in [&first, &second] {
            assert_eq!(m.len(), 4, "[id, request id, \"\", body]: {m:?}");
            assert_eq!(m[1].len(), 4, "4-byte request id");
            assert_eq!(m[2], b"");
        }
        assert_eq!(first[3], b"abandoned");
        assert_eq!(second[3], b"current");
        assert_ne!(first[1], second[1], "request ids differ");
        // Answer the abandoned request first: zeroring must drop that reply.
        zsend(&router, &[&first[0][..], &first[1], b"", b"stale reply"]);
        zsend(&router, &[&second[0][..], &second[1], b"", b"fresh reply"]);
    });
    ok("REQ send", req.send("abandoned")).await;
    ok("REQ send (relaxed)", req.send("current")).await;
    let reply = ok("REQ recv", req.recv()).await;
    assert_eq!(frames(&reply), parts(&["fresh reply"]));
    peer.join().await;
}

/// libzmq REQ with REQ_CORRELATE and REQ_RELAXED against a zeroring REP: REP hands
/// back the whole envelope including the request id, so libzmq accepts the reply.
#[compio::test]
async fn libzmq_req_correlate_relaxed_zeroring_rep() {
    let ctx = zmq::Context::new();
    let req = zsocket(&ctx, zmq::REQ);
    req.set_req_correlate(true).unwrap();
    req.set_req_relaxed(true).unwrap();
    let rep = RepSocket::new();
    link(&rep, &req, Dir::ZeroringBinds).await;
    let peer = spawn_peer("libzmq REQ", move || {
        zrequest(&req, N, numbered("request"), numbered("reply"));
    });
    serve_each(&rep, N, numbered("request"), numbered("reply")).await;
    peer.join().await;
}
