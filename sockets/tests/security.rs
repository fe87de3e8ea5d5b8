//! PLAIN, CURVE and ZAP between zeroring sockets: every socket pattern over an
//! encrypted connection (large and multipart messages, subscriptions,
//! heartbeats, connect before bind), refusals on both sides with the ZAP status
//! in the monitor (wrong password, wrong server key, unknown client key,
//! address denied, a PLAIN server without authenticator, 300), a server that
//! keeps serving good clients after refusing bad ones, the peer's user id and
//! ZAP metadata through `recv_with_peer`, czmq certificate directories, the
//! options' checks, and thread-safe handles with a context's authenticator.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use common::{ANY, within};
use zeroring_sockets::{
    Authenticator, Context, CurveKeyPair, DealerSocket, DisconnectReason, Error, Mechanism,
    Monitor, PubSocket, PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket, SocketBase,
    SocketEvent, SocketType, SubSocket, ZapReply, ZapStatus, curve_keypair,
};

fn keys() -> CurveKeyPair {
    curve_keypair().unwrap()
}

/// Makes `s` the CURVE server with `server`'s keys.
fn curve_server(s: &SocketBase, server: &CurveKeyPair) {
    s.set_curve_server(true).unwrap();
    s.set_curve_keypair(server).unwrap();
}

/// Makes `s` a CURVE client of `server_key` with its own fresh keys (returned).
fn curve_client(s: &SocketBase, server_key: &zeroring_sockets::CurvePublicKey) -> CurveKeyPair {
    let mine = keys();
    s.set_curve_serverkey(server_key).unwrap();
    s.set_curve_keypair(&mine).unwrap();
    mine
}

/// Waits for the first authentication failure (or a handshake failure) on a
/// monitor; returns its status (if any) and reason.
async fn first_refusal(monitor: &Monitor) -> (Option<ZapStatus>, DisconnectReason) {
    within("a handshake failure", async {
        loop {
            match monitor.recv().await {
                SocketEvent::HandshakeFailedAuth { status, reason, .. } => {
                    return (Some(status), reason);
                }
                SocketEvent::HandshakeFailed { reason, .. } => return (None, reason),
                _ => {}
            }
        }
    })
    .await
}

async fn round_trip(req: &ReqSocket, rep: &RepSocket, body: Bytes) {
    within("request", req.send(body.clone())).await.unwrap();
    let got = within("rep recv", rep.recv()).await.unwrap();
    assert_eq!(got[0], body);
    within(
        "reply",
        rep.send(vec![body.clone(), Bytes::from_static(b"2nd")]),
    )
    .await
    .unwrap();
    let reply = within("req recv", req.recv()).await.unwrap();
    assert_eq!(reply.len(), 2);
    assert_eq!(reply[0], body);
}

#[compio::test]
async fn curve_req_rep_small_large_and_multipart() {
    let _w = common::panic_watch();
    let server = keys();
    let rep = RepSocket::new();
    curve_server(&rep, &server);
    let ep = rep.bind(ANY).await.unwrap().to_string();
    let req = ReqSocket::new();
    curve_client(&req, server.public());
    req.connect(&ep).await.unwrap();
    for size in [0usize, 1, 64, 255, 256, 8 * 1024, 70_000, 1 << 20] {
        let body = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
        round_trip(&req, &rep, body).await;
    }
    // Many small round trips: REQ and REP write through the sealer every time
    // (no direct write may bypass the encryption).
    for i in 0..200 {
        round_trip(&req, &rep, Bytes::from(format!("q{i}"))).await;
    }
}

#[compio::test]
async fn curve_push_pull_stream_arrives_in_order() {
    let _w = common::panic_watch();
    let server = keys();
    let pull = PullSocket::new();
    curve_server(&pull, &server);
    let ep = pull.bind(ANY).await.unwrap().to_string();
    let push = PushSocket::new();
    curve_client(&push, server.public());
    push.connect(&ep).await.unwrap();
    const N: usize = 20_000;
    let sender = async {
        for i in 0..N {
            let frames = vec![
                Bytes::from(format!("{i}")),
                Bytes::from("x".repeat(i % 300)),
            ];
            push.send(frames).await.unwrap();
        }
    };
    let receiver = async {
        for i in 0..N {
            let m = pull.recv().await.unwrap();
            assert_eq!(m[0], format!("{i}"));
            assert_eq!(m[1].len(), i % 300);
        }
    };
    within("stream", futures_join(sender, receiver)).await;
}

