//! The inbound half of the pipes: one queue per peer, bounded by RCVHWM, and the
//! fair queue that receives take from (every peer with messages waiting, in
//! turn).
//!
//! Queues are shared by `Rc` between the socket's peer table, the ready list
//! (while they hold messages) and the connection's reader, so neither a delivery
//! nor a receive looks anything up by peer id. The reader queues every message of
//! one read without waking anyone and wakes the receiver once.
//!
//! A reader that finds its inbox at RCVHWM waits on that inbox alone
//! ([`Inbox::space_notified`]): a receive that makes room wakes the one reader
//! that can use it, never the readers of every other full inbox (with many
//! peers flooding one socket, that was a task wake-up per peer per message).
//!
//! An inbox of an authenticated peer holds its [`PeerProperties`]; once any
//! inbox has some, each receive notes the sender's (for `recv_with_peer`),
//! out of the way of sockets that never authenticate.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use zeroring_zmtp::Message;

use super::PeerId;
use crate::notify::Notify;
use crate::security::PeerProperties;

/// One peer's inbound queue.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    id: PeerId,
    routing_id: RefCell<Bytes>,
    msgs: RefCell<VecDeque<Message>>,
    /// In the fair queue's ready list.
    in_ready: Cell<bool>,
    /// The peer is gone; the queue stays until its messages are read.
    detached: Cell<bool>,
    /// No longer part of the socket: messages handed to it are dropped.
    removed: Cell<bool>,
    /// The inbox was full and has room again (or the limit or the socket
    /// changed): wakes its reader.
    space: Notify,
    /// What the socket authenticated about the peer, if anything.
    properties: RefCell<Option<Arc<PeerProperties>>>,
}

impl Inbox {
    pub(crate) fn new(id: PeerId) -> Rc<Inbox> {
        Rc::new(Inbox {
            id,
            ..Inbox::default()
        })
    }

    /// True while messages wait in this queue for the application.
    pub(crate) fn has_messages(&self) -> bool {
        !self.msgs.borrow().is_empty()
    }

    /// A future that completes when this inbox may have room again: a receive
    /// took a message from it while it was full, RCVHWM changed, or the socket
    /// closed. Only this inbox's reader waits on it.
    pub(crate) fn space_notified(&self) -> crate::notify::Notified<'_> {
        self.space.notified()
    }

    /// The routing id ROUTER hands out with this peer's messages.
    pub(crate) fn set_routing_id(&self, id: Bytes) {
        *self.routing_id.borrow_mut() = id;
    }

    /// The properties of the peer's connection (set at attach; `None` when it
    /// was not authenticated).
    pub(crate) fn set_properties(&self, properties: Option<Arc<PeerProperties>>) {
        *self.properties.borrow_mut() = properties;
    }

    /// The peer left the socket. Returns true when the queue is empty and can be
    /// forgotten at once; otherwise its messages stay readable and it goes when
    /// the last one is read.
    pub(crate) fn peer_gone(&self) -> bool {
        if self.msgs.borrow().is_empty() {
            self.removed.set(true);
            true
        } else {
            self.detached.set(true);
            false
        }
    }
}

/// A message taken from the fair queue, with the peer it came from.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) peer: PeerId,
    pub(crate) routing_id: Bytes,
    pub(crate) msg: Message,
}

/// The receive side of a socket: the inboxes holding messages, in fair-queue
/// order, and the wake-ups of receivers and of readers waiting for room.
#[derive(Debug)]
pub(crate) struct FairQueue {
    ready: RefCell<VecDeque<Rc<Inbox>>>,
    /// RCVHWM per inbox (`usize::MAX`: no limit).
    hwm: Cell<usize>,
    /// Receives hand out the routing id (ROUTER).
    routing_ids: bool,
    closed: Cell<bool>,
    /// A message arrived.
    arrived: Notify,
    /// Some inbox has properties: receives note the sender's.
    track: Cell<bool>,
    /// The properties of the sender of the message taken last (while `track`).
    last_peer: RefCell<Option<Arc<PeerProperties>>>,
}

impl FairQueue {
    pub(crate) fn new(routing_ids: bool) -> Rc<FairQueue> {
        Rc::new(FairQueue {
            ready: RefCell::new(VecDeque::new()),
            hwm: Cell::new(1000),
            routing_ids,
            closed: Cell::new(false),
            arrived: Notify::default(),
            track: Cell::new(false),
            last_peer: RefCell::new(None),
        })
    }

    /// From now on, each receive notes its sender's properties.
    pub(crate) fn track_peers(&self) {
        self.track.set(true);
    }

    /// True once receives note their senders' properties.
    #[inline]
    pub(crate) fn tracks_peers(&self) -> bool {
        self.track.get()
    }

    /// The properties of the sender of the message taken last.
    pub(crate) fn last_peer(&self) -> Option<Arc<PeerProperties>> {
        self.last_peer.borrow().clone()
    }

    /// Notes the sender of the message being taken (off the plain path).
    #[cold]
    #[inline(never)]
    fn note_peer(&self, inbox: &Inbox) {
        *self.last_peer.borrow_mut() = inbox.properties.borrow().clone();
    }

