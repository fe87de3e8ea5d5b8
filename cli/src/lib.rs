//! The command-line interface behind the `zeroring` binary (crate `zeroring-cli`, not
//! published): argument parsing and the subcommands. Output goes to stdout; zeroring's
//! libraries never print.
//!
//! It also holds the one bench harness: `zeroring bench` and the criterion benches in
//! `cli/benches/` (through `measure`) run every case on the same code, with the
//! comparison peers (libzmq, zmq.rs and rzmq on tokio, monocoque on compio, raw TCP)
//! behind the `compare` feature.
#![warn(missing_docs)]

mod bench;
#[cfg(feature = "compare")]
pub use bench::{CASE_NAMES, IMPLEMENTATIONS, is_latency_case, measure};
mod curve;
mod demo;
pub mod faults;
mod log;
mod perf;
mod soak;

use std::fmt;

/// A CLI failure, printed by the binary.
#[derive(Debug)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

impl From<zeroring::Error> for CliError {
    fn from(e: zeroring::Error) -> CliError {
        CliError(e.to_string())
    }
}

const USAGE: &str = "\
usage: zeroring <command> [options]

commands:
  demo [--messages N] [--size BYTES] [--round-trips N]
        run REQ/REP round trips and a PUSH/PULL stream between two threads
        over loopback TCP and print latency and throughput
  soak [--minutes N] [--report-secs S]
        run PUSH/PULL and DEALER/ROUTER traffic with reconnect churn over
        loopback TCP for N minutes (default 10), verify order and counts,
        print VmRSS every S seconds (default 30); fails if RSS grows > 10%
        after warm-up
  perf local_lat|remote_lat|local_thr|remote_thr <endpoint> <message-size> <count>
        libzmq's perf tools with the same arguments and output lines
  bench [--quick] [--rounds N] [--cases a,b] [--impls a,b] [--svg PATH]
        zeroring (native sockets and thread-safe handles) vs libzmq vs zmq.rs
        vs rzmq vs monocoque (eager, and coalescing with flush) vs raw TCP
        over loopback (REQ/REP, PUSH/PULL, PUB/SUB, DEALER/ROUTER, PUSH/PULL
        from tokio tasks, N PUSH/PULL or REQ/REP pairs over N I/O threads,
        inproc, CURVE); every case runs in N rounds (default 3, --quick: 1
        round of 10x fewer messages) of all implementations in turn and the
        table shows medians (REQ/REP: p50 / p99); Markdown table on stdout,
        SVG chart (default bench.svg); --impls keeps only the named columns
        (e.g. --impls 'zeroring handle,libzmq'); needs `--features compare`
  help  print this text
";

/// The whole usage text, the curve and log subcommands included.
fn usage() -> String {
    format!(
        "{USAGE}\nsecurity:\n{}\nreplicated log:\n{}",
        curve::USAGE,
        log::USAGE
    )
}

/// Runs the CLI with the arguments after the program name.
pub fn run(args: &[String]) -> Result<(), CliError> {
    match args.first().map(String::as_str) {
        None | Some("help" | "--help" | "-h") => {
            print!("{}", usage());
            Ok(())
        }
        Some("bench") => bench::run(&args[1..]),
        Some("demo") => demo::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("perf") => perf::run(&args[1..]),
        Some("log") => log::run(&args[1..]),
        Some("curve") => curve::run(&args[1..]),
        Some(other) => Err(CliError(format!(
            "unknown command {other:?}\n\n{}",
            usage()
        ))),
    }
}

/// The value after `--name`, if the flag is present.
pub(crate) fn text_flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// Reads `--name VALUE` pairs into numbers, with defaults.
pub(crate) fn numeric_flag(args: &[String], name: &str, default: usize) -> Result<usize, CliError> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.replace('_', "").parse().ok())
            .ok_or_else(|| CliError(format!("{name} needs a whole number"))),
    }
}
