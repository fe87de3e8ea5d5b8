//! `zeroring monitor ENDPOINT...`: makes a socket of the given type connect to (or
//! bind) the endpoints and prints every monitor event as it happens: connections,
//! retries, handshakes and why they failed, disconnections with their reasons. For
//! debugging reconnects, heartbeats and security set-ups. Messages that arrive are
//! read and dropped, so the connection keeps flowing.
//!
//! - `event`: how one event is printed.

mod event;

use std::io::Write;
use std::time::{Duration, Instant};

use clap::Args;
use zeroring::{Context, Error, SocketType};

use crate::socket::{ALL_TYPES, Attach, SocketArgs, attach, socket_type};
use crate::{CliError, values};

/// `zeroring monitor ENDPOINT... [--type T] [--bind] [--json] [--count N] [--timeout MS]`.
#[derive(Debug, Args)]
#[command(after_help = "\
Example (a ROUTER that binds at 2 s and closes at 3.7 s):
  zeroring monitor tcp://127.0.0.1:5555 --reconnect-ivl 500
      1.507 s  CONNECT_RETRIED        connect to tcp://127.0.0.1:5555 failed (Connection refused (os error 111)); retrying
      2.012 s  CONNECTED              connected to tcp://127.0.0.1:5555
      2.013 s  HANDSHAKE_SUCCEEDED    handshake with tcp://127.0.0.1:5555 done
      3.676 s  DISCONNECTED           disconnected from tcp://127.0.0.1:5555: peer closed the connection")]
pub struct MonitorArgs {
    /// The endpoints to connect to (or bind, with --bind).
    #[arg(required = true, value_name = "ENDPOINT")]
    pub endpoints: Vec<String>,
    /// The socket type (pick one the peer accepts: a DEALER talks to ROUTER, REP and DEALER).
    #[arg(long = "type", short = 'T', value_parser = socket_type(ALL_TYPES), default_value = "dealer")]
    pub kind: SocketType,
    /// Bind to the endpoints instead of connecting.
    #[arg(long)]
    pub bind: bool,
    /// One JSON object per event.
    #[arg(long)]
    pub json: bool,
    /// Stop after this many events.
    #[arg(long, short = 'n', value_name = "N", value_parser = values::positive)]
    pub count: Option<usize>,
    /// Fail when no event comes for this long.
    #[arg(long, short = 't', value_name = "MS", value_parser = values::millis)]
    pub timeout: Option<Duration>,
    /// Socket options.
    #[command(flatten)]
    pub socket: SocketArgs,
}

/// Runs the monitor until `--count` events, a `--timeout`, or forever.
pub fn run(a: &MonitorArgs) -> Result<(), CliError> {
    let ty = a.kind;
    let ctx = Context::new()?;
    let socket = ctx.socket(ty)?;
    a.socket.apply(&socket, ty)?;
    let events = socket.monitor()?;
    let start = Instant::now();
    let places = if a.bind {
        Attach {
            bind: a.endpoints.clone(),
            connect: Vec::new(),
        }
    } else {
        Attach {
            bind: Vec::new(),
            connect: a.endpoints.clone(),
        }
    };
    attach(&socket, ty.as_str(), &places)?;
    let socket = std::sync::Arc::new(socket);
    if drains(ty) {
        let socket = socket.clone();
        std::thread::Builder::new()
            .name("zeroring-drain".into())
            .spawn(move || while socket.recv().is_ok() {})
            .map_err(|e| CliError(format!("cannot start the drain thread: {e}")))?;
    }
    let out = &mut std::io::stdout().lock();
    let mut seen = 0;
    while a.count.is_none_or(|c| seen < c) {
        let event = match a.timeout {
            Some(t) => events.recv_timeout(t).map_err(|e| match e {
                Error::Timeout(_) => {
                    CliError(format!("no event within {} ms (--timeout)", t.as_millis()))
                }
                e => e.into(),
            })?,
            None => events.recv()?,
        };
        let at = start.elapsed();
        let line = if a.json {
            event::json(at, &event)
        } else {
            event::text(at, &event)
        };
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| CliError(format!("cannot write to stdout: {e}")))?;
        seen += 1;
    }
    Ok(())
}

/// Whether the monitor reads and drops what arrives (types whose receives need no
/// send in between and that can receive at all).
fn drains(ty: SocketType) -> bool {
    !matches!(
        ty,
        SocketType::Req | SocketType::Rep | SocketType::Push | SocketType::Pub
    )
}
