//! [`SocketBase`]: what every socket type offers — bind, connect, unbind,
//! disconnect, close and the libzmq options. Typed sockets dereference to it.

use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use zeroring_zmtp::SocketType;

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::options::SocketOptions;
use crate::socket::{self, Core};

/// The part of a socket that does not depend on its type.
///
/// Every typed socket (`ReqSocket`, `RouterSocket`, ...) dereferences to this, so
/// `sock.bind(..)`, `sock.connect(..)` and the option setters work on all of them.
/// Dropping the socket closes it: endpoints stop, and queued messages are still
/// delivered within LINGER.
#[derive(Debug)]
pub struct SocketBase {
    pub(crate) core: Rc<Core>,
}

impl SocketBase {
    pub(crate) fn new(socket_type: SocketType) -> SocketBase {
        SocketBase {
            core: Core::new(socket_type),
        }
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.core.socket_type()
    }

    /// Binds to an endpoint and starts accepting connections. Returns the resolved
    /// endpoint (with the port the kernel chose for `:0` or `:*`).
    ///
    /// ```no_run
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let rep = zeroring_sockets::RepSocket::new();
    /// let ep = rep.bind("tcp://127.0.0.1:0").await.unwrap();
    /// assert!(ep.to_string().starts_with("tcp://127.0.0.1:"));
    /// # });
    /// ```
    pub async fn bind(&self, endpoint: &str) -> Result<Endpoint> {
        if self.core.is_closed() {
            return Err(Error::Closed);
        }
        socket::bind(&self.core, endpoint).await
    }

    /// Connects to an endpoint in the background and returns at once. The socket
    /// keeps reconnecting (RECONNECT_IVL, RECONNECT_IVL_MAX) until it is closed or
    /// [`disconnect`](Self::disconnect)ed, so connecting before the peer binds works.
    pub async fn connect(&self, endpoint: &str) -> Result<()> {
        if self.core.is_closed() {
            return Err(Error::Closed);
        }
        socket::connect(&self.core, endpoint)
    }

    /// Stops listening on an endpoint (as given to bind, or as bind returned it) and
    /// closes the connections accepted through it.
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        self.core.stop_endpoint(endpoint)
    }

    /// Stops connecting to an endpoint and closes that connection.
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.core.stop_endpoint(endpoint)
    }

    /// Closes the socket and waits until its ports and paths are released and its
    /// queued outbound messages are delivered (or LINGER expired), like libzmq's
    /// `zmq_close` followed by context termination. With the default infinite LINGER
    /// this waits for as long as a connected peer does not read.
    ///
    /// Dropping a socket without `close()` starts the same shutdown in the
    /// background; it completes only while the compio runtime keeps running, so call
    /// `close().await` before leaving `block_on` if the last messages matter.
    pub async fn close(&self) {
        self.core.close();
        self.core.wait_released().await;
    }

    /// A new stream of this socket's events (listening, accepted, connected,
    /// handshake succeeded/failed with the reason, disconnected with the reason,
    /// closed). Events before this call are not included.
    pub fn monitor(&self) -> crate::monitor::Monitor {
        self.core.monitor()
    }

    /// Number of peers connected and past the handshake right now.
    pub fn peer_count(&self) -> usize {
        self.core.peer_count()
    }

    /// A copy of the current options (all of them, the type-specific ones too).
    pub fn options(&self) -> SocketOptions {
        self.core.options()
    }

    /// Replaces every option at once, after the same check the setters make
    /// ([`SocketOptions::validate`]); on error nothing changes.
    ///
    /// ```no_run
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let push = zeroring_sockets::PushSocket::new();
    /// let mut o = push.options();
    /// o.sndhwm = None;
    /// o.linger = Some(std::time::Duration::from_secs(1));
    /// push.set_options(o).unwrap();
    /// # });
    /// ```
    pub fn set_options(&self, options: SocketOptions) -> Result<()> {
        self.core.update_options(|o| *o = options)
    }

    /// Changes one option that cannot be out of range.
    pub(crate) fn update(&self, f: impl FnOnce(&mut SocketOptions)) {
        self.core
            .update_options(f)
            .expect("an option without a range keeps the options valid");
    }

    /// Changes one option that must be checked ([`SocketOptions::validate`]).
    fn try_update(&self, f: impl FnOnce(&mut SocketOptions)) -> Result<()> {
        self.core.update_options(f)
    }

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

    /// ZMQ_RECONNECT_IVL (default 100 ms).
    pub fn set_reconnect_ivl(&self, ivl: Duration) {
        self.update(|o| o.reconnect_ivl = ivl);
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

    /// ZMQ_TCP_KEEPALIVE for new connections (`None`: system default).
    pub fn set_tcp_keepalive(&self, keepalive: Option<bool>) {
        self.update(|o| o.tcp_keepalive = keepalive);
    }
}

/// Dropping a socket closes it as [`SocketBase::close`] does, without waiting:
/// endpoints stop at once, and queued messages are still delivered within LINGER by
/// the socket's background tasks, for as long as the compio runtime keeps running.
/// If the runtime stops first (the end of `block_on`, or of `#[zeroring::main]`),
/// the messages still queued are lost; zeroring then logs a warning with their
/// count. Call `close().await` before leaving the runtime when they matter.
impl Drop for SocketBase {
    fn drop(&mut self) {
        self.core.close();
    }
}

/// Implements construction and `Deref<Target = SocketBase>` for a typed socket.
macro_rules! typed_socket {
    ($name:ident, $kind:expr) => {
        impl $name {
            /// Creates a socket with default options. It must be used on a compio
            /// runtime thread.
            pub fn new() -> $name {
                $name::from_base($crate::base::SocketBase::new($kind))
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl std::ops::Deref for $name {
            type Target = $crate::base::SocketBase;
            fn deref(&self) -> &$crate::base::SocketBase {
                &self.base
            }
        }
    };
}
pub(crate) use typed_socket;
