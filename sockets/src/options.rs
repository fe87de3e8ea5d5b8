//! Every socket option in one place, with libzmq's names, units and defaults, and
//! one convention: `None` means "no limit" or "off" for every limit, timeout and
//! interval (HWMs included; libzmq's `0` or `-1`), and [`SocketOptions::validate`]
//! is the one check every setter goes through.

use std::time::Duration;

use bytes::Bytes;
use zeroring_zmtp::{CurvePublicKey, CurveSecretKey, SecretBytes};

use crate::error::{Error, Result};
use crate::pipe::outbound::SendLimit;
use crate::pubsub::publisher::XpubOptions;

/// Default of [`SocketOptions::max_msg_frames`].
pub const DEFAULT_MAX_MSG_FRAMES: usize = zeroring_zmtp::session::DEFAULT_MAX_FRAMES;

/// Default of [`SocketOptions::adaptive_spin`] on REQ and REP sockets.
pub const DEFAULT_ADAPTIVE_SPIN: Duration = Duration::from_micros(100);

/// The options of one socket: read with `socket.options()`, changed with the
/// socket's setters (`set_sndhwm`, ...) or all at once with
/// [`SocketBase::set_options`](crate::SocketBase::set_options). Every field is read
/// when it matters (new connections, each send or recv), so a change affects what
/// happens afterwards, as in libzmq. Options of one socket type (ROUTER_MANDATORY,
/// REQ_*, XPUB_*) are here too and ignored by the other types.
///
/// ```
/// use std::time::Duration;
/// let mut o = zeroring_sockets::SocketOptions::default();
/// o.sndhwm = None; // no limit
/// o.heartbeat_ivl = Some(Duration::from_secs(1));
/// assert!(o.validate().is_ok());
/// o.rcvhwm = Some(0);
/// assert!(o.validate().is_err()); // 0 is not "no limit": say None
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketOptions {
    /// ZMQ_SNDHWM: messages queued per peer before the peer counts as full
    /// (default 1000; `None`: no limit).
    pub sndhwm: Option<usize>,
    /// ZMQ_RCVHWM: messages queued per peer on the receive side before reading
    /// from that peer pauses (default 1000; `None`: no limit).
    pub rcvhwm: Option<usize>,
    /// A byte budget per peer on the sending side (zeroring only; default `None`:
    /// SNDHWM alone applies). A peer also counts as full, exactly as at SNDHWM,
    /// once this many bytes (bodies and frame headers) are queued to it and not yet
    /// taken by the kernel; a message always fits when nothing is queued. It bounds
    /// what a peer that does not read can make the socket hold.
    pub sndhwm_bytes: Option<usize>,
    /// ZMQ_SNDTIMEO: how long send waits for a peer with room (`None`: forever,
    /// zero: fail at once).
    pub sndtimeo: Option<Duration>,
    /// ZMQ_RCVTIMEO: how long recv waits for a message (`None`: forever, zero:
    /// fail at once).
    pub rcvtimeo: Option<Duration>,
    /// ZMQ_LINGER: how long queued messages may still be delivered after close
    /// (`None`: until delivered or the peer goes away; zero: drop them).
    pub linger: Option<Duration>,
    /// ZMQ_RECONNECT_IVL: wait before reconnecting (default 100 ms; `None`: never
    /// reconnect, libzmq's -1: a connect() that fails or a connection that ends
    /// stops that endpoint).
    pub reconnect_ivl: Option<Duration>,
    /// ZMQ_RECONNECT_IVL_MAX: upper bound of the exponential backoff (`None`, the
    /// default: no backoff, every wait is RECONNECT_IVL).
    pub reconnect_ivl_max: Option<Duration>,
    /// ZMQ_ROUTING_ID: sent to peers as the `Identity` property (1-255 bytes, not
    /// starting with a zero byte).
    pub routing_id: Option<Bytes>,
    /// ZMQ_HEARTBEAT_IVL: send a PING this often (`None`, the default: no PINGs).
    pub heartbeat_ivl: Option<Duration>,
    /// ZMQ_HEARTBEAT_TTL: TTL announced in our PINGs, in tenths of a second on the
    /// wire (`None`: none announced; at most 6553.5 s).
    pub heartbeat_ttl: Option<Duration>,
    /// ZMQ_HEARTBEAT_TIMEOUT: close when nothing arrives this long after a PING
    /// (`None`: the heartbeat interval).
    pub heartbeat_timeout: Option<Duration>,
    /// ZMQ_HANDSHAKE_IVL: a connection must finish its handshake within this
    /// (default 30 s; `None`: no limit).
    pub handshake_ivl: Option<Duration>,
    /// ZMQ_MAXMSGSIZE: largest inbound message in bytes (`None`, the default: no
    /// limit). A message's size is the sum of its frame sizes plus 32 bytes for
    /// every frame after the first (what a frame costs in memory besides its body),
    /// so a peer cannot pin memory with a stream of empty frames either. A peer
    /// that sends a larger message has its connection closed.
    pub maxmsgsize: Option<u64>,
    /// Most frames in one inbound message (zeroring only; default 65,536; `None`:
    /// no limit): a message that never ends (every frame with MORE set) is refused
    /// after that many frames, about 2 MiB of bookkeeping, even when MAXMSGSIZE is
    /// not set. A peer that sends more has its connection closed.
    pub max_msg_frames: Option<usize>,
    /// ZMQ_BACKLOG: pending connections the kernel queues on a bound endpoint
    /// before refusing more (default 100). Applies to later binds.
    pub backlog: u32,
    /// ZMQ_TCP_KEEPALIVE for new TCP connections (`None`: the system's default).
    pub tcp_keepalive: Option<bool>,
    /// ZMQ_IMMEDIATE: when false (the default), a connect() can queue messages
    /// before its connection is up; when true, only completed connections take
    /// messages. Applies to later connects.
    pub immediate: bool,
    /// Busy-poll latency mode (zeroring only; named after Linux SO_BUSY_POLL): a
    /// receive that finds no message keeps the runtime polling for completions,
    /// without parking the thread, for up to this long (bounded by RCVTIMEO) before
    /// it waits as usual. It saves the thread's sleep and wake-up on every round
    /// trip and costs a busy core while it spins. `None` (the default): off.
    pub busy_poll: Option<Duration>,
    /// Adaptive spin before parking (zeroring only): a receive that finds no
    /// message first spins like [`busy_poll`](Self::busy_poll) for up to this
    /// long, and after a spin that found nothing spins again only after 1, 3, 7,
    /// ... 63 receives that did not (reset by the next spin that finds a
    /// message). A request-reply loop then never sleeps between a request and its
    /// reply, while a socket that waits long for its messages spins about once in
    /// 64 receives. A socket's default: [`DEFAULT_ADAPTIVE_SPIN`] on REQ and REP,
    /// `None` (off) on every other type, on the sockets behind a
    /// [`Context`](crate::Context)'s handles (their I/O thread must not spin) and
    /// in `SocketOptions::default()`. [`busy_poll`](Self::busy_poll), when set,
    /// takes precedence.
    pub adaptive_spin: Option<Duration>,
    /// ZMQ_ROUTER_MANDATORY (ROUTER): a send to an unknown routing id fails with
    /// [`Error::HostUnreachable`] instead of being dropped, and a send to a full
    /// peer waits (SNDTIMEO) instead of dropping.
    pub router_mandatory: bool,
    /// ZMQ_REQ_RELAXED (REQ): a new request may go before the previous reply
    /// arrived; the old reply is then discarded. Usually with REQ_CORRELATE.
    pub req_relaxed: bool,
    /// ZMQ_REQ_CORRELATE (REQ): each request carries a request id and only replies
    /// that carry it back are accepted.
    pub req_correlate: bool,
    /// ZMQ_XPUB_VERBOSE (XPUB): report every subscribe, not only the first per topic.
    pub xpub_verbose: bool,
    /// ZMQ_XPUB_VERBOSER (XPUB): also report every cancel, not only the last per
    /// topic.
    pub xpub_verboser: bool,
    /// ZMQ_XPUB_NODROP (XPUB): a send waits (SNDTIMEO) while a matching subscriber
    /// is full, instead of that subscriber missing the message.
    pub xpub_nodrop: bool,
    /// ZMQ_XPUB_MANUAL (XPUB): report every subscription and apply none; the
    /// application applies them with `subscribe` / `unsubscribe`.
    pub xpub_manual: bool,
    /// ZMQ_XPUB_WELCOME_MSG (XPUB): sent to each new subscriber when it connects.
    pub xpub_welcome_msg: Option<Bytes>,
    /// ZMQ_PLAIN_SERVER: be the PLAIN server, which checks the user name and
    /// password of each client with its [`Authenticator`](crate::Authenticator).
    /// Without an authenticator every PLAIN client is refused, as libzmq 4.3
    /// refuses them without a ZAP handler.
    pub plain_server: bool,
    /// ZMQ_PLAIN_USERNAME: be a PLAIN client with this user name (at most 255
    /// bytes; the password is empty unless set).
    pub plain_username: Option<Bytes>,
    /// ZMQ_PLAIN_PASSWORD: the PLAIN client's password (at most 255 bytes). It
    /// travels in clear text: use PLAIN on trusted networks only.
    pub plain_password: Option<SecretBytes>,
    /// ZMQ_CURVE_SERVER: be the CURVE server, with the key pair of
    /// CURVE_SECRETKEY (and CURVE_PUBLICKEY). Without an authenticator any
    /// client key is accepted, as in libzmq.
    pub curve_server: bool,
    /// ZMQ_CURVE_PUBLICKEY: our long-term public key (optional when
    /// CURVE_SECRETKEY is set: derived from it).
    pub curve_publickey: Option<CurvePublicKey>,
    /// ZMQ_CURVE_SECRETKEY: our long-term secret key.
    pub curve_secretkey: Option<CurveSecretKey>,
    /// ZMQ_CURVE_SERVERKEY: be a CURVE client of the server with this public
    /// key (the client needs CURVE_SECRETKEY too).
    pub curve_serverkey: Option<CurvePublicKey>,
    /// ZMQ_ZAP_DOMAIN: the domain given to the authenticator (at most 255
    /// bytes). A NULL socket asks its authenticator about each peer only when
    /// a domain is set (as in libzmq).
    pub zap_domain: Option<String>,
}

