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

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};

use crate::command::Command;
use crate::error::ZmtpError;
use crate::frame::{self, FrameDecoder};
use crate::greeting::{GREETING_LEN, Mechanism, Version};
use crate::handshake::{Handshake, HandshakeConfig, PeerInfo};
use crate::message::Message;
use crate::socket_type::SocketType;
use crate::subscription;

pub use assembly::{DEFAULT_MAX_FRAMES, FRAME_COST, MessageLimits};
pub use heartbeat::HeartbeatConfig;
pub use reason::CloseReason;

use assembly::Assembly;
use heartbeat::Heartbeat;

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
    /// Our security mechanism (only NULL is implemented).
    pub mechanism: Mechanism,
    /// HANDSHAKE_IVL: the handshake must finish within this (`None`: no limit).
    pub handshake_timeout: Option<Duration>,
    /// Heartbeats (all off by default).
    pub heartbeat: HeartbeatConfig,
    /// Limits on inbound messages.
    pub limits: MessageLimits,
}

impl SessionConfig {
    /// NULL mechanism, no routing id, HANDSHAKE_IVL 30 s, no heartbeats, default
    /// message limits.
    pub fn new(socket_type: SocketType) -> SessionConfig {
        SessionConfig {
            socket_type,
            routing_id: None,
            mechanism: Mechanism::Null,
            handshake_timeout: Some(Duration::from_secs(30)),
            heartbeat: HeartbeatConfig::default(),
            limits: MessageLimits::default(),
        }
    }
}

/// What the peer's bytes amounted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
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
}

impl Session {
    /// A session about to start: its greeting waits in [`Session::poll_transmit`].
    pub fn new(config: SessionConfig, now: Instant) -> Session {
        let mut hs = HandshakeConfig::new(config.socket_type);
        hs.routing_id = config.routing_id.clone();
        hs.mechanism = config.mechanism;
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
            Command::Pong(context).encode(out);
        }
        if std::mem::take(&mut self.pending_ping) {
            Command::Ping {
                ttl_deciseconds: self.heartbeat.ttl_deciseconds(),
                context: Bytes::new(),
            }
            .encode(out);
        }
        out.len() > before
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
        loop {
            let Some(mut frame) = self.decoder.decode(buf)? else {
                return Ok(Step::NeedInput);
            };
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
            Ok(None) => Ok(None),
            Ok(Some(peer)) => {
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

    /// The socket type this session speaks for.
    pub fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    /// Appends a whole message as data frames (MORE on all but the last). The
    /// sockets' send path encodes into its own buffers with [`frame`]'s encoders;
    /// this is the same encoding for tests and simple drivers.
    pub fn encode_message(&self, msg: &Message, out: &mut BytesMut) {
        frame::encode_message(out, msg.frames());
    }

    /// Appends a subscription change in the form this peer's version expects.
    pub fn encode_subscription(&self, subscribe: bool, topic: &Bytes, out: &mut BytesMut) {
        let version = self.version.unwrap_or(Version::V3_1);
        subscription::encode(version, subscribe, topic, out);
    }
}

#[cfg(test)]
mod tests;
