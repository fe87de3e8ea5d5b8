//! What the soak counts and prints: the counters the client and server threads
//! bump, the process's VmRSS, the periodic report lines while the client runs, and
//! the final summary with its PASS/FAIL verdict on memory growth after warm-up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::CliError;
use crate::progress::Progress;

/// Reports from this point on count as "after warm-up".
const WARM_UP: Duration = Duration::from_secs(60);
/// Allowed RSS growth from warm-up to the end, in percent.
const MAX_GROWTH_PCT: f64 = 10.0;

/// Counters shared between the threads for the periodic report.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) cycles: AtomicU64,
    pub(super) messages: AtomicU64,
    pub(super) rebinds: AtomicU64,
    pub(super) round_trips: AtomicU64,
}

/// The VmRSS readings of one run, in kB.
pub(super) struct Memory {
    /// Right after the client thread started.
    start_kb: u64,
    /// One per report line, with the time since the start of the run.
    samples: Vec<(Duration, u64)>,
    /// After the client finished.
    end_kb: u64,
    /// The length of the run when `end_kb` was read.
    elapsed: Duration,
}

/// How often the progress bar (on a terminal) moves.
const TICK: Duration = Duration::from_secs(1);

/// Reads VmRSS, then prints a report line every `every` until `done` fires (or its
/// sender is gone), then a last one; moves `progress` every second meanwhile.
pub(super) fn watch(
    start: Instant,
    every: Duration,
    done: &mpsc::Receiver<()>,
    counters: &Counters,
    progress: &Progress,
) -> Result<Memory, CliError> {
    let start_kb = vm_rss_kb()?;
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let mut next = start + every;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        let wait = if progress.is_shown() {
            wait.min(TICK)
        } else {
            wait
        };
        match done.recv_timeout(wait) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let elapsed = start.elapsed();
                progress.set_position(elapsed.as_secs());
                progress.set_message(format!(
                    "cycles {}  messages {}",
                    counters.cycles.load(Ordering::Relaxed),
                    counters.messages.load(Ordering::Relaxed)
                ));
                if Instant::now() < next {
                    continue;
                }
                let rss = vm_rss_kb()?;
                progress.suspend(|| print_line(elapsed, counters, rss));
                samples.push((elapsed, rss));
                next += every;
            }
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let end_kb = vm_rss_kb()?;
    let elapsed = start.elapsed();
    progress.suspend(|| print_line(elapsed, counters, end_kb));
    Ok(Memory {
        start_kb,
        samples,
        end_kb,
        elapsed,
    })
}

/// Prints the summary of the run and the memory verdict; an error on FAIL.
pub(super) fn verdict(memory: &Memory, counters: &Counters) -> Result<(), CliError> {
    let Memory {
        start_kb,
        end_kb,
        elapsed,
        ..
    } = *memory;
    let (warm_at, warm_kb) = memory
        .samples
        .iter()
        .copied()
        .find(|(t, _)| *t >= WARM_UP)
        .or_else(|| memory.samples.first().copied())
        .unwrap_or((Duration::ZERO, start_kb));
    let growth = (end_kb as f64 - warm_kb as f64) / warm_kb as f64 * 100.0;
    let pass = growth <= MAX_GROWTH_PCT;
    println!(
        "soak: {:.0} s, {} cycles ({} PULL re-binds), {} messages, {} request/replies, \
         all in order, no loss, no duplicates",
        elapsed.as_secs_f64(),
        counters.cycles.load(Ordering::Relaxed),
        counters.rebinds.load(Ordering::Relaxed),
        counters.messages.load(Ordering::Relaxed),
        counters.round_trips.load(Ordering::Relaxed),
    );
    println!(
        "VmRSS at start {start_kb} kB, after warm-up ({:.0} s) {warm_kb} kB, at the end \
         {end_kb} kB: growth {growth:+.1}% (limit {MAX_GROWTH_PCT}%): {}",
        warm_at.as_secs_f64(),
        if pass { "PASS" } else { "FAIL" }
    );
    if pass {
        Ok(())
    } else {
        Err(CliError(format!(
            "soak FAIL: VmRSS grew {growth:+.1}% after warm-up"
        )))
    }
}

/// One periodic report line.
fn print_line(elapsed: Duration, counters: &Counters, rss_kb: u64) {
    println!(
        "[{:>5.0} s] cycles {:>7}  messages {:>10}  VmRSS {rss_kb} kB",
        elapsed.as_secs_f64(),
        counters.cycles.load(Ordering::Relaxed),
        counters.messages.load(Ordering::Relaxed),
    );
}

/// The process's resident set size in kB, from `/proc/self/status`.
fn vm_rss_kb() -> Result<u64, CliError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| CliError(format!("cannot read /proc/self/status: {e}")))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| CliError("no VmRSS line in /proc/self/status".into()))
}
