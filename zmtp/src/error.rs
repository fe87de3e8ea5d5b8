//! The error type of the ZMTP layer: everything a peer can get wrong on the wire.

use crate::greeting::Mechanism;
use crate::socket_type::SocketType;

/// A protocol violation or a disagreement found while decoding a peer's bytes.
///
/// Every variant is fatal for the connection it came from; none of them concerns
/// other connections.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZmtpError {
    /// The first byte or the tenth byte of the greeting is not the ZMTP signature.
    #[error("peer did not send a ZMTP greeting (signature byte {index} was {byte:#04x})")]
    BadSignature {
        /// Offset of the offending byte in the greeting.
        index: usize,
        /// The byte that was found there.
        byte: u8,
    },
    /// The peer speaks a major version older than 3.
    #[error("peer speaks ZMTP {major}.x; zeroring needs ZMTP 3.0 or later")]
    UnsupportedVersion {
        /// The peer's major version.
        major: u8,
    },
    /// The mechanism field of the greeting is not a known mechanism name.
    #[error("peer announced an unknown security mechanism {0:?}")]
    UnknownMechanism(String),
    /// Both ends must use the same security mechanism.
    #[error("security mechanism mismatch: we use {ours}, the peer uses {theirs}")]
    MechanismMismatch {
        /// Our mechanism.
        ours: Mechanism,
        /// The peer's mechanism.
        theirs: Mechanism,
    },
    /// The peer asked for a mechanism zeroring does not implement yet.
    #[error("security mechanism {0} is not implemented by zeroring")]
    MechanismNotImplemented(Mechanism),
    /// A frame's flags byte had bits set that ZMTP reserves.
    #[error("frame flags {0:#04x} have reserved bits set")]
    ReservedFlags(u8),
    /// A command frame had the MORE flag.
    #[error("command frame has the MORE flag set")]
    CommandWithMore,
    /// A frame or message is larger than the configured maximum.
    #[error("frame of {size} bytes exceeds the maximum message size of {max} bytes")]
    TooLarge {
        /// The announced size.
        size: u64,
        /// The configured limit.
        max: u64,
    },
    /// A long frame announced a size with the top bit set (over 2^63 - 1).
    #[error("frame size {0} is not a valid ZMTP size")]
    InvalidSize(u64),
    /// A command's body could not be parsed.
    #[error("malformed {command} command: {reason}")]
    MalformedCommand {
        /// The command name, or "unnamed" if even the name was unreadable.
        command: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// READY metadata could not be parsed.
    #[error("malformed metadata: {0}")]
    MalformedMetadata(&'static str),
    /// The READY command lacked the Socket-Type property or named an unknown type.
    #[error("peer socket type is missing or unknown ({0:?})")]
    UnknownSocketType(String),
    /// The two socket types cannot talk to each other.
    #[error("incompatible socket types: we are {ours}, the peer is {theirs}")]
    IncompatibleSocketType {
        /// Our socket type.
        ours: SocketType,
        /// The peer's socket type.
        theirs: SocketType,
    },
    /// The routing id in READY is not valid (starts with a zero byte).
    #[error("peer identity is invalid: {0}")]
    InvalidIdentity(&'static str),
    /// A message or command came in a handshake state where it is not allowed.
    #[error("unexpected {0} during the handshake")]
    UnexpectedDuringHandshake(&'static str),
    /// The peer sent an ERROR command.
    #[error("peer sent ERROR: {0}")]
    PeerError(String),
    /// The peer sent READY again after the handshake.
    #[error("READY after the handshake")]
    ReadyAfterHandshake,
}
