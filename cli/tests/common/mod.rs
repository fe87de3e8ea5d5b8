//! Helpers shared by the CLI's integration tests.

use std::net::TcpListener;

/// A loopback TCP endpoint on a port that was free a moment ago.
pub fn free_endpoint() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("tcp://127.0.0.1:{port}")
}
