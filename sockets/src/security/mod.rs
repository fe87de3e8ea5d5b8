//! Security on top of ZMTP's mechanisms (PLAIN, CURVE), as sockets use it.
//!
//! - `options`: what the PLAIN_*, CURVE_* and ZAP_DOMAIN options mean, their
//!   checks, and the [`Security`](zeroring_zmtp::Security) of a connection.
//! - [`Authenticator`] (`authenticator`): the ZAP handler of a socket or a
//!   context, with czmq zauth's tables and a handler for the rest.
//! - [`ZapRequest`] / [`ZapReply`] (`zap`): one authentication's question and
//!   answer, with RFC 27's fields.
//! - `zcert`: czmq certificate files and directories.
//! - [`PeerProperties`] (`peer`): what the application learns about an
//!   authenticated peer, with its messages.
//!
//! The handshake itself (HELLO, WELCOME, INITIATE, READY, the boxes and the
//! per-message encryption) is `zeroring-zmtp`'s; the connection driver asks
//! the socket (`socket/auth.rs`) when a handshake pauses for authentication.

pub(crate) mod authenticator;
pub(crate) mod keys;
pub(crate) mod options;
mod peer;
mod zap;
mod zcert;

pub use authenticator::{Authenticator, ZapHandler};
pub use peer::PeerProperties;
pub use zap::{ZAP_VERSION, ZapReply, ZapRequest};
