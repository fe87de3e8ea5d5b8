//! The replicated log's error type: one enum for storage, durability, replication and
//! the client, each variant saying what went wrong and what to do about it.

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
    /// Bytes that should hold encoded records did not (bad length, CRC, offset or
    /// epoch). From the network this closes the replication stream and resynchronises.
    #[error("invalid record data: {0}")]
    InvalidRecord(String),
    /// This node is a follower: send writes to the leader.
    #[error("not the leader{}: send writes to the leader", .leader.as_deref().map(|l| format!(" (this node follows {l})")).unwrap_or_default())]
    NotLeader {
        /// The endpoint this node follows, if known.
        leader: Option<String>,
    },
    /// A follower has seen a newer leader epoch: this node was deposed and must not
    /// accept writes. Restart it as a follower of the new leader.
    #[error(
        "leader epoch {epoch} was fenced by epoch {newer}: this node is no longer the leader; restart it with --follow <new leader>"
    )]
    Fenced {
        /// This node's epoch.
        epoch: u64,
        /// The newer epoch a follower reported.
        newer: u64,
    },
    /// The write is durable on this node but not enough followers acknowledged it in
    /// time for the requested ack policy. It may still replicate later.
    #[error(
        "write at offset {offset} not acknowledged by {wanted} follower(s) within {waited_ms} ms (got {got}); check that the followers are running"
    )]
    AckTimeout {
        /// Offset of the write.
        offset: u64,
        /// Follower acknowledgements the policy needs.
        wanted: usize,
        /// Follower acknowledgements received.
        got: usize,
        /// How long the write waited.
        waited_ms: u64,
    },
    /// A peer sent a message this protocol does not understand.
    #[error("replication protocol: {0}")]
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
