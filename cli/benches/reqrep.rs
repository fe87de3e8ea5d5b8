//! REQ/REP round-trip latency, 64 B (the `rr64` case of `zeroring bench`): zeroring
//! (native sockets and the thread-safe handle) vs libzmq vs raw TCP, each server on its
//! own thread, on the CLI's harness (see `common`). Run with
//! `cargo bench -p zeroring-cli --features compare --bench reqrep`.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

fn reqrep(c: &mut Criterion) {
    common::bench_cases(
        c,
        &["rr64"],
        &["zeroring", "zeroring handle", "libzmq", "raw TCP"],
    );
}

criterion_group!(benches, reqrep);
criterion_main!(benches);
