//! Durability modes: when a node's Raft log entries reach the disk, and so what a
//! crash can lose. The Raft store (`raft_store`) enforces them.
//!
//! - [`Durability::InMemory`]: no files; a restarted node has forgotten everything
//!   (its log and its votes), so it must rejoin the cluster as a new member.
//! - [`Durability::Buffered`]: entries are written to the page cache at once and
//!   fdatasynced every `interval_ms` or every `batch` entries (group commit). A node
//!   acknowledges an append before the sync, so a write acknowledged by a majority is
//!   lost only if that majority loses power (not just the process) within the window.
//!   Votes and term changes are always synced before they are sent.
//! - [`Durability::Strict`]: a node fdatasyncs its log before it acknowledges an
//!   append or a vote; all entries of one Raft ready round share the sync (group
//!   commit).

use std::fmt;
use std::str::FromStr;

/// When appended records reach the disk, and so what a crash can lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Records live only in memory: nothing survives a restart.
    InMemory,
    /// Group commit on a timer or a record count, whichever comes first. A crash
    /// loses at most the records appended since the last sync.
    Buffered {
        /// Longest time between syncs while records are waiting.
        interval_ms: u64,
        /// Sync as soon as this many records are waiting.
        batch: u64,
    },
    /// Every acknowledged write is on disk (fdatasync before the acknowledgement,
    /// shared by concurrent writers).
    Strict,
}

impl Durability {
    /// `Buffered { interval_ms: 100, batch: 1000 }`, the default buffered setting.
    pub const BUFFERED: Durability = Durability::Buffered {
        interval_ms: 100,
        batch: 1000,
    };

    /// Whether this mode keeps files.
    pub fn has_files(self) -> bool {
        self != Durability::InMemory
    }
}

impl FromStr for Durability {
    type Err = String;

    /// Parses `inmemory`, `buffered` (100 ms / 1000 records) or `strict`.
    fn from_str(s: &str) -> std::result::Result<Durability, String> {
        match s.to_ascii_lowercase().as_str() {
            "inmemory" | "in-memory" | "memory" => Ok(Durability::InMemory),
            "buffered" => Ok(Durability::BUFFERED),
            "strict" => Ok(Durability::Strict),
            other => Err(format!(
                "unknown durability mode {other:?}: use inmemory, buffered or strict"
            )),
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Durability::InMemory => f.write_str("inmemory"),
            Durability::Buffered { interval_ms, batch } => {
                write!(f, "buffered({interval_ms} ms / {batch} records)")
            }
            Durability::Strict => f.write_str("strict"),
        }
    }
}
