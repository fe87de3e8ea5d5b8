//! libzmq's side of `zeroring bench` (crate `zmq`, blocking sockets, one thread each);
//! the pairs cases are in `libzmq_pairs`, the CURVE cases in `libzmq_curve`.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::case::{Case, Kind, Security, Transport};
use super::figure::{RunResult, decode_count, latency_us, rate, time_clients};

const WARMUP: usize = 100;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn endpoint(sock: &zmq::Socket) -> Result<String, String> {
    sock.get_last_endpoint()
        .map_err(s)?
        .map_err(|_| "endpoint is not UTF-8".to_string())
}

/// Runs one case.
pub(super) fn run(case: Case) -> RunResult {
    match case.kind {
        Kind::ReqRep(via, Security::Null) => req_rep(case.size, case.count, via),
        Kind::PushPull(via, Security::Null) => push_pull(case.size, case.count, via),
        // Crate zmq's vendored libzmq has no CURVE: the runner sends these cases to
        // `libzmq_curve` (the system libzmq) instead.
        Kind::ReqRep(_, Security::Curve) | Kind::PushPull(_, Security::Curve) => Ok(None),
        Kind::PubSub(subs) => pub_sub(case.size, case.count, subs),
        Kind::DealerRouter(peers) => dealer_router(case.size, case.count, peers),
        Kind::PushPullTokio => Ok(None),
        Kind::Pairs(n) => super::libzmq_pairs::push_pull(case.size, case.count, n),
        Kind::ReqRepPairs(n) => super::libzmq_pairs::req_rep(case.size, case.count, n),
    }
}

fn req_rep(size: usize, count: usize, via: Transport) -> RunResult {
    let ctx = zmq::Context::new();
    let rep = ctx.socket(zmq::REP).map_err(s)?;
    rep.bind(&via.bind_addr("tcp://127.0.0.1:*")).map_err(s)?;
    let ep = endpoint(&rep)?;
    let server = thread::spawn(move || -> Result<(), String> {
        for _ in 0..count + WARMUP {
            let m = rep.recv_multipart(0).map_err(s)?;
            rep.send_multipart(m, 0).map_err(s)?;
        }
        Ok(())
    });
    let req = ctx.socket(zmq::REQ).map_err(s)?;
    req.connect(&ep).map_err(s)?;
    let body = vec![7u8; size];
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + WARMUP {
        let t = Instant::now();
        req.send(&body[..], 0).map_err(s)?;
        let reply = req.recv_bytes(0).map_err(s)?;
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
        if reply.len() != size {
            return Err("reply of the wrong size".into());
        }
    }
    server.join().map_err(|_| "REP thread panicked")??;
    Ok(Some(latency_us(samples)))
}

