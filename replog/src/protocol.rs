//! The messages nodes, followers and clients exchange, and their frame layout.
//!
//! Everything travels through the node's ROUTER socket. Every message starts with an
//! empty delimiter frame, so a plain REQ socket (zeroring, libzmq, pyzmq) can be a
//! client; followers use a DEALER and send the delimiter themselves. Then a command
//! frame, then arguments. Replication numbers are 8-byte little-endian; client
//! numbers are decimal text so scripts can read them.
//!
//! | from | command | arguments |
//! |---|---|---|
//! | follower | `HELLO` | name, current epoch, epoch of its last record, next offset |
//! | follower | `ACK` | next offset received, next offset durable |
//! | follower | `FENCED` | the newer epoch it has seen |
//! | leader | `START` | leader epoch, offset the follower keeps its log up to |
//! | leader | `REC` | leader epoch, encoded records (empty = heartbeat) |
//! | leader | `RESYNC` | (none): unknown follower, say HELLO again |
//! | client | `PUT` | key, value, ack policy, durable flag (`1`/`0`) |
//! | client | `DEL` | key, ack policy, durable flag |
//! | client | `GET` | key |
//! | client | `STATUS`, `PROMOTE` | (none) |
//! | client | `FOLLOW` | leader endpoint |
//! | node | `OK` | result (offset, value, epoch or status text) |
//! | node | `NONE` | (none): no such key |
//! | node | `ERR` | message |

use bytes::Bytes;

use super::error::{ReplogError, Result};
use zeroring_sockets::Message;

/// How many replicas must hold a write durably before it is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ack {
    /// The leader alone (durable per its mode).
    #[default]
    Leader,
    /// A majority of the cluster, leader included.
    Quorum,
    /// The leader and every follower.
    All,
}

impl std::str::FromStr for Ack {
    type Err = ReplogError;

    /// Parses `leader`, `quorum` or `all`.
    fn from_str(s: &str) -> Result<Ack> {
        match s.to_ascii_lowercase().as_str() {
            "leader" => Ok(Ack::Leader),
            "quorum" => Ok(Ack::Quorum),
            "all" => Ok(Ack::All),
            other => Err(ReplogError::Protocol(format!(
                "unknown ack policy {other:?}: use leader, quorum or all"
            ))),
        }
    }
}

impl Ack {
    /// The policy's name on the wire and the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Ack::Leader => "leader",
            Ack::Quorum => "quorum",
            Ack::All => "all",
        }
    }
}

/// A message to a node, as its ROUTER sees it (routing id removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Request {
    Hello {
        name: Bytes,
        epoch: u64,
        last_log_epoch: u64,
        next: u64,
    },
    Ack {
        received: u64,
        durable: u64,
    },
    Fenced {
        epoch: u64,
    },
    Put {
        key: Bytes,
        value: Bytes,
        ack: Ack,
        durable: bool,
    },
    Delete {
        key: Bytes,
        ack: Ack,
        durable: bool,
    },
    Get {
        key: Bytes,
    },
    Status,
    Promote,
    Follow {
        leader: String,
    },
}

/// A message from a leader to a follower (after the delimiter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToFollower {
    Start { epoch: u64, keep_up_to: u64 },
    Records { epoch: u64, batch: Bytes },
    Resync,
}

fn u64_frame(v: u64) -> Bytes {
    Bytes::copy_from_slice(&v.to_le_bytes())
}

fn read_u64(frame: Option<&Bytes>, what: &str) -> Result<u64> {
    frame
        .and_then(|f| <[u8; 8]>::try_from(&f[..]).ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| ReplogError::Protocol(format!("{what}: expected an 8-byte number")))
}

fn text(frame: Option<&Bytes>, what: &str) -> Result<String> {
    frame
        .and_then(|f| std::str::from_utf8(f).ok())
        .map(str::to_owned)
        .ok_or_else(|| ReplogError::Protocol(format!("{what}: expected UTF-8 text")))
}

fn frame(frame: Option<&Bytes>, what: &str) -> Result<Bytes> {
    frame
        .cloned()
        .ok_or_else(|| ReplogError::Protocol(format!("{what}: missing frame")))
}

