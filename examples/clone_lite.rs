//! Clone-lite: many clients keep their own copy of one key-value state in sync
//! (zguide chapter 5, the first models of the Clone pattern), with zeroring's
//! replicated log as the owner of the state.
//!
//! What it teaches:
//! - A client that joins late gets the state in two parts: a snapshot (DEALER to the
//!   server's ROUTER: "ICANHAZ?", then every key, then "KTHXBAI" with the sequence
//!   number the snapshot is at), and the stream of updates after it (SUB to the
//!   server's publisher). Each update carries a sequence number, so the client drops
//!   those its snapshot already holds and misses none: it subscribes *before* it
//!   asks for the snapshot and buffers what arrives meanwhile.
//! - The server answers a snapshot only once its XPUB has seen that client's
//!   subscription, so no update can fall between the snapshot and the stream (the
//!   zguide's version sleeps instead).
//! - Clients send their changes to the server (PUSH to PULL); the server writes
//!   each one to the replicated log (three Raft nodes here, in this process) and
//!   publishes it only once the log has committed it, with the log's index as its
//!   sequence number. The snapshot is read back from the log with linearizable
//!   reads, so it never shows a change the cluster could still lose.
//!
//! Run it with `cargo run --example clone_lite`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use futures_util::future::{Either, select};
use zeroring::replog::{Durability, LogClient, Node, NodeConfig, ReadConsistency};
use zeroring::{
    DealerSocket, Message, PullSocket, PushSocket, RouterSocket, SubSocket, XpubSocket,
};

/// Any failure ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How many clients join, one after the other.
pub const CLIENTS: usize = 3;
/// How many changes each client sends.
pub const CHANGES: usize = 10;

/// What every party ended up with.
#[derive(Debug)]
pub struct Report {
    /// The state read back from the replicated log at the end.
    pub log: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Each client's copy.
    pub clients: Vec<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Updates each client dropped because its snapshot already had them.
    pub dropped: Vec<usize>,
}

/// The state as a client keeps it.
type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn main() -> Result<(), BoxError> {
    let report = run()?;
    for (i, copy) in report.clients.iter().enumerate() {
        println!(
            "client {i}: {} keys, same as the log: {}",
            copy.len(),
            *copy == report.log
        );
    }
    Ok(())
}

/// Starts the cluster, the server and the clients, and returns what each holds.
pub fn run() -> Result<Report, BoxError> {
    zeroring::runtime_builder().build()?.block_on(everything())
}

async fn everything() -> Result<Report, BoxError> {
    let peers: BTreeMap<u64, String> = (1..=3)
        .map(|id| Ok((id, format!("tcp://127.0.0.1:{}", free_port()?))))
        .collect::<Result<_, BoxError>>()?;
    let mut nodes = Vec::new();
    for &id in peers.keys() {
        let config = NodeConfig::new(id, peers.clone(), None, Durability::InMemory);
        nodes.push(Node::open(config).await?);
    }
    let endpoints: Vec<&str> = peers.values().map(String::as_str).collect();
    let server = Server::bind(LogClient::new(&endpoints)).await?;
    let eps = server.endpoints.clone();
    let serving = zeroring::compio::runtime::spawn(server.serve());

    // Clients join one after the other: each later one finds changes made before
    // it joined (its snapshot) and keeps receiving the others' (the stream).
    let mut clients = Vec::new();
    for n in 0..CLIENTS {
        let mut client = Client::join(&eps).await?;
        client.change(n, CHANGES).await?;
        clients.push(client);
    }
    // Every change sets a key of its own, so a copy is complete once it holds
    // them all.
    for client in &mut clients {
        client.catch_up(CLIENTS * CHANGES).await?;
    }
    let mut log = LogClient::new(&endpoints);
    let mut state = State::new();
    for n in 0..CLIENTS {
        for i in 0..CHANGES {
            let key = key(n, i);
            if let Some(v) = log.get(&key, ReadConsistency::Linearizable).await? {
                state.insert(key, v.to_vec());
            }
        }
    }
    drop(serving);
    for node in nodes {
        node.close().await;
    }
    Ok(Report {
        log: state,
        dropped: clients.iter().map(|c| c.dropped).collect(),
        clients: clients.into_iter().map(|c| c.state).collect(),
    })
}

