//! A "something changed" signal for the tasks of one node: writers waiting for
//! durability or acknowledgements, the syncer waiting for appends, the replication
//! senders waiting for new records.
//!
//! Waiting is level-triggered: a waiter checks its own condition, and if it is not
//! met it parks until the next [`Event::notify`]. Every notify wakes every waiter; each
//! rechecks its condition. Built on the `event-listener` crate (which compio uses
//! too). A waiter's listener lives in its own future, not on the heap, so once the
//! event's list exists (allocated at its first waiter) waiting and notifying allocate
//! nothing.

use event_listener::listener;

/// Wakes every waiting task when notified.
#[derive(Default)]
pub(crate) struct Event {
    listeners: event_listener::Event,
}

impl Event {
    /// Wakes every task parked in [`Event::wait_until`].
    pub(crate) fn notify(&self) {
        self.listeners.notify(usize::MAX);
    }

    /// Returns once `ready()` is true, rechecking it after every notify.
    pub(crate) async fn wait_until(&self, mut ready: impl FnMut() -> bool) {
        while !ready() {
            // Registered before the second check, so a notify in between is not missed.
            listener!(self.listeners => notified);
            if ready() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

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
    async fn one_notify_wakes_every_waiter() {
        let event = Rc::new(Event::default());
        let flag = Rc::new(Cell::new(false));
        let woken = Rc::new(Cell::new(0));
        for _ in 0..3 {
            let (event, flag, woken) = (event.clone(), flag.clone(), woken.clone());
            compio::runtime::spawn(async move {
                event.wait_until(|| flag.get()).await;
                woken.set(woken.get() + 1);
            })
            .detach();
        }
        compio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(woken.get(), 0);
        flag.set(true);
        event.notify();
        compio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(woken.get(), 3);
    }
}