fn flag(f: Option<&Bytes>) -> bool {
    matches!(f.map(|f| &f[..]), Some(b"1"))
}

fn ack_policy(f: Option<&Bytes>) -> Result<Ack> {
    match f {
        None => Ok(Ack::Leader),
        Some(f) if f.is_empty() => Ok(Ack::Leader),
        Some(f) => std::str::from_utf8(f)
            .map_err(|_| ReplogError::Protocol("ack policy is not UTF-8".into()))?
            .parse(),
    }
}

impl Request {
    /// Frames of this request, delimiter first (what a DEALER sends).
    pub(crate) fn to_message(&self) -> Message {
        let mut m = Message::with_capacity(6);
        m.push_back(Bytes::new());
        match self {
            Request::Hello {
                name,
                epoch,
                last_log_epoch,
                next,
            } => {
                m.push_back(Bytes::from_static(b"HELLO"));
                m.push_back(name.clone());
                m.push_back(u64_frame(*epoch));
                m.push_back(u64_frame(*last_log_epoch));
                m.push_back(u64_frame(*next));
            }
            Request::Ack { received, durable } => {
                m.push_back(Bytes::from_static(b"ACK"));
                m.push_back(u64_frame(*received));
                m.push_back(u64_frame(*durable));
            }
            Request::Fenced { epoch } => {
                m.push_back(Bytes::from_static(b"FENCED"));
                m.push_back(u64_frame(*epoch));
            }
            Request::Put {
                key,
                value,
                ack,
                durable,
            } => {
                m.push_back(Bytes::from_static(b"PUT"));
                m.push_back(key.clone());
                m.push_back(value.clone());
                m.push_back(Bytes::from_static(ack.as_str().as_bytes()));
                m.push_back(Bytes::from_static(if *durable { b"1" } else { b"0" }));
            }
            Request::Delete { key, ack, durable } => {
                m.push_back(Bytes::from_static(b"DEL"));
                m.push_back(key.clone());
                m.push_back(Bytes::from_static(ack.as_str().as_bytes()));
                m.push_back(Bytes::from_static(if *durable { b"1" } else { b"0" }));
            }
            Request::Get { key } => {
                m.push_back(Bytes::from_static(b"GET"));
                m.push_back(key.clone());
            }
            Request::Status => m.push_back(Bytes::from_static(b"STATUS")),
            Request::Promote => m.push_back(Bytes::from_static(b"PROMOTE")),
            Request::Follow { leader } => {
                m.push_back(Bytes::from_static(b"FOLLOW"));
                m.push_back(Bytes::copy_from_slice(leader.as_bytes()));
            }
        }
        m
    }

    /// Parses the frames after the routing id and the delimiter.
    pub(crate) fn parse(frames: &[Bytes]) -> Result<Request> {
        let command = frames
            .first()
            .ok_or_else(|| ReplogError::Protocol("empty request".into()))?;
        let arg = |i: usize| frames.get(i);
        Ok(match &command[..] {
            b"HELLO" => Request::Hello {
                name: frame(arg(1), "HELLO name")?,
                epoch: read_u64(arg(2), "HELLO epoch")?,
                last_log_epoch: read_u64(arg(3), "HELLO last log epoch")?,
                next: read_u64(arg(4), "HELLO next offset")?,
            },
            b"ACK" => Request::Ack {
                received: read_u64(arg(1), "ACK received")?,
                durable: read_u64(arg(2), "ACK durable")?,
            },
            b"FENCED" => Request::Fenced {
                epoch: read_u64(arg(1), "FENCED epoch")?,
            },
            b"PUT" => Request::Put {
                key: frame(arg(1), "PUT key")?,
                value: frame(arg(2), "PUT value")?,
                ack: ack_policy(arg(3))?,
                durable: flag(arg(4)),
            },
            b"DEL" => Request::Delete {
                key: frame(arg(1), "DEL key")?,
                ack: ack_policy(arg(2))?,
                durable: flag(arg(3)),
            },
            b"GET" => Request::Get {
                key: frame(arg(1), "GET key")?,
            },
            b"STATUS" => Request::Status,
            b"PROMOTE" => Request::Promote,
            b"FOLLOW" => Request::Follow {
                leader: text(arg(1), "FOLLOW endpoint")?,
            },
            other => {
                return Err(ReplogError::Protocol(format!(
                    "unknown command {:?}",
                    String::from_utf8_lossy(other)
                )));
            }
        })
    }
}

