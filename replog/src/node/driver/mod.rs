//! The node's driver: the one task that owns the Raft engine (`RawNode`), the store
//! and the state machine. Each round it ticks, steps what arrived from other nodes,
//! serves requests, and handles the engine's ready state in the order Raft needs:
//! send the leader's appends, install a snapshot, apply committed entries, persist
//! new entries and the hard state (synced as the durability mode says), only then
//! send the messages that acknowledge them, and advance.
//!
//! Submodules: `requests` (serving requests), `apply` (committed entries), `reply`
//! (reply frames for network clients).

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use raft::prelude::{Message as RaftMessage, MessageType};
use raft::{RawNode, SnapshotStatus, StateRole};
use zeroring_sockets::{Message, PeerProperties};

mod apply;
mod reply;
mod requests;

use self::reply::reply_frames;
use super::shared::{Outcome, ReplyTo, Shared};
use super::transport::Transport;
use crate::durability::Durability;
use crate::error::{ReplogError, Result};
use crate::machine::StateMachine;
use crate::peer_msg;
use crate::protocol::{RAFT_FRAME, Request};
use crate::raft_store::LogStore;

/// A request waiting for its entry to be applied.
struct Pending {
    reply: ReplyTo,
    since: Instant,
    what: &'static str,
}

/// A linearizable read waiting for its read index, or for the store to reach it.
struct PendingRead {
    key: Bytes,
    reply: ReplyTo,
    since: Instant,
    /// The read index, once the engine confirmed leadership.
    index: Option<u64>,
}

/// What the driver was built with.
pub(crate) struct DriverConfig {
    pub(crate) id: u64,
    pub(crate) known: BTreeMap<u64, String>,
    pub(crate) durability: Durability,
    pub(crate) snapshot_entries: u64,
    pub(crate) timeout: Duration,
}

/// Owns the engine and everything it drives.
pub(crate) struct Driver {
    cfg: DriverConfig,
    raw: RawNode<LogStore>,
    sm: StateMachine,
    transport: Rc<Transport>,
    shared: Rc<Shared>,
    applied: u64,
    next_id: u64,
    pending: HashMap<u64, Pending>,
    reads: HashMap<u64, PendingRead>,
    /// Reads that arrived before this leader committed an entry of its term.
    deferred: Vec<PendingRead>,
    was_leader: bool,
}

fn ctx_id(ctx: &[u8], me: u64) -> Option<u64> {
    let node = u64::from_le_bytes(ctx.get(..8)?.try_into().ok()?);
    let id = u64::from_le_bytes(ctx.get(8..16)?.try_into().ok()?);
    (node == me).then_some(id)
}

impl Driver {
    /// A driver for `raw`, whose applied index (`raft::Config::applied`) is the
    /// one the state machine `sm` reflects.
    pub(crate) fn new(
        cfg: DriverConfig,
        raw: RawNode<LogStore>,
        sm: StateMachine,
        io: (Rc<Transport>, Rc<Shared>),
    ) -> Driver {
        let applied = raw.raft.raft_log.applied;
        Driver {
            cfg,
            raw,
            sm,
            transport: io.0,
            shared: io.1,
            applied,
            next_id: 1,
            pending: HashMap::new(),
            reads: HashMap::new(),
            deferred: Vec::new(),
            was_leader: false,
        }
    }

    /// Runs until the node closes or fails.
    pub(crate) async fn run(mut self) {
        let shared = self.shared.clone();
        let reason = loop {
            shared.wake.wait_until(|| shared.has_work()).await;
            if shared.closed.get() {
                break shared
                    .stopped
                    .borrow()
                    .clone()
                    .unwrap_or_else(|| "closed".into());
            }
            if let Err(e) = self.round().await {
                tracing::error!(node = self.cfg.id, error = %e, "node stopped");
                break e.to_string();
            }
        };
        // Sync what Buffered mode still holds, then answer everyone still waiting.
        if let Err(e) = self.raw.mut_store().sync(true) {
            tracing::warn!(error = %e, "final sync failed");
        }
        self.fail_all(|| ReplogError::Stopped(reason.clone())).await;
        let local: Vec<_> = shared.local.borrow_mut().drain(..).collect();
        for (_, reply) in local {
            self.respond(reply, Outcome::Failed(ReplogError::Stopped(reason.clone())))
                .await;
        }
        self.transport.close().await;
        *shared.stopped.borrow_mut() = Some(reason);
        shared.closed.set(true);
        shared.wake.notify();
    }

