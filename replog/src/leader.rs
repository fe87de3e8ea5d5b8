//! The leader side of replication: followers say HELLO, the leader answers where
//! their log must end (truncating a divergent suffix) and then streams records to each
//! follower from its own sender task, within a window of unacknowledged bytes.
//!
//! Records travel in the log's own framing (length, CRC32C, epoch, offset), read
//! straight from storage, so a follower checks and appends them without re-encoding.
//! An idle stream carries an empty batch every [`HEARTBEAT`] as a heartbeat; a
//! follower not heard from for [`FOLLOWER_TIMEOUT`] is forgotten.

use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::error::{ReplogError, Result};
use super::node::{Inner, Role};
use super::protocol::ToFollower;
use zeroring_sockets::Message;

/// Largest batch of records in one message.
const BATCH_BYTES: usize = 256 << 10;
/// Bytes sent and not yet acknowledged as received, per follower.
const WINDOW_BYTES: u64 = 8 << 20;
/// An idle stream sends an empty batch this often.
pub(crate) const HEARTBEAT: Duration = Duration::from_millis(200);
/// A follower silent for this long is dropped from the leader's list.
pub(crate) const FOLLOWER_TIMEOUT: Duration = Duration::from_secs(3);

/// What the leader knows about one follower.
#[derive(Debug)]
pub(crate) struct FollowerState {
    pub(crate) name: Bytes,
    /// Next offset to send.
    pub(crate) next_to_send: u64,
    /// Every record below this reached the follower.
    pub(crate) received: u64,
    /// Every record below this is durable on the follower.
    pub(crate) durable: u64,
    /// (end offset, bytes) of batches sent and not yet received.
    pub(crate) in_flight: std::collections::VecDeque<(u64, u64)>,
    pub(crate) in_flight_bytes: u64,
    pub(crate) last_heard: Instant,
    /// Identifies this follower's sender task; a new HELLO starts a new one.
    pub(crate) session: u64,
}

/// A follower's HELLO: decide where its log must end, then stream from there.
pub(crate) async fn on_hello(
    inner: &Rc<Inner>,
    id: Bytes,
    name: Bytes,
    epoch: u64,
    last_log_epoch: u64,
    next: u64,
) -> Result<()> {
    if !matches!(*inner.role.borrow(), Role::Leader { .. }) {
        return Ok(()); // not leading: the follower times out and retries elsewhere
    }
    if epoch > inner.epoch.get() {
        fence(inner, epoch);
        return Ok(());
    }
    // Kafka's OffsetsForLeaderEpoch: the follower keeps its log up to where its last
    // epoch ends in ours, and no further than our own log.
    let keep_up_to = {
        let storage = inner.wal.storage();
        next.min(storage.epoch_end(last_log_epoch))
            .min(storage.next_offset())
    };
    let session = {
        let mut followers = inner.followers.borrow_mut();
        // A follower that reconnected comes back with a new routing id: forget the
        // old entry under its name.
        followers.retain(|rid, f| *rid == id || f.name != name);
        let session = followers.get(&id).map_or(0, |f| f.session + 1);
        followers.insert(
            id.clone(),
            FollowerState {
                name,
                next_to_send: keep_up_to,
                received: keep_up_to,
                durable: 0,
                in_flight: Default::default(),
                in_flight_bytes: 0,
                last_heard: Instant::now(),
                session,
            },
        );
        session
    };
    inner.acks.notify();
    send(
        inner,
        &id,
        ToFollower::Start {
            epoch: inner.epoch.get(),
            keep_up_to,
        },
    )
    .await?;
    compio::runtime::spawn(stream_to(inner.clone(), id, session)).detach();
    Ok(())
}

