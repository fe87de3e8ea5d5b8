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
async fn pushing_to_nobody(reconnect_ivl: Option<Duration>) -> (PushSocket, Monitor, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let push = PushSocket::new();
    push.set_reconnect_ivl(reconnect_ivl).unwrap();
    let m = push.monitor();
    push.connect(&format!("tcp://127.0.0.1:{port}"))
        .await
        .unwrap();
    (push, m, port)
}

#[compio::test]
async fn refused_connects_are_reported_and_retried() {
    let (_push, m, _) = pushing_to_nobody(Some(Duration::from_millis(20))).await;
    for _ in 0..2 {
        expect(&m, "retry", |e| {
            matches!(e, SocketEvent::ConnectRetried { .. })
        })
        .await;
    }
}

/// RECONNECT_IVL off (libzmq's -1): a refused connect is not retried, so a listener
/// that appears afterwards never hears from the socket, and no retry is reported.
#[compio::test]
async fn with_reconnect_off_a_refused_connect_is_not_retried() {
    let (push, m, port) = pushing_to_nobody(None).await;
    compio::time::sleep(Duration::from_millis(100)).await;
    let late = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    late.set_nonblocking(true).unwrap();
    // With RECONNECT_IVL at its default (100 ms) the PUSH would have connected
    // within this time (see refused_connects_are_reported_and_retried).
    compio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        late.accept().is_err(),
        "the PUSH reconnected with RECONNECT_IVL off"
    );
    while let Some(e) = m.try_recv() {
        assert!(
            !matches!(e, SocketEvent::ConnectRetried { .. }),
            "a retry was reported: {e}"
        );
    }
    assert_eq!(push.peer_count(), 0);
}

/// RECONNECT_IVL off: a connection that ends is not made again, even when the
/// endpoint is back.
#[compio::test]
async fn with_reconnect_off_an_ended_connection_stays_down() {
    let pull = PullSocket::new();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let push = PushSocket::new();
    push.set_reconnect_ivl(None).unwrap();
    let m = push.monitor();
    push.connect(&ep).await.unwrap();
    push.send("one").await.unwrap();
    assert_eq!(&pull.recv().await.unwrap()[0][..], b"one");
    pull.close().await;
    drop(pull);
    expect(&m, "disconnect", |e| {
        matches!(e, SocketEvent::Disconnected { .. })
    })
    .await;
    let again = PullSocket::new();
    assert_eq!(again.bind(&ep).await.unwrap().to_string(), ep);
    compio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        again.peer_count(),
        0,
        "the PUSH reconnected with RECONNECT_IVL off"
    );
    assert!(matches!(
        push.try_send("two").await,
        Err(zeroring::Error::WouldBlock(_))
    ));
}

#[compio::test]
async fn a_zero_reconnect_interval_is_refused() {
    let push = PushSocket::new();
    let e = push.set_reconnect_ivl(Some(Duration::ZERO)).unwrap_err();
    assert!(e.to_string().contains("RECONNECT_IVL"), "{e}");
}

#[compio::test]
async fn a_monitor_that_is_not_read_stays_bounded() {
    let (_push, m, _) = pushing_to_nobody(Some(Duration::from_millis(1))).await;
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
