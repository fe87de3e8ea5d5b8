//! [`Status`]: a node's view of the cluster (what `zeroring log status` prints), and
//! its encoding in a `STATUS` reply.

use std::fmt;

use super::codec::{Reader, put_bytes, put_u64};
use super::error::Result;

/// One member as this node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    /// Node id.
    pub id: u64,
    /// Its endpoint.
    pub endpoint: String,
    /// A voter (`false`: a learner, or known but not in the configuration).
    pub voter: bool,
    /// Highest log index known to be on that node (leader only; `None` elsewhere).
    pub matched: Option<u64>,
}

/// A node's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// This node's id.
    pub id: u64,
    /// `leader`, `follower`, `candidate`, `pre-candidate`.
    pub role: String,
    /// Current term.
    pub term: u64,
    /// The leader this node knows of (0: none).
    pub leader_id: u64,
    /// Highest index known committed.
    pub commit: u64,
    /// Highest index applied to the store.
    pub applied: u64,
    /// Last index in this node's log.
    pub last_index: u64,
    /// Index the latest snapshot covers (the log holds only what follows it).
    pub snapshot_index: u64,
    /// Keys in the store.
    pub keys: u64,
    /// The durability mode.
    pub durability: String,
    /// Members, by id.
    pub members: Vec<MemberStatus>,
}

impl Status {
    /// The bytes of a `STATUS` reply.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for v in [
            self.id,
            self.term,
            self.leader_id,
            self.commit,
            self.applied,
            self.last_index,
            self.snapshot_index,
            self.keys,
        ] {
            put_u64(&mut out, v);
        }
        put_bytes(&mut out, self.role.as_bytes())?;
        put_bytes(&mut out, self.durability.as_bytes())?;
        put_u64(&mut out, self.members.len() as u64);
        for m in &self.members {
            put_u64(&mut out, m.id);
            put_bytes(&mut out, m.endpoint.as_bytes())?;
            out.push(m.voter as u8);
            put_u64(&mut out, m.matched.map_or(u64::MAX, |v| v));
        }
        Ok(out)
    }

    /// Parses [`Status::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<Status> {
        let mut r = Reader::new(bytes, "status reply");
        let mut n = [0u64; 8];
        for v in &mut n {
            *v = r.u64("number")?;
        }
        let text = |r: &mut Reader<'_>, what| -> Result<String> {
            Ok(String::from_utf8_lossy(r.bytes(what)?).into_owned())
        };
        let role = text(&mut r, "role")?;
        let durability = text(&mut r, "durability")?;
        let mut members = Vec::new();
        for _ in 0..r.u64("member count")? {
            let id = r.u64("member id")?;
            let endpoint = text(&mut r, "endpoint")?;
            let voter = r.u8("voter")? == 1;
            let matched = Some(r.u64("matched")?).filter(|&m| m != u64::MAX);
            members.push(MemberStatus {
                id,
                endpoint,
                voter,
                matched,
            });
        }
        r.finish()?;
        Ok(Status {
            id: n[0],
            role,
            term: n[1],
            leader_id: n[2],
            commit: n[3],
            applied: n[4],
            last_index: n[5],
            snapshot_index: n[6],
            keys: n[7],
            durability,
            members,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "node {} ({}), term {}", self.id, self.role, self.term)?;
        let leader = if self.leader_id == 0 {
            "none known".to_string()
        } else {
            self.leader_id.to_string()
        };
        writeln!(f, "leader: {leader}")?;
        writeln!(
            f,
            "commit {}, applied {}, last index {}, snapshot at {}",
            self.commit, self.applied, self.last_index, self.snapshot_index
        )?;
        writeln!(f, "keys: {}, mode: {}", self.keys, self.durability)?;
        for m in &self.members {
            let kind = if m.voter { "voter" } else { "learner" };
            match m.matched {
                Some(matched) => writeln!(
                    f,
                    "  {} {} {kind} matched {matched} lag {}",
                    m.id,
                    m.endpoint,
                    self.last_index.saturating_sub(matched)
                )?,
                None => writeln!(f, "  {} {} {kind}", m.id, m.endpoint)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = Status {
            id: 1,
            role: "leader".into(),
            term: 3,
            leader_id: 1,
            commit: 10,
            applied: 10,
            last_index: 11,
            snapshot_index: 1,
            keys: 5,
            durability: "strict".into(),
            members: vec![MemberStatus {
                id: 2,
                endpoint: "tcp://x:1".into(),
                voter: true,
                matched: Some(9),
            }],
        };
        let b = s.encode().unwrap();
        assert_eq!(Status::decode(&b).unwrap(), s);
        assert!(Status::decode(&b[..b.len() - 1]).is_err());
        assert!(s.to_string().contains("lag 2"));
    }
}
