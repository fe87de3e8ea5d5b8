//! XPUB (RFC 29): a PUB that shows its application the subscriptions it receives
//! (`0x01 topic` / `0x00 topic` messages, plus any other message a subscriber sends
//! upstream), with libzmq's XPUB_VERBOSE, XPUB_VERBOSER, XPUB_NODROP, XPUB_MANUAL
//! and XPUB_WELCOME_MSG.

use bytes::Bytes;
use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::{Error, Result};
use crate::socket::Published;
use crate::wait::with_timeout;
use zeroring_zmtp::Message;

/// The extended publisher, for proxies and subscription-aware publishers.
#[derive(Debug)]
pub struct XpubSocket {
    base: SocketBase,
}

typed_socket!(XpubSocket, SocketType::Xpub);

impl XpubSocket {
    fn from_base(base: SocketBase) -> XpubSocket {
        XpubSocket { base }
    }

    /// ZMQ_XPUB_VERBOSE: report every subscribe, not only a topic's first.
    pub fn set_xpub_verbose(&self, on: bool) {
        self.base.update(|o| o.xpub_verbose = on);
    }

    /// ZMQ_XPUB_VERBOSER: report every subscribe and every cancel.
    pub fn set_xpub_verboser(&self, on: bool) {
        self.base.update(|o| o.xpub_verboser = on);
    }

    /// ZMQ_XPUB_NODROP: when a matching subscriber is over SNDHWM, send waits
    /// (SNDTIMEO; zero fails at once with [`Error::Timeout`]) instead of dropping.
    pub fn set_xpub_nodrop(&self, on: bool) {
        self.base.update(|o| o.xpub_nodrop = on);
    }

    /// ZMQ_XPUB_MANUAL: report every subscription and apply none; the application
    /// applies them with [`subscribe`](Self::subscribe) / [`unsubscribe`](Self::unsubscribe),
    /// which act on the peer whose subscription was received last.
    pub fn set_xpub_manual(&self, on: bool) {
        self.base.update(|o| o.xpub_manual = on);
    }

    /// ZMQ_XPUB_WELCOME_MSG: a message sent to each subscriber when it connects
    /// (`None`: off).
    pub fn set_xpub_welcome_msg(&self, msg: Option<impl Into<Bytes>>) {
        let msg = msg.map(Into::into);
        self.base.update(|o| o.xpub_welcome_msg = msg);
    }

    /// XPUB_MANUAL: subscribes the last subscribing peer to `topic`.
    pub fn subscribe(&self, topic: impl AsRef<[u8]>) {
        let core = &self.base.core;
        core.apply_manual(true, topic.as_ref());
    }

    /// XPUB_MANUAL: unsubscribes the last subscribing peer from `topic`.
    pub fn unsubscribe(&self, topic: impl AsRef<[u8]>) {
        let core = &self.base.core;
        core.apply_manual(false, topic.as_ref());
    }

    /// Publishes a message to every matching subscriber. Returns at once, unless
    /// XPUB_NODROP is set and a matching subscriber is full.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send_with(msg.into(), false).await
    }

    /// Like [`send`](Self::send) but never waits (ZMQ_DONTWAIT): with XPUB_NODROP,
    /// a full matching subscriber fails it with [`Error::WouldBlock`].
    pub async fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send_with(msg.into(), true).await
    }

    async fn send_with(&self, msg: Message, dontwait: bool) -> Result<()> {
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        let core = &self.base.core;
        let nodrop = core.option(|o| o.xpub_nodrop);
        if core.publish(msg.frames(), nodrop) == Published::Done {
            return Ok(());
        }
        if dontwait {
            return core.would_block("send").await;
        }
        let timeout = core.sndtimeo();
        with_timeout(timeout, "send", async {
            loop {
                let room = core.room_notified();
                if core.is_closed() {
                    return Err(Error::Closed);
                }
                if core.publish(msg.frames(), nodrop) == Published::Done {
                    return Ok(());
                }
                room.await;
            }
        })
        .await
    }

    /// Receives the next subscription report or upstream message. Cancel-safe.
    pub async fn recv(&self) -> Result<Message> {
        Ok(self.base.core.recv(false).await?.msg)
    }

    /// Like [`recv`](Self::recv) but never waits (ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`] when no message is waiting.
    pub async fn try_recv(&self) -> Result<Message> {
        Ok(self.base.core.recv(true).await?.msg)
    }

    crate::base::recv_with_peer!();
}
