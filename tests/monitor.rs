//! Monitor events: the application sees listening, accepted, connected, handshake
//! outcomes (with the reason on failure), disconnections (with the reason) and
//! closed endpoints.

use std::io::Write;
use std::time::Duration;

use compio::time::timeout;
use zeroring::{CloseReason, DisconnectReason, Monitor, PullSocket, PushSocket, SocketEvent};

const WAIT: Duration = Duration::from_secs(10);

/// Waits for the first event matching `pred`, skipping others.
async fn expect(monitor: &Monitor, what: &str, pred: impl Fn(&SocketEvent) -> bool) -> SocketEvent {
    timeout(WAIT, async {
        loop {
            let e = monitor.recv().await;
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} event"))
}

#[compio::test]
async fn lifecycle_of_a_good_connection() {
    let pull = PullSocket::new();
    let pm = pull.monitor();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let e = expect(&pm, "listening", |e| {
        matches!(e, SocketEvent::Listening { .. })
    })
    .await;
    assert_eq!(
        e,
        SocketEvent::Listening {
            endpoint: ep.clone()
        }
    );

    let push = PushSocket::new();
    let qm = push.monitor();
    push.connect(&ep).await.unwrap();
    expect(&qm, "connected", |e| {
        matches!(e, SocketEvent::Connected { .. })
    })
    .await;
    expect(&qm, "handshake", |e| {
        matches!(e, SocketEvent::HandshakeSucceeded { .. })
    })
    .await;
    expect(&pm, "accepted", |e| {
        matches!(e, SocketEvent::Accepted { .. })
    })
    .await;
    expect(&pm, "handshake", |e| {
        matches!(e, SocketEvent::HandshakeSucceeded { .. })
    })
    .await;

    push.close().await;
    let e = expect(&pm, "disconnected", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    })
    .await;
    let SocketEvent::Disconnected { reason, .. } = e else {
        unreachable!()
    };
    // The PUSH closed after delivering everything: the PULL saw it close.
    assert_eq!(
        reason,
        DisconnectReason::Session(CloseReason::PeerClosed),
        "{reason}"
    );

    pull.unbind(&ep).unwrap();
    expect(&pm, "closed", |e| matches!(e, SocketEvent::Closed { .. })).await;
}

#[compio::test]
async fn handshake_failure_carries_the_reason() {
    let pull = PullSocket::new();
    let pm = pull.monitor();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let addr = ep.to_string().trim_start_matches("tcp://").to_string();
    let raw = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        let _ = s.write_all(b"GET / HTTP/1.1\r\n\r\n");
        std::thread::sleep(Duration::from_millis(200));
    });
    let e = expect(&pm, "handshake failed", |e| {
        matches!(e, SocketEvent::HandshakeFailed { .. })
    })
    .await;
    let SocketEvent::HandshakeFailed { reason, .. } = e else {
        unreachable!()
    };
    assert!(
        matches!(
            reason.session(),
            Some(CloseReason::Protocol(
                zeroring::zmtp::ZmtpError::BadSignature { .. }
            ))
        ),
        "{reason}"
    );
    assert!(reason.to_string().contains("greeting"), "{reason}");
    raw.join().unwrap();
}

/// A PUSH (with its monitor) connecting to a port where nothing listens.
async fn pushing_to_nobody(reconnect_ivl: Duration) -> (PushSocket, Monitor) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let push = PushSocket::new();
    push.set_reconnect_ivl(reconnect_ivl);
    let m = push.monitor();
    push.connect(&format!("tcp://127.0.0.1:{port}"))
        .await
        .unwrap();
    (push, m)
}

#[compio::test]
async fn refused_connects_are_reported_and_retried() {
    let (_push, m) = pushing_to_nobody(Duration::from_millis(20)).await;
    for _ in 0..2 {
        expect(&m, "retry", |e| {
            matches!(e, SocketEvent::ConnectRetried { .. })
        })
        .await;
    }
}

#[compio::test]
async fn a_monitor_that_is_not_read_stays_bounded() {
    let (_push, m) = pushing_to_nobody(Duration::from_millis(1)).await;
    timeout(WAIT, async {
        while m.dropped() == 0 {
            compio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("events should overflow the bounded queue");
    let mut n = 0;
    while m.try_recv().is_some() {
        n += 1;
    }
    assert!(n <= zeroring::MONITOR_CAPACITY, "{n}");
}
