//! `zeroring bench`: zeroring side by side with libzmq (crate `zmq`), zmq.rs (crate
//! `zeromq` on tokio), rzmq (on tokio with its io_uring backend), monocoque (crate
//! `monocoque-rs` on compio, eager and with coalescing plus `flush()`) and raw TCP
//! (blocking std sockets, TCP_NODELAY, 2-byte length header) over loopback, every peer
//! on its own thread (like separate processes). zeroring runs twice: its native compio
//! sockets ("zeroring") and its thread-safe handles from a `Context` used from plain
//! threads ("zeroring handle"); the handles also run from tokio tasks (`push64-tokio`,
//! against zmq.rs on the same runtime). The pairs cases (`pairs1`, `pairs2`,
//! `rr-pairs1`, `rr-pairs2`) run N independent PUSH/PULL or REQ/REP pairs over N I/O
//! threads for the 1 -> 2 scaling. The `curve-*` cases repeat REQ/REP and PUSH/PULL
//! over tcp with CURVE (issue 13); libzmq's column for them loads the system
//! `libzmq.so.5` at run time (module `libzmq_curve`), because the vendored libzmq of
//! crate `zmq` is built without CURVE.
//!
//! Every case runs in rounds (each implementation once per round) and the table shows
//! per-cell medians. Prints a Markdown table on stdout (progress on stderr) and writes
//! an SVG bar chart. Needs the `compare` cargo feature, which pulls in the comparison
//! peers and tokio; without it the command only prints how to enable it.
//!
//! Layout: `case` (the cases), `columns` (the implementations), `figure` (what a run
//! measures), `outcome` (runs and cells), `args` (the flags), `runner` (the rounds), `report` and
//! `targets` (the Markdown), `svg` (the chart), and one module per implementation.

mod args;
#[cfg(feature = "compare")]
mod case;
#[cfg(feature = "compare")]
mod columns;
#[cfg(feature = "compare")]
mod figure;
#[cfg(feature = "compare")]
mod handle;
#[cfg(feature = "compare")]
mod handle_pairs;
#[cfg(feature = "compare")]
mod libzmq;
#[cfg(feature = "compare")]
mod libzmq_curve;
#[cfg(feature = "compare")]
mod libzmq_pairs;
#[cfg(feature = "compare")]
mod monocoque;
#[cfg(feature = "compare")]
mod monocoque_pubsub;
#[cfg(feature = "compare")]
mod outcome;
#[cfg(feature = "compare")]
mod rawtcp;
#[cfg(feature = "compare")]
mod report;
#[cfg(feature = "compare")]
mod runner;
#[cfg(feature = "compare")]
mod rzmq;
#[cfg(feature = "compare")]
mod svg;
#[cfg(feature = "compare")]
mod targets;
#[cfg(feature = "compare")]
mod zeroring;
#[cfg(feature = "compare")]
mod zeroring_pairs;
#[cfg(feature = "compare")]
mod zmqrs;

#[cfg(not(feature = "compare"))]
use crate::CliError;

#[cfg(not(feature = "compare"))]
/// Without the `compare` feature: explains how to build the command.
pub fn run(_args: &BenchArgs) -> Result<(), CliError> {
    Err(CliError(
        "the bench command needs the compare feature: cargo run --release --features compare -- bench"
            .into(),
    ))
}

pub use args::BenchArgs;
#[cfg(feature = "compare")]
pub use case::{CASE_NAMES, is_latency_case};
#[cfg(feature = "compare")]
pub use columns::IMPLEMENTATIONS;
#[cfg(feature = "compare")]
pub use runner::{measure, run};
