//! The node's sockets: one ROUTER bound at its endpoint for everything inbound (Raft
//! traffic from other nodes, client requests), and one DEALER per peer for Raft
//! traffic out. With a cluster key the ROUTER is a CURVE server that admits that key
//! and the configured client keys (a ZAP allow list), and the DEALERs present it;
//! Raft traffic is taken only from connections that presented the cluster key.
//!
//! Sending never waits: a message to a peer that is full or unreachable is dropped
//! (Raft retransmits) and the caller is told so it can report the peer unreachable.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use zeroring_sockets::{
    Authenticator, CurveKeyPair, CurvePublicKey, DealerSocket, Message, RouterSocket,
};

use super::shared::{INBOX_CAP, Shared};
use crate::error::Result;
use crate::protocol::RAFT_FRAME;

/// Largest message a node accepts: 256 MiB (a snapshot travels in one message).
pub const MAX_MESSAGE_BYTES: u64 = 256 << 20;

/// The node's sockets.
pub(crate) struct Transport {
    router: Rc<RouterSocket>,
    endpoint: String,
    key: Option<CurveKeyPair>,
    /// Outbound DEALER per peer id, with the endpoint it connects to.
    dealers: RefCell<HashMap<u64, (String, Rc<DealerSocket>)>>,
}

impl Transport {
    /// Binds the ROUTER and starts the task that reads it into `shared.inbox`.
    pub(crate) async fn bind(
        endpoint: &str,
        key: Option<CurveKeyPair>,
        client_keys: &[CurvePublicKey],
        shared: Rc<Shared>,
    ) -> Result<Transport> {
        let router = RouterSocket::new();
        router.set_maxmsgsize(Some(MAX_MESSAGE_BYTES));
        if let Some(key) = &key {
            router.set_curve_server(true)?;
            router.set_curve_keypair(key)?;
            let auth = Authenticator::new();
            auth.allow_curve_key(*key.public());
            for client in client_keys {
                auth.allow_curve_key(*client);
            }
            router.set_authenticator(auth);
        }
        let bound = router.bind(endpoint).await?;
        let router = Rc::new(router);
        let reader = router.clone();
        compio::runtime::spawn(async move {
            loop {
                shared
                    .wake
                    .wait_until(|| shared.closed.get() || shared.inbox.borrow().len() < INBOX_CAP)
                    .await;
                if shared.closed.get() {
                    return;
                }
                match reader.recv_with_peer().await {
                    Ok(item) => {
                        shared.inbox.borrow_mut().push_back(item);
                        shared.wake.notify();
                    }
                    Err(e) => {
                        if !shared.closed.get() {
                            tracing::warn!(error = %e, "node socket failed");
                            *shared.stopped.borrow_mut() = Some(format!("socket failed: {e}"));
                            shared.closed.set(true);
                            shared.wake.notify();
                        }
                        return;
                    }
                }
            }
        })
        .detach();
        Ok(Transport {
            router,
            endpoint: bound.to_string(),
            key,
            dealers: RefCell::new(HashMap::new()),
        })
    }

    /// The resolved endpoint the ROUTER listens on.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Whether a sender authenticated as a cluster node (always true without a key).
    pub(crate) fn is_cluster_node(&self, peer: Option<&zeroring_sockets::PeerProperties>) -> bool {
        match &self.key {
            None => true,
            Some(key) => peer.and_then(|p| p.curve_public_key()) == Some(key.public()),
        }
    }

    /// Sends a Raft message body to peer `to` at `endpoint`; `false` if it was dropped.
    pub(crate) async fn send_raft(&self, to: u64, endpoint: &str, body: Bytes) -> bool {
        let stale = matches!(self.dealers.borrow().get(&to), Some((ep, _)) if ep != endpoint);
        if stale {
            self.forget(to);
        }
        if !self.dealers.borrow().contains_key(&to) {
            match self.connect(endpoint).await {
                Ok(d) => {
                    self.dealers
                        .borrow_mut()
                        .insert(to, (endpoint.to_owned(), Rc::new(d)));
                }
                Err(e) => {
                    tracing::warn!(peer = to, endpoint, error = %e, "cannot connect to a peer");
                    return false;
                }
            }
        }
        let msg = Message::from(vec![Bytes::from_static(RAFT_FRAME), body]);
        let Some(dealer) = self.dealers.borrow().get(&to).map(|(_, d)| d.clone()) else {
            return false;
        };
        dealer.try_send(msg).await.is_ok()
    }

    async fn connect(&self, endpoint: &str) -> Result<DealerSocket> {
        let d = DealerSocket::new();
        d.set_maxmsgsize(Some(MAX_MESSAGE_BYTES));
        d.set_linger(Some(std::time::Duration::ZERO));
        if let Some(key) = &self.key {
            d.set_curve_serverkey(key.public().as_bytes())?;
            d.set_curve_keypair(key)?;
        }
        d.connect(endpoint).await?;
        Ok(d)
    }

    /// Drops the connection to peer `id` (removed from the cluster).
    pub(crate) fn forget(&self, id: u64) {
        self.dealers.borrow_mut().remove(&id);
    }

    /// Sends a reply to a client; dropped if the client is gone or not reading.
    pub(crate) async fn reply(&self, frames: Vec<Bytes>) {
        if let Err(e) = self.router.try_send(Message::from(frames)).await {
            tracing::debug!(error = %e, "reply to a client dropped");
        }
    }

    /// Closes every socket.
    pub(crate) async fn close(&self) {
        let dealers: Vec<_> = self.dealers.borrow_mut().drain().collect();
        for (_, (_, d)) in dealers {
            let _ = d.close().await;
        }
        let _ = self.router.close().await;
    }
}
