//! ZMTP heartbeats (PING/PONG, RFC 37) between zeroring and libzmq, and dead peers.
//!
//! - libzmq pings (HEARTBEAT_IVL 100 ms, HEARTBEAT_TIMEOUT 300 ms) and zeroring
//!   answers: an idle connection survives 1.5 s (five timeouts) without a disconnect
//!   on either side, then traffic still flows. (The `wire` tests show that libzmq
//!   does drop a peer that does not answer, so this is not vacuous.)
//! - zeroring pings (set_heartbeat_ivl) and libzmq answers: the same.
//! - A raw TCP peer that completes the handshake and then goes silent is dropped by
//!   zeroring's heartbeat (peer_count() falls to 0 and the peer sees end-of-file).
//! - A raw peer that announces a TTL in its PING and then goes silent is dropped by
//!   zeroring after the TTL, even without heartbeats of its own; zeroring's PONG
//!   echoes the PING context.

use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroring::DealerSocket;
use zeroring_interop_tests::*;

const IDLE: Duration = Duration::from_millis(1500);

/// Samples `peer_count()` for `IDLE` and fails if the connection ever dropped.
async fn stays_connected(z: &zeroring::SocketBase) {
    let end = Instant::now() + IDLE;
    while Instant::now() < end {
        assert_eq!(z.peer_count(), 1, "the idle connection was dropped");
        compio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs the idle-connection scenario: one message each way, `IDLE` of silence, then
/// one message each way again. The libzmq side watches its monitor for disconnects.
async fn idle_connection(z: DealerSocket, l: zmq::Socket, ctx: zmq::Context, dir: Dir) {
    let monitor = Monitor::new(&ctx, &l);
    link(&z, &l, dir).await;
    let (idle_tx, idle_rx) = mpsc::channel();
    let peer = spawn_peer("libzmq DEALER", move || {
        zsend(&l, &["hello"]);
        assert_eq!(zrecv(&l), parts(&["hello back"]));
        idle_tx.send(()).unwrap();
        let events = monitor.drain(IDLE.as_millis() as i64);
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, zmq::SocketEvent::DISCONNECTED | zmq::SocketEvent::CLOSED)),
            "libzmq saw the connection drop while idle: {events:?}"
        );
        assert_eq!(zrecv(&l), parts(&["after idle"]));
        zsend(&l, &["still alive"]);
        let late = monitor.drain(0);
        assert!(!late.contains(&zmq::SocketEvent::DISCONNECTED), "{late:?}");
    });
    assert_eq!(frames(&ok("recv", z.recv()).await), parts(&["hello"]));
    ok("send", z.send("hello back")).await;
    recv_chan(&idle_rx, "libzmq reached the idle phase").await;
    stays_connected(&z).await;
    ok("send", z.send("after idle")).await;
    assert_eq!(frames(&ok("recv", z.recv()).await), parts(&["still alive"]));
    assert_eq!(z.peer_count(), 1);
    peer.join().await;
}

both_dirs! {
    libzmq_pings_zeroring_answers => libzmq_pings;
    zeroring_pings_libzmq_answers => zeroring_pings;
}

async fn libzmq_pings(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    l.set_heartbeat_ivl(100).unwrap();
    l.set_heartbeat_timeout(300).unwrap();
    let z = DealerSocket::new();
    idle_connection(z, l, ctx, dir).await;
}

async fn zeroring_pings(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    let z = DealerSocket::new();
    z.set_heartbeat_ivl(Some(Duration::from_millis(100)))
        .unwrap();
    z.set_heartbeat_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    z.set_heartbeat_ttl(Some(Duration::from_millis(500)))
        .unwrap();
    idle_connection(z, l, ctx, dir).await;
}

/// Both sides ping at once.
#[compio::test]
async fn both_sides_ping() {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    l.set_heartbeat_ivl(100).unwrap();
    l.set_heartbeat_timeout(300).unwrap();
    l.set_heartbeat_ttl(1000).unwrap();
    let z = DealerSocket::new();
    z.set_heartbeat_ivl(Some(Duration::from_millis(70)))
        .unwrap();
    z.set_heartbeat_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    idle_connection(z, l, ctx, Dir::ZeroringBinds).await;
}

/// A raw TCP server completes the handshake as a DEALER and then never answers.
/// zeroring, pinging every 100 ms with a 300 ms timeout, closes the connection.
#[compio::test]
async fn zeroring_drops_a_silent_peer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let z = DealerSocket::new();
    z.set_heartbeat_ivl(Some(Duration::from_millis(100)))
        .unwrap();
    z.set_heartbeat_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // Do not come back during the test.
    z.set_reconnect_ivl(Some(Duration::from_secs(30))).unwrap();
    ok("connect", z.connect(&format!("tcp://{addr}"))).await;
    let peer = spawn_peer("silent raw peer", move || {
        let (mut s, _) = listener.accept().unwrap();
        raw::handshake_on(&mut s, "DEALER");
        let start = Instant::now();
        // Never answer; just read until zeroring hangs up.
        let seen = raw::frames_until_eof(&mut s);
        (seen, start.elapsed())
    });
    wait_peers(&z, 1).await;
    let attached = Instant::now();
    wait_until(
        "zeroring drops the silent peer",
        Duration::from_secs(3),
        || z.peer_count() == 0,
    )
    .await;
    let after = attached.elapsed();
    let (seen, eof_after) = peer.join().await;
    assert!(!seen.is_empty(), "zeroring sent PINGs");
    for (flags, body) in &seen {
        assert_eq!(*flags, 0x04, "only commands were sent");
        assert_eq!(&body[..5], b"\x04PING", "only PINGs were sent: {body:?}");
    }
    assert!(
        after >= Duration::from_millis(250) && after < Duration::from_secs(2),
        "dropped after {after:?}"
    );
    assert!(
        eof_after < Duration::from_secs(2),
        "EOF after {eof_after:?}"
    );
}

/// A raw peer pings once with a TTL of 0.3 s and context "ctx-42", then goes
/// silent. zeroring (no heartbeats of its own) answers with PONG "ctx-42" and
/// closes the connection once the TTL has passed without traffic.
#[compio::test]
async fn zeroring_honours_the_ttl_of_a_peer_ping() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let z = DealerSocket::new();
    z.set_reconnect_ivl(Some(Duration::from_secs(30))).unwrap();
    ok("connect", z.connect(&format!("tcp://{addr}"))).await;
    let peer = spawn_peer("raw peer with TTL", move || {
        use std::io::Write;
        let (mut s, _) = listener.accept().unwrap();
        raw::handshake_on(&mut s, "DEALER");
        s.write_all(&raw::ping(3, b"ctx-42")).unwrap();
        let start = Instant::now();
        let seen = raw::frames_until_eof(&mut s);
        (seen, start.elapsed())
    });
    let (seen, eof_after) = peer.join().await;
    assert_eq!(
        seen,
        vec![(0x04, b"\x04PONGctx-42".to_vec())],
        "exactly one PONG echoing the context"
    );
    assert!(
        eof_after >= Duration::from_millis(250) && eof_after < Duration::from_secs(2),
        "closed {eof_after:?} after the PING with TTL 300 ms"
    );
    wait_peers(&z, 0).await;
}
