//! How the socket core runs publish-subscribe: subscription traffic from the
//! connection readers, resending subscriptions on connect, the XPUB welcome message,
//! and fan-out of a published message to the matching subscribers.

use bytes::Bytes;
use zeroring_zmtp::SocketType;

use super::parse_subscription;
use super::subscriber::send_subscription;
use crate::connection::Conn;
use crate::core::{Core, PeerId};
use crate::writer::encode_once;
use zeroring_zmtp::Message;

/// What a publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Published {
    /// Queued to every matching subscriber with room (the others dropped it).
    Done,
    /// XPUB_NODROP and a matching subscriber is full: nothing was queued.
    WouldBlock,
}

impl Core {
    /// PUB and XPUB: inbound data messages may be subscriptions and go through
    /// [`Core::inbound_message`] one by one.
    pub(crate) fn is_publisher(&self) -> bool {
        matches!(self.socket_type, SocketType::Pub | SocketType::Xpub)
    }

    fn is_subscriber(&self) -> bool {
        matches!(self.socket_type, SocketType::Sub | SocketType::Xsub)
    }

    /// A whole data message arrived from `peer`, or (`report`) the XPUB generated a
    /// subscription report from one of its commands. Publishers take subscription
    /// messages (ZMTP 3.0 form) out of the stream; PUB drops anything else, XPUB
    /// passes it up. Everything else goes to the inbox.
    pub(crate) async fn inbound_message(
        &self,
        peer: PeerId,
        conn: &Conn,
        msg: Message,
        report: bool,
    ) -> Result<(), ()> {
        if self.is_publisher() && !report {
            if let Some((subscribe, topic)) = parse_subscription(&msg) {
                return match self.on_subscription(peer, subscribe, &topic) {
                    Some(report) => self.deliver(peer, conn, report).await,
                    None => Ok(()),
                };
            }
            if self.socket_type == SocketType::Pub {
                tracing::trace!("PUB drops a non-subscription message from a subscriber");
                return Ok(());
            }
        }
        self.deliver(peer, conn, msg).await
    }

    /// A SUBSCRIBE/CANCEL command or its 3.0 data-frame form arrived from `peer`.
    /// Returns the report an XPUB hands to its application; the reader delivers it
    /// like a message from that peer, under RCVHWM, so a subscriber that floods
    /// subscriptions to an application that does not read them is paused instead
    /// of queueing reports without limit.
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
        let report = self
            .pubsub
            .borrow_mut()
            .publisher
            .on_subscription(peer, subscribe, topic);
        report.filter(|_| self.socket_type == SocketType::Xpub)
    }

    /// A connection just completed its handshake as `peer`.
    pub(crate) fn on_attached(&self, peer: PeerId) {
        if self.is_subscriber() {
            let topics = self.pubsub.borrow().subscriber.topics();
            self.with_peer(peer, |p| {
                if let Some(version) = p.version {
                    for t in &topics {
                        send_subscription(&p.writer, version, true, t);
                    }
                }
            });
        }
        if self.socket_type == SocketType::Xpub {
            let welcome = self.pubsub.borrow().publisher.xpub.welcome.clone();
            if let Some(w) = welcome {
                self.with_peer(peer, |p| p.writer.encode_message(&[], &[w], false));
            }
        }
    }

    /// A connection of `peer` ended: a publisher forgets what it subscribed to.
    pub(crate) fn on_detached(&self, peer: PeerId) {
        if !self.is_publisher() {
            return;
        }
        let notes = self.pubsub.borrow_mut().publisher.on_peer_gone(peer);
        if self.socket_type == SocketType::Xpub && !self.pubsub.borrow().publisher.xpub.manual {
            for n in notes {
                self.deliver_now(peer, n);
            }
        }
    }

    /// Sends a subscription change to every connected publisher (SUB, XSUB).
    pub(crate) fn send_subscription_upstream(&self, subscribe: bool, topic: &Bytes) {
        self.with_peers(|peers| {
            for p in peers {
                if let (Some(version), Some(_)) = (p.version, &p.conn) {
                    send_subscription(&p.writer, version, subscribe, topic);
                }
            }
        });
    }

    /// Queues a message to every connected peer with room (XSUB upstream traffic);
    /// full peers miss it.
    pub(crate) fn send_to_all(&self, frames: &[Bytes]) {
        let limit = self.send_limit();
        let segments = encode_once(frames);
        self.with_peers(|peers| {
            for p in peers.iter().filter(|p| p.conn.is_some()) {
                if p.writer.has_room(limit) {
                    p.writer.encode_shared(&segments);
                }
            }
        });
    }

    /// Queues a message once-encoded to every subscriber whose subscriptions match
    /// its first frame. Subscribers over SNDHWM miss it, unless `nodrop`, in which
    /// case nothing is sent while any matching subscriber is full.
    pub(crate) fn publish(&self, frames: &[Bytes], nodrop: bool) -> Published {
        let limit = self.send_limit();
        let topic: &[u8] = frames.first().map(|f| &f[..]).unwrap_or(&[]);
        let pubsub = self.pubsub.borrow();
        self.with_peers(|peers| {
            let matching = || {
                peers
                    .iter()
                    .filter(|p| p.conn.is_some() && pubsub.publisher.wants(p.id, topic))
            };
            if nodrop && matching().any(|p| !p.writer.has_room(limit)) {
                return Published::WouldBlock;
            }
            let mut segments: Option<Vec<Bytes>> = None;
            for p in matching() {
                if p.writer.has_room(limit) {
                    let segs = segments.get_or_insert_with(|| encode_once(frames));
                    p.writer.encode_shared(segs);
                } else {
                    tracing::trace!(peer = p.id, "subscriber over SNDHWM misses a message");
                }
            }
            Published::Done
        })
    }
}
