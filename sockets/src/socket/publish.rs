//! Publish-subscribe on the socket: fan-out of a published message to the
//! matching subscribers (encoded once, shared), subscription changes from peers
//! (XPUB reports), subscriptions sent upstream by SUB and XSUB, and what a
//! publisher forgets when a subscriber leaves.

use bytes::Bytes;
use zeroring_zmtp::{Message, SocketType};

use super::Core;
use crate::pipe::PeerId;
use crate::pipe::outbound::encode_once;

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Published {
    /// Queued to every matching subscriber with room (the others dropped it).
    Done,
    /// XPUB_NODROP and a matching subscriber is full: nothing was queued.
    WouldBlock,
}

impl Core {
    fn is_publisher(&self) -> bool {
        matches!(self.socket_type, SocketType::Pub | SocketType::Xpub)
    }

    /// A SUBSCRIBE/CANCEL (or its 3.0 data-message form) arrived from `peer`.
    /// Returns the report an XPUB hands to its application; the connection's
    /// reader delivers it like a message from that peer, under RCVHWM, so a
    /// subscriber that floods subscriptions to an application that does not read
    /// them is paused instead of queueing reports without limit.
    pub(crate) fn on_subscription(
        &self,
        peer: PeerId,
        subscribe: bool,
        topic: &[u8],
    ) -> Option<Message> {
        if !self.is_publisher() {
            tracing::trace!("ignoring a subscription sent to a non-publishing socket");
            return None;
        }
        let xpub = self.option(|o| o.xpub());
        let report = self
            .pubsub
            .borrow_mut()
            .publisher
            .on_subscription(peer, subscribe, topic, xpub);
        report.filter(|_| self.socket_type == SocketType::Xpub)
    }

    /// A peer left: a publisher forgets what it subscribed to (an XPUB reports the
    /// cancellations unless XPUB_MANUAL).
    pub(crate) fn peer_left(&self, peer: PeerId) {
        if !self.is_publisher() {
            return;
        }
        let xpub = self.option(|o| o.xpub());
        let notes = self.pubsub.borrow_mut().publisher.on_peer_gone(peer, xpub);
        if self.socket_type != SocketType::Xpub || xpub.manual {
            return;
        }
        let inbox = self.state.borrow().peers.get(peer).map(|p| p.inbox.clone());
        if let Some(inbox) = inbox {
            for n in notes {
                self.queue.queue_now(&inbox, n);
            }
        }
    }

    /// Sends a subscription change to every connected publisher (SUB, XSUB), in
    /// the form its version expects.
    pub(crate) fn send_subscription_upstream(&self, subscribe: bool, topic: &Bytes) {
        let st = self.state.borrow();
        for p in st.peers.all() {
            if let (Some(version), Some(_)) = (p.version, &p.conn) {
                p.outbound.send_subscription(version, subscribe, topic);
            }
        }
    }

    /// Queues a message to every connected peer with room (XSUB upstream traffic);
    /// full peers miss it.
    pub(crate) fn send_to_all(&self, frames: &[Bytes]) {
        let limit = self.send_limit();
        let segments = encode_once(frames);
        let st = self.state.borrow();
        for p in st.peers.all().iter().filter(|p| p.conn.is_some()) {
            if !p.outbound.has_room(limit) {
                continue;
            }
            if p.outbound.is_inproc() {
                p.outbound.encode_message(&[], frames, false);
            } else {
                p.outbound.encode_shared(&segments);
            }
        }
    }

    /// XPUB_MANUAL: applies a subscription change to the last subscribing peer.
    pub(crate) fn apply_manual(&self, subscribe: bool, topic: &[u8]) {
        let xpub = self.option(|o| o.xpub());
        self.pubsub
            .borrow_mut()
            .publisher
            .apply_manual(subscribe, topic, xpub);
    }

    /// Queues a message once-encoded to every subscriber whose subscriptions match
    /// its first frame. Subscribers over SNDHWM miss it, unless `nodrop`, in which
    /// case nothing is sent while any matching subscriber is full.
    pub(crate) fn publish(&self, frames: &[Bytes], nodrop: bool) -> Published {
        let limit = self.send_limit();
        let topic: &[u8] = frames.first().map(|f| &f[..]).unwrap_or(&[]);
        let pubsub = self.pubsub.borrow();
        let st = self.state.borrow();
        let matching = || {
            st.peers
                .all()
                .iter()
                .filter(|p| p.conn.is_some() && pubsub.publisher.wants(p.id, topic))
        };
        if nodrop && matching().any(|p| !p.outbound.has_room(limit)) {
            return Published::WouldBlock;
        }
        let mut segments: Option<Vec<Bytes>> = None;
        for p in matching() {
            if p.outbound.has_room(limit) && p.outbound.is_inproc() {
                p.outbound.encode_message(&[], frames, false);
            } else if p.outbound.has_room(limit) {
                let segs = segments.get_or_insert_with(|| encode_once(frames));
                p.outbound.encode_shared(segs);
            } else {
                tracing::trace!(peer = p.id, "subscriber over SNDHWM misses a message");
            }
        }
        Published::Done
    }
}
