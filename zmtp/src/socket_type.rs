//! Socket types as named in READY metadata, and which pairs may talk (RFC 23/37).

use std::fmt;

/// A ZeroMQ socket type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketType {
    /// Request side of request-reply.
    Req,
    /// Reply side of request-reply.
    Rep,
    /// Asynchronous request side.
    Dealer,
    /// Asynchronous reply side, addressing peers by routing id.
    Router,
    /// Publisher.
    Pub,
    /// Subscriber.
    Sub,
    /// Extended publisher (sees subscriptions).
    Xpub,
    /// Extended subscriber (sends subscriptions as messages).
    Xsub,
    /// Pipeline sender.
    Push,
    /// Pipeline receiver.
    Pull,
    /// Exclusive pair.
    Pair,
}

impl SocketType {
    /// Every socket type, for iteration in tests and tools.
    pub const ALL: [SocketType; 11] = [
        SocketType::Req,
        SocketType::Rep,
        SocketType::Dealer,
        SocketType::Router,
        SocketType::Pub,
        SocketType::Sub,
        SocketType::Xpub,
        SocketType::Xsub,
        SocketType::Push,
        SocketType::Pull,
        SocketType::Pair,
    ];

    /// The name sent in the `Socket-Type` property.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketType::Req => "REQ",
            SocketType::Rep => "REP",
            SocketType::Dealer => "DEALER",
            SocketType::Router => "ROUTER",
            SocketType::Pub => "PUB",
            SocketType::Sub => "SUB",
            SocketType::Xpub => "XPUB",
            SocketType::Xsub => "XSUB",
            SocketType::Push => "PUSH",
            SocketType::Pull => "PULL",
            SocketType::Pair => "PAIR",
        }
    }

    /// Parses a `Socket-Type` value. The names are case-sensitive upper case on the
    /// wire (libzmq compares them exactly).
    pub fn from_bytes(name: &[u8]) -> Option<SocketType> {
        SocketType::ALL
            .into_iter()
            .find(|t| t.as_str().as_bytes() == name)
    }

    /// Whether a socket of this type may talk to a peer of type `peer`.
    ///
    /// ```
    /// use zeroring_zmtp::SocketType::*;
    /// assert!(Req.is_compatible(Router));
    /// assert!(!Req.is_compatible(Req));
    /// ```
    pub fn is_compatible(self, peer: SocketType) -> bool {
        use SocketType::*;
        matches!(
            (self, peer),
            (Req, Rep | Router)
                | (Rep, Req | Dealer)
                | (Dealer, Rep | Dealer | Router)
                | (Router, Req | Dealer | Router)
                | (Pub | Xpub, Sub | Xsub)
                | (Sub | Xsub, Pub | Xpub)
                | (Push, Pull)
                | (Pull, Push)
                | (Pair, Pair)
        )
    }
}

impl fmt::Display for SocketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_is_symmetric_and_matches_rfc() {
        use SocketType::*;
        let mut pairs = 0;
        for a in SocketType::ALL {
            for b in SocketType::ALL {
                assert_eq!(a.is_compatible(b), b.is_compatible(a), "{a} {b}");
                if a.is_compatible(b) {
                    pairs += 1;
                }
            }
        }
        // REQ-REP, REQ-ROUTER, REP-DEALER, DEALER-DEALER, DEALER-ROUTER, ROUTER-ROUTER,
        // 4 pub/sub combinations, PUSH-PULL, PAIR-PAIR; counted ordered.
        assert_eq!(pairs, 2 + 2 + 2 + 1 + 2 + 1 + 8 + 2 + 1);
        assert!(!Pub.is_compatible(Pub));
        assert!(!Push.is_compatible(Push));
    }

    #[test]
    fn names_round_trip() {
        for t in SocketType::ALL {
            assert_eq!(SocketType::from_bytes(t.as_str().as_bytes()), Some(t));
        }
        assert_eq!(SocketType::from_bytes(b"req"), None);
        assert_eq!(SocketType::from_bytes(b"STREAM"), None);
    }
}
