//! The "zeroring handle" column of `zeroring bench`: the thread-safe [`Socket`] made by
//! a [`Context`], used through its blocking API with every peer on its own plain thread
//! (like the libzmq column), plus the cases only a handle has: a stream between two
//! tokio tasks (`send_async`/`recv_async`); the pairs cases are in `handle_pairs`.
//!
//! Like libzmq's column (one `zmq::Context::new()` per case, one I/O thread), every case
//! makes one [`Context`] with one I/O thread that all its sockets share; only the pairs
//! cases give the context N I/O threads. Messages are built as in the zeroring column: one
//! `Bytes` body cloned per send. `--busy-poll` does not apply here (it would spin on the
//! I/O thread that both sides share). The CURVE cases set the options before bind and
//! connect: the bound side is the server, every run makes fresh key pairs.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use zeroring::{Context, Message, Socket, SocketType};

use super::case::{Case, CurveKeys, Kind, Security, Transport};
use super::figure::{RunResult, decode_count, latency_us, rate, time_clients};

const WARMUP: usize = 100;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A socket of `ty` on `ctx`.
fn socket(ctx: &Context, ty: SocketType) -> Result<Socket, String> {
    ctx.socket(ty).map_err(s)
}

/// Binds to a free loopback port and returns the endpoint to connect to.
fn bind_any(sock: &Socket) -> Result<String, String> {
    bind_via(sock, Transport::Tcp)
}

/// Binds to a free loopback port or a fresh inproc name; the endpoint to connect to.
fn bind_via(sock: &Socket, via: Transport) -> Result<String, String> {
    let addr = via.bind_addr("tcp://127.0.0.1:0");
    Ok(sock.bind(&addr).map_err(s)?.to_string())
}

/// Makes `sock` the CURVE server with `keys`' server pair (no-op without keys).
fn curve_server(sock: &Socket, keys: Option<&CurveKeys>) -> Result<(), String> {
    if let Some(keys) = keys {
        sock.set_curve_server(true).map_err(s)?;
        sock.set_curve_keypair(&keys.server).map_err(s)?;
    }
    Ok(())
}

/// Makes `sock` a CURVE client of `keys`' server (no-op without keys).
fn curve_client(sock: &Socket, keys: Option<&CurveKeys>) -> Result<(), String> {
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
        Kind::PushPullTokio => push_pull_tokio(case.size, case.count),
        Kind::Pairs(n) => super::handle_pairs::push_pull(case.size, case.count, n),
        Kind::ReqRepPairs(n) => super::handle_pairs::req_rep(case.size, case.count, n),
    }
}

fn req_rep(size: usize, count: usize, via: Transport, security: Security) -> RunResult {
    let keys = CurveKeys::for_case(security)?;
    let ctx = Context::new().map_err(s)?;
    let rep = socket(&ctx, SocketType::Rep)?;
    curve_server(&rep, keys.as_ref())?;
    let ep = bind_via(&rep, via)?;
    let server = thread::spawn(move || -> Result<(), String> {
        for _ in 0..count + WARMUP {
            let m = rep.recv().map_err(s)?;
            rep.send(m).map_err(s)?;
        }
        Ok(())
    });
    let req = socket(&ctx, SocketType::Req)?;
    curve_client(&req, keys.as_ref())?;
    req.connect(&ep).map_err(s)?;
    let body = Bytes::from(vec![7u8; size]);
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + WARMUP {
        let t = Instant::now();
        req.send(body.clone()).map_err(s)?;
        let reply = req.recv().map_err(s)?;
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
        if reply.byte_len() != size {
            return Err("reply of the wrong size".into());
        }
    }
    server.join().map_err(|_| "REP thread panicked")??;
    Ok(Some(latency_us(samples)))
}

/// Receives `count` messages of `size` bytes; the time from the first to the last.
fn receive_stream(pull: &Socket, size: usize, count: usize) -> Result<Duration, String> {
    pull.recv().map_err(s)?;
    let start = Instant::now();
    for _ in 1..count {
        let m = pull.recv().map_err(s)?;
        if m.byte_len() != size {
            return Err("message of the wrong size".into());
        }
    }
    Ok(start.elapsed())
}

