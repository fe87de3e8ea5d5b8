//! The driver of one `inproc://` connection, on each side's own runtime: the
//! binding side accepts (or refuses, for incompatible socket types) and says who
//! it is; the connecting side waits for that and confirms unless it gave up
//! meanwhile; the binding side attaches the peer only once confirmed. Then each
//! side moves whatever the other queued — whole messages, subscriptions, the
//! final Close — into its socket, and wakes its senders when the peer made room.
//! No bytes are encoded.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;

use futures_util::FutureExt;
use futures_util::future::{Either, select};
use zeroring_zmtp::{Message, Metadata, PeerInfo, Version, ZmtpError};

use super::conn::{Conn, ConnIo};
use super::host::{Attached, ConnectionHost, OriginId};
use crate::inproc::link::{Item, Link, PeerMeta, Queue};
use crate::monitor::SocketEvent;
use crate::pipe::PeerId;
use crate::pipe::outbound::Outbound;
use crate::reason::{CloseReason, DisconnectReason};

/// What a handshake would have said about the peer.
fn peer_info(meta: &PeerMeta) -> PeerInfo {
    PeerInfo {
        version: Version::V3_1,
        socket_type: meta.socket_type,
        routing_id: meta.routing_id.clone(),
        metadata: Metadata::new(),
        user_id: None,
        zap_metadata: Metadata::new(),
    }
}

/// Tells the connecting side that the binding side is gone when the driver ends,
/// also when its runtime stops and drops the driver half-way (the socket leaked,
/// or dropped as the runtime ended): the peer then ends its side instead of
/// waiting forever. After a Close that went before, the peer ignores this one.
/// (The connecting side's counterpart is `socket::inproc`'s `Connecting`.)
struct HangUp {
    peer: Queue,
}

impl Drop for HangUp {
    fn drop(&mut self) {
        let _ = self.peer.push_force(Item::Close);
    }
}

/// The binding side of a new inproc connection; `stop` completes when the bind
/// is stopped (unbind, close) while the connecting side has not confirmed yet.
/// The hang-up is armed at once, so it also fires for a driver its runtime drops
/// before it first ran.
pub(crate) fn run_binder(
    host: Rc<dyn ConnectionHost>,
    link: Arc<Link>,
    origin: OriginId,
    label: String,
    stop: impl Future<Output = ()>,
) -> impl Future<Output = ()> {
    let hang_up = HangUp {
        peer: link.to_connecter.clone(),
    };
    async move {
        bind_side(host, link, origin, label, stop).await;
        drop(hang_up);
    }
}

async fn bind_side(
    host: Rc<dyn ConnectionHost>,
    link: Arc<Link>,
    origin: OriginId,
    label: String,
    stop: impl Future<Output = ()>,
) {
    let me = host.inproc_meta();
    if !me.socket_type.is_compatible(link.connecter.socket_type) {
        let e = ZmtpError::IncompatibleSocketType {
            ours: me.socket_type,
            theirs: link.connecter.socket_type,
        };
        let _ = link.to_connecter.push_force(Item::Refused(e.to_string()));
        host.events().emit(|| SocketEvent::HandshakeFailed {
            peer: label.clone(),
            reason: DisconnectReason::Session(CloseReason::Protocol(e)),
        });
        return;
    }
    let _ = link.to_connecter.push_force(Item::Hello(me));
    let mut early = VecDeque::new();
    if let Err(reason) = wait_for_ready(&link, &mut early, stop).await {
        host.events().emit(|| SocketEvent::HandshakeFailed {
            peer: label.clone(),
            reason,
        });
        return;
    }
    let outbound = Rc::new(Outbound::inproc(host.room(), link.to_connecter.clone()));
    let io = ConnIo::Inproc {
        outgoing: link.to_connecter.clone(),
        incoming: link.to_binder.clone(),
    };
    run(
        host,
        io,
        outbound,
        &link.connecter,
        origin,
        None,
        label,
        early,
    )
    .await;
}

/// The connecting side's confirmation, or why the connection ends before it
/// (the connecting side gave up, or `stop`). Whatever else it queued stays in
/// `early`, in order.
async fn wait_for_ready(
    link: &Link,
    early: &mut VecDeque<Item>,
    stop: impl Future<Output = ()>,
) -> Result<(), DisconnectReason> {
    let waiting = std::pin::pin!(wait_for(&link.to_binder, early, |item| {
        matches!(item, Item::Ready | Item::Close)
    }));
    match select(waiting, std::pin::pin!(stop)).await {
        Either::Left((Some(Item::Ready), _)) => Ok(()),
        Either::Left(_) => Err(DisconnectReason::Session(CloseReason::PeerClosed)),
        Either::Right(_) => Err(DisconnectReason::EndpointStopped),
    }
}

