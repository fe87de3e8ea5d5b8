//! Runs `zeroring bench`: checks the flags, runs the chosen cases in rounds (every
//! implementation once per round, round after round, so that a slow phase of the
//! machine hits all of them alike), and hands the cells to the report and the chart.
//! Each run goes to its implementation's module on a thread of its own with a time
//! limit. [`measure`] runs one case once for the criterion benches.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::args::BenchArgs;
use super::case::{CASES, Case, Security};
use super::columns::IMPLS;
use super::figure::RunResult;
use super::outcome::{Cell, Outcome};
use super::{handle, libzmq, libzmq_curve, monocoque, rawtcp, report, rzmq, svg, zeroring, zmqrs};
use crate::CliError;
use crate::progress::Progress;

/// Rounds of a default run (`--rounds N` changes it; `--quick` runs one).
const DEFAULT_ROUNDS: usize = 3;

/// Runs one case for one implementation with `count` messages (REQ/REP: round
/// trips; DEALER/ROUTER: per DEALER; pairs: per pair) on the same harness as the
/// table, and returns its figure: median round trip in µs, or messages per second.
/// `Ok(None)` when the implementation has no such pattern, or cannot run it on this
/// machine (libzmq's CURVE cases without a system libzmq built with CURVE). The
/// criterion benches in `cli/benches/` (`compare`, `reqrep`, `fanout`) drive this.
pub fn measure(name: &str, implementation: &str, count: usize) -> Result<Option<f64>, String> {
    let mut case = *CASES
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("unknown case {name:?}"))?;
    if !IMPLS.contains(&implementation) {
        return Err(format!("unknown implementation {implementation:?}"));
    }
    case.count = count.max(1);
    match run_one(implementation, case) {
        Outcome::Value(v) => Ok(Some(v.value)),
        Outcome::NotApplicable | Outcome::Unavailable(_) | Outcome::Skipped => Ok(None),
        Outcome::Stalled => Err("stalled".into()),
        Outcome::Failed(e) => Err(e),
    }
}

/// Runs `f` on its own thread; gives up after `limit` (the thread is left behind).
fn with_timeout(limit: Duration, f: impl FnOnce() -> RunResult + Send + 'static) -> Outcome {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .unwrap_or_else(|_| Err("panicked".into()));
        tx.send(r).ok();
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(Some(v))) => Outcome::Value(v),
        Ok(Ok(None)) => Outcome::NotApplicable,
        Ok(Err(e)) => Outcome::Failed(e),
        Err(_) => Outcome::Stalled,
    }
}

/// The time limit of one run of `imp`, in seconds.
fn time_limit(imp: &str) -> u64 {
    match imp {
        "zmq.rs" | "rzmq" | "monocoque" | "monocoque flush" => 10,
        _ => 20,
    }
}

/// One run of `case` by the implementation named `imp`.
fn run_one(imp: &str, case: Case) -> Outcome {
    let f: fn(Case) -> RunResult = match imp {
        "zeroring" => zeroring::run,
        "zeroring handle" => handle::run,
        // The CURVE cases need the system libzmq; without it the cell says so.
        "libzmq" if case.security() == Security::Curve => {
            if let Err(why) = libzmq_curve::available() {
                return Outcome::Unavailable(why);
            }
            libzmq_curve::run
        }
        "libzmq" => libzmq::run,
        "zmq.rs" => zmqrs::run,
        "rzmq" => {
            if let Err(why) = rzmq::available() {
                return Outcome::Unavailable(why);
            }
            rzmq::run
        }
        "monocoque" => monocoque::run_eager,
        "monocoque flush" => monocoque::run_coalescing,
        _ => rawtcp::run,
    };
    with_timeout(Duration::from_secs(time_limit(imp)), move || f(case))
}

