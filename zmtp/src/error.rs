//! The error type of the ZMTP layer: everything a peer can get wrong on the wire,
//! what the security mechanisms refuse, and the few local mistakes (a malformed
//! key, no randomness) that they find.

use crate::mechanism::curve::CurveBox;
use crate::mechanism_name::Mechanism;
use crate::socket_type::SocketType;
use crate::zap_status::ZapStatus;

/// A protocol violation or a disagreement found while decoding a peer's bytes, a
/// refused authentication, or a security setting that cannot work.
///
/// Every variant met on a connection is fatal for that connection; none of them
/// concerns other connections.
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
    /// The peer asked for a mechanism zeroring does not implement.
    #[error("security mechanism {0} is not implemented by zeroring")]
    MechanismNotImplemented(Mechanism),
    /// Both ends of a PLAIN or CURVE connection claim the same role. (Only a
    /// peer that sets the greeting's as-server flag can be caught: libzmq never
    /// sets it, so two clients fail later, on an unexpected HELLO.)
    #[error(
        "both ends use {mechanism} as {}: exactly one side must be the {mechanism} server \
         (the side with the server's keys or the credentials check)",
        if *both_servers { "servers" } else { "clients" }
    )]
    RoleMismatch {
        /// The mechanism in use.
        mechanism: Mechanism,
        /// True when both claim to be servers, false when both are clients.
        both_servers: bool,
    },
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
    /// A command came that the handshake does not expect at this point.
    #[error("unexpected {received:?} command during the handshake (expected {expected})")]
    UnexpectedCommand {
        /// What the handshake was waiting for.
        expected: &'static str,
        /// The name of the command that came (lossy UTF-8).
        received: Box<str>,
    },
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
    /// We refused the peer: the authenticator answered with this status (the
    /// peer was told the code in an ERROR command, except for 300).
    #[error("peer refused by the authenticator (ZAP status {0})")]
    AuthenticationFailed(ZapStatus),
    /// The peer refused us: its authenticator answered with this status.
    #[error("the peer refused us (ZAP status {status}): {advice}", status = .0, advice = refusal_advice(*.0))]
    RefusedByPeer(ZapStatus),
    /// `Session::authenticated` was called while no authentication was pending.
    #[error(
        "an authentication result was given while no authentication request was pending \
         (answer each Event::Authenticate exactly once)"
    )]
    NoAuthenticationPending,
    /// PLAIN credentials that cannot be sent.
    #[error("invalid PLAIN credentials: {0}")]
    InvalidPlainCredentials(&'static str),
    /// A CURVE key that cannot be used.
    #[error("invalid CURVE key: {0}")]
    InvalidCurveKey(&'static str),
    /// Z85 text or data that cannot be converted.
    #[error("invalid Z85: {0}")]
    InvalidZ85(&'static str),
    /// The peer's CurveZMQ version is not 1.0.
    #[error("peer speaks CurveZMQ {major}.{minor}; zeroring speaks CurveZMQ 1.0")]
    UnsupportedCurveVersion {
        /// The major version in HELLO.
        major: u8,
        /// The minor version in HELLO.
        minor: u8,
    },
    /// A CURVE box did not open: the keys do not match, or the bytes were
    /// altered on the way.
    #[error("CURVE {0}")]
    CurveBoxRejected(CurveBox),
    /// A CURVE nonce did not increase: the command was replayed or reordered.
    #[error(
        "CURVE nonce {nonce} is not above the peer's previous nonce {previous}: \
         the message was replayed or reordered"
    )]
    CurveNonceReused {
        /// The nonce received.
        nonce: u64,
        /// The highest nonce received before it.
        previous: u64,
    },
    /// The system could not provide random bytes for the handshake.
    #[error("no random bytes available for the security handshake: {0}")]
    RandomUnavailable(String),
}

/// What to do about a refusal with this status.
fn refusal_advice(status: ZapStatus) -> &'static str {
    match status {
        ZapStatus::TemporaryError => "the server asks to try again later",
        ZapStatus::InternalError => {
            "the server could not check our credentials (its authenticator failed, or it \
             has none: a zeroring PLAIN server without an authenticator answers so)"
        }
        ZapStatus::Failure | ZapStatus::Success => {
            "check the PLAIN user name and password, or that the server allows our CURVE \
             public key and address"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ZmtpError;

    // The frame decoder returns `Result<Option<Frame>, ZmtpError>` for every
    // frame: a larger error makes every message move more bytes (48 bytes here
    // cost about 10 instructions per received message). Box what grows it.
    #[test]
    fn the_error_stays_small_for_the_receive_path() {
        assert!(std::mem::size_of::<ZmtpError>() <= 40);
    }
}