/// The connecting side: waits for the binding side's answer (or for `stop`:
/// disconnect, or close once LINGER ran out), then runs.
pub(crate) async fn run_connecter(
    host: Rc<dyn ConnectionHost>,
    link: Arc<Link>,
    origin: OriginId,
    slot: Option<PeerId>,
    label: String,
    stop: impl Future<Output = ()>,
) {
    let mut early = VecDeque::new();
    let mut stop = std::pin::pin!(stop);
    let answer = {
        let waiting = std::pin::pin!(wait_for_answer(&link, &mut early));
        match select(waiting, stop.as_mut()).await {
            Either::Left((answer, _)) => Some(answer),
            Either::Right(_) => None,
        }
    };
    // Stopped as the answer came: given up all the same.
    let answer = answer.filter(|_| stop.as_mut().now_or_never().is_none());
    let hello = match answer {
        Some(Ok(hello)) => hello,
        Some(Err(refused)) => {
            if let Some(reason) = refused {
                host.events().emit(|| SocketEvent::HandshakeFailed {
                    peer: label.clone(),
                    reason: DisconnectReason::Session(CloseReason::Protocol(ZmtpError::PeerError(
                        reason,
                    ))),
                });
            }
            host.drop_slot(slot);
            return;
        }
        None => {
            // Given up: a binding side that took the link already sees it end.
            let _ = link.to_binder.push_force(Item::Close);
            link.to_connecter.close();
            return;
        }
    };
    let _ = link.to_binder.push_force(Item::Ready);
    host.events().emit(|| SocketEvent::Connected {
        endpoint: label.clone(),
    });
    let outbound = match slot {
        Some(_) => host.outbound_for(slot),
        // ROUTER, or IMMEDIATE: nothing was queued before the connection.
        None => Rc::new(Outbound::inproc(host.room(), link.to_binder.clone())),
    };
    let io = ConnIo::Inproc {
        outgoing: link.to_binder.clone(),
        incoming: link.to_connecter.clone(),
    };
    run(host, io, outbound, &hello, origin, slot, label, early).await;
}

/// The binding side's answer: who it is, or why it refused (`None`: it hung up
/// or the link closed without an answer). Items that came after the answer stay
/// in `early`.
async fn wait_for_answer(
    link: &Link,
    early: &mut VecDeque<Item>,
) -> Result<PeerMeta, Option<String>> {
    let answer = wait_for(&link.to_connecter, early, |item| {
        matches!(item, Item::Hello(_) | Item::Refused(_) | Item::Close)
    });
    match answer.await {
        Some(Item::Hello(meta)) => Ok(meta),
        Some(Item::Refused(reason)) => Err(Some(reason)),
        _ => Err(None),
    }
}

/// Takes items from `queue` into `early` until one that `wanted` picks comes,
/// and returns it; every other item stays in `early`, in order. `None` when the
/// queue closes first.
async fn wait_for(
    queue: &Queue,
    early: &mut VecDeque<Item>,
    wanted: impl Fn(&Item) -> bool,
) -> Option<Item> {
    let mut seen = 0;
    loop {
        let closed = std::future::poll_fn(|cx| queue.poll_take_all(cx, early)).await;
        if let Some(i) = early.iter().skip(seen).position(&wanted) {
            return early.remove(seen + i);
        }
        seen = early.len();
        if closed {
            return None;
        }
    }
}

/// Attaches the peer and moves its items into the socket until the connection
/// ends.
#[allow(clippy::too_many_arguments)]
async fn run(
    host: Rc<dyn ConnectionHost>,
    io: ConnIo,
    outbound: Rc<Outbound>,
    peer: &PeerMeta,
    origin: OriginId,
    slot: Option<PeerId>,
    label: String,
    early: VecDeque<Item>,
) {
    let incoming = match &io {
        ConnIo::Inproc { incoming, .. } => incoming.clone(),
        ConnIo::Stream(_) => return,
    };
    let conn = Rc::new(Conn::new(io, outbound.clone(), label));
    let pipe = match host.attach(&peer_info(peer), &conn, origin, slot) {
        Ok(pipe) => pipe,
        Err(reason) => {
            host.events().emit(|| SocketEvent::HandshakeFailed {
                peer: conn.label().to_string(),
                reason: reason.clone(),
            });
            conn.close(reason);
            return;
        }
    };
    host.events().emit(|| SocketEvent::HandshakeSucceeded {
        peer: conn.label().to_string(),
    });
    let reason = Mover {
        host: &*host,
        conn: &conn,
        outbound: &outbound,
        pipe: &pipe,
        incoming: &incoming,
    }
    .run(early)
    .await;
    pipe.queue.wake();
    host.detach(pipe.peer);
    conn.close(reason);
    let reason = conn.reason().unwrap_or(DisconnectReason::SocketClosed);
    host.events().emit(|| SocketEvent::Disconnected {
        peer: conn.label().to_string(),
        reason,
    });
}

