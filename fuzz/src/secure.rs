//! Common ground of the `plain_server` and `curve_server` targets and of the seed
//! generator (`examples/gen_secure_seeds.rs`): the input's three header bytes, the
//! server's configuration (libzmq's CURVE test keys, seeded randomness) and a driver
//! that runs a server [`Session`] over the client's bytes the way zeroring's
//! connection driver does, checking as it goes.
//!
//! Input layout (both targets):
//!
//! | byte | meaning |
//! |---|---|
//! | 0 | chunking seed (see [`chunks`]) |
//! | 1 | bits 0-1: the answer to the authentication request (200, 400, 300, 500); bit 2: authentication off; bits 4-6: messages the application takes before one is given back (1-8) |
//! | 2 | bits 0-3: our socket type (`SocketType::ALL[n % 11]`); bit 4: heartbeats (1 s interval, 2 s TTL); bit 5: at most 2 frames per message; bit 7: MAXMSGSIZE 256 |
//! | 3.. | what the client sends |
//!
//! The server's randomness is a SplitMix64 stream from a fixed seed, fresh for every
//! run, so a recorded client transcript (greeting, HELLO, INITIATE with the cookie
//! of the WELCOME that this server makes, sealed MESSAGEs) replays past the CURVE
//! handshake.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use zeroring_zmtp::session::{HeartbeatConfig, MessageLimits};
use zeroring_zmtp::{
    AuthRequest, AuthResult, CloseReason, Command, Credentials, CurveKeyPair, CurvePublicKey,
    CurveSecretKey, Event, FrameDecoder, Mechanism, Message, PeerInfo, Random, Security, Session,
    SessionConfig, SocketType, Step, ZapStatus, ZmtpError,
};

use crate::alloc::measure;
use crate::chunks;

/// Bytes of the input before the client's stream.
pub const HEADER_LEN: usize = 3;

/// libzmq's CURVE test keys (tests/testutil_security.cpp): the server's pair.
pub const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
/// The server's secret key (a published test key; never use it for anything real).
pub const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
/// libzmq's CURVE test client secret key (a published test key).
pub const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

/// Seed of the server's randomness (short-term keys, cookie key, nonces).
pub const SERVER_SEED: u64 = 6;
/// Seed of the seed generator's client.
pub const CLIENT_SEED: u64 = 5;

/// The user id a granted request gets.
pub const USER_ID: &[u8] = b"fuzz";

/// Most bytes the server may send before its handshake ends: greeting (64),
/// WELCOME (170), READY with our metadata (under 100), an ERROR (at most 263).
pub const HANDSHAKE_SENT_MAX: usize = 1024;

/// Heap bytes a run may have live at once besides those proportional to the input.
pub const MEMORY_BASE: usize = 256 * 1024;
/// Heap bytes a run may have live at once per byte of input.
pub const MEMORY_PER_BYTE: usize = 16;

/// Which mechanism the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// PLAIN (RFC 24).
    Plain,
    /// CURVE (RFC 26).
    Curve,
}

/// The answers byte 1 picks from.
const ANSWERS: [ZapStatus; 4] = [
    ZapStatus::Success,
    ZapStatus::Failure,
    ZapStatus::TemporaryError,
    ZapStatus::InternalError,
];

/// The server's settings, from the input's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Seed for [`chunks`].
    pub chunk_seed: u8,
    /// The answer to the authentication request; `None`: authentication off (the
    /// server lets every client in and never asks).
    pub answer: Option<ZapStatus>,
    /// How many messages the application takes before it gives one back (the
    /// driver's inbox at RCVHWM), 1-8.
    pub queue: usize,
    /// Our socket type.
    pub socket_type: SocketType,
    /// Heartbeats on (1 s interval, 2 s TTL).
    pub heartbeat: bool,
    /// At most 2 frames per message (otherwise the default cap).
    pub two_frames: bool,
    /// MAXMSGSIZE 256 (otherwise none).
    pub small_messages: bool,
}

