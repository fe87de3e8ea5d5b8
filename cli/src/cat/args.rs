//! [`CatArgs`]: the flags of the socket-type subcommands (`zeroring push`, `pull`,
//! `req`, ...), and [`Format`], how messages are read and printed.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::socket::{Attach, SocketArgs};
use crate::values;

/// How frames are written on stdin and stdout.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Message format")]
pub struct Format {
    /// Split each input line into frames at --separator (a ROUTER's first frame is
    /// the routing id to send to).
    #[arg(long, short = 'm')]
    pub multipart: bool,
    /// Between frames: splits input lines with --multipart, joins printed frames.
    #[arg(long, value_name = "SEP", default_value = "|")]
    pub separator: String,
    /// Frames are hex on input and output.
    #[arg(long, conflicts_with = "base64")]
    pub hex: bool,
    /// Frames are base64 on input and output.
    #[arg(long)]
    pub base64: bool,
    /// Print each received message as a JSON line: {"frames": [...]} (ROUTER and
    /// ROUTER: "routing_id" too); a frame is a string (UTF-8, or hex/base64 with
    /// those flags) or {"hex": "..."} when it is not UTF-8.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `zeroring push|pull|req|rep|pub|sub|xpub|xsub|dealer|router|pair`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
Input: one message per stdin line (or one per --file). Output: one line per received
message, frames joined by --separator, each frame as text when it is printable UTF-8,
else as 0x<hex>. Bound endpoints are reported on stderr (`listening on ...`).

Examples:
  zeroring pull --bind tcp://127.0.0.1:5557 --count 3
  printf 'a\\nb\\n' | zeroring push --connect tcp://127.0.0.1:5557
  echo hello | zeroring req --connect tcp://127.0.0.1:5555
  zeroring sub --connect tcp://127.0.0.1:5556 --subscribe weather
  zeroring router --bind tcp://127.0.0.1:5555 --json")]
pub struct CatArgs {
    /// Where to bind and connect.
    #[command(flatten)]
    pub attach: Attach,
    /// Send each of these files as one message instead of reading stdin (repeatable).
    #[arg(long, value_name = "PATH")]
    pub file: Vec<PathBuf>,
    /// Stop after this many messages: sent (PUSH, PUB), received (the others) or
    /// round trips (REQ, REP).
    #[arg(long, short = 'n', value_name = "N", value_parser = values::positive)]
    pub count: Option<usize>,
    /// Fail when a send or receive waits longer than this (also bounds delivery at
    /// exit, as --linger, unless --linger is given).
    #[arg(long, short = 't', value_name = "MS", value_parser = values::millis)]
    pub timeout: Option<Duration>,
    /// SUB, XSUB: subscribe to messages starting with TOPIC (repeatable; "" for all).
    #[arg(long, short = 's', value_name = "TOPIC")]
    pub subscribe: Vec<String>,
    /// REP: answer each request with itself instead of the next input message.
    #[arg(long)]
    pub echo: bool,
    /// Wait this long after binding and connecting before the first send (lets
    /// subscribers join a PUB).
    #[arg(long, value_name = "MS", value_parser = values::millis)]
    pub delay: Option<Duration>,
    /// How messages are read and printed.
    #[command(flatten)]
    pub format: Format,
    /// Socket options.
    #[command(flatten)]
    pub socket: SocketArgs,
}
