//! The socket-type clients (`zeroring pull`, `req`, `sub`, `router`, ...) against
//! pyzmq (libzmq) peers, run as the built binary.
//!
//! A Python peer that sends and exits terminates its context (`ctx.term()`): only
//! that waits for LINGER; a process that just ends may cut the connection before
//! its messages are out.

mod common;

use std::process::Stdio;

use common::{converse, python, zeroring};

#[test]
fn pull_prints_what_a_pyzmq_push_sends() {
    let z = zeroring(
        &[
            "pull",
            "--bind",
            "tcp://127.0.0.1:0",
            "--count",
            "3",
            "--timeout",
            "15000",
        ],
        Stdio::null(),
    );
    let ep = z.endpoint("PULL");
    python(
        "import sys, zmq
ctx = zmq.Context(); s = ctx.socket(zmq.PUSH); s.connect(sys.argv[1])
s.send(b'one'); s.send_multipart([b'two', b'\\x00\\x01']); s.send(b'three')
s.close(linger=5000); ctx.term()",
        &[&ep],
    )
    .succeeds();
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(lines, ["one", "two|0x0001", "three"]);
}

#[test]
fn req_talks_to_a_pyzmq_rep() {
    let rep = python(
        "import zmq
s = zmq.Context().socket(zmq.REP); s.rcvtimeo = 15000
print(s.bind_to_random_port('tcp://127.0.0.1'), flush=True)
for _ in range(2):
    s.send_multipart([f.upper() for f in s.recv_multipart()])",
        &[],
    );
    let ep = format!("tcp://127.0.0.1:{}", rep.line());
    let lines = converse(
        &["req", "--connect", &ep, "--multipart", "--timeout", "15000"],
        "hello\nmulti|part\n",
    );
    assert_eq!(lines, ["HELLO", "MULTI|PART"]);
    rep.succeeds();
}

