//! Two sessions wired together in memory: each side's bytes reach the other in
//! chunks whose sizes the test chooses, authentication requests are answered by
//! a policy closure, and randomness is seeded so transcripts are reproducible.

use std::sync::Mutex;
use std::time::Instant;

use bytes::BytesMut;
use zeroring_zmtp::{
    AuthRequest, AuthResult, CloseReason, CurveKeyPair, CurvePublicKey, CurveSecretKey, Event,
    Message, Random, Security, Session, SessionConfig, SocketType,
};

/// libzmq's CURVE test keys (tests/testutil_security.cpp).
pub const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
pub const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
pub const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
pub const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

pub fn server_keys() -> CurveKeyPair {
    CurveKeyPair::from_secret(SERVER_SECRET.parse::<CurveSecretKey>().unwrap())
}

pub fn client_keys() -> CurveKeyPair {
    let keys = CurveKeyPair::from_secret(CLIENT_SECRET.parse::<CurveSecretKey>().unwrap());
    assert_eq!(keys.public().to_z85(), CLIENT_PUBLIC);
    keys
}

pub fn server_public() -> CurvePublicKey {
    SERVER_PUBLIC.parse().unwrap()
}

/// A deterministic (and insecure) source: SplitMix64 from `seed`.
pub fn seeded(seed: u64) -> Random {
    let state = Mutex::new(seed);
    Random::from_fn(move |buf| {
        let mut s = state.lock().unwrap();
        for b in buf.iter_mut() {
            *s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = *s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *b = (z ^ (z >> 31)) as u8;
        }
        Ok(())
    })
}

/// A session config with a seeded source.
pub fn config(ty: SocketType, security: Security, seed: u64) -> SessionConfig {
    let mut c = SessionConfig::new(ty);
    c.security = security;
    c.random = seeded(seed);
    c
}

pub type Policy = Box<dyn FnMut(&AuthRequest) -> AuthResult>;

/// One end of the connection.
pub struct Side {
    pub session: Session,
    /// Produced and not yet delivered.
    pub out: BytesMut,
    /// Received and not yet consumed.
    pub input: BytesMut,
    /// Everything this side ever sent.
    pub sent: Vec<u8>,
    pub events: Vec<Event>,
    pub error: Option<CloseReason>,
    /// Set when the peer failed and closed while this side was still running.
    pub closed: Option<CloseReason>,
    pub policy: Option<Policy>,
    now: Instant,
}

impl Side {
    pub fn new(config: SessionConfig, now: Instant) -> Side {
        Side {
            session: Session::new(config, now),
            out: BytesMut::new(),
            input: BytesMut::new(),
            sent: Vec::new(),
            events: Vec::new(),
            error: None,
            closed: None,
            policy: None,
            now,
        }
    }

    pub fn with_policy(mut self, policy: impl FnMut(&AuthRequest) -> AuthResult + 'static) -> Side {
        self.policy = Some(Box::new(policy));
        self
    }

    fn transmit(&mut self) -> bool {
        let mut tmp = BytesMut::new();
        if self.session.poll_transmit(&mut tmp) {
            self.sent.extend_from_slice(&tmp);
            self.out.extend_from_slice(&tmp);
            return true;
        }
        false
    }

    /// Runs the session over its input; true if anything happened.
    fn step(&mut self) -> bool {
        if self.error.is_some() || self.closed.is_some() {
            return false;
        }
        let mut progress = self.transmit();
        loop {
            match self.session.poll_input(&mut self.input) {
                Ok(None) => break,
                Ok(Some(Event::Authenticate(request))) => {
                    progress = true;
                    self.events.push(Event::Authenticate(request.clone()));
                    let policy = self.policy.as_mut().expect("no policy for authentication");
                    if let Err(e) = self.session.authenticated(policy(&request)) {
                        self.error = Some(e);
                        self.transmit();
                        return true;
                    }
                    self.transmit();
                }
                Ok(Some(event)) => {
                    progress = true;
                    if matches!(event, Event::Ready(_)) {
                        self.session.start(self.now);
                    }
                    self.events.push(event);
                }
                Err(e) => {
                    self.error = Some(e);
                    self.transmit();
                    return true;
                }
            }
        }
        self.transmit() || progress
    }

    pub fn is_ready(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Ready(_)))
    }

    pub fn messages(&self) -> Vec<Message> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Moves up to `n` bytes from one side's output to the other's input.
fn deliver(from: &mut Side, to: &mut Side, n: usize) -> bool {
    if from.out.is_empty() || to.error.is_some() || to.closed.is_some() {
        return false;
    }
    let n = n.clamp(1, from.out.len());
    to.input.extend_from_slice(&from.out.split_to(n));
    true
}

/// Two sides and the chunk sizes of each direction.
pub struct Pair {
    pub a: Side,
    pub b: Side,
}

impl Pair {
    pub fn new(a: SessionConfig, b: SessionConfig) -> Pair {
        let now = Instant::now();
        Pair {
            a: Side::new(a, now),
            b: Side::new(b, now),
        }
    }

    /// Runs until nothing moves; `a_to_b` and `b_to_a` give chunk sizes (cycled;
    /// empty: everything at once).
    pub fn run_split(&mut self, a_to_b: &[usize], b_to_a: &[usize]) {
        let (mut i, mut j) = (0, 0);
        for _ in 0..1_000_000 {
            let mut progress = self.a.step() | self.b.step();
            let n = a_to_b
                .get(i % a_to_b.len().max(1))
                .copied()
                .unwrap_or(usize::MAX);
            if deliver(&mut self.a, &mut self.b, n) {
                i += 1;
                progress = true;
            }
            let n = b_to_a
                .get(j % b_to_a.len().max(1))
                .copied()
                .unwrap_or(usize::MAX);
            if deliver(&mut self.b, &mut self.a, n) {
                j += 1;
                progress = true;
            }
            if !progress {
                close_if_peer_failed(&mut self.a, &self.b);
                close_if_peer_failed(&mut self.b, &self.a);
                return;
            }
        }
        panic!("the pair did not settle");
    }

    pub fn run(&mut self) {
        self.run_split(&[], &[]);
    }
}

/// A side whose peer failed (and so closed the connection) sees the close once
/// everything the peer sent has arrived.
fn close_if_peer_failed(side: &mut Side, peer: &Side) {
    if peer.error.is_some() && side.error.is_none() && side.closed.is_none() && peer.out.is_empty()
    {
        side.closed = Some(side.session.closed_by_peer(side.input.len()));
    }
}

/// The reason a side ended with, whichever way it ended.
pub fn ended(side: &Side) -> Option<&CloseReason> {
    side.error.as_ref().or(side.closed.as_ref())
}
