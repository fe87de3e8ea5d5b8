//! One whole ZMTP connection as a deterministic state machine, in the way
//! `quinn-proto` holds a QUIC connection: no I/O, no clock of its own.
//!
//! The caller (zeroring's connection driver, a test, a fuzzer) moves bytes and
//! time in and out:
//!
//! - [`Session::poll_transmit`] appends what must be sent: the greeting and the
//!   handshake commands, then PONGs and heartbeat PINGs (one of each at most
//!   waiting, however many PINGs the peer sends).
//! - [`Session::poll_input`] consumes received bytes (split anywhere) and returns
//!   events: the handshake's result, whole messages assembled under the size
//!   limits, subscriptions (both the 3.1 commands and, on publishers, the 3.0
//!   data-message form). Call [`Session::received`] once per read for liveness.
//! - [`Session::poll_timeout`] says when [`Session::handle_timeout`] must run next
//!   (handshake deadline, PING due, heartbeat timeout, the peer's TTL).
//! - Errors are typed: [`CloseReason`] says why the session ended.
//!
//! Security: [`SessionConfig::security`] picks NULL, PLAIN or CURVE and the
//! role. A server that authenticates its peers ([`SessionConfig::authenticate`])
//! pauses with [`Event::Authenticate`]; the caller asks its ZAP handler and
//! resumes with [`Session::authenticated`]. After a CURVE handshake
//! ([`Session::is_encrypting`]) inbound MESSAGE commands are opened before the
//! frames reach message assembly, and everything sent must be sealed:
//! [`Session::poll_transmit`], [`Session::encode_message`] and
//! [`Session::encode_subscription`] seal what they append, and
//! [`Session::seal`] turns a batch of plain encoded frames into MESSAGEs. Bytes
//! produced by these calls must be written in the order they were produced
//! (their nonces increase in that order).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::BytesMut;
//! use zeroring_zmtp::session::{Event, Session, SessionConfig};
//! use zeroring_zmtp::{Message, SocketType};
//!
//! let now = Instant::now();
//! let mut push = Session::new(SessionConfig::new(SocketType::Push), now);
//! let mut pull = Session::new(SessionConfig::new(SocketType::Pull), now);
//! let (mut to_pull, mut to_push) = (BytesMut::new(), BytesMut::new());
//! // Exchange bytes until both handshakes are done.
//! for _ in 0..3 {
//!     push.poll_transmit(&mut to_pull);
//!     pull.poll_transmit(&mut to_push);
//!     while let Some(_) = push.poll_input(&mut to_push).unwrap() {}
//!     while let Some(_) = pull.poll_input(&mut to_pull).unwrap() {}
//! }
//! assert!(push.is_ready() && pull.is_ready());
//! push.encode_message(&Message::from(vec!["a", "b"]), &mut to_pull);
//! match pull.poll_input(&mut to_pull).unwrap() {
//!     Some(Event::Message(m)) => assert_eq!(m.len(), 2),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod assembly;
mod heartbeat;
mod reason;
mod seal;
mod secure;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::auth::AuthRequest;
use crate::command::Command;
use crate::error::ZmtpError;
use crate::frame::{self, Frame, FrameDecoder};
use crate::greeting::{GREETING_LEN, Version};
use crate::handshake::{Handshake, HandshakeConfig, PeerInfo};
use crate::mechanism::Security;
use crate::mechanism::curve::MessageCipher;
use crate::message::Message;
use crate::random::Random;
use crate::socket_type::SocketType;
use crate::subscription;

pub use assembly::{DEFAULT_MAX_FRAMES, FRAME_COST, MessageLimits};
pub use heartbeat::HeartbeatConfig;
pub use reason::CloseReason;

use assembly::Assembly;
use heartbeat::Heartbeat;
use seal::PlainFrames;

/// Largest frame body copied out of a read buffer when the caller asks for it
/// (see [`Session::detach_small_frames`]).
pub const DETACH_MAX: usize = 8 * 1024;

/// Largest command accepted from a peer, during and after the handshake (larger
/// after it when MAXMSGSIZE is larger).
const MAX_COMMAND: u64 = 64 * 1024;

