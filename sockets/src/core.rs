//! The state every socket type shares: its peers, their inbound queues, the
//! round-robin cursor, and the endpoints it binds and connects.
//!
//! Outbound: pattern logic picks a peer and encodes straight into that peer's
//! [`ConnWriter`]. Inbound: each peer has its own queue bounded by RCVHWM and
//! receives are fair-queued across peers with messages waiting.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use zeroring_zmtp::{PeerInfo, SocketType, Version};

use crate::connection::{Conn, OriginId};
use crate::error::{Error, Result};
use crate::monitor::MonitorHub;
use crate::notify::Notify;
use crate::options::SocketOptions;
use crate::peer_map::PeerMap;
use crate::pubsub::PubSub;
use crate::writer::{ConnWriter, SendLimit};
use zeroring_zmtp::Message;

/// Identifies a connection for the lifetime of a socket (never reused).
pub(crate) type PeerId = u64;

/// A peer slot ("pipe" in libzmq): an outbound buffer and an inbound queue, with the
/// connection currently serving it.
///
/// Accepted connections get a slot when their handshake completes and lose it when
/// they end. A connect() gets one slot at once that lives as long as the endpoint:
/// like libzmq (ZMQ_IMMEDIATE off), messages can be queued to it before the first
/// connection and between reconnections, and they go out when a connection is up.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    pub(crate) id: PeerId,
    /// Routing id of the current connection (empty while none).
    pub(crate) routing_id: Bytes,
    pub(crate) writer: Rc<ConnWriter>,
    pub(crate) conn: Option<Rc<Conn>>,
    pub(crate) version: Option<Version>,
    pub(crate) origin: OriginId,
    /// Created by connect(): survives its connections.
    pub(crate) persistent: bool,
}

/// One peer's inbound queue, bounded by RCVHWM.
///
/// Shared by `Rc` between the socket's peer table, the ready list (while it holds
/// messages) and the connection reader, so neither a delivery nor a receive looks
/// anything up by peer id.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    id: PeerId,
    routing_id: RefCell<Bytes>,
    msgs: RefCell<VecDeque<Message>>,
    /// In the socket's ready list.
    in_ready: Cell<bool>,
    /// The peer is gone; the queue stays until its messages are read.
    detached: Cell<bool>,
    /// No longer part of the socket: messages handed to it are dropped.
    removed: Cell<bool>,
}

impl Inbox {
    fn new(id: PeerId) -> Rc<Inbox> {
        Rc::new(Inbox {
            id,
            ..Inbox::default()
        })
    }

    /// True while messages wait in this queue for the application.
    pub(crate) fn has_messages(&self) -> bool {
        !self.msgs.borrow().is_empty()
    }
}

/// A bind or connect registered on the socket.
#[derive(Debug)]
pub(crate) struct EndpointTask {
    pub(crate) id: OriginId,
    /// The endpoint as the user wrote it, and the resolved form for bind.
    pub(crate) names: Vec<String>,
    pub(crate) stopped: Cell<bool>,
    pub(crate) stop: Notify,
    /// The socket is closed but this connect() still has queued messages to
    /// deliver within LINGER: keep connecting until they are out.
    pub(crate) draining: Cell<bool>,
}

#[derive(Debug, Default)]
struct State {
    peers: Vec<Peer>,
    rr: usize,
    by_routing_id: HashMap<Bytes, PeerId>,
    inbound: PeerMap<Rc<Inbox>>,
    /// Inboxes holding messages, in fair-queue order.
    ready: VecDeque<Rc<Inbox>>,
    next_peer_id: PeerId,
    next_generated_id: u32,
    endpoints: Vec<Rc<EndpointTask>>,
    next_origin: OriginId,
}

