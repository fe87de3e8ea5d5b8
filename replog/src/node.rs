//! A replicated-log node: its log, its key-value store, its role (leader or
//! follower) and the write path with its acknowledgement policies.
//!
//! A node binds one ROUTER socket. Clients (any REQ socket) and followers (a DEALER
//! each) talk to it there; see [`super::protocol`]. The leader side lives in
//! [`super::leader`], the follower side in [`super::follower`], the request loop in
//! [`super::service`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;

use super::durability::{Durability, Wal};
use super::epoch_file;
use super::error::{ReplogError, Result};
use super::event::Event;
use super::leader::FollowerState;
use super::protocol::Ack;
use super::store::{KvStore, Op};
use zeroring_sockets::RouterSocket;

/// Largest frame a node or follower accepts: one record of the largest payload plus
/// its framing, with room to spare.
pub(crate) const MAX_FRAME: u64 = 2 * super::record::MAX_PAYLOAD as u64;
/// Bytes queued to one peer of a node (client or follower) before further replies
/// to it are dropped: the largest value (one message always fits a peer with
/// nothing queued), twice a follower's replication window.
pub const PEER_SEND_BUDGET: usize = 16 << 20;

/// How to run a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Directory of the segment files and the epoch file (unused by
    /// [`Durability::InMemory`]).
    pub dir: Option<PathBuf>,
    /// When records reach the disk.
    pub durability: Durability,
    /// A new segment file starts once the active one reaches this size.
    pub segment_bytes: u64,
    /// Endpoint the node's ROUTER binds (clients and followers connect here).
    pub bind: String,
    /// Leader to follow; `None` starts the node as leader.
    pub follow: Option<String>,
    /// Followers the cluster has, for [`Ack::Quorum`] and [`Ack::All`]. `None`
    /// counts the followers currently connected.
    pub replicas: Option<usize>,
    /// How long a write waits for follower acknowledgements.
    pub ack_timeout: Duration,
    /// This node's name in its leader's status (default: bound endpoint and pid).
    pub name: Option<String>,
}

impl NodeConfig {
    /// A leader with `durability`, files in `dir` (if the mode keeps any), bound to
    /// `bind`; 64 MiB segments, 5 s ack timeout.
    pub fn new(dir: Option<PathBuf>, durability: Durability, bind: &str) -> NodeConfig {
        NodeConfig {
            dir,
            durability,
            segment_bytes: 64 << 20,
            bind: bind.to_owned(),
            follow: None,
            replicas: None,
            ack_timeout: Duration::from_secs(5),
            name: None,
        }
    }

    /// The same, following `leader`.
    pub fn following(mut self, leader: &str) -> NodeConfig {
        self.follow = Some(leader.to_owned());
        self
    }
}

/// What a node is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Accepting writes (unless deposed).
    Leader {
        /// A newer epoch a follower reported: this node must not accept writes.
        fenced_by: Option<u64>,
    },
    /// Replicating from the leader at this endpoint.
    Follower {
        /// The leader's endpoint.
        leader: String,
    },
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Leader { fenced_by: None } => f.write_str("leader"),
            Role::Leader { fenced_by: Some(e) } => {
                write!(f, "leader (fenced by epoch {e}: not accepting writes)")
            }
            Role::Follower { leader } => write!(f, "follower of {leader}"),
        }
    }
}

/// A follower as its leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowerStatus {
    /// The follower's name.
    pub name: String,
    /// Every record below this offset reached the follower.
    pub received: u64,
    /// Every record below this offset is durable on the follower.
    pub durable: u64,
}

