//! PAIR (RFC 31): one peer at a time; later connections are refused.

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::Result;
use crate::message::Message;

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
        let msg = msg.into();
        if self.base.core.try_send_message(&msg)? {
            return Ok(());
        }
        self.base.core.send_wait(&[], msg.frames()).await.map(drop)
    }

    /// Receives the next message from the peer. Cancel-safe.
    pub async fn recv(&self) -> Result<Message> {
        if let Some(got) = self.base.core.try_recv() {
            return Ok(got.msg);
        }
        Ok(self.base.core.recv_wait().await?.msg)
    }
}
