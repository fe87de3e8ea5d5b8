//! What connection drivers call on the socket ([`ConnectionHost`]): settings for a
//! new connection, the outbound queue it will use, attach when its handshake
//! succeeded, detach when it ends, and subscription changes. Also the persistent
//! slot a connect() creates at once.

use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use zeroring_zmtp::session::{HeartbeatConfig, MessageLimits};
use zeroring_zmtp::{AuthRequest, Message, PeerInfo, SessionConfig, SocketType};

use super::{Core, Peer};
use crate::driver::conn::Conn;
use crate::driver::host::{Attached, ConnectionHost, ConnectionSettings, OriginId, Verdict};
use crate::error::Error;
use crate::inproc::link::PeerMeta;
use crate::monitor::MonitorHub;
use crate::pipe::PeerId;
use crate::pipe::inbound::Inbox;
use crate::pipe::outbound::Outbound;
use crate::pipe::room::Room;
use crate::reason::DisconnectReason;
use crate::security::PeerProperties;

impl Core {
    /// Creates the persistent slot of a connect() endpoint (not for ROUTER, whose
    /// peers are only addressable once their routing id is known).
    pub(crate) fn create_pending(&self, origin: OriginId) -> PeerId {
        self.create_slot(origin, Outbound::new(self.room.clone()))
    }

    /// [`Core::create_pending`] with the given outbound queue (an inproc
    /// connect's, which goes straight into the link).
    pub(crate) fn create_slot(&self, origin: OriginId, outbound: Outbound) -> PeerId {
        let mut st = self.state.borrow_mut();
        let id = st.next_peer_id;
        st.next_peer_id += 1;
        st.peers.push(Peer {
            id,
            routing_id: Bytes::new(),
            outbound: Rc::new(outbound),
            inbox: Inbox::new(id),
            conn: None,
            version: None,
            origin,
            persistent: true,
        });
        drop(st);
        self.room.notify_all();
        id
    }

    /// The routing id a peer goes by: its Identity, or a generated one (5 bytes:
    /// 0x00 and a u32).
    fn routing_id_for(&self, info: &PeerInfo) -> Bytes {
        if let Some(id) = &info.routing_id {
            return id.clone();
        }
        let mut st = self.state.borrow_mut();
        let n = st.next_generated_id;
        st.next_generated_id = n.wrapping_add(1);
        let mut id = vec![0u8];
        id.extend_from_slice(&n.to_be_bytes());
        Bytes::from(id)
    }

    /// Whether a connection that finished its handshake may become a peer.
    fn admit(&self, origin: OriginId, slot: Option<PeerId>) -> Result<(), DisconnectReason> {
        let st = self.state.borrow();
        let draining = st
            .endpoints
            .iter()
            .any(|t| t.id == origin && t.draining.get());
        if self.closed.get() && !(slot.is_some() && draining) {
            return Err(DisconnectReason::SocketClosed);
        }
        // unbind/disconnect while this connection was still in its handshake: the
        // endpoint is gone, so the connection must not become a peer.
        if !st.endpoints.iter().any(|t| t.id == origin) {
            return Err(DisconnectReason::EndpointStopped);
        }
        if self.socket_type == SocketType::Pair && st.peers.all().iter().any(|p| Some(p.id) != slot)
        {
            return Err(DisconnectReason::PairTaken);
        }
        Ok(())
    }

    /// Sends a new peer what it must get first: a subscriber's subscriptions, an
    /// XPUB's welcome message.
    fn greet(&self, peer: PeerId) {
        if matches!(self.socket_type, SocketType::Sub | SocketType::Xsub) {
            let topics = self.pubsub.borrow().subscriber.topics();
            self.with_peer(peer, |p| {
                if let Some(version) = p.version {
                    for t in &topics {
                        p.outbound.send_subscription(version, true, t);
                    }
                }
            });
        }
        if self.socket_type == SocketType::Xpub {
            let welcome = self.option(|o| o.xpub_welcome_msg.clone());
            if let Some(w) = welcome {
                self.with_peer(peer, |p| p.outbound.encode_message(&[], &[w], false));
            }
        }
    }
}

impl ConnectionHost for Core {
    fn settings(&self) -> Result<ConnectionSettings, DisconnectReason> {
        let o = self.options.borrow();
        let mut session = SessionConfig::new(self.socket_type);
        session.security = o.security().map_err(|e| match e {
            Error::Security(why) => DisconnectReason::InvalidSecurity(why),
            _ => DisconnectReason::InvalidSecurity("the security options are invalid"),
        })?;
        session.authenticate = self.authenticates(&session.security, &o);
        session.routing_id = o.routing_id.clone();
        session.handshake_timeout = o.handshake_ivl;
        session.heartbeat = HeartbeatConfig {
            ivl: o.heartbeat_ivl,
            ttl: o.heartbeat_ttl,
            timeout: o.heartbeat_timeout,
        };
        session.limits = MessageLimits {
            max_size: o.maxmsgsize,
            max_frames: o.max_msg_frames,
        };
        Ok(ConnectionSettings {
            session,
            tcp_keepalive: o.tcp_keepalive,
        })
    }

