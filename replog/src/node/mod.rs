//! [`Node`]: one member of a replicated-log cluster, running on the current compio
//! runtime thread. Opening it binds its socket, recovers its store, and starts the
//! driver (the Raft engine's loop) and a ticker; the handle queues requests for the
//! driver and waits for the answers.
//!
//! - `shared`: the queues and answer slots between the handle and the driver.
//! - `transport`: the ROUTER and per-peer DEALER sockets.
//! - `driver`: the engine loop.

mod driver;
mod shared;
mod transport;

use std::rc::Rc;

use bytes::Bytes;
use raft::{RawNode, ReadOnlyOption};

use self::driver::{Driver, DriverConfig};
use self::shared::{Outcome, ReplyTo, Shared, Slot};
use self::transport::Transport;
use crate::config::NodeConfig;
use crate::error::{ReplogError, Result};
use crate::machine::StateMachine;
use crate::protocol::{ReadConsistency, Request};
use crate::raft_store::LogStore;
use crate::status::Status;

pub use self::transport::MAX_MESSAGE_BYTES;

/// Bytes of proposals a leader keeps uncommitted before it refuses more (the
/// writer gets [`ReplogError::Raft`] and retries): 64 MiB.
pub const MAX_UNCOMMITTED_BYTES: u64 = 64 << 20;

/// A running node. Dropping it stops the node (like [`Node::close`], without
/// waiting).
pub struct Node {
    id: u64,
    endpoint: String,
    shared: Rc<Shared>,
}

impl Node {
    /// Opens the node: binds its endpoint, recovers its log directory (or starts
    /// empty in memory), founds the cluster of `cfg.peers` if the store is new and
    /// `cfg.join` is off, and starts serving. Must run on a compio runtime.
    pub async fn open(cfg: NodeConfig) -> Result<Node> {
        cfg.validate()?;
        let bind = cfg
            .bind_endpoint()
            .ok_or_else(|| ReplogError::Config("no endpoint to bind".into()))?
            .to_owned();
        let mut store = match &cfg.dir {
            Some(dir) => LogStore::open(dir, cfg.durability, cfg.segment_bytes)?,
            None => LogStore::memory(),
        };
        let founding = StateMachine::with_members(cfg.peers.clone());
        if store.is_empty() && !cfg.join {
            let voters = cfg.peers.keys().copied().collect();
            store.bootstrap(voters, founding.encode()?)?;
        }
        let snap = store.snapshot_ref();
        let applied = snap.get_metadata().index;
        let sm = if snap.data.is_empty() {
            founding
        } else {
            StateMachine::decode(&snap.data)?
        };
        let shared = Rc::new(Shared::default());
        let transport = Rc::new(
            Transport::bind(
                &bind,
                cfg.cluster_key.clone(),
                &cfg.client_keys,
                shared.clone(),
            )
            .await?,
        );
        let raft_cfg = raft::Config {
            id: cfg.id,
            election_tick: cfg.election_ticks,
            heartbeat_tick: cfg.heartbeat_ticks,
            applied,
            max_size_per_msg: 1 << 20,
            max_inflight_msgs: 256,
            check_quorum: true,
            pre_vote: true,
            read_only_option: ReadOnlyOption::Safe,
            // The proposals of one round go to each follower in one append.
            batch_append: true,
            // Followers learn the commit index with the next append or heartbeat
            // instead of an extra message per commit.
            skip_bcast_commit: true,
            // A leader that cannot commit (no quorum) refuses proposals beyond this
            // many bytes in flight instead of growing without bound.
            max_uncommitted_size: MAX_UNCOMMITTED_BYTES,
            ..raft::Config::default()
        };
        raft_cfg
            .validate()
            .map_err(|e| ReplogError::Config(e.to_string()))?;
        let raw = RawNode::new(&raft_cfg, store, &crate::logger::logger(cfg.id))
            .map_err(|e| ReplogError::Raft(e.to_string()))?;
        let endpoint = transport.endpoint().to_owned();
        let driver = Driver::new(
            DriverConfig {
                id: cfg.id,
                known: cfg.peers.clone(),
                durability: cfg.durability,
                snapshot_entries: cfg.snapshot_entries.max(1),
                timeout: cfg.request_timeout,
            },
            raw,
            sm,
            (transport, shared.clone()),
        );
        compio::runtime::spawn(driver.run()).detach();
        let ticker = shared.clone();
        let tick = cfg.tick;
        compio::runtime::spawn(async move {
            while !ticker.closed.get() {
                compio::time::sleep(tick).await;
                ticker.tick_due.set(true);
                ticker.wake.notify();
            }
        })
        .detach();
        tracing::info!(node = cfg.id, %endpoint, mode = %cfg.durability, "replicated-log node started");
        Ok(Node {
            id: cfg.id,
            endpoint,
            shared,
        })
    }

