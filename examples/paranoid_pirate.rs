//! Paranoid Pirate: a queue with heartbeating workers (zguide chapter 4, "ppqueue"
//! and "ppworker", with a Lazy Pirate client, as threads of one process).
//!
//! What it teaches:
//! - The load-balancing broker's workers ask for work with READY; here they also
//!   send HEARTBEAT every `HEARTBEAT_INTERVAL`, and the queue sends HEARTBEAT to
//!   every worker it knows. Each side counts the other dead after `LIVENESS`
//!   intervals of silence. (Workers heartbeat between requests; a job longer than
//!   the liveness window would need them to heartbeat while working too.)
//! - The queue drops a dead worker from its tables, so no more requests go to it;
//!   a request it had taken is lost, and the client's retry (Lazy Pirate) goes to
//!   a live worker.
//! - A worker that stops hearing the queue waits (a back-off that doubles from
//!   `INTERVAL_INIT` up to `INTERVAL_MAX`), opens a fresh socket and says READY
//!   again. The queue registers workers only on READY, so after the queue
//!   restarts, every worker must come back that way.
//!
//! The run: worker 0 hangs on its second request; the queue restarts once after
//! `RESTART_AFTER` replies; the client gets all `REQUESTS` replies regardless.
//!
//! Run it with `cargo run --example paranoid_pirate`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use zeroring::bytes::Bytes;
use zeroring::{Context, Error, PollEvents, PollItem, Socket, SocketType, poll};

/// Any failure, from any thread, ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);
/// Missed heartbeats before a peer counts as dead.
pub const LIVENESS: u32 = 3;
/// A worker's first wait before it reconnects, doubled after each failed try.
pub const INTERVAL_INIT: Duration = Duration::from_millis(100);
pub const INTERVAL_MAX: Duration = Duration::from_millis(800);

pub const WORKERS: usize = 3;
/// This worker hangs when it receives its second request.
pub const HANGS: usize = 0;
pub const REQUESTS: usize = 12;
/// The queue restarts after forwarding this many replies.
pub const RESTART_AFTER: usize = 8;
/// How long the client waits for a reply before it asks again.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(1);
pub const CLIENT_RETRIES: usize = 10;
/// How long the queue is away when it restarts.
const DOWNTIME: Duration = Duration::from_millis(500);
/// How long a closing queue keeps delivering the replies it has forwarded.
const REPLY_LINGER: Duration = Duration::from_secs(1);

pub const READY: &str = "READY";
pub const HEARTBEAT: &str = "HEARTBEAT";

/// What a worker did.
#[derive(Debug, Default)]
pub struct WorkerStats {
    pub served: usize,
    /// Times it gave up on the queue and reconnected with a fresh socket.
    pub reconnects: usize,
}

/// What happened in the run.
#[derive(Debug)]
pub struct Report {
    /// Per request in order: the reply's text and the worker that sent it.
    pub replies: Vec<(String, usize)>,
    /// Requests the client sent again after a timeout.
    pub retries: usize,
    /// Workers the queue dropped because they went silent.
    pub purged: usize,
    pub workers: Vec<WorkerStats>,
}

// ---- The queue ----

