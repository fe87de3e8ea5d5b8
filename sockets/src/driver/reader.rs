//! The reader of one connection, its only one, never cancelled mid-read: it
//! reads, lets the session turn the bytes into events, and queues whole messages
//! in the peer's inbox — every message of one read without a wake-up, then one
//! wake-up for the receiver. A full inbox (RCVHWM) pauses the reader, which
//! stops reading that peer.
//!
//! Frames are sliced out of the read buffer (zero-copy), so a buffer stays alive
//! while a message from it is queued. The reader alternates between two buffers
//! and reuses one once its frames are gone, and when the application is behind
//! and reads come back nearly empty it has the session copy small frames out, so
//! a trickle of small messages cannot pin a buffer each.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use compio::BufResult;
use futures_util::future::select;
use zeroring_zmtp::{Event, Message, Session, Step};

use super::conn::Conn;
use super::host::{Attached, ConnectionHost};
use crate::reason::DisconnectReason;
use crate::transport::Stream;
use crate::wait::yield_now;

const READ_CHUNK: usize = 64 * 1024;
/// Reads grow up to this once a stream keeps them at least half full (fewer reads
/// and wake-ups per message); connections with light traffic stay at [`READ_CHUNK`].
const STREAM_READ_CHUNK: usize = 256 * 1024;
/// The most a read reserves for the rest of one frame in one step; a frame with
/// more still to come grows its buffer as it arrives (see [`grow_for_large_frame`]).
const MAX_READ_RESERVE: usize = 4 * 1024 * 1024;

/// The connection's side of the receive path.
pub(crate) struct Reader<'a> {
    pub(crate) host: &'a dyn ConnectionHost,
    pub(crate) conn: &'a Rc<Conn>,
    pub(crate) session: &'a Rc<RefCell<Session>>,
    pub(crate) pipe: &'a Attached,
}

impl Reader<'_> {
    /// Reads until the connection ends and returns why. Once the socket is
    /// closing, whatever arrives is dropped, and the loop ends when the peer closes
    /// its side, when the peer has taken everything (see [`Conn::finish_sending`])
    /// or when the connection is closed (LINGER).
    pub(crate) async fn run(&self, stream: &mut Stream, mut buf: BytesMut) -> DisconnectReason {
        // The previous read buffer (see `make_room`).
        let mut spare = BytesMut::new();
        let mut chunk = READ_CHUNK;
        let mut unwoken = false;
        // `buf` was grown for a frame larger than MAX_READ_RESERVE (until that
        // frame is complete).
        let mut large = false;
        loop {
            match self.drain(&mut buf, &mut unwoken) {
                Err(reason) => return reason,
                Ok(Some(msg)) => {
                    // The waiting path: the receiver must see what is queued first.
                    if std::mem::take(&mut unwoken) {
                        self.pipe.queue.wake();
                    }
                    if self.deliver(msg).await.is_err() && self.conn.is_closed() {
                        return self.closed_reason();
                    }
                    // Otherwise the socket is closing and the message is dropped.
                    continue;
                }
                Ok(None) => {}
            }
            self.after_input();
            if std::mem::take(&mut unwoken) {
                self.pipe.queue.wake();
                // Let the receiver run before the next read is prepared and
                // submitted: a reply it sends (REQ/REP) then leaves before the
                // read's submission work instead of after it.
                yield_now().await;
            }
            if self.conn.is_closed() {
                return self.closed_reason();
            }
            let (wanted, mid_frame) = {
                let session = self.session.borrow();
                (session.bytes_wanted(buf.len()), session.frame_in_progress())
            };
            if wanted > MAX_READ_RESERVE || (large && mid_frame) {
                grow_for_large_frame(&mut buf, wanted);
                large = true;
            } else {
                if std::mem::take(&mut large) {
                    leave_large_buffer(&mut buf);
                }
                make_room(&mut buf, &mut spare, wanted.max(chunk));
            }
            let BufResult(r, b) = stream.read(buf).await;
            buf = b;
            let n = match r {
                Ok(0) => return self.end_of_file(buf.len()),
                Ok(n) => n,
                Err(e) => return DisconnectReason::ReadFailed(Arc::new(e)),
            };
            // A read that took half the chunk or more means a stream is backed up:
            // read bigger from now on (no shrinking: the buffers keep their
            // capacity anyway). A nearly empty read while the application is
            // behind: copy small frames out instead of pinning the buffer.
            if n >= chunk / 2 {
                chunk = (chunk * 2).min(STREAM_READ_CHUNK);
            }
            let detach = n < chunk / 8 && self.pipe.inbox.has_messages();
            let mut session = self.session.borrow_mut();
            session.received(Instant::now());
            session.detach_small_frames(detach);
        }
    }

    /// Queues every message `buf` holds (no wake-up). Returns a message that did
    /// not fit (the caller waits for room), or the end of the session.
    #[inline(always)]
    fn drain(
        &self,
        buf: &mut BytesMut,
        unwoken: &mut bool,
    ) -> Result<Option<Message>, DisconnectReason> {
        let queue = &self.pipe.queue;
        let inbox = &self.pipe.inbox;
        let accepts = self.pipe.accepts_messages;
        let mut session = self.session.borrow_mut();
        loop {
            let step = session.drive(buf, |msg| {
                if !accepts {
                    // A PUB drops what its subscribers send (but subscriptions).
                    return None;
                }
                match queue.queue(inbox, msg) {
                    Ok(()) => {
                        *unwoken = true;
                        None
                    }
                    Err(msg) => Some(msg),
                }
            })?;
            let msg = match step {
                Step::NeedInput => return Ok(None),
                Step::Event(Event::Message(msg)) => msg,
                Step::Event(Event::Subscribe(topic)) => {
                    match self.host.subscription(self.pipe.peer, true, &topic) {
                        // An XPUB's report waits for room like a message.
                        Some(report) => report,
                        None => continue,
                    }
                }
                Step::Event(Event::Cancel(topic)) => {
                    match self.host.subscription(self.pipe.peer, false, &topic) {
                        Some(report) => report,
                        None => continue,
                    }
                }
                // Both come only during the handshake, which is over here.
                Step::Event(Event::Ready(_) | Event::Authenticate(_)) => continue,
            };
            return Ok(Some(msg));
        }
    }

    /// After a read's events: the session may have protocol traffic to send (a
    /// PONG) or new deadlines (a TTL).
    fn after_input(&self) {
        let mut session = self.session.borrow_mut();
        if session.take_timers_changed() {
            self.conn.timers_changed();
        }
        if session.wants_transmit() {
            self.conn.outbound().kick();
        }
    }

    /// Hands a message to the inbox, waiting while it is at RCVHWM. Fails when the
    /// socket is closed, or when the connection is closed (unbind, disconnect,
    /// heartbeat timeout) while waiting for room: the reader must not stay parked
    /// on a dead connection.
    async fn deliver(&self, mut msg: Message) -> Result<(), ()> {
        let queue = &self.pipe.queue;
        loop {
            let space = self.pipe.inbox.space_notified();
            let closed = self.conn.closed_notified();
            if queue.is_closed() {
                return Err(());
            }
            match queue.queue(&self.pipe.inbox, msg) {
                Ok(()) => {
                    queue.wake();
                    return Ok(());
                }
                Err(m) => msg = m,
            }
            if self.conn.is_closed() {
                return Err(());
            }
            select(std::pin::pin!(space), std::pin::pin!(closed)).await;
        }
    }

    fn closed_reason(&self) -> DisconnectReason {
        self.conn.reason().unwrap_or(DisconnectReason::SocketClosed)
    }

    fn end_of_file(&self, unconsumed: usize) -> DisconnectReason {
        if self.conn.is_closed() {
            return self.closed_reason();
        }
        if self.conn.sent_all() {
            return DisconnectReason::Delivered;
        }
        DisconnectReason::Session(self.session.borrow().closed_by_peer(unconsumed))
    }
}

