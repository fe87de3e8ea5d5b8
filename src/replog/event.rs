//! A single-threaded "something changed" signal for the tasks of one node: writers
//! waiting for durability or acknowledgements, the syncer waiting for appends, the
//! replication senders waiting for new records.
//!
//! Waiting is level-triggered: a waiter checks its own condition, and if it is not
//! met it parks until the next [`Event::notify`]. Every notify wakes every waiter; each
//! rechecks its condition. Built on the sockets' `Notify` (a reused waker list, so
//! notifying allocates nothing once the list has grown).

use std::time::Duration;

use zeroring_sockets::Notify;

/// Wakes every waiting task when notified.
#[derive(Default)]
pub(crate) struct Event {
    notify: Notify,
}

impl Event {
    /// Wakes every task parked in [`Event::wait_until`].
    pub(crate) fn notify(&self) {
        self.notify.notify_all();
    }

    /// Returns once `ready()` is true, rechecking it after every notify.
    pub(crate) async fn wait_until(&self, mut ready: impl FnMut() -> bool) {
        loop {
            // Registered before the check, so a notify in between is not missed.
            let notified = self.notify.notified();
            if ready() {
                return;
            }
            notified.await;
        }
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
    use std::cell::Cell;
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
