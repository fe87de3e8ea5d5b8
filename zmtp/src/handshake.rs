//! The connection handshake as a state machine without I/O: greetings, then
//! the security mechanism's commands (NULL, PLAIN or CURVE, see
//! [`mechanism`]), ending with a [`PeerInfo`].
//!
//! Both sides send their greeting at once. With NULL each then sends a READY
//! command carrying `Socket-Type` (and `Identity` when a routing id is set); PLAIN
//! and CURVE run their own exchanges, which carry the same properties. The machine
//! consumes the peer's bytes from an input buffer, appends what must be sent to
//! an output buffer, and ends with a [`PeerInfo`]. Bytes after the peer's last
//! handshake command stay in the input buffer for the frame decoder.
//!
//! A server that authenticates its peers (and NULL with authentication on) pauses
//! once it has the peer's credentials: [`Handshake::take_auth_request`] hands out
//! the request, and [`Handshake::authenticated`] resumes the handshake.
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

use crate::auth::{AuthRequest, AuthResult, ZapStatus};
use crate::command::Command;
use crate::error::ZmtpError;
use crate::frame::FrameDecoder;
use crate::greeting::{GREETING_LEN, Greeting, Mechanism, Version};
use crate::mechanism::curve::MessageCipher;
use crate::mechanism::{
    self, Local, Machine, Security, Status, libzmq_error_reason, split_command,
};
use crate::metadata::Metadata;
use crate::random::Random;
use crate::socket_type::SocketType;

/// What the local side brings to a handshake.
#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    /// Our socket type.
    pub socket_type: SocketType,
    /// Our routing id, sent as `Identity` (empty or `None`: not sent).
    pub routing_id: Option<Bytes>,
    /// Our security mechanism, role and credentials.
    pub security: Security,
    /// Pause for the caller's authentication of the peer (the ZAP step): PLAIN
    /// and CURVE servers after the credentials, NULL before its READY. Off, a
    /// server lets every peer in (libzmq's CURVE server without a ZAP handler).
    /// Clients ignore it.
    pub authenticate: bool,
    /// Largest handshake command accepted from the peer.
    pub max_command_size: u64,
    /// Randomness for the CURVE keys and nonces.
    pub random: Random,
}

impl HandshakeConfig {
    /// NULL mechanism, no routing id, no authentication.
    pub fn new(socket_type: SocketType) -> HandshakeConfig {
        HandshakeConfig {
            socket_type,
            routing_id: None,
            security: Security::Null,
            authenticate: false,
            max_command_size: 64 * 1024,
            random: Random::os(),
        }
    }
}

pub use crate::peer::PeerInfo;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Greeting,
    Mechanism,
    Done,
    Failed,
}

/// Where the authentication step stands.
#[derive(Debug)]
enum Auth {
    /// Not asked (yet, or at all).
    None,
    /// The mechanism paused; the request waits to be taken.
    Requested(AuthRequest),
    /// The request was handed out; waiting for the answer.
    Waiting,
    /// The caller allowed the peer.
    Granted { user_id: Bytes, metadata: Metadata },
}

/// The handshake state machine for every mechanism.
#[derive(Debug)]
pub struct Handshake {
    config: HandshakeConfig,
    state: State,
    version: Option<Version>,
    decoder: FrameDecoder,
    machine: Option<Box<dyn Machine>>,
    auth: Auth,
    /// The peer, once the mechanism finished (handed out by the next advance).
    finished: Option<PeerInfo>,
    cipher: Option<MessageCipher>,
}