fn push_pull(size: usize, count: usize, via: Transport, security: Security) -> RunResult {
    let keys = CurveKeys::for_case(security)?;
    let ctx = Context::new().map_err(s)?;
    let pull = socket(&ctx, SocketType::Pull)?;
    curve_server(&pull, keys.as_ref())?;
    let ep = bind_via(&pull, via)?;
    let receiver = thread::spawn(move || receive_stream(&pull, size, count));
    let push = socket(&ctx, SocketType::Push)?;
    curve_client(&push, keys.as_ref())?;
    push.connect(&ep).map_err(s)?;
    let body = Bytes::from(vec![7u8; size]);
    for _ in 0..count {
        push.send(body.clone()).map_err(s)?;
    }
    let elapsed = receiver.join().map_err(|_| "PULL thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}

/// Subscriber threads: count `D` messages, report the count on `E` (sync) and on `F`
/// (final, then exit), as a little-endian u64 on a PUSH.
fn subscribers(ctx: &Context, n: usize, pub_ep: &str, report_ep: &str) {
    for _ in 0..n {
        let ctx = ctx.clone();
        let (pub_ep, report_ep) = (pub_ep.to_string(), report_ep.to_string());
        thread::spawn(move || -> Result<(), zeroring::Error> {
            let sub = ctx.socket(SocketType::Sub)?;
            sub.set_rcvhwm(None)?;
            sub.subscribe("")?;
            sub.connect(&pub_ep)?;
            let report = ctx.socket(SocketType::Push)?;
            report.connect(&report_ep)?;
            let mut count = 0u64;
            loop {
                let m = sub.recv()?;
                if &m[0][..] == b"D" {
                    count += 1;
                    continue;
                }
                report.send(count.to_le_bytes().to_vec())?;
                count = 0;
                if &m[0][..] == b"F" {
                    return Ok(());
                }
            }
        });
    }
}

fn pub_sub(size: usize, count: usize, subs: usize) -> RunResult {
    let ctx = Context::new().map_err(s)?;
    let publisher = socket(&ctx, SocketType::Pub)?;
    publisher.set_sndhwm(None).map_err(s)?;
    let ep = bind_any(&publisher)?;
    let report = socket(&ctx, SocketType::Pull)?;
    let rep_ep = bind_any(&report)?;
    subscribers(&ctx, subs, &ep, &rep_ep);
    report.set_rcvtimeo(Some(Duration::from_millis(20)));
    let mut seen = 0;
    while seen < subs {
        publisher.send("E").map_err(s)?;
        while report.recv().is_ok() {
            seen += 1;
        }
    }
    report.set_rcvtimeo(Some(Duration::from_millis(200)));
    while report.recv().is_ok() {}
    report.set_rcvtimeo(None);
    let body = Bytes::from(vec![5u8; size]);
    let start = Instant::now();
    for _ in 0..count {
        publisher
            .send(vec![Bytes::from_static(b"D"), body.clone()])
            .map_err(s)?;
    }
    publisher.send("F").map_err(s)?;
    for _ in 0..subs {
        let m = report.recv().map_err(s)?;
        let got = decode_count(&m[0]);
        if got != count as u64 {
            return Err(format!("a subscriber got {got} of {count}"));
        }
    }
    Ok(Some(rate(count, start.elapsed())))
}

fn dealer_router(size: usize, count: usize, peers: usize) -> RunResult {
    let ctx = Context::new().map_err(s)?;
    let router = socket(&ctx, SocketType::Router)?;
    router.set_sndhwm(None).map_err(s)?;
    router.set_rcvhwm(None).map_err(s)?;
    let ep = bind_any(&router)?;
    let total = peers * (count + WARMUP);
    let server = thread::spawn(move || -> Result<(), String> {
        for _ in 0..total {
            let m = router.recv().map_err(s)?;
            router.send(m).map_err(s)?;
        }
        Ok(())
    });
    let barrier = Arc::new(Barrier::new(peers + 1));
    let clients: Vec<_> = (0..peers)
        .map(|_| {
            let (ctx, ep, barrier) = (ctx.clone(), ep.clone(), barrier.clone());
            thread::spawn(move || -> Result<(), String> {
                let dealer = socket(&ctx, SocketType::Dealer)?;
                dealer.connect(&ep).map_err(s)?;
                let body = Bytes::from(vec![3u8; size]);
                for i in 0..count + WARMUP {
                    if i == WARMUP {
                        barrier.wait();
                    }
                    dealer.send(body.clone()).map_err(s)?;
                    dealer.recv().map_err(s)?;
                }
                Ok(())
            })
        })
        .collect();
    let elapsed = time_clients(&barrier, clients)?;
    server.join().map_err(|_| "ROUTER thread panicked")??;
    Ok(Some(rate(peers * count, elapsed)))
}

/// One PUSH task and one PULL task on a tokio multi-thread runtime with two workers
/// (`send_async`/`recv_async`), the sockets on a one-I/O-thread context.
fn push_pull_tokio(size: usize, count: usize) -> RunResult {
    let ctx = Context::new().map_err(s)?;
    let pull = Arc::new(socket(&ctx, SocketType::Pull)?);
    let push = Arc::new(socket(&ctx, SocketType::Push)?);
    let elapsed = super::zmqrs::tokio_two_workers()?.block_on(async move {
        let ep = pull
            .bind_async("tcp://127.0.0.1:0")
            .await
            .map_err(s)?
            .to_string();
        let receiver = tokio::spawn(async move {
            let check = |m: Message| {
                if m.byte_len() == size {
                    Ok(())
                } else {
                    Err("message of the wrong size".to_string())
                }
            };
            check(pull.recv_async().await.map_err(s)?)?;
            let start = Instant::now();
            for _ in 1..count {
                check(pull.recv_async().await.map_err(s)?)?;
            }
            Ok::<_, String>(start.elapsed())
        });
        let sender = tokio::spawn(async move {
            push.connect_async(&ep).await.map_err(s)?;
            let body = Bytes::from(vec![7u8; size]);
            for _ in 0..count {
                push.send_async(body.clone()).await.map_err(s)?;
            }
            Ok::<_, String>(())
        });
        sender.await.map_err(|_| "PUSH task panicked")??;
        receiver.await.map_err(|_| "PULL task panicked")?
    })?;
    Ok(Some(rate(count - 1, elapsed)))
}
