//! zeroring-sockets: ZeroMQ socket types on the compio runtime (io_uring).
//!
//! The engine: one reader task per connection that is never cancelled mid-read,
//! sends that encode ZMTP frames inline into the connection's write buffer, a flusher
//! per connection that batches whatever accumulated while a write was in flight,
//! heartbeats, and background reconnection. On top of it, the socket types with
//! libzmq's multi-peer semantics.
//!
//! Sockets are `!Send` and live on the compio runtime thread that created them.
//!
//! ```no_run
//! # compio::runtime::Runtime::new().unwrap().block_on(async {
//! use zeroring_sockets::{RepSocket, ReqSocket};
//! let rep = RepSocket::new();
//! let ep = rep.bind("tcp://127.0.0.1:0").await?;
//! let req = ReqSocket::new();
//! req.connect(&ep.to_string()).await?;
//! req.send("hello").await?;
//! let msg = rep.recv().await?;
//! rep.send(msg).await?;
//! let reply = req.recv().await?;
//! assert_eq!(&reply[0][..], b"hello");
//! # Ok::<(), zeroring_sockets::Error>(())
//! # }).unwrap();
//! ```
//! ## Cargo features
//!
//! | feature | default | what it gives |
//! |---|---|---|
//! | (none) | | No optional features: every socket type, tcp, ipc and inproc, NULL, PLAIN and CURVE with ZAP, and the thread-safe [`Socket`] are always built. |
//!
//! Applications normally use this crate through the `zeroring` facade, which
//! re-exports it.
#![warn(missing_docs)]

mod any_socket;
mod base;
mod context;
mod driver;
mod endpoint;
mod error;
mod handle;
mod inproc;
mod monitor;
mod notify;
mod options;
mod peer_map;
mod pipe;
mod proxy;
mod pubsub;
mod reason;
mod routing_id;
mod runtime;
mod security;
mod socket;
mod transport;
mod types;
mod wait;
mod xthread;

pub use any_socket::{AnySocket, LocalBoxFuture};
pub use base::SocketBase;
pub use context::Context;
pub use endpoint::Endpoint;
pub use error::{Error, Result};
pub use handle::Socket;
pub use handle::monitor::SocketMonitor;
pub use handle::poll::{PollEvents, PollItem, poll};
pub use handle::proxy::{proxy_blocking, proxy_steerable_blocking};
pub use monitor::{MONITOR_CAPACITY, Monitor, SocketEvent};
pub use options::{DEFAULT_ADAPTIVE_SPIN, DEFAULT_MAX_MSG_FRAMES, SocketOptions};
pub use proxy::{ProxySocket, proxy, proxy_steerable};
pub use reason::{CloseReason, DisconnectReason};
pub use routing_id::RoutingIdDisplay;
pub use runtime::{proactor_builder, runtime_builder};
pub use security::{Authenticator, PeerProperties, ZAP_VERSION, ZapHandler, ZapReply, ZapRequest};
pub use types::dealer::DealerSocket;
pub use types::pair::PairSocket;
pub use types::publisher::PubSocket;
pub use types::pull::PullSocket;
pub use types::push::PushSocket;
pub use types::rep::RepSocket;
pub use types::req::ReqSocket;
pub use types::router::RouterSocket;
pub use types::subscriber::SubSocket;
pub use types::xpub::XpubSocket;
pub use types::xsub::XsubSocket;
pub use zeroring_zmtp::Message;
pub use zeroring_zmtp::SocketType;
pub use zeroring_zmtp::{
    Credentials, CurveKeyPair, CurvePublicKey, CurveSecretKey, Mechanism, Metadata, SecretBytes,
    ZapStatus, curve_keypair,
};
