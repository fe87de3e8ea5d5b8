//! The outbound half of a peer's pipe: the buffer sends encode their ZMTP frames
//! into, its limits (SNDHWM and the byte budget), and the hand-over of batches to
//! the connection's flusher (see the driver).
//!
//! A send encodes straight into [`Outbound`]'s buffer (small bodies copied,
//! bodies of [`LARGE_BODY`] bytes or more appended as shared [`Bytes`] without a
//! copy). No message object crosses a task boundary. When the flusher is idle a
//! send wakes it and the bytes go out in the same runtime tick (latency path);
//! while a write is in flight, later sends accumulate and leave together in the
//! next write (throughput path). No flush() exists.
//!
//! A connect() slot keeps its `Outbound` across reconnections, so messages queued
//! before a connection exists, or between two, go out on the next one.
//!
//! An `inproc://` peer's `Outbound` has no buffer: a message goes, as it is, into
//! the peer's queue (see `crate::inproc`), which SNDHWM bounds.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::{BufMut, Bytes, BytesMut};
use zeroring_zmtp::frame;

use super::PeerId;
use super::room::Room;
use crate::inproc::link::{Item, Queue};
use crate::notify::Notify;
use crate::transport::Stream;
use zeroring_zmtp::{Message, Version};

/// Bodies at least this large are queued by reference instead of copied.
pub(crate) const LARGE_BODY: usize = 8 * 1024;
/// Segments of a pre-encoded (shared) message at least this large are queued by
/// reference; smaller ones are cheaper to copy than to reference-count.
pub(crate) const SHARED_SEGMENT: usize = 256;
const INITIAL_BUFFER: usize = 16 * 1024;

/// How much may be queued to one peer before it counts as full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SendLimit {
    /// Messages (SNDHWM; `usize::MAX`: no limit).
    pub(crate) msgs: usize,
    /// Encoded bytes, frame headers included (`usize::MAX`: no limit).
    pub(crate) bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// Deliver what is queued, then shut the connection down.
    Draining,
    Closed,
}

#[derive(Debug, Default)]
struct OutBuf {
    /// Complete segments queued before `tail` (only when large bodies were queued).
    chunks: Vec<Bytes>,
    /// Bytes being appended to.
    tail: BytesMut,
    /// Messages encoded into `chunks` and `tail`.
    msgs: usize,
    /// Total length of `chunks`.
    chunk_bytes: usize,
}

impl OutBuf {
    fn is_empty(&self) -> bool {
        self.chunks.is_empty() && self.tail.is_empty()
    }

    /// Bytes waiting in this buffer (messages, and the odd command).
    fn len(&self) -> usize {
        self.tail.len() + self.chunk_bytes
    }

    fn push_chunk(&mut self, chunk: Bytes) {
        self.chunk_bytes += chunk.len();
        self.chunks.push(chunk);
    }

    /// Moves what `tail` holds into `chunks`, so a shared segment can follow it.
    fn seal_tail(&mut self) {
        if !self.tail.is_empty() {
            let head = self.tail.split().freeze();
            self.push_chunk(head);
        }
    }

    #[inline]
    fn put_frame(&mut self, body: &Bytes, more: bool) {
        if body.len() <= 255 {
            // Short frame: header and body in one reserve.
            self.tail.reserve(2 + body.len());
            self.tail
                .put_slice(&frame::short_header(body.len() as u8, more));
            self.tail.put_slice(body);
            return;
        }
        frame::encode_header(&mut self.tail, body.len(), more, false);
        if body.len() >= LARGE_BODY {
            self.seal_tail();
            self.push_chunk(body.clone());
        } else {
            self.tail.extend_from_slice(body);
        }
    }
}

/// What a flusher takes out of an [`Outbound`] for one write.
#[derive(Debug)]
pub(crate) enum Batch {
    /// Everything fit in one contiguous buffer (the caller's spare, swapped in).
    Contiguous(BytesMut),
    /// Segments to write vectored (large bodies shared, not copied).
    Segments(Vec<Bytes>),
}