    /// RCVHWM (`None`: no limit).
    pub(crate) fn set_hwm(&self, hwm: Option<usize>) {
        self.hwm.set(hwm.unwrap_or(usize::MAX));
        self.wake_readers();
    }

    /// The socket closed: nothing more is queued, waiting readers and receivers
    /// wake up.
    pub(crate) fn close(&self) {
        self.closed.set(true);
        self.arrived.notify_all();
        self.wake_readers();
    }

    /// Wakes every reader that waits for room. A reader waits only while its
    /// inbox is full, so holds messages, so is in the ready list.
    fn wake_readers(&self) {
        let ready: Vec<Rc<Inbox>> = self.ready.borrow().iter().cloned().collect();
        for inbox in ready {
            inbox.space.notify_all();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    /// The reader's fast path: queues a whole message under RCVHWM without waking
    /// the receiver (the reader calls [`FairQueue::wake`] once for everything one
    /// read brought). Gives the message back when the queue is full or the socket
    /// is closed; the reader then waits ([`Inbox::space_notified`]).
    #[inline(always)]
    pub(crate) fn queue(&self, inbox: &Rc<Inbox>, msg: Message) -> Result<(), Message> {
        if self.closed.get() {
            return Err(msg);
        }
        self.push(inbox, msg, self.hwm.get())
    }

    /// Queues the messages `next` hands out under RCVHWM, without waking the
    /// receiver, until it has no more or the inbox is full: `next` is called only
    /// while there is room, so what it still holds stays with the caller. One
    /// borrow of the inbox and one ready-list check for the whole run. Queues
    /// nothing when the socket is closed or the inbox removed (the caller's
    /// waiting path, [`FairQueue::queue`], deals with those). Returns how many
    /// messages were queued.
    pub(crate) fn queue_run(
        &self,
        inbox: &Rc<Inbox>,
        mut next: impl FnMut() -> Option<Message>,
    ) -> usize {
        if self.closed.get() || inbox.removed.get() {
            return 0;
        }
        let mut q = inbox.msgs.borrow_mut();
        let room = self.hwm.get().saturating_sub(q.len());
        let mut queued = 0;
        while queued < room {
            let Some(msg) = next() else { break };
            q.push_back(msg);
            queued += 1;
        }
        drop(q);
        if queued > 0 && !inbox.in_ready.replace(true) {
            self.ready.borrow_mut().push_back(inbox.clone());
        }
        queued
    }

    /// Queues a message the socket generated itself, regardless of RCVHWM, and
    /// wakes the receiver.
    pub(crate) fn queue_now(&self, inbox: &Rc<Inbox>, msg: Message) {
        let _ = self.push(inbox, msg, usize::MAX);
        self.wake();
    }

    /// Wakes receivers waiting for messages.
    pub(crate) fn wake(&self) {
        self.arrived.notify_all();
    }

    /// The notifier receivers wait on.
    pub(crate) fn arrivals(&self) -> &Notify {
        &self.arrived
    }

    #[inline(always)]
    fn push(&self, inbox: &Rc<Inbox>, msg: Message, hwm: usize) -> Result<(), Message> {
        if inbox.removed.get() {
            return Ok(());
        }
        let mut q = inbox.msgs.borrow_mut();
        if q.len() >= hwm {
            return Err(msg);
        }
        q.push_back(msg);
        drop(q);
        if !inbox.in_ready.replace(true) {
            self.ready.borrow_mut().push_back(inbox.clone());
        }
        Ok(())
    }

    /// Takes the next message in fair-queue order.
    #[inline(always)]
    pub(crate) fn try_recv(&self) -> Option<Received> {
        let hwm = self.hwm.get();
        let mut ready = self.ready.borrow_mut();
        loop {
            let inbox = ready.front()?;
            let mut q = inbox.msgs.borrow_mut();
            let was_full = q.len() >= hwm;
            let Some(msg) = q.pop_front() else {
                drop(q);
                inbox.in_ready.set(false);
                ready.pop_front();
                continue;
            };
            let now_empty = q.is_empty();
            drop(q);
            if was_full {
                // Only this inbox's reader can use the room. Waking schedules
                // that task; nothing runs before this receive returns.
                inbox.space.notify_all();
            }
            let peer = inbox.id;
            if self.track.get() {
                self.note_peer(inbox);
            }
            let routing_id = if self.routing_ids {
                inbox.routing_id.borrow().clone()
            } else {
                Bytes::new()
            };
            if now_empty {
                inbox.in_ready.set(false);
                if inbox.detached.get() {
                    inbox.removed.set(true);
                }
                ready.pop_front();
            } else if ready.len() > 1 {
                // Fair queuing: this peer goes behind the others with messages.
                ready.rotate_left(1);
            }
            drop(ready);
            return Some(Received {
                peer,
                routing_id,
                msg,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use super::*;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    impl Count {
        fn get(&self) -> usize {
            self.0.load(Ordering::Relaxed)
        }
    }

    /// A reader parked on `inbox`'s room: its wake-up counter, and the future.
    fn park(inbox: &Inbox) -> (Arc<Count>, Pin<Box<crate::notify::Notified<'_>>>) {
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut fut = Box::pin(inbox.space_notified());
        let polled = fut.as_mut().poll(&mut Context::from_waker(&waker));
        assert_eq!(polled, Poll::Pending);
        (count, fut)
    }

    fn m(s: &'static str) -> Message {
        Message::from(s)
    }

    fn body(r: &Received) -> &[u8] {
        &r.msg.frames()[0]
    }

    /// `n` inboxes at RCVHWM 1, each holding one message.
    fn full_inboxes(q: &FairQueue, n: usize) -> Vec<Rc<Inbox>> {
        q.set_hwm(Some(1));
        (0..n as u64)
            .map(|id| {
                let inbox = Inbox::new(id);
                q.queue(&inbox, m("x")).unwrap();
                assert!(q.queue(&inbox, m("y")).is_err(), "inbox {id} is full");
                inbox
            })
            .collect()
    }

    #[test]
    fn a_receive_wakes_only_the_reader_of_the_inbox_it_made_room_in() {
        let q = FairQueue::new(false);
        let inboxes = full_inboxes(&q, 100);
        let parked: Vec<_> = inboxes.iter().map(|i| park(i)).collect();
        let got = q.try_recv().unwrap();
        assert_eq!(got.peer, 0);
        assert_eq!(parked[0].0.get(), 1, "the reader of the inbox with room");
        assert!(
            parked[1..].iter().all(|(c, _)| c.get() == 0),
            "readers of inboxes that are still full stay asleep"
        );
        // That reader now has room for exactly one more message.
        q.queue(&inboxes[0], m("y")).unwrap();
    }

    #[test]
    fn a_receive_from_an_inbox_below_rcvhwm_wakes_nobody() {
        let q = FairQueue::new(false);
        q.set_hwm(Some(10));
        let inbox = Inbox::new(7);
        q.queue(&inbox, m("a")).unwrap();
        q.queue(&inbox, m("b")).unwrap();
        let (count, _fut) = park(&inbox);
        q.try_recv().unwrap();
        assert_eq!(count.get(), 0);
    }

    #[test]
    fn raising_rcvhwm_wakes_every_waiting_reader() {
        let q = FairQueue::new(false);
        let inboxes = full_inboxes(&q, 8);
        let parked: Vec<_> = inboxes.iter().map(|i| park(i)).collect();
        q.set_hwm(Some(2));
        assert!(parked.iter().all(|(c, _)| c.get() == 1));
        for inbox in &inboxes {
            q.queue(inbox, m("y")).unwrap();
        }
    }

    #[test]
    fn closing_wakes_every_waiting_reader() {
        let q = FairQueue::new(false);
        let inboxes = full_inboxes(&q, 8);
        let parked: Vec<_> = inboxes.iter().map(|i| park(i)).collect();
        q.close();
        assert!(parked.iter().all(|(c, _)| c.get() == 1));
        assert!(q.is_closed());
    }

    #[test]
    fn a_flooding_peer_takes_one_turn_per_round() {
        let q = FairQueue::new(true);
        q.set_hwm(None);
        let flood = Inbox::new(0);
        flood.set_routing_id(Bytes::from_static(b"flood"));
        for _ in 0..1000 {
            q.queue(&flood, m("f")).unwrap();
        }
        let quiet: Vec<_> = (1..=15).map(Inbox::new).collect();
        for (i, inbox) in quiet.iter().enumerate() {
            q.queue(inbox, m("q")).unwrap();
            if i % 2 == 0 {
                q.queue(inbox, m("q")).unwrap();
            }
        }
        // Round 1: the flood, then each quiet peer once; round 2: the flood, then
        // the quiet peers with a second message; then the flood alone.
        let order: Vec<u64> = std::iter::from_fn(|| q.try_recv().map(|r| r.peer))
            .take(16 + 9 + 5)
            .collect();
        let mut expected = vec![0];
        expected.extend(1..=15);
        expected.push(0);
        expected.extend((1..=15).step_by(2));
        expected.extend([0; 5]);
        assert_eq!(order, expected);
        let next = q.try_recv().unwrap();
        assert_eq!(&next.routing_id[..], b"flood");
        assert_eq!(body(&next), b"f");
    }

    #[test]
    fn a_quiet_peer_that_joins_during_a_flood_is_served_within_one_round() {
        let q = FairQueue::new(false);
        q.set_hwm(None);
        let flood = Inbox::new(0);
        for _ in 0..100 {
            q.queue(&flood, m("f")).unwrap();
        }
        let idle: Vec<_> = (1..100).map(Inbox::new).collect();
        for _ in 0..10 {
            assert_eq!(q.try_recv().unwrap().peer, 0);
        }
        q.queue(&idle[41], m("q")).unwrap();
        assert_eq!(q.try_recv().unwrap().peer, 0, "the flood's turn was first");
        assert_eq!(q.try_recv().unwrap().peer, 42);
        assert_eq!(q.try_recv().unwrap().peer, 0);
    }
}
