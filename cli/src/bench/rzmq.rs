//! rzmq's side of `zeroring bench` (crate `rzmq` with its `io-uring` feature, on
//! tokio). rzmq's io_uring backend is process-wide: [`available`] starts it once with
//! the default `UringConfig` (its worker count follows the core count) and every
//! socket here enables `IO_URING_SESSION_ENABLED` through its context. Each peer has
//! its own context on its own thread with a current-thread tokio runtime, like
//! separate processes; `push64-tokio` puts both sockets on one two-worker runtime
//! instead (as the zmq.rs column does).
//!
//! rzmq takes an SNDHWM of 0 as 1, not as unlimited, so the PUB sets XPUB_NODROP:
//! a send that finds a subscriber's queue full waits instead of dropping, and every
//! subscriber receives everything. Subscribers report their counts over a channel.
//! inproc and CURVE (rzmq has both) are not run (n/a).

use std::future::Future;
use std::sync::{Arc, Barrier, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rzmq::socket::{LAST_ENDPOINT, SUBSCRIBE, XPUB_NODROP};
use rzmq::{Context, Msg, Socket, SocketType};

use super::case::{Case, Kind, Security, Transport};
use super::figure::{RunResult, latency_us, rate, time_clients};

const WARMUP: usize = 100;

/// How long a side waits for its context to terminate at the end of a run.
const TERM_LIMIT: Duration = Duration::from_secs(2);

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Starts rzmq's io_uring backend (once per process); why it cannot run otherwise.
pub(super) fn available() -> Result<(), String> {
    static STARTED: OnceLock<Result<(), String>> = OnceLock::new();
    STARTED
        .get_or_init(|| {
            rzmq::uring::initialize_uring_backend(rzmq::uring::UringConfig::default())
                .map_err(|e| format!("rzmq io_uring backend: {e}"))
        })
        .clone()
}

/// Runs one case.
pub(super) fn run(case: Case) -> RunResult {
    match case.kind {
        Kind::ReqRep(Transport::Tcp, Security::Null) => req_rep(case.size, case.count),
        Kind::PushPull(Transport::Tcp, Security::Null) => push_pull(case.size, case.count),
        // Not run here: inproc (its sockets would need one context across runtimes)
        // and CURVE.
        Kind::ReqRep(..) | Kind::PushPull(..) => Ok(None),
        Kind::PubSub(subs) => pub_sub(case.size, case.count, subs),
        Kind::DealerRouter(peers) => dealer_router(case.size, case.count, peers),
        Kind::PushPullTokio => push_pull_tokio(case.size, case.count),
        Kind::Pairs(_) | Kind::ReqRepPairs(_) => Ok(None),
    }
}

fn block_on<T>(f: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?
        .block_on(f)
}

/// A context whose sockets use the io_uring backend; LINGER 0 (a side only stops
/// once its peer has everything).
fn context() -> Result<Context, String> {
    Ok(Context::new()
        .map_err(s)?
        .with_blocky(false)
        .with_io_uring_sessions(true))
}

/// Terminates `ctx`, giving up after [`TERM_LIMIT`].
async fn finish(ctx: &Context) {
    let _ = tokio::time::timeout(TERM_LIMIT, ctx.term()).await;
}

/// Binds `sock` to a free loopback port; the endpoint to connect to.
async fn bind_any(sock: &Socket) -> Result<String, String> {
    sock.bind("tcp://127.0.0.1:0").await.map_err(s)?;
    let ep = sock.get_option(LAST_ENDPOINT).await.map_err(s)?;
    String::from_utf8(ep).map_err(|_| "endpoint is not UTF-8".to_string())
}

/// Waits (asynchronously, so the runtime keeps serving the sockets) until `done`.
async fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn req_rep(size: usize, count: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        block_on(async move {
            let ctx = context()?;
            let rep = ctx.socket(SocketType::Rep).map_err(s)?;
            ep_tx.send(bind_any(&rep).await?).ok();
            for _ in 0..count + WARMUP {
                let m = rep.recv().await.map_err(s)?;
                rep.send(m).await.map_err(s)?;
            }
            finish(&ctx).await;
            Ok(())
        })
    });
    let ep = ep_rx.recv().map_err(|_| "REP thread did not bind")?;
    let samples = block_on(async move {
        let ctx = context()?;
        let req = ctx.socket(SocketType::Req).map_err(s)?;
        req.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        let mut samples = Vec::with_capacity(count);
        for i in 0..count + WARMUP {
            let t = Instant::now();
            req.send(Msg::from_bytes(body.clone())).await.map_err(s)?;
            let reply = req.recv().await.map_err(s)?;
            if i >= WARMUP {
                samples.push(t.elapsed());
            }
            if reply.size() != size {
                return Err("reply of the wrong size".to_string());
            }
        }
        finish(&ctx).await;
        Ok(samples)
    })?;
    server.join().map_err(|_| "REP thread panicked")??;
    Ok(Some(latency_us(samples)))
}

