//! A linearizability checker for the histories a fault test records against the
//! replicated log's key-value store.
//!
//! Each key is a register (P-compositionality: a history is linearizable when the
//! history of every key is), so [`check`] splits the history by key and searches
//! each one with the Wing & Gong algorithm as refined by Lowe: try every operation
//! that may take effect next (no other pending operation finished before it was
//! invoked), apply it to the register, and backtrack when a read disagrees; a cache
//! of (operations taken, register value) visited keeps the search from repeating
//! itself. A write whose outcome the client never learned (a timeout) may or may not
//! have taken effect; a read without an answer says nothing and is left out, and so
//! is an unanswered write of a value no read returned.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// One operation on one key, as a client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The client that ran it (for the report).
    pub client: u32,
    /// The key.
    pub key: Vec<u8>,
    /// When the client sent it (any clock shared by all clients, e.g. ns since the
    /// test started).
    pub invoked: u64,
    /// When the client had its answer; `None` when it never had one (a timeout, or
    /// the client was killed): a write may then have taken effect or not.
    pub answered: Option<u64>,
    /// What it did.
    pub action: Action,
}

/// What an operation did to its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Set the value (`None`: delete the key).
    Write(Option<Vec<u8>>),
    /// A linearizable read that returned this value (`None`: no such key).
    Read(Option<Vec<u8>>),
}

/// Why a history is not linearizable: the key whose operations admit no order, and
/// those operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The key.
    pub key: Vec<u8>,
    /// Every answered or pending operation on it, in invocation order.
    pub ops: Vec<Op>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "no linearization for key {:?} ({} operations):",
            String::from_utf8_lossy(&self.key),
            self.ops.len()
        )?;
        for op in &self.ops {
            let answered = op.answered.map_or("never".into(), |t| t.to_string());
            writeln!(
                f,
                "  client {} [{} .. {}] {:?}",
                op.client, op.invoked, answered, op.action
            )?;
        }
        Ok(())
    }
}

/// Checks a whole history, every key starting absent. Returns the first key
/// (in key order) that has no linearization.
pub fn check(history: &[Op]) -> Result<(), Violation> {
    let mut by_key: BTreeMap<&[u8], Vec<&Op>> = BTreeMap::new();
    for op in history {
        // A read without an answer tells nothing.
        if op.answered.is_none() && matches!(op.action, Action::Read(_)) {
            continue;
        }
        by_key.entry(&op.key).or_default().push(op);
    }
    for (key, mut ops) in by_key {
        // A write without an answer whose value nobody read is best never applied
        // (applying it only changes the value to one no read saw): leaving it out
        // keeps the search small when a failover leaves many writes unanswered.
        let read: HashSet<&Option<Vec<u8>>> = ops
            .iter()
            .filter_map(|op| match &op.action {
                Action::Read(v) => Some(v),
                Action::Write(_) => None,
            })
            .collect();
        ops.retain(|op| match &op.action {
            Action::Write(v) => op.answered.is_some() || v.is_none() || read.contains(v),
            Action::Read(_) => true,
        });
        ops.sort_by_key(|op| op.invoked);
        if !Register::new(&ops).linearizable() {
            return Err(Violation {
                key: key.to_vec(),
                ops: ops.into_iter().cloned().collect(),
            });
        }
    }
    Ok(())
}

/// One key's operations, with values numbered (0: absent) so that the search
/// state is two small integers' worth.
struct Register {
    /// Invocation and answer times (`u64::MAX`: never answered).
    spans: Vec<(u64, u64)>,
    /// For each operation: a write of value n, or a read that saw value n.
    effects: Vec<Effect>,
}

#[derive(Clone, Copy)]
enum Effect {
    Write(u32),
    Read(u32),
}

impl Register {
    fn new(ops: &[&Op]) -> Register {
        // Value n is values[n]; absent is 0.
        let mut values: Vec<Option<&[u8]>> = vec![None];
        let effects = ops
            .iter()
            .map(|op| match &op.action {
                Action::Write(v) => Effect::Write(number(&mut values, v.as_deref())),
                Action::Read(v) => Effect::Read(number(&mut values, v.as_deref())),
            })
            .collect();
        let spans = ops
            .iter()
            .map(|op| (op.invoked, op.answered.unwrap_or(u64::MAX)))
            .collect();
        Register { spans, effects }
    }

    /// The depth-first search: `taken` marks the operations linearized so far.
    fn linearizable(&self) -> bool {
        let n = self.spans.len();
        let must = self.spans.iter().filter(|s| s.1 != u64::MAX).count();
        let mut seen: HashSet<(Vec<u64>, u32)> = HashSet::new();
        // Each frame: the set taken, the register's value, how many answered
        // operations are taken, and the next candidate to try.
        let mut stack: Vec<(Vec<u64>, u32, usize, usize)> =
            vec![(vec![0u64; n.div_ceil(64)], 0, 0, 0)];
        while let Some((taken, value, done, from)) = stack.pop() {
            if done == must {
                return true;
            }
            // The earliest answer among the operations not taken yet: only an
            // operation invoked before it may come next.
            let horizon = (0..n)
                .filter(|&i| !is_set(&taken, i))
                .map(|i| self.spans[i].1)
                .min()
                .unwrap_or(u64::MAX);
            let next = (from..n).find(|&i| {
                !is_set(&taken, i)
                    && self.spans[i].0 <= horizon
                    && match self.effects[i] {
                        Effect::Read(v) => v == value,
                        Effect::Write(_) => true,
                    }
            });
            let Some(i) = next else { continue };
            // Come back to this frame for the candidates after `i`.
            stack.push((taken.clone(), value, done, i + 1));
            let mut after = taken;
            after[i / 64] |= 1 << (i % 64);
            let value = match self.effects[i] {
                Effect::Write(v) => v,
                Effect::Read(_) => value,
            };
            let done = done + usize::from(self.spans[i].1 != u64::MAX);
            if seen.insert((after.clone(), value)) {
                stack.push((after, value, done, 0));
            }
        }
        false
    }
}

