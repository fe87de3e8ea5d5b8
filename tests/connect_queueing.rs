//! libzmq's default (ZMQ_IMMEDIATE off): a connect() creates the peer slot at once,
//! so messages queue before the connection exists and across reconnections.

use std::time::Duration;

use compio::time::timeout;
use zeroring::{Error, PullSocket, PushSocket, RepSocket, ReqSocket};

const WAIT: Duration = Duration::from_secs(10);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[compio::test]
async fn push_queues_before_the_peer_binds() {
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let push = PushSocket::new();
    push.set_sndtimeo(Some(Duration::ZERO));
    push.connect(&ep).await.unwrap();
    for i in 0..5 {
        push.send(format!("early {i}")).await.unwrap();
    }
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    for i in 0..5 {
        let m = timeout(WAIT, pull.recv()).await.unwrap().unwrap();
        assert_eq!(m[0], format!("early {i}"));
    }
}

#[compio::test]
async fn pending_slot_respects_sndhwm() {
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let push = PushSocket::new();
    push.set_sndhwm(Some(3)).unwrap();
    push.set_sndtimeo(Some(Duration::ZERO));
    push.connect(&ep).await.unwrap();
    for _ in 0..3 {
        push.send("x").await.unwrap();
    }
    assert!(matches!(push.send("x").await, Err(Error::Timeout(_))));
}

#[compio::test]
async fn bound_socket_without_peers_still_waits() {
    let push = PushSocket::new();
    push.bind("tcp://127.0.0.1:0").await.unwrap();
    push.set_sndtimeo(Some(Duration::from_millis(50)));
    assert!(matches!(push.send("x").await, Err(Error::Timeout(_))));
}

#[compio::test]
async fn queued_messages_survive_a_peer_restart() {
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep).await.unwrap();
    push.send("before").await.unwrap();
    assert_eq!(
        timeout(WAIT, pull.recv()).await.unwrap().unwrap()[0],
        "before"
    );
    pull.close().await;
    drop(pull);
    // While the peer is down, sends queue in the connect() slot.
    compio::time::sleep(Duration::from_millis(50)).await;
    push.set_sndtimeo(Some(Duration::ZERO));
    for i in 0..3 {
        push.send(format!("while down {i}")).await.unwrap();
    }
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    for i in 0..3 {
        let m = timeout(WAIT, pull.recv()).await.unwrap().unwrap();
        assert_eq!(m[0], format!("while down {i}"));
    }
}

#[compio::test]
async fn req_sent_before_bind_gets_its_reply() {
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let req = ReqSocket::new();
    req.connect(&ep).await.unwrap();
    req.send("early request").await.unwrap();
    let rep = RepSocket::new();
    rep.bind(&ep).await.unwrap();
    let m = timeout(WAIT, rep.recv()).await.unwrap().unwrap();
    rep.send(m).await.unwrap();
    let r = timeout(WAIT, req.recv()).await.unwrap().unwrap();
    assert_eq!(r[0], "early request");
}

#[compio::test]
async fn immediate_waits_for_a_real_connection() {
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let push = PushSocket::new();
    push.set_immediate(true);
    push.set_sndtimeo(Some(Duration::from_millis(50)));
    push.connect(&ep).await.unwrap();
    assert!(matches!(push.send("x").await, Err(Error::Timeout(_))));
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    push.set_sndtimeo(Some(WAIT));
    push.send("after").await.unwrap();
    assert_eq!(
        timeout(WAIT, pull.recv()).await.unwrap().unwrap()[0],
        "after"
    );
}

#[compio::test]
async fn close_delivers_what_was_queued_before_the_connection() {
    // connect, send, close: like libzmq with the default infinite LINGER, the
    // message still goes out once the peer shows up.
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let push = PushSocket::new();
    push.set_reconnect_ivl(Some(Duration::from_millis(10)))
        .unwrap();
    push.connect(&ep).await.unwrap();
    push.send("queued before any peer").await.unwrap();
    let ep2 = ep.clone();
    let closing = compio::runtime::spawn(async move {
        push.close().await;
    });
    compio::time::sleep(Duration::from_millis(100)).await;
    assert!(!closing.is_finished(), "close() must wait for delivery");
    let pull = PullSocket::new();
    pull.bind(&ep2).await.unwrap();
    let m = timeout(WAIT, pull.recv()).await.unwrap().unwrap();
    assert_eq!(m[0], "queued before any peer");
    timeout(WAIT, closing).await.unwrap().unwrap();
}

#[compio::test]
async fn close_gives_up_on_an_absent_peer_after_linger() {
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let push = PushSocket::new();
    push.set_linger(Some(Duration::from_millis(100)));
    push.connect(&ep).await.unwrap();
    push.send("nobody will take this").await.unwrap();
    timeout(WAIT, push.close())
        .await
        .expect("close() returns once LINGER expired");
}

#[compio::test]
async fn close_with_linger_zero_drops_unconnected_messages_at_once() {
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let push = PushSocket::new();
    push.set_linger(Some(Duration::ZERO));
    push.connect(&ep).await.unwrap();
    push.send("dropped").await.unwrap();
    timeout(WAIT, push.close()).await.expect("prompt close");
}