impl ToFollower {
    /// Frames after the delimiter.
    pub(crate) fn push_frames(&self, m: &mut Message) {
        match self {
            ToFollower::Start { epoch, keep_up_to } => {
                m.push_back(Bytes::from_static(b"START"));
                m.push_back(u64_frame(*epoch));
                m.push_back(u64_frame(*keep_up_to));
            }
            ToFollower::Records { epoch, batch } => {
                m.push_back(Bytes::from_static(b"REC"));
                m.push_back(u64_frame(*epoch));
                m.push_back(batch.clone());
            }
            ToFollower::Resync => m.push_back(Bytes::from_static(b"RESYNC")),
        }
    }

    /// Parses the frames after the delimiter.
    pub(crate) fn parse(frames: &[Bytes]) -> Result<ToFollower> {
        let arg = |i: usize| frames.get(i);
        match frames.first().map(|f| &f[..]) {
            Some(b"START") => Ok(ToFollower::Start {
                epoch: read_u64(arg(1), "START epoch")?,
                keep_up_to: read_u64(arg(2), "START offset")?,
            }),
            Some(b"REC") => Ok(ToFollower::Records {
                epoch: read_u64(arg(1), "REC epoch")?,
                batch: frame(arg(2), "REC records")?,
            }),
            Some(b"RESYNC") => Ok(ToFollower::Resync),
            _ => Err(ReplogError::Protocol(
                "unexpected message from the leader".into(),
            )),
        }
    }
}

/// A node's reply to a client request (after the delimiter).
pub(crate) fn reply_ok(result: impl Into<Bytes>) -> [Bytes; 2] {
    [Bytes::from_static(b"OK"), result.into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(r: Request) {
        let m = r.to_message();
        assert!(m[0].is_empty());
        assert_eq!(Request::parse(&m.frames()[1..]).unwrap(), r);
    }

    #[test]
    fn requests_round_trip() {
        round_trip(Request::Hello {
            name: Bytes::from_static(b"n1"),
            epoch: 3,
            last_log_epoch: 2,
            next: 99,
        });
        round_trip(Request::Ack {
            received: 5,
            durable: 4,
        });
        round_trip(Request::Fenced { epoch: 7 });
        round_trip(Request::Put {
            key: Bytes::from_static(b"k"),
            value: Bytes::new(),
            ack: Ack::Quorum,
            durable: true,
        });
        round_trip(Request::Delete {
            key: Bytes::from_static(b"k"),
            ack: Ack::All,
            durable: false,
        });
        round_trip(Request::Get {
            key: Bytes::from_static(b"k"),
        });
        round_trip(Request::Status);
        round_trip(Request::Promote);
        round_trip(Request::Follow {
            leader: "tcp://127.0.0.1:5555".into(),
        });
    }

    #[test]
    fn malformed_requests_are_errors() {
        let b = |s: &'static [u8]| Bytes::from_static(s);
        for frames in [
            vec![],
            vec![b(b"NOPE")],
            vec![b(b"HELLO"), b(b"n")],
            vec![b(b"ACK"), b(b"short"), b(b"x")],
            vec![b(b"PUT"), b(b"k")],
            vec![b(b"PUT"), b(b"k"), b(b"v"), b(b"most")],
            vec![b(b"FOLLOW"), b(b"\xff")],
        ] {
            assert!(Request::parse(&frames).is_err(), "{frames:?}");
        }
    }

    #[test]
    fn follower_messages_round_trip() {
        for msg in [
            ToFollower::Start {
                epoch: 2,
                keep_up_to: 10,
            },
            ToFollower::Records {
                epoch: 2,
                batch: Bytes::from_static(b"xyz"),
            },
            ToFollower::Resync,
        ] {
            let mut m = Message::new();
            msg.push_frames(&mut m);
            assert_eq!(ToFollower::parse(m.frames()).unwrap(), msg);
        }
    }
}
