//! [`poll`]: waits until any of several thread-safe sockets can receive (a message
//! is waiting) or send (its queue to the I/O thread has room), as `zmq_poll` does.

use std::task::Poll;
use std::time::{Duration, Instant};

use super::Socket;
use crate::error::Result;
use crate::xthread::park;

/// What to wait for on a socket, and what [`poll`] found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollEvents(u8);

impl PollEvents {
    /// No event.
    pub const NONE: PollEvents = PollEvents(0);
    /// A message can be received (ZMQ_POLLIN).
    pub const IN: PollEvents = PollEvents(1);
    /// A message can be sent (ZMQ_POLLOUT).
    pub const OUT: PollEvents = PollEvents(2);
    /// Both.
    pub const BOTH: PollEvents = PollEvents(3);

    /// True when every event of `other` is set here.
    pub fn contains(self, other: PollEvents) -> bool {
        self.0 & other.0 == other.0 && other.0 != 0
    }

    /// True when no event is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for PollEvents {
    type Output = PollEvents;
    fn bitor(self, rhs: PollEvents) -> PollEvents {
        PollEvents(self.0 | rhs.0)
    }
}

/// One socket to watch in [`poll`].
#[derive(Debug)]
pub struct PollItem<'a> {
    socket: &'a Socket,
    events: PollEvents,
    revents: PollEvents,
}

impl<'a> PollItem<'a> {
    /// Watches `socket` for `events`.
    pub fn new(socket: &'a Socket, events: PollEvents) -> PollItem<'a> {
        PollItem {
            socket,
            events,
            revents: PollEvents::NONE,
        }
    }

    /// What [`poll`] found on this socket.
    pub fn revents(&self) -> PollEvents {
        self.revents
    }

    /// A message can be received.
    pub fn is_readable(&self) -> bool {
        self.revents.contains(PollEvents::IN)
    }

    /// A message can be sent.
    pub fn is_writable(&self) -> bool {
        self.revents.contains(PollEvents::OUT)
    }
}

/// Waits until at least one item has one of its events, for at most `timeout`
/// (`None`: no limit; zero: look once). Returns how many items have events (0 on
/// timeout); each item's [`PollItem::revents`] says which. A closed socket counts
/// as readable and writable (its calls then fail with `Error::Closed`).
///
/// ```no_run
/// use zeroring_sockets::{Context, PollEvents, PollItem, SocketType, poll};
/// let ctx = Context::new()?;
/// let a = ctx.socket(SocketType::Pull)?;
/// let b = ctx.socket(SocketType::Sub)?;
/// let mut items = [PollItem::new(&a, PollEvents::IN), PollItem::new(&b, PollEvents::IN)];
/// if poll(&mut items, Some(std::time::Duration::from_millis(100)))? > 0 {
///     if items[0].is_readable() { let _ = a.recv()?; }
/// }
/// # Ok::<(), zeroring_sockets::Error>(())
/// ```
pub fn poll(items: &mut [PollItem<'_>], timeout: Option<Duration>) -> Result<usize> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let ready = park::block_on(
        std::future::poll_fn(|cx| {
            let mut n = 0;
            for item in items.iter_mut() {
                let shared = item.socket.shared();
                let mut found = PollEvents::NONE;
                if item.events.contains(PollEvents::IN) && shared.watch_received(cx) {
                    found = found | PollEvents::IN;
                }
                if item.events.contains(PollEvents::OUT) && shared.watch_writable(cx) {
                    found = found | PollEvents::OUT;
                }
                item.revents = found;
                if !found.is_empty() {
                    n += 1;
                }
            }
            if n > 0 { Poll::Ready(n) } else { Poll::Pending }
        }),
        deadline,
    );
    Ok(ready.unwrap_or(0))
}