/// Shared core of a socket. Socket types hold it in an `Rc`; connection tasks too.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) socket_type: SocketType,
    pub(crate) options: RefCell<SocketOptions>,
    /// SNDHWM and the byte budget from `options`, as every send checks them
    /// (refreshed by [`Core::options_changed`]).
    send_limit: Cell<SendLimit>,
    state: RefCell<State>,
    /// Event fan-out to the application's monitors.
    pub(crate) monitors: MonitorHub,
    /// Subscriptions (PUB, SUB, XPUB, XSUB only).
    pub(crate) pubsub: RefCell<PubSub>,
    /// A message arrived in some inbound queue.
    pub(crate) inbox_notify: Notify,
    /// A peer attached or detached, or a writer made room.
    pub(crate) room_notify: Rc<Notify>,
    /// A full inbound queue has room again.
    space_notify: Notify,
    closed: Cell<bool>,
    pub(crate) listeners_open: Cell<usize>,
    /// A listener was released or a peer detached.
    pub(crate) lifecycle: Notify,
}

/// A message taken from the inbox, with the peer it came from.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) peer: PeerId,
    pub(crate) routing_id: Bytes,
    pub(crate) msg: Message,
}

/// What happened to a message sent to one specific peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routed {
    Sent,
    NoSuchPeer,
    Full,
}

impl Core {
    pub(crate) fn new(socket_type: SocketType) -> Rc<Core> {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0)
            ^ std::process::id().rotate_left(16);
        Rc::new(Core {
            socket_type,
            options: RefCell::new(SocketOptions::default()),
            send_limit: Cell::new(SocketOptions::default().send_limit()),
            state: RefCell::new(State {
                next_generated_id: seed,
                next_peer_id: 1,
                ..State::default()
            }),
            pubsub: RefCell::new(PubSub::default()),
            monitors: MonitorHub::default(),
            inbox_notify: Notify::default(),
            room_notify: Rc::new(Notify::default()),
            space_notify: Notify::default(),
            closed: Cell::new(false),
            listeners_open: Cell::new(0),
            lifecycle: Notify::default(),
        })
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// Applies an option change: refreshes what the send path caches and wakes
    /// sends that wait for room (a raised limit may make some).
    pub(crate) fn options_changed(&self) {
        self.send_limit.set(self.options.borrow().send_limit());
        self.room_notify.notify_all();
    }

    /// The send limits every send checks.
    #[inline]
    pub(crate) fn send_limit(&self) -> SendLimit {
        self.send_limit.get()
    }

    /// Creates the persistent slot of a connect() endpoint (not for ROUTER, whose
    /// peers are only addressable once their routing id is known).
    pub(crate) fn create_pending(&self, origin: OriginId) -> PeerId {
        let mut st = self.state.borrow_mut();
        let id = st.next_peer_id;
        st.next_peer_id += 1;
        st.inbound.insert(id, Inbox::new(id));
        st.peers.push(Peer {
            id,
            routing_id: Bytes::new(),
            writer: Rc::new(ConnWriter::new(self.room_notify.clone())),
            conn: None,
            version: None,
            origin,
            persistent: true,
        });
        drop(st);
        self.room_notify.notify_all();
        id
    }

    /// The writer a new connection will use: its endpoint's slot's, or a fresh one.
    pub(crate) fn writer_for(&self, slot: Option<PeerId>) -> Rc<ConnWriter> {
        let st = self.state.borrow();
        slot.and_then(|id| st.peers.iter().find(|p| p.id == id))
            .map(|p| p.writer.clone())
            .unwrap_or_else(|| Rc::new(ConnWriter::new(self.room_notify.clone())))
    }

