//! `zeroring monitor` watching a connection to a pyzmq peer that comes, goes and
//! comes back, run as the built binary.

mod common;

use std::process::Stdio;

use common::{Python, python, zeroring};

/// A pyzmq ROUTER bound to `port` (0: any) that prints its port, then stays until
/// its stdin closes.
fn router(port: &str) -> Python {
    python(
        "import sys, zmq
s = zmq.Context().socket(zmq.ROUTER)
if sys.argv[1] == '0': print(s.bind_to_random_port('tcp://127.0.0.1'), flush=True)
else: s.bind('tcp://127.0.0.1:' + sys.argv[1]); print(sys.argv[1], flush=True)
sys.stdin.readline(); s.close(linger=0)",
        &[port],
    )
}

fn event(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn is(line: &str, name: &str) -> bool {
    event(line)["event"] == name
}

#[test]
fn a_peer_that_comes_and_goes_shows_connects_and_disconnects() {
    let peer = router("0");
    let port = peer.line();
    let ep = format!("tcp://127.0.0.1:{port}");
    let z = zeroring(
        &[
            "monitor",
            &ep,
            "--type",
            "dealer",
            "--json",
            "--reconnect-ivl",
            "50",
        ],
        Stdio::null(),
    );
    let first = z.lines_until(|l| is(l, "HANDSHAKE_SUCCEEDED"));
    assert!(first.iter().any(|l| is(l, "CONNECTED")), "{first:?}");
    assert_eq!(event(&first[0])["endpoint"], ep.as_str(), "{first:?}");

    peer.succeeds(); // closes the ROUTER
    let gone = z.lines_until(|l| is(l, "DISCONNECTED"));
    let last = event(gone.last().unwrap());
    assert!(last["peer"].as_str().unwrap().contains(&port), "{last}");
    assert!(!last["reason"].as_str().unwrap().is_empty(), "{last}");

    let back = router(&port);
    assert_eq!(back.line(), port);
    let again = z.lines_until(|l| is(l, "HANDSHAKE_SUCCEEDED"));
    assert!(again.iter().any(|l| is(l, "CONNECTED")), "{again:?}");
    back.succeeds();
}

#[test]
fn human_text_names_each_event_and_counts_stop_it() {
    let peer = router("0");
    let ep = format!("tcp://127.0.0.1:{}", peer.line());
    let z = zeroring(
        &["monitor", &ep, "--count", "2", "--timeout", "15000"],
        Stdio::null(),
    );
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].contains("CONNECTED") && lines[0].contains(&ep),
        "{lines:?}"
    );
    assert!(lines[1].contains("HANDSHAKE_SUCCEEDED"), "{lines:?}");
    peer.succeeds();
}

#[test]
fn a_bound_monitor_sees_a_peer_of_the_wrong_type_fail_its_handshake() {
    let z = zeroring(
        &[
            "monitor",
            "tcp://127.0.0.1:0",
            "--bind",
            "--type",
            "pull",
            "--json",
            "--timeout",
            "15000",
        ],
        Stdio::null(),
    );
    let ep = z.endpoint("PULL");
    let _pull = python(
        "import sys, time, zmq
s = zmq.Context().socket(zmq.PULL); s.connect(sys.argv[1]); time.sleep(15)",
        &[&ep],
    );
    let lines = z.lines_until(|l| is(l, "HANDSHAKE_FAILED"));
    assert!(is(&lines[0], "LISTENING"), "{lines:?}");
    assert!(lines.iter().any(|l| is(l, "ACCEPTED")), "{lines:?}");
}

#[test]
fn heartbeats_drop_a_peer_that_stops_answering() {
    let peer = router("0");
    let ep = format!("tcp://127.0.0.1:{}", peer.line());
    let z = zeroring(
        &[
            "monitor",
            &ep,
            "--json",
            "--heartbeat-ivl",
            "100",
            "--heartbeat-timeout",
            "300",
            "--reconnect-ivl",
            "60000",
        ],
        Stdio::null(),
    );
    z.lines_until(|l| is(l, "HANDSHAKE_SUCCEEDED"));
    // The peer's process stops: its kernel still holds the connection open, but no
    // PONG comes back.
    let pid = peer.child.id().to_string();
    let stop = std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap();
    assert!(stop.success());
    let lines = z.lines_until(|l| is(l, "DISCONNECTED"));
    std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap();
    let reason = event(lines.last().unwrap())["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("HEARTBEAT_TIMEOUT"), "{reason}");
}