/// A snapshot of a node's state, as `zeroring log status` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Leader or follower.
    pub role: Role,
    /// The current leader epoch.
    pub epoch: u64,
    /// Offset the next record gets.
    pub next_offset: u64,
    /// Every record below this offset is durable here.
    pub durable_offset: u64,
    /// Number of keys in the store.
    pub keys: usize,
    /// The durability mode.
    pub durability: Durability,
    /// Followers (on a leader).
    pub followers: Vec<FollowerStatus>,
    /// Replies and follower messages dropped because that peer was not reading
    /// them (its [`PEER_SEND_BUDGET`] was full).
    pub dropped_for_slow_peers: u64,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "role: {}", self.role)?;
        writeln!(f, "epoch: {}", self.epoch)?;
        writeln!(f, "durability: {}", self.durability)?;
        writeln!(f, "next_offset: {}", self.next_offset)?;
        writeln!(f, "durable_offset: {}", self.durable_offset)?;
        writeln!(f, "keys: {}", self.keys)?;
        writeln!(f, "dropped_for_slow_peers: {}", self.dropped_for_slow_peers)?;
        for follower in &self.followers {
            writeln!(
                f,
                "follower {}: received {} durable {} lag {}",
                follower.name,
                follower.received,
                follower.durable,
                self.next_offset.saturating_sub(follower.durable)
            )?;
        }
        Ok(())
    }
}

/// Shared state of a node; the tasks hold it through an `Rc`.
pub(crate) struct Inner {
    pub(crate) cfg: NodeConfig,
    pub(crate) name: Bytes,
    pub(crate) wal: Rc<Wal>,
    pub(crate) kv: RefCell<KvStore>,
    pub(crate) role: RefCell<Role>,
    pub(crate) epoch: Cell<u64>,
    pub(crate) router: RouterSocket,
    pub(crate) endpoint: String,
    /// Followers by routing id.
    pub(crate) followers: RefCell<HashMap<Bytes, FollowerState>>,
    /// Notified when a follower acknowledges, joins or leaves, or the role changes.
    pub(crate) acks: Event,
    /// Bumped to stop the current follow task.
    pub(crate) follow_generation: Cell<u64>,
    pub(crate) closed: Cell<bool>,
    /// Messages dropped for peers that do not read (see `service::SlowPeers`).
    pub(crate) slow_peers: super::service::SlowPeers,
    scratch: RefCell<Vec<u8>>,
}

/// A replicated-log node on the current compio runtime.
///
/// ```no_run
/// # async fn demo() -> Result<(), zeroring_replog::ReplogError> {
/// use zeroring_replog::{Ack, Durability, Node, NodeConfig};
/// let cfg = NodeConfig::new(None, Durability::InMemory, "tcp://127.0.0.1:0");
/// let leader = Node::open(cfg).await?;
/// leader.put(b"k", b"v", Ack::Leader).await?;
/// assert_eq!(leader.get(b"k").as_deref(), Some(&b"v"[..]));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Node {
    pub(crate) inner: Rc<Inner>,
}

impl Node {
    /// Opens the log (recovering it), rebuilds the store, binds, and starts leading
    /// or following.
    pub async fn open(cfg: NodeConfig) -> Result<Node> {
        if let Some(dir) = &cfg.dir {
            std::fs::create_dir_all(dir).map_err(|e| ReplogError::io(dir, e))?;
        }
        let (wal, recovery) = Wal::open(cfg.dir.as_deref(), cfg.durability, cfg.segment_bytes)?;
        if let Some(r) = &recovery {
            tracing::info!(
                records = r.records,
                segments = r.segments,
                truncated = r.truncated_bytes,
                "log recovered"
            );
        }
        let mut kv = KvStore::default();
        wal.storage()
            .for_each(0, |record| kv.apply(record.payload))?;
        let stored_epoch = match (&cfg.dir, cfg.durability.has_files()) {
            (Some(dir), true) => epoch_file::load(dir)?,
            _ => 0,
        };
        let epoch = stored_epoch.max(wal.last_epoch());
        let router = RouterSocket::new();
        router.set_sndhwm(Some(100_000))?;
        router.set_rcvhwm(Some(100_000))?;
        // What one peer may make the node hold, in bytes: a client that sends
        // requests and never reads its replies gets them dropped past this (counted
        // in the status), instead of pinning up to SNDHWM copies of large values.
        // Followers stay below it: their stream is windowed (8 MiB in flight).
        router.set_sndhwm_bytes(Some(PEER_SEND_BUDGET))?;
        // Sends never wait (try_send): a full peer fails with WouldBlock and an
        // unknown one with HostUnreachable, so drops are seen and counted.
        router.set_router_mandatory(true);
        router.set_linger(Some(Duration::from_millis(200)));
        // A frame larger than the biggest record (plus framing) is hostile or broken:
        // the peer's connection is closed instead of buffering it.
        router.set_maxmsgsize(Some(MAX_FRAME));
        let endpoint = router.bind(&cfg.bind).await?.to_string();
        let name = cfg
            .name
            .clone()
            .unwrap_or_else(|| format!("{endpoint}#{}", std::process::id()));
        let role = match &cfg.follow {
            Some(leader) => Role::Follower {
                leader: leader.clone(),
            },
            None => Role::Leader { fenced_by: None },
        };
        let node = Node {
            inner: Rc::new(Inner {
                name: Bytes::from(name.into_bytes()),
                wal,
                kv: RefCell::new(kv),
                role: RefCell::new(role),
                epoch: Cell::new(epoch),
                router,
                endpoint,
                followers: RefCell::new(HashMap::new()),
                acks: Event::default(),
                follow_generation: Cell::new(0),
                closed: Cell::new(false),
                slow_peers: super::service::SlowPeers::default(),
                scratch: RefCell::new(Vec::with_capacity(256)),
                cfg,
            }),
        };
        node.inner.wal.start();
        match node.inner.cfg.follow.clone() {
            Some(leader) => super::follower::start(&node.inner, leader),
            None => {
                node.inner.promote()?;
            }
        }
        compio::runtime::spawn(super::service::run(node.inner.clone())).detach();
        Ok(node)
    }