/// The key client `n` writes in its change `i`.
fn key(n: usize, i: usize) -> Vec<u8> {
    format!("client{n}/key{i}").into_bytes()
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The server's three endpoints: snapshots, updates out, changes in.
#[derive(Clone)]
struct Endpoints {
    snapshot: String,
    updates: String,
    changes: String,
}

struct Server {
    log: LogClient,
    snapshot: RouterSocket,
    updates: XpubSocket,
    changes: PullSocket,
    endpoints: Endpoints,
    /// Every key ever written, and the index of the last change published.
    keys: BTreeSet<Vec<u8>>,
    last: u64,
    /// Subscriptions seen, and snapshot requests waiting for theirs.
    subscribers: usize,
    waiting: VecDeque<Message>,
    answered: usize,
}

impl Server {
    async fn bind(log: LogClient) -> Result<Server, BoxError> {
        let snapshot = RouterSocket::new();
        let updates = XpubSocket::new();
        // Pass on every subscription, repeated ones included: each is a client.
        updates.set_xpub_verbose(true);
        let changes = PullSocket::new();
        let endpoints = Endpoints {
            snapshot: snapshot.bind("tcp://127.0.0.1:0").await?.to_string(),
            updates: updates.bind("tcp://127.0.0.1:0").await?.to_string(),
            changes: changes.bind("tcp://127.0.0.1:0").await?.to_string(),
        };
        Ok(Server {
            log,
            snapshot,
            updates,
            changes,
            endpoints,
            keys: BTreeSet::new(),
            last: 0,
            subscribers: 0,
            waiting: VecDeque::new(),
            answered: 0,
        })
    }

    /// Serves until dropped.
    async fn serve(mut self) -> Result<(), BoxError> {
        loop {
            match self.next_event().await? {
                Event::Change(change) => self.apply(change).await?,
                Event::SnapshotRequest(request) => self.waiting.push_back(request),
                // [1, topic] subscribes (the clients take every topic).
                Event::Subscription(s) => {
                    if s[0].first() == Some(&1) {
                        self.subscribers += 1;
                    }
                }
            }
            // A request is answered once as many subscriptions arrived as requests
            // were answered, this one included.
            while self.answered < self.subscribers {
                let Some(request) = self.waiting.pop_front() else {
                    break;
                };
                self.send_snapshot(request).await?;
                self.answered += 1;
            }
        }
    }

    /// Waits for whichever socket has a message first (receives are cancel-safe:
    /// the others lose nothing).
    async fn next_event(&self) -> Result<Event, BoxError> {
        let snapshot = std::pin::pin!(self.snapshot.recv());
        let updates = std::pin::pin!(self.updates.recv());
        let requests = select(snapshot, updates);
        Ok(
            match select(
                std::pin::pin!(self.changes.recv()),
                std::pin::pin!(requests),
            )
            .await
            {
                Either::Left((change, _)) => Event::Change(change?),
                Either::Right((Either::Left((request, _)), _)) => Event::SnapshotRequest(request?),
                Either::Right((Either::Right((subscription, _)), _)) => {
                    Event::Subscription(subscription?)
                }
            },
        )
    }

    /// Writes one change [key, value] to the log, then publishes it with the
    /// log's index: [key, index, value].
    async fn apply(&mut self, change: Message) -> Result<(), BoxError> {
        let (key, value) = (change[0].clone(), change[1].clone());
        let index = self.log.put(&key, &value).await?;
        self.keys.insert(key.to_vec());
        self.last = index;
        let seq = index.to_string();
        self.updates
            .send(vec![&key[..], seq.as_bytes(), &value[..]])
            .await?;
        Ok(())
    }

    /// [id, "ICANHAZ?"] -> [id, key, value] per key, then [id, "KTHXBAI", index].
    async fn send_snapshot(&mut self, request: Message) -> Result<(), BoxError> {
        let id = request[0].clone();
        for key in &self.keys {
            if let Some(value) = self.log.get(key, ReadConsistency::Linearizable).await? {
                self.snapshot
                    .send(vec![&id[..], &key[..], &value[..]])
                    .await?;
            }
        }
        let at = self.last.to_string();
        self.snapshot
            .send(vec![&id[..], b"KTHXBAI", at.as_bytes()])
            .await?;
        Ok(())
    }
}

/// What woke the server.
enum Event {
    Change(Message),
    SnapshotRequest(Message),
    Subscription(Message),
}

struct Client {
    updates: SubSocket,
    changes: PushSocket,
    state: State,
    /// The sequence number the copy is at.
    at: u64,
    dropped: usize,
}

impl Client {
    /// Subscribes, then takes a snapshot, then applies what arrived meanwhile.
    async fn join(eps: &Endpoints) -> Result<Client, BoxError> {
        let updates = SubSocket::new();
        updates.subscribe(b"");
        updates.connect(&eps.updates).await?;
        let snapshot = DealerSocket::new();
        snapshot.connect(&eps.snapshot).await?;
        snapshot.send("ICANHAZ?").await?;
        let mut state = State::new();
        let at = loop {
            let part = snapshot.recv().await?;
            if &part[0][..] == b"KTHXBAI" {
                break std::str::from_utf8(&part[1])?.parse::<u64>()?;
            }
            state.insert(part[0].to_vec(), part[1].to_vec());
        };
        snapshot.close().await;
        let changes = PushSocket::new();
        changes.connect(&eps.changes).await?;
        Ok(Client {
            updates,
            changes,
            state,
            at,
            dropped: 0,
        })
    }

    /// Sends `count` changes as client `n`.
    async fn change(&mut self, n: usize, count: usize) -> Result<(), BoxError> {
        for i in 0..count {
            let value = format!("set by client {n}, change {i}");
            self.changes
                .send(vec![key(n, i), value.into_bytes()])
                .await?;
        }
        Ok(())
    }

    /// Applies updates until the copy holds `keys` keys.
    async fn catch_up(&mut self, keys: usize) -> Result<(), BoxError> {
        while self.state.len() < keys {
            let update =
                zeroring::compio::time::timeout(Duration::from_secs(10), self.updates.recv())
                    .await
                    .map_err(|_| "no update for 10 s")??;
            let seq: u64 = std::str::from_utf8(&update[1])?.parse()?;
            if seq <= self.at {
                // Already in the snapshot.
                self.dropped += 1;
                continue;
            }
            self.state.insert(update[0].to_vec(), update[2].to_vec());
            self.at = seq;
        }
        Ok(())
    }
}
