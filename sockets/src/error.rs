//! The error type of the socket layer, re-exported by the facade as `zeroring::Error`.

use std::io;

use crate::routing_id::RoutingIdDisplay;

/// Everything a zeroring socket call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint string could not be parsed.
    #[error("invalid endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The string that was given.
        endpoint: String,
        /// What is wrong with it; fix the string (e.g. `tcp://127.0.0.1:5555`).
        reason: &'static str,
    },
    /// The transport is recognised but zeroring does not implement it.
    #[error("transport {0:?} is not supported by zeroring (use tcp:// or ipc://)")]
    UnsupportedTransport(String),
    /// Binding failed (port in use, no permission, bad path, ...).
    #[error("cannot bind {endpoint}: {source}")]
    Bind {
        /// The endpoint that could not be bound.
        endpoint: String,
        /// The operating system's reason.
        #[source]
        source: io::Error,
    },
    /// The operation did not complete within SNDTIMEO / RCVTIMEO.
    #[error("{0} timed out (SNDTIMEO/RCVTIMEO elapsed; no peer was ready)")]
    Timeout(&'static str),
    /// The call is not allowed in the socket's current state (libzmq's EFSM),
    /// e.g. two sends in a row on a REQ socket.
    #[error("operation not allowed now: {0}")]
    InvalidState(&'static str),
    /// The operation does not exist for this socket type (e.g. recv on PUSH).
    #[error("{op} is not supported by {socket_type} sockets")]
    NotSupported {
        /// The operation.
        op: &'static str,
        /// The socket type.
        socket_type: &'static str,
    },
    /// A message with no frames cannot be sent.
    #[error("cannot send a message with no frames")]
    EmptyMessage,
    /// `try_send` or `try_recv` (libzmq's ZMQ_DONTWAIT) could not complete at once:
    /// no peer had room, or no message was waiting. Try again later.
    #[error("{0} would block (no peer has room, or no message is waiting); try again later")]
    WouldBlock(&'static str),
    /// ROUTER_MANDATORY is set and no connected peer has that routing id.
    #[error("no peer with routing id {} (ROUTER_MANDATORY is set)", RoutingIdDisplay(.0))]
    HostUnreachable(Vec<u8>),
    /// The endpoint was never bound or connected on this socket.
    #[error("endpoint {0} is not bound or connected on this socket")]
    UnknownEndpoint(String),
    /// An option value is out of range.
    #[error("invalid value for option {option}: {reason}")]
    InvalidOption {
        /// The option's libzmq name.
        option: &'static str,
        /// Why the value was refused.
        reason: &'static str,
    },
    /// The security options (PLAIN_*, CURVE_*) contradict each other, or a
    /// role lacks what it needs (a CURVE client without CURVE_SERVERKEY, a
    /// CURVE server without CURVE_SECRETKEY): the message says what to set.
    #[error("security options: {0}")]
    Security(&'static str),
    /// The socket was closed.
    #[error("socket is closed")]
    Closed,
    /// An I/O error that is not tied to one connection.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_routing_id_prints_as_text() {
        assert_eq!(
            Error::HostUnreachable(b"nope".to_vec()).to_string(),
            "no peer with routing id \"nope\" (ROUTER_MANDATORY is set)"
        );
    }
}
