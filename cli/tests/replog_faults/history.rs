//! A per-key linearizability check of a history of writes and linearizable reads of
//! shared keys, in the spirit of Knossos but only for registers with unique values:
//! every write writes a value nobody else writes, so a read names the write it saw.
//!
//! A read is flagged when it cannot be placed in any linearization:
//! - it returns a value no write wrote, or a write that started after the read ended;
//! - it returns nothing although an acknowledged write of the key finished before
//!   the read started;
//! - it returns the value of an acknowledged write W although another acknowledged
//!   write W2 started after W finished and finished before the read started (W was
//!   certainly overwritten).
//!
//! Writes whose outcome is unknown (no answer) may have taken effect at any time
//! after they started, so they can be read but never prove a read stale.

use std::collections::HashMap;
use std::time::Instant;

/// One operation on a shared key, as a client saw it.
#[derive(Debug, Clone)]
pub struct Op {
    pub key: String,
    pub start: Instant,
    /// When the answer arrived; `None` for a write without an answer.
    pub end: Option<Instant>,
    pub kind: Kind,
}

/// What the operation did.
#[derive(Debug, Clone)]
pub enum Kind {
    Write(String),
    Read(Option<String>),
}

/// The reads that cannot be linearized, described.
pub fn violations(ops: &[Op]) -> Vec<String> {
    let mut out = Vec::new();
    let mut by_key: HashMap<&str, Vec<&Op>> = HashMap::new();
    for op in ops {
        by_key.entry(&op.key).or_default().push(op);
    }
    for (key, ops) in by_key {
        let writes: HashMap<&str, &Op> = ops
            .iter()
            .filter_map(|op| match &op.kind {
                Kind::Write(v) => Some((v.as_str(), *op)),
                Kind::Read(_) => None,
            })
            .collect();
        let acked: Vec<(Instant, Instant)> = writes
            .values()
            .filter_map(|w| w.end.map(|end| (w.start, end)))
            .collect();
        for op in &ops {
            let (Kind::Read(got), Some(read_end)) = (&op.kind, op.end) else {
                continue;
            };
            let read_start = op.start;
            match got {
                None => {
                    if acked.iter().any(|&(_, end)| end < read_start) {
                        out.push(format!("{key}: read nothing after a write finished"));
                    }
                }
                Some(v) => match writes.get(v.as_str()) {
                    None => out.push(format!("{key}: read {v}, which nobody wrote")),
                    Some(w) if w.start > read_end => {
                        out.push(format!("{key}: read {v} before it was written"))
                    }
                    Some(w) => {
                        if let Some(w_end) = w.end {
                            let overwritten =
                                acked.iter().any(|&(s2, e2)| s2 > w_end && e2 < read_start);
                            if overwritten {
                                out.push(format!("{key}: read {v}, already overwritten"));
                            }
                        }
                    }
                },
            }
        }
    }
    out
}

#[test]
fn the_checker_finds_stale_reads() {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + std::time::Duration::from_millis(ms);
    let op = |start, end: Option<u64>, kind| Op {
        key: "k".into(),
        start: at(start),
        end: end.map(at),
        kind,
    };
    let w = |v: &str| Kind::Write(v.into());
    let r = |v: Option<&str>| Kind::Read(v.map(Into::into));
    let good = [
        op(0, Some(10), w("a")),
        op(20, Some(30), w("b")),
        op(25, Some(35), r(Some("a"))), // concurrent with b
        op(40, Some(50), r(Some("b"))),
        op(45, None, w("c")),
        op(60, Some(70), r(Some("c"))), // an unanswered write may have applied
    ];
    assert!(violations(&good).is_empty(), "{:?}", violations(&good));
    let stale = [
        op(0, Some(10), w("a")),
        op(20, Some(30), w("b")),
        op(40, Some(50), r(Some("a"))),
    ];
    assert_eq!(violations(&stale).len(), 1);
    let lost = [op(0, Some(10), w("a")), op(20, Some(30), r(None))];
    assert_eq!(violations(&lost).len(), 1);
    let invented = [op(0, Some(10), r(Some("x")))];
    assert_eq!(violations(&invented).len(), 1);
}
