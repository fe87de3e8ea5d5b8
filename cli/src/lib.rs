//! The command-line interface behind the `zeroring` binary (crate `zeroring-cli`, not
//! published): argument parsing (clap, in `args`) and the subcommands. Output goes to
//! stdout; zeroring's libraries never print.
//!
//! The everyday tools: `cat` (one subcommand per socket type: `push`, `pull`, `req`,
//! ...), `proxy` and `monitor`, which share the socket set-up of `socket`. Then the
//! measuring commands (`demo`, `perf`, `soak`, `bench`), `curve` and `log`.
//!
//! It also holds the one bench harness: `zeroring bench` and the criterion benches in
//! `cli/benches/` (through `measure`) run every case on the same code, with the
//! comparison peers (libzmq, zmq.rs and rzmq on tokio, monocoque on compio, raw TCP)
//! behind the `compare` feature.
#![warn(missing_docs)]

mod args;
mod bench;
#[cfg(feature = "compare")]
pub use bench::{CASE_NAMES, IMPLEMENTATIONS, is_latency_case, measure};
mod cat;
mod curve;
mod demo;
pub mod faults;
mod log;
mod monitor;
mod perf;
mod progress;
mod proxy;
mod soak;
mod socket;
mod values;

use std::fmt;

use clap::Parser;

use args::{Cli, Command};
use zeroring::SocketType;

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

/// Runs the CLI with the arguments after the program name. Help, version and
/// argument errors are printed by clap, which then exits the process (status 0
/// for help, 2 for a wrong argument).
pub fn run(args: &[String]) -> Result<(), CliError> {
    let cli = Cli::parse_from(std::iter::once("zeroring".to_string()).chain(args.iter().cloned()));
    dispatch(cli.command)
}

/// Runs one parsed command.
fn dispatch(command: Command) -> Result<(), CliError> {
    match command {
        Command::Push(a) => cat::run(SocketType::Push, &a),
        Command::Pull(a) => cat::run(SocketType::Pull, &a),
        Command::Req(a) => cat::run(SocketType::Req, &a),
        Command::Rep(a) => cat::run(SocketType::Rep, &a),
        Command::Pub(a) => cat::run(SocketType::Pub, &a),
        Command::Sub(a) => cat::run(SocketType::Sub, &a),
        Command::Xpub(a) => cat::run(SocketType::Xpub, &a),
        Command::Xsub(a) => cat::run(SocketType::Xsub, &a),
        Command::Dealer(a) => cat::run(SocketType::Dealer, &a),
        Command::Router(a) => cat::run(SocketType::Router, &a),
        Command::Pair(a) => cat::run(SocketType::Pair, &a),
        Command::Proxy(a) => proxy::run(&a),
        Command::Monitor(a) => monitor::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Perf(a) => perf::run(&a),
        Command::Soak(a) => soak::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Curve(a) => curve::run(&a),
        Command::Log(a) => log::run(&a.args),
        Command::Completions { shell } => {
            args::completions(shell, &mut std::io::stdout().lock());
            Ok(())
        }
    }
}

/// The value after `--name`, if the flag is present (the `log` subcommand parses
/// its own arguments with it).
pub(crate) fn text_flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// Reads `--name VALUE` pairs into numbers, with defaults (for the `log` subcommand).
pub(crate) fn numeric_flag(args: &[String], name: &str, default: usize) -> Result<usize, CliError> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.replace('_', "").parse().ok())
            .ok_or_else(|| CliError(format!("{name} needs a whole number"))),
    }
}