/// An inproc peer's outbound side.
#[derive(Debug)]
struct InprocOut {
    /// The peer's queue.
    queue: Queue,
    /// A send found the queue full: the connection's driver watches for room.
    blocked: Cell<bool>,
    /// The SNDHWM that send saw (room means fewer queued than this).
    hwm: Cell<usize>,
    /// Wakes the connection's driver (blocked, draining, closed).
    kick: Notify,
    /// A message went into the link. Before the connection is set up, the
    /// binding side may hold it unconfirmed: it is still this side's to deliver.
    sent: Cell<bool>,
}

impl InprocOut {
    /// Puts `msg` into the peer's queue as it is. Room was checked (SNDHWM is the
    /// sender's limit, not the queue's); the message weighs what it would take
    /// encoded, for the SNDHWM byte budget.
    #[inline]
    fn push(&self, msg: Message) {
        let weight = msg
            .frames()
            .iter()
            .map(|f| f.len() + frame::header_len(f.len()))
            .sum();
        let _ = self.queue.push_weighed(Item::Message(msg), weight);
        self.sent.set(true);
    }
}

/// The outbound queue of one peer and the state of its flusher.
#[derive(Debug)]
pub(crate) struct Outbound {
    /// Set for an inproc peer: messages go straight into its queue.
    inproc: Option<InprocOut>,
    out: RefCell<OutBuf>,
    /// Messages encoded but not yet accepted by the kernel.
    queued: Cell<usize>,
    /// Bytes of the batch being written (taken out of `out`).
    in_flight_bytes: Cell<usize>,
    /// Messages in that batch.
    in_flight_msgs: Cell<usize>,
    flusher_idle: Cell<bool>,
    state: Cell<State>,
    /// Bumped when the connection behind this queue is lost; that connection's
    /// flusher then exits and a later connection starts a new one.
    generation: Cell<u64>,
    /// The queue starts with the rest of a message whose beginning the direct path
    /// already wrote: it is meaningless on any other connection.
    partial_head: Cell<bool>,
    wake: Notify,
    /// The socket's "a peer has room again" notifier.
    room: Rc<Room>,
    /// The peer slot this queue belongs to (set when the slot is created).
    peer: Cell<PeerId>,
    /// A round-robin send found this queue full and took it out of the
    /// rotation: when it makes room, it goes back through `room`.
    set_aside: Cell<bool>,
    /// The live connection's stream, for the direct path (set while a flusher
    /// runs, and only when the session sends frames as they are encoded).
    direct: RefCell<Option<Stream>>,
}

impl Outbound {
    pub(crate) fn new(room: Rc<Room>) -> Outbound {
        Outbound {
            inproc: None,
            out: RefCell::new(OutBuf {
                tail: BytesMut::with_capacity(INITIAL_BUFFER),
                ..OutBuf::default()
            }),
            queued: Cell::new(0),
            in_flight_bytes: Cell::new(0),
            in_flight_msgs: Cell::new(0),
            flusher_idle: Cell::new(false),
            state: Cell::new(State::Open),
            generation: Cell::new(0),
            partial_head: Cell::new(false),
            wake: Notify::default(),
            room,
            peer: Cell::new(0),
            set_aside: Cell::new(false),
            direct: RefCell::new(None),
        }
    }

    /// The outbound side of an inproc peer: messages go into `queue`.
    pub(crate) fn inproc(room: Rc<Room>, queue: Queue) -> Outbound {
        let mut out = Outbound::new(room);
        out.out = RefCell::new(OutBuf::default());
        out.inproc = Some(InprocOut {
            queue,
            blocked: Cell::new(false),
            hwm: Cell::new(usize::MAX),
            kick: Notify::default(),
            sent: Cell::new(false),
        });
        out
    }

    /// The peer slot this queue belongs to.
    pub(crate) fn set_peer(&self, peer: PeerId) {
        self.peer.set(peer);
    }

    /// The round-robin found this queue full and took it out of its rotation;
    /// the queue's next room brings it back ([`Room::peer_returned`]).
    pub(crate) fn set_aside(&self) {
        self.set_aside.set(true);
    }

    /// Takes the queue's set-aside mark (the socket puts it back into the
    /// rotation itself): true when it had one.
    pub(crate) fn take_set_aside(&self) -> bool {
        self.set_aside.replace(false)
    }

    /// This queue may have room again: wakes waiting sends, and returns the
    /// queue to the round-robin if a send set it aside.
    fn made_room(&self) {
        if self.set_aside.replace(false) {
            self.room.peer_returned(self.peer.get());
        } else {
            self.room.notify_all();
        }
    }

