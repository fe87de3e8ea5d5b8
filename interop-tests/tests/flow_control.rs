//! Back-pressure between zeroring and libzmq: a fast sender and a receiver that
//! starts late, with small high-water marks on both sides. Nothing is lost,
//! duplicated or reordered, and neither side deadlocks when the TCP buffers and
//! both queues are full (zeroring pauses reading at RCVHWM and waits in send at
//! SNDHWM).

use std::time::Duration;

use zeroring::{PullSocket, PushSocket};
use zeroring_interop_tests::*;

const COUNT: usize = 20_000;
const SIZE: usize = 1024;

fn item(i: usize) -> Vec<u8> {
    let mut b = body(SIZE, i as u8);
    b[..8].copy_from_slice(&(i as u64).to_be_bytes());
    b
}

fn seq(b: &[u8]) -> usize {
    u64::from_be_bytes(b[..8].try_into().unwrap()) as usize
}

both_dirs! {
    zeroring_push_floods_slow_libzmq_pull => push_to_slow_pull;
    libzmq_push_floods_slow_zeroring_pull => pull_slowly_from_push;
}

async fn push_to_slow_pull(dir: Dir) {
    let ctx = zmq::Context::new();
    let pull = zsocket(&ctx, zmq::PULL);
    pull.set_rcvhwm(10).unwrap();
    let push = PushSocket::new();
    push.set_sndhwm(Some(100)).unwrap();
    link(&push, &pull, dir).await;
    let peer = spawn_peer("slow libzmq PULL", move || {
        std::thread::sleep(Duration::from_millis(200));
        for i in 0..COUNT {
            let m = zrecv(&pull);
            assert_eq!(m.len(), 1);
            assert_eq!(seq(&m[0]), i, "in order, nothing lost");
            assert!(m[0] == item(i), "content of {i}");
        }
    });
    for i in 0..COUNT {
        ok("PUSH send", push.send(item(i))).await;
    }
    peer.join().await;
}

async fn pull_slowly_from_push(dir: Dir) {
    let ctx = zmq::Context::new();
    let push = zsocket(&ctx, zmq::PUSH);
    push.set_sndhwm(100).unwrap();
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(10)).unwrap();
    link(&pull, &push, dir).await;
    let peer = spawn_peer("fast libzmq PUSH", move || {
        for i in 0..COUNT {
            zsend(&push, &[item(i)]);
        }
    });
    compio::time::sleep(Duration::from_millis(200)).await;
    for i in 0..COUNT {
        let m = ok("PULL recv", pull.recv()).await;
        assert_eq!(seq(&m[0]), i, "in order, nothing lost");
        assert!(m[0] == item(i), "content of {i}");
    }
    peer.join().await;
}

/// Messages still queued in zeroring when the socket is closed reach a slow libzmq
/// receiver: `close().await` returns once they are delivered (default LINGER).
#[compio::test]
async fn zeroring_close_delivers_queued_messages() {
    const QUEUED: usize = 5_000;
    let ctx = zmq::Context::new();
    let pull = zsocket(&ctx, zmq::PULL);
    pull.set_rcvhwm(10).unwrap();
    let push = PushSocket::new();
    push.set_sndhwm(None).unwrap();
    link(&push, &pull, Dir::LibzmqBinds).await;
    wait_peers(&push, 1).await;
    let peer = spawn_peer("slow libzmq PULL", move || {
        std::thread::sleep(Duration::from_millis(200));
        for i in 0..QUEUED {
            assert_eq!(seq(&zrecv(&pull)[0]), i);
        }
        znothing(&pull, 50);
    });
    for i in 0..QUEUED {
        ok("PUSH send", push.send(item(i))).await;
    }
    within("close() delivering queued messages", push.close()).await;
    peer.join().await;
}
