//! The load-balancing broker (zguide chapter 3, "lbbroker", with the clients and
//! the workers as threads of one process): clients send requests to a broker's
//! frontend, workers take them from its backend, and the broker hands each request
//! to the worker that has been idle longest.
//!
//! What it teaches:
//! - A ROUTER socket puts the sender's routing id in front of every message it
//!   receives, and takes the first frame of every message it sends as the routing
//!   id of the peer to send it to: the envelope. A REQ peer adds an empty delimiter
//!   frame, so a request reaches the broker as `[client, "", request]`.
//! - Workers ask for work. A worker says READY when it starts, and its reply to a
//!   request doubles as its next "ready". The broker keeps the idle workers in a
//!   queue and gives each request to the one at the front (least recently used),
//!   so a slow worker never piles up a backlog as it would under round-robin.
//! - The broker reads its frontend only while a worker is idle: requests that
//!   cannot be served yet wait in the clients' sockets, not in the broker.
//!
//! Run it with `cargo run --example load_balancing_broker`.

use std::collections::VecDeque;
use std::thread;
use std::time::Duration;

use zeroring::bytes::Bytes;
use zeroring::{Context, Error, Message, PollEvents, PollItem, Socket, SocketType, poll};

/// Any failure, from any thread, ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const CLIENTS: usize = 6;
pub const WORKERS: usize = 3;
/// Requests each client sends.
pub const REQUESTS: usize = 5;

/// What a worker sends when it starts.
pub const READY: &str = "READY";

/// What the clients and the workers saw.
#[derive(Debug)]
pub struct Report {
    /// Per client, its replies in order.
    pub replies: Vec<Vec<String>>,
    /// Per worker, how many requests it answered.
    pub served: Vec<usize>,
}

/// The reply a worker gives to `request`.
pub fn reply_to(request: &str, worker: &str) -> String {
    format!("{request}: done by worker {worker}")
}

/// Takes the envelope's first two frames (`[id, ""]`) off `msg`; returns the id.
fn unwrap_envelope(msg: &mut Message) -> Result<Bytes, BoxError> {
    let id = msg.pop_front().ok_or("an empty message")?;
    match msg.pop_front() {
        Some(delimiter) if delimiter.is_empty() => Ok(id),
        _ => Err("no empty delimiter after the routing id".into()),
    }
}

/// Routes `total` requests from `frontend` to the workers on `backend` and their
/// replies back. It takes no request before `workers` workers said READY, so
/// that the first requests go to every worker rather than to the first one to
/// connect (the slow joiner, as in `parallel_pipeline`).
pub fn broker(
    frontend: &Socket,
    backend: &Socket,
    workers: usize,
    total: usize,
) -> Result<(), BoxError> {
    let mut idle: VecDeque<Bytes> = VecDeque::new();
    let mut ready = 0;
    let mut answered = 0;
    while answered < total {
        let mut items = [
            PollItem::new(backend, PollEvents::IN),
            PollItem::new(frontend, PollEvents::IN),
        ];
        // The frontend only while someone can take a request.
        let watched = if ready == workers && !idle.is_empty() {
            2
        } else {
            1
        };
        if poll(&mut items[..watched], Some(Duration::from_secs(10)))? == 0 {
            return Err(format!("nothing happened for 10 s after {answered} replies").into());
        }
        if items[0].is_readable() {
            // [worker, "", READY] or [worker, "", client, "", reply]
            let mut msg = backend.recv()?;
            let worker = unwrap_envelope(&mut msg)?;
            idle.push_back(worker);
            if msg.len() == 1 && msg[0] == READY {
                ready += 1;
            } else {
                frontend.send(msg)?; // [client, "", reply]
                answered += 1;
            }
        }
        if watched == 2 && items[1].is_readable() {
            // [client, "", request] goes to the worker idle longest, in an envelope
            // of its own: [worker, "", client, "", request].
            let mut request = frontend.recv()?;
            let worker = idle.pop_front().ok_or("no idle worker")?;
            request.push_front(Bytes::new());
            request.push_front(worker);
            backend.send(request)?;
        }
    }
    Ok(())
}

