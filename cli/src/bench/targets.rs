//! The lines under the bench table that judge the medians: issue 14's targets for the
//! native sockets, issue 12's for the handle, issue 13's for CURVE, and the 1 → 2 scaling of the pairs cases (the
//! aggregate of two pairs over the aggregate of one) for every implementation that
//! ran both.

use super::case::Case;
use super::columns::{
    HANDLE, IMPLS, LIBZMQ, MONOCOQUE_FLUSH, OTHER_ZEROMQ, RAW_TCP, ZERORING, ZMQRS,
};
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
    print_native_targets(results, rounds);
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

/// What a target compares a column with.
#[derive(Clone, Copy)]
enum Against {
    /// One other column.
    Column(usize),
    /// The best of the other ZeroMQ implementations in that row.
    BestOther,
}

/// One target: (case, column, against, minimum advantage, what it says).
type Target = (&'static str, usize, Against, f64, &'static str);

/// Issue 12's targets (the handle, tokio, inproc; pairs separately).
const ISSUE_12: [Target; 7] = [
    (
        "push64",
        HANDLE,
        Against::Column(LIBZMQ),
        1.5,
        "handle PUSH/PULL 64 B vs libzmq >= 1.5x",
    ),
    (
        "rr64",
        HANDLE,
        Against::Column(LIBZMQ),
        1.0,
        "handle REQ/REP 64 B round trip vs libzmq >= 1.0x (no slower)",
    ),
    (
        "push64-tokio",
        HANDLE,
        Against::Column(ZMQRS),
        3.0,
        "handle from tokio tasks vs zmq.rs >= 3x",
    ),
    (
        "inproc-push64",
        ZERORING,
        Against::Column(LIBZMQ),
        2.0,
        "native inproc PUSH/PULL 64 B vs libzmq inproc >= 2x",
    ),
    (
        "inproc-push64",
        HANDLE,
        Against::Column(LIBZMQ),
        2.0,
        "handle inproc PUSH/PULL 64 B vs libzmq inproc >= 2x",
    ),
    (
        "inproc-rr64",
        ZERORING,
        Against::Column(LIBZMQ),
        1.0,
        "native inproc REQ/REP round trip vs libzmq inproc >= 1.0x (no slower)",
    ),
    (
        "inproc-rr64",
        HANDLE,
        Against::Column(LIBZMQ),
        1.0,
        "handle inproc REQ/REP round trip vs libzmq inproc >= 1.0x (no slower)",
    ),
];

/// Issue 14's targets for the native sockets (a round trip "<= 1.1x raw TCP" is an
/// advantage of at least 1 / 1.1).
const ISSUE_14: [Target; 11] = [
    (
        "push16k",
        ZERORING,
        Against::Column(RAW_TCP),
        0.9,
        "PUSH/PULL 16 KiB vs raw TCP >= 0.9x",
    ),
    (
        "push16k",
        ZERORING,
        Against::Column(ZMQRS),
        1.3,
        "PUSH/PULL 16 KiB vs zmq.rs >= 1.3x",
    ),
    (
        "push1m",
        ZERORING,
        Against::Column(RAW_TCP),
        0.9,
        "PUSH/PULL 1 MiB vs raw TCP >= 0.9x",
    ),
    (
        "push1m",
        ZERORING,
        Against::Column(LIBZMQ),
        1.3,
        "PUSH/PULL 1 MiB vs libzmq >= 1.3x",
    ),
    (
        "dealer16",
        ZERORING,
        Against::Column(ZMQRS),
        1.5,
        "DEALER/ROUTER 16 peers vs zmq.rs >= 1.5x",
    ),
    (
        "dealer16",
        ZERORING,
        Against::Column(LIBZMQ),
        2.0,
        "DEALER/ROUTER 16 peers vs libzmq >= 2x",
    ),
    (
        "push64",
        ZERORING,
        Against::Column(MONOCOQUE_FLUSH),
        1.3,
        "PUSH/PULL 64 B vs monocoque flush >= 1.3x",
    ),
    (
        "push64",
        ZERORING,
        Against::Column(LIBZMQ),
        5.0,
        "PUSH/PULL 64 B vs libzmq >= 5x",
    ),
    (
        "rr64",
        ZERORING,
        Against::Column(RAW_TCP),
        1.0 / 1.1,
        "REQ/REP 64 B p50 <= 1.1x raw TCP (advantage >= 0.91x)",
    ),
    (
        "rr64",
        ZERORING,
        Against::BestOther,
        1.0,
        "REQ/REP 64 B p50 below every peer",
    ),
    (
        "pub8",
        ZERORING,
        Against::Column(LIBZMQ),
        2.0,
        "PUB/SUB 8 subscribers vs libzmq >= 2x",
    ),
];

