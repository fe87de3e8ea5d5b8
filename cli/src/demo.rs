//! `zeroring demo`: a REQ/REP round-trip run and a PUSH/PULL stream, each side on its
//! own thread and compio runtime (like two processes), over loopback TCP.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;

use clap::Args;

use crate::{CliError, values};
use zeroring::{PullSocket, PushSocket, RepSocket, ReqSocket};

/// `zeroring demo [--messages N] [--size BYTES] [--round-trips N]`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Messages in the PUSH/PULL stream.
    #[arg(long, default_value = "1000000", value_parser = values::count)]
    pub messages: usize,
    /// Message size in bytes.
    #[arg(long, value_name = "BYTES", default_value = "64", value_parser = values::count)]
    pub size: usize,
    /// REQ/REP round trips.
    #[arg(long, default_value = "20000", value_parser = values::count)]
    pub round_trips: usize,
}

/// Runs the demo.
pub fn run(a: &DemoArgs) -> Result<(), CliError> {
    let (round_trips, messages, size) = (a.round_trips, a.messages, a.size);
    println!("zeroring demo: loopback TCP, two threads, one compio runtime each");
    req_rep(round_trips, size)?;
    push_pull(messages, size)?;
    Ok(())
}

fn runtime() -> Result<compio::runtime::Runtime, CliError> {
    zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start compio: {e}")))
}

fn req_rep(round_trips: usize, size: usize) -> Result<(), CliError> {
    let (ep_tx, ep_rx) = mpsc::channel();
    let server = thread::spawn(move || -> Result<(), CliError> {
        runtime()?.block_on(async move {
            let rep = RepSocket::new();
            let ep = rep.bind("tcp://127.0.0.1:0").await?;
            ep_tx.send(ep.to_string()).ok();
            for _ in 0..round_trips {
                let m = rep.recv().await?;
                rep.send(m).await?;
            }
            rep.close().await;
            Ok(())
        })
    });
    let ep = ep_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| CliError("REP thread did not bind".into()))?;
    let mut samples = runtime()?.block_on(async move {
        let req = ReqSocket::new();
        req.connect(&ep).await?;
        let body = Bytes::from(vec![7u8; size]);
        let mut samples = Vec::with_capacity(round_trips);
        for _ in 0..round_trips {
            let t = Instant::now();
            req.send(body.clone()).await?;
            let reply = req.recv().await?;
            samples.push(t.elapsed());
            if reply[0].len() != size {
                return Err(CliError("reply has the wrong size".into()));
            }
        }
        Ok::<_, CliError>(samples)
    })?;
    server
        .join()
        .map_err(|_| CliError("REP thread panicked".into()))??;
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    println!(
        "REQ/REP  {size} B x {round_trips}: round trip p50 {:.1} us, p99 {:.1} us",
        pct(0.5).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6
    );
    Ok(())
}

fn push_pull(messages: usize, size: usize) -> Result<(), CliError> {
    let (ep_tx, ep_rx) = mpsc::channel();
    let receiver = thread::spawn(move || -> Result<Duration, CliError> {
        runtime()?.block_on(async move {
            let pull = PullSocket::new();
            let ep = pull.bind("tcp://127.0.0.1:0").await?;
            ep_tx.send(ep.to_string()).ok();
            let first = pull.recv().await?;
            let start = Instant::now();
            let mut bytes = first.byte_len();
            for _ in 1..messages {
                bytes += pull.recv().await?.byte_len();
            }
            if bytes != messages * size {
                return Err(CliError(format!(
                    "received {bytes} bytes, expected {}",
                    messages * size
                )));
            }
            Ok(start.elapsed())
        })
    });
    let ep = ep_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| CliError("PULL thread did not bind".into()))?;
    runtime()?.block_on(async move {
        let push = PushSocket::new();
        push.connect(&ep).await?;
        let body = Bytes::from(vec![1u8; size]);
        for _ in 0..messages {
            push.send(body.clone()).await?;
        }
        push.close().await;
        Ok::<_, CliError>(())
    })?;
    let elapsed = receiver
        .join()
        .map_err(|_| CliError("PULL thread panicked".into()))??;
    let rate = (messages - 1) as f64 / elapsed.as_secs_f64();
    println!(
        "PUSH/PULL {size} B x {messages}: {:.2} M msg/s, {:.0} MB/s",
        rate / 1e6,
        rate * size as f64 / 1e6
    );
    Ok(())
}