    /// Registers a handshaken connection, in its endpoint's slot or in a new one.
    /// Fails (with the reason to close it) when the socket type refuses another peer
    /// or the routing id is taken.
    pub(crate) fn attach(
        &self,
        info: &PeerInfo,
        conn: Rc<Conn>,
        origin: OriginId,
        slot: Option<PeerId>,
    ) -> Result<PeerId, String> {
        let mut st = self.state.borrow_mut();
        let draining = st
            .endpoints
            .iter()
            .any(|t| t.id == origin && t.draining.get());
        if self.closed.get() && !(slot.is_some() && draining) {
            return Err("socket is closed".into());
        }
        // unbind/disconnect while this connection was still in its handshake: the
        // endpoint is gone, so the connection must not become a peer.
        if !st.endpoints.iter().any(|t| t.id == origin) {
            return Err("its endpoint was unbound or disconnected during the handshake".into());
        }
        if self.socket_type == SocketType::Pair && st.peers.iter().any(|p| Some(p.id) != slot) {
            return Err("PAIR socket already has a peer".into());
        }
        let routing_id = match &info.routing_id {
            Some(id) => id.clone(),
            None => {
                let n = st.next_generated_id;
                st.next_generated_id = n.wrapping_add(1);
                let mut id = vec![0u8];
                id.extend_from_slice(&n.to_be_bytes());
                Bytes::from(id)
            }
        };
        let routed = self.socket_type == SocketType::Router;
        if routed && st.by_routing_id.contains_key(&routing_id) {
            return Err(format!(
                "routing id {} is already used by another peer",
                crate::error::RoutingIdDisplay(&routing_id)
            ));
        }
        let id = match slot.and_then(|id| st.peers.iter().position(|p| p.id == id)) {
            Some(pos) => {
                let peer = &mut st.peers[pos];
                peer.conn = Some(conn);
                peer.routing_id = routing_id.clone();
                peer.version = Some(info.version);
                peer.id
            }
            None if slot.is_some() => return Err("its endpoint was disconnected".into()),
            None => {
                let id = st.next_peer_id;
                st.next_peer_id += 1;
                st.inbound.insert(id, Inbox::new(id));
                st.peers.push(Peer {
                    id,
                    routing_id: routing_id.clone(),
                    writer: conn.writer.clone(),
                    conn: Some(conn),
                    version: Some(info.version),
                    origin,
                    persistent: false,
                });
                id
            }
        };
        if let Some(q) = st.inbound.get(&id) {
            *q.routing_id.borrow_mut() = routing_id.clone();
        }
        if routed {
            st.by_routing_id.insert(routing_id, id);
        }
        drop(st);
        self.room_notify.notify_all();
        self.lifecycle.notify_all();
        Ok(id)
    }

    /// Called when a peer's connection ended. An accepted peer's slot is removed; a
    /// connect() slot stays, keeping its queued messages for the next connection.
    /// Messages already received stay readable either way.
    pub(crate) fn detach(&self, id: PeerId) {
        let (keep, finished_drain) = {
            let mut st = self.state.borrow_mut();
            let State {
                peers,
                by_routing_id,
                endpoints,
                ..
            } = &mut *st;
            match peers.iter_mut().find(|p| p.id == id) {
                Some(p) => {
                    by_routing_id.remove(&p.routing_id);
                    p.conn = None;
                    let keep = p.persistent
                        && !self.closed.get()
                        && endpoints.iter().any(|t| t.id == p.origin);
                    // A closed socket's connect() that was delivering its last
                    // messages is done now.
                    let finished = endpoints
                        .iter()
                        .find(|t| p.persistent && self.closed.get() && t.id == p.origin)
                        .cloned();
                    (keep, finished)
                }
                None => (false, None),
            }
        };
        if let Some(task) = finished_drain {
            task.stopped.set(true);
            task.stop.notify_all();
        }
        self.on_detached(id);
        if !keep {
            self.remove_peer(id);
        }
        self.lifecycle.notify_all();
        // A send waiting for this peer to have room (ROUTER_MANDATORY) must see it
        // gone; the writer's own wake-up may have come before the detach.
        self.room_notify.notify_all();
    }

