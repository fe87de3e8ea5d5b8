//! The outbound side of one connection: a write buffer that sends encode into, and
//! the flusher that hands it to io_uring.
//!
//! A send encodes the ZMTP frames of its message straight into [`ConnWriter`]'s
//! buffer (small bodies copied, bodies of [`LARGE_BODY`] bytes or more appended as
//! shared [`Bytes`] without a copy). No message object crosses a task boundary. The
//! flusher only submits writes: when it is idle, a send wakes it and the bytes go out
//! in the same runtime tick (latency path); while a write is in flight, later sends
//! accumulate in the buffer and leave together in the next write (throughput path).
//! No flush() exists.
//!
//! What one peer can make us hold is bounded: messages by SNDHWM and, optionally, by
//! a byte budget ([`SendLimit`]); the commands we send in answer to the peer (PONG)
//! and our own heartbeat PINGs wait in one slot each, so a peer that floods PINGs
//! and never reads costs nothing beyond that slot.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bytes::{BufMut, Bytes, BytesMut};
use compio::BufResult;
use zeroring_zmtp::{Command, frame};

use crate::connection::Conn;
use crate::notify::Notify;
use crate::transport::Stream;

/// Bodies at least this large are queued by reference instead of copied.
pub(crate) const LARGE_BODY: usize = 8 * 1024;
/// Segments of a pre-encoded (shared) message at least this large are queued by
/// reference; smaller ones are cheaper to copy than to reference-count.
pub(crate) const SHARED_SEGMENT: usize = 256;
/// Most segments handed to one vectored write (Linux refuses more than 1024).
const MAX_SEGMENTS: usize = 512;
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
            // Short frame: header and body in one copy-in.
            self.tail.reserve(2 + body.len());
            let flags = if more { frame::FLAG_MORE } else { 0 };
            self.tail.put_slice(&[flags, body.len() as u8]);
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

/// Commands waiting for the flusher, at most one of each kind. A newer PING from
/// the peer replaces the PONG still waiting (libzmq keeps one pending PONG too),
/// and our heartbeat never stacks PINGs behind a write the peer does not read.
#[derive(Debug, Default)]
struct PendingCommands {
    pong: Option<Bytes>,
    ping: Option<u16>,
}

/// Outbound buffer and flusher state of one connection.
#[derive(Debug)]
pub(crate) struct ConnWriter {
    out: RefCell<OutBuf>,
    commands: RefCell<PendingCommands>,
    /// Messages encoded but not yet accepted by the kernel.
    queued: Cell<usize>,
    /// Bytes of the batch being written (taken out of `out`).
    in_flight_bytes: Cell<usize>,
    flusher_idle: Cell<bool>,
    state: Cell<State>,
    /// Bumped when the connection behind this writer is lost; the flusher of that
    /// connection then exits and a later connection starts a new one.
    generation: Cell<u64>,
    /// The queue starts with the rest of a message whose beginning the direct path
    /// already wrote: it is meaningless on any other connection.
    partial_head: Cell<bool>,
    wake: Notify,
    /// The socket's "a peer has room again" notifier.
    room: Rc<Notify>,
    /// The live connection's stream, for the direct path (set while a flusher runs).
    direct: RefCell<Option<Stream>>,
}

impl ConnWriter {
    pub(crate) fn new(room: Rc<Notify>) -> ConnWriter {
        ConnWriter {
            out: RefCell::new(OutBuf {
                tail: BytesMut::with_capacity(INITIAL_BUFFER),
                ..OutBuf::default()
            }),
            commands: RefCell::new(PendingCommands::default()),
            queued: Cell::new(0),
            in_flight_bytes: Cell::new(0),
            flusher_idle: Cell::new(false),
            state: Cell::new(State::Open),
            generation: Cell::new(0),
            partial_head: Cell::new(false),
            wake: Notify::default(),
            room,
            direct: RefCell::new(None),
        }
    }

    /// True when another message may be queued under `limit` and the connection
    /// still accepts messages. One message may always go to a peer with nothing
    /// queued, however large it is.
    #[inline]
    pub(crate) fn has_room(&self, limit: SendLimit) -> bool {
        self.state.get() == State::Open
            && self.queued.get() < limit.msgs
            && (limit.bytes == usize::MAX || self.queued_bytes() < limit.bytes)
    }

    /// Bytes queued and not yet accepted by the kernel (frame headers included).
    fn queued_bytes(&self) -> usize {
        self.out.borrow().len() + self.in_flight_bytes.get()
    }

    /// Messages queued and not yet accepted by the kernel.
    pub(crate) fn queued(&self) -> usize {
        self.queued.get()
    }

    /// True while messages are queued and not yet written.
    pub(crate) fn has_queued(&self) -> bool {
        self.queued.get() > 0
    }

