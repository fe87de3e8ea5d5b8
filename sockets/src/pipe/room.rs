//! [`Room`]: how a socket's senders learn that a peer may take messages again.
//!
//! It is the notifier that waiting sends sleep on (a peer attached or left, an
//! outbound queue made room, the limits changed), and it carries the peers that
//! the round-robin set aside because they were full and that have room again.
//! Round-robin sends skip full peers without looking at them: a full peer leaves
//! the rotation when a send finds it full and comes back, at the end, through
//! here when its queue drains (libzmq's load balancer deactivates and
//! reactivates its pipes the same way). So a send costs the same with one full
//! peer as with a thousand.

use std::cell::{Cell, RefCell};

use super::PeerId;
use crate::notify::{Notified, Notify};

/// A socket's "a peer may have room" notifier, with the peers that came back.
#[derive(Debug, Default)]
pub(crate) struct Room {
    notify: Notify,
    /// Set-aside peers that have room again, in the order they made it.
    returned: RefCell<Vec<PeerId>>,
    /// `returned` is not empty (checked on every round-robin send).
    any_returned: Cell<bool>,
}

impl Room {
    /// Wakes every send waiting for room.
    pub(crate) fn notify_all(&self) {
        self.notify.notify_all();
    }

    /// The notifier itself, for waiting helpers that take one.
    pub(crate) fn notifier(&self) -> &Notify {
        &self.notify
    }

    /// A future that completes at the next [`Room::notify_all`] (see
    /// [`Notify::notified`]).
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// A peer that the round-robin set aside has room again: it goes back into
    /// the rotation at the next send, and waiting sends wake up.
    pub(crate) fn peer_returned(&self, peer: PeerId) {
        self.returned.borrow_mut().push(peer);
        self.any_returned.set(true);
        self.notify.notify_all();
    }

    /// True when peers came back since the last [`Room::take_returned`].
    #[inline]
    pub(crate) fn has_returned(&self) -> bool {
        self.any_returned.get()
    }

    /// Hands the peers that came back since the last call to `f`, in order.
    pub(crate) fn take_returned(&self, f: impl FnMut(PeerId)) {
        self.any_returned.set(false);
        self.returned.borrow_mut().drain(..).for_each(f);
    }
}
