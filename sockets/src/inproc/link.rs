//! What an `inproc://` connection is made of: two queues of [`Item`]s, one each
//! way, shared by the two sockets (possibly on different threads), and what each
//! side tells the other about itself.

use std::sync::Arc;

use bytes::Bytes;
use zeroring_zmtp::{Message, SocketType};

use crate::xthread::queue::BatchQueue;

/// Who a side of an inproc connection is (what the ZMTP handshake carries on a
/// stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerMeta {
    pub(crate) socket_type: SocketType,
    pub(crate) routing_id: Option<Bytes>,
}

/// One entry of an inproc queue.
#[derive(Debug)]
pub(crate) enum Item {
    /// The binding side accepted the connection: who it is.
    Hello(PeerMeta),
    /// The binding side refused the connection (incompatible socket types).
    Refused(String),
    /// The connecting side took the Hello and has not given up: the connection
    /// is set up. The binding side attaches the peer only after this, so a
    /// connect given up before (disconnect, close) never reaches it; what was
    /// queued ahead of this item belongs to the connection all the same.
    Ready,
    Message(Message),
    Subscribe(Bytes),
    Cancel(Bytes),
    /// The sending side closed; everything before this was delivered.
    Close,
}

/// A queue of items towards one side.
pub(crate) type Queue = Arc<BatchQueue<Item>>;

/// An inproc connection as its two sides share it.
#[derive(Debug)]
pub(crate) struct Link {
    /// Towards the connecting side.
    pub(crate) to_connecter: Queue,
    /// Towards the binding side.
    pub(crate) to_binder: Queue,
    /// Who connects.
    pub(crate) connecter: PeerMeta,
}

impl Link {
    /// A new link; `capacity` bounds each queue in messages (the sender's SNDHWM;
    /// protocol items may go beyond it).
    pub(crate) fn new(connecter: PeerMeta, capacity: usize) -> Arc<Link> {
        Arc::new(Link {
            to_connecter: Arc::new(BatchQueue::new(capacity)),
            to_binder: Arc::new(BatchQueue::new(capacity)),
            connecter,
        })
    }
}
