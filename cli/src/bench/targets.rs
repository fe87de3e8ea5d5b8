//! The lines under the bench table that judge the medians: issue 12's targets for the
//! handle, issue 13's for CURVE, and the 1 → 2 scaling of the pairs cases (the
//! aggregate of two pairs over the aggregate of one) for every implementation that
//! ran both.

use super::case::Case;
use super::columns::{HANDLE, IMPLS, LIBZMQ, ZERORING, ZMQRS};
use super::outcome::{Outcome, advantage, ratio};

/// The row of case `name`, when that case ran.
fn row_of<'a>(results: &'a [(Case, Vec<Outcome>)], name: &str) -> Option<&'a (Case, Vec<Outcome>)> {
    results.iter().find(|(c, _)| c.name == name)
}

/// `1.23x (met)` or `(missed)` against `min`, `-` without a figure.
fn verdict(r: Option<f64>, min: f64) -> String {
    match r {
        Some(r) if r >= min => format!("{r:.2}x (met)"),
        Some(r) => format!("{r:.2}x (missed)"),
        None => "-".into(),
    }
}

/// How many rounds the medians come from, for the targets' wording.
fn basis(rounds: usize) -> String {
    if rounds == 1 {
        "one round, so one sample: medians of interleaved rounds decide".into()
    } else {
        format!("medians of {rounds} interleaved rounds")
    }
}

/// Prints the targets and the scaling lines for the cases that ran.
pub(crate) fn print(results: &[(Case, Vec<Outcome>)], rounds: usize) {
    print_handle_targets(results, rounds);
    print_scaling(results);
    // Issue 13: the zeroring column (native sockets) against libzmq with CURVE; the
    // handle's figure is printed beside it for reference.
    if let Some((case, row)) = row_of(results, "curve-push64") {
        println!(
            "Target (issue 13; {}): CURVE PUSH/PULL 64 B vs libzmq with CURVE >= 2x: {} \
             (handle: {}).",
            basis(rounds),
            verdict(advantage(case, &row[ZERORING], &row[LIBZMQ]), 2.0),
            ratio(case, &row[HANDLE], &row[LIBZMQ]),
        );
    }
}

/// Issue 12's targets (the handle, tokio, inproc, pairs).
fn print_handle_targets(results: &[(Case, Vec<Outcome>)], rounds: usize) {
    // (case, column, against column, minimum, what)
    let pairs_of = [
        (
            "push64",
            HANDLE,
            LIBZMQ,
            1.5,
            "handle PUSH/PULL 64 B vs libzmq >= 1.5x",
        ),
        (
            "rr64",
            HANDLE,
            LIBZMQ,
            1.0,
            "handle REQ/REP 64 B round trip vs libzmq >= 1.0x (no slower)",
        ),
        (
            "push64-tokio",
            HANDLE,
            ZMQRS,
            3.0,
            "handle from tokio tasks vs zmq.rs >= 3x",
        ),
        (
            "inproc-push64",
            ZERORING,
            LIBZMQ,
            2.0,
            "native inproc PUSH/PULL 64 B vs libzmq inproc >= 2x",
        ),
        (
            "inproc-push64",
            HANDLE,
            LIBZMQ,
            2.0,
            "handle inproc PUSH/PULL 64 B vs libzmq inproc >= 2x",
        ),
        (
            "inproc-rr64",
            ZERORING,
            LIBZMQ,
            1.0,
            "native inproc REQ/REP round trip vs libzmq inproc >= 1.0x (no slower)",
        ),
        (
            "inproc-rr64",
            HANDLE,
            LIBZMQ,
            1.0,
            "handle inproc REQ/REP round trip vs libzmq inproc >= 1.0x (no slower)",
        ),
    ];
    let mut lines = Vec::new();
    for (name, a, b, min, what) in pairs_of {
        if let Some((case, row)) = row_of(results, name) {
            lines.push(format!(
                "{what}: {}",
                verdict(advantage(case, &row[a], &row[b]), min)
            ));
        }
    }
    if let (Some((one, r1)), Some((_, r2))) = (row_of(results, "pairs1"), row_of(results, "pairs2"))
    {
        lines.push(format!(
            "zeroring handle pairs2/pairs1 aggregate >= 1.6x: {}",
            verdict(advantage(one, &r2[HANDLE], &r1[HANDLE]), 1.6)
        ));
    }
    if !lines.is_empty() {
        println!(
            "Targets (issue 12; {}): {}.",
            basis(rounds),
            lines.join("; ")
        );
    }
}

/// The 1 → 2 scaling of the pairs cases: the two-pair aggregate over the one-pair
/// aggregate, per implementation (2.00x would be linear).
fn print_scaling(results: &[(Case, Vec<Outcome>)]) {
    let mut parts = Vec::new();
    for (what, one, two) in [
        ("PUSH/PULL", "pairs1", "pairs2"),
        ("REQ/REP", "rr-pairs1", "rr-pairs2"),
    ] {
        let (Some((case, r1)), Some((_, r2))) = (row_of(results, one), row_of(results, two)) else {
            continue;
        };
        let figures: Vec<String> = IMPLS
            .iter()
            .enumerate()
            .filter_map(|(col, name)| {
                advantage(case, &r2[col], &r1[col]).map(|r| format!("{name} {r:.2}x"))
            })
            .collect();
        if !figures.is_empty() {
            parts.push(format!("{what} ({two}/{one}): {}", figures.join(", ")));
        }
    }
    if !parts.is_empty() {
        println!(
            "Scaling 1 -> 2 (aggregate with 2 pairs on 2 I/O threads / aggregate with 1; \
             2.00x is linear): {}.",
            parts.join("; ")
        );
    }
}
