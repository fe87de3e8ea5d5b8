//! A single-threaded "something changed" signal for the tasks of one node: writers
//! waiting for durability or acknowledgements, the syncer waiting for appends, the
//! replication senders waiting for new records.
//!
//! Waiting is level-triggered: a waiter checks its own condition, and if it is not
//! met it parks until the next [`Event::notify`]. Every notify wakes every waiter; each
//! rechecks its condition. Wakers are kept in a reused list, so notifying allocates
//! nothing once the list has grown.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::task::{Poll, Waker};
use std::time::Duration;

/// Wakes every waiting task when notified.
#[derive(Default)]
pub(crate) struct Event {
    generation: Cell<u64>,
    wakers: RefCell<Vec<Waker>>,
    spare: RefCell<Vec<Waker>>,
}

impl Event {
    /// Wakes every task parked in [`Event::wait_until`].
    pub(crate) fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        let mut spare = self.spare.borrow_mut();
        std::mem::swap(&mut *spare, &mut *self.wakers.borrow_mut());
        for waker in spare.drain(..) {
            waker.wake();
        }
    }

    /// Returns once `ready()` is true, rechecking it after every notify.
    pub(crate) async fn wait_until(&self, mut ready: impl FnMut() -> bool) {
        let mut seen = None;
        poll_fn(|cx| {
            let generation = self.generation.get();
            if seen != Some(generation) {
                if ready() {
                    return Poll::Ready(());
                }
                seen = Some(generation);
                self.wakers.borrow_mut().push(cx.waker().clone());
            } else if !self.wakers.borrow().iter().any(|w| w.will_wake(cx.waker())) {
                // Polled again without a notify (another future in a select woke
                // us): keep a registration.
                self.wakers.borrow_mut().push(cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// Like [`Event::wait_until`], giving up after `limit`; returns whether `ready()`
    /// became true.
    pub(crate) async fn wait_until_for(
        &self,
        limit: Duration,
        ready: impl FnMut() -> bool,
    ) -> bool {
        compio::time::timeout(limit, self.wait_until(ready))
            .await
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[compio::test]
    async fn waiters_see_the_condition_after_notify() {
        let event = Rc::new(Event::default());
        let flag = Rc::new(Cell::new(false));
        let done = Rc::new(Cell::new(false));
        {
            let (event, flag, done) = (event.clone(), flag.clone(), done.clone());
            compio::runtime::spawn(async move {
                event.wait_until(|| flag.get()).await;
                done.set(true);
            })
            .detach();
        }
        compio::time::sleep(Duration::from_millis(5)).await;
        event.notify(); // condition still false: the waiter parks again
        compio::time::sleep(Duration::from_millis(5)).await;
        assert!(!done.get());
        flag.set(true);
        event.notify();
        compio::time::sleep(Duration::from_millis(5)).await;
        assert!(done.get());
    }

    #[compio::test]
    async fn timeout_reports_false() {
        let event = Event::default();
        assert!(
            !event
                .wait_until_for(Duration::from_millis(5), || false)
                .await
        );
        assert!(
            event
                .wait_until_for(Duration::from_millis(5), || true)
                .await
        );
    }
}
