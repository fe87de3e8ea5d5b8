//! zeroring's side of `zeroring bench`: every peer on its own thread and compio runtime.
//! The CURVE cases set the options on the native sockets before bind and connect: the
//! bound side is the server, every run makes fresh key pairs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::case::{Case, CurveKeys, Kind, Security, Transport};
use super::figure::{RunResult, decode_count, latency_us, rate, time_clients};
use zeroring::{
    DealerSocket, PubSocket, PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket,
    SocketBase, SubSocket,
};

const WARMUP: usize = 100;

/// `--busy-poll`: the REQ/REP cases' sockets spin this many µs before parking.
static BUSY_POLL_US: AtomicU64 = AtomicU64::new(0);

/// Turns on busy-poll (SocketBase::set_busy_poll) for the REQ/REP cases.
pub(super) fn set_busy_poll(spin: Duration) {
    BUSY_POLL_US.store(spin.as_micros() as u64, Ordering::Relaxed);
}

fn busy_poll() -> Option<Duration> {
    let us = BUSY_POLL_US.load(Ordering::Relaxed);
    (us > 0).then(|| Duration::from_micros(us))
}

fn rt() -> Result<compio::runtime::Runtime, String> {
    zeroring::runtime_builder()
        .build()
        .map_err(|e| format!("cannot start compio: {e}"))
}

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Makes `sock` the CURVE server with `keys`' server pair (no-op without keys).
fn curve_server(sock: &SocketBase, keys: Option<&CurveKeys>) -> Result<(), String> {
    if let Some(keys) = keys {
        sock.set_curve_server(true).map_err(s)?;
        sock.set_curve_keypair(&keys.server).map_err(s)?;
    }
    Ok(())
}

/// Makes `sock` a CURVE client of `keys`' server (no-op without keys).
fn curve_client(sock: &SocketBase, keys: Option<&CurveKeys>) -> Result<(), String> {
    if let Some(keys) = keys {
        sock.set_curve_serverkey(keys.server.public()).map_err(s)?;
        sock.set_curve_keypair(&keys.client).map_err(s)?;
    }
    Ok(())
}

/// Runs one case.
pub(super) fn run(case: Case) -> RunResult {
    match case.kind {
        // inproc has no security mechanism.
        Kind::ReqRep(Transport::Inproc, Security::Curve)
        | Kind::PushPull(Transport::Inproc, Security::Curve) => Ok(None),
        Kind::ReqRep(via, security) => req_rep(case.size, case.count, via, security),
        Kind::PushPull(via, security) => push_pull(case.size, case.count, via, security),
        Kind::PubSub(subs) => pub_sub(case.size, case.count, subs),
        Kind::DealerRouter(peers) => dealer_router(case.size, case.count, peers),
        // Handle-only cases: the native sockets need a compio runtime thread.
        Kind::PushPullTokio => Ok(None),
        Kind::Pairs(n) => super::zeroring_pairs::push_pull(case.size, case.count, n),
        Kind::ReqRepPairs(n) => super::zeroring_pairs::req_rep(case.size, case.count, n),
    }
}

fn req_rep(size: usize, count: usize, via: Transport, security: Security) -> RunResult {
    let addr = via.bind_addr("tcp://127.0.0.1:0");
    let keys = CurveKeys::for_case(security)?;
    let server_keys = keys.clone();
    let (ep_tx, ep_rx) = mpsc::channel();
    let server = thread::spawn(move || -> Result<(), String> {
        rt()?.block_on(async move {
            let rep = RepSocket::new();
            rep.set_busy_poll(busy_poll()).expect("a valid option");
            curve_server(&rep, server_keys.as_ref())?;
            let ep = rep.bind(&addr).await.map_err(s)?;
            ep_tx.send(ep.to_string()).ok();
            for _ in 0..count + WARMUP {
                let m = rep.recv().await.map_err(s)?;
                rep.send(m).await.map_err(s)?;
            }
            rep.close().await;
            Ok(())
        })
    });
    let ep = ep_rx.recv().map_err(|_| "REP thread did not bind")?;
    let samples = rt()?.block_on(async move {
        let req = ReqSocket::new();
        req.set_busy_poll(busy_poll()).expect("a valid option");
        curve_client(&req, keys.as_ref())?;
        req.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        let mut samples = Vec::with_capacity(count);
        for i in 0..count + WARMUP {
            let t = Instant::now();
            req.send(body.clone()).await.map_err(s)?;
            let reply = req.recv().await.map_err(s)?;
            if i >= WARMUP {
                samples.push(t.elapsed());
            }
            if reply.byte_len() != size {
                return Err("reply of the wrong size".to_string());
            }
        }
        req.close().await;
        Ok(samples)
    })?;
    server.join().map_err(|_| "REP thread panicked")??;
    Ok(Some(latency_us(samples)))
}