/// A comma-separated list of names (`--cases rr64,push64`), each checked against
/// `known`; `None` without the flag.
fn names_flag(
    list: Option<&str>,
    what: &str,
    known: &[&str],
) -> Result<Option<Vec<String>>, CliError> {
    let Some(list) = list else {
        return Ok(None);
    };
    let names: Vec<String> = list.split(',').map(|n| n.trim().to_string()).collect();
    if let Some(name) = names.iter().find(|n| !known.contains(&n.as_str())) {
        return Err(CliError(format!(
            "unknown {what} {name:?}; known: {}",
            known.join(",")
        )));
    }
    Ok(Some(names))
}

/// What a run covers, from the flags.
struct Plan {
    cases: Vec<Case>,
    /// The implementations to run (`--impls`), `None` for all.
    impls: Option<Vec<String>>,
    rounds: usize,
    quick: bool,
    svg_path: String,
}

impl Plan {
    fn from_args(args: &BenchArgs) -> Result<Plan, CliError> {
        let quick = args.quick;
        let rounds = args
            .rounds
            .unwrap_or(if quick { 1 } else { DEFAULT_ROUNDS });
        if rounds == 0 {
            return Err(CliError("--rounds needs at least 1".into()));
        }
        let case_names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        let wanted = names_flag(args.cases.as_deref(), "case", &case_names)?;
        let cases = CASES
            .iter()
            .filter(|c| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.iter().any(|n| n == c.name))
            })
            .map(|c| Case {
                count: if quick {
                    (c.count / 10).max(10)
                } else {
                    c.count
                },
                ..*c
            })
            .collect();
        Ok(Plan {
            cases,
            impls: names_flag(args.impls.as_deref(), "implementation", &IMPLS)?,
            rounds,
            quick,
            svg_path: args.svg.clone(),
        })
    }

    /// Runs of the whole plan (for the progress bar).
    fn total_runs(&self) -> u64 {
        let impls = IMPLS.iter().filter(|imp| self.runs(imp)).count();
        (self.cases.len() * self.rounds * impls) as u64
    }

    fn runs(&self, imp: &str) -> bool {
        self.impls
            .as_ref()
            .is_none_or(|w| w.iter().any(|n| n == imp))
    }
}

/// Runs the rounds of one case: every implementation once per round.
fn run_case(plan: &Plan, case: &Case, progress: &Progress) -> Vec<Cell> {
    let mut cells = vec![Cell::default(); IMPLS.len()];
    for round in 1..=plan.rounds {
        for (imp, cell) in IMPLS.iter().zip(cells.iter_mut()) {
            if !plan.runs(imp) {
                if round == 1 {
                    cell.push(Outcome::Skipped);
                }
                continue;
            }
            if !cell.wants_more() {
                continue;
            }
            let t = Instant::now();
            progress.set_message(format!("{} / {imp}", case.title));
            let outcome = run_one(imp, *case);
            progress.inc(1);
            progress.log(&format!(
                "bench: [{round}/{}] {:<38} {:<15} {:>20}  ({:.1} s)",
                plan.rounds,
                case.title,
                imp,
                report::outcome_text(case, &outcome),
                t.elapsed().as_secs_f64()
            ));
            cell.push(outcome);
        }
    }
    cells
}

/// Runs the bench.
pub fn run(args: &BenchArgs) -> Result<(), CliError> {
    if let Some(busy_poll) = args.busy_poll {
        zeroring::set_busy_poll(busy_poll);
    }
    let plan = Plan::from_args(args)?;
    let started = Instant::now();
    let progress = Progress::new(plan.total_runs(), "runs");
    let results: Vec<(Case, Vec<Cell>)> = plan
        .cases
        .iter()
        .map(|case| (*case, run_case(&plan, case, &progress)))
        .collect();
    progress.finish();
    report::print(&results, plan.rounds, plan.quick);
    std::fs::write(&plan.svg_path, svg::chart(&results, plan.rounds))
        .map_err(|e| CliError(format!("cannot write {}: {e}", plan.svg_path)))?;
    eprintln!(
        "bench: done in {:.1} s; chart written to {}",
        started.elapsed().as_secs_f64(),
        plan.svg_path
    );
    Ok(())
}