fn local(config: &HandshakeConfig, version: Option<Version>) -> Local<'_> {
    Local {
        socket_type: config.socket_type,
        routing_id: config.routing_id.as_ref(),
        random: &config.random,
        peer_version: version.unwrap_or(Version::V3_1),
        authenticate: config.authenticate,
    }
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
            machine: None,
            auth: Auth::None,
            finished: None,
            cipher: None,
        }
    }

    /// Our greeting, to be sent as soon as the connection is up.
    pub fn greeting(&self) -> [u8; GREETING_LEN] {
        let security = &self.config.security;
        Greeting::ours(security.mechanism(), security.is_server()).encode()
    }

    /// The peer's version, once its first 11 bytes were seen.
    pub fn peer_version(&self) -> Option<Version> {
        self.version
    }

    /// True once the peer's whole greeting was read. A peer that closes before
    /// this point usually refused our mechanism.
    pub fn greeting_received(&self) -> bool {
        self.state != State::Greeting
    }

    /// True when the handshake finished.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// True while the handshake waits for [`Handshake::authenticated`].
    pub fn awaiting_authentication(&self) -> bool {
        matches!(self.auth, Auth::Requested(_) | Auth::Waiting)
    }

    /// The pending authentication request, once (then the handshake waits for
    /// [`Handshake::authenticated`]).
    pub fn take_auth_request(&mut self) -> Option<AuthRequest> {
        match std::mem::replace(&mut self.auth, Auth::Waiting) {
            Auth::Requested(request) => Some(request),
            other => {
                self.auth = other;
                None
            }
        }
    }

    /// The READY command NULL sends: our socket type and routing id.
    pub fn ready_command(&self) -> Command {
        Command::Ready(local(&self.config, self.version).metadata())
    }

    /// Resumes a paused handshake with the caller's answer. On
    /// [`ZapStatus::Success`] the handshake goes on (call
    /// [`Handshake::advance`] again, even without new input: it may be done).
    /// Otherwise an ERROR with the status code is appended to `output` (not for
    /// 300, which closes silently) and the handshake fails with
    /// [`ZmtpError::AuthenticationFailed`].
    pub fn authenticated(
        &mut self,
        result: AuthResult,
        output: &mut BytesMut,
    ) -> Result<(), ZmtpError> {
        if !self.awaiting_authentication() {
            return Err(ZmtpError::NoAuthenticationPending);
        }
        if result.status != ZapStatus::Success {
            self.auth = Auth::None;
            self.state = State::Failed;
            if result.status != ZapStatus::TemporaryError {
                Command::Error(result.status.as_reason().to_string()).encode(output);
            }
            return Err(ZmtpError::AuthenticationFailed(result.status));
        }
        self.auth = Auth::Granted {
            user_id: result.user_id,
            metadata: result.metadata,
        };
        let local = local(&self.config, self.version);
        let Some(machine) = self.machine.as_mut() else {
            return Err(ZmtpError::NoAuthenticationPending);
        };
        match machine.on_authenticated(&local, output) {
            Ok(status) => {
                self.on_status(status);
                Ok(())
            }
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    /// The data phase's encryption, once a CURVE handshake is done.
    pub(crate) fn take_cipher(&mut self) -> Option<MessageCipher> {
        self.cipher.take()
    }

    /// Consumes handshake bytes from `input`, appending replies to `output`.
    ///
    /// Returns `Ok(Some(peer))` when the handshake is complete, `Ok(None)` when more
    /// input is needed or an authentication request waits (see
    /// [`Handshake::take_auth_request`]), and an error on any violation (the
    /// connection must close).
    pub fn advance(
        &mut self,
        input: &mut BytesMut,
        output: &mut BytesMut,
    ) -> Result<Option<PeerInfo>, ZmtpError> {
        let result = self.step(input, output);
        if result.is_err() {
            self.state = State::Failed;
        }
        result
    }

    fn step(
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
                    self.start(peer, output)?;
                }
                State::Mechanism => {
                    if let Some(peer) = self.finished.take() {
                        self.state = State::Done;
                        return Ok(Some(peer));
                    }
                    if self.awaiting_authentication() {
                        return Ok(None);
                    }
                    let Some(frame) = self.decoder.decode(input)? else {
                        return Ok(None);
                    };
                    if !frame.command {
                        return Err(ZmtpError::UnexpectedDuringHandshake("message frame"));
                    }
                    if self.config.security.mechanism() == Mechanism::Plain
                        && let Some(reason) = libzmq_error_reason(&frame.body)
                    {
                        return Err(error_from_reason(reason));
                    }
                    let (name, data) = split_command(frame.body.clone())?;
                    if &name[..] == b"ERROR" {
                        return Err(peer_error(frame.body)?);
                    }
                    let local = local(&self.config, self.version);
                    let Some(machine) = self.machine.as_mut() else {
                        return Err(ZmtpError::UnexpectedDuringHandshake("command"));
                    };
                    let status = machine.on_command(&local, &name, data, output)?;
                    self.on_status(status);
                }
                State::Done | State::Failed => {
                    return Err(ZmtpError::UnexpectedDuringHandshake("input"));
                }
            }
        }
    }

    /// Both greetings are known: checks the mechanism and roles, starts the
    /// mechanism.
    fn start(&mut self, peer: Greeting, output: &mut BytesMut) -> Result<(), ZmtpError> {
        let ours = self.config.security.mechanism();
        if peer.mechanism != ours {
            return Err(ZmtpError::MechanismMismatch {
                ours,
                theirs: peer.mechanism,
            });
        }
        // libzmq always sends as-server 0 and never reads it, so only a peer
        // that claims the server role (as RFC 23 asks and zeroring does) can be
        // caught being a second server. Two clients fail on the first command.
        if ours != Mechanism::Null && peer.as_server && self.config.security.is_server() {
            return Err(ZmtpError::RoleMismatch {
                mechanism: ours,
                both_servers: true,
            });
        }
        self.version = Some(peer.version);
        let mut machine = mechanism::machine(&self.config.security);
        let status = machine.start(&local(&self.config, self.version), output)?;
        self.machine = Some(machine);
        self.state = State::Mechanism;
        self.on_status(status);
        Ok(())
    }

    fn on_status(&mut self, status: Status) {
        match status {
            Status::Continue => {}
            Status::Authenticate(request) => self.auth = Auth::Requested(request),
            Status::Done(mut peer) => {
                if let Auth::Granted { user_id, metadata } =
                    std::mem::replace(&mut self.auth, Auth::None)
                {
                    peer.user_id = (!user_id.is_empty()).then_some(user_id);
                    peer.zap_metadata = metadata;
                }
                self.cipher = self.machine.as_mut().and_then(|m| m.take_cipher());
                // The mechanism's keys are no longer needed: wipe them now.
                self.machine = None;
                self.finished = Some(peer);
            }
        }
    }
}

/// The error for the peer's ERROR command: a refusal with a ZAP status code, or
/// any other reason.
fn peer_error(body: Bytes) -> Result<ZmtpError, ZmtpError> {
    match Command::parse(body)? {
        Command::Error(reason) => Ok(error_from_reason(reason)),
        _ => Err(ZmtpError::UnexpectedDuringHandshake("command")),
    }
}

fn error_from_reason(reason: String) -> ZmtpError {
    match ZapStatus::from_error_reason(&reason) {
        Some(status) => ZmtpError::RefusedByPeer(status),
        None => ZmtpError::PeerError(reason),
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
        cfg.security = Security::PlainServer;
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