/// Everything a session needs to know about its own side.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our socket type.
    pub socket_type: SocketType,
    /// Our routing id, sent as `Identity` (1-255 bytes; `None`: not sent).
    pub routing_id: Option<Bytes>,
    /// Our security mechanism, role and credentials (default NULL).
    pub security: Security,
    /// Pause the handshake for the caller's authentication of the peer (the
    /// ZAP step, see [`Event::Authenticate`]): PLAIN and CURVE servers once they
    /// have the credentials, NULL before its READY. Off (the default), a server
    /// lets every peer in, as libzmq's CURVE server does without a ZAP handler.
    /// Clients ignore it.
    pub authenticate: bool,
    /// HANDSHAKE_IVL: the handshake must finish within this (`None`: no limit).
    pub handshake_timeout: Option<Duration>,
    /// Heartbeats (all off by default).
    pub heartbeat: HeartbeatConfig,
    /// Limits on inbound messages.
    pub limits: MessageLimits,
    /// Randomness for CURVE keys and nonces (the operating system's by default;
    /// tests inject a seeded source).
    pub random: Random,
}

impl SessionConfig {
    /// NULL mechanism, no routing id, HANDSHAKE_IVL 30 s, no heartbeats, default
    /// message limits.
    pub fn new(socket_type: SocketType) -> SessionConfig {
        SessionConfig {
            socket_type,
            routing_id: None,
            security: Security::Null,
            authenticate: false,
            handshake_timeout: Some(Duration::from_secs(30)),
            heartbeat: HeartbeatConfig::default(),
            limits: MessageLimits::default(),
            random: Random::os(),
        }
    }
}

/// What the peer's bytes amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The handshake paused: may this peer connect? Answer with
    /// [`Session::authenticated`], then call [`Session::poll_transmit`] and
    /// [`Session::poll_input`] (or [`Session::drive`]) again, even if no new
    /// bytes arrived. Only during the handshake, and only with
    /// [`SessionConfig::authenticate`] on.
    Authenticate(AuthRequest),
    /// The handshake finished: who the peer is.
    Ready(PeerInfo),
    /// A whole message.
    Message(Message),
    /// A subscription (SUBSCRIBE, or `0x01 topic` to a publisher).
    Subscribe(Bytes),
    /// A cancelled subscription (CANCEL, or `0x00 topic` to a publisher).
    Cancel(Bytes),
}

/// Where [`Session::drive`] stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Everything buffered was consumed (a partial frame may remain): read more.
    NeedInput,
    /// An event to handle before going on (a message the caller gave back, a
    /// subscription, the handshake's end).
    Event(Event),
}

#[derive(Debug)]
enum Phase {
    Handshake(Box<Handshake>),
    Ready,
}

/// One ZMTP connection, without I/O. See the [module documentation](self).
#[derive(Debug)]
pub struct Session {
    phase: Phase,
    socket_type: SocketType,
    /// The peer's version, once known (its subscriptions' form).
    version: Option<Version>,
    decoder: FrameDecoder,
    assembly: Assembly,
    heartbeat: Heartbeat,
    handshake_deadline: Option<Instant>,
    /// Greeting and handshake commands (and an ERROR) not yet handed out.
    transmit: BytesMut,
    pending_pong: Option<Bytes>,
    pending_ping: bool,
    timers_changed: bool,
    detach_small: bool,
    /// PUB and XPUB read single-frame `0x00`/`0x01` messages as subscriptions.
    publisher: bool,
    /// Largest command accepted after the handshake.
    command_max: u64,
    /// MAXMSGSIZE, to size the decoder for MESSAGE frames.
    max_size: Option<u64>,
    /// CURVE's MESSAGE encryption, after a CURVE handshake.
    cipher: Option<Box<MessageCipher>>,
    /// Plain frames handed to [`Session::seal`] and not complete yet.
    sealing: PlainFrames,
}

