//! Replicated log: durable store updates shipped between nodes over zeroring sockets.
//!
//! Crate `zeroring-replog`, re-exported by the `zeroring` facade as `zeroring::replog`.
//!
//! A [`Node`] owns a local, segmented, append-only log of records (each framed with
//! its length, a CRC32C, the leader epoch that wrote it and a dense `u64` offset) and
//! a key-value store applied from that log. A leader appends client writes and
//! streams the records to its followers over a ROUTER socket; a follower (a DEALER)
//! applies them in order and acknowledges its durable offset, so a write can wait for
//! the leader alone, a quorum, or every replica ([`Ack`]). Leader epochs fence a
//! deposed leader; failover is manual ([`Node::promote`]).
//!
//! - [`record`]: the record framing shared by the files and the wire.
//! - [`storage`]: segment files, recovery of a torn tail, and the in-memory variant.
//! - [`durability`]: [`Durability`] modes and group commit.
//! - [`store`]: the key-value store and its operations.
//! - [`protocol`]: the messages on the node's socket.
//! - [`node`], leader, follower, service: the node and its replication.
//! - [`client`]: [`LogClient`], what the CLI uses against a running node.
#![warn(missing_docs)]

pub mod client;
pub mod durability;
mod epoch_file;
pub mod error;
mod event;
mod follower;
mod leader;
pub mod node;
pub mod protocol;
pub mod record;
mod service;
pub mod storage;
pub mod store;

pub use client::LogClient;
pub use durability::Durability;
pub use error::{ReplogError, Result};
pub use node::{FollowerStatus, Node, NodeConfig, PEER_SEND_BUDGET, Role, Status};
pub use protocol::Ack;
