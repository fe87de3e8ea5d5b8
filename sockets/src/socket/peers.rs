//! The peer table of a socket: every peer slot, found by peer id or by routing
//! id in O(1), and the round-robin rotation of the slots that may have room.
//!
//! A round-robin send takes the slot at the rotation's cursor and moves the
//! cursor on (the rotation is a ring: the slot just behind the cursor is the
//! last in turn). A slot found full leaves the rotation (its queue is marked set
//! aside) and comes back, last in turn, when its queue makes room (through the
//! socket's [`Room`]), or when the limits change: a send never walks past full
//! peers, however many there are.
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
use crate::pipe::room::Room;

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

/// The slots, in the order they were created, with their indexes and the
/// round-robin rotation.
#[derive(Debug, Default)]
pub(crate) struct PeerTable {
    peers: Vec<Peer>,
    /// Positions in `peers` of the slots in the rotation, a ring read from
    /// `next`. A slot is in it unless a send set it aside as full (and it has
    /// not been returned since).
    rotation: Vec<usize>,
    /// The index in `rotation` of the slot to try first (`rotation.len()`
    /// means the first).
    next: usize,
    /// Peer id -> position in `peers`.
    index: PeerMap<usize>,
    /// Generated routing id (by its number) -> peer id (ROUTER).
    by_generated_id: PeerMap<PeerId>,
    /// Any other routing id -> peer id (ROUTER).
    by_routing_id: HashMap<Bytes, PeerId>,
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

    /// Adds a slot; it joins the rotation, last in turn.
    pub(crate) fn push(&mut self, peer: Peer) {
        let pos = self.peers.len();
        peer.outbound.set_peer(peer.id);
        self.index.insert(peer.id, pos);
        insert_last(&mut self.rotation, &mut self.next, pos);
        self.peers.push(peer);
    }

    /// Removes a slot, keeping the others in their order.
    pub(crate) fn remove(&mut self, id: PeerId) -> Option<Peer> {
        let pos = self.index.remove(&id)?;
        let peer = self.peers.remove(pos);
        for p in &self.peers[pos..] {
            if let Some(i) = self.index.get_mut(&p.id) {
                *i -= 1;
            }
        }
        if let Some(i) = self.rotation.iter().position(|&p| p == pos) {
            self.rotation.remove(i);
            if i < self.next {
                self.next -= 1;
            }
        }
        for p in self.rotation.iter_mut().filter(|p| **p > pos) {
            *p -= 1;
        }
        self.unindex_routing_id(&peer.routing_id.clone(), id);
        Some(peer)
    }

    /// Puts every set-aside slot back into the rotation (the limits changed:
    /// any of them may have room now).
    pub(crate) fn return_all(&mut self) {
        for (pos, p) in self.peers.iter().enumerate() {
            if p.outbound.take_set_aside() {
                insert_last(&mut self.rotation, &mut self.next, pos);
            }
        }
    }

    /// Picks the next slot in round-robin order that passes `has_room` and makes
    /// it the last in turn. Slots that fail `has_room` leave the rotation until
    /// their queue returns them through `room` (which this takes first). `None`
    /// when no slot in the rotation has room.
    #[inline]
    pub(crate) fn next_with(
        &mut self,
        room: &Room,
        has_room: impl Fn(&Peer) -> bool,
    ) -> Option<&Peer> {
        if room.has_returned() {
            self.take_returned(room);
        }
        // The common case: the slot in turn has room.
        let in_turn = self.rotation.get(self.next).copied();
        if let Some(pos) = in_turn
            && has_room(&self.peers[pos])
        {
            // Wrapped here, so the next send finds its slot on this path too.
            self.next += 1;
            if self.next == self.rotation.len() {
                self.next = 0;
            }
            return Some(&self.peers[pos]);
        }
        self.next_with_slow(in_turn.is_some(), has_room)
    }

    /// Puts the slots that came back through `room` into the rotation.
    #[cold]
    #[inline(never)]
    fn take_returned(&mut self, room: &Room) {
        let Self {
            rotation,
            next,
            index,
            ..
        } = self;
        room.take_returned(|id| {
            if let Some(&pos) = index.get(&id) {
                insert_last(rotation, next, pos);
            }
        });
    }

    /// [`PeerTable::next_with`] past the end of the ring or past full slots;
    /// `in_turn_full`: the slot `next` names was found full already.
    #[inline(never)]
    fn next_with_slow(
        &mut self,
        mut in_turn_full: bool,
        has_room: impl Fn(&Peer) -> bool,
    ) -> Option<&Peer> {
        let Self {
            peers,
            rotation,
            next,
            ..
        } = self;
        loop {
            if *next >= rotation.len() {
                if rotation.is_empty() {
                    return None;
                }
                *next = 0;
            }
            // The run of full slots from `next` leaves the rotation in one go.
            let start = *next;
            let mut end = start;
            if std::mem::take(&mut in_turn_full) {
                peers[rotation[end]].outbound.set_aside();
                end += 1;
            }
            while end < rotation.len() && !has_room(&peers[rotation[end]]) {
                peers[rotation[end]].outbound.set_aside();
                end += 1;
            }
            if end > start {
                rotation.drain(start..end);
            }
            if start < rotation.len() {
                *next = if start + 1 == rotation.len() {
                    0
                } else {
                    start + 1
                };
                return Some(&peers[rotation[start]]);
            }
            // Past the end of the ring: go on from its start.
            *next = start;
        }
    }
}

