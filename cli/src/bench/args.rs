//! The flags of `zeroring bench`, parsed by clap (also without the `compare`
//! feature, so `--help` works in every build).

use std::time::Duration;

use clap::Args;

use crate::values;

/// `zeroring bench [--quick] [--rounds N] [--cases a,b] [--impls a,b] [--svg PATH] [--busy-poll US]`.
#[derive(Debug, Args)]
#[command(
    after_help = "Every case runs in N rounds of all implementations in turn and the \
table shows medians (REQ/REP: p50 / p99): a Markdown table on stdout, an SVG chart in a \
file. Needs `cargo run --release --features compare -- bench`."
)]
pub struct BenchArgs {
    /// One round of 10x fewer messages.
    #[arg(long)]
    pub quick: bool,
    /// Rounds per case (default 3, with --quick 1).
    #[arg(long, value_name = "N", value_parser = values::count)]
    pub rounds: Option<usize>,
    /// Only these cases, comma-separated (e.g. rr64,push1k).
    #[arg(long, value_name = "A,B")]
    pub cases: Option<String>,
    /// Only these columns, comma-separated (e.g. 'zeroring handle,libzmq').
    #[arg(long, value_name = "A,B")]
    pub impls: Option<String>,
    /// Where to write the SVG chart.
    #[arg(long, value_name = "PATH", default_value = "bench.svg")]
    pub svg: String,
    /// zeroring's busy-poll latency mode for the REQ/REP sockets, in microseconds.
    #[arg(long, value_name = "US", value_parser = values::micros)]
    pub busy_poll: Option<Duration>,
}
