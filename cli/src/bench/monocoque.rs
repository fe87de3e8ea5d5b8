//! monocoque's side of `zeroring bench` (crate `monocoque-rs` 0.4 with feature `zmq`,
//! on compio like zeroring, every peer on its own thread and runtime), in two columns:
//! "monocoque" with default options (every send written at once) and "monocoque
//! flush" with write coalescing on and a manual `flush()` where a user of it has to
//! call one: after a stream's last message, after every DEALER request and every
//! ROUTER reply.
//!
//! A monocoque socket is one connection: the bound side accepts on a compio
//! `TcpListener` and wraps the stream (`from_tcp`), and the ROUTER of `dealer16` is
//! one ROUTER socket per accepted DEALER, each served by a task of one runtime
//! thread. Senders use `send_one` (its single-frame path), receivers `recv_into` with
//! one reused `Vec` (its allocation-free receive). PUB/SUB is in `monocoque_pubsub`.
//!
//! Not applicable: REQ/REP with coalescing (REQ and REP have no `flush()`, so a
//! coalesced request would never leave), PUB/SUB with coalescing (PUB has no
//! `flush()` and its workers ignore the option: it would be the eager column again);
//! inproc and CURVE, which monocoque has, are not run.

use std::net::SocketAddr;
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use compio::net::{TcpListener, TcpStream};
use monocoque::zmq::{
    DealerSocket, PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket, SocketOptions,
};

use super::case::{Case, Kind, Security, Transport};
use super::figure::{RunResult, latency_us, rate, time_clients};

const WARMUP: usize = 100;

/// How monocoque sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Default options: each send is written at once.
    Eager,
    /// Write coalescing on: sends accumulate until 64 KiB or a `flush()`.
    Coalescing,
}

impl Mode {
    fn options(self) -> SocketOptions {
        SocketOptions::default().with_write_coalescing(self == Mode::Coalescing)
    }
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn rt() -> Result<compio::runtime::Runtime, String> {
    zeroring::runtime_builder()
        .build()
        .map_err(|e| format!("cannot start compio: {e}"))
}

/// Runs one case for the "monocoque" column (eager sends).
pub(super) fn run_eager(case: Case) -> RunResult {
    run(case, Mode::Eager)
}

/// Runs one case for the "monocoque flush" column (coalescing plus `flush()`).
pub(super) fn run_coalescing(case: Case) -> RunResult {
    run(case, Mode::Coalescing)
}

fn run(case: Case, mode: Mode) -> RunResult {
    let (size, count) = (case.size, case.count);
    match case.kind {
        Kind::ReqRep(Transport::Tcp, Security::Null) if mode == Mode::Eager => req_rep(size, count),
        Kind::PushPull(Transport::Tcp, Security::Null) => push_pull(size, count, mode),
        Kind::PubSub(subs) if mode == Mode::Eager => {
            super::monocoque_pubsub::pub_sub(size, count, subs)
        }
        Kind::DealerRouter(peers) => dealer_router(size, count, peers, mode),
        // See the module notes.
        Kind::ReqRep(..) | Kind::PushPull(..) | Kind::PubSub(_) => Ok(None),
        Kind::PushPullTokio | Kind::Pairs(_) | Kind::ReqRepPairs(_) => Ok(None),
    }
}

/// A listener on a free loopback port and its address.
async fn listen() -> Result<(TcpListener, SocketAddr), String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(s)?;
    let addr = listener.local_addr().map_err(s)?;
    Ok((listener, addr))
}

/// Accepts one connection.
async fn accept(listener: &TcpListener) -> Result<TcpStream, String> {
    Ok(listener.accept().await.map_err(s)?.0)
}

fn byte_len(frames: &[Bytes]) -> usize {
    frames.iter().map(Bytes::len).sum()
}

fn req_rep(size: usize, count: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let server = thread::spawn(move || -> Result<(), String> {
        rt()?.block_on(async move {
            let (listener, addr) = listen().await?;
            ep_tx.send(addr).ok();
            let mut rep = RepSocket::from_tcp(accept(&listener).await?)
                .await
                .map_err(s)?;
            let mut m = Vec::new();
            for _ in 0..count + WARMUP {
                if !rep.recv_into(&mut m).await.map_err(s)? {
                    return Err("REQ closed early".to_string());
                }
                rep.send(std::mem::take(&mut m)).await.map_err(s)?;
            }
            Ok(())
        })
    });
    let addr: SocketAddr = ep_rx.recv().map_err(|_| "REP thread did not bind")?;
    let samples = rt()?.block_on(async move {
        let mut req = ReqSocket::connect(&format!("tcp://{addr}"))
            .await
            .map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        let mut reply = Vec::new();
        let mut samples = Vec::with_capacity(count);
        for i in 0..count + WARMUP {
            let t = Instant::now();
            req.send_one(body.clone()).await.map_err(s)?;
            if !req.recv_into(&mut reply).await.map_err(s)? {
                return Err("REP closed early".to_string());
            }
            if i >= WARMUP {
                samples.push(t.elapsed());
            }
            if byte_len(&reply) != size {
                return Err("reply of the wrong size".to_string());
            }
        }
        Ok(samples)
    })?;
    server.join().map_err(|_| "REP thread panicked")??;
    Ok(Some(latency_us(samples)))
}

