//! Socket options with libzmq's names, units and defaults.

use std::time::Duration;

use bytes::Bytes;

use crate::pipe::outbound::SendLimit;

/// The options of one socket. Every field is read when it matters (new connections,
/// each send or recv), so changing an option affects what happens afterwards, as in
/// libzmq.
#[derive(Debug, Clone)]
pub struct SocketOptions {
    /// ZMQ_SNDHWM: messages queued per peer before the peer counts as full (0: no limit).
    pub sndhwm: usize,
    /// ZMQ_RCVHWM: messages queued per peer on the receive side before reading from
    /// that peer pauses (0: no limit).
    pub rcvhwm: usize,
    /// ZMQ_SNDTIMEO: how long send waits for a peer with room (`None`: forever,
    /// zero: fail at once).
    pub sndtimeo: Option<Duration>,
    /// ZMQ_RCVTIMEO: how long recv waits for a message (`None`: forever).
    pub rcvtimeo: Option<Duration>,
    /// ZMQ_LINGER: how long queued outbound data may still be delivered after the
    /// socket is dropped (`None`: until delivered or the peer goes away).
    pub linger: Option<Duration>,
    /// ZMQ_RECONNECT_IVL: wait before reconnecting (default 100 ms).
    pub reconnect_ivl: Duration,
    /// ZMQ_RECONNECT_IVL_MAX: upper bound of the exponential backoff (zero: no backoff).
    pub reconnect_ivl_max: Duration,
    /// ZMQ_ROUTING_ID: sent to peers as the `Identity` property (1-255 bytes).
    pub routing_id: Option<Bytes>,
    /// ZMQ_HEARTBEAT_IVL: send a PING this often (zero: off).
    pub heartbeat_ivl: Duration,
    /// ZMQ_HEARTBEAT_TTL: TTL announced in our PINGs, rounded to tenths of a second.
    pub heartbeat_ttl: Duration,
    /// ZMQ_HEARTBEAT_TIMEOUT: close when nothing arrives this long after a PING
    /// (`None`: same as heartbeat_ivl).
    pub heartbeat_timeout: Option<Duration>,
    /// ZMQ_HANDSHAKE_IVL: a connection must finish its handshake within this (zero: no limit).
    pub handshake_ivl: Duration,
    /// ZMQ_MAXMSGSIZE: largest inbound message in bytes (`None`: no limit). A
    /// message's size is the sum of its frame sizes plus 32 bytes for every frame
    /// after the first (what a frame costs in memory besides its body), so a peer
    /// cannot pin memory with a stream of empty frames either. A peer that sends a
    /// larger message has its connection closed.
    pub maxmsgsize: Option<u64>,
    /// Most frames in one inbound message (zeroring only; `None`: no limit).
    /// Default 65,536: a message that never ends (every frame with MORE set) is
    /// refused after that many frames, about 2 MiB of bookkeeping, even when
    /// MAXMSGSIZE is not set. A peer that sends more has its connection closed.
    pub max_msg_frames: Option<usize>,
    /// A byte budget per peer on the sending side (zeroring only; `None`, the
    /// default: SNDHWM alone applies). A peer also counts as full, exactly as at
    /// SNDHWM, once this many bytes (bodies and frame headers) are queued to it
    /// and not yet taken by the kernel; a message always fits when nothing is
    /// queued. It bounds what a peer that does not read can make the socket hold
    /// when messages are large.
    pub sndhwm_bytes: Option<usize>,
    /// ZMQ_BACKLOG: pending connections the kernel queues on a bound endpoint
    /// before refusing more (default 100, as libzmq). Applies to later binds.
    pub backlog: u32,
    /// ZMQ_ROUTER_MANDATORY: a ROUTER send to an unknown routing id fails instead of
    /// being dropped, and waits (up to SNDTIMEO) instead of dropping when the peer is full.
    pub router_mandatory: bool,
    /// ZMQ_TCP_KEEPALIVE for new TCP connections (`None`: system default).
    pub tcp_keepalive: Option<bool>,
    /// ZMQ_IMMEDIATE: when false (the default), a connect() can queue messages before
    /// its connection is up; when true, only completed connections take messages.
    pub immediate: bool,
    /// Latency mode (no libzmq counterpart; named after Linux SO_BUSY_POLL): a
    /// receive that finds no message keeps the runtime polling for completions,
    /// without parking the thread, for up to this long before it waits as usual.
    /// It saves the thread's sleep and wake-up on every round trip and costs a
    /// busy core while it spins. Zero (the default): off.
    pub busy_poll: Duration,
}

impl Default for SocketOptions {
    fn default() -> SocketOptions {
        SocketOptions {
            sndhwm: 1000,
            rcvhwm: 1000,
            sndtimeo: None,
            rcvtimeo: None,
            linger: None,
            reconnect_ivl: Duration::from_millis(100),
            reconnect_ivl_max: Duration::ZERO,
            routing_id: None,
            heartbeat_ivl: Duration::ZERO,
            heartbeat_ttl: Duration::ZERO,
            heartbeat_timeout: None,
            handshake_ivl: Duration::from_secs(30),
            maxmsgsize: None,
            max_msg_frames: Some(DEFAULT_MAX_MSG_FRAMES),
            sndhwm_bytes: None,
            backlog: 100,
            router_mandatory: false,
            tcp_keepalive: None,
            immediate: false,
            busy_poll: Duration::ZERO,
        }
    }
}

/// Default of [`SocketOptions::max_msg_frames`].
pub const DEFAULT_MAX_MSG_FRAMES: usize = 65_536;

impl SocketOptions {
    /// The effective heartbeat timeout.
    pub fn effective_heartbeat_timeout(&self) -> Duration {
        self.heartbeat_timeout.unwrap_or(self.heartbeat_ivl)
    }

    /// SNDHWM and the byte budget as the writers check them.
    #[inline]
    pub(crate) fn send_limit(&self) -> SendLimit {
        SendLimit {
            msgs: if self.sndhwm == 0 {
                usize::MAX
            } else {
                self.sndhwm
            },
            bytes: self.sndhwm_bytes.unwrap_or(usize::MAX),
        }
    }
}