impl Options {
    /// Splits `data` into the header's options and the client's stream.
    pub fn parse(data: &[u8]) -> Option<(Options, &[u8])> {
        let (header, stream) = data.split_first_chunk::<HEADER_LEN>()?;
        let [chunk_seed, auth, session] = *header;
        let options = Options {
            chunk_seed,
            answer: (auth & 0x04 == 0).then_some(ANSWERS[usize::from(auth & 0x03)]),
            queue: usize::from(auth >> 4 & 0x07) + 1,
            socket_type: SocketType::ALL[usize::from(session & 0x0F) % SocketType::ALL.len()],
            heartbeat: session & 0x10 != 0,
            two_frames: session & 0x20 != 0,
            small_messages: session & 0x80 != 0,
        };
        Some((options, stream))
    }

    /// The header bytes that [`Options::parse`] reads back as these options.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let auth = match self.answer {
            None => 0x04,
            Some(answer) => ANSWERS.iter().position(|a| *a == answer).unwrap_or(0) as u8,
        } | ((self.queue.clamp(1, 8) - 1) as u8) << 4;
        let ty = SocketType::ALL
            .iter()
            .position(|t| *t == self.socket_type)
            .unwrap_or(0) as u8;
        let session = ty
            | u8::from(self.heartbeat) << 4
            | u8::from(self.two_frames) << 5
            | u8::from(self.small_messages) << 7;
        [self.chunk_seed, auth, session]
    }

    /// The message limits these options set.
    pub fn limits(&self) -> MessageLimits {
        MessageLimits {
            max_size: self.small_messages.then_some(256),
            max_frames: if self.two_frames {
                Some(2)
            } else {
                MessageLimits::default().max_frames
            },
        }
    }
}

/// A deterministic (and insecure) source of "random" bytes: SplitMix64 from `seed`,
/// one output per byte. Each call starts a new stream.
pub fn seeded(seed: u64) -> Random {
    let state = AtomicU64::new(seed);
    Random::from_fn(move |buf| {
        for b in buf.iter_mut() {
            let mut z = state
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                .wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *b = (z ^ (z >> 31)) as u8;
        }
        Ok(())
    })
}

fn key_pair(secret: &str) -> CurveKeyPair {
    let secret: CurveSecretKey = secret.parse().expect("a valid test key");
    CurveKeyPair::from_secret(secret)
}

/// The server's long-term key pair (derived once).
pub fn server_keys() -> &'static CurveKeyPair {
    static KEYS: OnceLock<CurveKeyPair> = OnceLock::new();
    KEYS.get_or_init(|| key_pair(SERVER_SECRET))
}

/// The seed generator's client key pair.
pub fn client_keys() -> CurveKeyPair {
    key_pair(CLIENT_SECRET)
}

/// The server's public key, as a client is configured with it.
pub fn server_public() -> CurvePublicKey {
    SERVER_PUBLIC.parse().expect("a valid test key")
}

/// The server session's configuration for `kind` and `options`.
pub fn server_config(kind: Kind, options: &Options) -> SessionConfig {
    let mut cfg = SessionConfig::new(options.socket_type);
    cfg.security = match kind {
        Kind::Plain => Security::PlainServer,
        Kind::Curve => Security::CurveServer {
            keys: server_keys().clone(),
        },
    };
    cfg.authenticate = options.answer.is_some();
    cfg.random = seeded(SERVER_SEED);
    if options.heartbeat {
        cfg.heartbeat = HeartbeatConfig {
            ivl: Some(Duration::from_secs(1)),
            ttl: Some(Duration::from_secs(2)),
            timeout: None,
        };
    }
    cfg.limits = options.limits();
    cfg
}

/// What the server saw, kept small (messages as a digest, large variants boxed) so
/// that the record counts little toward the memory bound and pins none of the
/// session's buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// The authentication request.
    Authenticate(Box<AuthRequest>),
    /// The handshake's result.
    Ready(Box<PeerInfo>),
    /// A whole message: its frame count, byte count and a hash of its frames.
    Message {
        /// Number of frames.
        frames: usize,
        /// Bytes of all bodies.
        bytes: usize,
        /// Hash of the frames' contents and boundaries.
        digest: u64,
    },
    /// A subscription.
    Subscribe(Vec<u8>),
    /// A cancelled subscription.
    Cancel(Vec<u8>),
}

impl Seen {
    fn message(m: &Message) -> Seen {
        let mut h = DefaultHasher::new();
        for f in m.iter() {
            f.hash(&mut h);
        }
        Seen::Message {
            frames: m.len(),
            bytes: m.byte_len(),
            digest: h.finish(),
        }
    }
}

