//! The publisher side (PUB, XPUB): which topics each subscriber asked for, and the
//! subscription messages an XPUB hands to its application.
//!
//! Per subscriber a topic is a set member (subscribing twice from one peer is one
//! subscription, as in libzmq's mtrie); across subscribers topics are counted, so an
//! XPUB reports a subscribe only for the first subscriber of a topic and a cancel
//! only for the last (unless XPUB_VERBOSE / XPUB_VERBOSER).

use super::trie::Trie;
use crate::peer_map::PeerMap;
use crate::pipe::PeerId;
use zeroring_zmtp::Message;

/// XPUB behaviour switches (all off for PUB), from the socket's options.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct XpubOptions {
    /// XPUB_VERBOSE: report every subscribe, not only the first per topic.
    pub(crate) verbose: bool,
    /// XPUB_VERBOSER: also report every cancel, not only the last per topic.
    pub(crate) verboser: bool,
    /// XPUB_MANUAL: report every subscription and apply none; the application
    /// applies them with subscribe/unsubscribe.
    pub(crate) manual: bool,
}

/// Subscriptions received by a PUB or XPUB socket.
#[derive(Debug, Default)]
pub(crate) struct PublisherState {
    per_peer: PeerMap<Trie>,
    /// Number of subscribers per topic.
    subscribers: Trie,
    /// The peer whose subscription came last (XPUB_MANUAL applies to it).
    last_peer: Option<PeerId>,
}

fn note(subscribe: bool, topic: &[u8]) -> Message {
    Message::from(zeroring_zmtp::subscription::data_body(subscribe, topic))
}

impl PublisherState {
    /// A subscription arrived from `peer`. Returns the message an XPUB application
    /// should see, if any.
    pub(crate) fn on_subscription(
        &mut self,
        peer: PeerId,
        subscribe: bool,
        topic: &[u8],
        xpub: XpubOptions,
    ) -> Option<Message> {
        self.last_peer = Some(peer);
        if xpub.manual {
            return Some(note(subscribe, topic));
        }
        let report = self.apply(peer, subscribe, topic, xpub);
        report.then(|| note(subscribe, topic))
    }

    /// Applies a change for `peer`; true when an XPUB should report it.
    fn apply(&mut self, peer: PeerId, subscribe: bool, topic: &[u8], xpub: XpubOptions) -> bool {
        let verbose_subs = xpub.verbose || xpub.verboser;
        let own = self.per_peer.entry(peer).or_default();
        if subscribe {
            let first = !own.contains(topic) && {
                own.add(topic);
                self.subscribers.add(topic)
            };
            first || verbose_subs
        } else if own.remove_all(topic) {
            let last = self.subscribers.remove(topic);
            last || xpub.verboser
        } else {
            // libzmq reports a cancel of a topic the peer never had.
            true
        }
    }

    /// XPUB_MANUAL: the application applies a change to the last subscribing peer.
    pub(crate) fn apply_manual(&mut self, subscribe: bool, topic: &[u8], xpub: XpubOptions) {
        if let Some(peer) = self.last_peer {
            self.apply(peer, subscribe, topic, xpub);
        }
    }

    /// A subscriber went away: forget its topics. Returns the cancels an XPUB
    /// application should see (topics nobody else wants any more).
    pub(crate) fn on_peer_gone(&mut self, peer: PeerId, xpub: XpubOptions) -> Vec<Message> {
        if self.last_peer == Some(peer) {
            self.last_peer = None;
        }
        let Some(own) = self.per_peer.remove(&peer) else {
            return Vec::new();
        };
        own.topics()
            .into_iter()
            .filter(|t| self.subscribers.remove(t) || xpub.verboser)
            .map(|t| note(false, &t))
            .collect()
    }

    /// Whether `peer` subscribed to a prefix of `first_frame`.
    pub(crate) fn wants(&self, peer: PeerId, first_frame: &[u8]) -> bool {
        self.per_peer
            .get(&peer)
            .is_some_and(|t| t.matches(first_frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_subscribe_and_last_cancel_are_reported() {
        let mut p = PublisherState::default();
        let x = XpubOptions::default();
        assert!(p.on_subscription(1, true, b"A", x).is_some());
        assert!(p.on_subscription(2, true, b"A", x).is_none());
        assert!(p.on_subscription(1, true, b"A", x).is_none());
        assert!(p.wants(1, b"ABC") && p.wants(2, b"A") && !p.wants(3, b"A"));
        assert!(p.on_subscription(1, false, b"A", x).is_none());
        assert!(!p.wants(1, b"A"));
        assert_eq!(
            p.on_subscription(2, false, b"A", x).unwrap()[0][..],
            b"\x00A"[..]
        );
    }

    #[test]
    fn verbose_and_peer_gone() {
        let mut p = PublisherState::default();
        let x = XpubOptions {
            verbose: true,
            ..XpubOptions::default()
        };
        assert!(p.on_subscription(1, true, b"T", x).is_some());
        assert!(p.on_subscription(2, true, b"T", x).is_some());
        assert!(p.on_peer_gone(1, x).is_empty());
        let gone = p.on_peer_gone(2, x);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0][0][..], b"\x00T"[..]);
    }

    #[test]
    fn manual_applies_nothing_until_asked() {
        let mut p = PublisherState::default();
        let x = XpubOptions {
            manual: true,
            ..XpubOptions::default()
        };
        assert!(p.on_subscription(7, true, b"X", x).is_some());
        assert!(!p.wants(7, b"X"));
        p.apply_manual(true, b"X", x);
        assert!(p.wants(7, b"X"));
    }
}