impl Default for SocketOptions {
    fn default() -> SocketOptions {
        SocketOptions {
            sndhwm: Some(1000),
            rcvhwm: Some(1000),
            sndhwm_bytes: None,
            sndtimeo: None,
            rcvtimeo: None,
            linger: None,
            reconnect_ivl: Some(Duration::from_millis(100)),
            reconnect_ivl_max: None,
            routing_id: None,
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            handshake_ivl: Some(Duration::from_secs(30)),
            maxmsgsize: None,
            max_msg_frames: Some(DEFAULT_MAX_MSG_FRAMES),
            backlog: 100,
            tcp_keepalive: None,
            immediate: false,
            busy_poll: None,
            adaptive_spin: None,
            router_mandatory: false,
            req_relaxed: false,
            req_correlate: false,
            xpub_verbose: false,
            xpub_verboser: false,
            xpub_nodrop: false,
            xpub_manual: false,
            xpub_welcome_msg: None,
            plain_server: false,
            plain_username: None,
            plain_password: None,
            curve_server: false,
            curve_publickey: None,
            curve_secretkey: None,
            curve_serverkey: None,
            zap_domain: None,
        }
    }
}

fn invalid(option: &'static str, reason: &'static str) -> Error {
    Error::InvalidOption { option, reason }
}