    /// True for an inproc peer.
    pub(crate) fn is_inproc(&self) -> bool {
        self.inproc.is_some()
    }

    /// True when another message may be queued under `limit` and the connection
    /// still accepts messages. One message may always go to a peer with nothing
    /// queued, however large it is.
    #[inline]
    pub(crate) fn has_room(&self, limit: SendLimit) -> bool {
        if let Some(ip) = &self.inproc {
            return self.state.get() == State::Open && self.inproc_room(ip, limit);
        }
        self.state.get() == State::Open
            && self.queued.get() < limit.msgs
            && (limit.bytes == usize::MAX || self.queued_bytes() < limit.bytes)
    }

    #[inline(never)]
    fn inproc_room(&self, ip: &InprocOut, limit: SendLimit) -> bool {
        if ip.queue.len() < limit.msgs
            && (limit.bytes == usize::MAX || ip.queue.weight() < limit.bytes)
        {
            return true;
        }
        // The driver watches for room and wakes the senders waiting on `room`.
        ip.hwm.set(limit.msgs);
        if !ip.blocked.replace(true) {
            ip.kick.notify_all();
        }
        false
    }

    /// Bytes queued and not yet accepted by the kernel (frame headers included).
    fn queued_bytes(&self) -> usize {
        self.out.borrow().len() + self.in_flight_bytes.get()
    }

    /// Messages queued and not yet accepted by the kernel (inproc: not yet taken
    /// by the peer).
    pub(crate) fn queued(&self) -> usize {
        match &self.inproc {
            Some(ip) => ip.queue.len(),
            None => self.queued.get(),
        }
    }

    /// True while messages are queued and not yet written.
    pub(crate) fn has_queued(&self) -> bool {
        self.queued() > 0
    }

    /// True when a peer that has no connection yet holds messages to deliver:
    /// queued here or, for inproc, sent into the link (where the binding side
    /// may hold them until the connection is set up, out of `queued`'s sight).
    pub(crate) fn holds_undelivered(&self) -> bool {
        self.has_queued() || self.inproc.as_ref().is_some_and(|ip| ip.sent.get())
    }

    /// Encodes `prefix` followed by `body` as one message. Both are frame lists;
    /// together they must hold at least one frame.
    ///
    /// With `eager` (REQ and REP, whose next step is always a receive), a message
    /// that finds the flusher idle is written by this call itself with one
    /// non-blocking `send`: no io_uring submission, no task wake-up. Whatever the
    /// kernel does not take goes to the flusher as usual.
    pub(crate) fn encode_message(&self, prefix: &[Bytes], body: &[Bytes], eager: bool) {
        debug_assert!(!(prefix.is_empty() && body.is_empty()));
        if let Some(ip) = &self.inproc {
            ip.push(prefix.iter().chain(body).cloned().collect());
            return;
        }
        self.encode_stream(prefix, body, eager);
    }

    /// Queues a whole message that has no prefix. An inproc peer takes the
    /// message itself out of `msg` (left empty; no frame is cloned); a stream
    /// peer gets it encoded by reference exactly as [`Outbound::encode_message`]
    /// would (`eager` likewise), and `msg` stays the caller's.
    pub(crate) fn send_message(&self, msg: &mut Message, eager: bool) {
        debug_assert!(!msg.is_empty());
        match &self.inproc {
            Some(ip) => ip.push(std::mem::take(msg)),
            None => self.encode_stream(&[], msg.frames(), eager),
        }
    }

    /// [`Outbound::encode_message`] for a stream peer: ZMTP frames into the buffer.
    #[inline(always)]
    fn encode_stream(&self, prefix: &[Bytes], body: &[Bytes], eager: bool) {
        let mut out = self.out.borrow_mut();
        let was_idle = self.flusher_idle.get() && out.is_empty();
        if let ([], [single]) = (prefix, body) {
            out.put_frame(single, false);
        } else {
            let total = prefix.len() + body.len();
            for (i, f) in prefix.iter().chain(body.iter()).enumerate() {
                out.put_frame(f, i + 1 != total);
            }
        }
        if eager
            && was_idle
            && out.chunks.is_empty()
            && let Some(stream) = self.direct.borrow().as_ref()
            && let Ok(n) = stream.try_send_now(&out.tail)
        {
            if n == out.tail.len() {
                out.tail.clear();
                return;
            }
            if n > 0 {
                let _ = out.tail.split_to(n);
                // The rest of this message must follow on the same connection.
                self.partial_head.set(true);
            }
        }
        out.msgs += 1;
        drop(out);
        self.queued.set(self.queued.get() + 1);
        self.kick();
    }

