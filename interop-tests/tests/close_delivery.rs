//! `close()` delivers what was queued, on every transport, to libzmq receivers that
//! read slower than we send: a zeroring PUSH connected to a pyzmq or libzmq PULL
//! held at its RCVHWM (1000, the default) sends 5,000 messages of 100 bytes and
//! closes; every message must arrive, over tcp and over ipc.
//!
//! Closing a Unix socket at once raises POLLHUP on the other side, and libzmq then
//! drops what it has not read yet; zeroring half-closes after the last byte and
//! waits for the peer to close its side (within LINGER) before it lets go.

use std::process::Child;
use std::time::Duration;

use compio::time::timeout;
use zeroring::PushSocket;
use zeroring_interop_tests::*;

const MESSAGES: usize = 5_000;
const SIZE: usize = 100;
const LIMIT: Duration = Duration::from_secs(30);

/// A pyzmq PULL that binds `endpoint` (tcp port 0 is resolved and printed), waits
/// so that the sender fills its RCVHWM, then reads everything until 3 s of silence
/// and prints the count.
fn pyzmq_pull(endpoint: &str) -> (Child, String) {
    let script = "import sys, time, zmq\n\
        ctx = zmq.Context()\n\
        s = ctx.socket(zmq.PULL)\n\
        s.bind(sys.argv[1])\n\
        print(s.getsockopt(zmq.LAST_ENDPOINT).decode(), flush=True)\n\
        time.sleep(1.0)\n\
        s.RCVTIMEO = 3000\n\
        n = 0\n\
        try:\n    \
            while True:\n        \
                m = s.recv()\n        \
                assert len(m) == int(sys.argv[2]), len(m)\n        \
                n += 1\n        \
                if n % 500 == 0:\n            time.sleep(0.01)\n\
        except zmq.Again:\n    pass\n\
        print(n, flush=True)\n";
    let mut child = python_script(script, &[endpoint, &SIZE.to_string()]);
    let bound = first_line(&mut child);
    (child, bound)
}

async fn python_count(mut child: Child) -> usize {
    timeout(LIMIT, async {
        while child.try_wait().expect("wait").is_none() {
            compio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("pyzmq PULL did not finish");
    });
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "pyzmq PULL failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the count of received messages")
}

/// Sends everything, then closes and waits for the close to finish.
async fn send_and_close(endpoint: &str) {
    let push = PushSocket::new();
    push.connect(endpoint).await.unwrap();
    let body = vec![7u8; SIZE];
    for _ in 0..MESSAGES {
        timeout(LIMIT, push.send(body.clone()))
            .await
            .expect("send")
            .unwrap();
    }
    timeout(LIMIT, push.close())
        .await
        .expect("close() delivers within the time limit");
}

async fn to_pyzmq(endpoint: &str) {
    let (child, bound) = pyzmq_pull(endpoint);
    send_and_close(&bound).await;
    let got = python_count(child).await;
    assert_eq!(
        got, MESSAGES,
        "pyzmq PULL at {bound} received {got} of {MESSAGES}"
    );
}

#[compio::test]
async fn close_delivers_everything_to_a_slow_pyzmq_pull_over_ipc() {
    let ep = ipc_endpoint("close-py");
    to_pyzmq(&ep).await;
    let _ = std::fs::remove_file(ep.trim_start_matches("ipc://"));
}

#[compio::test]
async fn close_delivers_everything_to_a_slow_pyzmq_pull_over_tcp() {
    to_pyzmq("tcp://127.0.0.1:*").await;
}

/// The same with the libzmq the `zmq` crate builds, on a thread of this process.
async fn to_libzmq(endpoint: &str) {
    let ctx = zmq::Context::new();
    let pull = zsocket(&ctx, zmq::PULL);
    let bound = zbind(&pull, endpoint);
    let peer = spawn_peer("libzmq PULL", move || {
        std::thread::sleep(Duration::from_secs(1));
        pull.set_rcvtimeo(3000).unwrap();
        let mut n = 0;
        while let Ok(m) = pull.recv_bytes(0) {
            assert_eq!(m.len(), SIZE);
            n += 1;
            if n % 500 == 0 {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        n
    });
    send_and_close(&bound).await;
    let got = peer.join().await;
    assert_eq!(
        got, MESSAGES,
        "libzmq PULL at {bound} received {got} of {MESSAGES}"
    );
}

#[compio::test]
async fn close_delivers_everything_to_a_slow_libzmq_pull_over_ipc() {
    let ep = ipc_endpoint("close-lz");
    to_libzmq(&ep).await;
    let _ = std::fs::remove_file(ep.trim_start_matches("ipc://"));
}

#[compio::test]
async fn close_delivers_everything_to_a_slow_libzmq_pull_over_tcp() {
    to_libzmq("tcp://127.0.0.1:*").await;
}
