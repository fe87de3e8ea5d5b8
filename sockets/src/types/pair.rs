//! PAIR (RFC 31): one peer at a time; later connections are refused.

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::Result;
use zeroring_zmtp::Message;

/// An exclusive pair: exactly one peer; send waits while it is absent or full.
#[derive(Debug)]
pub struct PairSocket {
    base: SocketBase,
}

typed_socket!(PairSocket, SocketType::Pair);

impl PairSocket {
    fn from_base(base: SocketBase) -> PairSocket {
        PairSocket { base }
    }

    /// Queues a message to the peer; waits (SNDTIMEO) while there is none or it is full.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<()> {
        let mut msg = msg.into();
        if self.base.core.try_send_message(&mut msg)? {
            return Ok(());
        }
        self.base.core.send_message_wait(&mut msg).await
    }

    /// Like [`send`](Self::send) but never waits (libzmq's ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`](crate::Error::WouldBlock) when no peer has room, after
    /// giving the runtime one turn so a retry loop lets the connections drain.
    pub async fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        if self.base.core.try_send_message(&mut msg.into())? {
            return Ok(());
        }
        self.base.core.would_block("send").await
    }

    /// Receives the next message from the peer. Cancel-safe.
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