impl Session {
    /// A session about to start: its greeting waits in [`Session::poll_transmit`].
    pub fn new(config: SessionConfig, now: Instant) -> Session {
        let mut hs = HandshakeConfig::new(config.socket_type);
        hs.routing_id = config.routing_id.clone();
        hs.security = config.security;
        hs.authenticate = config.authenticate;
        hs.random = config.random;
        hs.max_command_size = MAX_COMMAND;
        let hs = Handshake::new(hs);
        let mut transmit = BytesMut::with_capacity(GREETING_LEN + 64);
        transmit.extend_from_slice(&hs.greeting());
        // Commands are bounded even without MAXMSGSIZE: a subscription or a PING
        // has no business being larger than MAX_COMMAND (or the message limit).
        let command_max = config
            .limits
            .max_size
            .map_or(MAX_COMMAND, |m| m.max(MAX_COMMAND));
        Session {
            phase: Phase::Handshake(Box::new(hs)),
            socket_type: config.socket_type,
            version: None,
            decoder: FrameDecoder::with_limits(config.limits.max_size, Some(command_max)),
            assembly: Assembly::new(config.limits),
            heartbeat: Heartbeat::new(config.heartbeat, now),
            handshake_deadline: config.handshake_timeout.map(|d| now + d),
            transmit,
            pending_pong: None,
            pending_ping: false,
            timers_changed: false,
            detach_small: false,
            publisher: matches!(config.socket_type, SocketType::Pub | SocketType::Xpub),
            command_max,
            max_size: config.limits.max_size,
            cipher: None,
            sealing: PlainFrames::default(),
        }
    }

    /// True once the handshake is done.
    pub fn is_ready(&self) -> bool {
        matches!(self.phase, Phase::Ready)
    }

    /// The version the peer announced, once its greeting's first bytes arrived.
    pub fn peer_version(&self) -> Option<Version> {
        self.version
    }

    /// Appends everything waiting to be sent (handshake bytes, then a PONG and a
    /// PING if one is due). Returns whether anything was appended.
    pub fn poll_transmit(&mut self, out: &mut BytesMut) -> bool {
        let before = out.len();
        if !self.transmit.is_empty() {
            out.extend_from_slice(&self.transmit);
            self.transmit.clear();
        }
        if let Some(context) = self.pending_pong.take() {
            self.encode_command(&Command::Pong(context), out);
        }
        if std::mem::take(&mut self.pending_ping) {
            let ping = Command::Ping {
                ttl_deciseconds: self.heartbeat.ttl_deciseconds(),
                context: Bytes::new(),
            };
            self.encode_command(&ping, out);
        }
        out.len() > before
    }

    /// Appends a command after the handshake: sealed in a MESSAGE when
    /// encrypting.
    fn encode_command(&mut self, command: &Command, out: &mut BytesMut) {
        match self.cipher.as_deref_mut() {
            Some(cipher) => {
                let mut body = BytesMut::with_capacity(command.body_len());
                command.encode_body(&mut body);
                cipher.seal(false, true, &body, out);
            }
            None => command.encode(out),
        }
    }

    /// True when [`Session::poll_transmit`] has something to append.
    pub fn wants_transmit(&self) -> bool {
        !self.transmit.is_empty() || self.pending_pong.is_some() || self.pending_ping
    }

    /// Records that bytes arrived at `now` (any traffic counts as liveness). Call
    /// it once per read, not per message.
    pub fn received(&mut self, now: Instant) {
        self.heartbeat.received(now);
    }

    /// While set, frame bodies of up to [`DETACH_MAX`] bytes are copied out of the
    /// input buffer instead of sliced from it, so the buffer can be reused while
    /// they wait somewhere. A driver sets it for reads that came back nearly
    /// empty while its application is behind: a small message sliced from a large
    /// buffer would keep the whole buffer alive.
    pub fn detach_small_frames(&mut self, on: bool) {
        self.detach_small = on;
    }