    /// Drops a slot: its queued output is discarded, its received messages stay.
    pub(crate) fn remove_peer(&self, id: PeerId) {
        let mut st = self.state.borrow_mut();
        if let Some(pos) = st.peers.iter().position(|p| p.id == id) {
            let peer = st.peers.remove(pos);
            if st.rr > pos {
                st.rr -= 1;
            }
            if st.by_routing_id.get(&peer.routing_id) == Some(&id) {
                st.by_routing_id.remove(&peer.routing_id);
            }
            peer.writer.abort();
        }
        if let Some(q) = st.inbound.get(&id) {
            if q.msgs.borrow().is_empty() {
                q.removed.set(true);
                st.inbound.remove(&id);
            } else {
                q.detached.set(true);
            }
        }
    }

    /// Hands a complete inbound message to the socket, waiting while that peer's
    /// queue is at RCVHWM. Fails when the socket is closed, or when the connection
    /// is closed (unbind, disconnect, heartbeat timeout) while waiting for room: the
    /// reader must not stay parked on a dead connection, which would keep the peer
    /// attached (peer count, routing id, PAIR slot) until the application reads.
    pub(crate) async fn deliver(
        &self,
        peer: PeerId,
        conn: &Conn,
        mut msg: Message,
    ) -> Result<(), ()> {
        loop {
            let space = self.space_notify.notified();
            let conn_closed = conn.close_notify.notified();
            if self.closed.get() {
                return Err(());
            }
            match self.try_deliver(peer, msg) {
                Ok(()) => return Ok(()),
                Err(m) => msg = m,
            }
            if conn.is_closed() {
                return Err(());
            }
            futures_util::future::select(std::pin::pin!(space), std::pin::pin!(conn_closed)).await;
        }
    }

    /// Runs `f` over the peer slots (connected or not).
    pub(crate) fn with_peers<R>(&self, f: impl FnOnce(&[Peer]) -> R) -> R {
        f(&self.state.borrow().peers)
    }

    /// Runs `f` on one peer slot, if it exists.
    pub(crate) fn with_peer(&self, id: PeerId, f: impl FnOnce(&Peer)) {
        if let Some(p) = self.state.borrow().peers.iter().find(|p| p.id == id) {
            f(p);
        }
    }

    /// Queues a message the socket generated itself (the XPUB unsubscriptions of a
    /// peer that left) in `peer`'s inbound queue, regardless of RCVHWM.
    pub(crate) fn deliver_now(&self, peer: PeerId, msg: Message) {
        let _ = self.try_deliver_with(peer, msg, 0);
        self.inbox_notify.notify_all();
    }

    fn try_deliver(&self, peer: PeerId, msg: Message) -> Result<(), Message> {
        let hwm = self.options.borrow().rcvhwm;
        self.try_deliver_with(peer, msg, hwm)?;
        self.inbox_notify.notify_all();
        Ok(())
    }

    /// The inbound queue of `peer`, for its connection reader.
    pub(crate) fn inbox(&self, peer: PeerId) -> Option<Rc<Inbox>> {
        self.state.borrow().inbound.get(&peer).cloned()
    }

    /// The reader's fast path: queues a whole message under RCVHWM without waking
    /// the receiver. The caller wakes it once ([`Core::wake_receiver`]) after
    /// queueing everything one read brought in, and before it waits for anything.
    /// Gives the message back when the queue is full or the socket is closed (the
    /// caller then takes the waiting path, [`Core::inbound_message`]).
    #[inline]
    pub(crate) fn queue_inbound(&self, inbox: &Rc<Inbox>, msg: Message) -> Result<(), Message> {
        if self.closed.get() {
            return Err(msg);
        }
        let hwm = self.options.borrow().rcvhwm;
        self.push_inbox(inbox, msg, hwm)
    }

    /// Wakes a receiver waiting for messages that [`Core::queue_inbound`] queued.
    pub(crate) fn wake_receiver(&self) {
        self.inbox_notify.notify_all();
    }

