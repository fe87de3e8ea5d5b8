//! The connection handshake for the NULL mechanism, as a state machine without I/O.
//!
//! Both sides send their greeting at once, then a READY command carrying
//! `Socket-Type` (and `Identity` when a routing id is set). The machine consumes the
//! peer's bytes from an input buffer, appends what must be sent to an output buffer,
//! and ends with a [`PeerInfo`]. Bytes after the peer's READY stay in the input
//! buffer for the frame decoder.
//!
//! ```
//! use bytes::BytesMut;
//! use zeroring_zmtp::{Handshake, HandshakeConfig, SocketType};
//!
//! let mut a = Handshake::new(HandshakeConfig::new(SocketType::Req));
//! let mut b = Handshake::new(HandshakeConfig::new(SocketType::Rep));
//! let (mut a_to_b, mut b_to_a) = (BytesMut::new(), BytesMut::new());
//! a_to_b.extend_from_slice(&a.greeting());
//! b_to_a.extend_from_slice(&b.greeting());
//! // A reads B's greeting and answers with READY.
//! assert!(a.advance(&mut b_to_a, &mut a_to_b).unwrap().is_none());
//! // B now has A's greeting and READY: it answers with its own READY and is done.
//! let peer_of_b = b.advance(&mut a_to_b, &mut b_to_a).unwrap().unwrap();
//! // A finishes on B's READY.
//! let peer_of_a = a.advance(&mut b_to_a, &mut BytesMut::new()).unwrap().unwrap();
//! assert_eq!(peer_of_a.socket_type, SocketType::Rep);
//! assert_eq!(peer_of_b.socket_type, SocketType::Req);
//! ```

use bytes::{Bytes, BytesMut};

use crate::command::Command;
use crate::error::ZmtpError;
use crate::frame::FrameDecoder;
use crate::greeting::{GREETING_LEN, Greeting, Mechanism, Version};
use crate::metadata::{self, Metadata};
use crate::socket_type::SocketType;

/// What the local side brings to a handshake.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    /// Our socket type.
    pub socket_type: SocketType,
    /// Our routing id, sent as `Identity` (empty or `None`: not sent).
    pub routing_id: Option<Bytes>,
    /// Our mechanism; only [`Mechanism::Null`] is implemented.
    pub mechanism: Mechanism,
    /// Largest handshake command accepted from the peer.
    pub max_command_size: u64,
}

impl HandshakeConfig {
    /// NULL mechanism, no routing id.
    pub fn new(socket_type: SocketType) -> HandshakeConfig {
        HandshakeConfig {
            socket_type,
            routing_id: None,
            mechanism: Mechanism::Null,
            max_command_size: 64 * 1024,
        }
    }
}

/// What the handshake learned about the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The version the peer announced (the connection runs at min(ours, theirs)).
    pub version: Version,
    /// The peer's socket type, already checked for compatibility.
    pub socket_type: SocketType,
    /// The peer's routing id, if it sent a non-empty one.
    pub routing_id: Option<Bytes>,
    /// All READY properties.
    pub metadata: Metadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Ready,
    Done,
}

/// The NULL-mechanism handshake state machine.
#[derive(Debug)]
pub struct Handshake {
    config: HandshakeConfig,
    state: State,
    version: Option<Version>,
    decoder: FrameDecoder,
}

impl Handshake {
    /// A handshake about to start.
    pub fn new(config: HandshakeConfig) -> Handshake {
        let decoder = FrameDecoder::new(Some(config.max_command_size));
        Handshake {
            config,
            state: State::Greeting,
            version: None,
            decoder,
        }
    }

    /// Our greeting, to be sent as soon as the connection is up.
    pub fn greeting(&self) -> [u8; GREETING_LEN] {
        Greeting::ours(self.config.mechanism, false).encode()
    }

    /// The peer's version, once its first 11 bytes were seen.
    pub fn peer_version(&self) -> Option<Version> {
        self.version
    }

    /// True once the peer's whole greeting was read (the handshake is at READY or
    /// done). A peer that closes before this point usually refused our mechanism.
    pub fn greeting_received(&self) -> bool {
        self.state != State::Greeting
    }

    /// True when the handshake finished.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Our READY command.
    pub fn ready_command(&self) -> Command {
        let mut m = Metadata::new();
        m.insert(metadata::SOCKET_TYPE, self.config.socket_type.as_str());
        if let Some(id) = self.config.routing_id.as_ref().filter(|id| !id.is_empty()) {
            m.insert(metadata::IDENTITY, id.clone());
        }
        Command::Ready(m)
    }

