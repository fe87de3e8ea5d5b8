//! The `zeroring log` commands against node processes on loopback, with a CURVE
//! cluster key: writes and reads with the key or an admitted client key, refusal
//! without one, a node joined as a learner and promoted, leadership handed to it, a
//! founding node removed.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::free_endpoint;

fn zeroring(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args(args)
        .output()
        .expect("run zeroring")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a client command until it succeeds (an election may be under way).
fn ok(args: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = zeroring(args);
        if out.status.success() {
            return text(&out);
        }
        assert!(
            Instant::now() < deadline,
            "zeroring {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn serve(dir: &Path, id: u64, peers: &str, key: &str, join: bool) -> Child {
    let client = Path::new(key).with_file_name("client");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zeroring"));
    cmd.args(["log", "serve", "--id", &id.to_string(), "--peers", peers])
        .arg("--dir")
        .arg(dir.join(format!("n{id}")))
        .args([
            "--mode",
            "buffered",
            "--cluster-key-file",
            key,
            "--client-keys",
        ])
        .arg(&client)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if join {
        cmd.arg("--join");
    }
    cmd.spawn().expect("run zeroring log serve")
}

#[test]
fn cluster_commands_with_a_cluster_key() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cluster");
    let out = zeroring(&["curve", "keygen", "--out", cert.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let key = format!("{}_secret", cert.display());
    let client_cert = dir.path().join("client");
    let out = zeroring(&["curve", "keygen", "--out", client_cert.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let eps: Vec<String> = (0..4).map(|_| free_endpoint()).collect();
    let founders = format!("1={},2={},3={}", eps[0], eps[1], eps[2]);
    let mut nodes = Nodes(Vec::new());
    for id in 1..=3 {
        nodes.0.push(serve(dir.path(), id, &founders, &key, false));
    }
    let all = format!("{},{},{}", eps[0], eps[1], eps[2]);
    let k = ["--cluster-key-file", key.as_str()];
    let with_key = |args: &[&str]| -> String {
        let mut v: Vec<&str> = args.to_vec();
        v.extend(k);
        ok(&v)
    };
    assert!(with_key(&["log", "put", "--node", &all, "colour", "blue"]).starts_with("index "));
    assert_eq!(
        with_key(&["log", "get", "--node", &all, "colour"]),
        "blue\n"
    );
    // A client with its own admitted key.
    let own = format!("{}_secret", client_cert.display());
    let cluster_public = cert.to_str().unwrap();
    let with_own = ok(&[
        "log",
        "get",
        "--node",
        &all,
        "colour",
        "--client-key-file",
        &own,
        "--cluster-public-key",
        cluster_public,
    ]);
    assert_eq!(with_own, "blue\n");
    // Without a key the nodes refuse the connection: the client gets no answer.
    let refused = zeroring(&["log", "get", "--node", &all, "colour", "--timeout", "1500"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no answer"),
        "{refused:?}"
    );
    // Node 4 joins as a learner, catches up, becomes a voter and the leader.
    let with4 = format!("{founders},4={}", eps[3]);
    nodes.0.push(serve(dir.path(), 4, &with4, &key, true));
    with_key(&[
        "log",
        "members",
        "add",
        "--node",
        &all,
        "4",
        &eps[3],
        "--learner",
    ]);
    let list = with_key(&["log", "members", "list", "--node", &eps[0]]);
    assert!(list.contains(&format!("4 {} learner", eps[3])), "{list}");
    with_key(&["log", "members", "add", "--node", &all, "4", &eps[3]]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        with_key(&["log", "transfer-leader", "--node", &all, "4"]);
        std::thread::sleep(Duration::from_millis(500));
        let status = with_key(&["log", "status", "--node", &eps[3]]);
        if status.starts_with("node 4 (leader)") {
            break;
        }
        assert!(Instant::now() < deadline, "node 4 never led: {status}");
    }
    assert_eq!(
        with_key(&["log", "get", "--node", &eps[3], "colour", "--stale"]),
        "blue\n"
    );
    with_key(&["log", "members", "remove", "--node", &eps[3], "1"]);
    let list = with_key(&["log", "members", "list", "--node", &eps[3]]);
    assert!(!list.contains(&eps[0]), "{list}");
    assert!(list.contains(&format!("4 {} voter", eps[3])), "{list}");
    with_key(&["log", "put", "--node", &eps[3], "colour", "green"]);
    assert_eq!(
        with_key(&["log", "get", "--node", &eps[1], "colour"]),
        "green\n"
    );
}
