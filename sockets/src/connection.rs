//! One connection's life: handshake under HANDSHAKE_IVL, attach to the socket, the
//! reader loop (never cancelled mid-read), command handling, and closing with a reason.
//!
//! The task that runs [`run_connection`] is the connection's only reader. It decodes
//! frames zero-copy out of its read buffer, answers PING at once, and hands whole
//! messages to the socket's inbox. Closing a connection shuts the socket down, which
//! ends the pending read with end-of-file instead of cancelling it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use compio::BufResult;
use zeroring_zmtp::{Command, FrameDecoder, Handshake, HandshakeConfig, PeerInfo, ZmtpError};

use crate::core::{Core, PeerId};
use crate::heartbeat;
use crate::monitor::SocketEvent;
use crate::transport::Stream;
use crate::writer::ConnWriter;
use zeroring_zmtp::Message;

const READ_CHUNK: usize = 64 * 1024;
/// Reads grow up to this once a stream keeps them at least half full (fewer reads
/// and wake-ups per message); connections with light traffic stay at [`READ_CHUNK`].
const STREAM_READ_CHUNK: usize = 256 * 1024;
const HANDSHAKE_BUFFER: usize = 512;
const MAX_READ_RESERVE: usize = 4 * 1024 * 1024;
/// Largest frame body [`read_loop`] copies out of a nearly empty read instead of
/// slicing it (larger frames fill a good part of their buffer anyway).
const COPY_OUT_MAX: usize = 8 * 1024;
/// What a frame costs in memory besides its body (its `Bytes` handle), counted
/// toward MAXMSGSIZE for every frame of a message after the first.
pub(crate) const FRAME_COST: u64 = 32;

/// Shared state of one live connection.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: Stream,
    pub(crate) writer: Rc<ConnWriter>,
    pub(crate) label: String,
    closed: Cell<bool>,
    /// Notified when the connection is closed.
    pub(crate) close_notify: crate::notify::Notify,
    reason: RefCell<Option<String>>,
    last_recv: Cell<Instant>,
    /// TTL announced in the peer's PINGs.
    pub(crate) remote_ttl: Cell<Option<Duration>>,
    pub(crate) heartbeat_running: Cell<bool>,
    /// Everything queued for a close was written and our side is shut for writing:
    /// the reader waits for the peer to close its side.
    sent_all: Cell<bool>,
}

impl Conn {
    /// Closes the connection now (queued output is dropped) and records why.
    pub(crate) fn close(&self, reason: &str) {
        if self.closed.replace(true) {
            return;
        }
        tracing::debug!(peer = %self.label, %reason, "connection closed");
        *self.reason.borrow_mut() = Some(reason.to_string());
        self.writer.stream_lost();
        self.stream.shutdown_now();
        self.close_notify.notify_all();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
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
        self.stream.shutdown_write();
        compio::runtime::spawn(close_once_taken(self.clone())).detach();
    }

    /// LINGER ran out while this connection was still delivering or waiting for
    /// the peer to close after the last message.
    pub(crate) fn linger_expired(&self) {
        if self.closed.get() {
            return;
        }
        let left = self.writer.queued();
        if left > 0 {
            tracing::debug!(peer = %self.label, messages = left, "LINGER expired: queued messages dropped");
            self.close("LINGER expired before queued messages were delivered");
        } else {
            self.close("LINGER expired while waiting for the peer to close after the last message");
        }
    }

    /// Why the connection was closed, once it is.
    pub(crate) fn close_reason(&self) -> Option<String> {
        self.reason.borrow().clone()
    }

    pub(crate) fn last_recv(&self) -> Instant {
        self.last_recv.get()
    }
}

