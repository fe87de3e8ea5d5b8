//! REQ/REP round-trip latency, 64 B: zeroring vs libzmq vs raw TCP, each server on its
//! own thread. Run with `cargo bench -p zeroring-benches --bench reqrep`.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use zeroring_benches::{libzmq_rep_echo, raw_tcp_echo, raw_tcp_round_trip, zeroring_rep_echo};

const BUDGET: u64 = 50_000_000;

fn reqrep(c: &mut Criterion) {
    let body = vec![7u8; 64];
    let mut g = c.benchmark_group("reqrep_64B");
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));

    let ep = zeroring_rep_echo(BUDGET);
    let rt = compio::runtime::Runtime::new().expect("runtime");
    let req = rt.block_on(async {
        let req = zeroring::ReqSocket::new();
        req.connect(&ep).await.expect("connect");
        req
    });
    g.bench_function("zeroring", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    req.send(body.as_slice()).await.expect("send");
                    req.recv().await.expect("recv");
                }
                start.elapsed()
            })
        })
    });

    let ep = libzmq_rep_echo(BUDGET);
    let ctx = zmq::Context::new();
    let zreq = ctx.socket(zmq::REQ).expect("socket");
    zreq.connect(&ep).expect("connect");
    g.bench_function("libzmq", |b| {
        b.iter(|| {
            zreq.send(body.as_slice(), 0).expect("send");
            zreq.recv_bytes(0).expect("recv")
        })
    });

    let addr = raw_tcp_echo(BUDGET);
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut scratch = vec![0u8; 2 + body.len()];
    g.bench_function("raw_tcp", |b| {
        b.iter(|| raw_tcp_round_trip(&mut s, &body, &mut scratch))
    });
    g.finish();
}

criterion_group!(benches, reqrep);
criterion_main!(benches);
