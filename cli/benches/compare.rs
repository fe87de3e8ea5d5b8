//! Criterion over every case of `zeroring bench` (REQ/REP 64 B and 1 KiB; PUSH/PULL
//! 64 B, 1 KiB, 16 KiB, 1 MiB; PUB/SUB to 1 and 8 subscribers; DEALER/ROUTER with 16
//! peers; PUSH/PULL 64 B from tokio tasks; 1 and 2 PUSH/PULL or REQ/REP pairs over as
//! many I/O threads; inproc; CURVE) for zeroring, the zeroring handle, libzmq, zmq.rs,
//! rzmq, monocoque (eager and with coalescing plus flush) and raw TCP, on the CLI's own
//! harness (see `common`).
//!
//! `cargo bench -p zeroring-cli --features compare --bench compare [-- push64]`

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use zeroring_cli::{CASE_NAMES, IMPLEMENTATIONS};

fn compare(c: &mut Criterion) {
    common::bench_cases(c, &CASE_NAMES, &IMPLEMENTATIONS);
}

criterion_group!(benches, compare);
criterion_main!(benches);