/// Moves one inproc connection's incoming items into the socket.
struct Mover<'a> {
    host: &'a dyn ConnectionHost,
    conn: &'a Rc<Conn>,
    outbound: &'a Rc<Outbound>,
    pipe: &'a Attached,
    incoming: &'a Queue,
}

impl Mover<'_> {
    async fn run(&self, mut batch: VecDeque<Item>) -> DisconnectReason {
        loop {
            loop {
                self.move_messages(&mut batch);
                let Some(item) = batch.pop_front() else { break };
                if let Some(end) = self.take(item).await {
                    return end;
                }
            }
            self.pipe.queue.wake();
            if self.conn.is_closed() {
                return self.closed_reason();
            }
            if self.outbound.is_draining() {
                // The socket is closing: everything it queued is in the peer's
                // queue already, ahead of the Close item.
                self.outbound.finish();
                self.conn.finish_sending();
                return self.closed_reason();
            }
            if self.outbound.is_closed() {
                return self.closed_reason();
            }
            if self.wait(&mut batch).await {
                return self.closed_reason();
            }
        }
    }

    /// Waits for items from the peer, room in the peer's queue for a blocked
    /// sender, or a change of our outbound state. True when the incoming queue
    /// is closed and empty.
    async fn wait(&self, batch: &mut VecDeque<Item>) -> bool {
        let Some(kicked) = self.outbound.inproc_kicked() else {
            return true;
        };
        let mut kicked = std::pin::pin!(kicked);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(closed) = self.incoming.poll_take_all(cx, batch) {
                return Poll::Ready(closed && batch.is_empty());
            }
            self.outbound.watch_inproc_room(cx);
            if kicked.as_mut().poll(cx).is_ready() || !self.outbound.is_open() {
                return Poll::Ready(false);
            }
            Poll::Pending
        })
        .await
    }

    /// The fast path: moves the run of messages at the front of `batch` into the
    /// inbox in one go while it is under RCVHWM, without a future per message.
    /// Whatever is left (the message that found the inbox full, a subscription,
    /// the Close) goes through [`Mover::take`], in order.
    fn move_messages(&self, batch: &mut VecDeque<Item>) {
        if !self.pipe.accepts_messages {
            return;
        }
        self.pipe
            .queue
            .queue_run(&self.pipe.inbox, || match batch.pop_front()? {
                Item::Message(msg) => Some(msg),
                other => {
                    batch.push_front(other);
                    None
                }
            });
    }

    /// Handles one item; `Some` when the connection ends.
    async fn take(&self, item: Item) -> Option<DisconnectReason> {
        let msg = match item {
            Item::Message(msg) if self.pipe.accepts_messages => msg,
            Item::Subscribe(topic) => self.host.subscription(self.pipe.peer, true, &topic)?,
            Item::Cancel(topic) => self.host.subscription(self.pipe.peer, false, &topic)?,
            Item::Close => {
                return Some(if self.conn.sent_all() {
                    DisconnectReason::Delivered
                } else {
                    DisconnectReason::Session(CloseReason::PeerClosed)
                });
            }
            Item::Message(_) | Item::Hello(_) | Item::Refused(_) | Item::Ready => return None,
        };
        if self.deliver(msg).await.is_err() && self.conn.is_closed() {
            return Some(self.closed_reason());
        }
        None
    }

    /// Queues a message under RCVHWM, waiting for room.
    async fn deliver(&self, mut msg: Message) -> Result<(), ()> {
        let queue = &self.pipe.queue;
        loop {
            let space = self.pipe.inbox.space_notified();
            let closed = self.conn.closed_notified();
            if queue.is_closed() {
                return Err(());
            }
            match queue.queue(&self.pipe.inbox, msg) {
                Ok(()) => return Ok(()),
                Err(m) => msg = m,
            }
            queue.wake();
            if self.conn.is_closed() {
                return Err(());
            }
            select(std::pin::pin!(space), std::pin::pin!(closed)).await;
        }
    }

    fn closed_reason(&self) -> DisconnectReason {
        self.conn.reason().unwrap_or(DisconnectReason::SocketClosed)
    }
}
