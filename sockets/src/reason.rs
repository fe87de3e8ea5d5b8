//! Why a connection ended or its handshake failed, as a type: monitors carry it
//! ([`SocketEvent`](crate::SocketEvent)), applications match on it, and its text
//! is what zeroring logs.

use std::sync::Arc;

use bytes::Bytes;
pub use zeroring_zmtp::CloseReason;
use zeroring_zmtp::{ZapStatus, ZmtpError};

use crate::routing_id::RoutingIdDisplay;

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
    /// Our authenticator refused the peer (libzmq's HANDSHAKE_FAILED_AUTH on
    /// the server side). The peer was told the status code in an ERROR
    /// command, except for 300, where the connection closed without a word.
    #[error("peer refused by the authenticator (ZAP {status}: {text})")]
    Refused {
        /// The reply's status code.
        status: ZapStatus,
        /// The reply's status text.
        text: String,
    },
    /// A PLAIN server has nobody to check passwords with: the peer was
    /// refused (ZAP 500, told in an ERROR).
    #[error(
        "PLAIN client refused: this PLAIN server has no authenticator to check passwords \
         with; install one with set_authenticator (on the socket) or \
         Context::set_authenticator (libzmq 4.3 also refuses every PLAIN client when no \
         ZAP handler runs)"
    )]
    NoAuthenticator,
    /// The socket's security options were changed after bind or connect into
    /// a state that cannot work; the connection was not started.
    #[error("not connected: {0}")]
    InvalidSecurity(&'static str),
}

impl DisconnectReason {
    /// The session's reason, when the ZMTP session ended the connection.
    pub fn session(&self) -> Option<&CloseReason> {
        match self {
            DisconnectReason::Session(r) => Some(r),
            _ => None,
        }
    }

    /// The ZAP status code when authentication failed: ours refused the peer
    /// ([`DisconnectReason::Refused`], [`DisconnectReason::NoAuthenticator`]:
    /// 500), or the peer's refused us (its ERROR carried the code).
    ///
    /// ```
    /// use zeroring_sockets::{DisconnectReason, ZapStatus};
    /// let r = DisconnectReason::Refused { status: ZapStatus::Failure, text: "No access".into() };
    /// assert_eq!(r.zap_status(), Some(ZapStatus::Failure));
    /// assert_eq!(DisconnectReason::PairTaken.zap_status(), None);
    /// ```
    pub fn zap_status(&self) -> Option<ZapStatus> {
        match self {
            DisconnectReason::Refused { status, .. } => Some(*status),
            DisconnectReason::NoAuthenticator => Some(ZapStatus::InternalError),
            DisconnectReason::Session(CloseReason::Protocol(
                ZmtpError::RefusedByPeer(status) | ZmtpError::AuthenticationFailed(status),
            )) => Some(*status),
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
            (Refused { status: a, text: x }, Refused { status: b, text: y }) => a == b && x == y,
            (InvalidSecurity(a), InvalidSecurity(b)) => a == b,
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for DisconnectReason {}