/// The number of value `v` in `values`, added if new.
fn number<'a>(values: &mut Vec<Option<&'a [u8]>>, v: Option<&'a [u8]>) -> u32 {
    let n = values
        .iter()
        .position(|known| *known == v)
        .unwrap_or_else(|| {
            values.push(v);
            values.len() - 1
        });
    n as u32
}

fn is_set(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client: u32, span: (u64, Option<u64>), action: Action) -> Op {
        Op {
            client,
            key: b"k".to_vec(),
            invoked: span.0,
            answered: span.1,
            action,
        }
    }

    fn w(client: u32, from: u64, to: Option<u64>, v: &str) -> Op {
        op(
            client,
            (from, to),
            Action::Write(Some(v.as_bytes().to_vec())),
        )
    }

    fn r(client: u32, from: u64, to: u64, v: Option<&str>) -> Op {
        op(
            client,
            (from, Some(to)),
            Action::Read(v.map(|v| v.as_bytes().to_vec())),
        )
    }

    #[test]
    fn a_sequential_history_is_linearizable() {
        let h = [
            r(1, 0, 1, None),
            w(1, 2, Some(3), "a"),
            r(2, 4, 5, Some("a")),
            op(1, (6, Some(7)), Action::Write(None)),
            r(2, 8, 9, None),
        ];
        assert_eq!(check(&h), Ok(()));
    }

    #[test]
    fn a_read_of_a_value_nobody_wrote_is_refused() {
        let h = [w(1, 0, Some(1), "a"), r(2, 2, 3, Some("b"))];
        let v = check(&h).unwrap_err();
        assert_eq!(v.key, b"k");
        assert_eq!(v.ops.len(), 2);
    }

    #[test]
    fn a_read_overlapping_a_write_may_see_either_value() {
        for seen in [None, Some("a")] {
            let h = [w(1, 0, Some(10), "a"), r(2, 5, 6, seen)];
            assert_eq!(check(&h), Ok(()), "{seen:?}");
        }
    }

    #[test]
    fn a_stale_read_after_an_acknowledged_write_is_refused() {
        let h = [w(1, 0, Some(10), "a"), r(2, 20, 21, None)];
        assert!(check(&h).is_err());
    }

    #[test]
    fn a_lost_acknowledged_write_is_refused() {
        // The reproduction of issue 15: writes acknowledged, then gone.
        let h = [
            w(1, 0, Some(5), "a"),
            w(1, 10, Some(15), "b"),
            r(2, 20, 25, Some("a")),
        ];
        assert!(check(&h).is_err());
    }

    #[test]
    fn a_write_without_an_answer_may_or_may_not_have_happened() {
        for seen in [None, Some("a")] {
            let h = [w(1, 0, None, "a"), r(2, 10, 11, seen)];
            assert_eq!(check(&h), Ok(()), "{seen:?}");
        }
        // ... but not both, one after the other.
        let h = [
            w(1, 0, None, "a"),
            r(2, 10, 11, Some("a")),
            r(2, 12, 13, None),
        ];
        assert!(check(&h).is_err());
    }

    #[test]
    fn many_unanswered_writes_nobody_read_do_not_slow_the_search() {
        // 200 writes lost in a failover, then reads of the last answered value.
        let mut h = vec![w(1, 0, Some(1), "kept")];
        for i in 0..200 {
            h.push(w(2 + i, 2, None, &format!("lost{i}")));
        }
        for i in 0..50 {
            h.push(r(1, 10 + 2 * i, 11 + 2 * i, Some("kept")));
        }
        assert_eq!(check(&h), Ok(()));
    }

    #[test]
    fn a_read_without_an_answer_says_nothing() {
        let h = [
            w(1, 0, Some(1), "a"),
            op(2, (2, None), Action::Read(Some(b"zzz".to_vec()))),
        ];
        assert_eq!(check(&h), Ok(()));
    }

    #[test]
    fn keys_are_checked_apart_and_the_bad_one_is_named() {
        let mut other = r(3, 0, 1, Some("x"));
        other.key = b"other".to_vec();
        let h = [w(1, 0, Some(1), "a"), r(2, 2, 3, Some("a")), other];
        assert_eq!(check(&h).unwrap_err().key, b"other");
    }

    #[test]
    fn concurrent_clients_with_interleaved_answers_are_searched_through() {
        // Four clients, each writing its own values and reading, overlapping
        // in pairs: a valid order exists only if the search backtracks.
        let mut h = Vec::new();
        for round in 0..50u64 {
            let t = round * 100;
            let (a, b) = (format!("a{round}"), format!("b{round}"));
            h.push(w(1, t, Some(t + 50), &a));
            h.push(w(2, t + 10, Some(t + 60), &b));
            // Sees b, then a: b took effect first, a last.
            h.push(r(3, t + 20, t + 30, Some(&b)));
            h.push(r(4, t + 70, t + 80, Some(&a)));
        }
        assert_eq!(check(&h), Ok(()));
        // A read, after round 49's writes were both answered, of round 48's value.
        h.push(r(5, 4_990, 4_995, Some("a48")));
        assert!(check(&h).is_err());
    }
}
