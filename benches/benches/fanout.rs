//! PUB/SUB fan-out throughput, 64-byte bodies, to 1 and 8 subscribers: zeroring vs
//! libzmq, each subscriber on its own thread. Throughput is messages published per
//! second with every subscriber receiving all of them (HWMs unlimited, so nothing is
//! dropped and the counts are checked). Run with
//! `cargo bench -p zeroring-benches --bench fanout`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zeroring_benches::fanout::{decode_count, libzmq_subscribers, zeroring_subscribers};

const BODY: [u8; 64] = [5u8; 64];

fn zeroring_case(c: &mut Criterion, subscribers: usize) {
    let rt = compio::runtime::Runtime::new().expect("runtime");
    let (publisher, report) = rt.block_on(async {
        let publisher = zeroring::PubSocket::new();
        publisher.set_sndhwm(None).expect("a valid option");
        let ep = publisher.bind("tcp://127.0.0.1:0").await.expect("bind");
        let report = zeroring::PullSocket::new();
        let rep_ep = report.bind("tcp://127.0.0.1:0").await.expect("bind");
        zeroring_subscribers(subscribers, &ep.to_string(), &rep_ep.to_string());
        // Wait until every subscriber's subscription reached the publisher.
        let mut seen = 0;
        while seen < subscribers {
            publisher.send("E").await.expect("send");
            while let Ok(Ok(_)) =
                compio::time::timeout(Duration::from_millis(20), report.recv()).await
            {
                seen += 1;
            }
        }
        // Drain reports to markers that were still in flight.
        while let Ok(Ok(_)) = compio::time::timeout(Duration::from_millis(200), report.recv()).await
        {
        }
        (publisher, report)
    });
    let mut g = c.benchmark_group("fanout_64B");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function(BenchmarkId::new("zeroring", subscribers), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    publisher
                        .send(vec![&b"D"[..], &BODY[..]])
                        .await
                        .expect("send");
                }
                publisher.send("E").await.expect("send");
                for _ in 0..subscribers {
                    let m = report.recv().await.expect("report");
                    assert_eq!(decode_count(&m[0]), iters, "a subscriber missed messages");
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn libzmq_case(c: &mut Criterion, subscribers: usize) {
    let ctx = zmq::Context::new();
    let publisher = ctx.socket(zmq::PUB).expect("socket");
    publisher.set_sndhwm(0).expect("hwm");
    publisher.bind("tcp://127.0.0.1:*").expect("bind");
    let ep = publisher.get_last_endpoint().expect("ep").expect("utf8");
    let report = ctx.socket(zmq::PULL).expect("socket");
    report.bind("tcp://127.0.0.1:*").expect("bind");
    let rep_ep = report.get_last_endpoint().expect("ep").expect("utf8");
    libzmq_subscribers(&ctx, subscribers, &ep, &rep_ep);
    report.set_rcvtimeo(20).expect("timeout");
    let mut seen = 0;
    while seen < subscribers {
        publisher.send("E", 0).expect("send");
        while report.recv_bytes(0).is_ok() {
            seen += 1;
        }
    }
    report.set_rcvtimeo(200).expect("timeout");
    while report.recv_bytes(0).is_ok() {}
    report.set_rcvtimeo(-1).expect("timeout");
    let mut g = c.benchmark_group("fanout_64B");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(3));
    g.bench_function(BenchmarkId::new("libzmq", subscribers), |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                publisher.send("D", zmq::SNDMORE).expect("send");
                publisher.send(&BODY[..], 0).expect("send");
            }
            publisher.send("E", 0).expect("send");
            for _ in 0..subscribers {
                let m = report.recv_bytes(0).expect("report");
                assert_eq!(decode_count(&m), iters, "a subscriber missed messages");
            }
            start.elapsed()
        })
    });
    g.finish();
}

fn fanout(c: &mut Criterion) {
    for subscribers in [1, 8] {
        zeroring_case(c, subscribers);
        libzmq_case(c, subscribers);
    }
}

criterion_group!(benches, fanout);
criterion_main!(benches);