    fn authenticate(&self, request: &AuthRequest, address: Option<IpAddr>) -> Verdict {
        self.verdict(request, address)
    }

    fn set_peer_properties(&self, peer: PeerId, properties: Arc<PeerProperties>) {
        Core::set_peer_properties(self, peer, properties);
    }

    fn events(&self) -> &MonitorHub {
        &self.monitors
    }

    fn outbound_for(&self, slot: Option<PeerId>) -> Rc<Outbound> {
        let st = self.state.borrow();
        slot.and_then(|id| st.peers.get(id))
            .map(|p| p.outbound.clone())
            .unwrap_or_else(|| Rc::new(Outbound::new(self.room.clone())))
    }

    fn room(&self) -> Rc<Room> {
        self.room.clone()
    }

    fn inproc_meta(&self) -> PeerMeta {
        PeerMeta {
            socket_type: self.socket_type,
            routing_id: self.option(|o| o.routing_id.clone()),
        }
    }

    fn attach(
        &self,
        info: &PeerInfo,
        conn: &Rc<Conn>,
        origin: OriginId,
        slot: Option<PeerId>,
    ) -> Result<Attached, DisconnectReason> {
        self.admit(origin, slot)?;
        let routing_id = self.routing_id_for(info);
        let routed = self.socket_type == SocketType::Router;
        let mut st = self.state.borrow_mut();
        if routed && st.peers.routing_id_taken(&routing_id) {
            return Err(DisconnectReason::RoutingIdTaken(routing_id));
        }
        let (id, inbox) = match slot {
            Some(slot) => {
                let Some(peer) = st.peers.get_mut(slot) else {
                    return Err(DisconnectReason::EndpointStopped);
                };
                peer.conn = Some(conn.clone());
                peer.routing_id = routing_id.clone();
                peer.version = Some(info.version);
                (peer.id, peer.inbox.clone())
            }
            None => {
                let id = st.next_peer_id;
                st.next_peer_id += 1;
                let inbox = Inbox::new(id);
                st.peers.push(Peer {
                    id,
                    routing_id: routing_id.clone(),
                    outbound: conn.outbound().clone(),
                    inbox: inbox.clone(),
                    conn: Some(conn.clone()),
                    version: Some(info.version),
                    origin,
                    persistent: false,
                });
                (id, inbox)
            }
        };
        inbox.set_routing_id(routing_id.clone());
        if routed {
            st.peers.index_routing_id(routing_id, id);
        }
        drop(st);
        self.room.notify_all();
        self.lifecycle.notify_all();
        self.greet(id);
        Ok(Attached {
            peer: id,
            inbox,
            queue: self.queue.clone(),
            accepts_messages: self.socket_type != SocketType::Pub,
        })
    }

    fn detach(&self, id: PeerId) {
        let (keep, finished_drain) = {
            let mut st = self.state.borrow_mut();
            let closed = self.closed.get();
            let super::State {
                peers, endpoints, ..
            } = &mut *st;
            match peers.get(id).cloned() {
                Some(p) => {
                    peers.unindex_routing_id(&p.routing_id, id);
                    if let Some(slot) = peers.get_mut(id) {
                        slot.conn = None;
                    }
                    // An inproc connect does not reconnect: its slot goes with
                    // its connection.
                    let keep = p.persistent
                        && !p.outbound.is_inproc()
                        && !closed
                        && endpoints.iter().any(|t| t.id == p.origin);
                    // A closed socket's connect() that was delivering its last
                    // messages is done now.
                    let finished = endpoints
                        .iter()
                        .find(|t| p.persistent && closed && t.id == p.origin)
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
        self.peer_left(id);
        if !keep {
            self.remove_peer(id);
        }
        self.lifecycle.notify_all();
        // A send waiting for this peer to have room (ROUTER_MANDATORY) must see it
        // gone; the outbound queue's own wake-up may have come before the detach.
        self.room.notify_all();
    }

    fn drop_slot(&self, slot: Option<PeerId>) {
        if let Some(id) = slot {
            self.remove_peer(id);
            self.lifecycle.notify_all();
            self.room.notify_all();
        }
    }

    fn subscription(&self, peer: PeerId, subscribe: bool, topic: &Bytes) -> Option<Message> {
        self.on_subscription(peer, subscribe, topic)
    }
}
