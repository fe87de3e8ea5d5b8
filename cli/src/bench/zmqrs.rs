//! zmq.rs's side of `zeroring bench` (crate `zeromq` 0.7), every peer on its own thread
//! with a current-thread tokio runtime.
//!
//! zmq.rs 0.7 stalls after 65,536 messages in one PUSH/PULL stream, so stream runs are
//! capped at [`ZMQRS_STREAM_CAP`]; its PUB drops messages when its fixed-size internal
//! queue is full (there is no HWM option), so the PUB/SUB cases, which need every
//! subscriber to receive everything, are not applicable.
//!
//! The `push64-tokio` case puts both sockets on one multi-thread runtime with two
//! workers instead, a sender task and a receiver task (the shape the zeroring handle
//! column runs with `send_async`/`recv_async`); it has the same cap.

use std::future::Future;
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};

use super::case::{Case, Kind, Security, Transport, ZMQRS_STREAM_CAP};
use super::figure::{RunResult, latency_us, rate, time_clients};

const WARMUP: usize = 100;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn block_on<T>(f: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?
        .block_on(f)
}

fn byte_len(m: &ZmqMessage) -> usize {
    m.iter().map(Bytes::len).sum()
}

/// Runs one case.
pub(super) fn run(case: Case) -> RunResult {
    match case.kind {
        Kind::ReqRep(Transport::Tcp, Security::Null) => req_rep(case.size, case.count),
        Kind::PushPull(Transport::Tcp, Security::Null) => {
            push_pull(case.size, case.count.min(ZMQRS_STREAM_CAP))
        }
        // zmq.rs 0.7 has no inproc transport.
        Kind::ReqRep(Transport::Inproc, _) | Kind::PushPull(Transport::Inproc, _) => Ok(None),
        // No CURVE.
        Kind::ReqRep(_, Security::Curve) | Kind::PushPull(_, Security::Curve) => Ok(None),
        Kind::PubSub(_) => Ok(None),
        Kind::DealerRouter(peers) => dealer_router(case.size, case.count, peers),
        Kind::PushPullTokio => push_pull_tokio(case.size, case.count.min(ZMQRS_STREAM_CAP)),
        Kind::Pairs(_) | Kind::ReqRepPairs(_) => Ok(None),
    }
}

/// The runtime of the `push64-tokio` case: multi-thread, two workers.
pub(super) fn tokio_two_workers() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))
}

fn req_rep(size: usize, count: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        block_on(async move {
            let mut rep = zeromq::RepSocket::new();
            let ep = rep.bind("tcp://127.0.0.1:0").await.map_err(s)?;
            ep_tx.send(ep.to_string()).ok();
            for _ in 0..count + WARMUP {
                let m = rep.recv().await.map_err(s)?;
                rep.send(m).await.map_err(s)?;
            }
            Ok(())
        })
    });
    let ep = ep_rx.recv().map_err(|_| "REP thread did not bind")?;
    let samples = block_on(async move {
        let mut req = zeromq::ReqSocket::new();
        req.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        let mut samples = Vec::with_capacity(count);
        for i in 0..count + WARMUP {
            let t = Instant::now();
            req.send(body.clone().into()).await.map_err(s)?;
            let reply = req.recv().await.map_err(s)?;
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

fn push_pull(size: usize, count: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let receiver = thread::spawn(move || {
        block_on(async move {
            let mut pull = zeromq::PullSocket::new();
            let ep = pull.bind("tcp://127.0.0.1:0").await.map_err(s)?;
            ep_tx.send(ep.to_string()).ok();
            pull.recv().await.map_err(s)?;
            let start = Instant::now();
            for _ in 1..count {
                let m = pull.recv().await.map_err(s)?;
                if byte_len(&m) != size {
                    return Err("message of the wrong size".to_string());
                }
            }
            Ok(start.elapsed())
        })
    });
    let ep = ep_rx.recv().map_err(|_| "PULL thread did not bind")?;
    block_on(async {
        let mut push = zeromq::PushSocket::new();
        push.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        for _ in 0..count {
            push.send(body.clone().into()).await.map_err(s)?;
        }
        // Keep the runtime (and so the writer) alive until everything arrived.
        while !receiver.is_finished() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    })?;
    let elapsed: Duration = receiver.join().map_err(|_| "PULL thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}

fn dealer_router(size: usize, count: usize, peers: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let total = peers * (count + WARMUP);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        block_on(async move {
            let mut router = zeromq::RouterSocket::new();
            let ep = router.bind("tcp://127.0.0.1:0").await.map_err(s)?;
            ep_tx.send(ep.to_string()).ok();
            for _ in 0..total {
                let m = router.recv().await.map_err(s)?;
                router.send(m).await.map_err(s)?;
            }
            // Keep the writers alive until every DEALER has its last reply.
            while done_rx.try_recv().is_err() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
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
                    let mut dealer = zeromq::DealerSocket::new();
                    dealer.connect(&ep).await.map_err(s)?;
                    let body = Bytes::from(vec![3u8; size]);
                    for i in 0..count + WARMUP {
                        if i == WARMUP {
                            barrier.wait();
                        }
                        dealer.send(body.clone().into()).await.map_err(s)?;
                        dealer.recv().await.map_err(s)?;
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

/// One PUSH task and one PULL task on a two-worker tokio runtime.
fn push_pull_tokio(size: usize, count: usize) -> RunResult {
    let elapsed = tokio_two_workers()?.block_on(async move {
        let mut pull = zeromq::PullSocket::new();
        let ep = pull.bind("tcp://127.0.0.1:0").await.map_err(s)?.to_string();
        let receiver = tokio::spawn(async move {
            pull.recv().await.map_err(s)?;
            let start = Instant::now();
            for _ in 1..count {
                let m = pull.recv().await.map_err(s)?;
                if byte_len(&m) != size {
                    return Err("message of the wrong size".to_string());
                }
            }
            Ok(start.elapsed())
        });
        let sender = tokio::spawn(async move {
            let mut push = zeromq::PushSocket::new();
            push.connect(&ep).await.map_err(s)?;
            let body = Bytes::from(vec![7u8; size]);
            for _ in 0..count {
                push.send(body.clone().into()).await.map_err(s)?;
            }
            // Keep the socket (and so its writer) alive until everything arrived.
            Ok::<_, String>(push)
        });
        let push = sender.await.map_err(|_| "PUSH task panicked")??;
        let elapsed = receiver.await.map_err(|_| "PULL task panicked")?;
        drop(push);
        elapsed
    })?;
    Ok(Some(rate(count - 1, elapsed)))
}