/// Closes a half-closed connection once the peer has every byte (nothing left in
/// our send queue: acknowledged over TCP, read by the peer over ipc). Polls with a
/// growing interval; the reader ends the connection first if the peer closes.
async fn close_once_taken(conn: Rc<Conn>) {
    let mut pause = Duration::from_millis(1);
    while !conn.closed.get() {
        match conn.stream.unsent_bytes() {
            Ok(0) | Err(_) => {
                conn.close("socket closed; queued messages delivered");
                return;
            }
            Ok(_) => {}
        }
        compio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Where a connection came from, so unbind/disconnect can close it.
pub(crate) type OriginId = u64;

/// Runs a connection from handshake to close. Returns when the connection is gone.
/// `slot` is the connect() endpoint's persistent peer slot, if it has one.
pub(crate) async fn run_connection(
    core: Rc<Core>,
    mut stream: Stream,
    origin: OriginId,
    slot: Option<PeerId>,
) {
    let opts = core.options.borrow().clone();
    stream.configure(opts.tcp_keepalive);
    let label = stream.peer_label();
    let mut cfg = HandshakeConfig::new(core.socket_type);
    cfg.routing_id = opts.routing_id.clone();
    // Small until the handshake succeeds: a crowd of connections that never finish
    // their handshake must not pin 64 KiB each.
    let mut buf = BytesMut::with_capacity(HANDSHAKE_BUFFER);

    let handshake = handshake(&mut stream, cfg, &mut buf);
    let result = if opts.handshake_ivl.is_zero() {
        handshake.await
    } else {
        match compio::time::timeout(opts.handshake_ivl, handshake).await {
            Ok(r) => r,
            Err(_) => Err("handshake not completed within HANDSHAKE_IVL".to_string()),
        }
    };
    let peer = match result {
        Ok(p) => p,
        Err(reason) => {
            tracing::debug!(peer = %label, %reason, "handshake failed");
            core.monitors.emit(|| SocketEvent::HandshakeFailed {
                peer: label.clone(),
                reason: reason.clone(),
            });
            stream.shutdown_now();
            return;
        }
    };

    let writer = core.writer_for(slot);
    let conn = Rc::new(Conn {
        stream: stream.clone(),
        writer: writer.clone(),
        label,
        closed: Cell::new(false),
        close_notify: crate::notify::Notify::default(),
        reason: RefCell::new(None),
        last_recv: Cell::new(Instant::now()),
        remote_ttl: Cell::new(None),
        heartbeat_running: Cell::new(false),
        sent_all: Cell::new(false),
    });
    let peer_id = match core.attach(&peer, conn.clone(), origin, slot) {
        Ok(id) => id,
        Err(reason) => {
            core.monitors.emit(|| SocketEvent::HandshakeFailed {
                peer: conn.label.clone(),
                reason: reason.clone(),
            });
            conn.close(&reason);
            return;
        }
    };
    core.monitors.emit(|| SocketEvent::HandshakeSucceeded {
        peer: conn.label.clone(),
    });
    tracing::debug!(peer = %conn.label, socket_type = %peer.socket_type, version = %peer.version, "connection ready");
    core.on_attached(peer_id);
    compio::runtime::spawn(writer.run_flusher(stream.clone(), conn.clone())).detach();
    if !opts.heartbeat_ivl.is_zero() {
        heartbeat::start(&conn, &opts);
    }

    let reason = read_loop(&core, &conn, &mut stream, buf, peer_id, &opts).await;
    // The loop may end (protocol error) right after queueing messages it had not
    // woken the receiver for yet.
    core.wake_receiver();
    core.detach(peer_id);
    if let Some(reason) = &reason {
        conn.close(reason);
    }
    core.monitors.emit(|| SocketEvent::Disconnected {
        peer: conn.label.clone(),
        reason: reason
            .or_else(|| conn.close_reason())
            .unwrap_or_else(|| "socket closed".to_string()),
    });
}

async fn handshake(
    stream: &mut Stream,
    cfg: HandshakeConfig,
    buf: &mut BytesMut,
) -> Result<PeerInfo, String> {
    let mut hs = Handshake::new(cfg);
    let BufResult(r, _) = stream.write_all(hs.greeting().to_vec()).await;
    r.map_err(|e| format!("cannot send greeting: {e}"))?;
    let mut out = BytesMut::new();
    loop {
        match hs.advance(buf, &mut out) {
            Ok(done) => {
                if !out.is_empty() {
                    let BufResult(r, _) = stream.write_all(out.split()).await;
                    r.map_err(|e| format!("cannot send READY: {e}"))?;
                }
                if let Some(peer) = done {
                    return Ok(peer);
                }
            }
            Err(e) => {
                if matches!(
                    e,
                    ZmtpError::IncompatibleSocketType { .. }
                        | ZmtpError::UnknownSocketType(_)
                        | ZmtpError::InvalidIdentity(_)
                ) {
                    // Tell the peer why, as libzmq does, before closing.
                    let mut err = BytesMut::new();
                    Command::Error(e.to_string()).encode(&mut err);
                    let _ = stream.write_all(err).await;
                }
                return Err(e.to_string());
            }
        }
        buf.reserve(256);
        let BufResult(r, b) = stream.read(std::mem::take(buf)).await;
        *buf = b;
        match r {
            Ok(0) => return Err(closed_during_handshake(&hs, buf.len())),
            Ok(_) => {}
            Err(e) => return Err(format!("read failed during the handshake: {e}")),
        }
    }
}

/// Why a peer probably closed before the handshake ended, from how far it got.
///
/// A libzmq server that requires PLAIN or CURVE reads our whole greeting (we send
/// it at once), sees NULL and closes without a word, usually before its own
/// greeting got out: the mechanism it wanted is never seen.
fn closed_during_handshake(hs: &Handshake, unread: usize) -> String {
    if hs.greeting_received() {
        return "peer closed the connection after its greeting, before READY \
                (it may refuse our socket type or routing id without saying so)"
            .into();
    }
    let seen = if unread == 0 {
        "before sending its greeting".to_string()
    } else {
        format!("after {unread} of the 64 bytes of its greeting")
    };
    format!(
        "peer closed the connection {seen}: probably a security mechanism mismatch \
         (zeroring offers NULL; a libzmq peer that requires PLAIN or CURVE closes \
         without a word), or the peer is not a ZMTP socket"
    )
}

/// Reads until the connection ends and returns the reason to close with. Once the
/// socket is closing, whatever arrives is dropped, and the loop ends when the peer
/// closes its side (after our last message, see [`Conn::finish_sending`]) or when
/// the connection is closed (LINGER).
async fn read_loop(
    core: &Rc<Core>,
    conn: &Rc<Conn>,
    stream: &mut Stream,
    mut buf: BytesMut,
    peer_id: PeerId,
    opts: &crate::options::SocketOptions,
) -> Option<String> {
    let max = opts.maxmsgsize;
    let mut decoder = FrameDecoder::new(max);
    let mut parts: smallvec::SmallVec<[Bytes; 3]> = smallvec::SmallVec::new();
    // A message's size for MAXMSGSIZE: its bodies plus FRAME_COST for every frame
    // after the first, so a stream of empty frames is bounded too.
    let mut msg_size: u64 = 0;
    let size_limit = max.map_or(u64::MAX, |m| m.saturating_add(FRAME_COST));
    let max_frames = opts.max_msg_frames.unwrap_or(usize::MAX);
    // Publishers look at every inbound message (subscriptions); every other socket
    // queues the messages of one read straight into the peer's queue and wakes the
    // receiver once.
    let plain = !core.is_publisher();
    // The previous read buffer: frames sliced from it may still be queued or held
    // by the application; once they are all dropped it is reused (see make_room).
    let mut spare = BytesMut::new();
    let mut chunk = READ_CHUNK;
    let inbox = core.inbox(peer_id);
    let mut unwoken = false;
    // Copy small frames out of the read buffer instead of slicing them (see below).
    let mut copy_out = false;
    loop {
        loop {
            let mut frame = match decoder.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Some(format!("protocol error: {e}")),
            };
            if copy_out && frame.body.len() <= COPY_OUT_MAX {
                frame.body = Bytes::copy_from_slice(&frame.body);
            }
            // A whole message from the peer, or a subscription report an XPUB
            // generated from a command (delivered like a message, under RCVHWM).
            let (msg, report) = if frame.command {
                match handle_command(core, peer_id, conn, frame.body) {
                    Ok(None) => continue,
                    Ok(Some(report)) => (report, true),
                    Err(reason) => return Some(reason),
                }
            } else {
                // Wraps only after 2^64 bytes actually arrived (bodies are counted
                // as they come, never from an announced size).
                msg_size = msg_size.wrapping_add(frame.body.len() as u64 + FRAME_COST);
                if msg_size > size_limit {
                    return Some(over_limit(msg_size - FRAME_COST, parts.len() + 1, opts));
                }
                // With MORE, at least one frame follows this one.
                if frame.more && parts.len() + 1 >= max_frames {
                    return Some(over_limit(msg_size - FRAME_COST, parts.len() + 2, opts));
                }
                parts.push(frame.body);
                if frame.more {
                    continue;
                }
                msg_size = 0;
                let mut msg = Message::from(std::mem::take(&mut parts).into_vec());
                if plain && let Some(inbox) = &inbox {
                    match core.queue_inbound(inbox, msg) {
                        Ok(()) => {
                            unwoken = true;
                            continue;
                        }
                        Err(m) => msg = m,
                    }
                }
                (msg, false)
            };
            // The waiting path: the receiver must see what is queued first.
            if std::mem::take(&mut unwoken) {
                core.wake_receiver();
            }
            if core
                .inbound_message(peer_id, conn, msg, report)
                .await
                .is_err()
                && conn.is_closed()
            {
                // Closed while waiting for room (its reason is recorded).
                return conn.close_reason();
            }
            // Otherwise the socket is closing and the message is dropped: the
            // reader goes on until the peer closes its side (finish_sending).
        }
        if std::mem::take(&mut unwoken) {
            core.wake_receiver();
            // Let the receiver run before the next read is prepared and submitted:
            // a reply it sends (REQ/REP) then leaves before the read's submission
            // work instead of after it.
            crate::core::yield_now().await;
        }
        if conn.is_closed() {
            return conn.close_reason();
        }
        let want = decoder
            .bytes_wanted(buf.len())
            .clamp(chunk, MAX_READ_RESERVE);
        make_room(&mut buf, &mut spare, want);
        let BufResult(r, b) = stream.read(buf).await;
        buf = b;
        match r {
            Ok(0) => {
                if conn.is_closed() {
                    return conn.close_reason();
                }
                if conn.sent_all.get() {
                    return Some("socket closed; queued messages delivered".to_string());
                }
                return Some(if parts.is_empty() && decoder.is_idle() && buf.is_empty() {
                    "peer closed the connection".to_string()
                } else {
                    "peer closed the connection in the middle of a message".to_string()
                });
            }
            Ok(n) => {
                conn.last_recv.set(Instant::now());
                // A frame sliced out of the read buffer keeps the whole buffer
                // alive while it is queued. When the application is behind (its
                // queue holds messages) and reads come back nearly empty, slicing
                // would pin a 64 KiB buffer per small message (64 MB at RCVHWM
                // 1000): copy those frames out, so the buffer is reused. Streams
                // (full reads) and a reader that keeps up still slice, zero-copy.
                copy_out = n < chunk / 8 && inbox.as_ref().is_some_and(|q| q.has_messages());
                // A read that took half the chunk or more means a stream is
                // backed up: read bigger from now on. (No shrinking: the buffers
                // keep their capacity anyway.)
                if n >= chunk / 2 {
                    chunk = (chunk * 2).min(STREAM_READ_CHUNK);
                }
            }
            Err(e) => return Some(format!("read failed: {e}")),
        }
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

/// Why a message was refused for its size or its number of frames.
#[cold]
fn over_limit(size: u64, frames: usize, opts: &crate::options::SocketOptions) -> String {
    match (opts.maxmsgsize, opts.max_msg_frames) {
        (Some(max), _) if size > max => format!(
            "message of {size}+ bytes (counting {FRAME_COST} per frame after the first) \
             exceeds MAXMSGSIZE {max}"
        ),
        (_, Some(max)) => format!(
            "message of {frames}+ frames exceeds the limit of {max} frames per message \
             (set_max_msg_frames)"
        ),
        _ => format!("message of {size}+ bytes exceeds the limits"),
    }
}

/// Handles one command; returns an XPUB subscription report to deliver, if any.
fn handle_command(
    core: &Core,
    peer: PeerId,
    conn: &Rc<Conn>,
    body: Bytes,
) -> Result<Option<Message>, String> {
    let cmd = Command::parse(body).map_err(|e| format!("protocol error: {e}"))?;
    match cmd {
        Command::Ping {
            ttl_deciseconds,
            context,
        } => {
            conn.writer.queue_pong(context);
            if ttl_deciseconds > 0 {
                conn.remote_ttl.set(Some(Duration::from_millis(
                    u64::from(ttl_deciseconds) * 100,
                )));
                heartbeat::ensure_ttl_watch(conn);
            }
        }
        Command::Pong(_) => {}
        Command::Error(reason) => return Err(format!("peer sent ERROR: {reason}")),
        Command::Ready(_) => return Err("protocol error: READY after the handshake".into()),
        Command::Subscribe(topic) => return Ok(core.on_subscription(peer, true, &topic)),
        Command::Cancel(topic) => return Ok(core.on_subscription(peer, false, &topic)),
        Command::Unknown { name, .. } => {
            tracing::debug!(peer = %conn.label, name = ?name, "ignoring unknown command");
        }
    }
    Ok(None)
}