/// Puts `pos` into the ring `rotation` read from `next` as the last in turn:
/// just before the slot `next` names.
fn insert_last(rotation: &mut Vec<usize>, next: &mut usize, pos: usize) {
    let at = (*next).min(rotation.len());
    rotation.insert(at, pos);
    *next = if at + 1 == rotation.len() { 0 } else { at + 1 };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(id: PeerId, rid: &'static [u8]) -> Peer {
        peer_in(&Rc::new(Room::default()), id, rid)
    }

    fn peer_in(room: &Rc<Room>, id: PeerId, rid: &'static [u8]) -> Peer {
        Peer {
            id,
            routing_id: Bytes::from_static(rid),
            outbound: Rc::new(Outbound::new(room.clone())),
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

    /// `n` peers (ids 1..=n) sharing `room`.
    fn rotation(room: &Rc<Room>, n: u64) -> PeerTable {
        let mut t = PeerTable::default();
        for id in 1..=n {
            t.push(peer_in(room, id, b""));
        }
        t
    }

    /// The next `sends` picks, with the peers in `full` refusing; also how
    /// many times a peer was looked at.
    fn picks(
        t: &mut PeerTable,
        room: &Room,
        full: &[PeerId],
        sends: usize,
    ) -> (Vec<PeerId>, usize) {
        let looked = std::cell::Cell::new(0);
        let picked = (0..sends)
            .map_while(|_| {
                t.next_with(room, |p| {
                    looked.set(looked.get() + 1);
                    !full.contains(&p.id)
                })
                .map(|p| p.id)
            })
            .collect();
        (picked, looked.get())
    }

    #[test]
    fn round_robin_takes_the_peers_in_turn() {
        let room = Rc::new(Room::default());
        let mut t = rotation(&room, 3);
        assert_eq!(picks(&mut t, &room, &[], 7), (vec![1, 2, 3, 1, 2, 3, 1], 7));
    }

    #[test]
    fn full_peers_are_looked_at_once_then_left_out() {
        let room = Rc::new(Room::default());
        let mut t = rotation(&room, 1000);
        let full: Vec<PeerId> = (2..=1000).collect();
        let (picked, looked) = picks(&mut t, &room, &full, 1);
        assert_eq!((picked, looked), (vec![1], 1));
        // Peer 2 onwards are full: the next send walks past them once...
        let (picked, looked) = picks(&mut t, &room, &full, 1);
        assert_eq!((picked, looked), (vec![1], 1000));
        // ...and from then on never looks at them again.
        let (picked, looked) = picks(&mut t, &room, &full, 500);
        assert_eq!(picked, vec![1; 500]);
        assert_eq!(looked, 500);
    }

    #[test]
    fn a_full_peer_that_makes_room_comes_back_at_the_end() {
        let room = Rc::new(Room::default());
        let mut t = rotation(&room, 4);
        // 2 and 3 are full and set aside.
        assert_eq!(picks(&mut t, &room, &[2, 3], 3).0, vec![1, 4, 1]);
        // 3's queue drains: it is back, behind the others.
        t.get(3).unwrap().outbound.batch_done();
        assert_eq!(picks(&mut t, &room, &[2], 6).0, vec![4, 1, 3, 4, 1, 3]);
        // Nothing has room: no pick, and all are set aside.
        assert_eq!(picks(&mut t, &room, &[1, 2, 3, 4], 1), (vec![], 3));
        assert_eq!(picks(&mut t, &room, &[], 1), (vec![], 0));
        // Changed limits bring every one back, in table order.
        t.return_all();
        assert_eq!(picks(&mut t, &room, &[], 5).0, vec![1, 2, 3, 4, 1]);
    }

    #[test]
    fn a_peer_returns_once_however_often_its_queue_makes_room() {
        let room = Rc::new(Room::default());
        let mut t = rotation(&room, 2);
        assert_eq!(picks(&mut t, &room, &[2], 2).0, vec![1, 1]);
        let two = t.get(2).unwrap().outbound.clone();
        two.batch_done();
        two.batch_done();
        two.batch_done();
        assert_eq!(picks(&mut t, &room, &[], 4).0, vec![1, 2, 1, 2]);
    }

    #[test]
    fn removing_peers_keeps_the_rotation_in_step() {
        let room = Rc::new(Room::default());
        let mut t = rotation(&room, 5);
        assert_eq!(picks(&mut t, &room, &[4], 4).0, vec![1, 2, 3, 5]);
        // 4 is set aside; 3 goes; 4 makes room and then goes before it is
        // taken back.
        t.remove(3);
        t.get(4).unwrap().outbound.batch_done();
        t.remove(4);
        assert_eq!(picks(&mut t, &room, &[], 4).0, vec![1, 2, 5, 1]);
        // A new peer joins at the back; a removed one leaves the turn order.
        t.push(peer_in(&room, 6, b""));
        t.remove(5);
        assert_eq!(picks(&mut t, &room, &[], 4).0, vec![2, 1, 6, 2]);
    }
}