/// Receives `count` messages of `size` bytes; the time from the first to the last.
async fn receive_stream(pull: &Socket, size: usize, count: usize) -> Result<Duration, String> {
    pull.recv().await.map_err(s)?;
    let start = Instant::now();
    for _ in 1..count {
        if pull.recv().await.map_err(s)?.size() != size {
            return Err("message of the wrong size".to_string());
        }
    }
    Ok(start.elapsed())
}

fn push_pull(size: usize, count: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let receiver = thread::spawn(move || {
        block_on(async move {
            let ctx = context()?;
            let pull = ctx.socket(SocketType::Pull).map_err(s)?;
            ep_tx.send(bind_any(&pull).await?).ok();
            let elapsed = receive_stream(&pull, size, count).await;
            finish(&ctx).await;
            elapsed
        })
    });
    let ep = ep_rx.recv().map_err(|_| "PULL thread did not bind")?;
    block_on(async {
        let ctx = context()?;
        let push = ctx.socket(SocketType::Push).map_err(s)?;
        push.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        for _ in 0..count {
            push.send(Msg::from_bytes(body.clone())).await.map_err(s)?;
        }
        // Keep the sender alive until everything arrived.
        wait_until(|| receiver.is_finished()).await;
        finish(&ctx).await;
        Ok(())
    })?;
    let elapsed = receiver.join().map_err(|_| "PULL thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}

/// Subscriber threads: count `D` messages, report the count on `E` (sync) and on `F`
/// (final, then exit) through `report`.
fn subscribers(n: usize, pub_ep: &str, report: &mpsc::Sender<u64>) {
    for _ in 0..n {
        let (pub_ep, report) = (pub_ep.to_string(), report.clone());
        thread::spawn(move || {
            block_on(async move {
                let ctx = context()?;
                let sub = ctx.socket(SocketType::Sub).map_err(s)?;
                sub.set_option_raw(SUBSCRIBE, b"").await.map_err(s)?;
                sub.connect(&pub_ep).await.map_err(s)?;
                let mut count = 0u64;
                loop {
                    let m = sub.recv_multipart().await.map_err(s)?;
                    let tag = m.first().and_then(Msg::data).unwrap_or_default();
                    if tag == b"D" {
                        count += 1;
                        continue;
                    }
                    let last = tag == b"F";
                    report.send(count).ok();
                    count = 0;
                    if last {
                        break;
                    }
                }
                finish(&ctx).await;
                Ok(())
            })
        });
    }
}

fn pub_sub(size: usize, count: usize, subs: usize) -> RunResult {
    block_on(async move {
        let ctx = context()?;
        let publisher = ctx.socket(SocketType::Pub).map_err(s)?;
        publisher.set_option(XPUB_NODROP, 1i32).await.map_err(s)?;
        let ep = bind_any(&publisher).await?;
        let (report_tx, reports) = mpsc::channel();
        subscribers(subs, &ep, &report_tx);
        // Until every subscriber has answered an E, then let the stragglers' answers in.
        let mut seen = 0;
        while seen < subs {
            publisher.send(Msg::from_static(b"E")).await.map_err(s)?;
            tokio::time::sleep(Duration::from_millis(20)).await;
            seen += reports.try_iter().count();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        reports.try_iter().for_each(drop);
        let body = Bytes::from(vec![5u8; size]);
        let start = Instant::now();
        for _ in 0..count {
            publisher
                .send_multipart(vec![Msg::from_static(b"D"), Msg::from_bytes(body.clone())])
                .await
                .map_err(s)?;
        }
        publisher.send(Msg::from_static(b"F")).await.map_err(s)?;
        let mut finals = Vec::with_capacity(subs);
        while finals.len() < subs {
            match reports.try_recv() {
                Ok(got) => finals.push(got),
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
        let elapsed = start.elapsed();
        finish(&ctx).await;
        if let Some(got) = finals.iter().find(|&&got| got != count as u64) {
            return Err(format!("a subscriber got {got} of {count}"));
        }
        Ok(Some(rate(count, elapsed)))
    })
}

fn dealer_router(size: usize, count: usize, peers: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let total = peers * (count + WARMUP);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        block_on(async move {
            let ctx = context()?;
            let router = ctx.socket(SocketType::Router).map_err(s)?;
            ep_tx.send(bind_any(&router).await?).ok();
            for _ in 0..total {
                let m = router.recv_multipart().await.map_err(s)?;
                router.send_multipart(m).await.map_err(s)?;
            }
            // Keep the writers alive until every DEALER has its last reply.
            wait_until(|| done_rx.try_recv().is_ok()).await;
            finish(&ctx).await;
            Ok(())
        })
    });
    let ep = ep_rx.recv().map_err(|_| "ROUTER thread did not bind")?;
    let barrier = Arc::new(Barrier::new(peers + 1));
    let clients: Vec<_> = (0..peers)
        .map(|_| {
            let (ep, barrier) = (ep.clone(), barrier.clone());
            thread::spawn(move || {
                block_on(async move {
                    let ctx = context()?;
                    let dealer = ctx.socket(SocketType::Dealer).map_err(s)?;
                    dealer.connect(&ep).await.map_err(s)?;
                    let body = Bytes::from(vec![3u8; size]);
                    for i in 0..count + WARMUP {
                        if i == WARMUP {
                            barrier.wait();
                        }
                        dealer
                            .send(Msg::from_bytes(body.clone()))
                            .await
                            .map_err(s)?;
                        dealer.recv().await.map_err(s)?;
                    }
                    finish(&ctx).await;
                    Ok(())
                })
            })
        })
        .collect();
    let elapsed = time_clients(&barrier, clients)?;
    done_tx.send(()).ok();
    server.join().map_err(|_| "ROUTER thread panicked")??;
    Ok(Some(rate(peers * count, elapsed)))
}

/// One PUSH task and one PULL task of one context on a two-worker tokio runtime.
fn push_pull_tokio(size: usize, count: usize) -> RunResult {
    let elapsed = super::zmqrs::tokio_two_workers()?.block_on(async move {
        let ctx = context()?;
        let pull = ctx.socket(SocketType::Pull).map_err(s)?;
        let ep = bind_any(&pull).await?;
        let receiver = tokio::spawn(async move { receive_stream(&pull, size, count).await });
        let push = ctx.socket(SocketType::Push).map_err(s)?;
        let sender = tokio::spawn(async move {
            push.connect(&ep).await.map_err(s)?;
            let body = Bytes::from(vec![7u8; size]);
            for _ in 0..count {
                push.send(Msg::from_bytes(body.clone())).await.map_err(s)?;
            }
            Ok::<_, String>(())
        });
        sender.await.map_err(|_| "PUSH task panicked")??;
        let elapsed = receiver.await.map_err(|_| "PULL task panicked")?;
        finish(&ctx).await;
        elapsed
    })?;
    Ok(Some(rate(count - 1, elapsed)))
}
