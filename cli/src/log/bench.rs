//! `zeroring log bench`: what the replicated log costs on this machine's disk.
//!
//! Measures the device's fdatasync latency first (the floor for Strict), then per
//! durability mode: put latency (p50/p99) with no follower and with one follower
//! acknowledging every write (`Ack::All`), throughput with 1 and 16 concurrent
//! writers, and replicated throughput with leader acks to one follower. The follower
//! runs on its own thread and runtime, like another process. Prints a Markdown table
//! and the targets with met / not met.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{CliError, text_flag};
use zeroring::replog::{Ack, Durability, LogClient, Node, NodeConfig};

/// How much to measure: `--quick` or the full run.
struct Plan {
    latency_puts: usize,
    strict_puts: usize,
    window: Duration,
    replicated_records: u64,
    fsync_samples: usize,
}

impl Plan {
    /// The `--quick` plan, or the full one.
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                latency_puts: 20_000,
                strict_puts: 100,
                window: Duration::from_millis(300),
                replicated_records: 100_000,
                fsync_samples: 50,
            }
        } else {
            Plan {
                latency_puts: 200_000,
                strict_puts: 1_000,
                window: Duration::from_secs(2),
                replicated_records: 1_000_000,
                fsync_samples: 300,
            }
        }
    }
}

const VALUE: [u8; 64] = [0x5a; 64];

/// Runs the bench.
pub(super) fn run(args: &[String]) -> Result<(), CliError> {
    let quick = args.iter().any(|a| a == "--quick");
    let dir = PathBuf::from(text_flag(args, "--dir").unwrap_or("replog-bench"));
    let plan = Plan::new(quick);
    std::fs::create_dir_all(&dir).map_err(|e| CliError(format!("{}: {e}", dir.display())))?;
    let fs = filesystem_of(&dir);
    let fsync = fdatasync_latency(&dir, plan.fsync_samples)?;
    println!(
        "# zeroring log bench{}\n\nlog directory {} ({fs}); fdatasync p50 {} p99 {} ({} samples of a 100-byte append)\n",
        if quick { " --quick" } else { "" },
        dir.display(),
        us(fsync.0),
        us(fsync.1),
        plan.fsync_samples
    );
    if fs == "tmpfs" {
        println!(
            "warning: {} is on tmpfs; durability figures mean nothing there\n",
            dir.display()
        );
    }
    let [memory, buffered, strict] = measure_modes(&dir, &plan)?;
    let rtt = client_round_trip(&dir)?;
    println!(
        "\nstrict put through a client over loopback (one round trip): p50 {} p99 {}; plain GET round trip p50 {}",
        us(rtt.strict.0),
        us(rtt.strict.1),
        us(rtt.get_p50)
    );
    println!("\ntargets:");
    for (what, met) in targets(&memory, &buffered, &strict, fsync.0, &rtt) {
        println!("- {}: {what}", if met { "met" } else { "NOT met" });
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

/// Measures the three durability modes, printing the table as the rows come in.
fn measure_modes(dir: &Path, plan: &Plan) -> Result<[ModeResult; 3], CliError> {
    println!(
        "| mode | put p50 | put p99 | + follower (ack all) p50 | p99 | 1 writer | 16 writers | 16/1 | replicated, leader ack |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    Ok([
        measure_row(dir, Durability::InMemory, plan)?,
        measure_row(dir, Durability::BUFFERED, plan)?,
        measure_row(dir, Durability::Strict, plan)?,
    ])
}

/// Measures one mode and prints its table row.
fn measure_row(dir: &Path, mode: Durability, plan: &Plan) -> Result<ModeResult, CliError> {
    let r = measure_mode(dir, mode, plan)?;
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | {:.1}x | {} |",
        mode_name(mode),
        us(r.latency.0),
        us(r.latency.1),
        us(r.replicated_latency.0),
        us(r.replicated_latency.1),
        rate(r.one_writer),
        rate(r.sixteen_writers),
        r.sixteen_writers / r.one_writer,
        rate(r.replicated_rate),
    );
    std::io::stdout().flush().ok();
    Ok(r)
}