    /// Consumes handshake bytes from `input`, appending replies to `output`.
    ///
    /// Returns `Ok(Some(peer))` when the handshake is complete, `Ok(None)` when more
    /// input is needed, and an error on any violation (the connection must close).
    pub fn advance(
        &mut self,
        input: &mut BytesMut,
        output: &mut BytesMut,
    ) -> Result<Option<PeerInfo>, ZmtpError> {
        loop {
            match self.state {
                State::Greeting => {
                    if self.version.is_none() {
                        self.version = Greeting::peek_version(input)?;
                    }
                    if input.len() < GREETING_LEN {
                        return Ok(None);
                    }
                    let peer = Greeting::decode(&input[..GREETING_LEN])?;
                    let _ = input.split_to(GREETING_LEN);
                    if peer.mechanism != self.config.mechanism {
                        return Err(ZmtpError::MechanismMismatch {
                            ours: self.config.mechanism,
                            theirs: peer.mechanism,
                        });
                    }
                    if self.config.mechanism != Mechanism::Null {
                        return Err(ZmtpError::MechanismNotImplemented(self.config.mechanism));
                    }
                    self.version = Some(peer.version);
                    self.ready_command().encode(output);
                    self.state = State::Ready;
                }
                State::Ready => {
                    let Some(frame) = self.decoder.decode(input)? else {
                        return Ok(None);
                    };
                    if !frame.command {
                        return Err(ZmtpError::UnexpectedDuringHandshake("message frame"));
                    }
                    let metadata = match Command::parse(frame.body)? {
                        Command::Ready(m) => m,
                        Command::Error(reason) => return Err(ZmtpError::PeerError(reason)),
                        _ => return Err(ZmtpError::UnexpectedDuringHandshake("command")),
                    };
                    let peer = self.check_ready(metadata)?;
                    self.state = State::Done;
                    return Ok(Some(peer));
                }
                State::Done => return Err(ZmtpError::UnexpectedDuringHandshake("input")),
            }
        }
    }

    fn check_ready(&self, metadata: Metadata) -> Result<PeerInfo, ZmtpError> {
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
        if !self.config.socket_type.is_compatible(socket_type) {
            return Err(ZmtpError::IncompatibleSocketType {
                ours: self.config.socket_type,
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
            version: self.version.unwrap_or(Version::V3_1),
            socket_type,
            routing_id,
            metadata,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    fn run(
        a_cfg: HandshakeConfig,
        b_cfg: HandshakeConfig,
    ) -> (Result<PeerInfo, ZmtpError>, Result<PeerInfo, ZmtpError>) {
        let mut a = Handshake::new(a_cfg);
        let mut b = Handshake::new(b_cfg);
        let (mut ab, mut ba) = (BytesMut::new(), BytesMut::new());
        ab.put_slice(&a.greeting());
        ba.put_slice(&b.greeting());
        let (mut ra, mut rb) = (None, None);
        for _ in 0..4 {
            if ra.is_none() {
                match a.advance(&mut ba, &mut ab) {
                    Ok(Some(p)) => ra = Some(Ok(p)),
                    Ok(None) => {}
                    Err(e) => ra = Some(Err(e)),
                }
            }
            if rb.is_none() {
                match b.advance(&mut ab, &mut ba) {
                    Ok(Some(p)) => rb = Some(Ok(p)),
                    Ok(None) => {}
                    Err(e) => rb = Some(Err(e)),
                }
            }
        }
        (ra.unwrap(), rb.unwrap())
    }

    #[test]
    fn identity_is_carried() {
        let mut cfg = HandshakeConfig::new(SocketType::Dealer);
        cfg.routing_id = Some(Bytes::from_static(b"worker-1"));
        let (a, b) = run(cfg, HandshakeConfig::new(SocketType::Router));
        assert_eq!(a.unwrap().routing_id, None);
        assert_eq!(b.unwrap().routing_id, Some(Bytes::from_static(b"worker-1")));
    }

    #[test]
    fn incompatible_types_fail_both_sides() {
        let (a, b) = run(
            HandshakeConfig::new(SocketType::Req),
            HandshakeConfig::new(SocketType::Req),
        );
        assert!(matches!(a, Err(ZmtpError::IncompatibleSocketType { .. })));
        assert!(matches!(b, Err(ZmtpError::IncompatibleSocketType { .. })));
    }

    #[test]
    fn mechanism_mismatch() {
        let mut cfg = HandshakeConfig::new(SocketType::Push);
        cfg.mechanism = Mechanism::Plain;
        let (a, _) = run(HandshakeConfig::new(SocketType::Pull), cfg);
        assert_eq!(
            a,
            Err(ZmtpError::MechanismMismatch {
                ours: Mechanism::Null,
                theirs: Mechanism::Plain
            })
        );
    }

    #[test]
    fn data_frame_before_ready_is_rejected() {
        let mut h = Handshake::new(HandshakeConfig::new(SocketType::Pull));
        let mut input = BytesMut::new();
        let mut g = Greeting::ours(Mechanism::Null, false).encode();
        g[11] = 0;
        input.put_slice(&g);
        input.put_slice(&[0, 1, b'x']);
        assert_eq!(
            h.advance(&mut input, &mut BytesMut::new()),
            Err(ZmtpError::UnexpectedDuringHandshake("message frame"))
        );
        assert_eq!(h.peer_version(), Some(Version::V3_0));
    }

    #[test]
    fn trailing_bytes_stay_in_input() {
        let mut h = Handshake::new(HandshakeConfig::new(SocketType::Pull));
        let mut input = BytesMut::new();
        input.put_slice(&Greeting::ours(Mechanism::Null, false).encode());
        Handshake::new(HandshakeConfig::new(SocketType::Push))
            .ready_command()
            .encode(&mut input);
        input.put_slice(&[0, 2, b'h', b'i']);
        let peer = h
            .advance(&mut input, &mut BytesMut::new())
            .unwrap()
            .unwrap();
        assert_eq!(peer.socket_type, SocketType::Push);
        assert_eq!(&input[..], &[0, 2, b'h', b'i']);
    }
}