/// `Some(0)` is refused where `None` is the way to say "no limit" or "off".
fn not_zero<T: Default + PartialEq>(
    value: &Option<T>,
    option: &'static str,
    reason: &'static str,
) -> Result<()> {
    match value {
        Some(v) if *v == T::default() => Err(invalid(option, reason)),
        _ => Ok(()),
    }
}

impl SocketOptions {
    /// Checks every option; the error names the first one that is out of range
    /// and says what to use instead.
    pub fn validate(&self) -> Result<()> {
        const NO_LIMIT: &str = "0 is not a limit; use None for no limit";
        const OFF: &str = "zero is not an interval; use None to turn it off";
        not_zero(&self.sndhwm, "SNDHWM", NO_LIMIT)?;
        not_zero(&self.rcvhwm, "RCVHWM", NO_LIMIT)?;
        not_zero(&self.sndhwm_bytes, "SNDHWM_BYTES", NO_LIMIT)?;
        not_zero(&self.max_msg_frames, "MAX_MSG_FRAMES", NO_LIMIT)?;
        not_zero(&self.heartbeat_ivl, "HEARTBEAT_IVL", OFF)?;
        not_zero(&self.heartbeat_ttl, "HEARTBEAT_TTL", OFF)?;
        not_zero(&self.heartbeat_timeout, "HEARTBEAT_TIMEOUT", OFF)?;
        not_zero(&self.handshake_ivl, "HANDSHAKE_IVL", NO_LIMIT)?;
        not_zero(&self.busy_poll, "BUSY_POLL", OFF)?;
        not_zero(&self.adaptive_spin, "ADAPTIVE_SPIN", OFF)?;
        not_zero(&self.reconnect_ivl, "RECONNECT_IVL", OFF)?;
        not_zero(&self.reconnect_ivl_max, "RECONNECT_IVL_MAX", OFF)?;
        if self
            .heartbeat_ttl
            .is_some_and(|t| t > Duration::from_millis(6_553_500))
        {
            return Err(invalid(
                "HEARTBEAT_TTL",
                "at most 6553.5 s (tenths of a second in a u16 on the wire)",
            ));
        }
        if let Some(id) = &self.routing_id {
            if id.is_empty() || id.len() > 255 {
                return Err(invalid("ROUTING_ID", "must be 1 to 255 bytes"));
            }
            if id[0] == 0 {
                return Err(invalid(
                    "ROUTING_ID",
                    "must not start with a zero byte (reserved for generated ids)",
                ));
            }
        }
        if self.backlog == 0 || self.backlog > i32::MAX as u32 {
            return Err(invalid("BACKLOG", "must be between 1 and 2^31 - 1"));
        }
        self.validate_security()
    }

