//! Fault harness for the Raft-replicated log, with node processes on loopback: 4
//! clients write (and read back linearizably) while nodes are SIGKILLed and
//! restarted or frozen with SIGSTOP and resumed. Checks: every acknowledged write
//! is readable at the end with its value, a linearizable read of a client's own key
//! returns what it wrote, the clients' writes and linearizable reads of a few
//! shared keys form a linearizable history per key (`zeroring_cli::faults::
//! linearizable`, a full search),
//! all nodes converge to the same applied state, and leadership comes back after
//! every leader kill.
//!
//! Nodes reach each other through fault-injecting TCP proxies
//! (`zeroring_cli::faults::proxy`), so a node can also be cut off from all the
//! others for a while: its connections closed (a cut), or kept up with nothing
//! moving (a black hole, a partition TCP has not noticed).
//!
//! Short by default (CI); `REPLOG_FAULT_SECS=300` runs longer.

mod common;

use common::free_endpoint;
use zeroring_cli::faults::linearizable::{self, Action};
use zeroring_cli::faults::proxy::{FaultProxy, Link};

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use zeroring::replog::{LogClient, ReadConsistency};

/// A cluster of node processes; node A reaches node B through proxy (A, B).
struct Cluster {
    dir: tempfile::TempDir,
    peers: BTreeMap<u64, String>,
    proxies: BTreeMap<(u64, u64), FaultProxy>,
    procs: BTreeMap<u64, Child>,
}

impl Cluster {
    fn start(n: u64) -> Cluster {
        let peers: BTreeMap<u64, String> = (1..=n).map(|id| (id, free_endpoint())).collect();
        let mut proxies = BTreeMap::new();
        for a in 1..=n {
            for (&b, ep) in &peers {
                if a != b {
                    let target = ep.trim_start_matches("tcp://").parse().unwrap();
                    proxies.insert((a, b), FaultProxy::start(target).unwrap());
                }
            }
        }
        let mut c = Cluster {
            dir: tempfile::tempdir().unwrap(),
            peers,
            proxies,
            procs: BTreeMap::new(),
        };
        for id in 1..=n {
            c.spawn(id);
        }
        c
    }

