//! The peer table of a socket: every peer slot in round-robin order, found by
//! peer id or by routing id in O(1).
//!
//! ROUTER looks a routing id up on every send. The ids it generates itself
//! (0x00 and a u32, the common case) are found by their number with the cheap
//! [`PeerMap`] hash; only ids that peers chose (which never start with 0x00:
//! the handshake refuses them) pay for the DoS-resistant hash of a
//! `HashMap<Bytes, _>`.

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

/// The number of a routing id in the shape ROUTER generates (0x00 and a
/// big-endian u32), whoever made it.
#[inline]
fn generated_number(rid: &[u8]) -> Option<u64> {
    match rid {
        [0, a, b, c, d] => Some(u64::from(u32::from_be_bytes([*a, *b, *c, *d]))),
        _ => None,
    }
}

/// The slots, in round-robin order, with their indexes.
#[derive(Debug, Default)]
pub(crate) struct PeerTable {
    peers: Vec<Peer>,
    /// Peer id -> position in `peers`.
    index: PeerMap<usize>,
    /// Generated routing id (by its number) -> peer id (ROUTER).
    by_generated_id: PeerMap<PeerId>,
    /// Any other routing id -> peer id (ROUTER).
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

    /// The peer id a routing id names, if any.
    #[inline]
    fn routing_id_peer(&self, rid: &[u8]) -> Option<PeerId> {
        match generated_number(rid) {
            Some(n) => self.by_generated_id.get(&n).copied(),
            None => self.by_routing_id.get(rid).copied(),
        }
    }

    #[inline]
    pub(crate) fn by_routing_id(&self, rid: &[u8]) -> Option<&Peer> {
        self.routing_id_peer(rid).and_then(|id| self.get(id))
    }

    pub(crate) fn routing_id_taken(&self, rid: &[u8]) -> bool {
        self.routing_id_peer(rid).is_some()
    }

    pub(crate) fn index_routing_id(&mut self, rid: Bytes, id: PeerId) {
        match generated_number(&rid) {
            Some(n) => self.by_generated_id.insert(n, id),
            None => self.by_routing_id.insert(rid, id),
        };
    }

    pub(crate) fn unindex_routing_id(&mut self, rid: &[u8], id: PeerId) {
        if self.routing_id_peer(rid) != Some(id) {
            return;
        }
        match generated_number(rid) {
            Some(n) => self.by_generated_id.remove(&n),
            None => self.by_routing_id.remove(rid),
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::Notify;

    fn peer(id: PeerId, rid: &'static [u8]) -> Peer {
        Peer {
            id,
            routing_id: Bytes::from_static(rid),
            outbound: Rc::new(Outbound::new(Rc::new(Notify::default()))),
            inbox: Inbox::new(id),
            conn: None,
            version: None,
            origin: 0,
            persistent: false,
        }
    }

    /// A table of peers with these routing ids, indexed as ROUTER does.
    fn table(rids: &[&'static [u8]]) -> PeerTable {
        let mut t = PeerTable::default();
        for (i, rid) in rids.iter().enumerate() {
            let p = peer(i as PeerId + 1, rid);
            t.index_routing_id(p.routing_id.clone(), p.id);
            t.push(p);
        }
        t
    }

    #[test]
    fn generated_ids_are_the_five_byte_shape_only() {
        assert_eq!(generated_number(&[0, 0, 0, 1, 2]), Some(0x0102));
        assert_eq!(
            generated_number(&[0, 0xff, 0xff, 0xff, 0xff]),
            Some(0xffff_ffff)
        );
        assert_eq!(generated_number(&[0, 0, 0, 1]), None);
        assert_eq!(generated_number(&[0, 0, 0, 0, 1, 2]), None);
        assert_eq!(generated_number(&[1, 0, 0, 1, 2]), None);
        assert_eq!(generated_number(b""), None);
    }

    #[test]
    fn generated_and_chosen_ids_route_to_their_peers() {
        let t = table(&[b"\0\0\0\0\x07", b"worker", b"\0\x80\0\0\0", b"w"]);
        assert_eq!(t.by_routing_id(b"\0\0\0\0\x07").map(|p| p.id), Some(1));
        assert_eq!(t.by_routing_id(b"worker").map(|p| p.id), Some(2));
        assert_eq!(t.by_routing_id(b"\0\x80\0\0\0").map(|p| p.id), Some(3));
        assert_eq!(t.by_routing_id(b"w").map(|p| p.id), Some(4));
        assert!(t.by_routing_id(b"\0\0\0\0\x08").is_none());
        assert!(t.by_routing_id(b"\0\0\0\x07").is_none());
        assert!(t.by_routing_id(b"workers").is_none());
        assert!(t.routing_id_taken(b"\0\0\0\0\x07"));
        assert!(t.routing_id_taken(b"worker"));
        assert!(!t.routing_id_taken(b"\0\0\0\0\x09"));
    }

    #[test]
    fn removing_a_peer_unindexes_its_routing_id_only() {
        let mut t = table(&[b"\0\0\0\0\x01", b"a", b"\0\0\0\0\x02", b"b"]);
        t.remove(1);
        t.remove(2);
        assert!(t.by_routing_id(b"\0\0\0\0\x01").is_none());
        assert!(t.by_routing_id(b"a").is_none());
        assert_eq!(t.by_routing_id(b"\0\0\0\0\x02").map(|p| p.id), Some(3));
        assert_eq!(t.by_routing_id(b"b").map(|p| p.id), Some(4));
    }

    #[test]
    fn unindexing_leaves_a_routing_id_that_moved_to_another_peer() {
        let mut t = table(&[b"\0\0\0\0\x01", b"a"]);
        // The ids were handed over to new peers 5 and 6.
        t.index_routing_id(Bytes::from_static(b"\0\0\0\0\x01"), 5);
        t.index_routing_id(Bytes::from_static(b"a"), 6);
        t.unindex_routing_id(b"\0\0\0\0\x01", 1);
        t.unindex_routing_id(b"a", 2);
        assert!(t.routing_id_taken(b"\0\0\0\0\x01"));
        assert!(t.routing_id_taken(b"a"));
        t.unindex_routing_id(b"\0\0\0\0\x01", 5);
        t.unindex_routing_id(b"a", 6);
        assert!(!t.routing_id_taken(b"\0\0\0\0\x01"));
        assert!(!t.routing_id_taken(b"a"));
    }

    #[test]
    fn a_table_of_many_peers_finds_each_one() {
        let mut t = PeerTable::default();
        for i in 0..1000u32 {
            let mut rid = vec![0u8];
            rid.extend_from_slice(&(0xdead_0000u32.wrapping_add(i)).to_be_bytes());
            let p = peer(u64::from(i) + 1, b"");
            t.index_routing_id(Bytes::from(rid), p.id);
            t.push(p);
        }
        for i in 0..1000u32 {
            let mut rid = vec![0u8];
            rid.extend_from_slice(&(0xdead_0000u32.wrapping_add(i)).to_be_bytes());
            assert_eq!(t.by_routing_id(&rid).map(|p| p.id), Some(u64::from(i) + 1));
        }
    }
}
