//! PUSH (RFC 30): round-robin to connected PULL peers; send waits while none has room.

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::Result;
use zeroring_zmtp::Message;

/// The sending end of a pipeline.
///
/// ```no_run
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let push = zeroring_sockets::PushSocket::new();
/// push.connect("tcp://127.0.0.1:5557").await.unwrap();
/// push.send("work item").await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct PushSocket {
    base: SocketBase,
}

typed_socket!(PushSocket, SocketType::Push);

impl PushSocket {
    fn from_base(base: SocketBase) -> PushSocket {
        PushSocket { base }
    }

    /// Queues a message to the next PULL peer with room (round-robin). Returns once
    /// the message is buffered; waits (SNDTIMEO) while no peer has room.
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
}