    /// Queues `msg` (no wake-up) unless the queue is at `hwm` (0: unlimited).
    fn try_deliver_with(&self, peer: PeerId, msg: Message, hwm: usize) -> Result<(), Message> {
        let inbox = self.state.borrow().inbound.get(&peer).cloned();
        match inbox {
            Some(inbox) => self.push_inbox(&inbox, msg, hwm),
            None => Ok(()),
        }
    }

    #[inline]
    fn push_inbox(&self, inbox: &Rc<Inbox>, msg: Message, hwm: usize) -> Result<(), Message> {
        if inbox.removed.get() {
            return Ok(());
        }
        let mut q = inbox.msgs.borrow_mut();
        if hwm != 0 && q.len() >= hwm {
            return Err(msg);
        }
        q.push_back(msg);
        drop(q);
        if !inbox.in_ready.replace(true) {
            self.state.borrow_mut().ready.push_back(inbox.clone());
        }
        Ok(())
    }

    /// Takes the next message in fair-queue order.
    #[inline(always)]
    pub(crate) fn try_recv(&self) -> Option<Received> {
        let hwm = self.options.borrow().rcvhwm;
        let mut st = self.state.borrow_mut();
        loop {
            let inbox = st.ready.front()?;
            let mut q = inbox.msgs.borrow_mut();
            let was_full = hwm != 0 && q.len() >= hwm;
            let Some(msg) = q.pop_front() else {
                drop(q);
                inbox.in_ready.set(false);
                st.ready.pop_front();
                continue;
            };
            let now_empty = q.is_empty();
            drop(q);
            let peer = inbox.id;
            // Only ROUTER hands the routing id to the application.
            let routing_id = if self.socket_type == SocketType::Router {
                inbox.routing_id.borrow().clone()
            } else {
                Bytes::new()
            };
            if now_empty {
                inbox.in_ready.set(false);
                if inbox.detached.get() {
                    inbox.removed.set(true);
                    st.inbound.remove(&peer);
                }
                st.ready.pop_front();
            } else if st.ready.len() > 1 {
                // Fair queuing: this peer goes behind the others with messages.
                st.ready.rotate_left(1);
            }
            drop(st);
            if was_full {
                self.space_notify.notify_all();
            }
            return Some(Received {
                peer,
                routing_id,
                msg,
            });
        }
    }

    /// Waits for the next message (fair-queued), honouring RCVTIMEO; with
    /// `dontwait` (ZMQ_DONTWAIT) fails with [`Error::WouldBlock`] instead of waiting.
    pub(crate) async fn recv(&self, dontwait: bool) -> Result<Received> {
        // Fast path: a message is waiting; no timer, no waiting future.
        if let Some(m) = self.try_recv() {
            return Ok(m);
        }
        if dontwait {
            return self.would_block("recv").await;
        }
        self.recv_wait().await
    }

    /// The failure of an operation that may not wait (ZMQ_DONTWAIT): gives the
    /// runtime one turn first, so a loop of such calls still lets the socket's
    /// connections write and read.
    pub(crate) async fn would_block<T>(&self, op: &'static str) -> Result<T> {
        if self.closed.get() {
            return Err(Error::Closed);
        }
        yield_now().await;
        Err(Error::WouldBlock(op))
    }

