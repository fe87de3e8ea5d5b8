//! The peer table of a socket: every peer slot in round-robin order, found by
//! peer id or by routing id in O(1).

use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use zeroring_zmtp::Version;

use crate::driver::conn::Conn;
use crate::driver::host::OriginId;
use crate::peer_map::PeerMap;
use crate::pipe::PeerId;
use crate::pipe::inbound::Inbox;
use crate::pipe::outbound::Outbound;

/// A peer slot ("pipe" in libzmq): its outbound and inbound queues, with the
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
    pub(crate) outbound: Rc<Outbound>,
    pub(crate) inbox: Rc<Inbox>,
    pub(crate) conn: Option<Rc<Conn>>,
    pub(crate) version: Option<Version>,
    pub(crate) origin: OriginId,
    /// Created by connect(): survives its connections.
    pub(crate) persistent: bool,
}

/// The slots, in round-robin order, with their indexes.
#[derive(Debug, Default)]
pub(crate) struct PeerTable {
    peers: Vec<Peer>,
    /// Peer id -> position in `peers`.
    index: PeerMap<usize>,
    /// Routing id -> peer id (ROUTER).
    by_routing_id: HashMap<Bytes, PeerId>,
    /// Round-robin cursor: the position to try first.
    rr: usize,
}

impl PeerTable {
    pub(crate) fn all(&self) -> &[Peer] {
        &self.peers
    }

    pub(crate) fn get(&self, id: PeerId) -> Option<&Peer> {
        self.index.get(&id).map(|&i| &self.peers[i])
    }

    pub(crate) fn get_mut(&mut self, id: PeerId) -> Option<&mut Peer> {
        self.index.get(&id).map(|&i| &mut self.peers[i])
    }

    pub(crate) fn by_routing_id(&self, rid: &[u8]) -> Option<&Peer> {
        self.by_routing_id.get(rid).and_then(|id| self.get(*id))
    }

    pub(crate) fn routing_id_taken(&self, rid: &[u8]) -> bool {
        self.by_routing_id.contains_key(rid)
    }

    pub(crate) fn index_routing_id(&mut self, rid: Bytes, id: PeerId) {
        self.by_routing_id.insert(rid, id);
    }

    pub(crate) fn unindex_routing_id(&mut self, rid: &[u8], id: PeerId) {
        if self.by_routing_id.get(rid) == Some(&id) {
            self.by_routing_id.remove(rid);
        }
    }

    pub(crate) fn push(&mut self, peer: Peer) {
        self.index.insert(peer.id, self.peers.len());
        self.peers.push(peer);
    }

    /// Removes a slot, keeping the others in round-robin order.
    pub(crate) fn remove(&mut self, id: PeerId) -> Option<Peer> {
        let pos = self.index.remove(&id)?;
        let peer = self.peers.remove(pos);
        for p in &self.peers[pos..] {
            if let Some(i) = self.index.get_mut(&p.id) {
                *i -= 1;
            }
        }
        if self.rr > pos {
            self.rr -= 1;
        }
        self.unindex_routing_id(&peer.routing_id.clone(), id);
        Some(peer)
    }

    /// Picks the next slot in round-robin order that passes `has_room`, advancing
    /// the cursor past it.
    #[inline]
    pub(crate) fn next_with(&mut self, has_room: impl Fn(&Peer) -> bool) -> Option<&Peer> {
        let n = self.peers.len();
        // Round-robin without a division per message.
        let mut idx = self.rr;
        for _ in 0..n {
            if idx >= n {
                idx = 0;
            }
            if has_room(&self.peers[idx]) {
                self.rr = if idx + 1 == n { 0 } else { idx + 1 };
                return Some(&self.peers[idx]);
            }
            idx += 1;
        }
        None
    }
}
