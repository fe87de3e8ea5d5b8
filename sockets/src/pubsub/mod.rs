//! Publish-subscribe state shared by PUB, SUB, XPUB and XSUB (RFC 29).
//!
//! - [`trie`]: topic prefixes with reference counts.
//! - [`publisher`]: what each subscriber asked a PUB/XPUB for, and the subscription
//!   messages an XPUB hands to its application.
//! - [`subscriber`]: the subscriptions a SUB/XSUB holds and sends to every publisher.
//!
//! Subscriptions travel as SUBSCRIBE/CANCEL commands to ZMTP 3.1 peers and as data
//! frames `0x01 topic` / `0x00 topic` to ZMTP 3.0 peers; both forms are accepted from
//! anyone.

pub(crate) mod engine;
pub(crate) mod publisher;
pub(crate) mod subscriber;
pub(crate) mod trie;

use bytes::Bytes;

use zeroring_zmtp::Message;

/// Both sides' state; a socket uses the side its type needs.
#[derive(Debug, Default)]
pub(crate) struct PubSub {
    pub(crate) publisher: publisher::PublisherState,
    pub(crate) subscriber: subscriber::SubscriberState,
}

/// A subscription change: subscribe (true) or cancel (false), and the topic.
pub(crate) type Subscription = (bool, Bytes);

/// Reads a single-frame `0x01 topic` / `0x00 topic` message.
pub(crate) fn parse_subscription(msg: &Message) -> Option<Subscription> {
    if msg.len() != 1 {
        return None;
    }
    let f = &msg[0];
    match f.first() {
        Some(1) => Some((true, f.slice(1..))),
        Some(0) => Some((false, f.slice(1..))),
        _ => None,
    }
}

/// The data-frame form of a subscription change.
pub(crate) fn subscription_frame(subscribe: bool, topic: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(topic.len() + 1);
    v.push(u8::from(subscribe));
    v.extend_from_slice(topic);
    Bytes::from(v)
}