    /// Queues a message that was encoded once for several peers (PUB fan-out):
    /// segments of [`SHARED_SEGMENT`] bytes or more are shared, not copied.
    pub(crate) fn encode_shared(&self, segments: &[Bytes]) {
        {
            let mut out = self.out.borrow_mut();
            for seg in segments {
                if seg.len() >= SHARED_SEGMENT {
                    out.seal_tail();
                    out.push_chunk(seg.clone());
                } else {
                    out.tail.extend_from_slice(seg);
                }
            }
            out.msgs += 1;
        }
        self.queued.set(self.queued.get() + 1);
        self.kick();
    }

    /// Queues a subscription change the application asked for, in the form the
    /// peer's `version` expects (inproc: as it is). It does not count toward the HWM.
    pub(crate) fn send_subscription(&self, version: Version, subscribe: bool, topic: &Bytes) {
        if self.state.get() == State::Closed {
            return;
        }
        if let Some(ip) = &self.inproc {
            let item = if subscribe {
                Item::Subscribe(topic.clone())
            } else {
                Item::Cancel(topic.clone())
            };
            let _ = ip.queue.push_force(item);
            return;
        }
        zeroring_zmtp::subscription::encode(
            version,
            subscribe,
            topic,
            &mut self.out.borrow_mut().tail,
        );
        self.kick();
    }

    /// Wakes an idle flusher: data or protocol traffic (a PONG, a PING) waits.
    pub(crate) fn kick(&self) {
        if let Some(ip) = &self.inproc {
            ip.kick.notify_all();
            return;
        }
        if self.flusher_idle.get() {
            self.flusher_idle.set(false);
            self.wake.notify_all();
        }
    }

    /// Stops accepting messages; what is queued is still written, then the
    /// connection is shut down.
    pub(crate) fn drain_and_close(&self) {
        if self.state.get() == State::Open {
            self.state.set(State::Draining);
            self.wake.notify_all();
            if let Some(ip) = &self.inproc {
                ip.kick.notify_all();
            }
        }
    }

    /// The connection behind this queue is gone: its flusher stops. Messages not
    /// yet handed to the kernel stay queued for the next connection; if the queue
    /// was draining for a close, there is nothing left to deliver to.
    pub(crate) fn stream_lost(&self) {
        self.generation.set(self.generation.get() + 1);
        self.direct.borrow_mut().take();
        if self.partial_head.replace(false) {
            // A torn message must not reach the next connection: drop the queue
            // (REQ/REP, the only users of the direct path, hold one message at most).
            let mut out = self.out.borrow_mut();
            out.tail.clear();
            out.chunks.clear();
            out.chunk_bytes = 0;
            let msgs = std::mem::take(&mut out.msgs);
            self.queued.set(self.queued.get().saturating_sub(msgs));
        }
        if self.state.get() == State::Draining {
            self.state.set(State::Closed);
        }
        self.flusher_idle.set(false);
        self.wake.notify_all();
        self.made_room();
    }

    /// Stops for good; queued data is dropped.
    pub(crate) fn abort(&self) {
        self.state.set(State::Closed);
        self.direct.borrow_mut().take();
        self.wake.notify_all();
        self.made_room();
        if let Some(ip) = &self.inproc {
            ip.kick.notify_all();
        }
    }

    // ---- An inproc connection's driver (see `driver::inproc`). ----

    /// For the inproc driver: when a sender found the peer's queue full and the
    /// peer has since taken messages, wakes the senders waiting for room. Registers
    /// `cx` for that room otherwise.
    pub(crate) fn watch_inproc_room(&self, cx: &mut std::task::Context<'_>) {
        if let Some(ip) = &self.inproc
            && ip.blocked.get()
            && ip.queue.watch_below(cx, ip.hwm.get())
        {
            ip.blocked.set(false);
            self.made_room();
        }
    }