/// The targets, each with whether this run met it.
fn targets(
    memory: &ModeResult,
    buffered: &ModeResult,
    strict: &ModeResult,
    fsync_p50: f64,
    rtt: &ClientLatency,
) -> [(String, bool); 5] {
    let limit = 2.0 * fsync_p50 + rtt.get_p50;
    [
        (
            format!("InMemory put p50 {} < 3 µs", us(memory.latency.0)),
            memory.latency.0 < 3e-6,
        ),
        (
            format!(
                "replicated, leader ack, to one follower {} >= 250 K records/s (inmemory)",
                rate(memory.replicated_rate)
            ),
            memory.replicated_rate >= 250e3,
        ),
        (
            format!("Buffered {} >= 100 K records/s", rate(buffered.one_writer)),
            buffered.one_writer >= 100e3,
        ),
        (
            format!(
                "Strict single writer through a client p50 {} <= 2 x fdatasync p50 + round trip = {}",
                us(rtt.strict.0),
                us(limit)
            ),
            rtt.strict.0 <= limit,
        ),
        (
            format!(
                "Strict 16 writers {:.1}x single writer >= 8x",
                strict.sixteen_writers / strict.one_writer
            ),
            strict.sixteen_writers >= 8.0 * strict.one_writer,
        ),
    ]
}

fn mode_name(mode: Durability) -> &'static str {
    match mode {
        Durability::InMemory => "inmemory",
        Durability::Buffered { .. } => "buffered 100 ms/1000",
        Durability::Strict => "strict",
    }
}

fn us(seconds: f64) -> String {
    let us = seconds * 1e6;
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.1} µs")
    }
}

fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else {
        format!("{:.1} K/s", per_second / 1e3)
    }
}

/// (p50, p99) in seconds.
fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.99))
}

fn filesystem_of(dir: &Path) -> String {
    let Ok(dir) = dir.canonicalize() else {
        return "unknown filesystem".into();
    };
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_dev, mount, fstype) = (f.next()?, f.next()?, f.next()?);
            dir.starts_with(mount)
                .then(|| (mount.len(), fstype.to_owned()))
        })
        .max()
        .map_or_else(|| "unknown filesystem".into(), |(_, t)| t)
}

/// fdatasync latency of small appends to a file in `dir`: (p50, p99).
fn fdatasync_latency(dir: &Path, samples: usize) -> Result<(f64, f64), CliError> {
    let path = dir.join("fsync-probe");
    let io = |e: std::io::Error| CliError(format!("{}: {e}", path.display()));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .map_err(io)?;
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        file.write_all(&[0u8; 100]).map_err(io)?;
        let start = Instant::now();
        file.sync_data().map_err(io)?;
        times.push(start.elapsed().as_secs_f64());
    }
    std::fs::remove_file(&path).ok();
    Ok(percentiles(times))
}

struct ModeResult {
    latency: (f64, f64),
    replicated_latency: (f64, f64),
    one_writer: f64,
    sixteen_writers: f64,
    replicated_rate: f64,
}

fn fresh_dir(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    std::fs::remove_dir_all(&d).ok();
    d
}

fn config(dir: &Path, name: &str, mode: Durability) -> NodeConfig {
    let d = mode.has_files().then(|| fresh_dir(dir, name));
    NodeConfig::new(d, mode, "tcp://127.0.0.1:0")
}

/// A node on its own thread and runtime (like another process) until dropped.
struct NodeThread {
    endpoint: String,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl NodeThread {
    fn start(cfg: NodeConfig) -> Result<NodeThread, CliError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let rt = zeroring::runtime_builder().build().expect("runtime");
            rt.block_on(async move {
                let node = match Node::open(cfg).await {
                    Ok(node) => node,
                    Err(e) => {
                        tx.send(Err(e.to_string())).ok();
                        return;
                    }
                };
                tx.send(Ok(node.endpoint().to_owned())).ok();
                while !flag.load(Ordering::Relaxed) {
                    compio::time::sleep(Duration::from_millis(10)).await;
                }
                node.close().await.ok();
            })
        });
        let endpoint = rx
            .recv()
            .map_err(|_| CliError("bench node thread died".into()))?
            .map_err(CliError)?;
        Ok(NodeThread {
            endpoint,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for NodeThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().ok();
        }
    }
}

async fn wait_for_follower(leader: &Node) -> Result<(), CliError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while leader.status().followers.is_empty() {
        if Instant::now() > deadline {
            return Err(CliError("the bench follower never connected".into()));
        }
        compio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

async fn put_latencies(leader: &Node, n: usize, ack: Ack) -> Result<(f64, f64), CliError> {
    let mut times = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let start = Instant::now();
        leader.put(&i.to_le_bytes(), &VALUE, ack).await?;
        times.push(start.elapsed().as_secs_f64());
        if i % 64 == 63 {
            // Let the replication and sync tasks run, as a real service would.
            compio::time::sleep(Duration::ZERO).await;
        }
    }
    Ok(percentiles(times))
}

