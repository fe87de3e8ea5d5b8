//! The client protocol on a node's ROUTER socket, and the frame that marks Raft
//! traffic between nodes.
//!
//! A client (a DEALER, as [`LogClient`](crate::LogClient) uses) sends
//! `["", request id (8 bytes), COMMAND, args...]` and gets
//! `["", request id, STATUS, results...]` back. Numbers are 8-byte little-endian
//! frames. Commands: `PUT client seq key value`, `DEL client seq key`,
//! `GET key consistency` (`L` linearizable, `S` stale), `STATUS`, `ADD id endpoint
//! role` (`V` voter, `L` learner), `REMOVE id`, `TRANSFER id`. Statuses: `OK`
//! (results follow), `NOTLEADER leader-id endpoint` (id 0: unknown), `UNCONFIRMED
//! text`, `ERR text`. A node sends Raft messages to another node as
//! `["RAFT", protobuf Message]`.

use bytes::Bytes;

use super::error::{ReplogError, Result};

/// First frame of a Raft message between nodes.
pub const RAFT_FRAME: &[u8] = b"RAFT";

/// Largest key plus value a write may carry: 8 MiB (a Raft entry is one log record,
/// at most 16 MiB).
pub const MAX_WRITE_BYTES: usize = 8 << 20;

/// How a read is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadConsistency {
    /// Served by the leader after a read-index round (a heartbeat quorum confirms it
    /// still leads) once it has applied up to that index: linearizable.
    Linearizable,
    /// Served from this node's applied state, which may lag the leader.
    Stale,
}

/// One client request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Set a key (client id and sequence number make retries idempotent).
    Put {
        /// Client id (0: no de-duplication).
        client: u64,
        /// Sequence number of this write for the client.
        seq: u64,
        /// Key.
        key: Bytes,
        /// Value.
        value: Bytes,
    },
    /// Remove a key.
    Delete {
        /// Client id (0: no de-duplication).
        client: u64,
        /// Sequence number.
        seq: u64,
        /// Key.
        key: Bytes,
    },
    /// Read a key.
    Get {
        /// Key.
        key: Bytes,
        /// Linearizable or stale.
        consistency: ReadConsistency,
    },
    /// The node's view of the cluster.
    Status,
    /// Add a voter or a learner.
    AddMember {
        /// Node id (not 0).
        id: u64,
        /// Its endpoint.
        endpoint: String,
        /// A non-voting learner.
        learner: bool,
    },
    /// Remove a member.
    RemoveMember {
        /// Node id.
        id: u64,
    },
    /// Hand leadership to another voter.
    TransferLeader {
        /// Node id.
        id: u64,
    },
}

fn num(f: Option<&Bytes>, what: &str) -> Result<u64> {
    let f = f.ok_or_else(|| ReplogError::Protocol(format!("missing {what}")))?;
    let a: [u8; 8] = f[..]
        .try_into()
        .map_err(|_| ReplogError::Protocol(format!("{what} must be 8 bytes")))?;
    Ok(u64::from_le_bytes(a))
}

fn frame(f: Option<&Bytes>, what: &str) -> Result<Bytes> {
    f.cloned()
        .ok_or_else(|| ReplogError::Protocol(format!("missing {what}")))
}

fn text(f: Option<&Bytes>, what: &str) -> Result<String> {
    String::from_utf8(frame(f, what)?.to_vec())
        .map_err(|_| ReplogError::Protocol(format!("{what} is not UTF-8")))
}

/// A u64 as a frame.
pub fn num_frame(v: u64) -> Bytes {
    Bytes::copy_from_slice(&v.to_le_bytes())
}

/// Reads a number frame of a reply (for clients).
pub fn read_num(f: Option<&Bytes>, what: &str) -> Result<u64> {
    num(f, what)
}

impl Request {
    /// The frames after the request id.
    pub fn encode(&self) -> Vec<Bytes> {
        match self {
            Request::Put {
                client,
                seq,
                key,
                value,
            } => vec![
                Bytes::from_static(b"PUT"),
                num_frame(*client),
                num_frame(*seq),
                key.clone(),
                value.clone(),
            ],
            Request::Delete { client, seq, key } => vec![
                Bytes::from_static(b"DEL"),
                num_frame(*client),
                num_frame(*seq),
                key.clone(),
            ],
            Request::Get { key, consistency } => vec![
                Bytes::from_static(b"GET"),
                key.clone(),
                Bytes::from_static(match consistency {
                    ReadConsistency::Linearizable => b"L",
                    ReadConsistency::Stale => b"S",
                }),
            ],
            Request::Status => vec![Bytes::from_static(b"STATUS")],
            Request::AddMember {
                id,
                endpoint,
                learner,
            } => vec![
                Bytes::from_static(b"ADD"),
                num_frame(*id),
                Bytes::copy_from_slice(endpoint.as_bytes()),
                Bytes::from_static(if *learner { b"L" } else { b"V" }),
            ],
            Request::RemoveMember { id } => vec![Bytes::from_static(b"REMOVE"), num_frame(*id)],
            Request::TransferLeader { id } => {
                vec![Bytes::from_static(b"TRANSFER"), num_frame(*id)]
            }
        }
    }

