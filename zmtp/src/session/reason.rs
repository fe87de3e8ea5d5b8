//! Why a session ended, as a type an application can match on (and print: the
//! text is what zeroring logs and monitors show).

use crate::error::ZmtpError;

/// Why a ZMTP session ended. Every variant ends that one connection and no other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer broke the protocol, or the handshake found the two ends cannot
    /// talk (mechanism, socket types, identity).
    #[error("protocol error: {0}")]
    Protocol(#[from] ZmtpError),
    /// A message grew past MAXMSGSIZE (bodies plus 32 bytes for every frame after
    /// the first).
    #[error(
        "message of {size}+ bytes (counting 32 per frame after the first) exceeds MAXMSGSIZE {max}"
    )]
    MessageTooLarge {
        /// Size counted so far.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A message had more frames than allowed.
    #[error("message of {frames}+ frames exceeds the limit of {max} frames per message")]
    TooManyFrames {
        /// Frames counted so far.
        frames: usize,
        /// The limit.
        max: usize,
    },
    /// The handshake did not finish within HANDSHAKE_IVL.
    #[error("handshake not completed within HANDSHAKE_IVL")]
    HandshakeTimeout,
    /// Nothing arrived within HEARTBEAT_TIMEOUT after one of our PINGs.
    #[error("no traffic within HEARTBEAT_TIMEOUT after a PING")]
    HeartbeatTimeout,
    /// Nothing arrived within the TTL the peer announced in its PINGs.
    #[error("peer's HEARTBEAT_TTL expired without traffic")]
    TtlExpired,
    /// The peer closed the connection between messages.
    #[error("peer closed the connection")]
    PeerClosed,
    /// The peer closed the connection with part of a message sent; the part is
    /// dropped.
    #[error("peer closed the connection in the middle of a message")]
    PeerClosedMidMessage,
    /// The peer closed during the greeting. A libzmq peer that requires another
    /// security mechanism (PLAIN, CURVE) closes at once, without a word, when it
    /// reads ours.
    #[error(
        "peer closed the connection {}: probably a security mechanism mismatch \
         (a libzmq peer that requires another mechanism, such as PLAIN or CURVE, \
         closes without a word), or the peer is not a ZMTP socket",
        if *received == 0 { "before sending its greeting".to_string() }
        else { format!("after {received} of the 64 bytes of its greeting") }
    )]
    PeerClosedDuringGreeting {
        /// Greeting bytes received before the close.
        received: usize,
    },
    /// The peer closed after its greeting, before READY.
    #[error(
        "peer closed the connection after its greeting, before READY \
         (it may refuse our socket type or routing id without saying so)"
    )]
    PeerClosedDuringHandshake,
}

impl CloseReason {
    /// Whether the peer sent an ERROR command (its reason is inside).
    pub fn peer_error(&self) -> Option<&str> {
        match self {
            CloseReason::Protocol(ZmtpError::PeerError(reason)) => Some(reason),
            _ => None,
        }
    }
}
