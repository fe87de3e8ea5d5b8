//! zeroring: ZeroMQ-compatible messaging for Rust on compio (io_uring).
//!
//! Speaks ZMTP 3.1 on the wire, so its sockets talk to libzmq, pyzmq, JeroMQ and
//! zmq.rs peers. Sockets are async, typed, and live on a compio runtime thread.
//!
//! ```no_run
//! #[zeroring::main]
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
//! - Security: the PLAIN and CURVE options on every socket (`set_curve_server`,
//!   `set_curve_serverkey`, `set_plain_username`, ...), [`curve_keypair`], and
//!   [`Authenticator`] (ZAP) for servers; [`PeerProperties`] with
//!   `recv_with_peer()`.
//! - [`main`] and [`test`]: run an `async fn` on a compio runtime, in a crate whose
//!   only dependency is zeroring.
//! - [`replog`]: the replicated log (crate `zeroring-replog`).
//!
//! This crate only re-exports; the `zeroring` command-line tool is the crate
//! `zeroring-cli`.
//! ## API conventions
//!
//! - `None` means no limit, or off, for every limit, timeout and interval (HWMs,
//!   SNDTIMEO, LINGER, RECONNECT_IVL, heartbeats, ...); `Some(0)` is refused with
//!   [`Error::InvalidOption`] naming the option wherever zero would not mean anything.
//! - A setter that can refuse a value returns `Result<()>`; every option, the
//!   type-specific ones included, is a field of [`SocketOptions`], read with
//!   `options()` and written at once with `set_options()`.
//! - Code that holds "any socket" uses [`AnySocket`] (native sockets, object-safe) or
//!   the thread-safe [`Socket`] (one type for every socket type).
//! - [`SocketEvent::name`] gives a monitor event's short label, [`RoutingIdDisplay`]
//!   prints a routing id as text when it is printable.
//! - Breaking changes are listed in `CHANGELOG.md`.
//!
//! ## Cargo features
//!
//! | feature | default | what it gives |
//! |---|---|---|
//! | (none) | | zeroring has no optional features: tcp, ipc and inproc, NULL, PLAIN and CURVE with ZAP, the thread-safe handles and the replicated log are always built. It needs Linux with io_uring (5.19 or later for every runtime setting; compio falls back to its polling driver otherwise). |
#![warn(missing_docs)]

/// Byte buffers used for message frames.
pub use bytes;
/// The compio runtime zeroring runs on, re-exported for its runtime, timers and I/O
/// (`zeroring::compio::runtime::Runtime::new()`, `zeroring::compio::time::sleep`).
///
/// For an entry point, use [`main`] (`#[zeroring::main]`). compio's own
/// `#[zeroring::compio::main]` looks for a `compio` dependency in the caller's
/// Cargo.toml and fails to compile without one; it works with a direct compio
/// dependency, or as `#[zeroring::compio::main(crate = "zeroring::compio")]`.
pub use compio;
/// Runs an `async fn main` on a compio runtime of its own: compio's
/// `#[compio::main]`, reached through this crate, so the caller needs no compio
/// dependency of its own.
///
/// `#[zeroring::main]` expands to
/// `#[::zeroring::compio::main(crate = "::zeroring::compio")]`, and passes its
/// arguments through: `name = value` calls that `RuntimeBuilder` method,
/// `with_proactor(name = value)` sets the `ProactorBuilder`.
///
/// ```no_run
/// #[zeroring::main(event_interval = 8)]
/// async fn main() -> Result<(), zeroring::Error> {
///     let pull = zeroring::PullSocket::new();
///     let ep = pull.bind("tcp://127.0.0.1:0").await?;
///     let push = zeroring::PushSocket::new();
///     push.connect(&ep.to_string()).await?;
///     push.send("hello").await?;
///     assert_eq!(&pull.recv().await?[0][..], b"hello");
///     Ok(())
/// }
/// ```
pub use zeroring_macros::main;
/// Makes an `async fn` a test that runs on a compio runtime of its own:
/// compio's `#[compio::test]`, reached through this crate.
///
/// Takes the same arguments as [`main`] (other than `console`). Write it as
/// `#[zeroring::test]`: imported as plain `test`, it would shadow the standard
/// `#[test]` that its expansion emits.
///
/// ```no_run
/// #[zeroring::test]
/// async fn push_pull() {
///     let pull = zeroring::PullSocket::new();
///     let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
///     let push = zeroring::PushSocket::new();
///     push.connect(&ep.to_string()).await.unwrap();
///     push.send("hello").await.unwrap();
///     assert_eq!(&pull.recv().await.unwrap()[0][..], b"hello");
/// }
/// # fn main() {}
/// ```
pub use zeroring_macros::test;
pub use zeroring_sockets::{
    AnySocket, CloseReason, Context, DEFAULT_ADAPTIVE_SPIN, DEFAULT_MAX_MSG_FRAMES, DealerSocket,
    DisconnectReason, Endpoint, Error, LocalBoxFuture, MONITOR_CAPACITY, Message, Monitor,
    PairSocket, PollEvents, PollItem, ProxySocket, PubSocket, PullSocket, PushSocket, RepSocket,
    ReqSocket, Result, RouterSocket, RoutingIdDisplay, Socket, SocketBase, SocketEvent,
    SocketMonitor, SocketOptions, SocketType, SubSocket, XpubSocket, XsubSocket, poll,
    proactor_builder, proxy, proxy_blocking, proxy_steerable, proxy_steerable_blocking,
    runtime_builder,
};
/// Security (PLAIN, CURVE) and authentication (ZAP, RFC 27): see the README's
/// "Security" section.
pub use zeroring_sockets::{
    Authenticator, Credentials, CurveKeyPair, CurvePublicKey, CurveSecretKey, Mechanism, Metadata,
    PeerProperties, SecretBytes, ZAP_VERSION, ZapHandler, ZapReply, ZapRequest, ZapStatus,
    curve_keypair,
};
/// The ZMTP 3.1 codec (greeting, frames, commands, handshake), without I/O.
pub use zeroring_zmtp as zmtp;

/// The replicated log (crate `zeroring-replog`): a durable key-value log shipped
/// between nodes over zeroring sockets.
pub use zeroring_replog as replog;
