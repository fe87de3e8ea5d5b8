//! Multipart messages and frame sizes against libzmq, in both directions: empty
//! frames anywhere in a message (also right after a REQ/REP delimiter), bodies at the
//! short/long frame boundary (255 and 256 bytes), around zeroring's copy/zero-copy
//! threshold and read chunk, and 1 MiB; plus a stream of many small messages of
//! varying size, where both sides batch frames into few writes.

use zeroring::{DealerSocket, PairSocket, RepSocket, ReqSocket, RouterSocket};
use zeroring_interop_tests::*;

/// Frame sizes: empty, the 1-byte/8-byte size boundary, zeroring's 8 KiB copy
/// threshold, its 64 KiB read chunk, and 1 MiB.
const SIZES: [usize; 12] = [
    0,
    1,
    254,
    255,
    256,
    257,
    8191,
    8192,
    65535,
    65536,
    65537,
    1 << 20,
];

fn empty_frame_messages() -> Vec<Vec<Vec<u8>>> {
    vec![
        parts(&["", "a", "", ""]),
        parts(&[""]),
        parts(&["", ""]),
        parts(&["a", ""]),
        parts(&["", "", "", "", "b"]),
    ]
}

both_dirs! {
    empty_frames_zeroring_to_libzmq => empty_frames_out;
    empty_frames_libzmq_to_zeroring => empty_frames_in;
    sizes_zeroring_to_libzmq => sizes_out;
    sizes_libzmq_to_zeroring => sizes_in;
    stream_zeroring_to_libzmq => stream_out;
    stream_libzmq_to_zeroring => stream_in;
}

async fn empty_frames_out(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    let z = DealerSocket::new();
    link(&z, &l, dir).await;
    let peer = spawn_peer("libzmq DEALER", move || {
        zrecv_all(&l, empty_frame_messages());
        znothing(&l, 50);
    });
    send_all(&z, empty_frame_messages()).await;
    peer.join().await;
}

async fn empty_frames_in(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    let z = DealerSocket::new();
    link(&z, &l, dir).await;
    let peer = spawn_peer("libzmq DEALER", move || {
        zsend_all(&l, empty_frame_messages());
    });
    recv_all(&z, empty_frame_messages()).await;
    peer.join().await;
}

/// Single-frame messages of every size, then one message holding all of them.
fn size_messages() -> Vec<Vec<Vec<u8>>> {
    let mut all: Vec<Vec<Vec<u8>>> = SIZES
        .iter()
        .enumerate()
        .map(|(i, &n)| vec![body(n, i as u8)])
        .collect();
    all.push(
        SIZES
            .iter()
            .enumerate()
            .map(|(i, &n)| body(n, 100 + i as u8))
            .collect(),
    );
    all
}

fn check_sizes(got: &[Vec<u8>], want: &[Vec<u8>]) {
    assert_eq!(got.len(), want.len(), "frame count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "size of frame {i}");
        assert!(g == w, "content of frame {i} ({} bytes) differs", w.len());
    }
}

async fn sizes_out(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::PAIR);
    let z = PairSocket::new();
    link(&z, &l, dir).await;
    let peer = spawn_peer("libzmq PAIR", move || {
        for want in size_messages() {
            check_sizes(&zrecv(&l), &want);
        }
        zsend(&l, &["done"]);
    });
    send_all(&z, size_messages()).await;
    assert_eq!(frames(&ok("PAIR recv", z.recv()).await), parts(&["done"]));
    peer.join().await;
}

async fn sizes_in(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::PAIR);
    let z = PairSocket::new();
    link(&z, &l, dir).await;
    let peer = spawn_peer("libzmq PAIR", move || {
        zsend_all(&l, size_messages());
        assert_eq!(zrecv(&l), parts(&["done"]));
    });
    for want in size_messages() {
        let got = ok("PAIR recv", z.recv()).await;
        check_sizes(&frames(&got), &want);
    }
    ok("PAIR send", z.send("done")).await;
    peer.join().await;
}

