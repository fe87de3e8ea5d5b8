//! The criterion driver of the benches in this folder. Every case runs on the harness
//! of `zeroring bench` (`zeroring_cli::measure`): each side on its own thread and
//! runtime, the same message counts for everyone, the same checks (a reply or message
//! of the wrong size, a subscriber that missed a message, fail the run).
//!
//! Criterion's time per iteration is the time per message (streams, fan-out,
//! DEALER/ROUTER; for the pairs cases, one over the aggregate rate of all pairs) or the
//! median round trip (REQ/REP). Implementations without a case (zmq.rs PUB/SUB, raw TCP
//! PUB/SUB and DEALER/ROUTER, the tokio and pairs cases, which only some columns have;
//! CURVE and inproc outside zeroring and libzmq; libzmq CURVE without a system libzmq
//! that has it; monocoque with coalescing on REQ/REP and PUB/SUB) are skipped. zmq.rs
//! stalls after 65,536 messages in one PUSH/PULL stream, so its streams are capped at
//! 50,000.

use std::time::Duration;

use criterion::Criterion;
use zeroring_cli::{is_latency_case, measure};

/// Messages (round trips) per measurement: criterion's iteration count, bounded so a
/// sample stays between a few milliseconds and a few seconds.
fn count_for(case: &str, iters: u64) -> usize {
    let (low, high) = match case {
        "rr64" | "rr1k" | "inproc-rr64" => (200, 20_000),
        "curve-rr64" => (200, 5_000),
        "curve-push64" => (1_000, 200_000),
        "curve-push16k" => (200, 20_000),
        "push1m" => (20, 2_000),
        "dealer16" => (50, 2_000),
        // Per pair; pairs2 sends twice as many in all.
        "pairs1" | "pairs2" => (1_000, 500_000),
        "rr-pairs1" | "rr-pairs2" => (200, 20_000),
        // push64, push1k, push16k, pub1, pub8, push64-tokio, inproc-push64.
        _ => (1_000, 1_000_000),
    };
    (iters as usize).clamp(low, high)
}

/// One criterion group per case (named after it: `rr64`, `push1k`, ...), one function
/// per implementation that has the case.
pub fn bench_cases(c: &mut Criterion, cases: &[&str], implementations: &[&str]) {
    for &case in cases {
        let mut group = c.benchmark_group(case);
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        for &imp in implementations {
            // Skip what an implementation does not have.
            if matches!(measure(case, imp, count_for(case, 1)), Ok(None)) {
                continue;
            }
            group.bench_function(imp, |b| {
                b.iter_custom(|iters| {
                    let figure = measure(case, imp, count_for(case, iters))
                        .unwrap_or_else(|e| panic!("{case} on {imp}: {e}"))
                        .expect("has the case");
                    let per_iteration = if is_latency_case(case) {
                        figure * 1e-6 // median round trip, µs
                    } else {
                        1.0 / figure // messages per second
                    };
                    Duration::from_secs_f64(per_iteration * iters as f64)
                })
            });
        }
        group.finish();
    }
}
