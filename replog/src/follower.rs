//! The follower side of replication: a DEALER connected to the leader says HELLO with
//! the node's epoch and log end, truncates a divergent suffix where the leader says,
//! then appends and applies record batches in order and acknowledges what it has
//! received and what is durable.
//!
//! Anything out of order (a gap after a reconnect, a leader that restarted and no
//! longer knows us, silence longer than [`SILENCE`]) makes the follower say HELLO
//! again, which resumes from its own log end. Records from an epoch older than the
//! newest this node has seen are refused with FENCED.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;

use super::error::{ReplogError, Result};
use super::node::{Inner, Role};
use super::protocol::{Request, ToFollower};
use super::record;
use zeroring_sockets::DealerSocket;

/// A follower that hears nothing from its leader for this long says HELLO again.
const SILENCE: Duration = Duration::from_secs(1);

/// Makes the node a follower of `leader` and starts the follow task.
pub(crate) fn start(inner: &Rc<Inner>, leader: String) {
    let generation = inner.follow_generation.get() + 1;
    inner.follow_generation.set(generation);
    *inner.role.borrow_mut() = Role::Follower {
        leader: leader.clone(),
    };
    inner.followers.borrow_mut().clear();
    inner.acks.notify();
    inner.wal.appended.notify();
    inner.wal.synced.notify();
    compio::runtime::spawn(run(inner.clone(), leader, generation)).detach();
}

struct Session {
    dealer: DealerSocket,
    /// START received: records may be appended.
    started: Cell<bool>,
    /// Durable offset last reported.
    reported_durable: Cell<u64>,
}

async fn run(inner: Rc<Inner>, leader: String, generation: u64) {
    let current = || inner.follow_generation.get() == generation && !inner.closed.get();
    let dealer = DealerSocket::new();
    dealer.set_linger(Some(Duration::from_millis(0)));
    dealer
        .set_rcvhwm(Some(100_000))
        .expect("100,000 is a valid RCVHWM");
    dealer.set_maxmsgsize(Some(super::node::MAX_FRAME));
    if let Err(e) = dealer.connect(&leader).await {
        tracing::error!(leader, error = %e, "cannot follow");
        return;
    }
    tracing::info!(leader, "following");
    let session = Rc::new(Session {
        dealer,
        started: Cell::new(false),
        reported_durable: Cell::new(0),
    });
    compio::runtime::spawn(report_durable(inner.clone(), session.clone(), generation)).detach();
    let _ = hello(&inner, &session).await;
    while current() {
        let msg = match compio::time::timeout(SILENCE, session.dealer.recv()).await {
            Err(_) => {
                if current() {
                    tracing::debug!(leader, "leader silent; saying HELLO again");
                    session.started.set(false);
                    let _ = hello(&inner, &session).await;
                }
                continue;
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "follower socket failed");
                break;
            }
            Ok(Ok(msg)) => msg,
        };
        if !current() {
            break;
        }
        let frames = msg.frames();
        let parsed = match frames.split_first() {
            Some((delimiter, rest)) if delimiter.is_empty() => ToFollower::parse(rest),
            _ => Err(ReplogError::Protocol("message without a delimiter".into())),
        };
        let outcome = match parsed {
            Ok(m) => handle(&inner, &session, m).await,
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "replication stream out of step; resynchronising");
            session.started.set(false);
            let _ = hello(&inner, &session).await;
        }
    }
    session.dealer.close().await;
}

async fn hello(inner: &Inner, session: &Session) -> Result<()> {
    let request = Request::Hello {
        name: inner.name.clone(),
        epoch: inner.epoch.get(),
        last_log_epoch: inner.wal.last_epoch(),
        next: inner.wal.next_offset(),
    };
    session.dealer.send(request.to_message()).await?;
    Ok(())
}

async fn ack(inner: &Inner, session: &Session) -> Result<()> {
    let durable = inner.wal.accepted_offset();
    session.reported_durable.set(durable);
    let request = Request::Ack {
        received: inner.wal.next_offset(),
        durable,
    };
    session.dealer.send(request.to_message()).await?;
    Ok(())
}

async fn fenced(inner: &Inner, session: &Session) -> Result<()> {
    let request = Request::Fenced {
        epoch: inner.epoch.get(),
    };
    session.dealer.send(request.to_message()).await?;
    Ok(())
}

async fn handle(inner: &Inner, session: &Session, msg: ToFollower) -> Result<()> {
    match msg {
        ToFollower::Start { epoch, keep_up_to } => {
            if epoch < inner.epoch.get() {
                return fenced(inner, session).await;
            }
            inner.set_epoch(epoch)?;
            if keep_up_to < inner.wal.next_offset() {
                tracing::warn!(
                    from = keep_up_to,
                    to = inner.wal.next_offset(),
                    "truncating a suffix the leader does not have"
                );
                inner.wal.truncate(keep_up_to)?;
                inner.rebuild_store()?;
            } else if keep_up_to > inner.wal.next_offset() {
                return Err(ReplogError::Protocol(format!(
                    "leader starts at {keep_up_to}, past this log's end {}",
                    inner.wal.next_offset()
                )));
            }
            session.started.set(true);
            ack(inner, session).await
        }
        ToFollower::Records { epoch, batch } => {
            if epoch < inner.epoch.get() {
                return fenced(inner, session).await;
            }
            if !session.started.get() {
                return Ok(()); // records of an older session; START is on its way
            }
            if epoch > inner.epoch.get() {
                inner.set_epoch(epoch)?;
            }
            if !batch.is_empty() {
                append(inner, &batch)?;
            }
            ack(inner, session).await
        }
        ToFollower::Resync => Err(ReplogError::Protocol("leader asked for HELLO".into())),
    }
}

/// Appends a batch from the leader and applies it to the store.
fn append(inner: &Inner, batch: &Bytes) -> Result<()> {
    // The storage checks every record (CRC, dense offsets from this log's end,
    // epochs) before appending; applying then only walks the checked headers.
    inner.wal.append_encoded(batch)?;
    let mut kv = inner.kv.borrow_mut();
    for (at, _epoch, len) in record::headers(batch) {
        kv.apply(&batch[at + record::HEADER_LEN..at + len])?;
    }
    Ok(())
}

/// Reports the durable offset when a sync moves it (a Strict follower makes records
/// durable after it has acknowledged receiving them).
async fn report_durable(inner: Rc<Inner>, session: Rc<Session>, generation: u64) {
    loop {
        let current = || inner.follow_generation.get() == generation && !inner.closed.get();
        inner
            .wal
            .synced
            .wait_until(|| {
                !current() || inner.wal.accepted_offset() > session.reported_durable.get()
            })
            .await;
        if !current() {
            return;
        }
        if session.started.get() {
            if ack(&inner, &session).await.is_err() {
                return;
            }
        } else {
            session.reported_durable.set(inner.wal.accepted_offset());
        }
    }
}