    /// Consumes input from the front of `buf` and returns the next event, or
    /// `None` when more input is needed (what was not consumed stays in `buf`).
    /// An error ends the session: close the connection with that reason, after
    /// sending what [`Session::poll_transmit`] still holds (an ERROR for the peer).
    pub fn poll_input(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, CloseReason> {
        match self.drive(buf, Some)? {
            Step::NeedInput => Ok(None),
            Step::Event(event) => Ok(Some(event)),
        }
    }

    /// The receive path of a driver: like [`Session::poll_input`], but every whole
    /// message is first offered to `take` (which queues it and returns `None`, or
    /// gives it back); the call goes on with the next message until the input
    /// runs out ([`Step::NeedInput`]), a message is given back, or another event
    /// comes ([`Step::Event`]). Generic and inlined, so a message goes from the
    /// input buffer to the caller's queue without intermediate moves.
    #[inline(always)]
    pub fn drive<F>(&mut self, buf: &mut BytesMut, mut take: F) -> Result<Step, CloseReason>
    where
        F: FnMut(Message) -> Option<Message>,
    {
        if !self.is_ready() {
            return Ok(match self.poll_handshake(buf)? {
                Some(event) => Step::Event(event),
                None => Step::NeedInput,
            });
        }
        if self.cipher.is_some() {
            return self.drive_sealed(buf, take);
        }
        loop {
            let Some(mut frame) = self.decoder.decode(buf)? else {
                return Ok(Step::NeedInput);
            };
            // The plain path keeps its steps inline here (not through
            // `on_frame`): returning a `Step` (a whole `Message`) out of a helper
            // for every frame cost about 55 instructions per message.
            if frame.command {
                match self.on_command(frame.body)? {
                    Some(event) => return Ok(Step::Event(event)),
                    None => continue,
                }
            }
            if self.detach_small && frame.body.len() <= DETACH_MAX {
                frame.body = Bytes::copy_from_slice(&frame.body);
            }
            let Some(msg) = self.assembly.push(frame.body, frame.more)? else {
                continue;
            };
            if self.publisher
                && let Some((subscribe, topic)) = subscription::parse(&msg)
            {
                return Ok(Step::Event(if subscribe {
                    Event::Subscribe(topic)
                } else {
                    Event::Cancel(topic)
                }));
            }
            if let Some(msg) = take(msg) {
                return Ok(Step::Event(Event::Message(msg)));
            }
        }
    }

    /// One opened frame after a CURVE handshake: a command, or a part of a
    /// message. `Some` when [`Session::drive`] must stop with that step.
    #[inline(always)]
    fn on_frame<F>(&mut self, frame: Frame, take: &mut F) -> Result<Option<Step>, CloseReason>
    where
        F: FnMut(Message) -> Option<Message>,
    {
        if frame.command {
            return Ok(self.on_command(frame.body)?.map(Step::Event));
        }
        let Some(msg) = self.assembly.push(frame.body, frame.more)? else {
            return Ok(None);
        };
        if self.publisher
            && let Some((subscribe, topic)) = subscription::parse(&msg)
        {
            return Ok(Some(Step::Event(if subscribe {
                Event::Subscribe(topic)
            } else {
                Event::Cancel(topic)
            })));
        }
        Ok(take(msg).map(|msg| Step::Event(Event::Message(msg))))
    }

    #[cold]
    #[inline(never)]
    fn poll_handshake(&mut self, buf: &mut BytesMut) -> Result<Option<Event>, CloseReason> {
        let Phase::Handshake(hs) = &mut self.phase else {
            return Ok(None);
        };
        let result = hs.advance(buf, &mut self.transmit);
        if self.version.is_none() {
            self.version = hs.peer_version();
        }
        match result {
            Ok(None) => Ok(hs.take_auth_request().map(Event::Authenticate)),
            Ok(Some(peer)) => {
                if let Some(cipher) = hs.take_cipher() {
                    self.start_encrypting(cipher);
                }
                self.version = Some(peer.version);
                self.phase = Phase::Ready;
                self.handshake_deadline = None;
                self.timers_changed = true;
                Ok(Some(Event::Ready(peer)))
            }
            Err(e) => {
                if matches!(
                    e,
                    ZmtpError::IncompatibleSocketType { .. }
                        | ZmtpError::UnknownSocketType(_)
                        | ZmtpError::InvalidIdentity(_)
                ) {
                    // Tell the peer why, as libzmq does.
                    Command::Error(e.to_string()).encode(&mut self.transmit);
                }
                Err(CloseReason::Protocol(e))
            }
        }
    }

    /// Starts the heartbeat timers; call when [`Event::Ready`] arrived, with the
    /// current time.
    pub fn start(&mut self, now: Instant) {
        self.heartbeat.start(now);
        self.timers_changed = true;
    }

    #[inline(never)]
    fn on_command(&mut self, body: Bytes) -> Result<Option<Event>, CloseReason> {
        match Command::parse(body)? {
            Command::Ping {
                ttl_deciseconds,
                context,
            } => {
                // One PONG at most waits: a newer PING replaces it.
                self.pending_pong = Some(context);
                if self.heartbeat.peer_ttl(ttl_deciseconds) {
                    self.timers_changed = true;
                }
                Ok(None)
            }
            Command::Pong(_) | Command::Unknown { .. } => Ok(None),
            Command::Error(reason) => Err(ZmtpError::PeerError(reason).into()),
            Command::Ready(_) => Err(ZmtpError::ReadyAfterHandshake.into()),
            Command::Subscribe(topic) => Ok(self.publisher.then_some(Event::Subscribe(topic))),
            Command::Cancel(topic) => Ok(self.publisher.then_some(Event::Cancel(topic))),
        }
    }

    /// When [`Session::handle_timeout`] must run next (`None`: nothing scheduled).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Handshake(_) => self.handshake_deadline,
            Phase::Ready => self.heartbeat.deadline(),
        }
    }

    /// True (once) when the deadlines moved since the last call, so a driver that
    /// sleeps until [`Session::poll_timeout`] must look again.
    pub fn take_timers_changed(&mut self) -> bool {
        std::mem::take(&mut self.timers_changed)
    }

    /// Runs the timers up to `now`: a PING may become due (see
    /// [`Session::poll_transmit`]), or the session ends (handshake timeout,
    /// heartbeat timeout, the peer's TTL).
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), CloseReason> {
        match self.phase {
            Phase::Handshake(_) => match self.handshake_deadline {
                Some(d) if now >= d => Err(CloseReason::HandshakeTimeout),
                _ => Ok(()),
            },
            Phase::Ready => {
                if self.heartbeat.on_timeout(now)? {
                    self.pending_ping = true;
                }
                Ok(())
            }
        }
    }

    /// Why the session ends when the peer closed the connection, given how many
    /// received bytes are still unconsumed.
    pub fn closed_by_peer(&self, unconsumed: usize) -> CloseReason {
        match &self.phase {
            Phase::Handshake(hs) if hs.greeting_received() => {
                CloseReason::PeerClosedDuringHandshake
            }
            Phase::Handshake(_) => CloseReason::PeerClosedDuringGreeting {
                received: unconsumed,
            },
            Phase::Ready => {
                if self.assembly.in_progress() || !self.decoder.is_idle() || unconsumed > 0 {
                    CloseReason::PeerClosedMidMessage
                } else {
                    CloseReason::PeerClosed
                }
            }
        }
    }

    /// How many more bytes the session needs before it can make progress (to size
    /// the next read).
    pub fn bytes_wanted(&self, buffered: usize) -> usize {
        match self.phase {
            Phase::Handshake(_) => GREETING_LEN.saturating_sub(buffered).max(1),
            Phase::Ready => self.decoder.bytes_wanted(buffered),
        }
    }

    /// True while a frame's header has been read and its body is still arriving.
    pub fn frame_in_progress(&self) -> bool {
        matches!(self.phase, Phase::Ready) && !self.decoder.is_idle()
    }

    /// The socket type this session speaks for.
    pub fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    /// Appends a whole message as data frames (MORE on all but the last), sealed
    /// in MESSAGEs when encrypting. The sockets' send path encodes into its own
    /// buffers with [`frame`]'s encoders (and has them sealed with
    /// [`Session::seal`]); this is the same encoding for tests and simple
    /// drivers.
    pub fn encode_message(&mut self, msg: &Message, out: &mut BytesMut) {
        match self.cipher.as_deref_mut() {
            Some(cipher) => {
                let last = msg.len().saturating_sub(1);
                for (i, f) in msg.iter().enumerate() {
                    cipher.seal(i != last, false, f, out);
                }
            }
            None => frame::encode_message(out, msg.frames()),
        }
    }

    /// Appends a subscription change in the form this peer's version expects,
    /// sealed when encrypting.
    pub fn encode_subscription(&mut self, subscribe: bool, topic: &Bytes, out: &mut BytesMut) {
        let version = self.version.unwrap_or(Version::V3_1);
        if self.cipher.is_none() {
            subscription::encode(version, subscribe, topic, out);
            return;
        }
        if version.uses_subscribe_commands() {
            let command = if subscribe {
                Command::Subscribe(topic.clone())
            } else {
                Command::Cancel(topic.clone())
            };
            self.encode_command(&command, out);
        } else if let Some(cipher) = self.cipher.as_deref_mut() {
            cipher.seal(
                false,
                false,
                &subscription::data_body(subscribe, topic),
                out,
            );
        }
    }
}

#[cfg(test)]
mod tests;
