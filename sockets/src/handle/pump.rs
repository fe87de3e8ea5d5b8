//! The I/O thread's side of a thread-safe handle: two tasks around the native
//! socket. The outbound pump takes whole batches of operations from the handle
//! (one lock, one wake-up per batch at most) and runs them in order — a message
//! goes straight into the native socket's send path. The inbound pump receives
//! from the native socket and hands the handle everything that is waiting at once.
//! REQ and REP receive only in their turn (after a request, before a reply).

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use futures_util::future::{Either, select};
use zeroring_zmtp::{Message, SocketType};

use super::native::Native;
use super::shared::{Arrival, Control, Op, Shared};
use crate::error::Error;
use crate::inproc::registry::Registry;
use crate::notify::Notify;
use crate::options::SocketOptions;
use crate::security::authenticator::AuthenticatorSlot;

/// Received messages handed to the handle per batch at most.
const IN_BATCH: usize = 512;

/// What the two tasks of one handle share on the I/O thread.
struct Pump {
    native: Native,
    shared: Arc<Shared>,
    /// REQ: requests sent and not answered. REP: requests taken and not answered.
    owed: Cell<usize>,
    /// REQ: requests handled so far (sent or failed), the tag of the replies that
    /// arrive next (see `Arrival::request`).
    requests: Cell<u64>,
    /// `owed` changed, or the socket closed.
    turn: Notify,
    closed: Cell<bool>,
    /// The handle closed while a send waited for a peer and the socket has none:
    /// what is still queued cannot go anywhere.
    discard: Cell<bool>,
}

/// Starts the pumps of a handle on the current compio runtime, with its
/// context's `inproc://` names and authenticator; `closed` runs on the I/O
/// thread once the socket is closed and released.
pub(crate) fn start(
    shared: Arc<Shared>,
    inproc: Arc<Registry>,
    authenticator: Arc<AuthenticatorSlot>,
    closed: impl FnOnce() + 'static,
) {
    let native = Native::new(shared.socket_type, inproc);
    native.base().core.set_context_authenticator(authenticator);
    apply_options(&native, shared.options());
    let pump = Rc::new(Pump {
        native,
        shared,
        owed: Cell::new(0),
        requests: Cell::new(0),
        turn: Notify::default(),
        closed: Cell::new(false),
        discard: Cell::new(false),
    });
    if pump.native.receives() {
        compio::runtime::spawn(inbound(pump.clone())).detach();
    }
    compio::runtime::spawn(async move {
        outbound(&pump).await;
        pump.closed.set(true);
        pump.turn.notify_all();
        pump.shared.inbound.close();
        pump.shared.released.close();
        closed();
    })
    .detach();
}

/// The handle applies SNDTIMEO and RCVTIMEO itself, on its queues; the native
/// socket behind it always waits.
fn apply_options(native: &Native, mut options: SocketOptions) {
    options.sndtimeo = None;
    options.rcvtimeo = None;
    if let Err(e) = native.base().set_options(options) {
        tracing::warn!(error = %e, "options refused by the native socket");
    }
}

/// Runs the handle's operations until it is closed (or dropped).
async fn outbound(pump: &Pump) {
    let mut batch = VecDeque::new();
    loop {
        let closed = next_ops(pump, &mut batch).await;
        while let Some(op) = batch.pop_front() {
            match op {
                Op::Send(msg) => {
                    send(pump, msg).await;
                    // Counted once the request is out (or failed), so that a reply
                    // to the one before, received meanwhile, keeps its older tag.
                    if pump.shared.socket_type == SocketType::Req {
                        pump.requests.set(pump.requests.get() + 1);
                    }
                }
                Op::Control(c) => control(pump, c).await,
            }
        }
        if closed {
            // The handle was closed (or dropped, or its context terminated):
            // close the native socket, which delivers what is queued within LINGER.
            pump.shared.set_blocked(false);
            pump.native.base().close().await;
            pump.native.base().core.close_monitor_sinks();
            return;
        }
    }
}

/// Waits for the handle's next operations (true: the handle closed). Meanwhile
/// tells the handle whether the native socket has a peer to send to, and while
/// it has none, watches for one.
async fn next_ops(pump: &Pump, batch: &mut VecDeque<Op>) -> bool {
    let core = &pump.native.base().core;
    loop {
        let room = core.room_notified();
        let blocked = refresh_blocked(pump);
        let mut room = std::pin::pin!(room);
        let woke = std::future::poll_fn(|cx| {
            if let Poll::Ready(closed) = pump.shared.ops.poll_take_all(cx, batch) {
                return Poll::Ready(Some(closed));
            }
            if blocked && room.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        if let Some(closed) = woke {
            return closed;
        }
    }
}

/// Publishes whether the native socket has a peer to send to now.
fn refresh_blocked(pump: &Pump) -> bool {
    let blocked = !pump.native.can_send();
    pump.shared.set_blocked(blocked);
    blocked
}

async fn send(pump: &Pump, msg: Message) {
    if pump.discard.get() {
        return;
    }
    let msg = match pump.native.send_now(msg) {
        Ok(Ok(())) => return,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "a message from a thread-safe handle was not sent");
            return;
        }
        Err(msg) => msg,
    };
    let sending = std::pin::pin!(pump.native.send(msg));
    let result = match select(sending, std::pin::pin!(pump.shared.closing())).await {
        Either::Left((r, _)) => r,
        // Closing while this message waits for room: it waits, within LINGER,
        // like any queued message, as long as the socket has a peer it could
        // go to. With no peer left (none at the close, or the last one gone
        // since, as an inproc peer closed by the same context termination) it
        // can never go: libzmq would not have taken it.
        Either::Right((_, sending)) => {
            let within_linger = async {
                match select(sending, std::pin::pin!(no_peer_left(pump))).await {
                    Either::Left((r, _)) => r,
                    Either::Right(_) => {
                        tracing::debug!("closing with messages for no peer: dropped");
                        pump.discard.set(true);
                        Err(Error::Closed)
                    }
                }
            };
            match pump.native.base().options().linger {
                None => within_linger.await,
                Some(linger) => compio::time::timeout(linger, within_linger)
                    .await
                    .unwrap_or(Err(Error::Timeout("send"))),
            }
        }
    };
    match result {
        Ok(()) => match pump.shared.socket_type {
            SocketType::Req => {
                pump.owed.set(1);
                pump.turn.notify_all();
            }
            SocketType::Rep => {
                pump.owed.set(pump.owed.get().saturating_sub(1));
                pump.turn.notify_all();
            }
            _ => {}
        },
        Err(e) => tracing::debug!(error = %e, "a message from a thread-safe handle was not sent"),
    }
}

