//! `zeroring proxy` with pyzmq clients through it, steered by `zeroring proxy
//! control` and by commands typed on its stdin, run as the built binary.

mod common;

use std::process::{Command, Stdio};

use common::{python, zeroring};

/// Runs `zeroring proxy control EP COMMAND ARGS...` and returns its stdout.
fn control(ep: &str, command: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args(["proxy", "control", ep, command])
        .args(args)
        .output()
        .expect("run zeroring proxy control");
    assert!(
        out.status.success(),
        "proxy control {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn broker_between_pyzmq_req_and_rep_steered_from_the_shell() {
    let z = zeroring(
        &[
            "proxy",
            "broker",
            "--frontend",
            "tcp://127.0.0.1:0",
            "--backend",
            "@tcp://127.0.0.1:0",
            "--control",
            "tcp://127.0.0.1:0",
        ],
        Stdio::null(),
    );
    let front = z.endpoint("frontend ROUTER");
    let back = z.endpoint("backend DEALER");
    let ctl = z.endpoint("control REP");
    let worker = python(
        "import sys, zmq
s = zmq.Context().socket(zmq.REP); s.rcvtimeo = 15000; s.connect(sys.argv[1])
while True:
    try: m = s.recv()
    except zmq.Again: break
    s.send(b're:' + m)",
        &[&back],
    );
    let mut client = python(
        "import sys, zmq
s = zmq.Context().socket(zmq.REQ); s.rcvtimeo = 15000; s.connect(sys.argv[1])
for line in sys.stdin:
    n = int(line)
    for i in range(n):
        s.send(b'%d' % i); print(s.recv().decode(), flush=True)",
        &[&front],
    );
    client.tell("3");
    assert_eq!(
        [client.line(), client.line(), client.line()],
        ["re:0", "re:1", "re:2"]
    );

    let stats: serde_json::Value =
        serde_json::from_str(control(&ctl, "statistics", &["--json"]).trim()).unwrap();
    assert_eq!(stats["frontend"]["received_messages"], 3, "{stats}");
    assert_eq!(stats["frontend"]["sent_messages"], 3, "{stats}");
    assert_eq!(stats["backend"]["received_messages"], 3, "{stats}");
    assert_eq!(stats["backend"]["sent_messages"], 3, "{stats}");
    // ROUTER -> DEALER: the request carries the REQ envelope (routing id, empty
    // delimiter) on the way in; bytes counted are the frames' sum.
    assert!(stats["frontend"]["received_bytes"].as_u64().unwrap() >= 3);

    assert_eq!(control(&ctl, "pause", &[]).trim(), "PAUSE: ok");
    client.tell("1");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let paused = control(&ctl, "statistics", &[]);
    assert!(
        paused.starts_with("frontend: received 3 messages"),
        "paused but forwarded: {paused}"
    );
    assert_eq!(control(&ctl, "resume", &[]).trim(), "RESUME: ok");
    assert_eq!(client.line(), "re:0");

    assert_eq!(control(&ctl, "terminate", &[]).trim(), "TERMINATE: ok");
    let (ok, _, err) = z.finish();
    assert!(ok, "{err}");
    drop(worker);
}

#[test]
fn streamer_with_capture_and_stdin_commands() {
    let mut z = zeroring(
        &[
            "proxy",
            "streamer",
            "-f",
            "tcp://127.0.0.1:0",
            "-B",
            "tcp://127.0.0.1:0",
            "--capture",
            "tcp://127.0.0.1:0",
            "--capture-type",
            "push",
        ],
        Stdio::piped(),
    );
    let front = z.endpoint("frontend PULL");
    let back = z.endpoint("backend PUSH");
    let capture = z.endpoint("capture PUSH");
    let pull = "import sys, zmq
s = zmq.Context().socket(zmq.PULL); s.rcvtimeo = 15000; s.connect(sys.argv[1])
for _ in range(3): print(s.recv().decode(), flush=True)";
    let worker = python(pull, &[&back]);
    let tap = python(pull, &[&capture]);
    let sender = python(
        "import sys, zmq
s = zmq.Context().socket(zmq.PUSH); s.connect(sys.argv[1])
for m in (b'a', b'bb', b'ccc'): s.send(m)
sys.stdin.readline(); s.close(linger=5000)",
        &[&front],
    );
    for p in [&worker, &tap] {
        assert_eq!([p.line(), p.line(), p.line()], ["a", "bb", "ccc"]);
    }
    z.type_in("stats\n");
    assert_eq!(
        z.line(),
        "frontend: received 3 messages (6 B), sent 0 messages (0 B); \
         backend: received 0 messages (0 B), sent 3 messages (6 B)"
    );
    z.type_in("bogus\nterminate\n");
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 1, "the final statistics: {lines:?}");
    assert!(
        lines[0].starts_with("frontend: received 3 messages"),
        "{lines:?}"
    );
    assert!(err.contains("unknown command \"bogus\""), "{err}");
    sender.succeeds();
}

#[test]
fn forwarder_between_pyzmq_pub_and_sub() {
    let z = zeroring(
        &[
            "proxy",
            "forwarder",
            "-f",
            "tcp://127.0.0.1:0",
            "-B",
            "tcp://127.0.0.1:0",
        ],
        Stdio::null(),
    );
    let front = z.endpoint("frontend XSUB");
    let back = z.endpoint("backend XPUB");
    let subscriber = python(
        "import sys, zmq
s = zmq.Context().socket(zmq.SUB); s.rcvtimeo = 15000; s.subscribe(b'news'); s.connect(sys.argv[1])
print(s.recv_multipart()[1].decode(), flush=True)",
        &[&back],
    );
    // The subscription travels upstream through the proxy; the publisher repeats
    // until it has.
    let _publisher = python(
        "import sys, time, zmq
s = zmq.Context().socket(zmq.PUB); s.connect(sys.argv[1])
end = time.time() + 15
while time.time() < end:
    s.send_multipart([b'sport', b'no']); s.send_multipart([b'news', b'yes']); time.sleep(0.02)",
        &[&front],
    );
    assert_eq!(subscriber.line(), "yes");
    subscriber.succeeds();
    drop(z);
}
