//! What an implementation scored on a case: one run's [`Outcome`], and a table cell
//! ([`Cell`]) that gathers the outcomes of every round and reduces them to medians, and
//! how two outcomes compare ([`advantage`]).

use super::case::Case;
use super::figure::Figure;

/// What one implementation scored on one case in one run.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// The figure: µs for a latency, else per second.
    Value(Figure),
    /// The implementation has no such pattern or transport.
    NotApplicable,
    /// It has the case, but not on this machine: the reason, and how to get it
    /// (libzmq with CURVE needs the system package).
    Unavailable(String),
    /// No result within the time limit.
    Stalled,
    /// An error, in words.
    Failed(String),
    /// Left out with `--impls`.
    Skipped,
}

impl Outcome {
    /// The run's main figure (median round trip or rate), if it has one.
    pub fn value(&self) -> Option<f64> {
        self.figure().map(|f| f.value)
    }

    /// The run's figure, if it has one.
    pub fn figure(&self) -> Option<Figure> {
        match self {
            Outcome::Value(f) => Some(*f),
            _ => None,
        }
    }

    /// True when running the case again cannot give a figure, or would only cost
    /// another time limit: no such pattern, not on this machine, left out, stalled.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Outcome::NotApplicable | Outcome::Unavailable(_) | Outcome::Skipped | Outcome::Stalled
        )
    }
}

/// One implementation's outcomes on one case, one per round that ran it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Cell {
    runs: Vec<Outcome>,
}

impl Cell {
    /// Adds one round's outcome.
    pub fn push(&mut self, outcome: Outcome) {
        self.runs.push(outcome);
    }

    /// True when another round is worth running (see [`Outcome::is_final`]).
    pub fn wants_more(&self) -> bool {
        !self.runs.iter().any(Outcome::is_final)
    }

    /// How many rounds gave a figure.
    pub fn valued(&self) -> usize {
        self.runs.iter().filter(|o| o.figure().is_some()).count()
    }

    /// The cell as one outcome: the medians of the rounds that gave a figure (main
    /// figure and 99th percentile taken separately), else the first round's outcome.
    pub fn summary(&self) -> Outcome {
        let figures: Vec<Figure> = self.runs.iter().filter_map(Outcome::figure).collect();
        if figures.is_empty() {
            return self.runs.first().cloned().unwrap_or(Outcome::Skipped);
        }
        let p99s: Vec<f64> = figures.iter().filter_map(|f| f.p99).collect();
        Outcome::Value(Figure {
            value: median(figures.iter().map(|f| f.value).collect()),
            p99: (!p99s.is_empty()).then(|| median(p99s)),
        })
    }
}

/// The advantage of `a` over `b` as a number: > 1 means `a` is better.
pub(crate) fn advantage(case: &Case, a: &Outcome, b: &Outcome) -> Option<f64> {
    match (a.value(), b.value()) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
            Some(if case.is_latency() { b / a } else { a / b })
        }
        _ => None,
    }
}

/// [`advantage`] for the table: `1.23x`, or `-` without both figures.
pub(crate) fn ratio(case: &Case, a: &Outcome, b: &Outcome) -> String {
    advantage(case, a, b).map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(v: f64) -> Outcome {
        Outcome::Value(Figure {
            value: v,
            p99: None,
        })
    }

    #[test]
    fn a_cell_is_the_median_of_its_rounds() {
        let mut cell = Cell::default();
        for v in [3.0, 1.0, 2.0] {
            cell.push(rate(v));
        }
        assert_eq!(cell.summary().value(), Some(2.0));
        assert_eq!(cell.valued(), 3);
    }

    #[test]
    fn percentiles_take_their_own_median() {
        let mut cell = Cell::default();
        for (p50, p99) in [(10.0, 90.0), (30.0, 20.0)] {
            cell.push(Outcome::Value(Figure {
                value: p50,
                p99: Some(p99),
            }));
        }
        assert_eq!(cell.summary().figure().and_then(|f| f.p99), Some(55.0));
        assert_eq!(cell.summary().value(), Some(20.0));
    }

    #[test]
    fn a_stalled_round_stops_the_cell_and_failures_do_not_hide_figures() {
        let mut cell = Cell::default();
        cell.push(Outcome::Failed("x".into()));
        assert!(cell.wants_more());
        cell.push(rate(5.0));
        cell.push(Outcome::Stalled);
        assert!(!cell.wants_more());
        assert_eq!(cell.summary().value(), Some(5.0));
        assert_eq!(cell.valued(), 1);
    }
}
