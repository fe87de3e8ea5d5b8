//! [`BatchQueue`]: a bounded queue between threads that moves whole batches, the
//! way libzmq's pipes do. A writer signals a waiting reader only when the queue
//! goes from empty to non-empty; a reader takes everything queued with one lock;
//! writers that found it full are woken when a reader makes room. Waiting uses
//! only `Waker`s, so the same queue serves compio tasks, tokio tasks and blocked
//! threads (see [`super::park`]).

use super::unwinding::outside_unwinding;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// Why a push did not happen; the item comes back.
#[derive(Debug)]
pub(crate) enum PushError<T> {
    Full(T),
    Closed(T),
}

#[derive(Debug)]
struct Inner<T> {
    items: VecDeque<T>,
    capacity: usize,
    closed: bool,
    /// Waiting for items.
    readers: Vec<Waker>,
    /// Waiting for room.
    writers: Vec<Waker>,
    /// What the items weigh (see [`BatchQueue::push_weighed`]).
    weight: usize,
}

/// A bounded multi-producer, multi-consumer queue that moves batches.
#[derive(Debug)]
pub(crate) struct BatchQueue<T> {
    inner: Mutex<Inner<T>>,
    /// `items.len()` as of the last change, readable without the lock.
    len: AtomicUsize,
    /// `weight` likewise.
    weight: AtomicUsize,
}

fn register(list: &mut Vec<Waker>, waker: &Waker) {
    if !list.iter().any(|w| w.will_wake(waker)) {
        list.push(waker.clone());
    }
}

/// Wakes every task in `list`: the I/O thread's, on the handle side. From a thread
/// that unwinds a panic (a handle dropped in a failing test) this must not reach
/// compio's executor directly (see [`outside_unwinding`]).
fn wake_all(list: Vec<Waker>) {
    if list.is_empty() {
        return;
    }
    outside_unwinding(move || {
        for w in list {
            w.wake();
        }
    });
}