/// Gives `buf` room for at least `want` more bytes without allocating when it can.
///
/// Frames are sliced out of the read buffer, so right after a read's messages were
/// queued the buffer is still shared with them and cannot be reused in place. The
/// reader then alternates between two buffers: it continues in `spare` (the one
/// before) if everything sliced from it is gone, carrying over the bytes of an
/// incomplete frame; only if both are still in use does it allocate. The buffer
/// it leaves becomes the new `spare`.
fn make_room(buf: &mut BytesMut, spare: &mut BytesMut, want: usize) {
    if buf.try_reclaim(want) {
        return;
    }
    let needed = buf.len() + want;
    let mut next = if spare.try_reclaim(needed) {
        std::mem::take(spare)
    } else {
        BytesMut::with_capacity(needed.max(READ_CHUNK))
    };
    next.extend_from_slice(buf);
    buf.clear();
    *spare = std::mem::replace(buf, next);
}

/// Room for more of a frame that has more than [`MAX_READ_RESERVE`] still to come.
///
/// The buffer grows geometrically with what has arrived (at least
/// [`MAX_READ_RESERVE`] more, at most the rest of the frame), never to the size
/// the peer announced up front: a peer that announces 4 GiB and sends 10 MiB
/// costs about 10 MiB. Once the buffer holds nothing but this frame no message
/// shares it, and `reserve` grows the allocation in place (a large one is
/// remapped by the allocator, not copied), so a frame of any size is received
/// with no quadratic copying and about its own size in memory. Only the first
/// growth, while earlier messages may still share the buffer, copies what
/// arrived so far.
fn grow_for_large_frame(buf: &mut BytesMut, wanted: usize) {
    if buf.capacity() - buf.len() < wanted.min(MAX_READ_RESERVE) {
        buf.reserve(wanted.min(buf.len().max(MAX_READ_RESERVE)));
    }
}

/// After a large frame: go on in a fresh buffer with the bytes that followed it,
/// so that the frame's allocation leaves with its message instead of being
/// reused, still resident, for the small reads that come next.
fn leave_large_buffer(buf: &mut BytesMut) {
    let mut fresh = BytesMut::with_capacity(buf.len().max(READ_CHUNK));
    fresh.extend_from_slice(buf);
    *buf = fresh;
}