/// One life of the queue: routes requests from `frontend` to the idle worker
/// that has waited longest, exchanges heartbeats with the workers on `backend`,
/// and drops workers that go silent. Takes no request before `gate` workers
/// said READY (so every worker is in line when the first requests come).
/// Returns after forwarding `until` replies (if given); otherwise runs until the
/// context is terminated.
fn queue(
    frontend: &Socket,
    backend: &Socket,
    gate: usize,
    until: Option<usize>,
    purged: &mut usize,
) -> zeroring::Result<()> {
    let ttl = HEARTBEAT_INTERVAL * LIVENESS;
    let mut expiry: HashMap<Bytes, Instant> = HashMap::new(); // every live worker
    let mut idle: VecDeque<Bytes> = VecDeque::new(); // least recently used first
    let mut answered = 0;
    let mut heartbeat_at = Instant::now() + HEARTBEAT_INTERVAL;
    let mut gate_open = gate == 0;
    loop {
        let mut items = [
            PollItem::new(backend, PollEvents::IN),
            PollItem::new(frontend, PollEvents::IN),
        ];
        gate_open |= expiry.len() >= gate;
        let taking = gate_open && !idle.is_empty();
        poll(
            &mut items[..if taking { 2 } else { 1 }],
            Some(HEARTBEAT_INTERVAL),
        )?;
        let (from_workers, from_clients) = (items[0].is_readable(), items[1].is_readable());

        if from_workers {
            let mut msg = backend.recv()?;
            let worker = msg.pop_front().unwrap_or_default();
            let known = expiry.contains_key(&worker);
            if msg.len() == 1 && msg[0] == READY {
                expiry.insert(worker.clone(), Instant::now() + ttl);
                idle.push_back(worker);
            } else if msg.len() == 1 && msg[0] == HEARTBEAT {
                if let Some(e) = expiry.get_mut(&worker) {
                    *e = Instant::now() + ttl;
                } // a worker that did not say READY hears nothing, and reconnects
            } else {
                frontend.send(msg)?; // [client, "", reply, worker number]
                answered += 1;
                if known {
                    expiry.insert(worker.clone(), Instant::now() + ttl);
                    idle.push_back(worker);
                }
                if Some(answered) == until {
                    return Ok(());
                }
            }
        }

        // Drop the dead before handing out work.
        let now = Instant::now();
        expiry.retain(|_, at| {
            let alive = *at > now;
            if !alive {
                println!("queue: a worker went silent, dropping it");
                *purged += 1;
            }
            alive
        });
        idle.retain(|w| expiry.contains_key(w));

        if taking
            && from_clients
            && let Some(worker) = idle.pop_front()
        {
            // [client, "", request] to the worker as [worker, client, "", request]
            let mut request = frontend.recv()?;
            request.push_front(worker);
            backend.send(request)?;
        }

        if now >= heartbeat_at {
            for worker in expiry.keys() {
                backend.send(vec![worker.clone(), Bytes::from(HEARTBEAT)])?;
            }
            heartbeat_at = now + HEARTBEAT_INTERVAL;
        }
    }
}

/// A ROUTER bound to `endpoint` for the queue; on close, it keeps delivering what
/// it has queued for at most `linger`.
fn queue_socket(
    ctx: &Context,
    endpoint: &str,
    linger: Duration,
) -> zeroring::Result<(Socket, String)> {
    let router = ctx.socket(SocketType::Router)?;
    router.set_linger(Some(linger));
    let bound = router.bind(endpoint)?.to_string();
    Ok((router, bound))
}

/// Runs the queue's first life, restarts it on the same endpoints after
/// `RESTART_AFTER` replies, and runs the second life until the context is
/// terminated.
fn queue_with_restart(
    ctx: &Context,
    (frontend, frontend_at): (Socket, String),
    (backend, backend_at): (Socket, String),
    purged: &mut usize,
) -> zeroring::Result<()> {
    queue(&frontend, &backend, WORKERS, Some(RESTART_AFTER), purged)?;
    println!("queue: restarting, forgetting every worker");
    frontend.close();
    backend.close();
    thread::sleep(DOWNTIME);
    let (frontend, _) = queue_socket(ctx, &frontend_at, REPLY_LINGER)?;
    let (backend, _) = queue_socket(ctx, &backend_at, Duration::ZERO)?;
    queue(&frontend, &backend, 0, None, purged)
}

// ---- A worker ----

/// A fresh DEALER connected to the queue that has said READY.
fn connect_worker(ctx: &Context, queue_at: &str) -> zeroring::Result<Socket> {
    let dealer = ctx.socket(SocketType::Dealer)?;
    dealer.set_linger(Some(Duration::ZERO));
    dealer.connect(queue_at)?;
    dealer.send(READY)?;
    Ok(dealer)
}

/// Serves requests and exchanges heartbeats with the queue, reconnecting when it
/// goes silent, until the context is terminated; worker `HANGS` hangs on its
/// second request until `stop`.
fn worker(
    ctx: &Context,
    id: usize,
    queue_at: &str,
    stop: &AtomicBool,
    stats: &mut WorkerStats,
) -> zeroring::Result<()> {
    let mut dealer = connect_worker(ctx, queue_at)?;
    let mut liveness = LIVENESS;
    let mut backoff = INTERVAL_INIT;
    let mut heartbeat_at = Instant::now() + HEARTBEAT_INTERVAL;
    loop {
        let mut items = [PollItem::new(&dealer, PollEvents::IN)];
        if poll(&mut items, Some(HEARTBEAT_INTERVAL))? > 0 {
            let mut msg = dealer.recv()?;
            liveness = LIVENESS; // the queue is alive
            backoff = INTERVAL_INIT;
            if msg.len() > 1 {
                // [client, "", request]
                if id == HANGS && stats.served == 1 {
                    println!("worker {id}: hanging");
                    while !stop.load(Ordering::Relaxed) {
                        thread::sleep(Duration::from_millis(10));
                    }
                    return Ok(());
                }
                msg.push_back(id.to_string());
                dealer.send(msg)?;
                stats.served += 1;
            }
        } else {
            liveness -= 1;
            if liveness == 0 {
                println!("worker {id}: the queue is silent, reconnecting in {backoff:?}");
                thread::sleep(backoff);
                backoff = (backoff * 2).min(INTERVAL_MAX);
                dealer.close();
                dealer = connect_worker(ctx, queue_at)?;
                stats.reconnects += 1;
                liveness = LIVENESS;
            }
        }
        if Instant::now() >= heartbeat_at {
            dealer.send(HEARTBEAT)?;
            heartbeat_at = Instant::now() + HEARTBEAT_INTERVAL;
        }
    }
}

