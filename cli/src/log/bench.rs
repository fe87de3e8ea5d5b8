//! `zeroring log bench`: what the Raft-replicated log costs on this machine.
//!
//! Measures the disk's fdatasync latency first (the floor for Strict), then per
//! durability mode a 3-node cluster on loopback (each node on its own thread and
//! runtime, like a process): single-client put latency through `LogClient` (p50/p99,
//! a write counts once a majority committed and the leader applied it), a client's
//! STATUS round trip (the network part of a write), and the committed write rate of
//! 16 concurrent clients; and a standalone 1-node cluster's
//! put latency and rate through the `Node` API. Prints a Markdown table and the
//! issue's targets with met / not met.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::progress::Progress;
use crate::{CliError, text_flag};
use zeroring::replog::{Durability, LogClient, Node, NodeConfig, ReplogError};

const VALUE: [u8; 64] = [0x5a; 64];

/// How much to measure.
struct Plan {
    latency_puts: usize,
    window: Duration,
    fsync_samples: usize,
}

/// Runs the bench.
pub(super) fn run(args: &[String]) -> Result<(), CliError> {
    let quick = args.iter().any(|a| a == "--quick");
    let plan = if quick {
        Plan {
            latency_puts: 200,
            window: Duration::from_millis(500),
            fsync_samples: 50,
        }
    } else {
        Plan {
            latency_puts: 2_000,
            window: Duration::from_secs(3),
            fsync_samples: 300,
        }
    };
    let dir = PathBuf::from(text_flag(args, "--dir").unwrap_or("replog-bench"));
    std::fs::create_dir_all(&dir).map_err(|e| CliError(format!("{}: {e}", dir.display())))?;
    let fsync = fdatasync_latency(&dir, plan.fsync_samples)?;
    println!(
        "log directory {}; fdatasync p50 {} p99 {}\n",
        dir.display(),
        us(fsync.0),
        us(fsync.1)
    );
    println!(
        "| mode | 3 nodes: 1 client put p50 | p99 | 16 clients | 1 node: put p50 | 1 node: rate |"
    );
    println!("|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    // A bar on stderr when stdout is a terminal: two steps (3 nodes, 1 node) per mode.
    let progress = Progress::new(6, "steps");
    for mode in [
        Durability::InMemory,
        Durability::BUFFERED,
        Durability::Strict,
    ] {
        progress.set_message(format!("{mode}: 3 nodes"));
        let cluster = cluster_row(&dir, mode, &plan)?;
        progress.inc(1);
        progress.set_message(format!("{mode}: 1 node"));
        let single = standalone_row(&dir, mode, &plan)?;
        progress.inc(1);
        progress.suspend(|| {
            println!(
                "| {mode} | {} | {} | {} | {} | {} |",
                us(cluster.put.0),
                us(cluster.put.1),
                rate(cluster.sixteen),
                us(single.0),
                rate(single.1)
            )
        });
        rows.push((mode, cluster, single));
    }
    progress.finish();
    println!("\ntargets:");
    let check = |ok: bool, text: String| {
        println!("- {}: {text}", if ok { "met" } else { "not met" });
    };
    for (mode, cluster, single) in &rows {
        match mode {
            Durability::InMemory => {
                check(
                    single.0 < 3e-6,
                    format!("standalone InMemory put p50 {} < 3 µs", us(single.0)),
                );
                check(
                    single.1 >= 250e3,
                    format!("standalone InMemory {} >= 250 K/s", rate(single.1)),
                );
            }
            Durability::Buffered { .. } => {
                check(
                    cluster.sixteen >= 100e3,
                    format!(
                        "3 nodes Buffered, 16 clients {} >= 100 K/s",
                        rate(cluster.sixteen)
                    ),
                );
                check(
                    single.1 >= 100e3,
                    format!("standalone Buffered {} >= 100 K/s", rate(single.1)),
                );
            }
            Durability::Strict => {
                check(
                    cluster.sixteen >= 10e3,
                    format!(
                        "3 nodes Strict, 16 clients {} >= 10 K/s",
                        rate(cluster.sixteen)
                    ),
                );
                let bound = 2.0 * fsync.0 + 2.0 * cluster.round_trip;
                check(
                    cluster.put.0 <= bound,
                    format!(
                        "3 nodes Strict, 1 client put p50 {} <= 2 x fdatasync p50 + 2 x \
                         round trip ({}) = {}",
                        us(cluster.put.0),
                        us(cluster.round_trip),
                        us(bound)
                    ),
                );
            }
        }
    }
    Ok(())
}

fn us(seconds: f64) -> String {
    format!("{:.1} µs", seconds * 1e6)
}

fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else {
        format!("{:.1} K/s", per_second / 1e3)
    }
}

fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    if samples.is_empty() {
        return (0.0, 0.0);
    }
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

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

fn free_endpoint() -> Result<String, CliError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| CliError(format!("no free port: {e}")))?;
    let port = l.local_addr().map_err(|e| CliError(e.to_string()))?.port();
    Ok(format!("tcp://127.0.0.1:{port}"))
}

fn node_config(dir: &Path, id: u64, peers: &BTreeMap<u64, String>, mode: Durability) -> NodeConfig {
    let d = mode.has_files().then(|| {
        let d = dir.join(format!("node{id}"));
        std::fs::remove_dir_all(&d).ok();
        d
    });
    let mut c = NodeConfig::new(id, peers.clone(), d, mode);
    c.snapshot_entries = 1_000_000;
    c
}

