//! Security mechanisms (NULL, PLAIN, CURVE) as state machines without I/O.
//!
//! After both greetings, [`Handshake`](crate::Handshake) hands every command to
//! the state machine of our side's mechanism, which answers with commands of its
//! own and, at the end, with the peer's [`PeerInfo`]. A server may pause with an
//! [`AuthRequest`] (the ZAP step) until the caller answers; CURVE leaves a
//! message cipher behind for the data phase.
//!
//! - NULL (RFC 37): READY both ways.
//! - PLAIN (RFC 24): HELLO, WELCOME, INITIATE, READY.
//! - [`curve`]: CurveZMQ (RFC 26) as libzmq implements it.
//!
//! [`Security`] says which mechanism and role a side has.

pub mod curve;
mod null;
mod plain;
mod security;

pub(crate) use plain::libzmq_error_reason;

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};

use crate::auth::AuthRequest;
use crate::command::Command;
use crate::error::ZmtpError;
use crate::greeting::Version;
use crate::metadata::{self, Metadata};
use crate::peer::PeerInfo;
use crate::random::Random;
use crate::socket_type::SocketType;

pub use security::{PlainCredentials, Security};

/// What a mechanism needs to know about our side and the peer's greeting.
#[derive(Debug)]
pub(crate) struct Local<'a> {
    /// Our socket type.
    pub(crate) socket_type: SocketType,
    /// Our routing id, sent as `Identity` when non-empty.
    pub(crate) routing_id: Option<&'a Bytes>,
    /// Randomness for keys and nonces.
    pub(crate) random: &'a Random,
    /// The version from the peer's greeting.
    pub(crate) peer_version: Version,
    /// Whether a server (or NULL) pauses for the caller's authentication.
    pub(crate) authenticate: bool,
}

impl Local<'_> {
    /// Our READY / INITIATE properties: `Socket-Type`, and `Identity` if set.
    pub(crate) fn metadata(&self) -> Metadata {
        let mut m = Metadata::new();
        m.insert(metadata::SOCKET_TYPE, self.socket_type.as_str());
        if let Some(id) = self.routing_id.filter(|id| !id.is_empty()) {
            m.insert(metadata::IDENTITY, id.clone());
        }
        m
    }

    /// Checks the peer's properties: a compatible socket type and a valid
    /// routing id.
    pub(crate) fn check_peer(&self, metadata: Metadata) -> Result<PeerInfo, ZmtpError> {
        let raw_type = metadata.get(metadata::SOCKET_TYPE).cloned();
        let socket_type = raw_type
            .as_deref()
            .and_then(SocketType::from_bytes)
            .ok_or_else(|| {
                ZmtpError::UnknownSocketType(
                    raw_type
                        .map(|t| String::from_utf8_lossy(&t).into_owned())
                        .unwrap_or_default(),
                )
            })?;
        if !self.socket_type.is_compatible(socket_type) {
            return Err(ZmtpError::IncompatibleSocketType {
                ours: self.socket_type,
                theirs: socket_type,
            });
        }
        let routing_id = match metadata.get(metadata::IDENTITY) {
            Some(id) if id.len() > 255 => {
                return Err(ZmtpError::InvalidIdentity("longer than 255 bytes"));
            }
            Some(id) if id.first() == Some(&0) => {
                return Err(ZmtpError::InvalidIdentity(
                    "starts with a zero byte (reserved for generated ids)",
                ));
            }
            Some(id) if !id.is_empty() => Some(id.clone()),
            _ => None,
        };
        Ok(PeerInfo {
            version: self.peer_version,
            socket_type,
            routing_id,
            metadata,
            user_id: None,
            zap_metadata: Metadata::new(),
        })
    }
}

/// Where a mechanism stands after a step.
#[derive(Debug)]
pub(crate) enum Status {
    /// Waiting for the peer's next command.
    Continue,
    /// Paused until the caller answers this request.
    Authenticate(AuthRequest),
    /// The handshake is complete.
    Done(PeerInfo),
}

/// One side of a mechanism's handshake.
pub(crate) trait Machine: fmt::Debug + Send + Sync {
    /// Called once both greetings are known: the first commands, if any.
    fn start(&mut self, local: &Local<'_>, out: &mut BytesMut) -> Result<Status, ZmtpError>;

    /// A command from the peer (ERROR is handled before it gets here).
    fn on_command(
        &mut self,
        local: &Local<'_>,
        name: &[u8],
        data: Bytes,
        out: &mut BytesMut,
    ) -> Result<Status, ZmtpError>;

    /// The caller allowed the peer (after [`Status::Authenticate`]).
    fn on_authenticated(
        &mut self,
        local: &Local<'_>,
        out: &mut BytesMut,
    ) -> Result<Status, ZmtpError>;

    /// The data phase's encryption, once the handshake is done (CURVE only).
    fn take_cipher(&mut self) -> Option<curve::MessageCipher> {
        None
    }
}

/// The machine for our side of `security`.
pub(crate) fn machine(security: &Security) -> Box<dyn Machine> {
    match security {
        Security::Null => Box::new(null::Null::default()),
        Security::PlainClient(credentials) => Box::new(plain::Client::new(credentials.clone())),
        Security::PlainServer => Box::new(plain::Server::default()),
        Security::CurveClient { keys, server_key } => {
            Box::new(curve::client::Client::new(keys.clone(), *server_key))
        }
        Security::CurveServer { keys } => Box::new(curve::server::Server::new(keys.clone())),
    }
}

/// Splits a command body into its name and data.
pub(crate) fn split_command(mut body: Bytes) -> Result<(Bytes, Bytes), ZmtpError> {
    let Some(&len) = body.first() else {
        return Err(ZmtpError::MalformedCommand {
            command: "unnamed".into(),
            reason: "empty command frame",
        });
    };
    let len = usize::from(len);
    if len == 0 || body.len() < 1 + len {
        return Err(ZmtpError::MalformedCommand {
            command: "unnamed".into(),
            reason: "command name truncated or empty",
        });
    }
    body.advance(1);
    let name = body.split_to(len);
    Ok((name, body))
}

/// The error for a command that is not the one expected.
pub(crate) fn unexpected(expected: &'static str, name: &[u8]) -> ZmtpError {
    ZmtpError::UnexpectedCommand {
        expected,
        received: String::from_utf8_lossy(name).into(),
    }
}

/// The error for a command whose layout is wrong.
pub(crate) fn malformed(command: &str, reason: &'static str) -> ZmtpError {
    ZmtpError::MalformedCommand {
        command: command.into(),
        reason,
    }
}

/// Appends a READY command with these properties.
pub(crate) fn encode_ready(metadata: Metadata, out: &mut BytesMut) {
    Command::Ready(metadata).encode(out);
}