/// The advantage of column `a` in `row` over what the target compares it with.
fn advantage_against(case: &Case, row: &[Outcome], a: usize, against: Against) -> Option<f64> {
    match against {
        Against::Column(b) => advantage(case, &row[a], &row[b]),
        Against::BestOther => OTHER_ZEROMQ
            .iter()
            .filter_map(|&b| advantage(case, &row[a], &row[b]))
            .reduce(f64::min),
    }
}

/// The verdict of each target whose case ran.
fn judged(results: &[(Case, Vec<Outcome>)], targets: &[Target]) -> Vec<String> {
    targets
        .iter()
        .filter_map(|&(name, a, against, min, what)| {
            let (case, row) = row_of(results, name)?;
            Some(format!(
                "{what}: {}",
                verdict(advantage_against(case, row, a, against), min)
            ))
        })
        .collect()
}

/// Issue 12's targets (the handle, tokio, inproc, pairs).
fn print_handle_targets(results: &[(Case, Vec<Outcome>)], rounds: usize) {
    let mut lines = judged(results, &ISSUE_12);
    if let (Some((one, r1)), Some((_, r2))) = (row_of(results, "pairs1"), row_of(results, "pairs2"))
    {
        lines.push(format!(
            "zeroring handle pairs2/pairs1 aggregate >= 1.6x: {}",
            verdict(advantage(one, &r2[HANDLE], &r1[HANDLE]), 1.6)
        ));
    }
    print_verdicts("issue 12", &lines, rounds);
}

/// Issue 14's targets (the native sockets against every peer).
fn print_native_targets(results: &[(Case, Vec<Outcome>)], rounds: usize) {
    print_verdicts("issue 14", &judged(results, &ISSUE_14), rounds);
}

/// One "Targets (issue N; basis): verdict; verdict." line, if any target ran.
fn print_verdicts(issue: &str, lines: &[String], rounds: usize) {
    if !lines.is_empty() {
        println!(
            "Targets ({issue}; {}): {}.",
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

#[cfg(test)]
mod tests {
    use super::super::case::CASES;
    use super::super::figure::Figure;
    use super::*;

    fn figure(v: f64) -> Outcome {
        Outcome::Value(Figure {
            value: v,
            p99: None,
        })
    }

    fn row(values: [Option<f64>; IMPLS.len()]) -> Vec<Outcome> {
        values
            .into_iter()
            .map(|v| v.map_or(Outcome::NotApplicable, figure))
            .collect()
    }

    fn case(name: &str) -> Case {
        *CASES.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn a_round_trip_target_inverts_the_ratio_and_best_other_takes_the_fastest_peer() {
        // zeroring 5.0 µs, libzmq 10, zmq.rs 4.5 (faster), raw TCP 4.6.
        let results = vec![(
            case("rr64"),
            row([
                Some(5.0),
                None,
                Some(10.0),
                Some(4.5),
                None,
                None,
                None,
                Some(4.6),
            ]),
        )];
        let lines = judged(&results, &ISSUE_14);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].ends_with("0.92x (met)"), "{}", lines[0]);
        assert!(lines[1].ends_with("0.90x (missed)"), "{}", lines[1]);
    }

    #[test]
    fn a_rate_target_compares_with_its_column_and_skips_missing_figures() {
        let results = vec![(
            case("push16k"),
            row([Some(300.0), None, None, None, None, None, None, Some(320.0)]),
        )];
        let lines = judged(&results, &ISSUE_14);
        assert_eq!(lines[0], "PUSH/PULL 16 KiB vs raw TCP >= 0.9x: 0.94x (met)");
        assert_eq!(lines[1], "PUSH/PULL 16 KiB vs zmq.rs >= 1.3x: -");
    }
}
