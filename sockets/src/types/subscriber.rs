//! SUB (RFC 29): receives the messages whose first frame starts with one of its
//! subscriptions. Subscriptions are counted (two subscribes need two unsubscribes),
//! sent to every publisher, and resent after each reconnection. Messages are also
//! filtered here, in case a publisher sends more than was asked for.

use bytes::Bytes;
use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::Result;
use zeroring_zmtp::Message;

/// The subscribing side of publish-subscribe. It receives nothing until it
/// subscribes; the empty topic subscribes to everything.
///
/// ```no_run
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let sub = zeroring_sockets::SubSocket::new();
/// sub.connect("tcp://127.0.0.1:5556").await.unwrap();
/// sub.subscribe("weather.");
/// let update = sub.recv().await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct SubSocket {
    base: SocketBase,
}

typed_socket!(SubSocket, SocketType::Sub);

impl SubSocket {
    fn from_base(base: SocketBase) -> SubSocket {
        SubSocket { base }
    }

    /// ZMQ_SUBSCRIBE: receive messages whose first frame starts with `topic`.
    pub fn subscribe(&self, topic: impl AsRef<[u8]>) {
        let topic = Bytes::copy_from_slice(topic.as_ref());
        self.base
            .core
            .with_pubsub(|ps| ps.subscriber.subscribe(&topic));
        self.base.core.send_subscription_upstream(true, &topic);
    }

    /// ZMQ_UNSUBSCRIBE: drop one reference to `topic`; the publishers are told when
    /// the last reference goes.
    pub fn unsubscribe(&self, topic: impl AsRef<[u8]>) {
        let topic = Bytes::copy_from_slice(topic.as_ref());
        let last = self
            .base
            .core
            .with_pubsub(|ps| ps.subscriber.unsubscribe(&topic));
        if last {
            self.base.core.send_subscription_upstream(false, &topic);
        }
    }

    /// Receives the next message matching a subscription (fair-queued across
    /// publishers). Cancel-safe.
    pub async fn recv(&self) -> Result<Message> {
        self.recv_with(false).await
    }

    /// Like [`recv`](Self::recv) but never waits (ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`](crate::Error::WouldBlock) when no matching message
    /// is waiting.
    pub async fn try_recv(&self) -> Result<Message> {
        self.recv_with(true).await
    }

    crate::base::recv_with_peer!();

    /// A matching message already waiting, taken without waiting.
    pub(crate) fn recv_now(&self) -> Option<Message> {
        loop {
            let got = self.base.core.try_recv()?;
            let first = got.msg.get(0).map(|f| &f[..]).unwrap_or(&[]);
            if self
                .base
                .core
                .with_pubsub(|ps| ps.subscriber.matches(first))
            {
                return Some(got.msg);
            }
        }
    }

    async fn recv_with(&self, dontwait: bool) -> Result<Message> {
        loop {
            let got = self.base.core.recv(dontwait).await?;
            let first = got.msg.get(0).map(|f| &f[..]).unwrap_or(&[]);
            if self
                .base
                .core
                .with_pubsub(|ps| ps.subscriber.matches(first))
            {
                return Ok(got.msg);
            }
        }
    }
}