/// How one run went.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// Events in stream order.
    pub events: Vec<Seen>,
    /// Why the session ended while reading the input, if it did.
    pub error: Option<CloseReason>,
    /// Why a timer ended the session after the input (handshake deadline,
    /// heartbeat timeout, the client's TTL), if one did.
    pub timer_error: Option<CloseReason>,
    /// Everything sent until the handshake ended or failed (greeting, handshake
    /// commands, an ERROR).
    pub handshake_sent: Vec<u8>,
    /// True once the handshake finished.
    pub ready: bool,
}

impl Outcome {
    /// Number of messages received.
    pub fn messages(&self) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(e, Seen::Message { .. }))
            .count()
    }
}

/// One fuzz input for a `kind` server: runs it whole and in the chunks byte 0
/// picks, each under the memory bound, and checks both runs agree. Inputs shorter
/// than the header are ignored.
pub fn check(kind: Kind, data: &[u8]) {
    let Some((options, stream)) = Options::parse(data) else {
        return;
    };
    let limit = MEMORY_BASE + MEMORY_PER_BYTE * stream.len();
    let (whole, peak) = measure(|| run_server(kind, &options, stream, 0));
    assert!(peak <= limit, "{peak} bytes live at once (limit {limit})");
    let (split, peak) = measure(|| run_server(kind, &options, stream, options.chunk_seed));
    assert!(
        peak <= limit,
        "{peak} bytes live at once, chunked (limit {limit})"
    );
    assert_eq!(whole.events, split.events, "events depend on the chunking");
    assert_eq!(
        whole.error, split.error,
        "the outcome depends on the chunking"
    );
    assert_eq!(
        whole.timer_error, split.timer_error,
        "the timers depend on the chunking"
    );
    assert_eq!(
        whole.handshake_sent, split.handshake_sent,
        "the handshake depends on the chunking"
    );
}

/// A server session and the driver's state around it.
struct Driver<'a> {
    kind: Kind,
    options: &'a Options,
    session: Session,
    now: Instant,
    /// The application's inbox: messages taken and not yet handed on.
    inbox: Vec<Message>,
    /// Messages echoed back (sealed when encrypting) so far.
    echoed: usize,
    out: Outcome,
}

/// Runs a server session for `kind` over `stream`, delivered in the chunks
/// `chunk_seed` picks, then lets time pass. Panics if the session breaks a rule:
/// see the target files for the list.
pub fn run_server(kind: Kind, options: &Options, stream: &[u8], chunk_seed: u8) -> Outcome {
    let now = Instant::now();
    let mut d = Driver {
        kind,
        options,
        session: Session::new(server_config(kind, options), now),
        now,
        inbox: Vec::new(),
        echoed: 0,
        out: Outcome::default(),
    };
    d.transmit();
    check_greeting(kind, &d.out.handshake_sent);
    // Received bytes not consumed yet, kept between reads.
    let mut input = BytesMut::new();
    for chunk in chunks(stream, chunk_seed) {
        input.extend_from_slice(chunk);
        d.session.received(d.now);
        let result = d.pump(&mut input);
        d.deliver();
        d.transmit();
        if let Err(e) = result {
            d.out.error = Some(e);
            return d.out;
        }
    }
    // The client goes quiet: handshake deadline, PINGs, heartbeat timeouts.
    let _ = d.session.closed_by_peer(input.len());
    for _ in 0..4 {
        d.now += Duration::from_secs(10);
        if let Err(e) = d.session.handle_timeout(d.now) {
            d.out.timer_error = Some(e);
            break;
        }
        d.transmit();
    }
    d.out
}

