//! How close() ends a connection: after the last queued byte, zeroring shuts its
//! sending side and keeps the connection until the peer closes its side or has
//! taken every byte; LINGER bounds the wait. A peer that keeps its side open does
//! not hold close() up once it has everything, and one that never reads is let go
//! when LINGER expires.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use zeroring_sockets::{DisconnectReason, PushSocket, SocketEvent};

use common::*;

/// Frames of `n` short data messages with bodies "m0", "m1", ...
fn expected_frames(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| data_frame(format!("m{i}").as_bytes(), false))
        .collect()
}

async fn disconnect_reason(monitor: &zeroring_sockets::Monitor) -> DisconnectReason {
    within("a Disconnected event", async {
        loop {
            if let SocketEvent::Disconnected { reason, .. } = monitor.recv().await {
                return reason;
            }
        }
    })
    .await
}

#[compio::test]
async fn close_delivers_and_returns_while_the_peer_keeps_its_side_open() {
    let watch = panic_watch();
    let push = PushSocket::new();
    let monitor = push.monitor();
    let ep = push.bind(ANY).await.unwrap();
    // A raw PULL that reads everything and never closes its side by itself.
    let raw = raw_peer(
        addr(&ep),
        vec![Step::Send(handshake("PULL")), Step::ReadHandshake],
        Duration::from_secs(3),
    );
    wait_until("raw peer attached", || push.peer_count() == 1).await;
    for i in 0..100 {
        push.send(format!("m{i}")).await.unwrap();
    }
    within("close() returns once the peer has everything", push.close()).await;
    assert_eq!(
        disconnect_reason(&monitor).await,
        DisconnectReason::Delivered
    );
    let outcome = join(raw).await;
    assert_eq!(outcome.ending, Ending::Eof, "the raw peer saw end-of-file");
    let data = &outcome.received[outcome.received.len() - expected_frames(100).len()..];
    assert_eq!(
        data,
        &expected_frames(100)[..],
        "every message arrived, in order"
    );
    watch.assert_none();
}

#[compio::test]
async fn linger_lets_go_of_a_peer_that_never_reads() {
    let watch = panic_watch();
    let push = PushSocket::new();
    push.set_linger(Some(Duration::from_millis(200)));
    push.set_sndhwm(None).unwrap();
    let monitor = push.monitor();
    let ep = push.bind(ANY).await.unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let raw = raw_peer(
        addr(&ep),
        vec![
            Step::Send(handshake("PULL")),
            Step::ReadHandshake,
            // Reads nothing more until close() has returned.
            Step::WaitFor(release.clone()),
        ],
        Duration::from_secs(1),
    );
    wait_until("raw peer attached", || push.peer_count() == 1).await;
    let body = vec![1u8; 64 * 1024];
    for _ in 0..256 {
        push.send(body.clone()).await.unwrap();
    }
    within("close() returns when LINGER expires", push.close()).await;
    release.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        disconnect_reason(&monitor).await,
        DisconnectReason::LingerExpired
    );
    let outcome = join(raw).await;
    assert!(
        outcome.closed(),
        "the connection was closed: {:?}",
        outcome.ending
    );
    watch.assert_none();
}
