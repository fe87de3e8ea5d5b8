//! [`Kind`]: the eleven socket types as a clap value (`--type dealer`).

use clap::ValueEnum;
use zeroring::SocketType;

/// A socket type named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// REQ.
    Req,
    /// REP.
    Rep,
    /// DEALER.
    Dealer,
    /// ROUTER.
    Router,
    /// PUB.
    Pub,
    /// SUB.
    Sub,
    /// XPUB.
    Xpub,
    /// XSUB.
    Xsub,
    /// PUSH.
    Push,
    /// PULL.
    Pull,
    /// PAIR.
    Pair,
}

impl From<Kind> for SocketType {
    fn from(kind: Kind) -> SocketType {
        match kind {
            Kind::Req => SocketType::Req,
            Kind::Rep => SocketType::Rep,
            Kind::Dealer => SocketType::Dealer,
            Kind::Router => SocketType::Router,
            Kind::Pub => SocketType::Pub,
            Kind::Sub => SocketType::Sub,
            Kind::Xpub => SocketType::Xpub,
            Kind::Xsub => SocketType::Xsub,
            Kind::Push => SocketType::Push,
            Kind::Pull => SocketType::Pull,
            Kind::Pair => SocketType::Pair,
        }
    }
}