const STREAM: usize = 3000;

fn stream_message(i: usize) -> Vec<Vec<u8>> {
    let n = i % 300;
    if i.is_multiple_of(7) {
        vec![body(n, i as u8), vec![], body(i % 13, 7)]
    } else {
        vec![body(n, i as u8)]
    }
}

async fn stream_out(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    let z = DealerSocket::new();
    link(&z, &l, dir).await;
    let peer = spawn_peer("libzmq DEALER", move || {
        zrecv_all(&l, (0..STREAM).map(stream_message));
    });
    send_all(&z, (0..STREAM).map(stream_message)).await;
    peer.join().await;
}

async fn stream_in(dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    let z = DealerSocket::new();
    link(&z, &l, dir).await;
    let peer = spawn_peer("libzmq DEALER", move || {
        zsend_all(&l, (0..STREAM).map(stream_message));
    });
    recv_all(&z, (0..STREAM).map(stream_message)).await;
    peer.join().await;
}

/// A request body that starts (and ends) with empty frames.
fn empty_frames_request(_: usize) -> Vec<Vec<u8>> {
    parts(&["", "a", "", ""])
}

/// A reply body that starts (and ends) with an empty frame.
fn empty_frames_reply(_: usize) -> Vec<Vec<u8>> {
    parts(&["", "b", ""])
}

/// REQ and REP find the envelope delimiter correctly when the body itself starts
/// with empty frames: zeroring REQ to libzmq REP and back.
#[compio::test]
async fn req_rep_bodies_with_empty_frames_zeroring_req() {
    let ctx = zmq::Context::new();
    let rep = zsocket(&ctx, zmq::REP);
    let req = ReqSocket::new();
    link(&req, &rep, Dir::LibzmqBinds).await;
    let peer = spawn_peer("libzmq REP", move || {
        zserve(&rep, 1, empty_frames_request, empty_frames_reply);
    });
    request_each(&req, 1, empty_frames_request, empty_frames_reply).await;
    peer.join().await;
}

/// The same with libzmq REQ and zeroring REP.
#[compio::test]
async fn req_rep_bodies_with_empty_frames_zeroring_rep() {
    let ctx = zmq::Context::new();
    let req = zsocket(&ctx, zmq::REQ);
    let rep = RepSocket::new();
    link(&rep, &req, Dir::ZeroringBinds).await;
    let peer = spawn_peer("libzmq REQ", move || {
        zrequest(&req, 1, empty_frames_request, empty_frames_reply);
    });
    serve_each(&rep, 1, empty_frames_request, empty_frames_reply).await;
    peer.join().await;
}

/// A zeroring ROUTER relays 1 MiB bodies and empty frames both ways with a libzmq
/// DEALER.
#[compio::test]
async fn router_large_and_empty_frames() {
    let ctx = zmq::Context::new();
    let dealer = zsocket(&ctx, zmq::DEALER);
    dealer.set_identity(b"big").unwrap();
    let router = RouterSocket::new();
    link(&router, &dealer, Dir::ZeroringBinds).await;
    let big = body(1 << 20, 9);
    let big2 = big.clone();
    let peer = spawn_peer("libzmq DEALER", move || {
        zsend(&dealer, &[&big2[..], b"", b"tail"]);
        assert_eq!(zrecv(&dealer), vec![vec![], big2.clone(), vec![]]);
    });
    let m = frames(&ok("ROUTER recv", router.recv()).await);
    assert_eq!(m.len(), 4);
    assert_eq!(m[0], b"big");
    assert!(m[1] == big, "1 MiB body intact");
    assert_eq!(m[2..], parts(&["", "tail"])[..]);
    let reply = vec![b"big".to_vec(), vec![], big, vec![]];
    ok("ROUTER send", router.send(reply)).await;
    peer.join().await;
}
