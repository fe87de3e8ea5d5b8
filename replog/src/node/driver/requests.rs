//! The driver serving requests: writes and membership changes become proposals it
//! tracks until their entry is applied, linearizable reads go through a read-index
//! round, stale reads and status are answered at once, and non-leaders redirect.

use std::time::Instant;

use raft::StateRole;
use raft::prelude::{ConfChange, ConfChangeType};

use super::super::shared::{Outcome, ReplyTo};
use super::{Driver, Pending, PendingRead};
use crate::command::Command;
use crate::error::ReplogError;
use crate::protocol::{ReadConsistency, Request};
use crate::status::{MemberStatus, Status};
use crate::store::Op;

impl Driver {
    pub(super) fn not_leader(&self) -> ReplogError {
        let r = &self.raw.raft;
        // A follower that has not heard from its leader for three heartbeats does not
        // send clients to it: it is probably gone, and an election is coming.
        let fresh = r.election_elapsed <= 3 * r.heartbeat_timeout();
        let leader = if fresh { r.leader_id } else { 0 };
        let leader_id = (leader != 0).then_some(leader);
        ReplogError::NotLeader {
            node: self.cfg.id,
            leader_id,
            leader: leader_id.and_then(|l| self.endpoint_of(l)),
        }
    }

    pub(super) async fn on_request(&mut self, req: Request, reply: ReplyTo) {
        if let Err(e) = req.check() {
            return self.respond(reply, Outcome::Failed(e)).await;
        }
        match req {
            Request::Put {
                client,
                seq,
                key,
                value,
            } => {
                let op = Op::Put {
                    key: &key,
                    value: &value,
                };
                let data = Command { client, seq, op }.encode();
                self.propose(data, reply).await;
            }
            Request::Delete { client, seq, key } => {
                let data = Command {
                    client,
                    seq,
                    op: Op::Delete { key: &key },
                }
                .encode();
                self.propose(data, reply).await;
            }
            Request::Get {
                key,
                consistency: ReadConsistency::Stale,
            } => {
                let v = self.sm.get(&key);
                self.respond(reply, Outcome::Value(v)).await;
            }
            Request::Get { key, .. } => {
                if !self.is_leader() {
                    let e = self.not_leader();
                    return self.respond(reply, Outcome::Failed(e)).await;
                }
                let read = PendingRead {
                    key,
                    reply,
                    since: Instant::now(),
                    index: None,
                };
                if self.raw.raft.commit_to_current_term() {
                    self.start_read(read);
                } else {
                    self.deferred.push(read);
                }
            }
            Request::Status => {
                let s = self.status();
                self.respond(reply, Outcome::Status(Box::new(s))).await;
            }
            Request::AddMember {
                id,
                endpoint,
                learner,
            } => {
                let kind = if learner {
                    ConfChangeType::AddLearnerNode
                } else {
                    ConfChangeType::AddNode
                };
                self.propose_conf_change(kind, id, endpoint.into_bytes(), reply)
                    .await;
            }
            Request::RemoveMember { id } => {
                self.propose_conf_change(ConfChangeType::RemoveNode, id, Vec::new(), reply)
                    .await;
            }
            Request::TransferLeader { id } => {
                if !self.is_leader() {
                    let e = self.not_leader();
                    return self.respond(reply, Outcome::Failed(e)).await;
                }
                let voters = &self.raw.store().conf_state().voters;
                if !voters.contains(&id) {
                    let e = ReplogError::Raft(format!(
                        "node {id} is not a voter; leadership can only go to a voter"
                    ));
                    return self.respond(reply, Outcome::Failed(e)).await;
                }
                self.raw.transfer_leader(id);
                self.respond(reply, Outcome::Done).await;
            }
        }
    }

    pub(super) fn new_ctx(&mut self, extra: &[u8]) -> (u64, Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut ctx = Vec::with_capacity(16 + extra.len());
        ctx.extend_from_slice(&self.cfg.id.to_le_bytes());
        ctx.extend_from_slice(&id.to_le_bytes());
        ctx.extend_from_slice(extra);
        (id, ctx)
    }