/// A node on its own thread and runtime until the sender is dropped.
fn node_thread(cfg: NodeConfig) -> Result<mpsc::Sender<()>, CliError> {
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = match zeroring::runtime_builder().build() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = ready_tx.send(Err(e.to_string()));
                return;
            }
        };
        rt.block_on(async move {
            let node = match Node::open(cfg).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            let _ = ready_tx.send(Ok(()));
            while stop_rx.try_recv() == Err(mpsc::TryRecvError::Empty) {
                compio::time::sleep(Duration::from_millis(50)).await;
            }
            node.close().await;
        });
    });
    ready_rx
        .recv()
        .map_err(|_| CliError("a node thread died".into()))?
        .map_err(CliError)?;
    Ok(stop_tx)
}

/// Something that writes: a client of a cluster or a node's own API.
enum Writer {
    Client(Box<LogClient>),
    Node(Rc<Node>),
}

impl Writer {
    async fn put(&mut self, key: &[u8]) -> Result<u64, ReplogError> {
        match self {
            Writer::Client(c) => c.put(key, &VALUE).await,
            Writer::Node(n) => n.put(key, &VALUE).await,
        }
    }

    async fn close(self) {
        match self {
            Writer::Client(c) => c.close().await,
            Writer::Node(n) => {
                if let Ok(n) = Rc::try_unwrap(n) {
                    n.close().await;
                }
            }
        }
    }
}

/// Latency of `n` puts in a row, one at a time: (p50, p99).
async fn latencies(w: &mut Writer, n: usize) -> Result<(f64, f64), ReplogError> {
    let mut lat = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        w.put(format!("l{i}").as_bytes()).await?;
        lat.push(start.elapsed().as_secs_f64());
    }
    Ok(percentiles(lat))
}

/// Committed writes per second of `writers`, each one write at a time, for `window`.
async fn write_rate(writers: Vec<Writer>, window: Duration) -> Result<f64, ReplogError> {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, mut w) in writers.into_iter().enumerate() {
        tasks.push(compio::runtime::spawn(async move {
            let mut done = 0u64;
            while start.elapsed() < window {
                w.put(format!("c{c}-{done}").as_bytes()).await?;
                done += 1;
            }
            w.close().await;
            Ok::<u64, ReplogError>(done)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t
            .await
            .map_err(|_| ReplogError::Stopped("a bench writer panicked".into()))??;
    }
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// What a 3-node cluster measured: one client's put (p50, p99), 16 clients'
/// committed writes per second, and a client's status round trip (p50).
struct ClusterRow {
    put: (f64, f64),
    sixteen: f64,
    round_trip: f64,
}

/// A 3-node cluster in `mode`.
fn cluster_row(dir: &Path, mode: Durability, plan: &Plan) -> Result<ClusterRow, CliError> {
    let peers: BTreeMap<u64, String> = (1..=3)
        .map(|id| free_endpoint().map(|ep| (id, ep)))
        .collect::<Result<_, _>>()?;
    let mut stops = Vec::new();
    for id in 1..=3 {
        stops.push(node_thread(node_config(dir, id, &peers, mode))?);
    }
    let endpoints: Vec<String> = peers.values().cloned().collect();
    let result = zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(e.to_string()))?
        .block_on(async move {
            let eps: Vec<&str> = endpoints.iter().map(String::as_str).collect();
            let mut w = Writer::Client(Box::new(LogClient::new(&eps)));
            w.put(b"warm-up").await?; // waits for the election
            let put = latencies(&mut w, plan.latency_puts).await?;
            w.close().await;
            // A request's round trip without Raft: STATUS to one node.
            let mut client = LogClient::new(&eps[..1]);
            let mut rtt = Vec::with_capacity(200);
            for _ in 0..200 {
                let start = Instant::now();
                client.status().await?;
                rtt.push(start.elapsed().as_secs_f64());
            }
            client.close().await;
            let clients = (0..16)
                .map(|_| Writer::Client(Box::new(LogClient::new(&eps))))
                .collect();
            let sixteen = write_rate(clients, plan.window).await?;
            Ok::<_, ReplogError>(ClusterRow {
                put,
                sixteen,
                round_trip: percentiles(rtt).0,
            })
        })?;
    drop(stops);
    Ok(result)
}

/// (put p50, rate with 16 concurrent writers) of a standalone node through its API.
fn standalone_row(dir: &Path, mode: Durability, plan: &Plan) -> Result<(f64, f64), CliError> {
    let peers = BTreeMap::from([(1, free_endpoint()?)]);
    let mut cfg = node_config(dir, 1, &peers, mode);
    cfg.dir = cfg.dir.map(|d| d.with_file_name("standalone"));
    if let Some(d) = &cfg.dir {
        std::fs::remove_dir_all(d).ok();
    }
    let window = plan.window;
    let puts = plan.latency_puts * 10;
    zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(e.to_string()))?
        .block_on(async move {
            let node = Rc::new(Node::open(cfg).await?);
            while node.put(b"warm-up", &VALUE).await.is_err() {
                compio::time::sleep(Duration::from_millis(20)).await;
            }
            let (p50, _) = latencies(&mut Writer::Node(node.clone()), puts).await?;
            let writers = (0..16).map(|_| Writer::Node(node.clone())).collect();
            let total = write_rate(writers, window).await?;
            Writer::Node(node).close().await;
            Ok::<_, ReplogError>((p50, total))
        })
        .map_err(CliError::from)
}
