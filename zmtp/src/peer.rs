//! [`PeerInfo`]: what a handshake learned about the peer, produced by the
//! security mechanisms and handed on by the handshake and the session.

use bytes::Bytes;

use crate::greeting::Version;
use crate::metadata::Metadata;
use crate::socket_type::SocketType;

/// What the handshake learned about the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The version the peer announced (the connection runs at min(ours, theirs)).
    pub version: Version,
    /// The peer's socket type, already checked for compatibility.
    pub socket_type: SocketType,
    /// The peer's routing id, if it sent a non-empty one.
    pub routing_id: Option<Bytes>,
    /// All READY (or INITIATE) properties.
    pub metadata: Metadata,
    /// The user id our authenticator gave the peer (`None`: not authenticated,
    /// or no user id). libzmq shows it as the `User-Id` message property.
    pub user_id: Option<Bytes>,
    /// The metadata of our authenticator's reply (ZAP metadata), for the
    /// application to see with every message of this peer.
    pub zap_metadata: Metadata,
}
