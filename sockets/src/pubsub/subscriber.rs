//! The subscriber side (SUB, XSUB): counted subscriptions, sent to every connected
//! publisher, resent after each (re)connection.
//!
//! As in libzmq, every subscribe is forwarded (an XPUB upstream decides what is a
//! duplicate, which keeps XPUB_VERBOSE working through proxies), while a cancel is
//! forwarded only when the last reference to the topic goes.

use bytes::Bytes;

use super::trie::Trie;

/// Subscriptions held by a SUB or XSUB socket.
#[derive(Debug, Default)]
pub(crate) struct SubscriberState {
    topics: Trie,
}

impl SubscriberState {
    /// Records a subscription. Always forwarded.
    pub(crate) fn subscribe(&mut self, topic: &[u8]) {
        self.topics.add(topic);
    }

    /// Drops one reference; true when the cancel must be forwarded (last reference).
    pub(crate) fn unsubscribe(&mut self, topic: &[u8]) -> bool {
        self.topics.remove(topic)
    }

    /// Whether a received message's first frame matches a subscription.
    pub(crate) fn matches(&self, first_frame: &[u8]) -> bool {
        self.topics.matches(first_frame)
    }

    /// Every topic, for a new connection.
    pub(crate) fn topics(&self) -> Vec<Bytes> {
        self.topics.topics()
    }
}
