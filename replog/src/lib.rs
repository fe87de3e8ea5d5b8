//! Replicated log: a key-value store replicated by Raft over zeroring sockets.
//!
//! Crate `zeroring-replog`, re-exported by the `zeroring` facade as `zeroring::replog`.
//!
//! Consensus is tikv's `raft` crate (a sans-IO `RawNode`), driven by one compio task
//! per [`Node`]; the crate supplies its storage, transport and state machine:
//!
//! - [`record`], [`storage`]: the segment log (CRC32C records, torn-tail recovery)
//!   that holds the Raft entries; `hard_state` and `snapshot_file` persist the rest;
//!   `raft_store` is the engine's `Storage` over them, with compaction.
//! - [`durability`]: [`Durability`] modes (Strict, Buffered, InMemory).
//! - [`store`], [`command`], [`machine`]: the key-value state machine, the commands
//!   the log carries (client id + sequence for idempotent writes), snapshots.
//! - [`protocol`], `peer_msg`: the client protocol and the checks on Raft messages
//!   from other nodes.
//! - [`node`]: [`Node`], its sockets and its driver; [`config`]: [`NodeConfig`].
//! - [`client`]: [`LogClient`], what the CLI uses against a running cluster.
//! - [`status`]: [`Status`], a node's view of the cluster.
//!
//! ## Cargo features
//!
//! | feature | default | what it gives |
//! |---|---|---|
//! | (none) | | No optional features: the Raft engine (tikv `raft`), the segment log and the CURVE cluster key are always built. |
#![warn(missing_docs)]

pub mod client;
mod codec;
pub mod command;
pub mod config;
pub mod durability;
pub mod error;
mod event;
mod hard_state;
mod logger;
pub mod machine;
pub mod node;
mod peer_msg;
pub mod protocol;
mod raft_store;
pub mod record;
mod snapshot_file;
pub mod status;
pub mod storage;
pub mod store;

pub use client::LogClient;
pub use config::{NodeConfig, parse_peers};
pub use durability::Durability;
pub use error::{ReplogError, Result};
pub use node::Node;
pub use protocol::ReadConsistency;
pub use status::{MemberStatus, Status};
