//! XSUB (RFC 29): a SUB whose subscriptions are messages the application sends
//! (`0x01 topic` subscribes, `0x00 topic` cancels), used for forwarders. Other sent
//! messages go upstream to every publisher. Received messages are not filtered.

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::{Error, Result};
use zeroring_zmtp::Message;

/// The extended subscriber, for proxies.
#[derive(Debug)]
pub struct XsubSocket {
    base: SocketBase,
}

typed_socket!(XsubSocket, SocketType::Xsub);

impl XsubSocket {
    fn from_base(base: SocketBase) -> XsubSocket {
        XsubSocket { base }
    }

    /// Sends a subscription message upstream (every subscribe is forwarded; a
    /// cancel only when the last reference goes), or any other message to every
    /// publisher with room.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<()> {
        let msg = msg.into();
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        match zeroring_zmtp::subscription::parse(&msg) {
            Some((subscribe, topic)) => self.subscription(subscribe, &topic),
            None => self.base.core.send_to_all(msg.frames()),
        }
        Ok(())
    }

    /// Subscribes (`true`) or cancels, and tells the publishers: every subscribe
    /// goes upstream, a cancel only with the topic's last reference.
    pub(crate) fn subscription(&self, subscribe: bool, topic: &bytes::Bytes) {
        let core = &self.base.core;
        if subscribe {
            core.with_pubsub(|ps| ps.subscriber.subscribe(topic));
            core.send_subscription_upstream(true, topic);
        } else if core.with_pubsub(|ps| ps.subscriber.unsubscribe(topic)) {
            core.send_subscription_upstream(false, topic);
        }
    }

    /// The same as [`send`](Self::send), which never waits (full publishers miss
    /// the message). Offered so every socket type has `try_send`.
    pub async fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send(msg).await
    }

    /// Receives the next message from any publisher (fair-queued). Cancel-safe.
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
