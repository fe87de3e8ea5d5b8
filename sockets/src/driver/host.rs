//! What a connection driver needs from the socket that owns it, and nothing more:
//! [`ConnectionHost`] is called when a handshake pauses for authentication, when
//! it ends, when the connection ends and for subscriptions (never per message);
//! at attach time the driver gets the peer's pipe ([`Attached`]), which is all
//! the receive path touches.

use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use zeroring_zmtp::{AuthRequest, AuthResult, Message, PeerInfo, SessionConfig, ZapStatus};

use super::conn::Conn;
use crate::inproc::link::PeerMeta;
use crate::monitor::MonitorHub;
use crate::pipe::PeerId;
use crate::pipe::inbound::{FairQueue, Inbox};
use crate::pipe::outbound::Outbound;
use crate::pipe::room::Room;
use crate::reason::DisconnectReason;
use crate::security::PeerProperties;

/// Where a connection came from (a bind or a connect), so unbind/disconnect can
/// close it.
pub(crate) type OriginId = u64;

/// How to run a new connection, from the socket's options at that moment.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionSettings {
    pub(crate) session: SessionConfig,
    pub(crate) tcp_keepalive: Option<bool>,
}

/// The socket's answer when a handshake asks whether the peer may connect.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Go on, with the user id and metadata the peer gets.
    Allow(AuthResult),
    /// Refuse: the peer is told `status` (not for 300); `reason` is ours.
    Deny {
        status: ZapStatus,
        reason: DisconnectReason,
    },
}

/// The peer's pipe, handed to the driver when the socket accepted the peer.
#[derive(Debug, Clone)]
pub(crate) struct Attached {
    pub(crate) peer: PeerId,
    pub(crate) inbox: Rc<Inbox>,
    pub(crate) queue: Rc<FairQueue>,
    /// False for PUB: data messages from subscribers are dropped.
    pub(crate) accepts_messages: bool,
}

/// The socket side of a connection.
pub(crate) trait ConnectionHost {
    /// Settings for a new connection, or why none can start (security
    /// options changed into a state that cannot work).
    fn settings(&self) -> Result<ConnectionSettings, DisconnectReason>;

    /// The handshake paused: may this peer (at `address`, `None` over ipc)
    /// connect? Asks the socket's authenticator (or its context's).
    fn authenticate(&self, request: &AuthRequest, address: Option<IpAddr>) -> Verdict;

    /// What the socket authenticated about an attached peer, handed to the
    /// application with its messages.
    fn set_peer_properties(&self, peer: PeerId, properties: Arc<PeerProperties>);

    /// Where connection events go.
    fn events(&self) -> &MonitorHub;

    /// The outbound queue a connection from `slot` will use: the connect()
    /// slot's (it survives reconnections), or a fresh one.
    fn outbound_for(&self, slot: Option<PeerId>) -> Rc<Outbound>;

    /// The socket's "a peer may have room" notifier, for new outbound queues.
    fn room(&self) -> Rc<Room>;

    /// Who this socket is, for an inproc peer (what READY says on a stream).
    fn inproc_meta(&self) -> PeerMeta;

    /// A handshake succeeded: make the connection a peer of the socket, or say why
    /// it is refused.
    fn attach(
        &self,
        info: &PeerInfo,
        conn: &Rc<Conn>,
        origin: OriginId,
        slot: Option<PeerId>,
    ) -> Result<Attached, DisconnectReason>;

    /// The connection of `peer` ended.
    fn detach(&self, peer: PeerId);

    /// A connect() that will never connect (an inproc connect refused by the
    /// bound socket): its slot and what it queued go.
    fn drop_slot(&self, slot: Option<PeerId>);

    /// A subscription change arrived from `peer`; returns the message an XPUB
    /// hands to its application, if any.
    fn subscription(&self, peer: PeerId, subscribe: bool, topic: &Bytes) -> Option<Message>;
}
