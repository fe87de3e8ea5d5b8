//! [`SocketMonitor`]: the events of a thread-safe [`Socket`](crate::Socket),
//! readable from any thread or runtime (libzmq's `zmq_socket_monitor`, without
//! the extra PAIR socket).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::monitor::{EventSink, SocketEvent};
use crate::xthread::park;

/// The event stream of a thread-safe [`Socket`](crate::Socket), from
/// [`Socket::monitor`](crate::Socket::monitor): the same [`SocketEvent`]s a native
/// socket's [`Monitor`](crate::Monitor) gives, in a bounded queue
/// ([`MONITOR_CAPACITY`](crate::MONITOR_CAPACITY); when nobody reads, the oldest
/// events are dropped and counted). Once the socket is closed and released, the
/// queued events can still be read, then `recv` fails with
/// [`Error::Closed`](crate::Error::Closed).
///
/// ```no_run
/// use zeroring_sockets::{Context, SocketEvent, SocketType};
/// let ctx = Context::new()?;
/// let pull = ctx.socket(SocketType::Pull)?;
/// let events = pull.monitor()?;
/// pull.bind("tcp://127.0.0.1:0")?;
/// assert!(matches!(events.recv()?, SocketEvent::Listening { .. }));
/// # Ok::<(), zeroring_sockets::Error>(())
/// ```
#[derive(Debug)]
pub struct SocketMonitor {
    sink: Arc<EventSink>,
}

impl SocketMonitor {
    pub(crate) fn new(sink: Arc<EventSink>) -> SocketMonitor {
        SocketMonitor { sink }
    }

    /// Waits for the next event.
    pub fn recv(&self) -> Result<SocketEvent> {
        park::block_on(self.recv_async(), None).unwrap_or(Err(Error::Closed))
    }

    /// Waits at most `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<SocketEvent> {
        park::block_on(self.recv_async(), Some(Instant::now() + timeout))
            .unwrap_or(Err(Error::Timeout("monitor recv")))
    }

    /// The next event if one is queued.
    pub fn try_recv(&self) -> Option<SocketEvent> {
        self.sink.events.pop()
    }

    /// [`SocketMonitor::recv`] for async callers (cancel-safe, any runtime).
    pub async fn recv_async(&self) -> Result<SocketEvent> {
        std::future::poll_fn(|cx| self.sink.events.poll_pop(cx))
            .await
            .ok_or(Error::Closed)
    }

    /// Events dropped because more than [`MONITOR_CAPACITY`](crate::MONITOR_CAPACITY)
    /// were waiting.
    pub fn dropped(&self) -> u64 {
        self.sink.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for SocketMonitor {
    fn drop(&mut self) {
        // The socket stops feeding it (and forgets it at its next event).
        self.sink.events.close();
    }
}