#[test]
fn sub_receives_its_topics_from_a_pyzmq_pub() {
    let z = zeroring(
        &[
            "sub",
            "--bind",
            "tcp://127.0.0.1:0",
            "--subscribe",
            "weather",
            "--count",
            "2",
            "--json",
            "--timeout",
            "15000",
        ],
        Stdio::null(),
    );
    let ep = z.endpoint("SUB");
    // The publisher repeats until the subscriber has what it wants (slow joiner).
    let _publisher = python(
        "import sys, time, zmq
s = zmq.Context().socket(zmq.PUB); s.connect(sys.argv[1])
end = time.time() + 15
while time.time() < end:
    s.send_multipart([b'sports', b'0:1']); s.send_multipart([b'weather', b'sunny'])
    time.sleep(0.02)",
        &[&ep],
    );
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(lines, [r#"{"frames":["weather","sunny"]}"#; 2]);
}

#[test]
fn router_prints_a_pyzmq_dealers_identity_as_json() {
    let z = zeroring(
        &[
            "router",
            "--bind",
            "tcp://127.0.0.1:0",
            "--json",
            "--count",
            "2",
            "--timeout",
            "15000",
        ],
        Stdio::null(),
    );
    let ep = z.endpoint("ROUTER");
    python(
        "import sys, zmq
ctx = zmq.Context(); s = ctx.socket(zmq.DEALER); s.setsockopt(zmq.IDENTITY, b'client-7')
s.connect(sys.argv[1])
s.send(b'hi'); s.send_multipart([b'', b'\\xff\\x00'])
s.close(linger=5000); ctx.term()",
        &[&ep],
    )
    .succeeds();
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(
        lines,
        [
            r#"{"frames":["hi"],"routing_id":"client-7"}"#,
            r#"{"frames":["",{"hex":"ff00"}],"routing_id":"client-7"}"#,
        ]
    );
}

#[test]
fn dealer_with_an_identity_gets_a_pyzmq_routers_reply() {
    let router = python(
        "import zmq
s = zmq.Context().socket(zmq.ROUTER); s.rcvtimeo = 15000
print(s.bind_to_random_port('tcp://127.0.0.1'), flush=True)
ident, body = s.recv_multipart()
assert ident == b'd-1', ident
s.send_multipart([ident, b'pong:' + body])",
        &[],
    );
    let ep = format!("tcp://127.0.0.1:{}", router.line());
    let lines = converse(
        &[
            "dealer",
            "--connect",
            &ep,
            "--identity",
            "d-1",
            "--count",
            "1",
            "--timeout",
            "15000",
        ],
        "ping\n",
    );
    assert_eq!(lines, ["pong:ping"]);
    router.succeeds();
}

#[test]
fn push_sends_hex_and_files_to_a_pyzmq_pull() {
    let pull = python(
        "import zmq
s = zmq.Context().socket(zmq.PULL); s.rcvtimeo = 15000
print(s.bind_to_random_port('tcp://127.0.0.1'), flush=True)
for _ in range(2):
    print(' '.join(f.hex() for f in s.recv_multipart()), flush=True)",
        &[],
    );
    let ep = format!("tcp://127.0.0.1:{}", pull.line());
    converse(
        &[
            "push",
            "--connect",
            &ep,
            "--hex",
            "--multipart",
            "--separator",
            ",",
        ],
        "00ff,\n41 \n",
    );
    assert_eq!(pull.line(), "00ff ");
    assert_eq!(pull.line(), "41");
    pull.succeeds();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("blob");
    std::fs::write(&file, b"\x00two\nlines\n").unwrap();
    let pull = python(
        "import zmq
s = zmq.Context().socket(zmq.PULL); s.rcvtimeo = 15000
print(s.bind_to_random_port('tcp://127.0.0.1'), flush=True)
print(s.recv().hex(), flush=True)",
        &[],
    );
    let ep = format!("tcp://127.0.0.1:{}", pull.line());
    let z = zeroring(
        &["push", "--connect", &ep, "--file", file.to_str().unwrap()],
        Stdio::null(),
    );
    let (ok, _, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(
        pull.line(),
        b"\x00two\nlines\n"
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    pull.succeeds();
}

/// A REP on a free port that answers one request with itself.
const ECHO_ONCE: &[&str] = &[
    "rep",
    "--bind",
    "tcp://127.0.0.1:0",
    "--echo",
    "--count",
    "1",
    "--timeout",
    "15000",
];

#[test]
fn rep_echoes_to_a_pyzmq_req() {
    let z = zeroring(ECHO_ONCE, Stdio::null());
    let ep = z.endpoint("REP");
    python(
        "import sys, zmq
s = zmq.Context().socket(zmq.REQ); s.rcvtimeo = 15000; s.connect(sys.argv[1])
s.send_multipart([b'a', b'b'])
assert s.recv_multipart() == [b'a', b'b']",
        &[&ep],
    )
    .succeeds();
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(lines, ["a|b"]);
}

#[test]
fn a_timeout_fails_and_says_so() {
    let z = zeroring(
        &["pull", "--bind", "tcp://127.0.0.1:0", "--timeout", "200"],
        Stdio::null(),
    );
    let (ok, lines, err) = z.finish();
    assert!(!ok);
    assert!(lines.is_empty(), "{lines:?}");
    assert!(
        err.contains("no message arrived within 200 ms (--timeout)"),
        "{err}"
    );
}

#[test]
fn a_send_nobody_takes_fails_after_the_timeout_instead_of_hanging() {
    // Nothing listens on port 1: the connect never completes.
    let mut z = zeroring(
        &["push", "--connect", "tcp://127.0.0.1:1", "--timeout", "300"],
        Stdio::piped(),
    );
    z.type_in("lost\n");
    let started = std::time::Instant::now();
    let (ok, _, err) = z.finish();
    assert!(!ok);
    assert!(
        err.contains("no peer took a message within 300 ms"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn flags_a_socket_type_would_ignore_are_refused() {
    for (args, needle) in [
        (
            &["push", "--bind", "tcp://127.0.0.1:0", "--subscribe", "a"][..],
            "--subscribe applies to SUB and XSUB",
        ),
        (&["sub", "--bind", "tcp://127.0.0.1:0"], "--subscribe TOPIC"),
        (&["pull"], "needs an endpoint"),
        (
            &[
                "dealer",
                "--bind",
                "tcp://127.0.0.1:0",
                "--router-mandatory",
            ],
            "--router-mandatory applies to ROUTER",
        ),
        (
            &["pull", "--bind", "tcp://127.0.0.1:0", "--echo"],
            "--echo applies to REP",
        ),
    ] {
        let (ok, _, err) = zeroring(args, Stdio::null()).finish();
        assert!(!ok, "{args:?} succeeded");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// libzmq's CURVE test keys (tests/testutil_security.cpp).
const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

#[test]
fn curve_client_and_server_against_pyzmq() {
    // zeroring as the CURVE client (its key pair made on the spot) of a pyzmq server.
    let rep = python(
        "import sys, zmq
s = zmq.Context().socket(zmq.REP); s.rcvtimeo = 15000
s.curve_server = True; s.curve_secretkey = sys.argv[1].encode()
print(s.bind_to_random_port('tcp://127.0.0.1'), flush=True)
s.send(b'secret:' + s.recv())",
        &[SERVER_SECRET],
    );
    let ep = format!("tcp://127.0.0.1:{}", rep.line());
    let lines = converse(
        &[
            "req",
            "--connect",
            &ep,
            "--curve-server-key",
            SERVER_PUBLIC,
            "--timeout",
            "15000",
        ],
        "hi\n",
    );
    assert_eq!(lines, ["secret:hi"]);
    rep.succeeds();

    // zeroring as the CURVE server of a pyzmq client.
    let z = zeroring(
        &[
            ECHO_ONCE,
            &["--curve-server", "--curve-secret-key", SERVER_SECRET],
        ]
        .concat(),
        Stdio::null(),
    );
    let ep = z.endpoint("REP");
    python(
        "import sys, zmq
s = zmq.Context().socket(zmq.REQ); s.rcvtimeo = 15000
pub, sec = zmq.curve_keypair()
s.curve_publickey = pub; s.curve_secretkey = sec; s.curve_serverkey = sys.argv[2].encode()
s.connect(sys.argv[1]); s.send(b'over curve')
assert s.recv() == b'over curve'",
        &[&ep, SERVER_PUBLIC],
    )
    .succeeds();
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    assert_eq!(lines, ["over curve"]);
}

#[test]
fn xpub_prints_a_pyzmq_subscription_and_pair_talks_both_ways() {
    let z = zeroring(
        &[
            "xpub",
            "--bind",
            "tcp://127.0.0.1:0",
            "--count",
            "1",
            "--timeout",
            "15000",
        ],
        Stdio::null(),
    );
    let ep = z.endpoint("XPUB");
    let sub = python(
        "import sys, zmq
s = zmq.Context().socket(zmq.SUB); s.subscribe(b'news'); s.connect(sys.argv[1])
sys.stdin.readline()",
        &[&ep],
    );
    let (ok, lines, err) = z.finish();
    assert!(ok, "{err}");
    // A subscription is the byte 1 and the topic: not printable, so hex.
    assert_eq!(lines, ["0x016e657773"]);
    sub.succeeds();

    let pair = python(
        "import zmq
s = zmq.Context().socket(zmq.PAIR); s.rcvtimeo = 15000
print(s.bind_to_random_port('tcp://127.0.0.1'), flush=True)
s.send(b'from python ' + s.recv())",
        &[],
    );
    let ep = format!("tcp://127.0.0.1:{}", pair.line());
    let lines = converse(
        &[
            "pair",
            "--connect",
            &ep,
            "--count",
            "1",
            "--timeout",
            "15000",
        ],
        "zeroring\n",
    );
    assert_eq!(lines, ["from python zeroring"]);
    pair.succeeds();
}