async fn futures_join(a: impl Future<Output = ()>, b: impl Future<Output = ()>) {
    let (a, b) = (std::pin::pin!(a), std::pin::pin!(b));
    let mut a = Some(a);
    let mut b = Some(b);
    std::future::poll_fn(|cx| {
        if let Some(f) = a.as_mut()
            && f.as_mut().poll(cx).is_ready()
        {
            a = None;
        }
        if let Some(f) = b.as_mut()
            && f.as_mut().poll(cx).is_ready()
        {
            b = None;
        }
        if a.is_none() && b.is_none() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

#[compio::test]
async fn curve_pub_sub_filters_on_sealed_subscriptions() {
    let _w = common::panic_watch();
    let server = keys();
    let publisher = PubSocket::new();
    curve_server(&publisher, &server);
    let ep = publisher.bind(ANY).await.unwrap().to_string();
    let sub = SubSocket::new();
    curve_client(&sub, server.public());
    sub.subscribe("weather");
    sub.connect(&ep).await.unwrap();
    // The subscription travels sealed; publish until it took effect.
    let got = within("first matching message", async {
        loop {
            publisher.send(vec!["sport", "0-0"]).await.unwrap();
            publisher.send(vec!["weather", "sunny"]).await.unwrap();
            if let Ok(m) = compio::time::timeout(Duration::from_millis(20), sub.recv()).await {
                return m.unwrap();
            }
        }
    })
    .await;
    assert_eq!(got[0], "weather");
    for _ in 0..50 {
        publisher.send(vec!["sport", "1-0"]).await.unwrap();
        publisher.send(vec!["weather", "rain"]).await.unwrap();
    }
    for _ in 0..50 {
        let m = within("matching", sub.recv()).await.unwrap();
        assert_eq!(m[0], "weather", "a non-matching topic came through");
    }
}

#[compio::test]
async fn curve_dealer_router_with_heartbeats_and_routing_ids() {
    let _w = common::panic_watch();
    let server = keys();
    let router = RouterSocket::new();
    curve_server(&router, &server);
    router
        .set_heartbeat_ivl(Some(Duration::from_millis(20)))
        .unwrap();
    let ep = router.bind(ANY).await.unwrap().to_string();
    let dealer = DealerSocket::new();
    curve_client(&dealer, server.public());
    dealer.set_routing_id("worker-1").unwrap();
    dealer
        .set_heartbeat_ivl(Some(Duration::from_millis(20)))
        .unwrap();
    dealer.connect(&ep).await.unwrap();
    for round in 0..5 {
        dealer.send(vec!["", "ping"]).await.unwrap();
        let m = within("router recv", router.recv()).await.unwrap();
        assert_eq!(m[0], "worker-1");
        assert_eq!(m[2], "ping");
        router.send(vec!["worker-1", "", "pong"]).await.unwrap();
        let r = within("dealer recv", dealer.recv()).await.unwrap();
        assert_eq!(r[1], "pong");
        // Sealed PINGs and PONGs go both ways meanwhile.
        if round < 4 {
            compio::time::sleep(Duration::from_millis(60)).await;
        }
    }
    assert_eq!(router.peer_count(), 1, "heartbeats kept the connection");
}

#[compio::test]
async fn curve_connect_before_bind_delivers_what_was_queued() {
    let _w = common::panic_watch();
    let server = keys();
    let port = common::free_port();
    let ep = format!("tcp://127.0.0.1:{port}");
    let push = PushSocket::new();
    curve_client(&push, server.public());
    push.connect(&ep).await.unwrap();
    for i in 0..10 {
        push.send(format!("early {i}")).await.unwrap();
    }
    let pull = PullSocket::new();
    curve_server(&pull, &server);
    pull.bind(&ep).await.unwrap();
    for i in 0..10 {
        let m = within("queued message", pull.recv()).await.unwrap();
        assert_eq!(m[0], format!("early {i}"));
    }
}

#[compio::test]
async fn curve_close_delivers_everything_queued() {
    let _w = common::panic_watch();
    let server = keys();
    let pull = PullSocket::new();
    curve_server(&pull, &server);
    let ep = pull.bind(ANY).await.unwrap().to_string();
    let push = PushSocket::new();
    curve_client(&push, server.public());
    push.connect(&ep).await.unwrap();
    for i in 0..500 {
        push.send(format!("m{i}")).await.unwrap();
    }
    // close() returns once the sealer wrote the last batch and the peer took it.
    within("close with LINGER", push.close()).await;
    for i in 0..500 {
        assert_eq!(
            within("recv", pull.recv()).await.unwrap()[0],
            format!("m{i}")
        );
    }
}

#[compio::test]
async fn curve_wrong_server_key_fails_on_both_sides_and_good_clients_still_connect() {
    let _w = common::panic_watch();
    let server = keys();
    let rep = RepSocket::new();
    curve_server(&rep, &server);
    let server_events = rep.monitor();
    let ep = rep.bind(ANY).await.unwrap().to_string();

    let bad = ReqSocket::new();
    let bad_events = bad.monitor();
    curve_client(&bad, keys().public());
    bad.connect(&ep).await.unwrap();
    let (status, reason) = first_refusal(&bad_events).await;
    assert_eq!(status, None, "not an authentication decision: {reason}");
    let (_, server_reason) = first_refusal(&server_events).await;
    assert!(
        server_reason.to_string().contains("CURVE"),
        "server side: {server_reason}"
    );
    bad.set_linger(Some(Duration::ZERO));
    bad.close().await;

    let good = ReqSocket::new();
    curve_client(&good, server.public());
    good.connect(&ep).await.unwrap();
    round_trip(&good, &rep, Bytes::from_static(b"still serving")).await;
}

#[compio::test]
async fn curve_unknown_client_key_is_refused_with_400_both_sides() {
    let _w = common::panic_watch();
    let server = keys();
    let known = keys();
    let auth = Authenticator::new();
    auth.allow_curve_key(*known.public());
    let rep = RepSocket::new();
    curve_server(&rep, &server);
    rep.set_authenticator(auth);
    let server_events = rep.monitor();
    let ep = rep.bind(ANY).await.unwrap().to_string();

    let stranger = ReqSocket::new();
    let client_events = stranger.monitor();
    curve_client(&stranger, server.public());
    stranger.connect(&ep).await.unwrap();
    let (status, reason) = first_refusal(&client_events).await;
    assert_eq!(status, Some(ZapStatus::Failure), "client: {reason}");
    let (status, reason) = first_refusal(&server_events).await;
    assert_eq!(status, Some(ZapStatus::Failure), "server: {reason}");
    assert!(
        matches!(reason, DisconnectReason::Refused { .. }),
        "{reason}"
    );
    stranger.set_linger(Some(Duration::ZERO));
    stranger.close().await;

    let friend = ReqSocket::new();
    friend.set_curve_serverkey(server.public()).unwrap();
    friend.set_curve_keypair(&known).unwrap();
    friend.connect(&ep).await.unwrap();
    within("request", friend.send("hi")).await.unwrap();
    let (msg, peer) = within("rep recv", rep.recv_with_peer()).await.unwrap();
    assert_eq!(msg[0], "hi");
    let peer = peer.expect("an authenticated peer has properties");
    assert_eq!(peer.mechanism(), Mechanism::Curve);
    assert_eq!(peer.curve_public_key(), Some(known.public()));
    assert_eq!(
        peer.user_id().unwrap(),
        &Bytes::from(known.public().to_z85())
    );
    assert_eq!(peer.get("Peer-Address").unwrap(), "127.0.0.1");
}

#[compio::test]
async fn curve_server_without_authenticator_accepts_any_key_and_records_it() {
    let _w = common::panic_watch();
    let server = keys();
    let pull = PullSocket::new();
    curve_server(&pull, &server);
    let ep = pull.bind(ANY).await.unwrap().to_string();
    let push = PushSocket::new();
    let mine = curve_client(&push, server.public());
    push.connect(&ep).await.unwrap();
    push.send("anyone").await.unwrap();
    let (_, peer) = within("recv", pull.recv_with_peer()).await.unwrap();
    let peer = peer.unwrap();
    assert_eq!(peer.curve_public_key(), Some(mine.public()));
    assert_eq!(
        peer.user_id(),
        None,
        "no authenticator, no user id (libzmq)"
    );
}

/// A PLAIN REP server (with `auth`, if any) and a REQ client logging in as
/// `user`; returns them, their monitors, and the server's endpoint.
async fn plain_pair(
    auth: Option<Authenticator>,
    user: &str,
    password: &str,
) -> (RepSocket, ReqSocket, Monitor, Monitor, String) {
    let rep = RepSocket::new();
    rep.set_plain_server(true).unwrap();
    if let Some(auth) = auth {
        rep.set_authenticator(auth);
    }
    let server_events = rep.monitor();
    let ep = rep.bind(ANY).await.unwrap().to_string();
    let req = ReqSocket::new();
    req.set_plain_username(user.to_string()).unwrap();
    req.set_plain_password(password).unwrap();
    let client_events = req.monitor();
    req.connect(&ep).await.unwrap();
    (rep, req, server_events, client_events, ep)
}

#[compio::test]
async fn plain_password_checked_and_user_id_reaches_the_application() {
    let _w = common::panic_watch();
    let auth = Authenticator::new();
    auth.add_plain_user("admin", "secret");
    let (rep, req, _, _, ep) = plain_pair(Some(auth.clone()), "admin", "secret").await;
    req.send("hello").await.unwrap();
    let (msg, peer) = within("recv", rep.recv_with_peer()).await.unwrap();
    assert_eq!(msg[0], "hello");
    let peer = peer.unwrap();
    assert_eq!(peer.user_id().unwrap(), "admin");
    assert_eq!(peer.plain_username().unwrap(), "admin");
    assert_eq!(peer.get("User-Id").unwrap(), "admin");
    assert_eq!(peer.socket_type(), SocketType::Req);
    rep.send("welcome").await.unwrap();
    assert_eq!(within("reply", req.recv()).await.unwrap()[0], "welcome");

    // Wrong password: 400 on both sides, and the server goes on serving.
    let bad = ReqSocket::new();
    bad.set_plain_username("admin").unwrap();
    bad.set_plain_password("guess").unwrap();
    let bad_events = bad.monitor();
    let server_events = rep.monitor();
    bad.connect(&ep).await.unwrap();
    let (status, reason) = first_refusal(&bad_events).await;
    assert_eq!(status, Some(ZapStatus::Failure), "client: {reason}");
    assert!(reason.to_string().contains("password"), "{reason}");
    let (status, _) = first_refusal(&server_events).await;
    assert_eq!(status, Some(ZapStatus::Failure));
    bad.set_linger(Some(Duration::ZERO));
    bad.close().await;
    req.send("again").await.unwrap();
    assert_eq!(within("recv", rep.recv()).await.unwrap()[0], "again");
}

#[compio::test]
async fn plain_server_without_authenticator_refuses_every_client() {
    let _w = common::panic_watch();
    let (_rep, _req, server_events, client_events, _) = plain_pair(None, "admin", "secret").await;
    let (status, reason) = first_refusal(&server_events).await;
    assert_eq!(status, Some(ZapStatus::InternalError));
    assert_eq!(reason, DisconnectReason::NoAuthenticator);
    assert!(reason.to_string().contains("set_authenticator"), "{reason}");
    let (status, _) = first_refusal(&client_events).await;
    assert_eq!(status, Some(ZapStatus::InternalError));
}

#[compio::test]
async fn temporary_error_closes_silently_and_the_client_retries() {
    let _w = common::panic_watch();
    let calls = Arc::new(AtomicUsize::new(0));
    let auth = Authenticator::new();
    let seen = calls.clone();
    auth.set_handler(move |_| {
        // Refuse the first attempt with 300, allow the retry.
        if seen.fetch_add(1, Ordering::SeqCst) == 0 {
            ZapReply::temporary_error("busy")
        } else {
            ZapReply::allow("later")
        }
    });
    let (rep, req, server_events, _, _) = plain_pair(Some(auth), "u", "p").await;
    let (status, _) = first_refusal(&server_events).await;
    assert_eq!(status, Some(ZapStatus::TemporaryError));
    req.send("retry worked").await.unwrap();
    let (msg, peer) = within("recv", rep.recv_with_peer()).await.unwrap();
    assert_eq!(msg[0], "retry worked");
    assert_eq!(peer.unwrap().user_id().unwrap(), "later");
    assert!(calls.load(Ordering::SeqCst) >= 2);
}

#[compio::test]
async fn null_with_zap_domain_denied_address_and_handler_fields() {
    let _w = common::panic_watch();
    let auth = Authenticator::new();
    auth.deny("127.0.0.1".parse().unwrap());
    let pull = PullSocket::new();
    pull.set_zap_domain("global").unwrap();
    pull.set_authenticator(auth.clone());
    let events = pull.monitor();
    let ep = pull.bind(ANY).await.unwrap().to_string();
    let push = PushSocket::new();
    let client_events = push.monitor();
    push.connect(&ep).await.unwrap();
    let (status, reason) = first_refusal(&events).await;
    assert_eq!(status, Some(ZapStatus::Failure), "{reason}");
    assert!(reason.to_string().contains("address denied"), "{reason}");
    let (status, _) = first_refusal(&client_events).await;
    assert_eq!(status, Some(ZapStatus::Failure));
    push.set_linger(Some(Duration::ZERO));
    push.close().await;

    // Lift the ban; a handler now sees RFC 27's fields and tags the peer.
    auth.forget_address("127.0.0.1".parse().unwrap());
    let fields = Arc::new(std::sync::Mutex::new(None));
    let f = fields.clone();
    auth.set_handler(move |r| {
        *f.lock().unwrap() = Some((
            r.version(),
            r.domain.clone(),
            r.address,
            r.identity.clone(),
            r.mechanism,
        ));
        ZapReply::allow("anon").with_metadata("Tier", "gold")
    });
    pull.set_routing_id("the-pull").unwrap();
    let push = PushSocket::new();
    push.connect(&ep).await.unwrap();
    push.send("let in").await.unwrap();
    let (msg, peer) = within("recv", pull.recv_with_peer()).await.unwrap();
    assert_eq!(msg[0], "let in");
    let peer = peer.unwrap();
    assert_eq!(peer.user_id().unwrap(), "anon");
    assert_eq!(peer.zap_metadata().get("tier").unwrap(), "gold");
    assert_eq!(peer.get("Tier").unwrap(), "gold");
    let (version, domain, address, identity, mechanism) = fields.lock().unwrap().clone().unwrap();
    assert_eq!(version, "1.0");
    assert_eq!(domain, "global");
    assert_eq!(address, Some("127.0.0.1".parse().unwrap()));
    assert_eq!(identity, "the-pull");
    assert_eq!(mechanism, Mechanism::Null);
}

#[compio::test]
async fn null_without_domain_is_not_authenticated() {
    let _w = common::panic_watch();
    let auth = Authenticator::new();
    auth.deny("127.0.0.1".parse().unwrap());
    let pull = PullSocket::new();
    pull.set_authenticator(auth);
    let ep = pull.bind(ANY).await.unwrap().to_string();
    let push = PushSocket::new();
    push.connect(&ep).await.unwrap();
    push.send("no domain, no ZAP").await.unwrap();
    let (msg, peer) = within("recv", pull.recv_with_peer()).await.unwrap();
    assert_eq!(msg[0], "no domain, no ZAP");
    assert!(peer.is_none());
}

#[compio::test]
async fn czmq_certificate_directory_allows_keys_with_their_metadata() {
    let _w = common::panic_watch();
    let server = keys();
    let client = keys();
    let dir = std::env::temp_dir().join(format!("zr-certs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cert = format!(
        "#   ZeroMQ CURVE Public Certificate\n\nmetadata\n    name = \"client-a\"\ncurve\n    public-key = \"{}\"\n",
        client.public().to_z85()
    );
    std::fs::write(dir.join("client-a.key"), cert).unwrap();
    let auth = Authenticator::new();
    assert_eq!(auth.load_curve_certificates(&dir).unwrap(), 1);
    let pull = PullSocket::new();
    curve_server(&pull, &server);
    pull.set_authenticator(auth);
    let ep = pull.bind(ANY).await.unwrap().to_string();
    let push = PushSocket::new();
    push.set_curve_serverkey(server.public()).unwrap();
    push.set_curve_keypair(&client).unwrap();
    push.connect(&ep).await.unwrap();
    push.send("certified").await.unwrap();
    let (_, peer) = within("recv", pull.recv_with_peer()).await.unwrap();
    assert_eq!(peer.unwrap().get("name").unwrap(), "client-a");
    let _ = std::fs::remove_dir_all(&dir);
}

#[compio::test]
async fn options_are_checked_when_set_and_at_connect_and_bind() {
    let _w = common::panic_watch();
    let server = keys();
    let req = ReqSocket::new();
    req.set_curve_serverkey(server.public()).unwrap();
    // A client without its own key pair cannot connect.
    let e = req.connect("tcp://127.0.0.1:1").await.unwrap_err();
    assert!(matches!(e, Error::Security(_)), "{e}");
    assert!(e.to_string().contains("CURVE_SECRETKEY"), "{e}");
    // Two mechanisms, two roles: refused when set.
    let e = req.set_plain_username("u").unwrap_err();
    assert!(e.to_string().contains("PLAIN and CURVE"), "{e}");
    let e = req.set_curve_server(true).unwrap_err();
    assert!(e.to_string().contains("CURVE_SERVERKEY"), "{e}");
    let e = req.set_curve_serverkey("not a key").unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidOption {
                option: "CURVE_SERVERKEY",
                ..
            }
        ),
        "{e}"
    );
    // A server without its secret key cannot bind.
    let rep = RepSocket::new();
    rep.set_curve_server(true).unwrap();
    let e = rep.bind(ANY).await.unwrap_err();
    assert!(e.to_string().contains("CURVE_SECRETKEY"), "{e}");
    // Keys as Z85 text or raw bytes.
    rep.set_curve_secretkey(&*server.secret().to_z85()).unwrap();
    rep.set_curve_publickey(server.public().as_bytes()).unwrap();
    assert!(rep.bind(ANY).await.is_ok());
    assert_eq!(rep.options().mechanism(), Mechanism::Curve);
}

#[compio::test]
async fn curve_over_ipc_has_no_address_so_allow_lists_refuse_it() {
    let _w = common::panic_watch();
    let server = keys();
    let auth = Authenticator::new();
    auth.allow_any_curve_key(true);
    let pull = PullSocket::new();
    curve_server(&pull, &server);
    pull.set_authenticator(auth.clone());
    let ep = common::ipc_endpoint("curve");
    pull.bind(&ep).await.unwrap();
    let push = PushSocket::new();
    curve_client(&push, server.public());
    push.connect(&ep).await.unwrap();
    push.send("over ipc").await.unwrap();
    let (msg, peer) = within("recv", pull.recv_with_peer()).await.unwrap();
    assert_eq!(msg[0], "over ipc");
    assert_eq!(peer.unwrap().address(), None);

    // An allow list admits addresses; an ipc peer has none.
    auth.allow("127.0.0.1".parse().unwrap());
    let events = pull.monitor();
    let other = PushSocket::new();
    curve_client(&other, server.public());
    other.connect(&ep).await.unwrap();
    let (status, reason) = first_refusal(&events).await;
    assert_eq!(status, Some(ZapStatus::Failure), "{reason}");
    other.set_linger(Some(Duration::ZERO));
    other.close().await;
}

#[compio::test]
async fn mechanism_mismatch_is_still_a_handshake_failure() {
    let _w = common::panic_watch();
    let rep = RepSocket::new();
    curve_server(&rep, &keys());
    let ep = rep.bind(ANY).await.unwrap().to_string();
    let req = ReqSocket::new();
    req.set_plain_username("u").unwrap();
    let events = req.monitor();
    req.connect(&ep).await.unwrap();
    let (status, reason) = first_refusal(&events).await;
    assert_eq!(status, None);
    assert!(reason.to_string().contains("mechanism"), "{reason}");
}

/// Thread-safe handles: the context's authenticator, CURVE options set on the
/// handles, and `recv_with_peer` on the handle.
#[test]
fn handles_with_curve_and_the_context_authenticator() {
    let ctx = Context::new().unwrap();
    let server = keys();
    let client = keys();
    let auth = Authenticator::new();
    auth.allow_curve_key(*client.public());
    ctx.set_authenticator(auth);
    let wait = Some(Duration::from_secs(10));

    let rep = ctx.socket(SocketType::Rep).unwrap();
    rep.set_rcvtimeo(wait);
    rep.set_curve_server(true).unwrap();
    // Incomplete options are refused by the I/O thread's bind, as natively.
    let e = rep.bind(ANY).unwrap_err();
    assert!(matches!(e, Error::Security(_)), "{e}");
    rep.set_curve_keypair(&server).unwrap();
    let ep = rep.bind(ANY).unwrap().to_string();

    // A stranger is refused by the context's authenticator.
    let stranger = ctx.socket(SocketType::Req).unwrap();
    let stranger_events = stranger.monitor().unwrap();
    stranger.set_curve_serverkey(server.public()).unwrap();
    stranger.set_curve_keypair(&keys()).unwrap();
    stranger.connect(&ep).unwrap();
    let refused = loop {
        match stranger_events.recv_timeout(Duration::from_secs(10)) {
            Ok(SocketEvent::HandshakeFailedAuth { status, .. }) => break status,
            Ok(_) => continue,
            Err(e) => panic!("no refusal reported: {e}"),
        }
    };
    assert_eq!(refused, ZapStatus::Failure);
    stranger.set_linger(Some(Duration::ZERO));
    drop(stranger);

    let req = ctx.socket(SocketType::Req).unwrap();
    req.set_rcvtimeo(wait);
    req.set_curve_serverkey(server.public()).unwrap();
    req.set_curve_keypair(&client).unwrap();
    req.connect(&ep).unwrap();
    req.send("over curve").unwrap();
    let (msg, peer) = rep.recv_with_peer().unwrap();
    assert_eq!(msg[0], "over curve");
    let peer = peer.expect("properties travel with the message to the handle");
    assert_eq!(peer.curve_public_key(), Some(client.public()));
    rep.send("ok").unwrap();
    assert_eq!(req.recv_string().unwrap(), "ok");

    // A handle's own authenticator wins over the context's.
    let own = Authenticator::new();
    own.set_handler(|_| ZapReply::deny("not this one"));
    rep.set_authenticator(own).unwrap();
    let late = ctx.socket(SocketType::Req).unwrap();
    let late_events = late.monitor().unwrap();
    late.set_curve_serverkey(server.public()).unwrap();
    late.set_curve_keypair(&client).unwrap();
    late.connect(&ep).unwrap();
    loop {
        match late_events.recv_timeout(Duration::from_secs(10)) {
            Ok(SocketEvent::HandshakeFailedAuth { status, .. }) => {
                assert_eq!(status, ZapStatus::Failure);
                break;
            }
            Ok(_) => continue,
            Err(e) => panic!("no refusal reported: {e}"),
        }
    }
    late.set_linger(Some(Duration::ZERO));
}
