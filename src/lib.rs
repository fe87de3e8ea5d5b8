//! zeroring: ZeroMQ-compatible messaging for Rust on compio (io_uring).
//!
//! Speaks ZMTP 3.1 on the wire, so its sockets talk to libzmq, pyzmq, JeroMQ and
//! zmq.rs peers. Sockets are async, typed, and live on a compio runtime thread.
//!
//! ```no_run
//! #[compio::main]
//! async fn main() -> Result<(), zeroring::Error> {
//!     let rep = zeroring::RepSocket::new();
//!     let ep = rep.bind("tcp://127.0.0.1:0").await?;
//!     let req = zeroring::ReqSocket::new();
//!     req.connect(&ep.to_string()).await?;
//!     req.send("hello").await?;
//!     let request = rep.recv().await?;
//!     rep.send(request).await?;
//!     let reply: zeroring::Message = req.recv().await?;
//!     assert_eq!(&reply[0][..], b"hello");
//!     Ok(())
//! }
//! ```
//!
//! - [`zmtp`]: the wire protocol without I/O (crate `zeroring-zmtp`).
//! - Socket types: [`ReqSocket`], [`RepSocket`], [`DealerSocket`], [`RouterSocket`],
//!   [`PushSocket`], [`PullSocket`], [`PairSocket`], [`PubSocket`], [`SubSocket`],
//!   [`XpubSocket`], [`XsubSocket`]; all dereference to
//!   [`SocketBase`] for bind, connect and options.
#![warn(missing_docs)]

/// Byte buffers used for message frames.
pub use bytes;
/// The compio runtime zeroring runs on, re-exported for `#[zeroring::compio::main]`
/// and `Runtime::new()`.
pub use compio;
pub use zeroring_sockets::{
    DealerSocket, Endpoint, Error, MONITOR_CAPACITY, Message, Monitor, PairSocket, ProxySocket,
    PubSocket, PullSocket, PushSocket, RepSocket, ReqSocket, Result, RouterSocket, SocketBase,
    SocketEvent, SocketOptions, SocketType, SubSocket, XpubSocket, XsubSocket, proxy,
    proxy_steerable,
};
/// The ZMTP 3.1 codec (greeting, frames, commands, handshake), without I/O.
pub use zeroring_zmtp as zmtp;

pub mod cli;
pub mod replog;
