//! Why a connection ended or its handshake failed, as a type: monitors carry it
//! ([`SocketEvent`](crate::SocketEvent)), applications match on it, and its text
//! is what zeroring logs.

use std::sync::Arc;

use bytes::Bytes;
pub use zeroring_zmtp::CloseReason;

use crate::error::RoutingIdDisplay;

/// Why a connection ended, or why its handshake failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The ZMTP session ended: a protocol error, a limit, a heartbeat or handshake
    /// deadline, or the peer closed the connection.
    #[error("{0}")]
    Session(#[from] CloseReason),
    /// Reading from the connection failed.
    #[error("read failed: {0}")]
    ReadFailed(Arc<std::io::Error>),
    /// Writing to the connection failed.
    #[error("write failed: {0}")]
    WriteFailed(Arc<std::io::Error>),
    /// The socket was closed and every queued message was delivered.
    #[error("socket closed; queued messages delivered")]
    Delivered,
    /// The socket was closed with LINGER 0: queued messages were dropped.
    #[error("socket closed with LINGER 0")]
    ClosedWithLingerZero,
    /// LINGER expired with messages still queued (they were dropped).
    #[error("LINGER expired before queued messages were delivered")]
    LingerExpired,
    /// LINGER expired after the last message, while waiting for the peer to take
    /// it or close its side.
    #[error("LINGER expired while waiting for the peer to close after the last message")]
    LingerExpiredAwaitingPeer,
    /// The socket is closed (a connection that finished its handshake too late).
    #[error("socket is closed")]
    SocketClosed,
    /// unbind() or disconnect() stopped the endpoint this connection came from.
    #[error("endpoint unbound or disconnected by the application")]
    EndpointStopped,
    /// A PAIR socket takes one peer at a time.
    #[error("PAIR socket already has a peer")]
    PairTaken,
    /// Another peer of this ROUTER already uses this routing id.
    #[error("routing id {} is already used by another peer", RoutingIdDisplay(.0))]
    RoutingIdTaken(Bytes),
}

impl DisconnectReason {
    /// The session's reason, when the ZMTP session ended the connection.
    pub fn session(&self) -> Option<&CloseReason> {
        match self {
            DisconnectReason::Session(r) => Some(r),
            _ => None,
        }
    }
}

/// Reasons are equal when they are the same variant with the same details (I/O
/// errors compare by kind and text).
impl PartialEq for DisconnectReason {
    fn eq(&self, other: &DisconnectReason) -> bool {
        use DisconnectReason::*;
        match (self, other) {
            (Session(a), Session(b)) => a == b,
            (ReadFailed(a), ReadFailed(b)) | (WriteFailed(a), WriteFailed(b)) => {
                a.kind() == b.kind() && a.to_string() == b.to_string()
            }
            (RoutingIdTaken(a), RoutingIdTaken(b)) => a == b,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for DisconnectReason {}
