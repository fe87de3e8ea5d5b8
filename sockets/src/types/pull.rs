//! PULL (RFC 30): fair-queues messages from connected PUSH peers.

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::Result;
use zeroring_zmtp::Message;

/// The receiving end of a pipeline.
#[derive(Debug)]
pub struct PullSocket {
    base: SocketBase,
}

typed_socket!(PullSocket, SocketType::Pull);

impl PullSocket {
    fn from_base(base: SocketBase) -> PullSocket {
        PullSocket { base }
    }

    /// Receives the next message, fair-queued across peers. Cancel-safe: dropping the
    /// future loses nothing.
    pub async fn recv(&self) -> Result<Message> {
        if let Some(got) = self.base.core.try_recv() {
            return Ok(got.msg);
        }
        Ok(self.base.core.recv_wait().await?.msg)
    }

    /// Like [`recv`](Self::recv) but never waits (libzmq's ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`](crate::Error::WouldBlock) when no message is waiting,
    /// after giving the runtime one turn so a polling loop lets messages arrive.
    pub async fn try_recv(&self) -> Result<Message> {
        Ok(self.base.core.recv(true).await?.msg)
    }

    crate::base::recv_with_peer!();
}