fn push_pull(size: usize, count: usize, via: Transport, security: Security) -> RunResult {
    let addr = via.bind_addr("tcp://127.0.0.1:0");
    let keys = CurveKeys::for_case(security)?;
    let server_keys = keys.clone();
    let (ep_tx, ep_rx) = mpsc::channel();
    let receiver = thread::spawn(move || -> Result<Duration, String> {
        rt()?.block_on(async move {
            let pull = PullSocket::new();
            curve_server(&pull, server_keys.as_ref())?;
            let ep = pull.bind(&addr).await.map_err(s)?;
            ep_tx.send(ep.to_string()).ok();
            pull.recv().await.map_err(s)?;
            let start = Instant::now();
            for _ in 1..count {
                let m = pull.recv().await.map_err(s)?;
                if m.byte_len() != size {
                    return Err("message of the wrong size".to_string());
                }
            }
            Ok(start.elapsed())
        })
    });
    let ep = ep_rx.recv().map_err(|_| "PULL thread did not bind")?;
    rt()?.block_on(async move {
        let push = PushSocket::new();
        curve_client(&push, keys.as_ref())?;
        push.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        for _ in 0..count {
            push.send(body.clone()).await.map_err(s)?;
        }
        push.close().await;
        Ok::<_, String>(())
    })?;
    let elapsed = receiver.join().map_err(|_| "PULL thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}

/// Subscriber threads: count `D` messages, report the count on `E` (sync) and on `F`
/// (final, then exit), as a little-endian u64 on a PUSH.
fn subscribers(n: usize, pub_ep: &str, report_ep: &str) {
    for _ in 0..n {
        let (pub_ep, report_ep) = (pub_ep.to_string(), report_ep.to_string());
        thread::spawn(move || {
            let Ok(rt) = rt() else { return };
            rt.block_on(async move {
                let sub = SubSocket::new();
                sub.set_rcvhwm(None).expect("a valid option");
                sub.subscribe("");
                let report = PushSocket::new();
                if sub.connect(&pub_ep).await.is_err() || report.connect(&report_ep).await.is_err()
                {
                    return;
                }
                let mut count = 0u64;
                while let Ok(m) = sub.recv().await {
                    let tag = m[0][..].to_vec();
                    if tag == b"D" {
                        count += 1;
                        continue;
                    }
                    if report.send(count.to_le_bytes().to_vec()).await.is_err() {
                        return;
                    }
                    count = 0;
                    if tag == b"F" {
                        break;
                    }
                }
                report.close().await;
                sub.close().await;
            });
        });
    }
}

fn pub_sub(size: usize, count: usize, subs: usize) -> RunResult {
    rt()?.block_on(async move {
        let publisher = PubSocket::new();
        publisher.set_sndhwm(None).expect("a valid option");
        let ep = publisher.bind("tcp://127.0.0.1:0").await.map_err(s)?;
        let report = PullSocket::new();
        let rep_ep = report.bind("tcp://127.0.0.1:0").await.map_err(s)?;
        subscribers(subs, &ep.to_string(), &rep_ep.to_string());
        let mut seen = 0;
        while seen < subs {
            publisher.send("E").await.map_err(s)?;
            while let Ok(Ok(_)) =
                compio::time::timeout(Duration::from_millis(20), report.recv()).await
            {
                seen += 1;
            }
        }
        while let Ok(Ok(_)) = compio::time::timeout(Duration::from_millis(200), report.recv()).await
        {
        }
        let body = Bytes::from(vec![5u8; size]);
        let start = Instant::now();
        for _ in 0..count {
            publisher
                .send(vec![Bytes::from_static(b"D"), body.clone()])
                .await
                .map_err(s)?;
        }
        publisher.send("F").await.map_err(s)?;
        for _ in 0..subs {
            let m = report.recv().await.map_err(s)?;
            let got = decode_count(&m[0]);
            if got != count as u64 {
                return Err(format!("a subscriber got {got} of {count}"));
            }
        }
        let elapsed = start.elapsed();
        publisher.close().await;
        report.close().await;
        Ok(Some(rate(count, elapsed)))
    })
}

fn dealer_router(size: usize, count: usize, peers: usize) -> RunResult {
    let (ep_tx, ep_rx) = mpsc::channel();
    let total = peers * (count + WARMUP);
    let server = thread::spawn(move || -> Result<(), String> {
        rt()?.block_on(async move {
            let router = RouterSocket::new();
            router.set_sndhwm(None).expect("a valid option");
            router.set_rcvhwm(None).expect("a valid option");
            let ep = router.bind("tcp://127.0.0.1:0").await.map_err(s)?;
            ep_tx.send(ep.to_string()).ok();
            for _ in 0..total {
                let m = router.recv().await.map_err(s)?;
                router.send(m).await.map_err(s)?;
            }
            router.close().await;
            Ok(())
        })
    });
    let ep = ep_rx.recv().map_err(|_| "ROUTER thread did not bind")?;
    let barrier = Arc::new(Barrier::new(peers + 1));
    let clients: Vec<_> = (0..peers)
        .map(|_| {
            let (ep, barrier) = (ep.clone(), barrier.clone());
            thread::spawn(move || -> Result<(), String> {
                rt()?.block_on(async move {
                    let dealer = DealerSocket::new();
                    dealer.connect(&ep).await.map_err(s)?;
                    let body = Bytes::from(vec![3u8; size]);
                    for i in 0..count + WARMUP {
                        if i == WARMUP {
                            barrier.wait();
                        }
                        dealer.send(body.clone()).await.map_err(s)?;
                        dealer.recv().await.map_err(s)?;
                    }
                    dealer.close().await;
                    Ok(())
                })
            })
        })
        .collect();
    let elapsed = time_clients(&barrier, clients)?;
    server.join().map_err(|_| "ROUTER thread panicked")??;
    Ok(Some(rate(peers * count, elapsed)))
}