impl Driver<'_> {
    /// Consumes what `input` holds, as a connection driver does after a read.
    fn pump(&mut self, input: &mut BytesMut) -> Result<(), CloseReason> {
        loop {
            if !self.session.is_ready() {
                match self.session.poll_input(input)? {
                    None => return Ok(()),
                    Some(Event::Authenticate(request)) => self.authenticate(request)?,
                    Some(Event::Ready(peer)) => self.ready(peer),
                    Some(other) => panic!("{other:?} before the handshake ended"),
                }
                continue;
            }
            let (inbox, queue) = (&mut self.inbox, self.options.queue);
            let step = self.session.drive(input, |m| {
                if inbox.len() < queue {
                    inbox.push(m);
                    None
                } else {
                    Some(m)
                }
            })?;
            match step {
                Step::NeedInput => return Ok(()),
                Step::Event(Event::Message(m)) => {
                    // The inbox was full: the application catches up, then takes it.
                    assert_eq!(self.inbox.len(), queue, "a message given back too early");
                    self.deliver();
                    self.inbox.push(m);
                }
                Step::Event(Event::Subscribe(topic)) => {
                    self.check_publisher();
                    self.deliver();
                    self.out.events.push(Seen::Subscribe(topic.to_vec()));
                }
                Step::Event(Event::Cancel(topic)) => {
                    self.check_publisher();
                    self.deliver();
                    self.out.events.push(Seen::Cancel(topic.to_vec()));
                }
                Step::Event(e @ (Event::Ready(_) | Event::Authenticate(_))) => {
                    panic!("{e:?} after the handshake ended")
                }
            }
        }
    }

    /// Answers the authentication request with the input's answer.
    fn authenticate(&mut self, request: AuthRequest) -> Result<(), CloseReason> {
        let Some(answer) = self.options.answer else {
            panic!("asked to authenticate with authentication off: {request:?}");
        };
        assert!(self.session.awaiting_authentication());
        assert!(
            !self
                .out
                .events
                .iter()
                .any(|e| matches!(e, Seen::Authenticate(_))),
            "asked to authenticate twice"
        );
        match (self.kind, &request.credentials) {
            (Kind::Plain, Credentials::Plain { username, password }) => {
                assert_eq!(request.mechanism, Mechanism::Plain);
                assert!(username.len() <= 255 && password.len() <= 255);
            }
            (Kind::Curve, Credentials::Curve { .. }) => {
                assert_eq!(request.mechanism, Mechanism::Curve);
            }
            (kind, other) => panic!("{kind:?} server asked about {other:?}"),
        }
        if let Some(id) = &request.peer_routing_id {
            assert!(!id.is_empty() && id.len() <= 255);
        }
        self.out.events.push(Seen::Authenticate(Box::new(request)));
        // What the handshake produced before the pause goes out first.
        self.transmit();
        let result = if answer == ZapStatus::Success {
            AuthResult::allow(Bytes::from_static(USER_ID))
        } else {
            AuthResult::deny(answer)
        };
        match self.session.authenticated(result) {
            Ok(()) => {
                assert_eq!(answer, ZapStatus::Success, "a refused client went on");
                assert!(!self.session.awaiting_authentication());
                self.transmit();
                Ok(())
            }
            Err(e) => {
                if answer != ZapStatus::Success {
                    assert_eq!(
                        e,
                        CloseReason::Protocol(ZmtpError::AuthenticationFailed(answer))
                    );
                    let before = self.out.handshake_sent.len();
                    self.transmit();
                    check_refusal(answer, &self.out.handshake_sent[before..]);
                }
                Err(e)
            }
        }
    }

    /// The handshake ended.
    fn ready(&mut self, peer: PeerInfo) {
        assert!(self.session.is_ready());
        match self.options.answer {
            None => {}
            Some(ZapStatus::Success) => {
                assert!(
                    self.out
                        .events
                        .iter()
                        .any(|e| matches!(e, Seen::Authenticate(_))),
                    "ready without asking"
                );
                assert_eq!(peer.user_id.as_deref(), Some(USER_ID));
            }
            Some(answer) => panic!("ready although the answer was {answer}"),
        }
        assert!(self.options.socket_type.is_compatible(peer.socket_type));
        if let Some(id) = &peer.routing_id {
            assert!(!id.is_empty() && id.len() <= 255 && id[0] != 0);
        }
        assert_eq!(self.session.is_encrypting(), self.kind == Kind::Curve);
        self.session.start(self.now);
        // The handshake's last bytes (our READY) belong to the handshake.
        self.transmit();
        self.out.ready = true;
        self.out.events.push(Seen::Ready(Box::new(peer)));
        if matches!(self.options.socket_type, SocketType::Sub | SocketType::Xsub) {
            let mut sink = BytesMut::new();
            self.session
                .encode_subscription(true, &Bytes::from_static(b"fuzz"), &mut sink);
            assert!(!sink.is_empty());
        }
    }

    fn check_publisher(&self) {
        assert!(
            matches!(self.options.socket_type, SocketType::Pub | SocketType::Xpub),
            "a subscription on a {:?}",
            self.options.socket_type
        );
    }

    /// The application takes what the inbox holds; the first few messages are
    /// echoed back (sealed on CURVE).
    fn deliver(&mut self) {
        for m in std::mem::take(&mut self.inbox) {
            assert!(self.out.ready, "a message before the handshake ended");
            check_limits(self.options.limits(), &m);
            self.out.events.push(Seen::message(&m));
            if self.echoed < 4 {
                self.echoed += 1;
                let mut sink = BytesMut::new();
                self.session.encode_message(&m, &mut sink);
                assert!(sink.len() >= m.byte_len() + 2 * m.len());
            }
        }
    }

    /// Takes what the session has to send and checks it is bounded: the whole
    /// handshake in [`HANDSHAKE_SENT_MAX`], then at most a PONG and a PING per call.
    fn transmit(&mut self) {
        let mut sent = BytesMut::new();
        self.session.poll_transmit(&mut sent);
        assert!(!self.session.wants_transmit(), "poll_transmit left bytes");
        if !self.out.ready {
            self.out.handshake_sent.extend_from_slice(&sent);
            assert!(
                self.out.handshake_sent.len() <= HANDSHAKE_SENT_MAX,
                "{} bytes sent during the handshake",
                self.out.handshake_sent.len()
            );
            return;
        }
        let mut dec = FrameDecoder::new(None);
        let (mut frames, mut pongs, mut pings) = (0, 0, 0);
        while let Some(f) = dec.decode(&mut sent).expect("we send valid frames") {
            frames += 1;
            if self.kind == Kind::Curve {
                // Sealed: a MESSAGE around one short command.
                assert!(f.body.len() <= 128, "a {}-byte control frame", f.body.len());
                continue;
            }
            match Command::parse(f.body).expect("we send valid commands") {
                Command::Pong(_) => pongs += 1,
                Command::Ping { .. } => pings += 1,
                other => panic!("sent {other:?} unasked"),
            }
        }
        assert!(sent.is_empty(), "a partial frame sent");
        assert!(
            frames <= 2 && pongs <= 1 && pings <= 1,
            "{frames} control frames at once ({pongs} PONGs, {pings} PINGs)"
        );
    }
}