impl<T> BatchQueue<T> {
    /// A queue that holds at most `capacity` items (at least 1).
    pub(crate) fn new(capacity: usize) -> BatchQueue<T> {
        BatchQueue {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                capacity: capacity.max(1),
                closed: false,
                readers: Vec::new(),
                writers: Vec::new(),
                weight: 0,
            }),
            len: AtomicUsize::new(0),
            weight: AtomicUsize::new(0),
        }
    }

    /// Publishes the length after a change made under the lock.
    #[inline]
    fn publish_len(&self, q: &mut Inner<T>) {
        if q.items.is_empty() && q.weight != 0 {
            q.weight = 0;
            self.weight.store(0, Ordering::Relaxed);
        }
        self.len.store(q.items.len(), Ordering::Relaxed);
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // A panic while holding the lock leaves consistent data (every critical
        // section is a few field updates); carry on.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `item` unless the queue is full or closed.
    #[inline]
    pub(crate) fn push(&self, item: T) -> Result<(), PushError<T>> {
        let mut q = self.lock();
        if q.closed {
            return Err(PushError::Closed(item));
        }
        if q.items.len() >= q.capacity {
            return Err(PushError::Full(item));
        }
        q.items.push_back(item);
        self.publish_len(&mut q);
        // Readers only wait on an empty queue: wake them on the first item.
        if q.items.len() == 1 && !q.readers.is_empty() {
            let readers = std::mem::take(&mut q.readers);
            drop(q);
            wake_all(readers);
        }
        Ok(())
    }

    /// Queues `item` even when the queue is full (protocol traffic that must not
    /// wait behind the limit); fails only when the queue is closed.
    pub(crate) fn push_force(&self, item: T) -> Result<(), T> {
        self.push_weighed(item, 0)
    }

    /// [`BatchQueue::push_force`] for an item that weighs `weight` (bytes, say):
    /// [`BatchQueue::weight`] is what the queued items weigh, and drops to zero
    /// whenever the queue empties. Only exact for queues emptied with
    /// [`BatchQueue::take_all`].
    pub(crate) fn push_weighed(&self, item: T, weight: usize) -> Result<(), T> {
        let mut q = self.lock();
        if q.closed {
            return Err(item);
        }
        if weight != 0 {
            q.weight += weight;
            self.weight.store(q.weight, Ordering::Relaxed);
        }
        q.items.push_back(item);
        self.publish_len(&mut q);
        if q.items.len() == 1 && !q.readers.is_empty() {
            let readers = std::mem::take(&mut q.readers);
            drop(q);
            wake_all(readers);
        }
        Ok(())
    }

    /// Items queued, as of the last push or take (without taking the lock).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// What the queued items weigh, as of the last push or take (without taking
    /// the lock).
    #[inline]
    pub(crate) fn weight(&self) -> usize {
        self.weight.load(Ordering::Relaxed)
    }

    /// Queues as many of `items` (from the front) as fit; returns whether the
    /// queue is closed.
    pub(crate) fn push_from(&self, items: &mut VecDeque<T>) -> bool {
        let mut q = self.lock();
        if q.closed {
            return true;
        }
        let was_empty = q.items.is_empty();
        let room = q.capacity.saturating_sub(q.items.len());
        let n = room.min(items.len());
        q.items.extend(items.drain(..n));
        self.publish_len(&mut q);
        if was_empty && n > 0 && !q.readers.is_empty() {
            let readers = std::mem::take(&mut q.readers);
            drop(q);
            wake_all(readers);
        }
        false
    }

    /// Like [`BatchQueue::push`], but registers `cx` to be woken when there is
    /// room (or the queue closes) if it is full.
    pub(crate) fn poll_push(&self, cx: &mut Context<'_>, item: T) -> Result<(), PushError<T>> {
        match self.push(item) {
            Err(PushError::Full(item)) => {
                let mut q = self.lock();
                if q.closed {
                    return Err(PushError::Closed(item));
                }
                if q.items.len() < q.capacity {
                    drop(q);
                    return self.push(item);
                }
                register(&mut q.writers, cx.waker());
                Err(PushError::Full(item))
            }
            other => other,
        }
    }

    /// Takes one item.
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        let mut q = self.lock();
        let was_full = q.items.len() >= q.capacity;
        let item = q.items.pop_front()?;
        self.publish_len(&mut q);
        if was_full && !q.writers.is_empty() {
            let writers = std::mem::take(&mut q.writers);
            drop(q);
            wake_all(writers);
        }
        Some(item)
    }

    /// Moves everything queued into `out` (which should be empty: the buffers are
    /// swapped). Returns how many items moved.
    pub(crate) fn take_all(&self, out: &mut VecDeque<T>) -> usize {
        let mut q = self.lock();
        if q.items.is_empty() {
            return 0;
        }
        if out.is_empty() {
            std::mem::swap(&mut q.items, out);
        } else {
            out.extend(q.items.drain(..));
        }
        self.publish_len(&mut q);
        let writers = std::mem::take(&mut q.writers);
        drop(q);
        wake_all(writers);
        out.len()
    }

    /// Takes everything queued into `out`, or registers `cx` to be woken by the
    /// next item. `Ready(false)` when items moved, `Ready(true)` when the queue is
    /// closed and empty.
    pub(crate) fn poll_take_all(&self, cx: &mut Context<'_>, out: &mut VecDeque<T>) -> Poll<bool> {
        if self.take_all(out) > 0 {
            return Poll::Ready(false);
        }
        let mut q = self.lock();
        if !q.items.is_empty() {
            drop(q);
            self.take_all(out);
            return Poll::Ready(false);
        }
        if q.closed {
            return Poll::Ready(true);
        }
        register(&mut q.readers, cx.waker());
        Poll::Pending
    }

    /// Takes one item, or registers `cx` to be woken by the next one.
    /// `Ready(None)` when the queue is closed and empty.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(item) = self.pop() {
            return Poll::Ready(Some(item));
        }
        let mut q = self.lock();
        if !q.items.is_empty() {
            drop(q);
            return Poll::Ready(self.pop());
        }
        if q.closed {
            return Poll::Ready(None);
        }
        register(&mut q.readers, cx.waker());
        Poll::Pending
    }

    /// Registers `cx` for the next item without taking anything (a poller).
    /// Returns true when an item is already there (or the queue is closed).
    pub(crate) fn watch_readable(&self, cx: &mut Context<'_>) -> bool {
        let mut q = self.lock();
        if !q.items.is_empty() || q.closed {
            return true;
        }
        register(&mut q.readers, cx.waker());
        false
    }

    /// Registers `cx` for room without pushing (a poller). Returns true when there
    /// is room already (or the queue is closed).
    pub(crate) fn watch_writable(&self, cx: &mut Context<'_>) -> bool {
        let capacity = self.lock().capacity;
        self.watch_below(cx, capacity)
    }

    /// Registers `cx` to be woken when a reader takes items, unless fewer than
    /// `limit` are queued already (or the queue is closed): then returns true.
    pub(crate) fn watch_below(&self, cx: &mut Context<'_>, limit: usize) -> bool {
        let mut q = self.lock();
        if q.items.len() < limit || q.closed {
            return true;
        }
        register(&mut q.writers, cx.waker());
        false
    }

    /// Changes how many items the queue holds; writers waiting for room wake up
    /// when it grows.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        let mut q = self.lock();
        let grew = capacity > q.capacity;
        q.capacity = capacity.max(1);
        if grew && !q.writers.is_empty() {
            let writers = std::mem::take(&mut q.writers);
            drop(q);
            wake_all(writers);
        }
    }

    /// Refuses further pushes; readers get what is left, then `None`.
    pub(crate) fn close(&self) {
        let mut q = self.lock();
        q.closed = true;
        let readers = std::mem::take(&mut q.readers);
        let writers = std::mem::take(&mut q.writers);
        drop(q);
        wake_all(readers);
        wake_all(writers);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::xthread::park;

    #[test]
    fn batches_move_in_order_between_threads() {
        let q = Arc::new(BatchQueue::new(64));
        let writer = {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..100_000u32 {
                    let mut item = Some(i);
                    let pushed = park::block_on(
                        std::future::poll_fn(|cx| {
                            let Some(v) = item.take() else {
                                return Poll::Ready(false);
                            };
                            match q.poll_push(cx, v) {
                                Ok(()) => Poll::Ready(true),
                                Err(PushError::Full(back)) => {
                                    item = Some(back);
                                    Poll::Pending
                                }
                                Err(PushError::Closed(_)) => Poll::Ready(false),
                            }
                        }),
                        None,
                    );
                    assert_eq!(pushed, Some(true), "closed");
                }
                q.close();
            })
        };
        let mut next = 0u32;
        let mut batch = VecDeque::new();
        loop {
            let closed = park::block_on(
                std::future::poll_fn(|cx| q.poll_take_all(cx, &mut batch)),
                Some(std::time::Instant::now() + Duration::from_secs(20)),
            )
            .expect("no deadlock");
            for item in batch.drain(..) {
                assert_eq!(item, next);
                next += 1;
            }
            if closed {
                break;
            }
        }
        assert_eq!(next, 100_000);
        writer.join().unwrap();
    }

    #[test]
    fn full_and_closed_give_the_item_back() {
        let q = BatchQueue::new(1);
        q.push(1).unwrap();
        assert!(matches!(q.push(2), Err(PushError::Full(2))));
        q.close();
        assert!(matches!(q.push(3), Err(PushError::Closed(3))));
        assert_eq!(q.pop(), Some(1));
        assert_eq!(q.pop(), None);
    }
}