    /// The endpoint clients and followers connect to (with the port resolved).
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Sets `key` to `value` on the leader; returns the record's offset once the
    /// `ack` policy is met (and, under [`Durability::Strict`], once it is on disk).
    pub async fn put(&self, key: &[u8], value: &[u8], ack: Ack) -> Result<u64> {
        self.inner.write(Op::Put { key, value }, ack, false).await
    }

    /// Like [`Node::put`], but the write is synced to disk before it is acknowledged
    /// whatever the mode (in memory there is nothing to sync).
    pub async fn put_durable(&self, key: &[u8], value: &[u8], ack: Ack) -> Result<u64> {
        self.inner.write(Op::Put { key, value }, ack, true).await
    }

    /// Removes `key` on the leader; acknowledged like [`Node::put`].
    pub async fn delete(&self, key: &[u8], ack: Ack) -> Result<u64> {
        self.inner.write(Op::Delete { key }, ack, false).await
    }

    /// The value of `key` in this node's store (leader or follower).
    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        self.inner.kv.borrow().get(key)
    }

    /// A snapshot of the node's state.
    pub fn status(&self) -> Status {
        self.inner.status()
    }

    /// Makes this node the leader of a new epoch (manual failover): it stops
    /// following, moves to the next epoch, and records the epoch's start in its log.
    /// Returns the new epoch.
    pub fn promote(&self) -> Result<u64> {
        self.inner.promote()
    }

    /// Stops leading (or following another leader) and follows `leader`; a divergent
    /// suffix of this node's log is truncated when the leader says where its epochs
    /// end.
    pub fn follow(&self, leader: &str) {
        super::follower::start(&self.inner, leader.to_owned());
    }

    /// Stops the node: closes its sockets and syncs the log.
    pub async fn close(&self) -> Result<()> {
        let inner = &self.inner;
        inner.closed.set(true);
        inner
            .follow_generation
            .set(inner.follow_generation.get() + 1);
        inner.acks.notify();
        inner.wal.appended.notify();
        inner.wal.synced.notify();
        inner.router.close().await;
        inner.wal.close()
    }
}