    pub(super) async fn propose(&mut self, data: Vec<u8>, reply: ReplyTo) {
        if !self.is_leader() {
            let e = self.not_leader();
            return self.respond(reply, Outcome::Failed(e)).await;
        }
        let (id, ctx) = self.new_ctx(&[]);
        let proposed = self.raw.propose(ctx, data);
        self.track(proposed, id, reply, "write").await;
    }

    /// Waits for proposal `id`'s entry to be applied, or answers the engine's refusal.
    pub(super) async fn track(
        &mut self,
        proposed: raft::Result<()>,
        id: u64,
        reply: ReplyTo,
        what: &'static str,
    ) {
        match proposed {
            Ok(()) => {
                let since = Instant::now();
                self.pending.insert(id, Pending { reply, since, what });
            }
            Err(e) => {
                let e = ReplogError::Raft(format!("{e}; retry"));
                self.respond(reply, Outcome::Failed(e)).await;
            }
        }
    }

    pub(super) async fn propose_conf_change(
        &mut self,
        kind: ConfChangeType,
        node: u64,
        endpoint: Vec<u8>,
        reply: ReplyTo,
    ) {
        if !self.is_leader() {
            let e = self.not_leader();
            return self.respond(reply, Outcome::Failed(e)).await;
        }
        if self.raw.raft.pending_conf_index > self.applied {
            // The engine would turn a second change into an empty entry silently.
            let e = ReplogError::Raft(
                "a membership change is still being applied; retry once it is done".into(),
            );
            return self.respond(reply, Outcome::Failed(e)).await;
        }
        let (id, ctx) = self.new_ctx(&endpoint);
        let mut cc = ConfChange::default();
        cc.set_change_type(kind);
        cc.node_id = node;
        let proposed = self.raw.propose_conf_change(ctx, cc);
        self.track(proposed, id, reply, "membership change").await;
    }

    pub(super) fn start_read(&mut self, read: PendingRead) {
        let (id, ctx) = self.new_ctx(&[]);
        self.raw.read_index(ctx);
        self.reads.insert(id, read);
    }

    pub(super) async fn answer_reads(&mut self) {
        let applied = self.applied;
        let done: Vec<u64> = self
            .reads
            .iter()
            .filter(|(_, r)| r.index.is_some_and(|i| i <= applied))
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            if let Some(read) = self.reads.remove(&id) {
                let v = self.sm.get(&read.key);
                self.respond(read.reply, Outcome::Value(v)).await;
            }
        }
    }

    pub(super) fn status(&self) -> Status {
        let r = &self.raw.raft;
        let role = match r.state {
            StateRole::Leader => "leader",
            StateRole::Follower => "follower",
            StateRole::Candidate => "candidate",
            StateRole::PreCandidate => "pre-candidate",
        };
        let cs = self.raw.store().conf_state();
        let mut ids: Vec<u64> = cs
            .voters
            .iter()
            .chain(cs.learners.iter())
            .chain(self.sm.members().keys())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let leader = self.is_leader();
        let members = ids
            .into_iter()
            .map(|id| MemberStatus {
                id,
                endpoint: self.endpoint_of(id).unwrap_or_default(),
                voter: cs.voters.contains(&id),
                matched: if leader {
                    if id == self.cfg.id {
                        Some(r.raft_log.last_index())
                    } else {
                        r.prs().get(id).map(|p| p.matched)
                    }
                } else {
                    None
                },
            })
            .collect();
        Status {
            id: self.cfg.id,
            role: role.into(),
            term: r.term,
            leader_id: r.leader_id,
            commit: r.raft_log.committed,
            applied: self.applied,
            last_index: r.raft_log.last_index(),
            snapshot_index: self.raw.store().snapshot_ref().get_metadata().index,
            keys: self.sm.len() as u64,
            durability: self.cfg.durability.to_string(),
            members,
        }
    }
}
