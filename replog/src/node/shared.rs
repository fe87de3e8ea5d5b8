//! What the [`Node`](super::Node) handle, the socket reader, the ticker and the
//! driver share on the node's thread: the queues of work for the driver, the wake-up
//! event, and how an answer reaches whoever asked ([`ReplyTo`], [`Outcome`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use zeroring_sockets::{Message, PeerProperties};

use crate::error::ReplogError;
use crate::event::Event;
use crate::protocol::Request;
use crate::status::Status;

/// Messages the socket reader may queue before it stops reading (the socket's
/// RCVHWM then holds the rest back): bounds the node's inbound memory.
pub(crate) const INBOX_CAP: usize = 4096;

/// The result of a request.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A write committed and was applied at this index.
    Written(u64),
    /// A read's value.
    Value(Option<Bytes>),
    /// The node's status.
    Status(Box<Status>),
    /// Done, nothing to return.
    Done,
    /// It failed.
    Failed(ReplogError),
}

/// A one-shot answer for a local caller.
#[derive(Default)]
pub(crate) struct Slot {
    value: RefCell<Option<Outcome>>,
    ready: Event,
}

impl Slot {
    /// Waits for the answer.
    pub(crate) async fn take(&self) -> Outcome {
        self.ready
            .wait_until(|| self.value.borrow().is_some())
            .await;
        self.value
            .borrow_mut()
            .take()
            .unwrap_or(Outcome::Failed(ReplogError::Stopped("no answer".into())))
    }
}

/// Where a request's answer goes.
pub(crate) enum ReplyTo {
    /// A caller on this thread.
    Local(Rc<Slot>),
    /// A client on the socket: its routing id and request id.
    Remote {
        /// Routing id of the client's connection.
        peer: Bytes,
        /// The request id frame to echo.
        request_id: Bytes,
    },
}

impl ReplyTo {
    /// Sends `outcome` to a local caller; returns the remote address otherwise.
    pub(crate) fn local(self, outcome: Outcome) -> Option<(Bytes, Bytes, Outcome)> {
        match self {
            ReplyTo::Local(slot) => {
                *slot.value.borrow_mut() = Some(outcome);
                slot.ready.notify();
                None
            }
            ReplyTo::Remote { peer, request_id } => Some((peer, request_id, outcome)),
        }
    }
}

/// A received message and the sender's authenticated properties.
pub(crate) type Inbound = (Message, Option<Arc<PeerProperties>>);

/// State shared on the node's thread.
#[derive(Default)]
pub(crate) struct Shared {
    /// Messages from the socket.
    pub(crate) inbox: RefCell<VecDeque<Inbound>>,
    /// Requests from the local handle.
    pub(crate) local: RefCell<VecDeque<(Request, ReplyTo)>>,
    /// A tick is due.
    pub(crate) tick_due: Cell<bool>,
    /// The node is closing.
    pub(crate) closed: Cell<bool>,
    /// Why the driver stopped, once it has.
    pub(crate) stopped: RefCell<Option<String>>,
    /// Notified whenever any of the above changes.
    pub(crate) wake: Event,
}

impl Shared {
    /// Whether the driver has something to do.
    pub(crate) fn has_work(&self) -> bool {
        self.closed.get()
            || self.tick_due.get()
            || !self.inbox.borrow().is_empty()
            || !self.local.borrow().is_empty()
    }
}
