//! REP (RFC 28): fair-queued requests, one at a time; the reply goes back to the
//! requesting peer with the request's envelope (every frame up to and including the
//! empty delimiter), so REP works behind DEALER/ROUTER proxies with several hops.

use std::cell::RefCell;

use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::{Error, Result};
use crate::pipe::PeerId;
use crate::socket::Routed;
use zeroring_zmtp::Message;

/// The synchronous reply side of request-reply.
#[derive(Debug)]
pub struct RepSocket {
    base: SocketBase,
    pending: RefCell<Option<(PeerId, Message)>>,
}

typed_socket!(RepSocket, SocketType::Rep);

impl RepSocket {
    fn from_base(base: SocketBase) -> RepSocket {
        RepSocket {
            base,
            pending: RefCell::new(None),
        }
    }

    /// Receives the next request (fair-queued across peers), without its envelope.
    /// Fails with [`Error::InvalidState`] while the previous request is unanswered.
    /// Requests without an empty delimiter frame are discarded. Cancel-safe.
    pub async fn recv(&self) -> Result<Message> {
        self.recv_with(false).await
    }

    /// Like [`recv`](Self::recv) but never waits (ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`] when no request is waiting.
    pub async fn try_recv(&self) -> Result<Message> {
        self.recv_with(true).await
    }

    crate::base::recv_with_peer!();

    async fn recv_with(&self, dontwait: bool) -> Result<Message> {
        if self.pending.borrow().is_some() {
            return Err(Error::InvalidState(
                "a REP socket must send the reply before receiving the next request",
            ));
        }
        loop {
            let mut got = self.base.core.recv(dontwait).await?;
            let Some(pos) = got.msg.iter().position(|f| f.is_empty()) else {
                tracing::trace!("REP discards a request without an empty delimiter");
                continue;
            };
            if pos + 1 == got.msg.len() {
                tracing::trace!("REP discards a request with no body");
                continue;
            }
            let envelope = got.msg.split_front(pos + 1);
            *self.pending.borrow_mut() = Some((got.peer, envelope));
            return Ok(got.msg);
        }
    }

    /// Sends the reply to the peer the last request came from. If that peer is gone
    /// or over its SNDHWM the reply is dropped, as in libzmq. Fails with
    /// [`Error::InvalidState`] when no request is pending.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<()> {
        let msg = msg.into();
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        let Some((peer, envelope)) = self.pending.borrow_mut().take() else {
            return Err(Error::InvalidState(
                "a REP socket must receive a request before sending a reply",
            ));
        };
        if self
            .base
            .core
            .send_to(peer, envelope.frames(), msg.frames())
            != Routed::Sent
        {
            tracing::debug!("REP reply dropped: the requesting peer is gone or full");
        }
        Ok(())
    }

    /// The same as [`send`](Self::send), which never waits: a reply to a full or
    /// departed peer is dropped. Offered so every socket type has `try_send`.
    pub async fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send(msg).await
    }
}