    async fn round(&mut self) -> Result<()> {
        if self.shared.tick_due.replace(false) {
            self.raw.tick();
            self.expire().await;
            self.raw.mut_store().sync(false)?;
        }
        let inbound: Vec<_> = self.shared.inbox.borrow_mut().drain(..).collect();
        if !inbound.is_empty() {
            self.shared.wake.notify(); // room for the reader again
        }
        for (msg, peer) in inbound {
            self.on_message(msg, peer.as_deref()).await?;
        }
        let local: Vec<_> = self.shared.local.borrow_mut().drain(..).collect();
        for (req, reply) in local {
            self.on_request(req, reply).await;
        }
        if !self.deferred.is_empty() && self.raw.raft.commit_to_current_term() {
            for read in std::mem::take(&mut self.deferred) {
                self.start_read(read);
            }
        }
        while self.raw.has_ready() {
            self.on_ready().await?;
        }
        self.check_leadership().await;
        self.maybe_compact()
    }

    fn is_leader(&self) -> bool {
        self.raw.raft.state == StateRole::Leader
    }

    /// Where to reach node `id`: this node's own peer list first (each node may
    /// reach a peer through its own address, a proxy or a NAT), then the member
    /// endpoints replicated with `members add`.
    fn endpoint_of(&self, id: u64) -> Option<String> {
        self.cfg
            .known
            .get(&id)
            .or_else(|| self.sm.members().get(&id))
            .cloned()
    }

    async fn respond(&self, reply: ReplyTo, outcome: Outcome) {
        if let Some((peer, request_id, outcome)) = reply.local(outcome) {
            self.transport
                .reply(reply_frames(peer, request_id, outcome))
                .await;
        }
    }

    async fn on_message(&mut self, msg: Message, peer: Option<&PeerProperties>) -> Result<()> {
        let frames = msg.frames();
        let Some(routing_id) = frames.first().cloned() else {
            return Ok(());
        };
        match frames.get(1) {
            Some(tag) if tag[..] == *RAFT_FRAME => {
                if !self.transport.is_cluster_node(peer) {
                    tracing::warn!(
                        "raft message from a connection without the cluster key; dropped"
                    );
                    return Ok(());
                }
                let Some(body) = frames.get(2).filter(|_| frames.len() == 3) else {
                    tracing::warn!("malformed raft frame; dropped");
                    return Ok(());
                };
                match peer_msg::decode(body, self.cfg.id) {
                    Ok(m) => self.step(m),
                    Err(reason) => {
                        tracing::warn!(%reason, "raft message refused");
                        Ok(())
                    }
                }
            }
            Some(delimiter) if delimiter.is_empty() && frames.len() >= 4 => {
                let request_id = frames[2].clone();
                let reply = ReplyTo::Remote {
                    peer: routing_id,
                    request_id,
                };
                match Request::decode(&frames[3..]) {
                    Ok(req) => self.on_request(req, reply).await,
                    Err(e) => self.respond(reply, Outcome::Failed(e)).await,
                }
                Ok(())
            }
            _ => {
                tracing::debug!("message that is neither raft nor a request; dropped");
                Ok(())
            }
        }
    }