    /// The effective heartbeat timeout.
    pub fn effective_heartbeat_timeout(&self) -> Option<Duration> {
        self.heartbeat_timeout.or(self.heartbeat_ivl)
    }

    /// SNDHWM and the byte budget as the outbound queues check them.
    #[inline]
    pub(crate) fn send_limit(&self) -> SendLimit {
        SendLimit {
            msgs: self.sndhwm.unwrap_or(usize::MAX),
            bytes: self.sndhwm_bytes.unwrap_or(usize::MAX),
        }
    }

    /// The XPUB switches, for the publisher state.
    pub(crate) fn xpub(&self) -> XpubOptions {
        XpubOptions {
            verbose: self.xpub_verbose,
            verboser: self.xpub_verboser,
            manual: self.xpub_manual,
        }
    }
}

/// The setters of the options every socket has, for both the native
/// [`SocketBase`](crate::SocketBase) and the thread-safe
/// [`Socket`](crate::Socket); each expands where `update` (for options without a
/// range) and `try_update` (checked by [`SocketOptions::validate`]) exist.
macro_rules! option_setters {
    () => {
        /// ZMQ_SNDHWM (default `Some(1000)`; `None`: no limit; `Some(0)` is refused).
        pub fn set_sndhwm(&self, hwm: Option<usize>) -> Result<()> {
            self.try_update(|o| o.sndhwm = hwm)
        }

        /// ZMQ_RCVHWM (default `Some(1000)`; `None`: no limit; `Some(0)` is refused).
        pub fn set_rcvhwm(&self, hwm: Option<usize>) -> Result<()> {
            self.try_update(|o| o.rcvhwm = hwm)
        }

        /// A byte budget per peer on the sending side (zeroring only; `None`, the
        /// default: only SNDHWM counts). A peer with this many bytes queued counts as
        /// full, exactly as at SNDHWM: sends wait or drop as the socket type does at
        /// SNDHWM. See [`SocketOptions::sndhwm_bytes`].
        pub fn set_sndhwm_bytes(&self, max: Option<usize>) -> Result<()> {
            self.try_update(|o| o.sndhwm_bytes = max)
        }

        /// ZMQ_SNDTIMEO (`None`: wait forever, the default; zero: never wait).
        pub fn set_sndtimeo(&self, timeout: Option<Duration>) {
            self.update(|o| o.sndtimeo = timeout);
        }

        /// ZMQ_RCVTIMEO (`None`: wait forever, the default; zero: never wait).
        pub fn set_rcvtimeo(&self, timeout: Option<Duration>) {
            self.update(|o| o.rcvtimeo = timeout);
        }

        /// ZMQ_LINGER (`None`: unlimited, the default; zero: drop queued messages on close).
        pub fn set_linger(&self, linger: Option<Duration>) {
            self.update(|o| o.linger = linger);
        }

        /// ZMQ_RECONNECT_IVL (default 100 ms; `None`: never reconnect, libzmq's -1).
        /// Zero is refused (it would retry in a busy loop).
        pub fn set_reconnect_ivl(&self, ivl: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.reconnect_ivl = ivl)
        }

        /// ZMQ_RECONNECT_IVL_MAX (default `None`: no exponential backoff).
        pub fn set_reconnect_ivl_max(&self, ivl: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.reconnect_ivl_max = ivl)
        }

        /// ZMQ_ROUTING_ID: 1 to 255 bytes, not starting with a zero byte. Applies to
        /// connections made afterwards.
        pub fn set_routing_id(&self, id: impl Into<Bytes>) -> Result<()> {
            let id = id.into();
            self.try_update(|o| o.routing_id = Some(id))
        }

        /// ZMQ_HEARTBEAT_IVL (`None`: no heartbeats, the default).
        pub fn set_heartbeat_ivl(&self, ivl: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.heartbeat_ivl = ivl)
        }

        /// ZMQ_HEARTBEAT_TTL, sent in our PINGs (tenths of a second on the wire, at
        /// most 6553.5 s; `None`: none).
        pub fn set_heartbeat_ttl(&self, ttl: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.heartbeat_ttl = ttl)
        }

        /// ZMQ_HEARTBEAT_TIMEOUT (`None`: equal to HEARTBEAT_IVL).
        pub fn set_heartbeat_timeout(&self, timeout: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.heartbeat_timeout = timeout)
        }

        /// ZMQ_HANDSHAKE_IVL (default 30 s; `None`: no limit).
        pub fn set_handshake_ivl(&self, ivl: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.handshake_ivl = ivl)
        }

        /// ZMQ_MAXMSGSIZE in bytes (`None`: unlimited, the default). See
        /// [`SocketOptions::maxmsgsize`] for how frames count.
        pub fn set_maxmsgsize(&self, max: Option<u64>) {
            self.update(|o| o.maxmsgsize = max);
        }

        /// Most frames per inbound message (zeroring only; default 65,536, `None`: no
        /// limit). A peer that sends a longer message has its connection closed. Applies
        /// to connections made afterwards.
        pub fn set_max_msg_frames(&self, max: Option<usize>) -> Result<()> {
            self.try_update(|o| o.max_msg_frames = max)
        }

        /// ZMQ_BACKLOG: pending connections the kernel queues on endpoints bound
        /// afterwards (default 100). Must be at least 1.
        pub fn set_backlog(&self, backlog: u32) -> Result<()> {
            self.try_update(|o| o.backlog = backlog)
        }

        /// ZMQ_IMMEDIATE (default false): when true, messages are only queued to peers
        /// whose connection is complete, so sends wait (SNDTIMEO) while none is. Applies
        /// to later connect() calls.
        pub fn set_immediate(&self, immediate: bool) {
            self.update(|o| o.immediate = immediate);
        }

        /// Busy-poll latency mode (default `None`: off). A receive that finds no
        /// message spins for up to `spin` (bounded by RCVTIMEO) with the runtime
        /// reaping io_uring completions without sleeping, then waits as usual. Lower
        /// round-trip latency for a core spent spinning; see
        /// [`SocketOptions::busy_poll`].
        pub fn set_busy_poll(&self, spin: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.busy_poll = spin)
        }

        /// Adaptive spin before parking (REQ and REP: [`DEFAULT_ADAPTIVE_SPIN`](crate::DEFAULT_ADAPTIVE_SPIN);
        /// other types: `None`, off): a receive that finds no message spins for
        /// up to `spin` before it parks, and backs off after spins that found
        /// nothing; see [`SocketOptions::adaptive_spin`].
        pub fn set_adaptive_spin(&self, spin: Option<Duration>) -> Result<()> {
            self.try_update(|o| o.adaptive_spin = spin)
        }

        /// ZMQ_TCP_KEEPALIVE for new connections (`None`: system default).
        pub fn set_tcp_keepalive(&self, keepalive: Option<bool>) {
            self.update(|o| o.tcp_keepalive = keepalive);
        }

        /// ZMQ_PLAIN_SERVER: with `true`, this socket is the PLAIN server and
        /// checks each client's user name and password with its authenticator
        /// (without one, every PLAIN client is refused, as by libzmq 4.3 without
        /// a ZAP handler). Refused together with PLAIN_USERNAME/PLAIN_PASSWORD or
        /// CURVE options. Applies to connections made afterwards.
        pub fn set_plain_server(&self, on: bool) -> Result<()> {
            self.try_update(|o| o.plain_server = on)
        }

        /// ZMQ_PLAIN_USERNAME: makes this socket a PLAIN client with this user
        /// name (at most 255 bytes).
        pub fn set_plain_username(&self, username: impl Into<Bytes>) -> Result<()> {
            let username = username.into();
            self.try_update(|o| o.plain_username = Some(username))
        }

        /// ZMQ_PLAIN_PASSWORD: the PLAIN client's password (at most 255 bytes;
        /// sent in clear text).
        pub fn set_plain_password(&self, password: impl Into<Vec<u8>>) -> Result<()> {
            let password = zeroring_zmtp::SecretBytes::new(password);
            self.try_update(|o| o.plain_password = Some(password))
        }

        /// ZMQ_CURVE_SERVER: with `true`, this socket is the CURVE server; it
        /// needs CURVE_SECRETKEY (checked by bind and connect). Any client key is
        /// accepted unless an authenticator says otherwise.
        pub fn set_curve_server(&self, on: bool) -> Result<()> {
            self.try_update(|o| o.curve_server = on)
        }

        /// ZMQ_CURVE_PUBLICKEY: our long-term public key, as 32 raw bytes or 40
        /// characters of Z85 (optional: derived from CURVE_SECRETKEY).
        pub fn set_curve_publickey(&self, key: impl AsRef<[u8]>) -> Result<()> {
            let key = crate::security::keys::parse_public_key("CURVE_PUBLICKEY", key.as_ref())?;
            self.try_update(|o| o.curve_publickey = Some(key))
        }

        /// ZMQ_CURVE_SECRETKEY: our long-term secret key, as 32 raw bytes or 40
        /// characters of Z85.
        pub fn set_curve_secretkey(&self, key: impl AsRef<[u8]>) -> Result<()> {
            let key = zeroring_zmtp::CurveSecretKey::from_slice(key.as_ref()).map_err(|_| {
                crate::error::Error::InvalidOption {
                    option: "CURVE_SECRETKEY",
                    reason: "a CURVE key is 32 raw bytes or 40 characters of Z85",
                }
            })?;
            self.try_update(|o| o.curve_secretkey = Some(key))
        }

        /// ZMQ_CURVE_SERVERKEY: makes this socket a CURVE client of the server
        /// with this public key (32 raw bytes or 40 characters of Z85); the
        /// client needs its own CURVE_SECRETKEY too.
        pub fn set_curve_serverkey(&self, key: impl AsRef<[u8]>) -> Result<()> {
            let key = crate::security::keys::parse_public_key("CURVE_SERVERKEY", key.as_ref())?;
            self.try_update(|o| o.curve_serverkey = Some(key))
        }

        /// CURVE_PUBLICKEY and CURVE_SECRETKEY at once, from a key pair.
        pub fn set_curve_keypair(&self, keys: &zeroring_zmtp::CurveKeyPair) -> Result<()> {
            let (public, secret) = (*keys.public(), keys.secret().clone());
            self.try_update(|o| {
                o.curve_publickey = Some(public);
                o.curve_secretkey = Some(secret);
            })
        }

        /// ZMQ_ZAP_DOMAIN (at most 255 bytes; empty: none). Handed to the
        /// authenticator with each request; on a NULL socket, setting one turns
        /// authentication on (when an authenticator is installed).
        pub fn set_zap_domain(&self, domain: impl Into<String>) -> Result<()> {
            let domain = crate::security::keys::domain(domain.into());
            self.try_update(|o| o.zap_domain = domain)
        }
    };
}
pub(crate) use option_setters;
