//! `zeroring proxy broker|forwarder|streamer ...`: libzmq's built-in proxy from the
//! shell (zeroring's `proxy_steerable` over thread-safe sockets), with an optional
//! capture socket and a steerable REP control socket; and `zeroring proxy control EP
//! COMMAND`, which steers a running proxy (zeroring's or libzmq's).
//!
//! - `serve`: runs a proxy and its command loop.
//! - `control`: the commands and the REQ that sends them.
//! - `stats`: the STATISTICS reply.

mod control;
mod serve;
mod stats;

use std::time::Duration;

use clap::{Args, Subcommand};
use zeroring::{Context, SocketType};

use crate::socket::{Place, socket_type};
use crate::{CliError, values};
use control::{Command, Controller};

/// `zeroring proxy ...`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// What to run.
    #[command(subcommand)]
    pub command: ProxyCommand,
}

/// The proxy subcommands.
#[derive(Debug, Subcommand)]
pub enum ProxyCommand {
    /// Request-reply broker: ROUTER frontend (clients' REQ/DEALER) and DEALER backend
    /// (workers' REP/DEALER).
    Broker(ServeArgs),
    /// Pub-sub forwarder: XSUB frontend (publishers) and XPUB backend (subscribers).
    Forwarder(ServeArgs),
    /// Pipeline streamer: PULL frontend (PUSH senders) and PUSH backend (PULL workers).
    Streamer(ServeArgs),
    /// Send PAUSE, RESUME, TERMINATE or STATISTICS to a running proxy's control socket.
    Control(ControlArgs),
}

/// The flags of `proxy broker|forwarder|streamer`.
#[derive(Debug, Args)]
#[command(after_help = "\
Endpoints are czmq-style: @EP or a bare EP binds, >EP connects. When the proxy ends,
messages still queued get 1 s (LINGER) to go out.
While it runs, type pause, resume, stats or terminate on stdin (or send them to
--control, e.g. `zeroring proxy control tcp://127.0.0.1:5570 stats`).

Example: zeroring proxy broker --frontend tcp://*:5559 --backend tcp://*:5560 --control tcp://127.0.0.1:5570")]
pub struct ServeArgs {
    /// Frontend endpoints (repeatable).
    #[arg(long, short = 'f', required = true, value_name = "EP", value_parser = Place::parse)]
    pub frontend: Vec<Place>,
    /// Backend endpoints (repeatable).
    #[arg(long, short = 'B', required = true, value_name = "EP", value_parser = Place::parse)]
    pub backend: Vec<Place>,
    /// Send a copy of every forwarded message to this capture endpoint (repeatable).
    #[arg(long, value_name = "EP", value_parser = Place::parse)]
    pub capture: Vec<Place>,
    /// The capture socket's type (PUB never holds the proxy up; PUSH waits for a PULL).
    #[arg(long, value_parser = socket_type(&["pub", "push", "pair", "dealer"]), default_value = "pub", requires = "capture")]
    pub capture_type: SocketType,
    /// A REP control socket here takes PAUSE, RESUME, TERMINATE and STATISTICS (repeatable).
    #[arg(long, value_name = "EP", value_parser = Place::parse)]
    pub control: Vec<Place>,
    /// Print the statistics this often.
    #[arg(long, value_name = "MS", value_parser = values::millis)]
    pub stats_every: Option<Duration>,
    /// Print statistics as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `zeroring proxy control EP COMMAND`.
#[derive(Debug, Args)]
pub struct ControlArgs {
    /// The proxy's control endpoint (a REP socket).
    pub endpoint: String,
    /// What to send.
    #[arg(value_enum)]
    pub command: Command,
    /// Print the statistics as JSON.
    #[arg(long)]
    pub json: bool,
    /// How long to wait for the reply.
    #[arg(long, value_name = "MS", default_value = "5000", value_parser = values::millis)]
    pub timeout: Duration,
}

/// Runs `zeroring proxy ...`.
pub fn run(a: &ProxyArgs) -> Result<(), CliError> {
    match &a.command {
        ProxyCommand::Broker(s) => serve::serve(SocketType::Router, SocketType::Dealer, s),
        ProxyCommand::Forwarder(s) => serve::serve(SocketType::Xsub, SocketType::Xpub, s),
        ProxyCommand::Streamer(s) => serve::serve(SocketType::Pull, SocketType::Push, s),
        ProxyCommand::Control(c) => control(c),
    }
}

/// `proxy control`: one command, its reply printed.
fn control(a: &ControlArgs) -> Result<(), CliError> {
    let ctx = Context::new()?;
    let controller = Controller::connect(&ctx, &a.endpoint, a.timeout)?;
    match a.command {
        Command::Statistics => {
            println!("{}", controller.statistics()?.line(a.json));
        }
        command => {
            controller.send(command)?;
            println!("{}: ok", command.wire());
        }
    }
    Ok(())
}
