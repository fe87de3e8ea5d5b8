//! The replicated log's error type: one enum for storage, consensus, the node and the
//! client, each variant saying what went wrong and what to do about it.

use std::io;
use std::path::PathBuf;

/// Result alias for the replicated log.
pub type Result<T, E = ReplogError> = std::result::Result<T, E>;

/// Everything that can go wrong in the replicated log.
#[derive(Debug, thiserror::Error)]
pub enum ReplogError {
    /// A file operation on the log directory failed (disk full, permissions, ...).
    #[error("log I/O on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A record in the middle of the log failed its checks while valid records follow
    /// it, so this is damage, not a torn tail from a crash. The log refuses to open
    /// rather than silently drop acknowledged writes: restore the directory from a
    /// replica (or move the damaged segment away and let a follower catch up).
    #[error(
        "log corrupt in {path} at byte {position}: {reason}; valid records follow it, so \
         this is not a torn tail: restore the log directory from a replica"
    )]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Byte position of the bad record in that file.
        position: u64,
        /// Which check failed.
        reason: String,
    },
    /// Bytes that should hold encoded records, entries or snapshots did not (bad
    /// length, CRC, index or term).
    #[error("invalid record data: {0}")]
    InvalidRecord(String),
    /// This node is not the leader, or not a leader that may answer: send the request
    /// to the leader ([`LogClient`](crate::LogClient) follows this redirect itself).
    #[error("node {node} is not the leader{}: send the request to the leader", match (.leader_id, .leader.as_deref()) {
        (Some(id), Some(ep)) => format!(" (the leader is node {id} at {ep})"),
        (Some(id), None) => format!(" (the leader is node {id})"),
        _ => " (no leader is known yet; retry shortly)".to_string(),
    })]
    NotLeader {
        /// The node that answered.
        node: u64,
        /// The leader's node id, if known.
        leader_id: Option<u64>,
        /// The leader's endpoint, if known.
        leader: Option<String>,
    },
    /// The request was accepted by a leader but its outcome is not known: leadership
    /// changed or it did not commit in time. A write may still commit later; retry it
    /// with the same client id and sequence number and it applies at most once.
    #[error(
        "{what} not confirmed within {waited_ms} ms (leadership changed or no quorum): \
         retry; a retried write with the same client id and sequence applies at most once"
    )]
    Unconfirmed {
        /// What was not confirmed ("write", "read", "membership change").
        what: &'static str,
        /// How long the request waited.
        waited_ms: u64,
    },
    /// The Raft engine refused the request (for example a membership change while
    /// another one is in progress, or a transfer to an unknown node).
    #[error("raft refused the request: {0}")]
    Raft(String),
    /// The node configuration is invalid; the message says which setting to fix.
    #[error("invalid node configuration: {0}")]
    Config(String),
    /// The node has stopped (closed, or stopped itself after a storage failure it
    /// cannot recover from: see the log): restart it.
    #[error("the node has stopped: {0}")]
    Stopped(String),
    /// A peer or client sent a message this protocol does not understand.
    #[error("protocol: {0}")]
    Protocol(String),
    /// The node answered a client request with an error (its message follows).
    #[error("the node refused the request: {0}")]
    Remote(String),
    /// A client request got no answer in time: the node may be down or overloaded.
    #[error("no answer from {endpoint} within {waited_ms} ms: is the node running?")]
    NoAnswer {
        /// The node's endpoint.
        endpoint: String,
        /// How long the client waited.
        waited_ms: u64,
    },
    /// The messaging layer failed (bind, connect, send, receive).
    #[error(transparent)]
    Socket(#[from] zeroring_sockets::Error),
}

impl ReplogError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> ReplogError {
        ReplogError::Io {
            path: path.into(),
            source,
        }
    }
}