/// Puts per second from `writers` concurrent tasks over `window`.
async fn throughput(leader: &Node, writers: usize, window: Duration) -> Result<f64, CliError> {
    let done = Rc::new(std::cell::Cell::new(0u64));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers as u64 {
        let (leader, done) = (leader.clone(), done.clone());
        tasks.push(compio::runtime::spawn(async move {
            let mut i = 0u64;
            while start.elapsed() < window {
                let key = (w << 48 | i).to_le_bytes();
                leader.put(&key, &VALUE, Ack::Leader).await?;
                done.set(done.get() + 1);
                i += 1;
                if i.is_multiple_of(64) {
                    compio::time::sleep(Duration::ZERO).await;
                }
            }
            Ok::<_, zeroring::replog::ReplogError>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|_| CliError("a writer task panicked".into()))??;
    }
    Ok(done.get() as f64 / start.elapsed().as_secs_f64())
}

fn measure_mode(dir: &Path, mode: Durability, plan: &Plan) -> Result<ModeResult, CliError> {
    let puts = if mode == Durability::Strict {
        plan.strict_puts
    } else {
        plan.latency_puts
    };
    let rt = zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(e.to_string()))?;
    rt.block_on(async {
        // Alone.
        let leader = Node::open(config(dir, "leader", mode)).await?;
        let latency = put_latencies(&leader, puts, Ack::Leader).await?;
        let one_writer = throughput(&leader, 1, plan.window).await?;
        let sixteen_writers = throughput(&leader, 16, plan.window).await?;
        leader.close().await?;

        // With one follower in the same mode.
        let leader = Node::open(config(dir, "leader2", mode)).await?;
        let follower =
            NodeThread::start(config(dir, "follower", mode).following(leader.endpoint()))?;
        wait_for_follower(&leader).await?;
        let replicated_latency = put_latencies(&leader, puts.min(20_000), Ack::All).await?;
        let base = leader.status().next_offset;
        let records = if mode == Durability::Strict {
            plan.replicated_records / 10
        } else {
            plan.replicated_records
        };
        let start = Instant::now();
        for i in 0..records {
            leader.put(&i.to_le_bytes(), &VALUE, Ack::Leader).await?;
            if i % 256 == 255 {
                compio::time::sleep(Duration::ZERO).await;
            }
        }
        let end = base + records;
        let deadline = Instant::now() + Duration::from_secs(120);
        while leader
            .status()
            .followers
            .first()
            .is_none_or(|f| f.received < end)
        {
            if Instant::now() > deadline {
                return Err(CliError(
                    "the follower did not catch up within 120 s".into(),
                ));
            }
            compio::time::sleep(Duration::from_micros(200)).await;
        }
        let replicated_rate = records as f64 / start.elapsed().as_secs_f64();
        drop(follower);
        leader.close().await?;
        Ok(ModeResult {
            latency,
            replicated_latency,
            one_writer,
            sixteen_writers,
            replicated_rate,
        })
    })
}

struct ClientLatency {
    strict: (f64, f64),
    get_p50: f64,
}

/// Strict puts and GETs from a client over loopback, the node on its own thread.
fn client_round_trip(dir: &Path) -> Result<ClientLatency, CliError> {
    let node = NodeThread::start(config(dir, "client-node", Durability::Strict))?;
    let endpoint = node.endpoint.clone();
    let rt = zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(e.to_string()))?;
    let result = rt.block_on(async {
        let client = LogClient::connect(&endpoint).await?;
        let mut strict = Vec::new();
        let mut gets = Vec::new();
        for i in 0..300u64 {
            let start = Instant::now();
            client
                .put(&i.to_le_bytes(), &VALUE, Ack::Leader, false)
                .await?;
            strict.push(start.elapsed().as_secs_f64());
            let start = Instant::now();
            client.get(&i.to_le_bytes()).await?;
            gets.push(start.elapsed().as_secs_f64());
        }
        client.close().await;
        Ok::<_, CliError>(ClientLatency {
            strict: percentiles(strict),
            get_p50: percentiles(gets).0,
        })
    });
    drop(node);
    result
}