impl Inner {
    /// The leader write path shared by put, put_durable and delete.
    pub(crate) async fn write(&self, op: Op<'_>, ack: Ack, durable: bool) -> Result<u64> {
        self.check_leader()?;
        let offset = {
            let mut payload = self.scratch.borrow_mut();
            payload.clear();
            op.encode(&mut payload);
            let offset = self.wal.append(self.epoch.get(), &payload)?;
            self.kv.borrow_mut().apply_op(op);
            offset
        };
        if durable || self.wal.acks_after_sync() {
            self.wal.wait_durable(offset).await?;
        }
        let wanted = self.follower_acks_needed(ack);
        if wanted > 0 {
            let have = || self.acked_beyond(offset);
            let ok = self
                .acks
                .wait_until_for(self.cfg.ack_timeout, || {
                    have() >= wanted || self.closed.get()
                })
                .await;
            self.check_leader()?;
            if !ok || have() < wanted {
                return Err(ReplogError::AckTimeout {
                    offset,
                    wanted,
                    got: have(),
                    waited_ms: self.cfg.ack_timeout.as_millis() as u64,
                });
            }
        }
        Ok(offset)
    }

    fn check_leader(&self) -> Result<()> {
        match &*self.role.borrow() {
            Role::Leader { fenced_by: None } if !self.closed.get() => Ok(()),
            Role::Leader {
                fenced_by: Some(newer),
            } => Err(ReplogError::Fenced {
                epoch: self.epoch.get(),
                newer: *newer,
            }),
            Role::Leader { .. } => Err(ReplogError::Protocol("the node is closed".into())),
            Role::Follower { leader } => Err(ReplogError::NotLeader {
                leader: Some(leader.clone()),
            }),
        }
    }

    /// Follower acknowledgements a write needs under `ack`.
    fn follower_acks_needed(&self, ack: Ack) -> usize {
        let followers = self
            .cfg
            .replicas
            .unwrap_or_else(|| self.followers.borrow().len());
        match ack {
            Ack::Leader => 0,
            // A majority of leader + followers, the leader being one of them.
            Ack::Quorum => followers.div_ceil(2),
            Ack::All => followers,
        }
    }

    /// Followers whose durable offset covers `offset`.
    fn acked_beyond(&self, offset: u64) -> usize {
        self.followers
            .borrow()
            .values()
            .filter(|f| f.durable > offset)
            .count()
    }

    /// Stores a new current epoch (durably when the node has files).
    pub(crate) fn set_epoch(&self, epoch: u64) -> Result<()> {
        if epoch == self.epoch.get() {
            return Ok(());
        }
        if let (Some(dir), true) = (&self.cfg.dir, self.cfg.durability.has_files()) {
            epoch_file::store(dir, epoch)?;
        }
        self.epoch.set(epoch);
        Ok(())
    }

    /// Starts leading in a new epoch (on a leader's start and on `promote`): every
    /// leadership gets its own epoch, so two nodes that both believe they lead never
    /// write in the same one, and the epoch's first offset is logged at once.
    pub(crate) fn promote(&self) -> Result<u64> {
        self.follow_generation.set(self.follow_generation.get() + 1);
        let epoch = self.epoch.get().max(self.wal.last_epoch()) + 1;
        self.set_epoch(epoch)?;
        *self.role.borrow_mut() = Role::Leader { fenced_by: None };
        let mut payload = Vec::with_capacity(1);
        Op::EpochStart.encode(&mut payload);
        self.wal.append(epoch, &payload)?;
        self.acks.notify();
        tracing::info!(epoch, "promoted to leader");
        Ok(epoch)
    }

    /// Rebuilds the store from the log (after a truncation).
    pub(crate) fn rebuild_store(&self) -> Result<()> {
        let mut kv = self.kv.borrow_mut();
        kv.clear();
        self.wal
            .storage()
            .for_each(0, |record| kv.apply(record.payload))
    }

    pub(crate) fn status(&self) -> Status {
        let mut followers: Vec<FollowerStatus> = self
            .followers
            .borrow()
            .values()
            .map(|f| FollowerStatus {
                name: String::from_utf8_lossy(&f.name).into_owned(),
                received: f.received,
                durable: f.durable,
            })
            .collect();
        followers.sort_by(|a, b| a.name.cmp(&b.name));
        Status {
            role: self.role.borrow().clone(),
            epoch: self.epoch.get(),
            next_offset: self.wal.next_offset(),
            durable_offset: self.wal.durable_offset(),
            keys: self.kv.borrow().len(),
            dropped_for_slow_peers: self.slow_peers.dropped(),
            durability: self.cfg.durability,
            followers,
        }
    }
}
