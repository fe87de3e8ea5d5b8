//! CURVE (RFC 26) and ZAP (RFC 27) against pyzmq, whose wheels bundle libzmq
//! 4.3.5 with libsodium (the `zmq` crate's vendored libzmq has no CURVE). Each
//! peer is `secure_peer.py` (see `PyPeer`); keys are made by zeroring and
//! handed to Python in Z85.
//!
//! Each pattern both ways round: zeroring the CURVE client of a pyzmq server,
//! and a pyzmq client of a zeroring server. Then refusals, on both sides: an
//! unknown client key (ZAP 400, libzmq's HANDSHAKE_FAILED_AUTH), a wrong
//! server key (the server cannot open HELLO: a handshake failure, no status),
//! an address denied by ZAP; each time the server goes on serving a good
//! client. Each side also sees the other's user id (the Z85 of the client key,
//! as pyzmq's authenticator and zeroring's both give).

use zeroring::{
    Authenticator, CurveKeyPair, CurvePublicKey, DealerSocket, DisconnectReason, PubSocket,
    PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket, SocketBase, SubSocket, ZapStatus,
    curve_keypair,
};
use zeroring_interop_tests::zap::zeroring_refusal;
use zeroring_interop_tests::*;

const N: usize = 5;

fn keys() -> CurveKeyPair {
    curve_keypair().unwrap()
}

/// The JSON of a Python CURVE server with `server`'s keys.
fn py_server(kind: &str, action: &str, server: &CurveKeyPair, extra: &str) -> String {
    format!(
        r#"{{"type":"{kind}","bind":true,"action":"{action}","n":{N},
            "curve":{{"server":true,"public":"{}","secret":"{}"}}{extra}}}"#,
        server.public().to_z85(),
        &*server.secret().to_z85(),
    )
}

/// The JSON of a Python CURVE client of `server_key` at `ep`, with `mine`.
fn py_client(
    kind: &str,
    action: &str,
    ep: &str,
    server_key: &CurvePublicKey,
    mine: &CurveKeyPair,
    extra: &str,
) -> String {
    format!(
        r#"{{"type":"{kind}","connect":"{ep}","action":"{action}","n":{N},
            "curve":{{"serverkey":"{}","public":"{}","secret":"{}"}}{extra}}}"#,
        server_key.to_z85(),
        mine.public().to_z85(),
        &*mine.secret().to_z85(),
    )
}

/// Makes a zeroring socket a CURVE client of `server_key` with `mine`.
fn client(s: &SocketBase, server_key: &CurvePublicKey, mine: &CurveKeyPair) {
    s.set_curve_serverkey(server_key).unwrap();
    s.set_curve_keypair(mine).unwrap();
}

/// Makes a zeroring socket the CURVE server with `server`'s keys, binds it.
async fn server(s: &SocketBase, server: &CurveKeyPair) -> String {
    s.set_curve_server(true).unwrap();
    s.set_curve_keypair(server).unwrap();
    ok("bind", s.bind("tcp://127.0.0.1:0")).await.to_string()
}

