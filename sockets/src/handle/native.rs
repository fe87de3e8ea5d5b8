//! The native socket behind a thread-safe handle, one of the eleven types, as the
//! I/O thread's pump drives it: send, receive (waiting, or at once for a batch),
//! subscriptions, options.

use std::sync::Arc;

use bytes::Bytes;
use zeroring_zmtp::{Message, SocketType};

use crate::base::SocketBase;
use crate::error::Result;
use crate::inproc::registry::Registry;
use crate::types::{
    dealer::DealerSocket, pair::PairSocket, publisher::PubSocket, pull::PullSocket,
    push::PushSocket, rep::RepSocket, req::ReqSocket, router::RouterSocket, subscriber::SubSocket,
    xpub::XpubSocket, xsub::XsubSocket,
};

/// A native socket of any type.
#[derive(Debug)]
pub(crate) enum Native {
    Req(ReqSocket),
    Rep(RepSocket),
    Dealer(DealerSocket),
    Router(RouterSocket),
    Push(PushSocket),
    Pull(PullSocket),
    Pair(PairSocket),
    Pub(PubSocket),
    Sub(SubSocket),
    Xpub(XpubSocket),
    Xsub(XsubSocket),
}

/// Calls the same method on whichever type `$native` holds.
macro_rules! each {
    ($native:expr, $s:ident => $e:expr) => {
        match $native {
            Native::Req($s) => $e,
            Native::Rep($s) => $e,
            Native::Dealer($s) => $e,
            Native::Router($s) => $e,
            Native::Push($s) => $e,
            Native::Pull($s) => $e,
            Native::Pair($s) => $e,
            Native::Pub($s) => $e,
            Native::Sub($s) => $e,
            Native::Xpub($s) => $e,
            Native::Xsub($s) => $e,
        }
    };
}

impl Native {
    /// A new socket of `socket_type` on the current compio runtime, with its
    /// context's `inproc://` names.
    pub(crate) fn new(socket_type: SocketType, inproc: Arc<Registry>) -> Native {
        let native = Native::create(socket_type, inproc);
        // The I/O thread serves every socket of the context: it must not spin
        // waiting for one of them (unless the application asks for it).
        native
            .base()
            .set_adaptive_spin(None)
            .expect("None is a valid spin");
        native
    }

    fn create(socket_type: SocketType, inproc: Arc<Registry>) -> Native {
        match socket_type {
            SocketType::Req => Native::Req(ReqSocket::new_in(inproc)),
            SocketType::Rep => Native::Rep(RepSocket::new_in(inproc)),
            SocketType::Dealer => Native::Dealer(DealerSocket::new_in(inproc)),
            SocketType::Router => Native::Router(RouterSocket::new_in(inproc)),
            SocketType::Push => Native::Push(PushSocket::new_in(inproc)),
            SocketType::Pull => Native::Pull(PullSocket::new_in(inproc)),
            SocketType::Pair => Native::Pair(PairSocket::new_in(inproc)),
            SocketType::Pub => Native::Pub(PubSocket::new_in(inproc)),
            SocketType::Sub => Native::Sub(SubSocket::new_in(inproc)),
            SocketType::Xpub => Native::Xpub(XpubSocket::new_in(inproc)),
            SocketType::Xsub => Native::Xsub(XsubSocket::new_in(inproc)),
        }
    }

    pub(crate) fn base(&self) -> &SocketBase {
        each!(self, s => s)
    }

    /// Whether this type receives at all.
    pub(crate) fn receives(&self) -> bool {
        !matches!(self, Native::Push(_) | Native::Pub(_))
    }

    /// False while a send would wait for a peer to appear (DEALER, PUSH, PAIR,
    /// REQ with no peer slot at all); the other types never wait for one.
    ///
    /// Peers at SNDHWM do not count: then the handle's own queue (bounded by
    /// SNDHWM) fills and its senders wait on that. Flagging "every peer at
    /// SNDHWM" here as well made the handle's sender and the I/O thread take
    /// turns message by message instead of batch by batch (PUSH/PULL 64 B
    /// through handles fell to about 0.6x).
    pub(crate) fn can_send(&self) -> bool {
        match self {
            Native::Dealer(_) | Native::Push(_) | Native::Pair(_) | Native::Req(_) => {
                self.base().core.has_peer_slots()
            }
            _ => true,
        }
    }

    /// Sends at once when a peer has room (the common case, without building a
    /// future); gives the message back when the caller has to wait.
    pub(crate) fn send_now(&self, mut msg: Message) -> std::result::Result<Result<()>, Message> {
        match self {
            Native::Dealer(_) | Native::Push(_) | Native::Pair(_) => {
                match self.base().core.try_send_message(&mut msg) {
                    Ok(true) => Ok(Ok(())),
                    Ok(false) => Err(msg),
                    Err(e) => Ok(Err(e)),
                }
            }
            _ => Err(msg),
        }
    }

    pub(crate) async fn send(&self, msg: Message) -> Result<()> {
        match self {
            Native::Req(s) => s.send(msg).await,
            Native::Rep(s) => s.send(msg).await,
            Native::Dealer(s) => s.send(msg).await,
            Native::Router(s) => s.send(msg).await,
            Native::Push(s) => s.send(msg).await,
            Native::Pair(s) => s.send(msg).await,
            Native::Pub(s) => s.send(msg).await,
            Native::Xpub(s) => s.send(msg).await,
            Native::Xsub(s) => s.send(msg).await,
            Native::Pull(_) | Native::Sub(_) => Err(crate::error::Error::NotSupported {
                op: "send",
                socket_type: self.base().socket_type().as_str(),
            }),
        }
    }

    pub(crate) async fn recv(&self) -> Result<Message> {
        match self {
            Native::Req(s) => s.recv().await,
            Native::Rep(s) => s.recv().await,
            Native::Dealer(s) => s.recv().await,
            Native::Router(s) => s.recv().await,
            Native::Pull(s) => s.recv().await,
            Native::Pair(s) => s.recv().await,
            Native::Sub(s) => s.recv().await,
            Native::Xpub(s) => s.recv().await,
            Native::Xsub(s) => s.recv().await,
            Native::Push(_) | Native::Pub(_) => Err(crate::error::Error::NotSupported {
                op: "recv",
                socket_type: self.base().socket_type().as_str(),
            }),
        }
    }

    /// A message already waiting, taken without waiting (the pump batches with
    /// it). REQ and REP, whose receives follow their sends, take none here.
    pub(crate) fn recv_now(&self) -> Option<Message> {
        match self {
            Native::Dealer(_)
            | Native::Pull(_)
            | Native::Pair(_)
            | Native::Xpub(_)
            | Native::Xsub(_) => self.base().core.try_recv().map(|got| got.msg),
            Native::Router(_) => self.base().core.try_recv().map(|got| {
                let mut msg = got.msg;
                msg.push_front(got.routing_id);
                msg
            }),
            Native::Sub(s) => s.recv_now(),
            Native::Req(_) | Native::Rep(_) | Native::Push(_) | Native::Pub(_) => None,
        }
    }

    /// SUB and XSUB subscribe; XPUB applies a manual subscription.
    pub(crate) fn subscribe(&self, topic: &Bytes, on: bool) {
        match self {
            Native::Sub(s) if on => s.subscribe(topic),
            Native::Sub(s) => s.unsubscribe(topic),
            Native::Xsub(s) => s.subscription(on, topic),
            Native::Xpub(s) if on => s.subscribe(topic),
            Native::Xpub(s) => s.unsubscribe(topic),
            _ => tracing::debug!("subscription ignored by a non-subscribing socket"),
        }
    }
}
