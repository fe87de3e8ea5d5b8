//! The `zeroring perf` tools against libzmq peers: the same arguments and output
//! lines as libzmq's perf/local_thr, remote_lat etc.

mod common;

use common::free_endpoint;

use std::process::{Command, Stdio};
use std::time::Duration;

fn zeroring(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run zeroring")
}

fn finish(child: std::process::Child) -> String {
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "zeroring failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn local_thr_receives_from_a_libzmq_push() {
    let ep = free_endpoint();
    let child = zeroring(&["perf", "local_thr", &ep, "100", "5000"]);
    let ctx = zmq::Context::new();
    let push = ctx.socket(zmq::PUSH).unwrap();
    push.set_linger(5000).unwrap();
    push.connect(&ep).unwrap();
    let body = [1u8; 100];
    for _ in 0..5000 {
        push.send(&body[..], 0).unwrap();
    }
    let out = finish(child);
    assert!(out.contains("message size: 100 [B]"), "{out}");
    assert!(out.contains("message count: 5000"), "{out}");
    assert!(out.contains("[msg/s]") && out.contains("[Mb/s]"), "{out}");
}

#[test]
fn remote_lat_against_a_libzmq_rep() {
    let ep = free_endpoint();
    let ctx = zmq::Context::new();
    let rep = ctx.socket(zmq::REP).unwrap();
    rep.set_rcvtimeo(10_000).unwrap();
    rep.bind(&ep).unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..500 {
            let m = rep.recv_bytes(0).expect("request");
            rep.send(m, 0).unwrap();
        }
    });
    let out = finish(zeroring(&["perf", "remote_lat", &ep, "64", "500"]));
    server.join().unwrap();
    assert!(out.contains("roundtrip count: 500"), "{out}");
    assert!(
        out.contains("average latency:") && out.contains("[us]"),
        "{out}"
    );
}

#[test]
fn local_lat_serves_a_libzmq_req() {
    let ep = free_endpoint();
    let child = zeroring(&["perf", "local_lat", &ep, "32", "200"]);
    let ctx = zmq::Context::new();
    let req = ctx.socket(zmq::REQ).unwrap();
    req.set_rcvtimeo(10_000).unwrap();
    req.connect(&ep).unwrap();
    for _ in 0..200 {
        req.send(&[9u8; 32][..], 0).unwrap();
        assert_eq!(req.recv_bytes(0).unwrap().len(), 32);
    }
    finish(child);
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn bad_arguments_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args(["perf", "local_thr", "tcp://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<SIZE>") && err.contains("<COUNT>"), "{err}");
    assert!(err.contains("Usage: zeroring perf"), "{err}");
}

#[test]
fn remote_thr_feeds_a_libzmq_pull() {
    let ep = free_endpoint();
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).unwrap();
    pull.set_rcvtimeo(10_000).unwrap();
    pull.bind(&ep).unwrap();
    let child = zeroring(&["perf", "remote_thr", &ep, "256", "3000"]);
    for _ in 0..3000 {
        assert_eq!(pull.recv_bytes(0).expect("message").len(), 256);
    }
    finish(child);
}