fn push_pull(size: usize, count: usize, via: Transport) -> RunResult {
    let ctx = zmq::Context::new();
    let pull = ctx.socket(zmq::PULL).map_err(s)?;
    pull.bind(&via.bind_addr("tcp://127.0.0.1:*")).map_err(s)?;
    let ep = endpoint(&pull)?;
    let receiver = thread::spawn(move || -> Result<Duration, String> {
        let mut msg = zmq::Message::new();
        pull.recv(&mut msg, 0).map_err(s)?;
        let start = Instant::now();
        for _ in 1..count {
            pull.recv(&mut msg, 0).map_err(s)?;
            if msg.len() != size {
                return Err("message of the wrong size".into());
            }
        }
        Ok(start.elapsed())
    });
    let push = ctx.socket(zmq::PUSH).map_err(s)?;
    push.connect(&ep).map_err(s)?;
    let body = vec![7u8; size];
    for _ in 0..count {
        push.send(&body[..], 0).map_err(s)?;
    }
    let elapsed = receiver.join().map_err(|_| "PULL thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}

fn subscribers(ctx: &zmq::Context, n: usize, pub_ep: &str, report_ep: &str) {
    for _ in 0..n {
        let ctx = ctx.clone();
        let (pub_ep, report_ep) = (pub_ep.to_string(), report_ep.to_string());
        thread::spawn(move || -> Result<(), zmq::Error> {
            let sub = ctx.socket(zmq::SUB)?;
            sub.set_rcvhwm(0)?;
            sub.set_subscribe(b"")?;
            sub.connect(&pub_ep)?;
            let report = ctx.socket(zmq::PUSH)?;
            report.connect(&report_ep)?;
            let mut count = 0u64;
            loop {
                let m = sub.recv_multipart(0)?;
                if m[0] == b"D" {
                    count += 1;
                    continue;
                }
                report.send(&count.to_le_bytes()[..], 0)?;
                count = 0;
                if m[0] == b"F" {
                    return Ok(());
                }
            }
        });
    }
}

fn pub_sub(size: usize, count: usize, subs: usize) -> RunResult {
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::PUB).map_err(s)?;
    publisher.set_sndhwm(0).map_err(s)?;
    publisher.bind("tcp://127.0.0.1:*").map_err(s)?;
    let ep = endpoint(&publisher)?;
    let report = ctx.socket(zmq::PULL).map_err(s)?;
    report.bind("tcp://127.0.0.1:*").map_err(s)?;
    let rep_ep = endpoint(&report)?;
    subscribers(&ctx, subs, &ep, &rep_ep);
    report.set_rcvtimeo(20).map_err(s)?;
    let mut seen = 0;
    while seen < subs {
        publisher.send("E", 0).map_err(s)?;
        while report.recv_bytes(0).is_ok() {
            seen += 1;
        }
    }
    report.set_rcvtimeo(200).map_err(s)?;
    while report.recv_bytes(0).is_ok() {}
    report.set_rcvtimeo(-1).map_err(s)?;
    let body = vec![5u8; size];
    let start = Instant::now();
    for _ in 0..count {
        publisher.send("D", zmq::SNDMORE).map_err(s)?;
        publisher.send(&body[..], 0).map_err(s)?;
    }
    publisher.send("F", 0).map_err(s)?;
    for _ in 0..subs {
        let m = report.recv_bytes(0).map_err(s)?;
        let got = decode_count(&m);
        if got != count as u64 {
            return Err(format!("a subscriber got {got} of {count}"));
        }
    }
    Ok(Some(rate(count, start.elapsed())))
}

fn dealer_router(size: usize, count: usize, peers: usize) -> RunResult {
    let ctx = zmq::Context::new();
    let router = ctx.socket(zmq::ROUTER).map_err(s)?;
    router.set_sndhwm(0).map_err(s)?;
    router.set_rcvhwm(0).map_err(s)?;
    router.bind("tcp://127.0.0.1:*").map_err(s)?;
    let ep = endpoint(&router)?;
    let total = peers * (count + WARMUP);
    let server = thread::spawn(move || -> Result<(), String> {
        for _ in 0..total {
            let m = router.recv_multipart(0).map_err(s)?;
            router.send_multipart(m, 0).map_err(s)?;
        }
        Ok(())
    });
    let barrier = Arc::new(Barrier::new(peers + 1));
    let clients: Vec<_> = (0..peers)
        .map(|_| {
            let (ctx, ep, barrier) = (ctx.clone(), ep.clone(), barrier.clone());
            thread::spawn(move || -> Result<(), String> {
                let dealer = ctx.socket(zmq::DEALER).map_err(s)?;
                dealer.connect(&ep).map_err(s)?;
                let body = vec![3u8; size];
                for i in 0..count + WARMUP {
                    if i == WARMUP {
                        barrier.wait();
                    }
                    dealer.send(&body[..], 0).map_err(s)?;
                    dealer.recv_bytes(0).map_err(s)?;
                }
                Ok(())
            })
        })
        .collect();
    let elapsed = time_clients(&barrier, clients)?;
    server.join().map_err(|_| "ROUTER thread panicked")??;
    Ok(Some(rate(peers * count, elapsed)))
}
