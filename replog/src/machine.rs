//! The state machine Raft drives: the key-value store, the client sessions that make
//! writes idempotent, and the endpoints of the cluster's members. Owns applying a
//! committed command and the snapshot encoding of the whole state.
//!
//! Snapshot layout (inside the snapshot's `data`): `ZRSM`, version 1 (u8), members
//! (u32 count; id u64, endpoint bytes), sessions (u32 count; client u64, last
//! sequence u64), keys (u64 count; key bytes, value bytes). Byte strings are a u32
//! length and the bytes.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;

use super::codec::{Reader, put_bytes, put_u64};
use super::command::Command;
use super::error::{ReplogError, Result};
use super::store::{KvStore, Op};

const MAGIC: &[u8; 4] = b"ZRSM";
const VERSION: u8 = 1;

/// The replicated state: store, sessions and member endpoints.
#[derive(Debug, Default)]
pub struct StateMachine {
    kv: KvStore,
    /// Last applied sequence number per client id.
    sessions: HashMap<u64, u64>,
    /// Endpoint of every member (voter or learner), by node id.
    members: BTreeMap<u64, String>,
}

impl StateMachine {
    /// A state machine that knows the given member endpoints and nothing else.
    pub fn with_members(members: BTreeMap<u64, String>) -> StateMachine {
        StateMachine {
            members,
            ..StateMachine::default()
        }
    }

    /// Applies a committed command; returns `false` when it was a duplicate of a write
    /// already applied for its client (same or older sequence) and so changed nothing.
    pub fn apply(&mut self, cmd: Command<'_>) -> bool {
        if cmd.client != 0 {
            let last = self.sessions.entry(cmd.client).or_insert(0);
            if cmd.seq <= *last {
                return false;
            }
            *last = cmd.seq;
        }
        self.kv.apply_op(cmd.op);
        true
    }

    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        self.kv.get(key)
    }

    /// Number of keys in the store.
    pub fn len(&self) -> usize {
        self.kv.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.kv.is_empty()
    }

    /// Member endpoints by node id.
    pub fn members(&self) -> &BTreeMap<u64, String> {
        &self.members
    }

    /// Records (or replaces) the endpoint of member `id`.
    pub fn set_member(&mut self, id: u64, endpoint: String) {
        self.members.insert(id, endpoint);
    }

    /// Forgets member `id`.
    pub fn remove_member(&mut self, id: u64) {
        self.members.remove(&id);
    }

    /// The whole state, encoded for a snapshot.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(64 + self.kv.len() * 32);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&(self.members.len() as u32).to_le_bytes());
        for (id, ep) in &self.members {
            put_u64(&mut out, *id);
            put_bytes(&mut out, ep.as_bytes())?;
        }
        out.extend_from_slice(&(self.sessions.len() as u32).to_le_bytes());
        for (client, seq) in &self.sessions {
            put_u64(&mut out, *client);
            put_u64(&mut out, *seq);
        }
        put_u64(&mut out, self.kv.len() as u64);
        for (k, v) in self.kv.iter() {
            put_bytes(&mut out, k)?;
            put_bytes(&mut out, v)?;
        }
        Ok(out)
    }

    /// Rebuilds a state machine from [`StateMachine::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<StateMachine> {
        let mut r = Reader::new(bytes, "snapshot");
        if r.take(4, "magic")? != MAGIC {
            return Err(ReplogError::InvalidRecord(
                "snapshot: not a zeroring state machine snapshot (bad magic)".into(),
            ));
        }
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(ReplogError::InvalidRecord(format!(
                "snapshot version {version} is not supported (this build reads {VERSION}): \
                 upgrade the node"
            )));
        }
        let mut sm = StateMachine::default();
        for _ in 0..r.u32("member count")? {
            let id = r.u64("member id")?;
            let ep = r.bytes("member endpoint")?;
            let ep = String::from_utf8(ep.to_vec()).map_err(|_| {
                ReplogError::InvalidRecord("snapshot: member endpoint is not UTF-8".into())
            })?;
            sm.members.insert(id, ep);
        }
        for _ in 0..r.u32("session count")? {
            let client = r.u64("client id")?;
            let seq = r.u64("sequence")?;
            sm.sessions.insert(client, seq);
        }
        for _ in 0..r.u64("key count")? {
            let k = r.bytes("key")?;
            let v = r.bytes("value")?;
            sm.kv
                .insert(Bytes::copy_from_slice(k), Bytes::copy_from_slice(v));
        }
        r.finish()?;
        Ok(sm)
    }
}

/// Applies a command payload from a committed entry; a payload that does not decode
/// is logged and skipped (every replica skips it the same way).
pub(crate) fn apply_payload(sm: &mut StateMachine, payload: &[u8]) -> bool {
    match Command::decode(payload) {
        Ok(cmd) => sm.apply(cmd),
        Err(e) => {
            tracing::warn!(error = %e, "committed entry is not a store command; skipped");
            false
        }
    }
}

/// A put of `key` = `value` without a session (for tests and examples).
pub fn put_command<'a>(key: &'a [u8], value: &'a [u8]) -> Command<'a> {
    Command {
        client: 0,
        seq: 0,
        op: Op::Put { key, value },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_applied_once() {
        let mut sm = StateMachine::default();
        let put = |seq, v: &'static [u8]| Command {
            client: 5,
            seq,
            op: Op::Put {
                key: b"k",
                value: v,
            },
        };
        assert!(sm.apply(put(1, b"a")));
        assert!(sm.apply(put(2, b"b")));
        assert!(!sm.apply(put(1, b"c")), "an old sequence is a duplicate");
        assert!(!sm.apply(put(2, b"c")), "a retry is a duplicate");
        assert_eq!(sm.get(b"k").as_deref(), Some(&b"b"[..]));
        // No session: applied every time.
        assert!(sm.apply(put_command(b"k", b"x")));
        assert!(sm.apply(put_command(b"k", b"y")));
        assert_eq!(sm.get(b"k").as_deref(), Some(&b"y"[..]));
    }

    #[test]
    fn snapshot_round_trip_and_damage() {
        let mut sm = StateMachine::default();
        sm.set_member(1, "tcp://127.0.0.1:1".into());
        sm.apply(Command {
            client: 3,
            seq: 7,
            op: Op::Put {
                key: b"k",
                value: b"v",
            },
        });
        let bytes = sm.encode().unwrap();
        let back = StateMachine::decode(&bytes).unwrap();
        assert_eq!(back.get(b"k").as_deref(), Some(&b"v"[..]));
        assert_eq!(back.members(), sm.members());
        assert_eq!(back.sessions, sm.sessions);
        for cut in 0..bytes.len() {
            assert!(StateMachine::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(StateMachine::decode(&extra).is_err());
    }
}
