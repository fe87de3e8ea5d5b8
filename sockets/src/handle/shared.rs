//! What a thread-safe [`Socket`](super::Socket) shares with the I/O thread that
//! runs its native socket: one queue of operations in order (messages to send,
//! and the rare control operations with their replies), one queue of received
//! messages, and the options the handle side needs (timeouts, REQ/REP state).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use bytes::Bytes;
use zeroring_zmtp::{Message, SocketType};

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::monitor::EventSink;
use crate::options::SocketOptions;
use crate::security::{Authenticator, PeerProperties};
use crate::xthread::queue::{BatchQueue, PushError};

/// Messages and operations queued from the handle to the I/O thread before a
/// sender waits, at most (SNDHWM, if lower, bounds it: see [`out_queue_for`]).
/// SNDHWM applies per peer on the native socket behind it too.
pub(crate) const OUT_QUEUE: usize = 4096;

/// How many operations the handle queues for the I/O thread: SNDHWM, so what a
/// handle holds beyond its native socket's queues stays within two SNDHWM (this
/// queue, and the batch the I/O thread took from it and is sending).
pub(crate) fn out_queue_for(options: &SocketOptions) -> usize {
    options.sndhwm.unwrap_or(OUT_QUEUE).clamp(1, OUT_QUEUE)
}
/// Received messages queued for the handle before the I/O thread stops taking
/// more from the native socket (whose RCVHWM then applies per peer).
pub(crate) const IN_QUEUE: usize = 4096;

/// A reply from the I/O thread to one control operation.
pub(crate) type Reply<T> = Arc<BatchQueue<Result<T>>>;

pub(crate) fn reply<T>() -> Reply<T> {
    Arc::new(BatchQueue::new(1))
}

/// Waits for a reply without blocking the runtime (any runtime: only the
/// waker is used).
pub(crate) async fn wait_reply<T>(reply: &Reply<T>) -> Result<T> {
    std::future::poll_fn(|cx| reply.poll_pop(cx))
        .await
        .unwrap_or(Err(Error::Closed))
}

/// Operations that need the native socket, with their replies.
#[derive(Debug)]
pub(crate) enum Control {
    Bind(String, Reply<Endpoint>),
    Connect(String, Reply<()>),
    Unbind(String, Reply<()>),
    Disconnect(String, Reply<()>),
    /// New options (already validated on the handle side).
    Options(Box<SocketOptions>),
    Subscribe(Bytes),
    Unsubscribe(Bytes),
    /// A send whose result the handle needs (ROUTER_MANDATORY).
    SendChecked(Message, Reply<()>),
    /// Starts feeding a handle's monitor.
    Monitor(Arc<EventSink>, Reply<()>),
    /// Installs (or removes) the socket's own authenticator.
    Authenticator(Option<Authenticator>),
}

/// A received message on its way to the handle, with its sender's properties
/// when the socket authenticated the sender (see `recv_with_peer`).
#[derive(Debug)]
pub(crate) struct Arrival {
    pub(crate) msg: Message,
    pub(crate) peer: Option<Arc<PeerProperties>>,
    /// REQ: how many requests the I/O thread had sent when this reply arrived
    /// (the reply answers the last of them); 0 for the other types.
    pub(crate) request: u64,
}

/// One entry of the operation queue.
#[derive(Debug)]
pub(crate) enum Op {
    Send(Message),
    Control(Control),
}

/// The types whose sends wait while no peer has room (the others drop or route).
pub(crate) fn sends_wait_for_peers(socket_type: SocketType) -> bool {
    matches!(
        socket_type,
        SocketType::Dealer | SocketType::Push | SocketType::Pair | SocketType::Req
    )
}

/// REQ and REP alternate: the handle checks it at once, as the native socket
/// would, so a misuse is reported by the call that makes it.
#[derive(Debug, Default)]
pub(crate) struct Turn {
    /// REQ: a request is out, its reply not received yet. REP: a request was
    /// received and not answered yet.
    pub(crate) waiting: bool,
    /// REQ: requests the handle has sent. With REQ_CORRELATE, a reply that
    /// arrived before the latest of them (its `Arrival::request` is lower) answers
    /// an earlier request and is dropped, as libzmq drops it.
    pub(crate) requests: u64,
}