    /// Encodes `prefix` followed by `body` as one message. Both are frame lists;
    /// together they must hold at least one frame.
    ///
    /// With `eager` (REQ and REP, whose next step is always a receive), a message
    /// that finds the writer idle is written by this call itself with one
    /// non-blocking `send`: no io_uring submission, no task wake-up. Whatever the
    /// kernel does not take goes to the flusher as usual.
    pub(crate) fn encode_message(&self, prefix: &[Bytes], body: &[Bytes], eager: bool) {
        debug_assert!(!(prefix.is_empty() && body.is_empty()));
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

    /// Queues a single data frame that is protocol traffic rather than a user
    /// message (a ZMTP 3.0 subscription): it does not count toward the HWM.
    pub(crate) fn encode_control(&self, body: &Bytes) {
        if self.state.get() == State::Closed {
            return;
        }
        self.out.borrow_mut().put_frame(body, false);
        self.kick();
    }

    /// Queues a command frame the application asked for (SUBSCRIBE, CANCEL).
    /// Commands do not count toward the HWM.
    pub(crate) fn encode_command(&self, cmd: &Command) {
        if self.state.get() == State::Closed {
            return;
        }
        cmd.encode(&mut self.out.borrow_mut().tail);
        self.kick();
    }

    /// Answers a PING: the PONG waits in a single slot, so a newer PING replaces a
    /// PONG that has not left yet.
    pub(crate) fn queue_pong(&self, context: Bytes) {
        if self.state.get() == State::Closed {
            return;
        }
        self.commands.borrow_mut().pong = Some(context);
        self.kick();
    }

    /// Sends a heartbeat PING unless one is still waiting to leave.
    pub(crate) fn queue_ping(&self, ttl_deciseconds: u16) {
        if self.state.get() == State::Closed {
            return;
        }
        self.commands.borrow_mut().ping = Some(ttl_deciseconds);
        self.kick();
    }

    fn kick(&self) {
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
        }
    }

    /// The connection behind this writer is gone: its flusher stops. Messages not
    /// yet handed to the kernel stay queued for the next connection; if the writer
    /// was draining for a close, there is nothing left to deliver to.
    pub(crate) fn stream_lost(&self) {
        self.generation.set(self.generation.get() + 1);
        self.direct.borrow_mut().take();
        *self.commands.borrow_mut() = PendingCommands::default();
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
        self.room.notify_all();
    }

    /// Stops for good; queued data is dropped.
    pub(crate) fn abort(&self) {
        self.state.set(State::Closed);
        self.direct.borrow_mut().take();
        self.wake.notify_all();
        self.room.notify_all();
    }

    /// Moves the pending commands into the buffer (at a frame boundary).
    fn put_commands(&self, out: &mut OutBuf) {
        let mut cmds = self.commands.borrow_mut();
        if let Some(context) = cmds.pong.take() {
            Command::Pong(context).encode(&mut out.tail);
        }
        if let Some(ttl_deciseconds) = cmds.ping.take() {
            Command::Ping {
                ttl_deciseconds,
                context: Bytes::new(),
            }
            .encode(&mut out.tail);
        }
    }

    fn has_work(&self) -> bool {
        if !self.out.borrow().is_empty() {
            return true;
        }
        let cmds = self.commands.borrow();
        cmds.pong.is_some() || cmds.ping.is_some()
    }

    /// The flusher: writes whatever accumulated, one write at a time, until closed.
    /// A draining writer that has written everything half-closes the connection
    /// ([`Conn::finish_sending`]) and leaves the rest to the connection's reader.
    pub(crate) async fn run_flusher(self: Rc<Self>, mut stream: Stream, conn: Rc<Conn>) {
        let generation = self.generation.get();
        *self.direct.borrow_mut() = Some(stream.clone());
        let mut spare = BytesMut::with_capacity(INITIAL_BUFFER);
        loop {
            loop {
                if self.state.get() == State::Closed || self.generation.get() != generation {
                    return;
                }
                if self.has_work() {
                    break;
                }
                if self.state.get() == State::Draining {
                    self.state.set(State::Closed);
                    self.direct.borrow_mut().take();
                    conn.finish_sending();
                    return;
                }
                let woken = self.wake.notified();
                self.flusher_idle.set(true);
                woken.await;
                self.flusher_idle.set(false);
            }
            let (msgs, chunks) = {
                let mut out = self.out.borrow_mut();
                self.put_commands(&mut out);
                // The batch taken now carries the rest of a directly written message.
                self.partial_head.set(false);
                let msgs = std::mem::take(&mut out.msgs);
                self.in_flight_bytes.set(out.len());
                out.chunk_bytes = 0;
                if out.chunks.is_empty() {
                    std::mem::swap(&mut out.tail, &mut spare);
                    (msgs, None)
                } else {
                    // The whole batch leaves `out`, even when it takes several
                    // writes: if the connection is lost part-way, nothing that
                    // starts in the middle of a message may stay queued for the
                    // next connection.
                    let mut chunks = std::mem::take(&mut out.chunks);
                    if !out.tail.is_empty() {
                        chunks.push(out.tail.split().freeze());
                    }
                    (msgs, Some(chunks))
                }
            };
            let result = match chunks {
                None => {
                    let BufResult(r, buf) = stream.write_all(spare).await;
                    spare = buf;
                    spare.clear();
                    r
                }
                Some(mut chunks) => {
                    // Linux takes at most 1024 segments per write.
                    let mut r = Ok(());
                    while !chunks.is_empty() {
                        let rest = chunks.split_off(chunks.len().min(MAX_SEGMENTS));
                        r = stream.write_vectored_all(chunks).await.0;
                        if r.is_err() {
                            break;
                        }
                        chunks = rest;
                    }
                    r
                }
            };
            self.queued.set(self.queued.get().saturating_sub(msgs));
            self.in_flight_bytes.set(0);
            self.room.notify_all();
            if let Err(e) = result {
                conn.close(&format!("write failed: {e}"));
                return;
            }
        }
    }
}
/// Encodes a message once into segments that [`ConnWriter::encode_shared`] can queue
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
