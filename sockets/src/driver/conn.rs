//! [`Conn`]: one live connection as the rest of the socket sees it — closing it
//! with a reason, the graceful end after a close (half-close, then wait for the
//! peer), and LINGER's deadline.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use crate::inproc::link::{Item, Queue};
use crate::notify::{Notified, Notify};
use crate::pipe::outbound::Outbound;
use crate::reason::DisconnectReason;
use crate::transport::Stream;

/// What carries a connection's bytes or messages.
#[derive(Debug)]
pub(crate) enum ConnIo {
    /// tcp or ipc.
    Stream(Stream),
    /// inproc: the queue towards the peer and the one towards us.
    Inproc { outgoing: Queue, incoming: Queue },
}

/// Shared state of one live connection.
#[derive(Debug)]
pub(crate) struct Conn {
    io: ConnIo,
    outbound: Rc<Outbound>,
    label: String,
    closed: Cell<bool>,
    /// Notified when the connection is closed.
    close_notify: Notify,
    reason: RefCell<Option<DisconnectReason>>,
    /// Everything queued for a close was written and our side is shut for writing.
    sent_all: Cell<bool>,
    /// The session's deadlines moved (its timer must look again).
    timers: Notify,
}

impl Conn {
    pub(crate) fn new(io: ConnIo, outbound: Rc<Outbound>, label: String) -> Conn {
        Conn {
            io,
            outbound,
            label,
            closed: Cell::new(false),
            close_notify: Notify::default(),
            reason: RefCell::new(None),
            sent_all: Cell::new(false),
            timers: Notify::default(),
        }
    }

    /// A printable description of the remote side.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The peer's outbound queue.
    pub(crate) fn outbound(&self) -> &Rc<Outbound> {
        &self.outbound
    }

    /// Closes the connection now (what is not yet written stays queued for the
    /// next connection of a connect() slot) and records why.
    pub(crate) fn close(&self, reason: DisconnectReason) {
        if self.closed.replace(true) {
            return;
        }
        tracing::debug!(peer = %self.label, %reason, "connection closed");
        *self.reason.borrow_mut() = Some(reason);
        self.outbound.stream_lost();
        self.shut_down();
        self.close_notify.notify_all();
        self.timers.notify_all();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Ends the transport: the peer sees end-of-file (inproc: a Close item), and
    /// our reader stops.
    fn shut_down(&self) {
        match &self.io {
            ConnIo::Stream(stream) => stream.shutdown_now(),
            ConnIo::Inproc { outgoing, incoming } => {
                let _ = outgoing.push_force(Item::Close);
                incoming.close();
            }
        }
    }

    /// A future that completes when the connection is closed.
    pub(crate) fn closed_notified(&self) -> Notified<'_> {
        self.close_notify.notified()
    }

    /// Why the connection was closed, once it is.
    pub(crate) fn reason(&self) -> Option<DisconnectReason> {
        self.reason.borrow().clone()
    }

    /// True once everything queued for a close was written.
    pub(crate) fn sent_all(&self) -> bool {
        self.sent_all.get()
    }

    /// The session's deadlines moved.
    pub(crate) fn timers_changed(&self) {
        self.timers.notify_all();
    }

    pub(crate) fn timers_notified(&self) -> Notified<'_> {
        self.timers.notified()
    }

    /// The socket is closing and every queued message was written: shut our
    /// sending side (the peer reads the rest, then end-of-file) and keep the
    /// connection until the peer closes its side (the reader sees it) or has taken
    /// every byte we sent, whichever comes first; LINGER bounds the wait.
    ///
    /// Closing at once would lose the tail with some peers: a Unix socket closed by
    /// one side raises POLLHUP on the other, and libzmq then drops the bytes it has
    /// not read yet (a PULL held at its RCVHWM loses them). Waiting for end-of-file
    /// alone would hang on peers that keep their side open (zmq.rs does, until its
    /// socket is dropped).
    pub(crate) fn finish_sending(self: &Rc<Self>) {
        if self.closed.get() {
            return;
        }
        tracing::debug!(peer = %self.label, "queued messages written; waiting for the peer to take them");
        self.sent_all.set(true);
        match &self.io {
            ConnIo::Stream(stream) => {
                stream.shutdown_write();
                compio::runtime::spawn(close_once_taken(self.clone())).detach();
            }
            // Everything is in the peer's queue, ahead of the Close item.
            ConnIo::Inproc { .. } => self.close(DisconnectReason::Delivered),
        }
    }

    /// LINGER ran out while this connection was still delivering or waiting for
    /// the peer after the last message.
    pub(crate) fn linger_expired(&self) {
        if self.closed.get() {
            return;
        }
        let left = self.outbound.queued();
        if left > 0 {
            tracing::debug!(peer = %self.label, messages = left, "LINGER expired: queued messages dropped");
            self.close(DisconnectReason::LingerExpired);
        } else {
            self.close(DisconnectReason::LingerExpiredAwaitingPeer);
        }
    }

    /// A write failed: the connection is dead.
    pub(crate) fn write_failed(&self, e: std::io::Error) {
        self.close(DisconnectReason::WriteFailed(Arc::new(e)));
    }
}

/// Closes a half-closed connection once the peer has every byte (nothing left in
/// our send queue: acknowledged over TCP, read by the peer over ipc). Polls with a
/// growing interval; the reader ends the connection first if the peer closes.
async fn close_once_taken(conn: Rc<Conn>) {
    let mut pause = Duration::from_millis(1);
    let ConnIo::Stream(stream) = &conn.io else {
        return;
    };
    while !conn.closed.get() {
        match stream.unsent_bytes() {
            Ok(0) | Err(_) => {
                conn.close(DisconnectReason::Delivered);
                return;
            }
            Ok(_) => {}
        }
        compio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}