/// The state shared by a handle (on any thread) and its I/O thread.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) socket_type: SocketType,
    pub(crate) ops: BatchQueue<Op>,
    pub(crate) inbound: BatchQueue<Arrival>,
    /// Received messages already taken from `inbound` in one batch, for the
    /// handle's receivers (one lock on the shared queue per batch, not per message).
    pub(crate) taken: Mutex<VecDeque<Arrival>>,
    pub(crate) options: Mutex<SocketOptions>,
    pub(crate) turn: Mutex<Turn>,
    /// Closed by the I/O thread once the native socket is closed and released.
    pub(crate) released: BatchQueue<()>,
    /// Closed when the handle is closed (the pump stops waiting for room that
    /// cannot come).
    closing: BatchQueue<()>,
    closed: AtomicBool,
    /// The native socket has no peer to send to (for the types whose sends wait
    /// for one), as its pump last saw it: sends wait, like libzmq's, instead of
    /// queueing for the I/O thread.
    blocked: AtomicBool,
    /// Senders waiting for `blocked` to clear.
    unblocked: Mutex<Vec<Waker>>,
}

impl Shared {
    pub(crate) fn new(socket_type: SocketType) -> Arc<Shared> {
        Arc::new(Shared {
            socket_type,
            ops: BatchQueue::new(out_queue_for(&SocketOptions::default())),
            inbound: BatchQueue::new(IN_QUEUE),
            taken: Mutex::new(VecDeque::new()),
            options: Mutex::new(SocketOptions::default()),
            turn: Mutex::new(Turn::default()),
            released: BatchQueue::new(1),
            closing: BatchQueue::new(1),
            closed: AtomicBool::new(false),
            // Until the pump says otherwise: the types whose sends wait for a
            // peer have none yet.
            blocked: AtomicBool::new(sends_wait_for_peers(socket_type)),
            unblocked: Mutex::new(Vec::new()),
        })
    }

    /// True while the native socket cannot take a message (see `blocked`).
    #[inline]
    pub(crate) fn is_blocked(&self) -> bool {
        self.blocked.load(Ordering::Acquire)
    }

    /// The pump's view of the native socket; clearing it wakes waiting senders.
    pub(crate) fn set_blocked(&self, blocked: bool) {
        if self.blocked.swap(blocked, Ordering::AcqRel) && !blocked {
            self.wake_unblocked();
        }
    }

    fn wake_unblocked(&self) {
        let waiting =
            std::mem::take(&mut *self.unblocked.lock().unwrap_or_else(|e| e.into_inner()));
        for w in waiting {
            w.wake();
        }
    }

