//! Socket monitor events: what happened to a socket's endpoints and connections,
//! with the reason when something failed, for the application to observe (libzmq's
//! `zmq_socket_monitor`).
//!
//! Each [`Monitor`] has its own bounded queue: when the application does not read,
//! the oldest events are dropped and counted, so a busy socket cannot grow memory
//! through its monitors.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak as LocalWeak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use crate::notify::Notify;
use crate::reason::DisconnectReason;
use crate::xthread::queue::{BatchQueue, PushError};

/// Events kept per monitor before the oldest are dropped.
pub const MONITOR_CAPACITY: usize = 4096;

/// Something that happened to a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketEvent {
    /// A bind succeeded; the endpoint is the resolved one.
    Listening {
        /// The bound endpoint.
        endpoint: String,
    },
    /// A bound endpoint accepted a TCP or ipc connection (handshake still to come).
    Accepted {
        /// The bound endpoint.
        endpoint: String,
        /// The remote side.
        peer: String,
    },
    /// A connect() reached its endpoint (handshake still to come).
    Connected {
        /// The endpoint as given to connect().
        endpoint: String,
    },
    /// A connection attempt failed; another follows after RECONNECT_IVL.
    ConnectRetried {
        /// The endpoint as given to connect().
        endpoint: String,
        /// Why the attempt failed.
        reason: String,
    },
    /// The ZMTP handshake completed; the peer now takes part in the pattern.
    HandshakeSucceeded {
        /// The remote side.
        peer: String,
    },
    /// The handshake failed (bad greeting, version, mechanism, socket type,
    /// timeout, ...); the connection was closed.
    HandshakeFailed {
        /// The remote side.
        peer: String,
        /// What was wrong (print it for the text).
        reason: DisconnectReason,
    },
    /// Authentication failed (libzmq's HANDSHAKE_FAILED_AUTH), instead of
    /// [`SocketEvent::HandshakeFailed`]: on a server, its authenticator refused
    /// the peer; on a client, the server refused our credentials (its ERROR
    /// carried the status). The connection was closed. A zeroring client
    /// tries again after RECONNECT_IVL (so it gets in once the server allows
    /// it); a libzmq client stops reconnecting to that endpoint.
    HandshakeFailedAuth {
        /// The remote side.
        peer: String,
        /// The ZAP status code: 300, 400 or 500.
        status: zeroring_zmtp::ZapStatus,
        /// The whole reason (print it for the text).
        reason: DisconnectReason,
    },
    /// An established connection ended.
    Disconnected {
        /// The remote side.
        peer: String,
        /// Why: the peer closed, a protocol error, a heartbeat timeout, the socket
        /// closed... (print it for the text).
        reason: DisconnectReason,
    },
    /// A bound endpoint stopped listening (unbind or close).
    Closed {
        /// The endpoint.
        endpoint: String,
    },
}

impl SocketEvent {
    /// A short label for logs and tables: libzmq's event name without its
    /// `ZMQ_EVENT_` prefix (`"CONNECTED"`, `"DISCONNECTED"`, ...), as pyzmq's
    /// `zmq.Event` names them; `"HANDSHAKE_FAILED"` covers libzmq's
    /// `HANDSHAKE_FAILED_NO_DETAIL` and `HANDSHAKE_FAILED_PROTOCOL`.
    /// [`Display`](fmt::Display) gives the whole sentence.
    ///
    /// ```
    /// let e = zeroring_sockets::SocketEvent::Connected { endpoint: "tcp://127.0.0.1:5555".into() };
    /// assert_eq!(e.name(), "CONNECTED");
    /// assert_eq!(e.to_string(), "connected to tcp://127.0.0.1:5555");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            SocketEvent::Listening { .. } => "LISTENING",
            SocketEvent::Accepted { .. } => "ACCEPTED",
            SocketEvent::Connected { .. } => "CONNECTED",
            SocketEvent::ConnectRetried { .. } => "CONNECT_RETRIED",
            SocketEvent::HandshakeSucceeded { .. } => "HANDSHAKE_SUCCEEDED",
            SocketEvent::HandshakeFailed { .. } => "HANDSHAKE_FAILED",
            SocketEvent::HandshakeFailedAuth { .. } => "HANDSHAKE_FAILED_AUTH",
            SocketEvent::Disconnected { .. } => "DISCONNECTED",
            SocketEvent::Closed { .. } => "CLOSED",
        }
    }
}