// ---- The client (Lazy Pirate) ----

/// Sends `REQUESTS` requests in turn, each again after `CLIENT_TIMEOUT` without a
/// reply; returns the replies and how many retries it took.
fn client(req: &Socket) -> Result<(Vec<(String, usize)>, usize), BoxError> {
    let mut replies = Vec::with_capacity(REQUESTS);
    let mut retries = 0;
    for seq in 1..=REQUESTS {
        let request = format!("request {seq}");
        let mut attempt = 1;
        let reply = loop {
            req.send(request.as_str())?;
            match req.recv() {
                Ok(reply) => break reply,
                Err(Error::Timeout(_)) if attempt < CLIENT_RETRIES => {
                    println!("client: no reply to {request}, trying again");
                    attempt += 1;
                    retries += 1;
                }
                Err(e) => return Err(format!("{request}: {e}").into()),
            }
        };
        match reply.frames() {
            [text, worker] if *text == request => {
                let worker = std::str::from_utf8(worker)?.parse()?;
                replies.push((request, worker));
            }
            _ => return Err(format!("{request}: unexpected reply {reply:?}").into()),
        }
    }
    Ok((replies, retries))
}

/// Runs the client (on this thread), the queue and the workers.
pub fn run() -> Result<Report, BoxError> {
    let ctx = Context::new()?;
    let frontend = queue_socket(&ctx, "tcp://127.0.0.1:0", REPLY_LINGER)?;
    // Heartbeats to a hung worker need not outlive the queue.
    let backend = queue_socket(&ctx, "tcp://127.0.0.1:0", Duration::ZERO)?;
    let (frontend_at, backend_at) = (frontend.1.clone(), backend.1.clone());
    let req = ctx.socket(SocketType::Req)?;
    req.set_rcvtimeo(Some(CLIENT_TIMEOUT));
    req.set_req_relaxed(true); // may ask again without a reply
    req.set_req_correlate(true); // and takes only the reply to its latest request
    req.set_linger(Some(Duration::ZERO));
    req.connect(&frontend_at)?;
    let stop = AtomicBool::new(false);

    thread::scope(|s| {
        let (ctx, stop, backend_at) = (&ctx, &stop, &backend_at);
        let workers: Vec<_> = (0..WORKERS)
            .map(|id| {
                s.spawn(move || {
                    let mut stats = WorkerStats::default();
                    match worker(ctx, id, backend_at, stop, &mut stats) {
                        Ok(()) | Err(Error::Closed) => Ok(stats), // terminated: done
                        Err(e) => Err(e),
                    }
                })
            })
            .collect();
        let queue = s.spawn(move || {
            let mut purged = 0;
            match queue_with_restart(ctx, frontend, backend, &mut purged) {
                Ok(()) | Err(Error::Closed) => Ok(purged), // terminated: done
                Err(e) => Err(e),
            }
        });

        let served = client(&req);
        stop.store(true, Ordering::Relaxed);
        ctx.terminate();
        let purged = queue.join().map_err(|_| "the queue thread panicked")??;
        let workers = (workers.into_iter())
            .map(|w| Ok(w.join().map_err(|_| "a worker thread panicked")??))
            .collect::<Result<Vec<_>, BoxError>>()?;
        let (replies, retries) = served?;
        Ok(Report {
            replies,
            retries,
            purged,
            workers,
        })
    })
}

fn main() -> Result<(), BoxError> {
    let r = run()?;
    for (text, worker) in &r.replies {
        println!("client: {text} answered by worker {worker}");
    }
    println!(
        "{} retries; the queue dropped {} workers; workers {:?}",
        r.retries, r.purged, r.workers
    );
    Ok(())
}