fn push_pull(size: usize, count: usize, mode: Mode) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let receiver = thread::spawn(move || -> Result<Duration, String> {
        rt()?.block_on(async move {
            let (listener, addr) = listen().await?;
            ep_tx.send(addr).ok();
            let mut pull = PullSocket::from_tcp(accept(&listener).await?)
                .await
                .map_err(s)?;
            let mut m = Vec::new();
            let mut next = async || match pull.recv_into(&mut m).await.map_err(s)? {
                true if byte_len(&m) == size => Ok(()),
                true => Err("message of the wrong size".to_string()),
                false => Err("PUSH closed early".to_string()),
            };
            next().await?;
            let start = Instant::now();
            for _ in 1..count {
                next().await?;
            }
            Ok(start.elapsed())
        })
    });
    let addr: SocketAddr = ep_rx.recv().map_err(|_| "PULL thread did not bind")?;
    rt()?.block_on(async {
        let mut push = PushSocket::connect_with_options(addr, mode.options())
            .await
            .map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        for _ in 0..count {
            push.send_one(body.clone()).await.map_err(s)?;
        }
        push.flush().await.map_err(s)?;
        // Keep the connection open until everything arrived.
        while !receiver.is_finished() {
            compio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok::<_, String>(())
    })?;
    let elapsed = receiver.join().map_err(|_| "PULL thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}

/// Echoes `count` messages on one ROUTER socket (one DEALER's connection).
async fn echo(mut router: RouterSocket, count: usize, mode: Mode) -> Result<(), String> {
    let mut m = Vec::new();
    for _ in 0..count {
        if !router.recv_into(&mut m).await.map_err(s)? {
            return Err("DEALER closed early".to_string());
        }
        router.send(std::mem::take(&mut m)).await.map_err(s)?;
        if mode == Mode::Coalescing {
            router.flush().await.map_err(s)?;
        }
    }
    Ok(())
}

fn dealer_router(size: usize, count: usize, peers: usize, mode: Mode) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || -> Result<(), String> {
        rt()?.block_on(async move {
            let (listener, addr) = listen().await?;
            ep_tx.send(addr).ok();
            let mut tasks = Vec::with_capacity(peers);
            for _ in 0..peers {
                let stream = accept(&listener).await?;
                let router = RouterSocket::from_tcp_with_options(stream, mode.options())
                    .await
                    .map_err(s)?;
                tasks.push(compio::runtime::spawn(echo(router, count + WARMUP, mode)));
            }
            for task in tasks {
                task.await.map_err(|_| "ROUTER task panicked")??;
            }
            // Keep the connections open until every DEALER has its last reply.
            while done_rx.try_recv().is_err() {
                compio::time::sleep(Duration::from_millis(1)).await;
            }
            Ok(())
        })
    });
    let addr: SocketAddr = ep_rx.recv().map_err(|_| "ROUTER thread did not bind")?;
    let barrier = Arc::new(Barrier::new(peers + 1));
    let clients: Vec<_> = (0..peers)
        .map(|_| {
            let barrier = barrier.clone();
            thread::spawn(move || -> Result<(), String> {
                rt()?.block_on(async move {
                    let mut dealer = DealerSocket::connect_with_options(
                        &format!("tcp://{addr}"),
                        mode.options(),
                    )
                    .await
                    .map_err(s)?;
                    let body = Bytes::from(vec![3u8; size]);
                    let mut reply = Vec::new();
                    for i in 0..count + WARMUP {
                        if i == WARMUP {
                            barrier.wait();
                        }
                        dealer.send(vec![body.clone()]).await.map_err(s)?;
                        if mode == Mode::Coalescing {
                            dealer.flush().await.map_err(s)?;
                        }
                        if !dealer.recv_into(&mut reply).await.map_err(s)? {
                            return Err("ROUTER closed early".to_string());
                        }
                    }
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
