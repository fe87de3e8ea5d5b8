//! The driver applying committed entries: store commands to the state machine,
//! membership changes to the engine's configuration and the member endpoints; and
//! answering the requests that waited for them.

use protobuf::Message as _;
use raft::prelude::{ConfChange, ConfChangeType, ConfChangeV2, Entry, EntryType};

use super::super::shared::Outcome;
use super::{Driver, ctx_id};
use crate::error::{ReplogError, Result};
use crate::machine::apply_payload;

impl Driver {
    pub(super) async fn apply(&mut self, entries: Vec<Entry>) -> Result<()> {
        for e in entries {
            if e.index <= self.applied {
                continue;
            }
            self.applied = e.index;
            let done = match e.get_entry_type() {
                EntryType::EntryNormal if e.data.is_empty() => None,
                EntryType::EntryNormal => {
                    apply_payload(&mut self.sm, &e.data);
                    Some(Outcome::Written(e.index))
                }
                EntryType::EntryConfChange => Some(self.apply_conf_change(&e)),
                EntryType::EntryConfChangeV2 => {
                    let outcome = match ConfChangeV2::parse_from_bytes(&e.data) {
                        Ok(cc) => match self.raw.apply_conf_change(&cc) {
                            Ok(cs) => {
                                self.raw.mut_store().set_conf_state(cs);
                                Outcome::Done
                            }
                            Err(err) => Outcome::Failed(ReplogError::Raft(err.to_string())),
                        },
                        Err(err) => Outcome::Failed(ReplogError::Raft(err.to_string())),
                    };
                    Some(outcome)
                }
            };
            let waiting = ctx_id(&e.context, self.cfg.id).and_then(|id| self.pending.remove(&id));
            if let (Some(outcome), Some(p)) = (done, waiting) {
                self.respond(p.reply, outcome).await;
            }
        }
        Ok(())
    }

    pub(super) fn apply_conf_change(&mut self, e: &Entry) -> Outcome {
        let cc = match ConfChange::parse_from_bytes(&e.data) {
            Ok(cc) => cc,
            Err(err) => {
                tracing::warn!(index = e.index, error = %err, "committed membership change does not decode; skipped");
                return Outcome::Failed(ReplogError::Raft(err.to_string()));
            }
        };
        match self.raw.apply_conf_change(&cc) {
            Ok(cs) => {
                self.raw.mut_store().set_conf_state(cs);
            }
            Err(err) => {
                tracing::warn!(index = e.index, error = %err, "membership change refused");
                return Outcome::Failed(ReplogError::Raft(err.to_string()));
            }
        }
        let node = cc.node_id;
        match cc.get_change_type() {
            ConfChangeType::AddNode | ConfChangeType::AddLearnerNode => {
                let endpoint = e.context.get(16..).unwrap_or_default();
                if !endpoint.is_empty() {
                    self.sm
                        .set_member(node, String::from_utf8_lossy(endpoint).into_owned());
                }
            }
            ConfChangeType::RemoveNode => {
                self.sm.remove_member(node);
                self.transport.forget(node);
            }
        }
        tracing::info!(node = self.cfg.id, change = ?cc.get_change_type(), member = node, "membership changed");
        Outcome::Done
    }
}