    /// The waiting part of [`Core::recv`] (socket types try [`Core::try_recv`]
    /// first).
    pub(crate) async fn recv_wait(&self) -> Result<Received> {
        let (mut timeout, spin) = {
            let o = self.options.borrow();
            (o.rcvtimeo, o.busy_poll)
        };
        if !spin.is_zero() && timeout != Some(Duration::ZERO) {
            // Busy-poll: give the runtime back without parking, so it keeps
            // reaping completions, and look again; park only after `spin`.
            let start = std::time::Instant::now();
            let limit = timeout.map_or(spin, |t| t.min(spin));
            loop {
                if let Some(m) = self.try_recv() {
                    return Ok(m);
                }
                if self.closed.get() {
                    return Err(Error::Closed);
                }
                if start.elapsed() >= limit {
                    break;
                }
                yield_now().await;
            }
            timeout = timeout.map(|t| t.saturating_sub(start.elapsed()));
        }
        wait_for(&self.inbox_notify, timeout, "recv", || {
            if let Some(m) = self.try_recv() {
                return Some(Ok(m));
            }
            self.closed.get().then_some(Err(Error::Closed))
        })
        .await
    }

    /// Sends a whole message round-robin (DEALER, PUSH, PAIR) if a peer has room:
    /// `Ok(true)` when it was queued, `Ok(false)` when the caller has to wait
    /// ([`Core::send_wait`]). Socket types try this before building the waiting
    /// future, so a send that does not wait costs no future state.
    pub(crate) fn try_send_message(&self, msg: &Message) -> Result<bool> {
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        Ok(self.try_send_round_robin(&[], msg.frames()).is_some())
    }

    /// Sends to the next peer in round-robin order that has room; waits (SNDTIMEO)
    /// while none has, or with `dontwait` fails with [`Error::WouldBlock`]. `prefix`
    /// frames go before `body` in the same message.
    pub(crate) async fn send_round_robin(
        &self,
        prefix: &[Bytes],
        body: &[Bytes],
        dontwait: bool,
    ) -> Result<PeerId> {
        if let Some(id) = self.try_send_round_robin(prefix, body) {
            return Ok(id);
        }
        if dontwait {
            return self.would_block("send").await;
        }
        self.send_wait(prefix, body).await
    }

    /// The waiting part of [`Core::send_round_robin`].
    pub(crate) async fn send_wait(&self, prefix: &[Bytes], body: &[Bytes]) -> Result<PeerId> {
        let timeout = self.options.borrow().sndtimeo;
        wait_for(&self.room_notify, timeout, "send", || {
            if self.closed.get() {
                return Some(Err(Error::Closed));
            }
            self.try_send_round_robin(prefix, body).map(Ok)
        })
        .await
    }

    /// REQ and REP always receive next, so their sends take the direct write path.
    fn eager_writes(&self) -> bool {
        matches!(self.socket_type, SocketType::Req | SocketType::Rep)
    }

    fn try_send_round_robin(&self, prefix: &[Bytes], body: &[Bytes]) -> Option<PeerId> {
        let limit = self.send_limit.get();
        let eager = self.eager_writes();
        let mut st = self.state.borrow_mut();
        let n = st.peers.len();
        // Round-robin without a division per message.
        let mut idx = st.rr;
        for _ in 0..n {
            if idx >= n {
                idx = 0;
            }
            let peer = &st.peers[idx];
            if peer.writer.has_room(limit) {
                peer.writer.encode_message(prefix, body, eager);
                let id = peer.id;
                st.rr = if idx + 1 == n { 0 } else { idx + 1 };
                return Some(id);
            }
            idx += 1;
        }
        None
    }

    /// Sends to one peer, never waiting.
    pub(crate) fn send_to(&self, peer: PeerId, prefix: &[Bytes], body: &[Bytes]) -> Routed {
        let limit = self.send_limit.get();
        let eager = self.eager_writes();
        let st = self.state.borrow();
        let Some(p) = st.peers.iter().find(|p| p.id == peer) else {
            return Routed::NoSuchPeer;
        };
        if !p.writer.has_room(limit) {
            return Routed::Full;
        }
        p.writer.encode_message(prefix, body, eager);
        Routed::Sent
    }

    /// Sends to the peer with this routing id, never waiting.
    pub(crate) fn send_to_routing_id(
        &self,
        rid: &[u8],
        body: &[Bytes],
    ) -> (Routed, Option<PeerId>) {
        let id = self.state.borrow().by_routing_id.get(rid).copied();
        match id {
            Some(id) => (self.send_to(id, &[], body), Some(id)),
            None => (Routed::NoSuchPeer, None),
        }
    }