impl fmt::Display for SocketEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocketEvent::Listening { endpoint } => write!(f, "listening on {endpoint}"),
            SocketEvent::Accepted { endpoint, peer } => write!(f, "accepted {peer} on {endpoint}"),
            SocketEvent::Connected { endpoint } => write!(f, "connected to {endpoint}"),
            SocketEvent::ConnectRetried { endpoint, reason } => {
                write!(f, "connect to {endpoint} failed ({reason}); retrying")
            }
            SocketEvent::HandshakeSucceeded { peer } => write!(f, "handshake with {peer} done"),
            SocketEvent::HandshakeFailed { peer, reason } => {
                write!(f, "handshake with {peer} failed: {reason}")
            }
            SocketEvent::HandshakeFailedAuth { peer, reason, .. } => {
                write!(f, "authentication with {peer} failed: {reason}")
            }
            SocketEvent::Disconnected { peer, reason } => {
                write!(f, "disconnected from {peer}: {reason}")
            }
            SocketEvent::Closed { endpoint } => write!(f, "closed {endpoint}"),
        }
    }
}

#[derive(Debug, Default)]
struct Queue {
    events: RefCell<VecDeque<SocketEvent>>,
    dropped: Cell<u64>,
    arrived: Notify,
}

/// A stream of a socket's events, from [`SocketBase::monitor`](crate::SocketBase::monitor).
///
/// ```no_run
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let pull = zeroring_sockets::PullSocket::new();
/// let monitor = pull.monitor();
/// pull.bind("tcp://127.0.0.1:0").await.unwrap();
/// let event = monitor.recv().await;
/// assert!(matches!(event, zeroring_sockets::SocketEvent::Listening { .. }));
/// # });
/// ```
#[derive(Debug)]
pub struct Monitor {
    queue: Rc<Queue>,
}

impl Monitor {
    /// Waits for the next event. Cancel-safe.
    pub async fn recv(&self) -> SocketEvent {
        loop {
            let arrived = self.queue.arrived.notified();
            if let Some(e) = self.try_recv() {
                return e;
            }
            arrived.await;
        }
    }

    /// The next event, if one is queued.
    pub fn try_recv(&self) -> Option<SocketEvent> {
        self.queue.events.borrow_mut().pop_front()
    }

    /// Events dropped because more than [`MONITOR_CAPACITY`] were waiting.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped.get()
    }
}

/// A monitor queue another thread reads (a thread-safe socket's
/// [`SocketMonitor`](crate::SocketMonitor)): bounded like a [`Monitor`]'s,
/// dropping the oldest events.
#[derive(Debug)]
pub(crate) struct EventSink {
    pub(crate) events: BatchQueue<SocketEvent>,
    pub(crate) dropped: AtomicU64,
}

impl EventSink {
    pub(crate) fn new() -> Arc<EventSink> {
        Arc::new(EventSink {
            events: BatchQueue::new(MONITOR_CAPACITY),
            dropped: AtomicU64::new(0),
        })
    }

    fn offer(&self, mut event: SocketEvent) {
        loop {
            match self.events.push(event) {
                Ok(()) | Err(PushError::Closed(_)) => return,
                Err(PushError::Full(e)) => {
                    event = e;
                    if self.events.pop().is_some() {
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }
}

/// The socket side: fans events out to the live monitors.
#[derive(Debug, Default)]
pub(crate) struct MonitorHub {
    queues: RefCell<Vec<LocalWeak<Queue>>>,
    sinks: RefCell<Vec<Weak<EventSink>>>,
}

impl MonitorHub {
    pub(crate) fn subscribe(&self) -> Monitor {
        let queue = Rc::new(Queue::default());
        let mut queues = self.queues.borrow_mut();
        queues.retain(|q| q.strong_count() > 0);
        queues.push(Rc::downgrade(&queue));
        Monitor { queue }
    }

    /// Adds a monitor read from another thread.
    pub(crate) fn subscribe_sink(&self, sink: &Arc<EventSink>) {
        let mut sinks = self.sinks.borrow_mut();
        sinks.retain(|s| s.strong_count() > 0);
        sinks.push(Arc::downgrade(sink));
    }

    /// The socket is gone: readers of the other threads' monitors get what is
    /// queued, then the end.
    pub(crate) fn close_sinks(&self) {
        for sink in self.sinks.borrow_mut().drain(..) {
            if let Some(sink) = sink.upgrade() {
                sink.events.close();
            }
        }
    }

    pub(crate) fn emit(&self, event: impl FnOnce() -> SocketEvent) {
        let queues = self.queues.borrow();
        let sinks = self.sinks.borrow();
        if queues.is_empty() && sinks.is_empty() {
            return;
        }
        let event = event();
        for sink in sinks.iter().filter_map(Weak::upgrade) {
            sink.offer(event.clone());
        }
        tracing::trace!(%event, "socket event");
        for q in queues.iter().filter_map(LocalWeak::upgrade) {
            let mut events = q.events.borrow_mut();
            if events.len() >= MONITOR_CAPACITY {
                events.pop_front();
                q.dropped.set(q.dropped.get() + 1);
            }
            events.push_back(event.clone());
            drop(events);
            q.arrived.notify_all();
        }
    }
}