    /// Parses the frames after the request id. Anything malformed is an error to
    /// send back; nothing here panics or allocates beyond the frames given.
    pub fn decode(frames: &[Bytes]) -> Result<Request> {
        let Some(cmd) = frames.first() else {
            return Err(ReplogError::Protocol("empty request".into()));
        };
        let arg = |i: usize| frames.get(i);
        let want = |n: usize| -> Result<()> {
            if frames.len() == n {
                Ok(())
            } else {
                Err(ReplogError::Protocol(format!(
                    "{} takes {} frames, got {}",
                    String::from_utf8_lossy(cmd),
                    n - 1,
                    frames.len() - 1
                )))
            }
        };
        let request = match &cmd[..] {
            b"PUT" => {
                want(5)?;
                Request::Put {
                    client: num(arg(1), "client id")?,
                    seq: num(arg(2), "sequence")?,
                    key: frame(arg(3), "key")?,
                    value: frame(arg(4), "value")?,
                }
            }
            b"DEL" => {
                want(4)?;
                Request::Delete {
                    client: num(arg(1), "client id")?,
                    seq: num(arg(2), "sequence")?,
                    key: frame(arg(3), "key")?,
                }
            }
            b"GET" => {
                want(3)?;
                let consistency = match &frame(arg(2), "consistency")?[..] {
                    b"L" => ReadConsistency::Linearizable,
                    b"S" => ReadConsistency::Stale,
                    _ => return Err(ReplogError::Protocol("consistency must be L or S".into())),
                };
                Request::Get {
                    key: frame(arg(1), "key")?,
                    consistency,
                }
            }
            b"STATUS" => {
                want(1)?;
                Request::Status
            }
            b"ADD" => {
                want(4)?;
                let learner = match &frame(arg(3), "role")?[..] {
                    b"V" => false,
                    b"L" => true,
                    _ => return Err(ReplogError::Protocol("role must be V or L".into())),
                };
                Request::AddMember {
                    id: num(arg(1), "node id")?,
                    endpoint: text(arg(2), "endpoint")?,
                    learner,
                }
            }
            b"REMOVE" => {
                want(2)?;
                Request::RemoveMember {
                    id: num(arg(1), "node id")?,
                }
            }
            b"TRANSFER" => {
                want(2)?;
                Request::TransferLeader {
                    id: num(arg(1), "node id")?,
                }
            }
            other => {
                return Err(ReplogError::Protocol(format!(
                    "unknown command {:?}",
                    String::from_utf8_lossy(&other[..other.len().min(32)])
                )));
            }
        };
        request.check()?;
        Ok(request)
    }

    /// Checks the limits a request must respect wherever it comes from: writes of at
    /// most [`MAX_WRITE_BYTES`], node id 0 reserved, endpoints of at most 1 KiB.
    pub fn check(&self) -> Result<()> {
        match self {
            Request::Put { key, value, .. } if key.len() + value.len() > MAX_WRITE_BYTES => {
                Err(ReplogError::Protocol(format!(
                    "key and value of {} bytes exceed the {MAX_WRITE_BYTES}-byte write \
                     limit: split the value",
                    key.len() + value.len()
                )))
            }
            Request::Delete { key, .. } if key.len() > MAX_WRITE_BYTES => {
                Err(ReplogError::Protocol("key exceeds the write limit".into()))
            }
            Request::AddMember { id: 0, .. } => {
                Err(ReplogError::Protocol("node id 0 is reserved".into()))
            }
            Request::AddMember { endpoint, .. } if endpoint.len() > 1024 => Err(
                ReplogError::Protocol("an endpoint is at most 1024 bytes".into()),
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_and_garbage_is_refused() {
        let all = [
            Request::Put {
                client: 1,
                seq: 2,
                key: Bytes::from_static(b"k"),
                value: Bytes::from_static(b"v"),
            },
            Request::Delete {
                client: 1,
                seq: 3,
                key: Bytes::from_static(b"k"),
            },
            Request::Get {
                key: Bytes::from_static(b"k"),
                consistency: ReadConsistency::Stale,
            },
            Request::Status,
            Request::AddMember {
                id: 4,
                endpoint: "tcp://127.0.0.1:1".into(),
                learner: true,
            },
            Request::RemoveMember { id: 4 },
            Request::TransferLeader { id: 2 },
        ];
        for r in all {
            let frames = r.encode();
            assert_eq!(Request::decode(&frames).unwrap(), r);
            for cut in 0..frames.len() {
                assert!(Request::decode(&frames[..cut]).is_err());
            }
        }
        let bad = [
            vec![Bytes::from_static(b"NOPE")],
            vec![Bytes::from_static(b"PUT"), Bytes::from_static(b"1234567")],
            vec![
                Bytes::from_static(b"GET"),
                Bytes::from_static(b"k"),
                Bytes::from_static(b"X"),
            ],
        ];
        for b in bad {
            assert!(Request::decode(&b).is_err());
        }
    }
}
