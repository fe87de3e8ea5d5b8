//! Lazy Pirate: reliability on the client side alone (zguide chapter 4, "lpclient"
//! and "lpserver" as two threads of one process).
//!
//! What it teaches:
//! - A plain REQ client waits forever for a reply that a crashed or overloaded
//!   server will never send. The client instead waits at most `TIMEOUT` (RCVTIMEO),
//!   sends the request again, and after `RETRIES` attempts gives up on the server.
//! - A REQ socket that timed out is stuck: it refuses to send before it has
//!   received. There are two ways out, both shown here ([`Strategy`]): close it
//!   (with LINGER 0, so the unanswered request is thrown away) and open a fresh
//!   socket, as the zguide does; or set REQ_RELAXED, which lets a REQ send again,
//!   together with REQ_CORRELATE, which drops a late reply to an earlier attempt.
//! - Either way the reply the client takes is the one to its latest attempt:
//!   each request here says which attempt it is, and the server echoes it. Like
//!   the zguide's client, this one still checks each reply, and skips a late
//!   reply to an earlier attempt rather than take it for the answer.
//! - The server side needs nothing special: it is a plain REP socket. This one
//!   answers the request `SLOW` late (overloaded), crashes on `CRASH` (closes its
//!   socket and comes back on the same endpoint a moment later), and dies for good
//!   on `LAST`, where the client gives up.
//!
//! Run it with `cargo run --example lazy_pirate`.

use std::thread;
use std::time::Duration;

use zeroring::{Context, Error, Socket, SocketType};

/// Any failure, from any thread, ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the client waits for a reply before it tries again.
pub const TIMEOUT: Duration = Duration::from_millis(300);
/// Attempts per request before the client abandons the server.
pub const RETRIES: usize = 3;
/// Requests the server answers, one way or another.
pub const REQUESTS: u64 = 10;
/// The server answers this request's first attempt after 1.5 `TIMEOUT`: after
/// the client has asked again, and before that second attempt times out.
pub const SLOW: u64 = 3;
/// The server crashes on this request's first attempt and restarts.
pub const CRASH: u64 = 6;
/// The server dies for good on this request.
pub const LAST: u64 = REQUESTS + 1;

/// How the client recovers from a timeout.
#[derive(Clone, Copy, Debug)]
pub enum Strategy {
    /// Close the REQ socket and open a new one.
    FreshSocket,
    /// One REQ socket with REQ_RELAXED and REQ_CORRELATE.
    Relaxed,
}

/// What the client got.
#[derive(Debug)]
pub struct Report {
    /// The replies, one per request in order, each "sequence/attempt".
    pub replies: Vec<String>,
    /// Requests sent again after a timeout.
    pub retries: usize,
    /// Late replies to earlier attempts that reached the client and were skipped.
    pub stale: usize,
    /// The request the client gave up on, if it did.
    pub abandoned: Option<u64>,
}

/// A REQ socket connected to `endpoint`, ready for `strategy`.
fn open(ctx: &Context, endpoint: &str, strategy: Strategy) -> Result<Socket, BoxError> {
    let req = ctx.socket(SocketType::Req)?;
    req.set_rcvtimeo(Some(TIMEOUT));
    // On close, drop whatever is still queued instead of waiting to deliver it.
    req.set_linger(Some(Duration::ZERO));
    if let Strategy::Relaxed = strategy {
        req.set_req_relaxed(true);
        req.set_req_correlate(true);
    }
    req.connect(endpoint)?;
    Ok(req)
}