    /// Waits (SNDTIMEO) until the peer has room or is gone.
    pub(crate) async fn wait_room(&self, peer: PeerId) -> Result<()> {
        let timeout = self.options.borrow().sndtimeo;
        wait_for(&self.room_notify, timeout, "send", || {
            if self.closed.get() {
                return Some(Err(Error::Closed));
            }
            let limit = self.send_limit.get();
            let st = self.state.borrow();
            let full = st
                .peers
                .iter()
                .find(|p| p.id == peer)
                .is_some_and(|p| !p.writer.has_room(limit));
            (!full).then_some(Ok(()))
        })
        .await
    }

    /// Number of connected (handshaken) peers.
    pub(crate) fn peer_count(&self) -> usize {
        self.state
            .borrow()
            .peers
            .iter()
            .filter(|p| p.conn.is_some())
            .count()
    }

    /// Registers a new bind/connect and returns its handle.
    pub(crate) fn register_endpoint(&self, names: Vec<String>) -> Rc<EndpointTask> {
        let mut st = self.state.borrow_mut();
        st.next_origin += 1;
        let task = Rc::new(EndpointTask {
            id: st.next_origin,
            names,
            stopped: Cell::new(false),
            stop: Notify::default(),
            draining: Cell::new(false),
        });
        st.endpoints.push(task.clone());
        task
    }

    /// Stops a bind or connect by endpoint name and closes its connections.
    pub(crate) fn stop_endpoint(&self, name: &str) -> Result<()> {
        let task = {
            let mut st = self.state.borrow_mut();
            let Some(pos) = st
                .endpoints
                .iter()
                .position(|t| t.names.iter().any(|n| n == name))
            else {
                return Err(Error::UnknownEndpoint(name.to_string()));
            };
            st.endpoints.remove(pos)
        };
        task.stopped.set(true);
        task.stop.notify_all();
        let (conns, slots): (Vec<Rc<Conn>>, Vec<PeerId>) = {
            let st = self.state.borrow();
            let mine = st.peers.iter().filter(|p| p.origin == task.id);
            (
                mine.clone().filter_map(|p| p.conn.clone()).collect(),
                mine.map(|p| p.id).collect(),
            )
        };
        for c in conns {
            c.close("endpoint unbound or disconnected by the application");
        }
        for id in slots {
            self.remove_peer(id);
        }
        self.lifecycle.notify_all();
        Ok(())
    }

    /// Closes the socket: stops all endpoints; queued output is delivered within
    /// LINGER, then connections shut down.
    pub(crate) fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        let linger = self.options.borrow().linger;
        let peers = self.state.borrow().peers.clone();
        // connect() slots that never connected (or are between connections) but
        // hold messages keep connecting until they are delivered or LINGER ends,
        // as libzmq does.
        let mut draining = Vec::new();
        for p in &peers {
            if p.conn.is_none() {
                if p.persistent && linger != Some(Duration::ZERO) && p.writer.has_queued() {
                    p.writer.drain_and_close();
                    draining.push(p.origin);
                } else {
                    self.remove_peer(p.id);
                }
            }
        }
        let stopped: Vec<Rc<EndpointTask>> = {
            let mut st = self.state.borrow_mut();
            let (keep, stop) = std::mem::take(&mut st.endpoints)
                .into_iter()
                .partition(|t| draining.contains(&t.id));
            st.endpoints = keep;
            stop
        };
        for t in stopped {
            t.stopped.set(true);
            t.stop.notify_all();
        }
        for t in self.state.borrow().endpoints.iter() {
            t.draining.set(true);
            if let Some(d) = linger {
                let task = t.clone();
                compio::runtime::spawn(async move {
                    compio::time::sleep(d).await;
                    task.stopped.set(true);
                    task.stop.notify_all();
                })
                .detach();
            }
        }
        for p in peers {
            let Some(conn) = p.conn else {
                continue;
            };
            match linger {
                Some(d) if d.is_zero() => conn.close("socket closed with LINGER 0"),
                _ => {
                    p.writer.drain_and_close();
                    if let Some(d) = linger {
                        compio::runtime::spawn(async move {
                            compio::time::sleep(d).await;
                            conn.linger_expired();
                        })
                        .detach();
                    }
                }
            }
        }
        self.lifecycle.notify_all();
        self.inbox_notify.notify_all();
        self.room_notify.notify_all();
        self.space_notify.notify_all();
    }

    /// Waits until every listener has released its port or path and every
    /// connection has finished (queued output delivered, or LINGER expired).
    pub(crate) async fn wait_released(&self) {
        loop {
            let changed = self.lifecycle.notified();
            if self.listeners_open.get() == 0 && self.state.borrow().peers.is_empty() {
                return;
            }
            changed.await;
        }
    }
}

