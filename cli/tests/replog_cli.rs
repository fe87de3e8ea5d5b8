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

/// Resident memory of a process, in bytes.
fn rss(child: &Child) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

fn dropped_for_slow_peers(node: &str) -> u64 {
    ok(&["status", "--node", node])
        .lines()
        .find_map(|l| l.strip_prefix("dropped_for_slow_peers: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("dropped_for_slow_peers in the status")
}

/// A short ZMTP frame.
fn frame(body: &[u8], more: bool) -> Vec<u8> {
    let mut f = vec![u8::from(more), body.len() as u8];
    f.extend_from_slice(body);
    f
}

/// A raw DEALER (blocking TCP) past its handshake, with a receive buffer shrunk so
/// that what the node sends it backs up in the node.
fn raw_dealer(endpoint: &str) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("tcp://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    socket2::SockRef::from(&s)
        .set_recv_buffer_size(4096)
        .unwrap();
    let mut greeting = vec![0u8; 64];
    greeting[0] = 0xFF;
    greeting[9] = 0x7F;
    greeting[10] = 3;
    greeting[11] = 1;
    greeting[12..16].copy_from_slice(b"NULL");
    s.write_all(&greeting).unwrap();
    let mut ready = vec![5u8];
    ready.extend_from_slice(b"READY");
    ready.push(11);
    ready.extend_from_slice(b"Socket-Type");
    ready.extend_from_slice(&6u32.to_be_bytes());
    ready.extend_from_slice(b"DEALER");
    s.write_all(&[0x04, ready.len() as u8]).unwrap();
    s.write_all(&ready).unwrap();
    let mut theirs = [0u8; 64];
    s.read_exact(&mut theirs).unwrap();
    s
}

/// Issue 10, item 3: a client that stores one 8,000-byte value and then asks for it
/// 30,000 times without reading a reply used to pin every reply (SNDHWM 100,000):
/// about 240 MB per client. The node now drops replies to a peer past its byte budget,
/// counts them in its status, and keeps serving its follower and other clients.
#[test]
fn a_client_that_never_reads_its_replies_cannot_pin_the_node() {
    use std::io::Write;
    const GETS: usize = 30_000;
    let (leader_proc, leader) = serve(&["--mode", "inmemory"]);
    let (_follower, follower) = serve(&["--mode", "inmemory", "--follow", &leader]);
    let value = "v".repeat(8_000);
    ok(&["put", "--node", &leader, "big", &value, "--ack", "all"]);
    eventually_get(&follower, "big", &value);
    let before = rss(&leader_proc.0);

    let attackers: Vec<_> = (0..3)
        .map(|_| {
            let mut s = raw_dealer(&leader);
            let get: Vec<u8> =
                [frame(b"", true), frame(b"GET", true), frame(b"big", false)].concat();
            let burst = get.repeat(1000);
            std::thread::spawn(move || {
                for _ in 0..GETS / 1000 {
                    if s.write_all(&burst).is_err() {
                        break;
                    }
                }
                s // kept open, never read
            })
        })
        .collect();
    let attackers: Vec<_> = attackers.into_iter().map(|t| t.join().unwrap()).collect();
    // Wait until the node has answered (or dropped) everything it was asked.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = (dropped_for_slow_peers(&leader), Instant::now());
    while last.1.elapsed() < Duration::from_secs(1) {
        assert!(Instant::now() < deadline, "the node never caught up");
        std::thread::sleep(Duration::from_millis(100));
        let now = dropped_for_slow_peers(&leader);
        if now != last.0 {
            last = (now, Instant::now());
        }
    }
    let grown = rss(&leader_proc.0).saturating_sub(before);
    eprintln!(
        "leader RSS grew by {} MB; {} replies dropped",
        grown >> 20,
        last.0
    );
    assert!(
        last.0 > 0,
        "no reply was dropped for the clients that never read"
    );
    // Three clients, each bounded by the 16 MiB budget (plus what the kernel holds).
    assert!(
        grown < (3 * 32) << 20,
        "three clients that never read grew the leader by {} MB",
        grown >> 20
    );
    // The node keeps serving: a write acknowledged by the follower, and reads.
    ok(&["put", "--node", &leader, "after", "attack", "--ack", "all"]);
    eventually_get(&follower, "after", "attack");
    assert_eq!(ok(&["get", "--node", &leader, "after"]).trim(), "attack");
    drop(attackers);
}
