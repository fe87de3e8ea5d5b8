//! A libzmq server that requires CURVE or PLAIN closes a NULL client's connection
//! without a word, right after its greeting's first bytes, so the mechanism it
//! wanted is never seen. zeroring's handshake failure says what probably happened
//! (a security mechanism mismatch) instead of only "peer closed the connection".

use std::process::Child;
use std::time::Duration;

use compio::time::timeout;
use zeroring::{ReqSocket, SocketEvent};
use zeroring_interop_tests::{first_line, python_script};

/// A pyzmq REP bound with `setup` applied (a security mechanism), kept open for a
/// while; returns the process and its endpoint.
fn secured_rep(setup: &str) -> (Child, String) {
    let script = format!(
        "import time, zmq\n\
         ctx = zmq.Context()\n\
         s = ctx.socket(zmq.REP)\n\
         {setup}\n\
         port = s.bind_to_random_port('tcp://127.0.0.1')\n\
         print(port, flush=True)\n\
         time.sleep(8)\n"
    );
    let mut child = python_script(&script, &[]);
    let port = first_line(&mut child);
    (child, format!("tcp://127.0.0.1:{port}"))
}

async fn first_handshake_failure(endpoint: &str) -> String {
    let req = ReqSocket::new();
    let monitor = req.monitor();
    req.connect(endpoint).await.unwrap();
    let reason = timeout(Duration::from_secs(10), async {
        loop {
            if let SocketEvent::HandshakeFailed { reason, .. } = monitor.recv().await {
                return reason.to_string();
            }
        }
    })
    .await
    .expect("no handshake failure reported");
    req.set_linger(Some(Duration::ZERO));
    req.close().await;
    reason
}

#[compio::test]
async fn curve_server_refusing_null_is_reported_as_a_mechanism_mismatch() {
    let (mut child, ep) = secured_rep(
        "public, secret = zmq.curve_keypair()\n\
         s.curve_secretkey = secret\n\
         s.curve_publickey = public\n\
         s.curve_server = True",
    );
    let reason = first_handshake_failure(&ep).await;
    let _ = child.kill();
    assert!(
        reason.contains("security mechanism mismatch"),
        "reason does not point at the mechanism: {reason:?}"
    );
}

#[compio::test]
async fn plain_server_refusing_null_is_reported_as_a_mechanism_mismatch() {
    let (mut child, ep) = secured_rep("s.plain_server = True");
    let reason = first_handshake_failure(&ep).await;
    let _ = child.kill();
    assert!(
        reason.contains("security mechanism mismatch"),
        "reason does not point at the mechanism: {reason:?}"
    );
}
