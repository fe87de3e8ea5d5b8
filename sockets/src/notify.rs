//! A single-threaded wake-up primitive: tasks wait for "something changed".
//!
//! Everything in a zeroring socket lives on one compio runtime thread, so this needs
//! no atomics: a list of wakers and an epoch counter in `Cell`s.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Wakes every task waiting on it.
#[derive(Debug, Default)]
pub struct Notify {
    epoch: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
    /// The list being woken, kept so its capacity is reused: a notify on the
    /// per-message path allocates nothing in steady state.
    waking: RefCell<Vec<Waker>>,
}

impl Notify {
    /// Wakes all current waiters.
    pub fn notify_all(&self) {
        self.epoch.set(self.epoch.get().wrapping_add(1));
        let Ok(mut waking) = self.waking.try_borrow_mut() else {
            // A wake-up re-entered notify_all: wake the newer waiters on their own.
            let newer = std::mem::take(&mut *self.waiters.borrow_mut());
            newer.into_iter().for_each(Waker::wake);
            return;
        };
        std::mem::swap(&mut *waking, &mut *self.waiters.borrow_mut());
        for w in waking.drain(..) {
            w.wake();
        }
    }

    /// A future that completes at the next `notify_all` after its creation. Check
    /// your condition after creating it and before awaiting it.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            epoch: self.epoch.get(),
        }
    }
}

/// Future returned by [`Notify::notified`].
#[derive(Debug)]
pub struct Notified<'a> {
    notify: &'a Notify,
    epoch: u64,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.notify.epoch.get() != self.epoch {
            return Poll::Ready(());
        }
        let mut waiters = self.notify.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}