/// Our greeting: 64 bytes, version 3.1, our mechanism, as-server set.
fn check_greeting(kind: Kind, sent: &[u8]) {
    assert_eq!(sent.len(), 64, "the greeting comes first and alone");
    let name: &[u8] = match kind {
        Kind::Plain => b"PLAIN",
        Kind::Curve => b"CURVE",
    };
    assert_eq!(&sent[12..12 + name.len()], name);
    assert_eq!(sent[32], 1, "as-server");
}

/// After a refusal the client is told the status in an ERROR, except for 300.
fn check_refusal(answer: ZapStatus, sent: &[u8]) {
    let mut buf = BytesMut::from(sent);
    let frame = FrameDecoder::new(None)
        .decode(&mut buf)
        .expect("a valid frame");
    match (answer, frame) {
        (ZapStatus::TemporaryError, None) => {}
        (ZapStatus::TemporaryError, Some(f)) => panic!("sent {f:?} after a 300"),
        (_, None) => panic!("no ERROR after {answer}"),
        (_, Some(f)) => {
            let cmd = Command::parse(f.body).expect("a valid command");
            assert_eq!(cmd, Command::Error(answer.code().to_string()));
            assert!(buf.is_empty(), "more than the ERROR after a refusal");
        }
    }
}

fn check_limits(limits: MessageLimits, m: &Message) {
    if let Some(max) = limits.max_frames {
        assert!(m.len() <= max, "{} frames over the limit of {max}", m.len());
    }
    if let Some(max) = limits.max_size {
        let size = m.byte_len() as u64 + 32 * (m.len() as u64 - 1);
        assert!(size <= max, "message of {size} over MAXMSGSIZE {max}");
    }
}
