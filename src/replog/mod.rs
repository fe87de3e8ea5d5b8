//! Replicated log: durable store updates shipped between nodes over zeroring sockets.
//!
//! A node owns a local, segmented, append-only log of records (each framed with its
//! length, a CRC32C, the leader epoch that wrote it and a dense `u64` offset) and a
//! key-value store applied from that log. A leader appends client writes and streams
//! the records to its followers over zeroring sockets; a follower applies them in
//! order and acknowledges its durable offset, so a write can wait for the leader, a
//! quorum or all replicas.
//!
//! - [`record`]: the record framing shared by the files and the wire.
//! - [`storage`]: segment files, recovery of a torn tail, and the in-memory variant.
//! - [`error`]: the error type, [`ReplogError`].
#![allow(dead_code)]

pub mod error;
pub mod record;
pub mod storage;

pub use error::{ReplogError, Result};
