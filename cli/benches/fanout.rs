//! PUB/SUB fan-out throughput, 64-byte bodies, to 1 and 8 subscribers (the `pub1` and
//! `pub8` cases of `zeroring bench`): zeroring vs libzmq, each subscriber on its own
//! thread, on the CLI's harness (see `common`). Throughput is messages published per
//! second with every subscriber receiving all of them (HWMs unlimited, so nothing is
//! dropped, and the counts are checked). Run with
//! `cargo bench -p zeroring-cli --features compare --bench fanout`.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};

fn fanout(c: &mut Criterion) {
    common::bench_cases(c, &["pub1", "pub8"], &["zeroring", "libzmq"]);
}

criterion_group!(benches, fanout);
criterion_main!(benches);
