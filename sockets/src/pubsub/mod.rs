//! Publish-subscribe state shared by PUB, SUB, XPUB and XSUB (RFC 29).
//!
//! - [`trie`]: topic prefixes with reference counts.
//! - [`publisher`]: what each subscriber asked a PUB/XPUB for, and the subscription
//!   messages an XPUB hands to its application.
//! - [`subscriber`]: the subscriptions a SUB/XSUB holds and sends to every publisher.
//!
//! This is state only; the wire forms of subscriptions are in
//! `zeroring_zmtp::subscription`, and the socket (`socket::publish`) moves them.

pub(crate) mod publisher;
pub(crate) mod subscriber;
pub(crate) mod trie;

/// Both sides' state; a socket uses the side its type needs.
#[derive(Debug, Default)]
pub(crate) struct PubSub {
    pub(crate) publisher: publisher::PublisherState,
    pub(crate) subscriber: subscriber::SubscriberState,
}