/// The last reference goes when the socket is dropped and its background tasks
/// end: normally after everything was delivered, but when the runtime stops first,
/// the messages still queued die with it. Say so, with their count.
impl Drop for Core {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        let lost: usize = st.peers.iter().map(|p| p.writer.queued()).sum();
        if lost > 0 {
            tracing::warn!(
                socket_type = %self.socket_type,
                messages = lost,
                "{lost} queued message(s) lost: the socket's runtime stopped before they \
                 were delivered (call close().await before leaving the runtime)"
            );
        }
    }
}

/// Waits until `attempt` gives an answer, trying again after every wake-up of
/// `notify`, for at most `timeout` (zero: try once; `None`: no limit).
///
/// This is the compact waiting path of send and recv: its state is a few words
/// (the timer is boxed, and only created when a wait with a timeout actually
/// sleeps), so the futures of sends and receives that do not wait stay small
/// and cheap to move.
pub(crate) async fn wait_for<T>(
    notify: &Notify,
    timeout: Option<Duration>,
    op: &'static str,
    mut attempt: impl FnMut() -> Option<Result<T>>,
) -> Result<T> {
    let mut deadline: Option<std::pin::Pin<Box<dyn Future<Output = ()>>>> = None;
    loop {
        let changed = notify.notified();
        if let Some(r) = attempt() {
            return r;
        }
        match timeout {
            None => changed.await,
            Some(d) if d.is_zero() => {
                // One turn of the runtime first: a loop of failing calls must not
                // starve the connections that would make room.
                yield_now().await;
                return Err(Error::Timeout(op));
            }
            Some(d) => {
                let sleep = deadline.get_or_insert_with(|| Box::pin(compio::time::sleep(d)));
                if let futures_util::future::Either::Right(_) =
                    futures_util::future::select(changed, sleep.as_mut()).await
                {
                    return Err(Error::Timeout(op));
                }
            }
        }
    }
}

/// Returns to the runtime once, scheduled to run again at once.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// Runs `fut` under an optional timeout; zero means "try once" (the future is polled
/// once and must be ready).
pub(crate) async fn with_timeout<T>(
    timeout: Option<Duration>,
    op: &'static str,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        None => fut.await,
        Some(d) if d.is_zero() => {
            let mut fut = std::pin::pin!(fut);
            let first = std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
                std::task::Poll::Ready(r) => std::task::Poll::Ready(Some(r)),
                std::task::Poll::Pending => std::task::Poll::Ready(None),
            })
            .await;
            match first {
                Some(r) => r,
                None => {
                    yield_now().await;
                    Err(Error::Timeout(op))
                }
            }
        }
        Some(d) => compio::time::timeout(d, fut)
            .await
            .unwrap_or(Err(Error::Timeout(op))),
    }
}
