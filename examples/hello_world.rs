//! Request-reply, the smallest ZeroMQ conversation (zguide chapter 1, "hwserver"
//! and "hwclient" as two threads of one process).
//!
//! What it teaches: a REQ socket and a REP socket take turns. The client must read
//! each reply before it may send its next request, and the server must answer each
//! request before it may read the next one; the sockets enforce that order
//! (`Error::InvalidState` otherwise). The client may connect before or after the
//! server binds: `connect` returns at once and the request waits for the peer.
//!
//! Run it with `cargo run --example hello_world`.

use std::thread;
use std::time::Duration;

use zeroring::{Context, Socket, SocketType};

/// Any failure, from any thread, ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many requests the client sends.
pub const REQUESTS: usize = 10;

/// Answers `REQUESTS` requests with "World".
fn server(rep: &Socket) -> Result<(), BoxError> {
    for _ in 0..REQUESTS {
        let request = rep.recv_string()?;
        println!("server: received {request:?}");
        thread::sleep(Duration::from_millis(10)); // pretend to work on it
        rep.send("World")?;
    }
    Ok(())
}

/// Sends "Hello" `REQUESTS` times and returns the replies.
fn client(req: &Socket) -> Result<Vec<String>, BoxError> {
    let mut replies = Vec::with_capacity(REQUESTS);
    for n in 0..REQUESTS {
        req.send("Hello")?;
        let reply = req.recv_string()?;
        println!("client: request {n} got {reply:?}");
        if reply != "World" {
            return Err(format!("expected \"World\", got {reply:?}").into());
        }
        replies.push(reply);
    }
    Ok(replies)
}

/// Runs the server and the client on two threads; returns the client's replies.
pub fn run() -> Result<Vec<String>, BoxError> {
    let ctx = Context::new()?;
    let rep = ctx.socket(SocketType::Rep)?;
    // Port 0: the system picks a free port; `bind` says which.
    let endpoint = rep.bind("tcp://127.0.0.1:0")?;
    let req = ctx.socket(SocketType::Req)?;
    req.connect(&endpoint.to_string())?;
    // Never wait forever in an example: a lost message becomes an error.
    rep.set_rcvtimeo(Some(Duration::from_secs(10)));
    req.set_rcvtimeo(Some(Duration::from_secs(10)));

    // Sockets are Send + Sync: a scoped thread can use one by reference.
    thread::scope(|s| {
        let server = s.spawn(|| server(&rep));
        let replies = client(&req);
        let served = server.join().map_err(|_| "the server thread panicked")?;
        // The client's error first: it explains a server that then timed out.
        let replies = replies?;
        served?;
        Ok(replies)
    })
}

fn main() -> Result<(), BoxError> {
    let replies = run()?;
    println!("done: {} replies", replies.len());
    Ok(())
}