    /// Node `id`'s peer list: itself, and every other node through a proxy.
    fn peer_list(&self, id: u64) -> String {
        self.peers
            .iter()
            .map(|(&other, ep)| {
                let ep = match self.proxies.get(&(id, other)) {
                    Some(p) => format!("tcp://{}", p.addr()),
                    None => ep.clone(),
                };
                format!("{other}={ep}")
            })
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Sets every link to and from node `id` (cut or black-holed; open heals).
    fn isolate(&self, id: u64, link: Link) {
        for (&(a, b), p) in &self.proxies {
            if a == id || b == id {
                p.set(link);
            }
        }
    }

    fn spawn(&mut self, id: u64) {
        let dir = self.dir.path().join(format!("node{id}"));
        let child = Command::new(env!("CARGO_BIN_EXE_zeroring"))
            .args(["log", "serve", "--id", &id.to_string(), "--peers"])
            .arg(self.peer_list(id))
            .arg("--dir")
            .arg(&dir)
            .args(["--mode", "strict", "--snapshot-entries", "2000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run zeroring log serve");
        self.procs.insert(id, child);
    }

    fn kill(&mut self, id: u64) {
        if let Some(mut c) = self.procs.remove(&id) {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    fn signal(&self, id: u64, sig: &str) {
        if let Some(c) = self.procs.get(&id) {
            let status = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status()
                .expect("kill(1)");
            assert!(status.success());
        }
    }

    fn endpoints(&self) -> Vec<String> {
        self.peers.values().cloned().collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let ids: Vec<u64> = self.procs.keys().copied().collect();
        for id in ids {
            self.signal(id, "-CONT");
            self.kill(id);
        }
    }
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    zeroring::runtime_builder().build().unwrap().block_on(f)
}

/// The leader's id as node `ep` sees it (0: none, or no answer).
fn leader_of(endpoints: &[String]) -> u64 {
    block_on(async {
        for ep in endpoints {
            let mut c = LogClient::new(&[ep]);
            c.deadline = Duration::from_millis(400);
            if let Ok(s) = c.status().await
                && s.role == "leader"
            {
                c.close().await;
                return s.id;
            }
            c.close().await;
        }
        0
    })
}

/// What one client saw.
#[derive(Default)]
struct History {
    acked: Vec<(String, String)>,
    bad_reads: Vec<String>,
    reads: u64,
    /// Writes and linearizable reads of the keys all clients share.
    shared: Vec<linearizable::Op>,
}

/// Keys every client writes and reads, for the linearizability check.
const SHARED_KEYS: u64 = 3;

/// Nanoseconds since the first call, on one clock for every client thread.
fn now_ns() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn client(id: usize, endpoints: Vec<String>, stop: Arc<AtomicBool>) -> History {
    block_on(async move {
        let eps: Vec<&str> = endpoints.iter().map(String::as_str).collect();
        let mut c = LogClient::new(&eps);
        c.deadline = Duration::from_secs(3);
        let mut h = History::default();
        let mut n = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let key = format!("c{id}-{n}");
            let value = format!("v{n}");
            if c.put(key.as_bytes(), value.as_bytes()).await.is_ok() {
                h.acked.push((key.clone(), value.clone()));
                if n.is_multiple_of(5) {
                    // A linearizable read after an acknowledged write must see it.
                    match c.get(key.as_bytes(), ReadConsistency::Linearizable).await {
                        Ok(Some(v)) if v == value.as_bytes() => h.reads += 1,
                        Ok(other) => h.bad_reads.push(format!("{key}: read {other:?}")),
                        Err(_) => {} // no answer in time: not a violation
                    }
                }
            }
            // A write or a linearizable read of a shared key, timed.
            let key = format!("shared{}", n % SHARED_KEYS);
            let invoked = now_ns();
            let (action, answered) = if n.is_multiple_of(2) {
                let value = format!("c{id}-{n}");
                let ok = c.put(key.as_bytes(), value.as_bytes()).await.is_ok();
                (Action::Write(Some(value.into_bytes())), ok.then(now_ns))
            } else {
                match c.get(key.as_bytes(), ReadConsistency::Linearizable).await {
                    Ok(v) => (Action::Read(v.map(|v| v.to_vec())), Some(now_ns())),
                    // No answer: the checker leaves the read out.
                    Err(_) => (Action::Read(None), None),
                }
            };
            h.shared.push(linearizable::Op {
                client: id as u32,
                key: key.into_bytes(),
                invoked,
                answered,
                action,
            });
            n += 1;
        }
        c.close().await;
        h
    })
}

fn run_faults(nodes: u64, secs: u64) {
    let mut cluster = Cluster::start(nodes);
    let endpoints = cluster.endpoints();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|i| {
            let (eps, stop) = (endpoints.clone(), stop.clone());
            thread::spawn(move || client(i, eps, stop))
        })
        .collect();
    let seed = AtomicU64::new(0x9e37_79b9_7f4a_7c15);
    let rand = |n: u64| {
        let mut x = seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        seed.store(x, Ordering::Relaxed);
        x % n
    };
    let started = Instant::now();
    let (mut kills, mut freezes, mut leader_kills) = (0, 0, 0);
    let (mut partitions, mut leader_partitions) = (0, 0);
    thread::sleep(Duration::from_secs(2));
    while started.elapsed() < Duration::from_secs(secs) {
        let leader = leader_of(&endpoints);
        // Half the faults hit the leader.
        let victim = if leader != 0 && rand(2) == 0 {
            leader
        } else {
            1 + rand(nodes)
        };
        let fault = rand(4);
        if fault == 0 {
            cluster.signal(victim, "-STOP");
            thread::sleep(Duration::from_millis(500 + rand(1500)));
            cluster.signal(victim, "-CONT");
            freezes += 1;
        } else if fault == 1 {
            let cut_at = Instant::now();
            // Alternately a cut (connections closed) and a black hole (connections
            // up, nothing moving).
            let link = if partitions % 2 == 0 {
                Link::Cut
            } else {
                Link::Blackhole
            };
            cluster.isolate(victim, link);
            if victim == leader {
                // The majority side elects a new leader while the old one is cut off.
                let rest: Vec<String> = cluster
                    .peers
                    .iter()
                    .filter(|(id, _)| **id != victim)
                    .map(|(_, ep)| ep.clone())
                    .collect();
                while leader_of(&rest) == 0 {
                    assert!(
                        cut_at.elapsed() < Duration::from_secs(5),
                        "no new leader 5 s after leader {victim} was cut off"
                    );
                    thread::sleep(Duration::from_millis(100));
                }
                leader_partitions += 1;
            }
            thread::sleep(Duration::from_millis(500 + rand(2000)));
            cluster.isolate(victim, Link::Open);
            partitions += 1;
        } else {
            cluster.kill(victim);
            kills += 1;
            if victim == leader {
                leader_kills += 1;
            }
            thread::sleep(Duration::from_millis(300 + rand(1000)));
            cluster.spawn(victim);
        }
        thread::sleep(Duration::from_millis(500 + rand(1000)));
    }
    stop.store(true, Ordering::Relaxed);
    let histories: Vec<History> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    // Everything acknowledged is there, through the leader, and on every node.
    let acked: Vec<(String, String)> = histories.iter().flat_map(|h| h.acked.clone()).collect();
    let bad_reads: Vec<&String> = histories.iter().flat_map(|h| &h.bad_reads).collect();
    let reads: u64 = histories.iter().map(|h| h.reads).sum();
    let shared: Vec<linearizable::Op> = histories.iter().flat_map(|h| h.shared.clone()).collect();
    let not_linearizable = linearizable::check(&shared);
    let lost = block_on(async {
        let eps: Vec<&str> = endpoints.iter().map(String::as_str).collect();
        let mut c = LogClient::new(&eps);
        let mut lost = Vec::new();
        for (k, v) in &acked {
            match c.get(k.as_bytes(), ReadConsistency::Linearizable).await {
                Ok(Some(got)) if got == v.as_bytes() => {}
                other => lost.push(format!("{k}: {other:?}")),
            }
        }
        // Every node converges to the leader's applied state.
        let leader = c.status().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        for ep in &endpoints {
            let mut n = LogClient::new(&[ep]);
            loop {
                let s = n.status().await.unwrap();
                if s.applied >= leader.commit && s.keys == leader.keys {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "node {} did not converge: {s}\nleader: {leader}",
                    s.id
                );
                compio::time::sleep(Duration::from_millis(50)).await;
            }
            n.close().await;
        }
        c.close().await;
        lost
    });
    println!(
        "{nodes} nodes, {secs} s: {} writes acknowledged, {} lost, {reads} linearizable \
         reads checked, {} shared-key operations checked for linearizability, {kills} SIGKILLs ({leader_kills} of the leader), {freezes} \
         SIGSTOP/SIGCONT, {partitions} partitions of one node ({leader_partitions} of \
         the leader, each replaced by a new leader)",
        acked.len(),
        lost.len(),
        shared.len(),
    );
    assert!(
        acked.len() > 50,
        "too few writes got through: {}",
        acked.len()
    );
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(
        bad_reads.is_empty(),
        "stale or wrong linearizable reads: {bad_reads:?}"
    );
    if let Err(violation) = not_linearizable {
        panic!("shared-key history not linearizable: {violation}");
    }
}

fn secs(default: u64) -> u64 {
    std::env::var("REPLOG_FAULT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn three_nodes_under_faults_lose_nothing() {
    run_faults(3, secs(12));
}

#[test]
fn five_nodes_under_faults_lose_nothing() {
    run_faults(5, secs(10));
}

/// Leader SIGKILL -> first write accepted again, 5 times (10 with
/// `REPLOG_FAILOVER_ROUNDS=10`); prints the median.
#[test]
fn failover_after_leader_sigkill() {
    let rounds: usize = std::env::var("REPLOG_FAILOVER_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let mut cluster = Cluster::start(3);
    let endpoints = cluster.endpoints();
    let mut times = Vec::new();
    block_on(async {
        let eps: Vec<&str> = endpoints.iter().map(String::as_str).collect();
        let mut c = LogClient::new(&eps);
        c.put(b"warm-up", b"1").await.unwrap();
    });
    for round in 0..rounds {
        let mut leader = 0;
        while leader == 0 {
            leader = leader_of(&endpoints);
        }
        let others: Vec<String> = cluster
            .peers
            .iter()
            .filter(|(id, _)| **id != leader)
            .map(|(_, ep)| ep.clone())
            .collect();
        let killed = Instant::now();
        cluster.kill(leader);
        let took = block_on(async {
            let eps: Vec<&str> = others.iter().map(String::as_str).collect();
            let mut c = LogClient::new(&eps);
            c.put(format!("r{round}").as_bytes(), b"1").await.unwrap();
            c.close().await;
            killed.elapsed()
        });
        times.push(took);
        cluster.spawn(leader);
        thread::sleep(Duration::from_secs(1));
    }
    times.sort();
    let median = times[times.len() / 2];
    println!("failover after leader SIGKILL: median {median:?} of {times:?}");
    assert!(
        median < Duration::from_secs(3),
        "median failover {median:?}"
    );
}
