//! Socket state: what every socket type shares — its peers, the fair queue its
//! receives take from, round-robin, its endpoints, its options, pub/sub state,
//! and its close. The pattern logic in `types/` works through [`Core`]'s methods;
//! connection drivers reach it only through
//! [`ConnectionHost`](crate::driver::host::ConnectionHost).
//!
//! - `peers`: the peer table (round-robin order, O(1) lookups).
//! - `send` / `recv`: the send and receive paths.
//! - `lifecycle`: endpoints, close with LINGER, waiting for release.
//! - `host`: what connection drivers call (attach, detach, subscriptions).
//! - `publish`: fan-out and subscription traffic (PUB, SUB, XPUB, XSUB).
//! - `endpoints`: the accept and reconnect loops.
//! - `inproc`: bind and connect for `inproc://` endpoints.
//! - `auth`: the answer to a handshake that asks whether a peer may connect,
//!   and the authenticated peers' properties.

mod auth;
mod endpoints;
mod host;
mod inproc;
mod lifecycle;
mod peers;
mod publish;
mod recv;
mod send;
mod spin;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use zeroring_zmtp::SocketType;

use crate::error::Result;
use crate::inproc::registry::Registry;
use crate::monitor::{Monitor, MonitorHub};
use crate::notify::Notify;
use crate::options::SocketOptions;
use crate::pipe::PeerId;
use crate::pipe::inbound::FairQueue;
use crate::pipe::outbound::SendLimit;
use crate::pipe::room::Room;
use crate::pubsub::PubSub;
use crate::security::Authenticator;
use crate::security::authenticator::AuthenticatorSlot;

pub(crate) use endpoints::{bind, connect};
pub(crate) use lifecycle::EndpointTask;
pub(crate) use peers::{Peer, PeerTable};
pub(crate) use publish::Published;
pub(crate) use send::Routed;

#[derive(Debug, Default)]
struct State {
    peers: PeerTable,
    next_peer_id: PeerId,
    next_generated_id: u32,
    endpoints: Vec<Rc<EndpointTask>>,
    next_origin: u64,
}

/// Shared state of a socket. Socket types hold it in an `Rc`; so do its
/// endpoint and connection tasks (as their host).
#[derive(Debug)]
pub(crate) struct Core {
    socket_type: SocketType,
    options: RefCell<SocketOptions>,
    /// SNDHWM and the byte budget from `options`, as every send checks them.
    send_limit: Cell<SendLimit>,
    state: RefCell<State>,
    /// Event fan-out to the application's monitors.
    monitors: MonitorHub,
    /// Subscriptions (PUB, SUB, XPUB, XSUB only).
    pubsub: RefCell<PubSub>,
    /// What receives take from.
    queue: Rc<FairQueue>,
    /// When a waiting receive spins first (`adaptive_spin`).
    spin: spin::SpinBackoff,
    /// A peer attached or detached, or an outbound queue made room (with the
    /// peers the round-robin set aside that have room again).
    room: Rc<Room>,
    closed: Cell<bool>,
    listeners_open: Cell<usize>,
    /// A listener was released or a peer detached.
    lifecycle: Notify,
    /// The `inproc://` names this socket binds and connects to (its context's).
    inproc: Arc<Registry>,
    /// The socket's own authenticator.
    authenticator: RefCell<Option<Authenticator>>,
    /// Its context's, consulted when it has none of its own.
    context_authenticator: RefCell<Option<Arc<AuthenticatorSlot>>>,
}

impl Core {
    pub(crate) fn new(socket_type: SocketType, inproc: Arc<Registry>) -> Rc<Core> {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
            .unwrap_or(0)
            ^ std::process::id().rotate_left(16);
        let mut options = SocketOptions::default();
        if matches!(socket_type, SocketType::Req | SocketType::Rep) {
            options.adaptive_spin = Some(crate::options::DEFAULT_ADAPTIVE_SPIN);
        }
        let core = Rc::new(Core {
            socket_type,
            send_limit: Cell::new(options.send_limit()),
            options: RefCell::new(options),
            state: RefCell::new(State {
                next_generated_id: seed,
                next_peer_id: 1,
                ..State::default()
            }),
            pubsub: RefCell::new(PubSub::default()),
            monitors: MonitorHub::default(),
            queue: FairQueue::new(socket_type == SocketType::Router),
            spin: spin::SpinBackoff::default(),
            room: Rc::new(Room::default()),
            closed: Cell::new(false),
            listeners_open: Cell::new(0),
            lifecycle: Notify::default(),
            inproc,
            authenticator: RefCell::new(None),
            context_authenticator: RefCell::new(None),
        });
        core.options_changed();
        core
    }

    /// The socket's type.
    pub(crate) fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// A copy of the options.
    pub(crate) fn options(&self) -> SocketOptions {
        self.options.borrow().clone()
    }

    /// Reads one option.
    #[inline]
    pub(crate) fn option<T>(&self, f: impl FnOnce(&SocketOptions) -> T) -> T {
        f(&self.options.borrow())
    }

    /// Changes options if the result is valid ([`SocketOptions::validate`]),
    /// then applies what the send and receive paths cache.
    pub(crate) fn update_options(&self, f: impl FnOnce(&mut SocketOptions)) -> Result<()> {
        let mut next = self.options();
        f(&mut next);
        next.validate()?;
        *self.options.borrow_mut() = next;
        self.options_changed();
        Ok(())
    }

    /// Refreshes what the send path caches, applies RCVHWM, and wakes sends that
    /// wait for room (a raised limit may make some: every peer set aside as
    /// full goes back into the round-robin).
    fn options_changed(&self) {
        let o = self.options.borrow();
        self.send_limit.set(o.send_limit());
        self.queue.set_hwm(o.rcvhwm);
        drop(o);
        self.state.borrow_mut().peers.return_all();
        self.room.notify_all();
    }

    /// The send limits every send checks.
    #[inline]
    pub(crate) fn send_limit(&self) -> SendLimit {
        self.send_limit.get()
    }

    /// A new stream of this socket's events.
    pub(crate) fn monitor(&self) -> Monitor {
        self.monitors.subscribe()
    }

    /// Adds a monitor read from another thread (a thread-safe handle's).
    pub(crate) fn monitor_into(&self, sink: &std::sync::Arc<crate::monitor::EventSink>) {
        self.monitors.subscribe_sink(sink);
    }

    /// Ends the other threads' monitors (the handle's socket is released).
    pub(crate) fn close_monitor_sinks(&self) {
        self.monitors.close_sinks();
    }

    /// Runs `f` on the pub/sub state.
    pub(crate) fn with_pubsub<R>(&self, f: impl FnOnce(&mut PubSub) -> R) -> R {
        f(&mut self.pubsub.borrow_mut())
    }

    /// Number of connected (handshaken) peers.
    pub(crate) fn peer_count(&self) -> usize {
        self.state
            .borrow()
            .peers
            .all()
            .iter()
            .filter(|p| p.conn.is_some())
            .count()
    }

    /// True while the socket has a peer slot (a connection, or a connect() that
    /// queues for its next one).
    pub(crate) fn has_peer_slots(&self) -> bool {
        !self.state.borrow().peers.all().is_empty()
    }

    /// Runs `f` on one peer slot, if it exists.
    fn with_peer(&self, id: PeerId, f: impl FnOnce(&Peer)) {
        if let Some(p) = self.state.borrow().peers.get(id) {
            f(p);
        }
    }
}