/// A follower's ACK.
pub(crate) fn on_ack(inner: &Inner, id: &Bytes, received: u64, durable: u64) -> bool {
    let mut followers = inner.followers.borrow_mut();
    let Some(f) = followers.get_mut(id) else {
        return false;
    };
    f.last_heard = Instant::now();
    f.received = f.received.max(received);
    f.durable = f.durable.max(durable);
    while let Some(&(end, bytes)) = f.in_flight.front() {
        if end > f.received {
            break;
        }
        f.in_flight.pop_front();
        f.in_flight_bytes -= bytes;
    }
    drop(followers);
    inner.acks.notify();
    inner.wal.appended.notify(); // the sender may have room in its window again
    true
}

/// A follower has seen a newer epoch: this leader is deposed.
pub(crate) fn fence(inner: &Inner, newer: u64) {
    let mut role = inner.role.borrow_mut();
    if let Role::Leader { fenced_by } = &mut *role
        && newer > inner.epoch.get()
    {
        tracing::warn!(
            epoch = inner.epoch.get(),
            newer,
            "fenced by a newer leader epoch; refusing writes"
        );
        *fenced_by = Some(newer);
        drop(role);
        inner.acks.notify();
    }
}

/// Streams records to one follower until it is dropped or says HELLO again.
async fn stream_to(inner: Rc<Inner>, id: Bytes, session: u64) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    let mut last_sent = Instant::now();
    loop {
        // Wait for records and window room, or for the heartbeat to fall due.
        let live = || {
            inner
                .followers
                .borrow()
                .get(&id)
                .is_some_and(|f| f.session == session)
        };
        let ready = || {
            let followers = inner.followers.borrow();
            match followers.get(&id) {
                Some(f) if f.session == session => {
                    f.next_to_send < inner.wal.next_offset() && f.in_flight_bytes < WINDOW_BYTES
                }
                _ => true,
            }
        };
        let left = HEARTBEAT.saturating_sub(last_sent.elapsed());
        let got = inner
            .wal
            .appended
            .wait_until_for(left, || ready() || inner.closed.get())
            .await;
        if inner.closed.get()
            || !live()
            || !matches!(*inner.role.borrow(), Role::Leader { fenced_by: None })
        {
            return;
        }
        let (from, timed_out) = {
            let followers = inner.followers.borrow();
            let Some(f) = followers.get(&id) else { return };
            if f.last_heard.elapsed() > FOLLOWER_TIMEOUT {
                (f.next_to_send, true)
            } else {
                (f.next_to_send, false)
            }
        };
        if timed_out {
            tracing::info!(follower = %String::from_utf8_lossy(&id), "follower silent; dropping it");
            inner.followers.borrow_mut().remove(&id);
            inner.acks.notify();
            return;
        }
        batch.clear();
        let end = if got && ready() {
            match inner.wal.storage().read(from, BATCH_BYTES, &mut batch) {
                Ok(end) => end,
                Err(e) => {
                    tracing::error!(error = %e, "reading the log for a follower failed");
                    return;
                }
            }
        } else {
            from // heartbeat
        };
        if let Some(f) = inner.followers.borrow_mut().get_mut(&id) {
            f.next_to_send = end;
            if end > from {
                f.in_flight.push_back((end, batch.len() as u64));
                f.in_flight_bytes += batch.len() as u64;
            }
        }
        let records = ToFollower::Records {
            epoch: inner.epoch.get(),
            batch: Bytes::copy_from_slice(&batch),
        };
        if send(&inner, &id, records).await.is_err() {
            return;
        }
        last_sent = Instant::now();
    }
}

/// Sends one message to the follower with routing id `id`.
pub(crate) async fn send(inner: &Inner, id: &Bytes, msg: ToFollower) -> Result<()> {
    let mut m = Message::with_capacity(5);
    m.push_back(id.clone());
    m.push_back(Bytes::new());
    msg.push_frames(&mut m);
    if super::service::send_or_drop(inner, m, "follower message").await {
        Ok(())
    } else {
        // The follower is gone or not reading: its stream stops here, and it says
        // HELLO again when it hears nothing (or is dropped as silent).
        Err(ReplogError::Protocol(
            "follower not reachable or not reading".into(),
        ))
    }
}
