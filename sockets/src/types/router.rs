//! ROUTER (RFC 28): every received message starts with the sending peer's routing id;
//! a sent message's first frame names the peer it goes to. Routing ids come from the
//! peer's `Identity` property or are generated (5 bytes: 0x00 and a u32).
//! Unroutable messages are dropped silently unless ROUTER_MANDATORY is set.

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::{Error, Result};
use crate::socket::Routed;
use zeroring_zmtp::Message;

/// The asynchronous reply side: addresses peers by routing id.
#[derive(Debug)]
pub struct RouterSocket {
    base: SocketBase,
}

typed_socket!(RouterSocket, SocketType::Router);

impl RouterSocket {
    fn from_base(base: SocketBase) -> RouterSocket {
        RouterSocket { base }
    }

    /// ZMQ_ROUTER_MANDATORY: sending to an unknown routing id fails with
    /// [`Error::HostUnreachable`], and sending to a full peer waits (SNDTIMEO)
    /// instead of dropping.
    pub fn set_router_mandatory(&self, mandatory: bool) {
        self.base.update(|o| o.router_mandatory = mandatory);
    }

    /// Receives the next message (fair-queued) with the sender's routing id as the
    /// first frame. Cancel-safe.
    pub async fn recv(&self) -> Result<Message> {
        self.recv_with(false).await
    }

    /// Like [`recv`](Self::recv) but never waits (ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`] when no message is waiting.
    pub async fn try_recv(&self) -> Result<Message> {
        self.recv_with(true).await
    }

    crate::base::recv_with_peer!();

    async fn recv_with(&self, dontwait: bool) -> Result<Message> {
        let got = self.base.core.recv(dontwait).await?;
        let mut msg = got.msg;
        msg.push_front(got.routing_id);
        Ok(msg)
    }

    /// Sends the message's frames after the first to the peer the first frame names.
    /// Never waits unless ROUTER_MANDATORY is set and the peer is full.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send_with(msg.into(), false).await
    }

    /// Like [`send`](Self::send) but never waits (ZMQ_DONTWAIT): with
    /// ROUTER_MANDATORY, a full peer fails with [`Error::WouldBlock`] instead of
    /// waiting for room; without it the message is dropped, as `send` does.
    pub async fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send_with(msg.into(), true).await
    }

    async fn send_with(&self, msg: Message, dontwait: bool) -> Result<()> {
        let Some((rid, body)) = msg.frames().split_first() else {
            return Err(Error::EmptyMessage);
        };
        if body.is_empty() {
            tracing::trace!("ROUTER message has only a routing id; nothing to send");
            return Ok(());
        }
        let mandatory = self.base.core.option(|o| o.router_mandatory);
        loop {
            match self.base.core.send_to_routing_id(rid, body) {
                (Routed::Sent, _) => return Ok(()),
                (Routed::NoSuchPeer, _) if mandatory => {
                    return Err(Error::HostUnreachable(rid.to_vec()));
                }
                (Routed::Full, Some(_)) if mandatory && dontwait => {
                    return self.base.core.would_block("send").await;
                }
                (Routed::Full, Some(peer)) if mandatory => {
                    self.base.core.wait_room(peer).await?;
                }
                _ => {
                    tracing::trace!("ROUTER drops a message: unknown or full peer");
                    return Ok(());
                }
            }
        }
    }
}
