//! `zeroring soak`: a long run of traffic with reconnect churn over loopback TCP, to
//! catch leaks and ordering bugs that short tests miss.
//!
//! A server thread (one compio runtime) binds a PULL and a ROUTER. A client thread
//! (its own runtime) loops: create a PUSH and a DEALER (with a fresh routing id),
//! connect, send a burst of sequence-numbered messages of random size, do a few
//! request/replies through the ROUTER, close both and start over. Every 50th cycle
//! the server drops its PULL and binds a new one on the same port in the middle of
//! the burst, so the PUSH has to reconnect. The server checks per-connection order,
//! counts and a checksum of every body; the main thread prints VmRSS every few
//! seconds and compares the end of the run with the state after warm-up.
//!
//! This file parses the arguments and runs the two threads; the rest:
//!
//! - `wire`: the burst message format and its verifier, the request frames.
//! - `server`: the server thread (PULL and ROUTER).
//! - `client`: the client thread (the cycles).
//! - `report`: the shared counters, VmRSS, the report lines and the verdict.

mod client;
mod report;
mod server;
mod wire;

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;

use crate::progress::Progress;
use crate::{CliError, values};
use client::REBIND_EVERY;
use report::Counters;
use wire::{BURST, MAX_BODY, MIN_BODY};

/// A soak thread, with what its runtime returned.
type Worker = thread::JoinHandle<Result<(), CliError>>;

/// `zeroring soak [--minutes N] [--report-secs S]`.
#[derive(Debug, Args)]
pub struct SoakArgs {
    /// How long to run, in minutes.
    #[arg(long, default_value = "10", value_parser = values::count)]
    pub minutes: usize,
    /// Print a VmRSS report line every this many seconds.
    #[arg(long, value_name = "S", default_value = "30", value_parser = values::count)]
    pub report_secs: usize,
}

/// Runs the soak.
pub fn run(a: &SoakArgs) -> Result<(), CliError> {
    let minutes = a.minutes;
    let report_secs = a.report_secs.max(1);
    let duration = Duration::from_secs(minutes as u64 * 60);
    let report = Duration::from_secs(report_secs as u64);
    println!(
        "zeroring soak: {minutes} min over loopback TCP, PUSH/PULL bursts of {BURST} messages \
         ({MIN_BODY}..{MAX_BODY} B) and DEALER/ROUTER request/replies, sockets recreated every \
         cycle, PULL re-bound every {REBIND_EVERY} cycles; report every {report_secs} s"
    );

    let counters = Arc::new(Counters::default());
    let (server, pull_ep, router_ep) = start_server(counters.clone())?;
    let start = Instant::now();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let client = start_client(
        pull_ep,
        router_ep,
        start + duration,
        counters.clone(),
        done_tx,
    )?;
    let progress = Progress::new(duration.as_secs(), "s");
    let memory = report::watch(start, report, &done_rx, &counters, &progress);
    progress.finish();
    let memory = memory?;
    join(client, server)?;
    report::verdict(&memory, &counters)
}

/// A compio runtime for one of the soak threads.
fn runtime() -> Result<compio::runtime::Runtime, CliError> {
    zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start compio: {e}")))
}

/// Starts the server thread and waits for its PULL and ROUTER endpoints.
fn start_server(counters: Arc<Counters>) -> Result<(Worker, String, String), CliError> {
    let (ep_tx, ep_rx) = mpsc::channel();
    let server = thread::Builder::new()
        .name("soak-server".into())
        .spawn(move || runtime()?.block_on(server::serve(ep_tx, counters)))
        .map_err(|e| CliError(format!("cannot start the server thread: {e}")))?;
    match ep_rx.recv_timeout(Duration::from_secs(10)) {
        Ok((pull_ep, router_ep)) => Ok((server, pull_ep, router_ep)),
        Err(_) => Err(match server.join() {
            Ok(Err(e)) => e,
            _ => CliError("the server thread did not bind".into()),
        }),
    }
}

/// Starts the client thread, which cycles until `deadline` and then signals `done`.
fn start_client(
    pull_ep: String,
    router_ep: String,
    deadline: Instant,
    counters: Arc<Counters>,
    done: mpsc::Sender<()>,
) -> Result<Worker, CliError> {
    thread::Builder::new()
        .name("soak-client".into())
        .spawn(move || {
            let result = runtime()?.block_on(client::churn(pull_ep, router_ep, deadline, counters));
            done.send(()).ok();
            result
        })
        .map_err(|e| CliError(format!("cannot start the client thread: {e}")))
}

/// Joins both threads, then reports the client's error first, else the server's.
fn join(client: Worker, server: Worker) -> Result<(), CliError> {
    let client_result = client
        .join()
        .map_err(|_| CliError("the client thread panicked".into()))?;
    let server_result = server
        .join()
        .map_err(|_| CliError("the server thread panicked".into()))?;
    client_result?;
    server_result
}