/// Waits for the reply to `request` (attempt `n` of request `seq`, "seq/n") and
/// adds it to the report; false if none came within `TIMEOUT`. A late reply to
/// an earlier attempt of the same request is counted and skipped.
fn receive_reply(
    req: &Socket,
    seq: u64,
    request: &str,
    report: &mut Report,
) -> Result<bool, BoxError> {
    loop {
        match req.recv_string() {
            Ok(reply) if reply == request => {
                report.replies.push(reply);
                return Ok(true);
            }
            Ok(reply) if reply.starts_with(&format!("{seq}/")) => {
                println!("client: skipping {reply}, a late reply to an earlier attempt");
                report.stale += 1;
            }
            Ok(reply) => return Err(format!("sent {request:?}, got {reply:?}").into()),
            Err(Error::Timeout(_)) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Sends requests 1, 2, ... until one goes unanswered `RETRIES` times.
pub fn client(ctx: &Context, endpoint: &str, strategy: Strategy) -> Result<Report, BoxError> {
    let mut req = open(ctx, endpoint, strategy)?;
    let mut report = Report {
        replies: Vec::new(),
        retries: 0,
        stale: 0,
        abandoned: None,
    };
    for seq in 1.. {
        let mut attempt = 1;
        loop {
            let request = format!("{seq}/{attempt}");
            req.send(request.as_str())?;
            if receive_reply(&req, seq, &request, &mut report)? {
                break;
            }
            if attempt == RETRIES {
                println!("client: no reply to request {seq} after {RETRIES} attempts, abandoning");
                report.abandoned = Some(seq);
                return Ok(report);
            }
            println!("client: no reply to {request}, trying again");
            attempt += 1;
            report.retries += 1;
            if let Strategy::FreshSocket = strategy {
                req.close();
                req = open(ctx, endpoint, strategy)?;
            }
        }
    }
    unreachable!("the loop over 1.. ends with a return")
}

/// The first attempt of request `seq` is `seq/1`.
fn is_first(request: &str, seq: u64) -> bool {
    request == format!("{seq}/1")
}

/// Echoes requests, with the failures the module documentation describes, until it
/// dies on `LAST` or the context is terminated. Returns how many it answered.
pub fn server(ctx: &Context, rep: Socket, endpoint: &str) -> Result<usize, BoxError> {
    let mut rep = rep;
    let mut answered = 0;
    loop {
        let request = match rep.recv_string() {
            Ok(request) => request,
            Err(Error::Closed) => return Ok(answered),
            Err(e) => return Err(e.into()),
        };
        if request.starts_with(&format!("{LAST}/")) {
            println!("server: dying for good on {request}");
            return Ok(answered);
        }
        if is_first(&request, CRASH) {
            println!("server: crashing on {request}");
            rep.close();
            thread::sleep(TIMEOUT / 2);
            rep = ctx.socket(SocketType::Rep)?;
            rep.bind(endpoint)?;
            println!("server: back on {endpoint}");
            continue;
        }
        if is_first(&request, SLOW) {
            println!("server: overloaded, {request} will be late");
            thread::sleep(TIMEOUT * 3 / 2);
        }
        rep.send(request)?;
        answered += 1;
    }
}

/// Runs the server and the client with `strategy` on two threads.
pub fn run(strategy: Strategy) -> Result<Report, BoxError> {
    let ctx = Context::new()?;
    let rep = ctx.socket(SocketType::Rep)?;
    // The restarted server binds the port this one was given.
    let endpoint = rep.bind("tcp://127.0.0.1:0")?.to_string();

    thread::scope(|s| {
        let server = s.spawn(|| server(&ctx, rep, &endpoint));
        let report = client(&ctx, &endpoint, strategy);
        ctx.terminate(); // ends the server if the client failed early
        let answered = server.join().map_err(|_| "the server thread panicked")?;
        let report = report?;
        println!("server: answered {} requests", answered?);
        Ok(report)
    })
}

fn main() -> Result<(), BoxError> {
    for strategy in [Strategy::FreshSocket, Strategy::Relaxed] {
        println!("--- {strategy:?}");
        let r = run(strategy)?;
        println!(
            "{strategy:?}: {} replies, {} retries, abandoned request {:?}",
            r.replies.len(),
            r.retries,
            r.abandoned
        );
    }
    Ok(())
}