/// A pyzmq ZAP configuration allowing exactly `key`.
fn py_auth_allowing(key: &CurvePublicKey) -> String {
    format!(r#","auth":{{"keys":["{}"]}}"#, key.to_z85())
}

// ---- zeroring client, pyzmq server ----

#[compio::test]
async fn zeroring_req_to_pyzmq_rep() {
    let (srv, mine) = (keys(), keys());
    let mut py = PyPeer::start(&py_server(
        "REP",
        "echo",
        &srv,
        &py_auth_allowing(mine.public()),
    ));
    let ep = py.endpoint().await;
    let req = ReqSocket::new();
    client(&req, srv.public(), &mine);
    ok("connect", req.connect(&ep)).await;
    for i in 0..N {
        ok("send", req.send(format!("request {i}"))).await;
        assert_eq!(ok("recv", req.recv()).await[0], format!("REQUEST {i}"));
    }
    // pyzmq's authenticator names a CURVE client by its key's Z85.
    assert_eq!(py.expect("user-id").await, mine.public().to_z85());
    py.finish().await;
}

#[compio::test]
async fn zeroring_dealer_to_pyzmq_router() {
    let (srv, mine) = (keys(), keys());
    let py = PyPeer::start(&py_server("ROUTER", "echo", &srv, ""));
    let mut py = py;
    let ep = py.endpoint().await;
    let dealer = DealerSocket::new();
    client(&dealer, srv.public(), &mine);
    ok("connect", dealer.connect(&ep)).await;
    for i in 0..N {
        ok("send", dealer.send(format!("job {i}"))).await;
        assert_eq!(ok("recv", dealer.recv()).await[0], format!("JOB {i}"));
    }
    py.finish().await;
}

#[compio::test]
async fn zeroring_sub_to_pyzmq_pub() {
    let (srv, mine) = (keys(), keys());
    let mut py = PyPeer::start(&py_server("PUB", "publish", &srv, r#","timeout_ms":3000"#));
    let ep = py.endpoint().await;
    let sub = SubSocket::new();
    client(&sub, srv.public(), &mine);
    sub.subscribe("weather");
    ok("connect", sub.connect(&ep)).await;
    for _ in 0..N {
        let m = ok("recv", sub.recv()).await;
        assert_eq!(m[0], "weather");
        assert_eq!(m[1], "sunny");
    }
    py.finish().await;
}

#[compio::test]
async fn zeroring_push_to_pyzmq_pull() {
    let (srv, mine) = (keys(), keys());
    let mut py = PyPeer::start(&py_server(
        "PULL",
        "pull",
        &srv,
        &py_auth_allowing(mine.public()),
    ));
    let ep = py.endpoint().await;
    let push = PushSocket::new();
    client(&push, srv.public(), &mine);
    ok("connect", push.connect(&ep)).await;
    for i in 0..N {
        ok("send", push.send(format!("item {i}"))).await;
    }
    assert_eq!(py.expect("user-id").await, mine.public().to_z85());
    py.finish().await;
}

// ---- pyzmq client, zeroring server ----

#[compio::test]
async fn pyzmq_req_to_zeroring_rep() {
    let (srv, theirs) = (keys(), keys());
    let rep = RepSocket::new();
    let auth = Authenticator::new();
    auth.allow_curve_key(*theirs.public());
    rep.set_authenticator(auth);
    let ep = server(&rep, &srv).await;
    let py = PyPeer::start(&py_client("REQ", "request", &ep, srv.public(), &theirs, ""));
    for i in 0..N {
        let (m, peer) = ok("recv", rep.recv_with_peer()).await;
        assert_eq!(m[0], format!("request {i}"));
        let peer = peer.expect("authenticated");
        assert_eq!(peer.curve_public_key(), Some(theirs.public()));
        assert_eq!(peer.user_id().unwrap(), &theirs.public().to_z85());
        ok("send", rep.send(format!("REQUEST {i}"))).await;
    }
    py.finish().await;
}

#[compio::test]
async fn pyzmq_dealer_to_zeroring_router() {
    let (srv, theirs) = (keys(), keys());
    let router = RouterSocket::new();
    let ep = server(&router, &srv).await;
    let py = PyPeer::start(&py_client(
        "DEALER",
        "request",
        &ep,
        srv.public(),
        &theirs,
        r#","routing_id":"py-dealer""#,
    ));
    for i in 0..N {
        let m = ok("recv", router.recv()).await;
        assert_eq!(
            frames(&m),
            parts(&["py-dealer", "", &format!("request {i}")])
        );
        let reply = msg(&["py-dealer", "", &format!("REQUEST {i}")]);
        ok("send", router.send(reply)).await;
    }
    py.finish().await;
}

#[compio::test]
async fn pyzmq_sub_to_zeroring_pub() {
    let (srv, theirs) = (keys(), keys());
    let publisher = PubSocket::new();
    let ep = server(&publisher, &srv).await;
    let mut py = PyPeer::start(&py_client(
        "SUB",
        "subscribe",
        &ep,
        srv.public(),
        &theirs,
        "",
    ));
    // Publish until the subscriber has its messages (it asserts every topic).
    within_for(
        "pyzmq subscriber served",
        std::time::Duration::from_secs(20),
        async {
            while !py.printed("ok") {
                publisher.send(vec!["noise", "x"]).await.unwrap();
                publisher.send(vec!["weather", "sunny"]).await.unwrap();
                compio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        },
    )
    .await;
    py.finish().await;
}

#[compio::test]
async fn pyzmq_push_to_zeroring_pull() {
    let (srv, theirs) = (keys(), keys());
    let pull = PullSocket::new();
    let ep = server(&pull, &srv).await;
    let py = PyPeer::start(&py_client("PUSH", "push", &ep, srv.public(), &theirs, ""));
    for i in 0..N {
        let (m, peer) = ok("recv", pull.recv_with_peer()).await;
        assert_eq!(m[0], format!("item {i}"));
        assert_eq!(peer.unwrap().curve_public_key(), Some(theirs.public()));
    }
    py.finish().await;
}

// ---- refusals ----

#[compio::test]
async fn unknown_client_key_refused_by_pyzmq_server_which_keeps_serving() {
    let (srv, known) = (keys(), keys());
    let config = py_server(
        "REP",
        "echo",
        &srv,
        &format!(r#"{},"monitor":true"#, py_auth_allowing(known.public())),
    );
    let mut py = PyPeer::start(&config);
    let ep = py.endpoint().await;

    let stranger = ReqSocket::new();
    client(&stranger, srv.public(), &keys());
    let events = stranger.monitor();
    ok("connect", stranger.connect(&ep)).await;
    let (status, reason) = zeroring_refusal(&events).await;
    assert_eq!(status, Some(ZapStatus::Failure), "{reason}");
    assert_eq!(py.expect("event HANDSHAKE_FAILED_AUTH").await, "400");
    stranger.set_linger(Some(std::time::Duration::ZERO));
    stranger.close().await;

    let friend = ReqSocket::new();
    client(&friend, srv.public(), &known);
    ok("connect", friend.connect(&ep)).await;
    for i in 0..N {
        ok("send", friend.send(format!("hi {i}"))).await;
        assert_eq!(ok("recv", friend.recv()).await[0], format!("HI {i}"));
    }
    py.finish().await;
}

#[compio::test]
async fn unknown_client_key_refused_by_zeroring_server_which_keeps_serving() {
    let (srv, known) = (keys(), keys());
    let rep = RepSocket::new();
    let auth = Authenticator::new();
    auth.allow_curve_key(*known.public());
    rep.set_authenticator(auth);
    let server_events = rep.monitor();
    let ep = server(&rep, &srv).await;

    let mut stranger = PyPeer::start(&py_client(
        "REQ",
        "expect_no_reply",
        &ep,
        srv.public(),
        &keys(),
        r#","monitor":true"#,
    ));
    let (status, reason) = zeroring_refusal(&server_events).await;
    assert_eq!(status, Some(ZapStatus::Failure));
    assert!(
        matches!(reason, DisconnectReason::Refused { .. }),
        "{reason}"
    );
    // CURVE's ERROR is spelled right in libzmq: it reports the status.
    assert_eq!(stranger.expect("event HANDSHAKE_FAILED_AUTH").await, "400");
    stranger.finish().await;

    let friend = PyPeer::start(&py_client("REQ", "request", &ep, srv.public(), &known, ""));
    serve_each(&rep, N, numbered("request"), |i| {
        vec![format!("REQUEST {i}").into_bytes()]
    })
    .await;
    friend.finish().await;
}

#[compio::test]
async fn wrong_server_key_fails_on_both_sides_with_pyzmq_server() {
    let srv = keys();
    let mut py = PyPeer::start(&py_server("REP", "echo", &srv, r#","monitor":true"#));
    let ep = py.endpoint().await;
    let lost = ReqSocket::new();
    client(&lost, keys().public(), &keys());
    let events = lost.monitor();
    ok("connect", lost.connect(&ep)).await;
    // libzmq cannot open HELLO and closes without a word: no status.
    let (status, reason) = zeroring_refusal(&events).await;
    assert_eq!(status, None, "{reason}");
    assert!(reason.to_string().contains("closed"), "{reason}");
    assert!(
        !py.expect("event HANDSHAKE_FAILED_PROTOCOL")
            .await
            .is_empty()
    );
    lost.set_linger(Some(std::time::Duration::ZERO));
    lost.close().await;

    let good = ReqSocket::new();
    client(&good, srv.public(), &keys());
    ok("connect", good.connect(&ep)).await;
    for i in 0..N {
        ok("send", good.send(format!("x{i}"))).await;
        assert_eq!(ok("recv", good.recv()).await[0], format!("X{i}"));
    }
    py.finish().await;
}

#[compio::test]
async fn wrong_server_key_fails_on_both_sides_with_zeroring_server() {
    let srv = keys();
    let rep = RepSocket::new();
    let server_events = rep.monitor();
    let ep = server(&rep, &srv).await;
    let lost = PyPeer::start(&py_client(
        "REQ",
        "expect_no_reply",
        &ep,
        keys().public(),
        &keys(),
        "",
    ));
    let (status, reason) = zeroring_refusal(&server_events).await;
    assert_eq!(status, None, "{reason}");
    assert!(reason.to_string().contains("CURVE"), "{reason}");
    lost.finish().await;

    let good = PyPeer::start(&py_client("REQ", "request", &ep, srv.public(), &keys(), ""));
    serve_each(&rep, N, numbered("request"), |i| {
        vec![format!("REQUEST {i}").into_bytes()]
    })
    .await;
    good.finish().await;
}

#[compio::test]
async fn zap_address_denial_by_pyzmq_server() {
    let srv = keys();
    let mut py = PyPeer::start(&py_server(
        "PULL",
        "idle",
        &srv,
        r#","auth":{"deny":["127.0.0.1"],"any_key":true},"monitor":true"#,
    ));
    let ep = py.endpoint().await;
    let push = PushSocket::new();
    client(&push, srv.public(), &keys());
    let events = push.monitor();
    ok("connect", push.connect(&ep)).await;
    let (status, reason) = zeroring_refusal(&events).await;
    assert_eq!(status, Some(ZapStatus::Failure), "{reason}");
    assert_eq!(py.expect("event HANDSHAKE_FAILED_AUTH").await, "400");
    py.finish().await;
}

#[compio::test]
async fn zap_address_denial_by_zeroring_server() {
    let srv = keys();
    let pull = PullSocket::new();
    let auth = Authenticator::new();
    auth.deny("127.0.0.1".parse().unwrap());
    auth.allow_any_curve_key(true);
    pull.set_authenticator(auth);
    let server_events = pull.monitor();
    let ep = server(&pull, &srv).await;
    let mut py = PyPeer::start(&py_client(
        "PUSH",
        "idle",
        &ep,
        srv.public(),
        &keys(),
        r#","monitor":true"#,
    ));
    let (status, reason) = zeroring_refusal(&server_events).await;
    assert_eq!(status, Some(ZapStatus::Failure));
    assert!(reason.to_string().contains("address denied"), "{reason}");
    assert_eq!(py.expect("event HANDSHAKE_FAILED_AUTH").await, "400");
    py.finish().await;
}