    /// This node's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The endpoint the node listens on (resolved: a `:0` port is replaced).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    async fn call(&self, req: Request) -> Outcome {
        if let Some(reason) = self.shared.stopped.borrow().clone() {
            return Outcome::Failed(ReplogError::Stopped(reason));
        }
        let slot = Rc::new(Slot::default());
        self.shared
            .local
            .borrow_mut()
            .push_back((req, ReplyTo::Local(slot.clone())));
        self.shared.wake.notify();
        slot.take().await
    }

    async fn write(&self, req: Request) -> Result<u64> {
        match self.call(req).await {
            Outcome::Written(index) => Ok(index),
            Outcome::Failed(e) => Err(e),
            other => Err(unexpected(other)),
        }
    }

    /// Sets `key` to `value` through the log; returns the entry's index once it is
    /// committed and applied. Only the leader accepts writes
    /// ([`ReplogError::NotLeader`] elsewhere).
    pub async fn put(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        self.put_as(0, 0, key, value).await
    }

    /// [`Node::put`] as client `client` with sequence number `seq`: a retry with the
    /// same pair is applied at most once (client 0: no de-duplication).
    pub async fn put_as(&self, client: u64, seq: u64, key: &[u8], value: &[u8]) -> Result<u64> {
        self.write(Request::Put {
            client,
            seq,
            key: Bytes::copy_from_slice(key),
            value: Bytes::copy_from_slice(value),
        })
        .await
    }

    /// Removes `key` through the log.
    pub async fn delete(&self, key: &[u8]) -> Result<u64> {
        self.write(Request::Delete {
            client: 0,
            seq: 0,
            key: Bytes::copy_from_slice(key),
        })
        .await
    }

    /// Reads `key`: linearizable (leader only, after a read-index round) or stale
    /// (this node's applied state).
    pub async fn get(&self, key: &[u8], consistency: ReadConsistency) -> Result<Option<Bytes>> {
        match self
            .call(Request::Get {
                key: Bytes::copy_from_slice(key),
                consistency,
            })
            .await
        {
            Outcome::Value(v) => Ok(v),
            Outcome::Failed(e) => Err(e),
            other => Err(unexpected(other)),
        }
    }

    /// The node's view of the cluster.
    pub async fn status(&self) -> Result<Status> {
        match self.call(Request::Status).await {
            Outcome::Status(s) => Ok(*s),
            Outcome::Failed(e) => Err(e),
            other => Err(unexpected(other)),
        }
    }

    async fn done(&self, req: Request) -> Result<()> {
        match self.call(req).await {
            Outcome::Done => Ok(()),
            Outcome::Failed(e) => Err(e),
            other => Err(unexpected(other)),
        }
    }

    /// Adds node `id` at `endpoint` as a voter, or as a non-voting learner; returns
    /// once the change is committed. Start the new node with `join` first.
    pub async fn add_member(&self, id: u64, endpoint: &str, learner: bool) -> Result<()> {
        self.done(Request::AddMember {
            id,
            endpoint: endpoint.to_owned(),
            learner,
        })
        .await
    }

    /// Removes node `id`; returns once the change is committed.
    pub async fn remove_member(&self, id: u64) -> Result<()> {
        self.done(Request::RemoveMember { id }).await
    }

    /// Asks the leader to hand leadership to voter `id` (it happens once `id` has
    /// caught up; watch [`Node::status`]).
    pub async fn transfer_leader(&self, id: u64) -> Result<()> {
        self.done(Request::TransferLeader { id }).await
    }

    /// Stops the node: syncs the log, answers waiting requests with
    /// [`ReplogError::Stopped`], closes the sockets.
    pub async fn close(self) {
        self.shared.closed.set(true);
        self.shared.wake.notify();
        let shared = self.shared.clone();
        shared
            .wake
            .wait_until(|| shared.stopped.borrow().is_some())
            .await;
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shared.closed.set(true);
        self.shared.wake.notify();
    }
}

fn unexpected(o: Outcome) -> ReplogError {
    ReplogError::Protocol(format!(
        "unexpected answer {o:?}: this is a bug, please report it"
    ))
}