    /// A future for the inproc driver that completes when a sender is blocked or
    /// the state changes (draining, closed).
    pub(crate) fn inproc_kicked(&self) -> Option<crate::notify::Notified<'_>> {
        self.inproc.as_ref().map(|ip| ip.kick.notified())
    }

    /// True while the queue takes messages.
    pub(crate) fn is_open(&self) -> bool {
        self.state.get() == State::Open
    }

    // ---- The flusher's side (see `driver::flusher`). ----

    /// A connection's flusher starts: returns its generation. `direct` is the
    /// stream the direct path may write to (`None` when frames must pass through
    /// the session on their way out).
    pub(crate) fn start_flusher(&self, direct: Option<Stream>) -> u64 {
        *self.direct.borrow_mut() = direct;
        self.generation.get()
    }

    /// Whether the flusher of `generation` should go on.
    pub(crate) fn is_current(&self, generation: u64) -> bool {
        self.state.get() != State::Closed && self.generation.get() == generation
    }

    /// True when messages or commands wait in the buffer.
    pub(crate) fn has_data(&self) -> bool {
        !self.out.borrow().is_empty()
    }

    /// True when a close asked for what is queued to be delivered.
    pub(crate) fn is_draining(&self) -> bool {
        self.state.get() == State::Draining
    }

    /// True once the queue takes no more (closed for good).
    pub(crate) fn is_closed(&self) -> bool {
        self.state.get() == State::Closed
    }

    /// Everything was delivered for a close: no more writes.
    pub(crate) fn finish(&self) {
        self.state.set(State::Closed);
        self.direct.borrow_mut().take();
    }

    /// Waits until something is queued (or the state changes); the direct path
    /// may write meanwhile.
    pub(crate) async fn idle(&self) {
        let woken = self.wake.notified();
        self.flusher_idle.set(true);
        woken.await;
        self.flusher_idle.set(false);
    }

    /// Takes everything queued as one batch; `commands` appends protocol traffic
    /// (PONG, PING) at the end, at a frame boundary. A contiguous batch swaps the
    /// buffer with `spare` (the caller's, reused between writes).
    pub(crate) fn take_batch(
        &self,
        spare: &mut BytesMut,
        commands: impl FnOnce(&mut BytesMut),
    ) -> Batch {
        let mut out = self.out.borrow_mut();
        commands(&mut out.tail);
        // The batch taken now carries the rest of a directly written message.
        self.partial_head.set(false);
        self.in_flight_msgs.set(std::mem::take(&mut out.msgs));
        self.in_flight_bytes.set(out.len());
        out.chunk_bytes = 0;
        if out.chunks.is_empty() {
            std::mem::swap(&mut out.tail, spare);
            return Batch::Contiguous(std::mem::take(spare));
        }
        // The whole batch leaves, even when it takes several writes: if the
        // connection is lost part-way, nothing that starts in the middle of a
        // message may stay queued for the next connection.
        let mut chunks = std::mem::take(&mut out.chunks);
        if !out.tail.is_empty() {
            chunks.push(out.tail.split().freeze());
        }
        Batch::Segments(chunks)
    }

    /// The batch taken last is written (or lost with its connection).
    pub(crate) fn batch_done(&self) {
        let msgs = self.in_flight_msgs.replace(0);
        self.queued.set(self.queued.get().saturating_sub(msgs));
        self.in_flight_bytes.set(0);
        self.made_room();
    }
}

/// Encodes a message once into segments that [`Outbound::encode_shared`] can queue
/// on many connections: headers and small bodies packed together, bodies of
/// [`SHARED_SEGMENT`] bytes or more kept as the caller's `Bytes`.
pub(crate) fn encode_once(frames: &[Bytes]) -> Vec<Bytes> {
    let mut segments = Vec::with_capacity(2);
    let mut packed = BytesMut::new();
    let last = frames.len().saturating_sub(1);
    for (i, f) in frames.iter().enumerate() {
        frame::encode_header(&mut packed, f.len(), i != last, false);
        if f.len() >= SHARED_SEGMENT {
            segments.push(packed.split().freeze());
            segments.push(f.clone());
        } else {
            packed.extend_from_slice(f);
        }
    }
    if !packed.is_empty() {
        segments.push(packed.freeze());
    }
    segments
}
