//! zguide patterns from `examples/` with a pyzmq (libzmq 4.3) peer on one side:
//! the Lazy Pirate client against a flaky pyzmq REP server, and a pyzmq worker
//! behind the load-balancing broker.
//!
//! The zeroring side runs with a `Context` that is dropped before any assertion:
//! dropping a `Socket` while a panic unwinds aborts the process (compio's task
//! wake-up from another thread aborts when the waking thread is panicking).

use std::process::Child;
use std::thread;
use std::time::Duration;

use zeroring::{Context, SocketType};
use zeroring_interop_tests::{first_line, python_script};

#[allow(dead_code)]
#[path = "../../examples/lazy_pirate.rs"]
mod lazy_pirate;
#[allow(dead_code)]
#[path = "../../examples/load_balancing_broker.rs"]
mod load_balancing_broker;

/// Waits for the Python peer (its sockets time out on their own) and returns
/// what it printed after its first line.
fn finish(child: Child) -> String {
    let out = child.wait_with_output().expect("the python peer's output");
    assert!(
        out.status.success(),
        "python peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The Lazy Pirate server in Python: echoes requests, answers `SLOW/1` late,
/// crashes on `CRASH/1` (closes its socket, binds the same port again a moment
/// later) and exits on any attempt of `LAST`.
const FLAKY_REP: &str = r#"
import sys, time, zmq
slow, crash, last = sys.argv[1] + "/1", sys.argv[2] + "/1", sys.argv[3] + "/"
timeout = float(sys.argv[4])
ctx = zmq.Context()
def rep():
    s = ctx.socket(zmq.REP)
    s.RCVTIMEO = 20000
    s.LINGER = 0
    return s
s = rep()
port = s.bind_to_random_port("tcp://127.0.0.1")
print(port, flush=True)
answered = 0
while True:
    request = s.recv().decode()
    if request.startswith(last):
        break
    if request == crash:
        s.close()
        time.sleep(timeout / 2)
        s = rep()
        s.bind("tcp://127.0.0.1:%d" % port)
        continue
    if request == slow:
        time.sleep(timeout * 1.5)
    s.send(request.encode())
    answered += 1
print("answered", answered, flush=True)
"#;

fn lazy_pirate_against_pyzmq(strategy: lazy_pirate::Strategy) {
    use lazy_pirate::{CRASH, LAST, REQUESTS, SLOW, TIMEOUT};
    let args = [SLOW, CRASH, LAST].map(|n| n.to_string());
    let timeout = TIMEOUT.as_secs_f64().to_string();
    let mut child = python_script(FLAKY_REP, &[&args[0], &args[1], &args[2], &timeout]);
    let endpoint = format!("tcp://127.0.0.1:{}", first_line(&mut child));

    let r = {
        let ctx = Context::new().unwrap();
        lazy_pirate::client(&ctx, &endpoint, strategy).map_err(|e| e.to_string())
    };
    let r = r.unwrap();
    let expected: Vec<u64> = (1..=REQUESTS).collect();
    let seqs: Vec<u64> = (r.replies.iter())
        .map(|reply| reply.split_once('/').unwrap().0.parse().unwrap())
        .collect();
    assert_eq!(seqs, expected, "{r:?}");
    assert!(r.retries >= 2, "the late answer and the crash: {r:?}");
    assert_eq!(r.abandoned, Some(LAST), "{r:?}");
    assert_eq!(r.stale, 0, "{r:?}");
    // The late answer to SLOW/1 went out too, and was not taken.
    let answered = REQUESTS as usize + 1;
    let printed = finish(child);
    assert!(
        printed.contains(&format!("answered {answered}")),
        "{printed}"
    );
}

#[test]
fn lazy_pirate_fresh_socket_client_against_pyzmq_rep() {
    lazy_pirate_against_pyzmq(lazy_pirate::Strategy::FreshSocket);
}

#[test]
fn lazy_pirate_relaxed_client_against_pyzmq_rep() {
    lazy_pirate_against_pyzmq(lazy_pirate::Strategy::Relaxed);
}

/// A pyzmq REQ worker for the load-balancing broker: READY, then `n` requests.
const PY_WORKER: &str = r#"
import sys, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.REQ)
s.RCVTIMEO = 20000
s.connect(sys.argv[1])
print("connected", flush=True)
s.send(b"READY")
for _ in range(int(sys.argv[2])):
    client, empty, request = s.recv_multipart()
    s.send_multipart([client, empty, request + b": done by worker py"])
print("served", sys.argv[2], flush=True)
"#;

#[test]
fn pyzmq_worker_behind_the_load_balancing_broker() {
    use load_balancing_broker::{REQUESTS, broker, client, reply_to};
    const CLIENTS: usize = 2;
    let ctx = Context::new().unwrap();
    let frontend = ctx.socket(SocketType::Router).unwrap();
    let frontend_at = frontend.bind("tcp://127.0.0.1:0").unwrap().to_string();
    let backend = ctx.socket(SocketType::Router).unwrap();
    let backend_at = backend.bind("tcp://127.0.0.1:0").unwrap().to_string();
    let total = (CLIENTS * REQUESTS).to_string();
    let mut worker = python_script(PY_WORKER, &[&backend_at, &total]);
    assert_eq!(first_line(&mut worker), "connected");

    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let req = ctx.socket(SocketType::Req).unwrap();
            req.set_rcvtimeo(Some(Duration::from_secs(20)));
            req.connect(&frontend_at).unwrap();
            thread::spawn(move || client(id, &req).map_err(|e| e.to_string()))
        })
        .collect();
    let brokered = broker(&frontend, &backend, 1, CLIENTS * REQUESTS).map_err(|e| e.to_string());
    let replies: Vec<_> = clients.into_iter().map(|c| c.join()).collect();
    drop((frontend, backend, ctx));

    brokered.unwrap();
    for (id, replies) in replies.into_iter().enumerate() {
        let expected: Vec<String> = (0..REQUESTS)
            .map(|n| reply_to(&format!("client {id} request {n}"), "py"))
            .collect();
        assert_eq!(replies.unwrap().unwrap(), expected);
    }
    assert!(finish(worker).contains(&format!("served {total}")));
}