    /// Hands a checked message from another node to the engine.
    fn step(&mut self, mut m: RaftMessage) -> Result<()> {
        let member = self.sm.members().contains_key(&m.from)
            || self.cfg.known.contains_key(&m.from)
            || self.raw.raft.prs().get(m.from).is_some();
        if !member {
            tracing::warn!(
                from = m.from,
                "raft message from a node that is not a member; dropped"
            );
            return Ok(());
        }
        if m.get_msg_type() == MessageType::MsgHeartbeat {
            // A leader never announces a commit index beyond what it sent us.
            m.commit = m.commit.min(self.raw.raft.raft_log.last_index());
        }
        let from = m.from;
        match catch_unwind(AssertUnwindSafe(|| self.raw.step(m))) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::debug!(from, error = %e, "raft ignored a message");
                Ok(())
            }
            Err(_) => Err(ReplogError::Stopped(format!(
                "the raft engine panicked on a message from node {from}; the node stopped \
                 to keep its log safe: restart it"
            ))),
        }
    }

    async fn on_ready(&mut self) -> Result<()> {
        let mut rd = self.raw.ready();
        let mut unreachable = Vec::new();
        self.send(rd.take_messages(), &mut unreachable).await;
        if !rd.snapshot().is_empty() {
            let snap = rd.snapshot().clone();
            let sm = StateMachine::decode(&snap.data)?;
            let index = snap.get_metadata().index;
            self.raw.mut_store().install_snapshot(snap)?;
            self.sm = sm;
            self.applied = index;
            tracing::info!(
                node = self.cfg.id,
                index,
                "installed a snapshot from the leader"
            );
        }
        self.apply(rd.take_committed_entries()).await?;
        self.raw.mut_store().append(rd.entries())?;
        if let Some(hs) = rd.hs() {
            self.raw.mut_store().set_hard_state(hs.clone())?;
        }
        // Strict: the entries are on disk before anything acknowledges them.
        self.raw.mut_store().sync(false)?;
        for rs in rd.take_read_states() {
            if let Some(read) =
                ctx_id(&rs.request_ctx, self.cfg.id).and_then(|id| self.reads.get_mut(&id))
            {
                read.index = Some(rs.index);
            }
        }
        self.send(rd.take_persisted_messages(), &mut unreachable)
            .await;
        let mut light = self.raw.advance(rd);
        if let Some(commit) = light.commit_index() {
            self.raw.mut_store().set_commit(commit)?;
        }
        self.send(light.take_messages(), &mut unreachable).await;
        self.apply(light.take_committed_entries()).await?;
        self.raw.advance_apply();
        for (to, snapshot) in unreachable {
            self.raw.report_unreachable(to);
            if snapshot {
                self.raw.report_snapshot(to, SnapshotStatus::Failure);
            }
        }
        self.answer_reads().await;
        Ok(())
    }

    async fn send(&mut self, msgs: Vec<RaftMessage>, unreachable: &mut Vec<(u64, bool)>) {
        for m in msgs {
            let to = m.to;
            let snapshot = m.get_msg_type() == MessageType::MsgSnapshot;
            let Some(endpoint) = self.endpoint_of(to) else {
                tracing::debug!(to, "no endpoint known for a peer; message dropped");
                continue;
            };
            let Some(body) = peer_msg::encode(&m) else {
                continue;
            };
            let sent = self.transport.send_raft(to, &endpoint, body).await;
            if !sent {
                unreachable.push((to, snapshot));
            } else if snapshot {
                self.raw.report_snapshot(to, SnapshotStatus::Finish);
            }
        }
    }

    /// A leader that lost leadership fails what it was waiting for: writes may still
    /// commit (Unconfirmed), reads must not be answered by a deposed leader.
    async fn check_leadership(&mut self) {
        let leader = self.is_leader();
        if self.was_leader && !leader {
            tracing::info!(node = self.cfg.id, "no longer the leader");
            let started = Instant::now();
            self.fail_all(|| ReplogError::Unconfirmed {
                what: "request",
                waited_ms: started.elapsed().as_millis() as u64,
            })
            .await;
        }
        self.was_leader = leader;
    }

    async fn fail_all(&mut self, err: impl Fn() -> ReplogError) {
        let pending: Vec<_> = self.pending.drain().map(|(_, p)| p.reply).collect();
        let reads = self.reads.drain().map(|(_, r)| r.reply);
        let deferred = self.deferred.drain(..).map(|r| r.reply);
        let all: Vec<_> = pending.into_iter().chain(reads).chain(deferred).collect();
        for reply in all {
            self.respond(reply, Outcome::Failed(err())).await;
        }
    }

    /// Answers every request older than the timeout with `Unconfirmed`.
    async fn expire(&mut self) {
        let limit = self.cfg.timeout;
        let old = |since: Instant| since.elapsed() >= limit;
        let mut replies: Vec<(ReplyTo, &'static str, Instant)> = Vec::new();
        for (_, p) in self.pending.extract_if(|_, p| old(p.since)) {
            replies.push((p.reply, p.what, p.since));
        }
        for (_, r) in self.reads.extract_if(|_, r| old(r.since)) {
            replies.push((r.reply, "read", r.since));
        }
        let (keep, gone): (Vec<_>, Vec<_>) = self.deferred.drain(..).partition(|r| !old(r.since));
        self.deferred = keep;
        replies.extend(gone.into_iter().map(|r| (r.reply, "read", r.since)));
        for (reply, what, since) in replies {
            let e = ReplogError::Unconfirmed {
                what,
                waited_ms: since.elapsed().as_millis() as u64,
            };
            self.respond(reply, Outcome::Failed(e)).await;
        }
    }

    fn maybe_compact(&mut self) -> Result<()> {
        let store = self.raw.store();
        let snap_index = store.snapshot_ref().get_metadata().index;
        let due = self.applied > snap_index
            && (self.applied - snap_index >= self.cfg.snapshot_entries || store.snapshot_wanted());
        if !due {
            return Ok(());
        }
        let data = self.sm.encode()?;
        let applied = self.applied;
        self.raw.mut_store().compact(applied, data)?;
        tracing::info!(
            node = self.cfg.id,
            index = applied,
            "snapshot taken, log compacted"
        );
        Ok(())
    }
}
