//! `zeroring log ...` end to end: a leader and a follower process started with
//! `log serve`, driven with `log put|get|delete|status|promote|follow`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn serve(args: &[&str]) -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args(["log", "serve", "--bind", "tcp://127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line
        .strip_prefix("listening on ")
        .expect(&line)
        .trim()
        .to_owned();
    (Server(child), endpoint)
}

fn log(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .arg("log")
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = log(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Polls `log get` on `node` until it prints `want`.
fn eventually_get(node: &str, key: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = log(&["get", "--node", node, key]);
        if out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{key} never became {want} on {node}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn leader_and_follower_processes() {
    let dir = tempfile::tempdir().unwrap();
    let leader_dir = dir.path().join("leader");
    let (_leader, leader) = serve(&["--mode", "buffered", "--dir", leader_dir.to_str().unwrap()]);
    let follower_dir = dir.path().join("follower");
    let (_follower, follower) = serve(&[
        "--mode",
        "strict",
        "--dir",
        follower_dir.to_str().unwrap(),
        "--follow",
        &leader,
    ]);
    let out = ok(&[
        "put",
        "--node",
        &leader,
        "colour",
        "blue",
        "--ack",
        "all",
        "--durable",
    ]);
    assert!(out.starts_with("offset "), "{out}");
    assert_eq!(ok(&["get", "--node", &leader, "colour"]).trim(), "blue");
    eventually_get(&follower, "colour", "blue");
    // A follower refuses writes and names its leader.
    let refused = log(&["put", "--node", &follower, "k", "v"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not the leader"));
    // Missing keys fail with a message.
    let missing = log(&["get", "--node", &leader, "nope"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no such key"));
    let status = ok(&["status", "--node", &leader]);
    assert!(status.contains("role: leader"), "{status}");
    assert!(status.contains("follower "), "{status}");
    // Manual failover: promote the follower, point the old leader at it.
    assert_eq!(ok(&["promote", "--node", &follower]).trim(), "epoch 2");
    ok(&["follow", "--node", &leader, "--leader", &follower]);
    ok(&["put", "--node", &follower, "colour", "green"]);
    eventually_get(&leader, "colour", "green");
    ok(&["delete", "--node", &follower, "colour"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while log(&["get", "--node", &leader, "colour"]).status.success() {
        assert!(Instant::now() < deadline, "delete never replicated");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = ok(&["status", "--node", &leader]);
    assert!(status.contains("role: follower of"), "{status}");
    assert!(status.contains("epoch: 2"), "{status}");
}

#[test]
fn bad_arguments_are_explained() {
    let out = log(&["serve", "--bind", "tcp://127.0.0.1:0", "--mode", "strict"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dir"));
    let out = log(&["put", "--node", "tcp://127.0.0.1:1", "only-key"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEY VALUE"));
    let out = log(&["serve", "--bind", "tcp://127.0.0.1:0", "--mode", "fast"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown durability mode"));
    let out = log(&[
        "serve",
        "--bind",
        "tcp://127.0.0.1:0",
        "--mode",
        "inmemory",
        "--dir",
        "x",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("keeps no files"));
}
