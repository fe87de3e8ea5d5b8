//! PUB (RFC 29): sends each message to the subscribers whose subscriptions match its
//! first frame. Never blocks: a subscriber over SNDHWM misses messages, the others
//! do not notice. The message is encoded once and shared across subscribers.

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::{Error, Result};
use zeroring_zmtp::Message;

/// The publishing side of publish-subscribe.
///
/// ```no_run
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let publisher = zeroring_sockets::PubSocket::new();
/// publisher.bind("tcp://127.0.0.1:5556").await.unwrap();
/// publisher.send(vec!["weather.paris", "21C"]).await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct PubSocket {
    base: SocketBase,
}

typed_socket!(PubSocket, SocketType::Pub);

impl PubSocket {
    fn from_base(base: SocketBase) -> PubSocket {
        PubSocket { base }
    }

    /// Publishes a message to every matching subscriber; returns at once.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<()> {
        let msg = msg.into();
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        if self.base.core.is_closed() {
            return Err(Error::Closed);
        }
        self.base.core.publish(msg.frames(), false);
        Ok(())
    }

    /// The same as [`send`](Self::send), which never waits (a full subscriber
    /// misses the message). Offered so every socket type has `try_send`.
    pub async fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send(msg).await
    }
}