/// Says READY, then answers requests until the context is terminated; returns
/// how many it answered.
fn worker(id: usize, req: Socket) -> Result<usize, BoxError> {
    req.send(READY)?;
    let mut served = 0;
    loop {
        // A REQ worker sees the client's envelope as plain frames: [client, "", request].
        let mut msg = match req.recv() {
            Ok(msg) => msg,
            Err(Error::Closed) => return Ok(served),
            Err(e) => return Err(e.into()),
        };
        let request = msg.pop_back().ok_or("an empty request")?;
        let request = std::str::from_utf8(&request)?;
        thread::sleep(Duration::from_millis(2)); // pretend to work on it
        msg.push_back(reply_to(request, &id.to_string()));
        req.send(msg)?;
        served += 1;
    }
}

/// Sends `REQUESTS` requests, one at a time, and checks each reply.
pub fn client(id: usize, req: &Socket) -> Result<Vec<String>, BoxError> {
    let mut replies = Vec::with_capacity(REQUESTS);
    for n in 0..REQUESTS {
        let request = format!("client {id} request {n}");
        req.send(request.as_str())?;
        let reply = req.recv_string()?;
        if !reply.starts_with(&reply_to(&request, "")) {
            return Err(format!("{request:?} got {reply:?}").into());
        }
        replies.push(reply);
    }
    Ok(replies)
}

/// Runs the broker (on this thread), the workers and the clients.
pub fn run() -> Result<Report, BoxError> {
    let ctx = Context::new()?;
    let frontend = ctx.socket(SocketType::Router)?;
    let frontend_at = frontend.bind("tcp://127.0.0.1:0")?.to_string();
    let backend = ctx.socket(SocketType::Router)?;
    let backend_at = backend.bind("tcp://127.0.0.1:0")?.to_string();

    let mut worker_sockets = Vec::new();
    for _ in 0..WORKERS {
        let req = ctx.socket(SocketType::Req)?;
        req.connect(&backend_at)?;
        worker_sockets.push(req);
    }
    let mut client_sockets = Vec::new();
    for _ in 0..CLIENTS {
        let req = ctx.socket(SocketType::Req)?;
        // Never wait forever in an example: a lost reply becomes an error.
        req.set_rcvtimeo(Some(Duration::from_secs(10)));
        req.connect(&frontend_at)?;
        client_sockets.push(req);
    }

    thread::scope(|s| {
        let workers: Vec<_> = (worker_sockets.into_iter().enumerate())
            .map(|(id, req)| s.spawn(move || worker(id, req)))
            .collect();
        let clients: Vec<_> = (client_sockets.iter().enumerate())
            .map(|(id, req)| s.spawn(move || client(id, req)))
            .collect();

        let brokered = broker(&frontend, &backend, WORKERS, CLIENTS * REQUESTS);
        if brokered.is_err() {
            ctx.terminate(); // the clients' waits end at once
        }
        let replies: Vec<_> = clients.into_iter().map(|c| c.join()).collect();
        // Every reply is in (or something failed): stop the workers.
        ctx.terminate();
        let served: Vec<_> = workers.into_iter().map(|w| w.join()).collect();

        brokered?;
        let replies = (replies.into_iter())
            .map(|r| r.map_err(|_| "a client thread panicked")?)
            .collect::<Result<Vec<_>, BoxError>>()?;
        let served = (served.into_iter())
            .map(|w| w.map_err(|_| "a worker thread panicked")?)
            .collect::<Result<Vec<_>, BoxError>>()?;
        Ok(Report { replies, served })
    })
}

fn main() -> Result<(), BoxError> {
    let report = run()?;
    for (id, replies) in report.replies.iter().enumerate() {
        println!(
            "client {id}: {} replies, the last {:?}",
            replies.len(),
            replies.last()
        );
    }
    println!("requests answered per worker: {:?}", report.served);
    Ok(())
}
