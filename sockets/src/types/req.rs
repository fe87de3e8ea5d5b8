//! REQ (RFC 28): strict send/recv alternation, round-robin requests, replies accepted
//! only from the peer that was asked.
//!
//! Outgoing requests get an empty delimiter frame (and, with REQ_CORRELATE, a
//! request id before it). Replies from other peers, or without the expected
//! envelope, are discarded silently, as libzmq does.

use std::cell::Cell;

use bytes::Bytes;
use zeroring_zmtp::SocketType;

use crate::base::{SocketBase, typed_socket};
use crate::error::{Error, Result};
use crate::pipe::PeerId;
use zeroring_zmtp::Message;

/// The synchronous request side of request-reply.
///
/// ```no_run
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let req = zeroring_sockets::ReqSocket::new();
/// req.connect("tcp://127.0.0.1:5555").await.unwrap();
/// req.send("ping").await.unwrap();
/// let reply = req.recv().await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct ReqSocket {
    base: SocketBase,
    /// The peer we await a reply from, and the request id sent with REQ_CORRELATE.
    awaiting: Cell<Option<(PeerId, u32)>>,
    next_request_id: Cell<u32>,
}

typed_socket!(ReqSocket, SocketType::Req);

impl ReqSocket {
    fn from_base(base: SocketBase) -> ReqSocket {
        ReqSocket {
            base,
            awaiting: Cell::new(None),
            next_request_id: Cell::new(std::process::id().wrapping_mul(2_654_435_761)),
        }
    }

    /// ZMQ_REQ_RELAXED: allow a new request before the previous reply arrived; the
    /// old reply is then discarded. Usually combined with REQ_CORRELATE.
    pub fn set_req_relaxed(&self, relaxed: bool) {
        self.base.update(|o| o.req_relaxed = relaxed);
    }

    /// ZMQ_REQ_CORRELATE: prefix each request with a 4-byte request id and accept
    /// only replies that carry it back.
    pub fn set_req_correlate(&self, correlate: bool) {
        self.base.update(|o| o.req_correlate = correlate);
    }

    /// Sends a request to the next peer (round-robin), waiting (SNDTIMEO) while no
    /// peer has room. Fails with [`Error::InvalidState`] while a reply is pending,
    /// unless REQ_RELAXED is set.
    pub async fn send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send_with(msg.into(), false).await
    }

    /// Like [`send`](Self::send) but never waits (ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`] when no peer has room (the request is not sent and
    /// the socket may send again).
    pub async fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send_with(msg.into(), true).await
    }

    async fn send_with(&self, msg: Message, dontwait: bool) -> Result<()> {
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        let (relaxed, correlate) = self.base.core.option(|o| (o.req_relaxed, o.req_correlate));
        if self.awaiting.get().is_some() && !relaxed {
            return Err(Error::InvalidState(
                "a REQ socket must receive the reply before sending the next request",
            ));
        }
        let request_id = self.next_request_id.get();
        let delimiter = Bytes::new();
        let peer = if correlate {
            self.next_request_id.set(request_id.wrapping_add(1));
            let id = Bytes::copy_from_slice(&request_id.to_be_bytes());
            self.base
                .core
                .send_round_robin(&[id, delimiter], msg.frames(), dontwait)
                .await?
        } else {
            self.base
                .core
                .send_round_robin(&[delimiter], msg.frames(), dontwait)
                .await?
        };
        self.awaiting.set(Some((peer, request_id)));
        Ok(())
    }

    /// Receives the reply to the last request. Fails with [`Error::InvalidState`] when
    /// no request is pending. Cancel-safe: dropping the future keeps the request pending.
    pub async fn recv(&self) -> Result<Message> {
        self.recv_with(false).await
    }

    /// Like [`recv`](Self::recv) but never waits (ZMQ_DONTWAIT): fails with
    /// [`Error::WouldBlock`] while the reply has not arrived (the request stays
    /// pending).
    pub async fn try_recv(&self) -> Result<Message> {
        self.recv_with(true).await
    }

    crate::base::recv_with_peer!();

    async fn recv_with(&self, dontwait: bool) -> Result<Message> {
        loop {
            let Some((peer, request_id)) = self.awaiting.get() else {
                return Err(Error::InvalidState(
                    "a REQ socket must send a request before receiving",
                ));
            };
            let got = self.base.core.recv(dontwait).await?;
            if got.peer != peer {
                tracing::trace!("REQ discards a message from a peer it did not ask");
                continue;
            }
            let mut msg = got.msg;
            if self.base.core.option(|o| o.req_correlate) {
                match msg.pop_front() {
                    Some(id) if id[..] == request_id.to_be_bytes() => {}
                    _ => continue,
                }
            }
            match msg.pop_front() {
                Some(d) if d.is_empty() && !msg.is_empty() => {}
                _ => {
                    tracing::trace!("REQ discards a reply without an empty delimiter");
                    continue;
                }
            }
            self.awaiting.set(None);
            return Ok(msg);
        }
    }
}
