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

use crate::CliError;
use zeroring::{PullSocket, PushSocket, RepSocket, ReqSocket};

const USAGE: &str = "usage: zeroring perf <local_lat|remote_lat|local_thr|remote_thr> <endpoint> <message-size> <count> [--busy-poll US] [--spin US|off]";

struct Args {
    endpoint: String,
    size: usize,
    count: usize,
    /// `--busy-poll US` (zeroring's busy-poll latency mode; `None`: off).
    busy_poll: Option<Duration>,
    /// `--spin US|off` (the adaptive spin; `None`: the socket's default).
    spin: Option<Option<Duration>>,
}

fn micros(value: &str, flag: &str) -> Result<Duration, CliError> {
    match value.parse::<u64>() {
        Ok(us) if us > 0 => Ok(Duration::from_micros(us)),
        _ => Err(CliError(format!(
            "{flag} takes a number of microseconds above 0\n{USAGE}"
        ))),
    }
}

fn parse(args: &[String]) -> Result<Args, CliError> {
    let positional = args.iter().take_while(|a| !a.starts_with("--")).count();
    let (args, flags) = args.split_at(positional);
    let [endpoint, size, count] = args else {
        return Err(CliError(USAGE.into()));
    };
    let (mut busy_poll, mut spin) = (None, None);
    for pair in flags.chunks(2) {
        match pair {
            [flag, us] if flag == "--busy-poll" => busy_poll = Some(micros(us, flag)?),
            [flag, off] if flag == "--spin" && off == "off" => spin = Some(None),
            [flag, us] if flag == "--spin" => spin = Some(Some(micros(us, flag)?)),
            _ => return Err(CliError(format!("unknown or incomplete flag\n{USAGE}"))),
        }
    }
    let number = |s: &str, what: &str| {
        s.parse::<usize>()
            .map_err(|_| CliError(format!("{what} must be a whole number\n{USAGE}")))
    };
    Ok(Args {
        endpoint: endpoint.clone(),
        size: number(size, "message-size")?,
        count: number(count, "count")?.max(1),
        busy_poll,
        spin,
    })
}

impl Args {
    /// Applies `--busy-poll` and `--spin` to a receiving socket.
    fn configure(&self, socket: &zeroring::SocketBase) {
        socket
            .set_busy_poll(self.busy_poll)
            .expect("a valid option");
        if let Some(spin) = self.spin {
            socket.set_adaptive_spin(spin).expect("a valid option");
        }
    }
}

/// Runs one perf tool.
pub fn run(args: &[String]) -> Result<(), CliError> {
    let Some((tool, rest)) = args.split_first() else {
        return Err(CliError(USAGE.into()));
    };
    let a = parse(rest)?;
    let rt = zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start compio: {e}")))?;
    match tool.as_str() {
        "local_lat" => rt.block_on(local_lat(a)),
        "remote_lat" => rt.block_on(remote_lat(a)),
        "local_thr" => rt.block_on(local_thr(a)),
        "remote_thr" => rt.block_on(remote_thr(a)),
        other => Err(CliError(format!("unknown perf tool {other:?}\n{USAGE}"))),
    }
}

async fn local_lat(a: Args) -> Result<(), CliError> {
    let rep = RepSocket::new();
    a.configure(&rep);
    rep.bind(&a.endpoint).await?;
    for _ in 0..a.count {
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

async fn remote_lat(a: Args) -> Result<(), CliError> {
    let req = ReqSocket::new();
    a.configure(&req);
    req.connect(&a.endpoint).await?;
    let body = Bytes::from(vec![0u8; a.size]);
    let start = Instant::now();
    for _ in 0..a.count {
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
    let latency_us = elapsed.as_secs_f64() * 1e6 / (a.count as f64 * 2.0);
    println!("message size: {} [B]", a.size);
    println!("roundtrip count: {}", a.count);
    println!("average latency: {latency_us:.3} [us]");
    req.close().await;
    Ok(())
}

async fn local_thr(a: Args) -> Result<(), CliError> {
    let pull = PullSocket::new();
    a.configure(&pull);
    pull.bind(&a.endpoint).await?;
    let first = pull.recv().await?;
    let start = Instant::now();
    let mut bad = usize::from(first.byte_len() != a.size);
    for _ in 1..a.count {
        let m = pull.recv().await?;
        bad += usize::from(m.byte_len() != a.size);
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    if bad > 0 {
        return Err(CliError(format!("{bad} messages of bad size")));
    }
    let throughput = a.count as f64 / elapsed;
    let megabits = throughput * a.size as f64 * 8.0 / 1e6;
    println!("message size: {} [B]", a.size);
    println!("message count: {}", a.count);
    println!("mean throughput: {} [msg/s]", throughput as u64);
    println!("mean throughput: {megabits:.3} [Mb/s]");
    Ok(())
}

async fn remote_thr(a: Args) -> Result<(), CliError> {
    let push = PushSocket::new();
    push.connect(&a.endpoint).await?;
    let body = Bytes::from(vec![0u8; a.size]);
    for _ in 0..a.count {
        push.send(body.clone()).await?;
    }
    push.close().await;
    Ok(())
}
