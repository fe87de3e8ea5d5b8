//! `zeroring perf ...`: the four tools of libzmq's perf/ directory with the same
//! arguments and the same output lines, so either side can run against libzmq's own
//! `local_lat`/`remote_lat`/`local_thr`/`remote_thr` or a pyzmq port of them.
//!
//! - `local_lat <bind-to> <message-size> <roundtrip-count>`: REP echo server.
//! - `remote_lat <connect-to> <message-size> <roundtrip-count>`: REQ client; prints
//!   the average one-way latency (round trip / 2), like libzmq.
//! - `local_thr <bind-to> <message-size> <message-count>`: PULL; times from the
//!   first message to the last and prints msg/s and Mb/s.
//! - `remote_thr <connect-to> <message-size> <message-count>`: PUSH sender.
//!
//! zeroring only, after the arguments: `--busy-poll US` turns on the sockets'
//! busy-poll latency mode (`set_busy_poll`); `--spin US` sets the REQ/REP adaptive
//! spin before parking (`set_adaptive_spin`, on by default) and `--spin off` turns it
//! off.

use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, ValueEnum};

use crate::CliError;
use crate::values;
use zeroring::{PullSocket, PushSocket, RepSocket, ReqSocket};

/// The four tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Tool {
    /// REP echo server.
    #[value(name = "local_lat")]
    LocalLat,
    /// REQ client; prints the average one-way latency.
    #[value(name = "remote_lat")]
    RemoteLat,
    /// PULL; prints msg/s and Mb/s.
    #[value(name = "local_thr")]
    LocalThr,
    /// PUSH sender.
    #[value(name = "remote_thr")]
    RemoteThr,
}

/// `zeroring perf TOOL ENDPOINT SIZE COUNT [--busy-poll US] [--spin US|off]`.
#[derive(Debug, Args)]
pub struct PerfArgs {
    /// Which of libzmq's perf tools.
    pub tool: Tool,
    /// Where to bind (local_*) or connect (remote_*).
    pub endpoint: String,
    /// Message size in bytes.
    #[arg(value_parser = values::count)]
    pub size: usize,
    /// Round trips (lat) or messages (thr).
    #[arg(value_parser = values::count)]
    pub count: usize,
    /// zeroring's busy-poll latency mode (`set_busy_poll`), in microseconds.
    #[arg(long, value_name = "US", value_parser = values::micros)]
    pub busy_poll: Option<Duration>,
    /// The REQ/REP adaptive spin before parking, in microseconds, or `off`.
    #[arg(long, value_name = "US|off", value_parser = spin)]
    pub spin: Option<Spin>,
}

/// `--spin US|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spin(Option<Duration>);

fn spin(text: &str) -> Result<Spin, String> {
    if text == "off" {
        return Ok(Spin(None));
    }
    values::micros(text).map(|d| Spin(Some(d)))
}

impl PerfArgs {
    /// Applies `--busy-poll` and `--spin` to a receiving socket.
    fn configure(&self, socket: &zeroring::SocketBase) {
        socket
            .set_busy_poll(self.busy_poll)
            .expect("a valid option");
        if let Some(Spin(spin)) = self.spin {
            socket.set_adaptive_spin(spin).expect("a valid option");
        }
    }

    fn count(&self) -> usize {
        self.count.max(1)
    }
}

/// Runs one perf tool.
pub fn run(a: &PerfArgs) -> Result<(), CliError> {
    let rt = zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start compio: {e}")))?;
    match a.tool {
        Tool::LocalLat => rt.block_on(local_lat(a)),
        Tool::RemoteLat => rt.block_on(remote_lat(a)),
        Tool::LocalThr => rt.block_on(local_thr(a)),
        Tool::RemoteThr => rt.block_on(remote_thr(a)),
    }
}

async fn local_lat(a: &PerfArgs) -> Result<(), CliError> {
    let rep = RepSocket::new();
    a.configure(&rep);
    rep.bind(&a.endpoint).await?;
    for _ in 0..a.count() {
        let m = rep.recv().await?;
        if m.byte_len() != a.size {
            return Err(CliError(format!(
                "message of bad size: {} instead of {}",
                m.byte_len(),
                a.size
            )));
        }
        rep.send(m).await?;
    }
    rep.close().await;
    Ok(())
}

async fn remote_lat(a: &PerfArgs) -> Result<(), CliError> {
    let req = ReqSocket::new();
    a.configure(&req);
    req.connect(&a.endpoint).await?;
    let body = Bytes::from(vec![0u8; a.size]);
    let start = Instant::now();
    for _ in 0..a.count() {
        req.send(body.clone()).await?;
        let m = req.recv().await?;
        if m.byte_len() != a.size {
            return Err(CliError(format!(
                "message of bad size: {} instead of {}",
                m.byte_len(),
                a.size
            )));
        }
    }
    let elapsed = start.elapsed();
    let latency_us = elapsed.as_secs_f64() * 1e6 / (a.count() as f64 * 2.0);
    println!("message size: {} [B]", a.size);
    println!("roundtrip count: {}", a.count());
    println!("average latency: {latency_us:.3} [us]");
    req.close().await;
    Ok(())
}

async fn local_thr(a: &PerfArgs) -> Result<(), CliError> {
    let pull = PullSocket::new();
    a.configure(&pull);
    pull.bind(&a.endpoint).await?;
    let first = pull.recv().await?;
    let start = Instant::now();
    let mut bad = usize::from(first.byte_len() != a.size);
    for _ in 1..a.count() {
        let m = pull.recv().await?;
        bad += usize::from(m.byte_len() != a.size);
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    if bad > 0 {
        return Err(CliError(format!("{bad} messages of bad size")));
    }
    let throughput = a.count() as f64 / elapsed;
    let megabits = throughput * a.size as f64 * 8.0 / 1e6;
    println!("message size: {} [B]", a.size);
    println!("message count: {}", a.count());
    println!("mean throughput: {} [msg/s]", throughput as u64);
    println!("mean throughput: {megabits:.3} [Mb/s]");
    Ok(())
}

async fn remote_thr(a: &PerfArgs) -> Result<(), CliError> {
    let push = PushSocket::new();
    push.connect(&a.endpoint).await?;
    let body = Bytes::from(vec![0u8; a.size]);
    for _ in 0..a.count() {
        push.send(body.clone()).await?;
    }
    push.close().await;
    Ok(())
}