/// Completes once the native socket has no peer slot at all (a connect that
/// reconnects keeps its slot; an inproc connection's goes with it).
async fn no_peer_left(pump: &Pump) {
    let core = &pump.native.base().core;
    loop {
        let changed = core.room_notified();
        if !core.has_peer_slots() {
            return;
        }
        changed.await;
    }
}

async fn control(pump: &Pump, c: Control) {
    let base = pump.native.base();
    match c {
        Control::Bind(ep, reply) => {
            let _ = reply.push(base.bind(&ep).await);
        }
        Control::Connect(ep, reply) => {
            let result = base.connect(&ep).await;
            // The connect's slot may take messages from now on: say so before
            // the caller's next send.
            refresh_blocked(pump);
            let _ = reply.push(result);
        }
        Control::Unbind(ep, reply) => {
            let _ = reply.push(base.unbind(&ep));
        }
        Control::Disconnect(ep, reply) => {
            let _ = reply.push(base.disconnect(&ep));
        }
        Control::Options(options) => {
            apply_options(&pump.native, *options);
            refresh_blocked(pump);
        }
        Control::Subscribe(topic) => pump.native.subscribe(&topic, true),
        Control::Unsubscribe(topic) => pump.native.subscribe(&topic, false),
        Control::Monitor(sink, reply) => {
            base.core.monitor_into(&sink);
            let _ = reply.push(Ok(()));
        }
        Control::Authenticator(authenticator) => base.core.set_authenticator(authenticator),
        Control::SendChecked(msg, reply) => {
            let _ = reply.push(pump.native.send(msg).await);
        }
    }
}

/// Whether the inbound pump may receive now: REQ after a request went out, REP
/// before the reply to the last request it took; everything else always.
fn may_receive(pump: &Pump) -> bool {
    match pump.shared.socket_type {
        SocketType::Req => pump.owed.get() > 0,
        SocketType::Rep => pump.owed.get() == 0,
        _ => true,
    }
}

/// Receives until the socket closes, handing batches to the handle.
async fn inbound(pump: Rc<Pump>) {
    let mut batch: VecDeque<Arrival> = VecDeque::new();
    loop {
        while !may_receive(&pump) {
            let changed = pump.turn.notified();
            if pump.closed.get() {
                return;
            }
            changed.await;
        }
        let changed = pump.turn.notified();
        let first = match select(std::pin::pin!(pump.native.recv()), changed).await {
            Either::Left((Ok(msg), _)) => msg,
            Either::Left((Err(Error::Closed), _)) => return,
            Either::Left((Err(e), _)) => {
                tracing::debug!(error = %e, "receive for a thread-safe handle failed");
                return;
            }
            // The turn changed (or the socket closed) while waiting: look again.
            Either::Right(_) => {
                if pump.closed.get() {
                    return;
                }
                continue;
            }
        };
        match pump.shared.socket_type {
            SocketType::Req => pump.owed.set(0),
            SocketType::Rep => pump.owed.set(1),
            _ => {}
        }
        batch.push_back(arrival(&pump, first));
        while batch.len() < IN_BATCH {
            match pump.native.recv_now() {
                Some(msg) => batch.push_back(arrival(&pump, msg)),
                None => break,
            }
        }
        if !hand_over(&pump, &mut batch).await {
            return;
        }
    }
}

/// A message just received, with its sender's properties when the socket
/// authenticated it (read right after the receive that took the message).
#[inline]
fn arrival(pump: &Pump, msg: Message) -> Arrival {
    let core = &pump.native.base().core;
    let peer = if core.tracks_peers() {
        core.last_peer()
    } else {
        None
    };
    Arrival {
        msg,
        peer,
        request: pump.requests.get(),
    }
}

/// Moves `batch` into the handle's queue, waiting while it is full. False when
/// the handle is gone.
async fn hand_over(pump: &Pump, batch: &mut VecDeque<Arrival>) -> bool {
    loop {
        if pump.shared.inbound.push_from(batch) {
            return false;
        }
        if batch.is_empty() {
            return true;
        }
        std::future::poll_fn(|cx| {
            if pump.shared.inbound.watch_writable(cx) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
    }
}
