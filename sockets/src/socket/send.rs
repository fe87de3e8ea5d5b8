//! The send paths: round-robin to the next peer with room (DEALER, PUSH, PAIR,
//! REQ), to one peer (REP's reply, ROUTER), waiting under SNDTIMEO or failing at
//! once (ZMQ_DONTWAIT). Each encodes straight into the chosen peer's outbound
//! queue.

use std::time::Duration;

use bytes::Bytes;
use zeroring_zmtp::{Message, SocketType};

use super::Core;
use crate::error::{Error, Result};
use crate::notify::Notified;
use crate::pipe::PeerId;
use crate::wait::{wait_for, yield_now};

/// What happened to a message sent to one specific peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routed {
    Sent,
    NoSuchPeer,
    Full,
}

impl Core {
    /// Sends a whole message round-robin (DEALER, PUSH, PAIR) if a peer has room:
    /// `Ok(true)` when it was queued, `Ok(false)` when the caller has to wait
    /// ([`Core::send_message_wait`]) with `msg` as it was, so it can retry
    /// without a clone; `Err` for an empty message. An inproc peer takes the
    /// message itself out of `msg` (which is left empty): its frames are neither
    /// cloned nor copied. A stream peer gets it encoded by reference, and `msg`
    /// stays the caller's (moving a message costs a 100-byte copy or more per
    /// hop, which the stream path does not pay). Socket types try this before
    /// building the waiting future, so a send that does not wait costs no future
    /// state.
    pub(crate) fn try_send_message(&self, msg: &mut Message) -> Result<bool> {
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        Ok(self.try_send_owned(msg).is_some())
    }

    /// The waiting part of [`Core::try_send_message`]: waits (SNDTIMEO) until a
    /// peer has room, then queues `msg` there (taking it for an inproc peer).
    pub(crate) async fn send_message_wait(&self, msg: &mut Message) -> Result<()> {
        wait_for(self.room.notifier(), self.sndtimeo(), "send", || {
            if self.closed.get() {
                return Some(Err(Error::Closed));
            }
            self.try_send_owned(msg).map(|_| Ok(()))
        })
        .await
    }

    /// Sends to the next peer in round-robin order that has room; waits (SNDTIMEO)
    /// while none has, or with `dontwait` fails with [`Error::WouldBlock`]. `prefix`
    /// frames go before `body` in the same message.
    pub(crate) async fn send_round_robin(
        &self,
        prefix: &[Bytes],
        body: &[Bytes],
        dontwait: bool,
    ) -> Result<PeerId> {
        if let Some(id) = self.try_send_round_robin(prefix, body) {
            return Ok(id);
        }
        if dontwait {
            return self.would_block("send").await;
        }
        self.send_wait(prefix, body).await
    }

    /// The waiting part of [`Core::send_round_robin`].
    async fn send_wait(&self, prefix: &[Bytes], body: &[Bytes]) -> Result<PeerId> {
        let timeout = self.sndtimeo();
        wait_for(self.room.notifier(), timeout, "send", || {
            if self.closed.get() {
                return Some(Err(Error::Closed));
            }
            self.try_send_round_robin(prefix, body).map(Ok)
        })
        .await
    }

    /// The failure of an operation that may not wait (ZMQ_DONTWAIT): gives the
    /// runtime one turn first, so a loop of such calls still lets the socket's
    /// connections write and read.
    pub(crate) async fn would_block<T>(&self, op: &'static str) -> Result<T> {
        if self.closed.get() {
            return Err(Error::Closed);
        }
        yield_now().await;
        Err(Error::WouldBlock(op))
    }

    pub(crate) fn sndtimeo(&self) -> Option<Duration> {
        self.option(|o| o.sndtimeo)
    }

    /// REQ and REP always receive next, so their sends take the direct write path.
    fn eager_writes(&self) -> bool {
        matches!(self.socket_type, SocketType::Req | SocketType::Rep)
    }

    fn try_send_round_robin(&self, prefix: &[Bytes], body: &[Bytes]) -> Option<PeerId> {
        let limit = self.send_limit();
        let eager = self.eager_writes();
        let mut st = self.state.borrow_mut();
        let peer = st
            .peers
            .next_with(&self.room, |p| p.outbound.has_room(limit))?;
        peer.outbound.encode_message(prefix, body, eager);
        Some(peer.id)
    }

    /// [`Core::try_send_round_robin`] for a whole message without a prefix, which
    /// an inproc peer takes out of `msg`; `None` when no peer has room.
    fn try_send_owned(&self, msg: &mut Message) -> Option<PeerId> {
        let limit = self.send_limit();
        let eager = self.eager_writes();
        let mut st = self.state.borrow_mut();
        let peer = st
            .peers
            .next_with(&self.room, |p| p.outbound.has_room(limit))?;
        peer.outbound.send_message(msg, eager);
        Some(peer.id)
    }

    /// Sends to one peer, never waiting.
    pub(crate) fn send_to(&self, peer: PeerId, prefix: &[Bytes], body: &[Bytes]) -> Routed {
        let limit = self.send_limit();
        let eager = self.eager_writes();
        let st = self.state.borrow();
        let Some(p) = st.peers.get(peer) else {
            return Routed::NoSuchPeer;
        };
        if !p.outbound.has_room(limit) {
            return Routed::Full;
        }
        p.outbound.encode_message(prefix, body, eager);
        Routed::Sent
    }

    /// Sends to the peer with this routing id, never waiting. One look-up: the
    /// peer found is the one checked for room and written to.
    pub(crate) fn send_to_routing_id(
        &self,
        rid: &[u8],
        body: &[Bytes],
    ) -> (Routed, Option<PeerId>) {
        let limit = self.send_limit();
        let eager = self.eager_writes();
        let st = self.state.borrow();
        let Some(p) = st.peers.by_routing_id(rid) else {
            return (Routed::NoSuchPeer, None);
        };
        if !p.outbound.has_room(limit) {
            return (Routed::Full, Some(p.id));
        }
        p.outbound.encode_message(&[], body, eager);
        (Routed::Sent, Some(p.id))
    }

    /// Waits (SNDTIMEO) until the peer has room or is gone.
    pub(crate) async fn wait_room(&self, peer: PeerId) -> Result<()> {
        wait_for(self.room.notifier(), self.sndtimeo(), "send", || {
            if self.closed.get() {
                return Some(Err(Error::Closed));
            }
            let limit = self.send_limit();
            let st = self.state.borrow();
            let full = st
                .peers
                .get(peer)
                .is_some_and(|p| !p.outbound.has_room(limit));
            (!full).then_some(Ok(()))
        })
        .await
    }

    /// A future that completes when some peer may have room again (or attached,
    /// or left).
    pub(crate) fn room_notified(&self) -> Notified<'_> {
        self.room.notified()
    }
}