    /// Ready once the native socket may take a message (or the handle closed).
    pub(crate) fn poll_unblocked(&self, cx: &mut std::task::Context<'_>) -> Poll<()> {
        if !self.is_blocked() || self.is_closed() {
            return Poll::Ready(());
        }
        let mut waiting = self.unblocked.lock().unwrap_or_else(|e| e.into_inner());
        if !self.is_blocked() || self.is_closed() {
            return Poll::Ready(());
        }
        if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// True when a send would not wait (a poller's POLLOUT); registers `cx` for
    /// the change if not.
    pub(crate) fn watch_writable(&self, cx: &mut std::task::Context<'_>) -> bool {
        self.poll_unblocked(cx).is_ready() && self.ops.watch_writable(cx)
    }

    /// Waits until the native socket may take a message (or the handle closed).
    pub(crate) async fn unblocked(&self) {
        std::future::poll_fn(|cx| self.poll_unblocked(cx)).await
    }

    pub(crate) fn options(&self) -> SocketOptions {
        self.options
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Reads a few options without copying them all (the send and receive paths).
    #[inline]
    pub(crate) fn option<T>(&self, f: impl FnOnce(&SocketOptions) -> T) -> T {
        f(&self.options.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// True for REQ and REP, whose sends and receives take turns.
    pub(crate) fn takes_turns(&self) -> bool {
        matches!(self.socket_type, SocketType::Req | SocketType::Rep)
    }

    /// Closes the handle: no more operations; the I/O thread runs what is queued,
    /// then closes the native socket (LINGER) and reports it released.
    pub(crate) fn request_close(&self) {
        self.closed.store(true, Ordering::Release);
        self.closing.close();
        self.ops.close();
        self.wake_unblocked();
    }

    /// Completes once the handle is closed.
    pub(crate) async fn closing(&self) {
        std::future::poll_fn(|cx| self.closing.poll_pop(cx)).await;
    }

    /// Waits until the I/O thread released the native socket.
    pub(crate) async fn released(&self) {
        std::future::poll_fn(|cx| self.released.poll_pop(cx)).await;
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The next received message, if one is there: from the batch taken before,
    /// or a new batch taken whole from the I/O thread's queue.
    pub(crate) fn next_received(&self) -> Option<Arrival> {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if taken.is_empty() {
                self.inbound.take_all(&mut taken);
            }
            let arrival = taken.pop_front()?;
            if !self.is_stale(&arrival) {
                return Some(arrival);
            }
        }
    }

    /// A REQ reply to an earlier request than the handle's latest, with
    /// REQ_CORRELATE on: it reached the handle's queue before the next request
    /// went out, where libzmq would still have it in the pipe and drop it.
    fn is_stale(&self, arrival: &Arrival) -> bool {
        if self.socket_type != SocketType::Req || !self.option(|o| o.req_correlate) {
            return false;
        }
        let turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        let stale = arrival.request < turn.requests;
        if stale {
            tracing::debug!("dropped a reply to an earlier request (REQ_CORRELATE)");
        }
        stale
    }

    /// [`Shared::next_received`], or registers `cx` for the next message.
    /// `Ready(None)` when the socket is closed and nothing is left.
    pub(crate) fn poll_received(&self, cx: &mut std::task::Context<'_>) -> Poll<Option<Arrival>> {
        let mut taken = self.taken.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            while let Some(arrival) = taken.pop_front() {
                if !self.is_stale(&arrival) {
                    return Poll::Ready(Some(arrival));
                }
            }
            match self.inbound.poll_take_all(cx, &mut taken) {
                Poll::Ready(_) if taken.is_empty() => return Poll::Ready(None),
                Poll::Ready(_) => continue,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// True when a received message is waiting (a poller); registers `cx` if not.
    pub(crate) fn watch_received(&self, cx: &mut std::task::Context<'_>) -> bool {
        if !self
            .taken
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            return true;
        }
        self.inbound.watch_readable(cx)
    }

    /// Queues an operation, or says it must wait (`Pending`, with the op given
    /// back through `slot`).
    pub(crate) fn poll_op(
        &self,
        cx: &mut std::task::Context<'_>,
        slot: &mut Option<Op>,
    ) -> Poll<Result<()>> {
        let Some(op) = slot.take() else {
            return Poll::Ready(Ok(()));
        };
        match self.ops.poll_push(cx, op) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(PushError::Full(op)) => {
                *slot = Some(op);
                Poll::Pending
            }
            Err(PushError::Closed(_)) => Poll::Ready(Err(Error::Closed)),
        }
    }

    /// Queues an operation, waiting while the queue is full.
    pub(crate) async fn push_op(&self, op: Op) -> Result<()> {
        let mut slot = Some(op);
        std::future::poll_fn(|cx| self.poll_op(cx, &mut slot)).await
    }

    /// Runs a control operation and waits for its reply.
    pub(crate) async fn control<T>(&self, make: impl FnOnce(Reply<T>) -> Control) -> Result<T> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let r = reply();
        self.push_op(Op::Control(make(r.clone()))).await?;
        wait_reply(&r).await
    }
}
