//! The soak's server thread: a PULL that verifies every burst (re-bound on the
//! client's request) and a ROUTER answering echo, sync, rebind and quit requests.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::report::Counters;
use super::wire::{Received, STEP_TIMEOUT, frame_u64, routing_id};
use crate::CliError;
use zeroring::{PullSocket, RouterSocket};

/// Receives on one PULL until the task is dropped.
async fn drain(pull: Rc<PullSocket>, received: Rc<RefCell<Received>>, counters: Arc<Counters>) {
    loop {
        let msg = match pull.recv().await {
            Ok(m) => m,
            Err(e) => {
                received
                    .borrow_mut()
                    .error
                    .get_or_insert(format!("PULL recv: {e}"));
                return;
            }
        };
        let mut r = received.borrow_mut();
        if r.error.is_some() {
            continue;
        }
        match r.check(&msg) {
            Ok(()) => {
                counters.messages.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => r.error = Some(e),
        }
    }
}

/// The server thread: binds both sockets, sends their endpoints on `ep_tx`, then
/// answers requests until the quit request; an error if any burst failed its check.
pub(super) async fn serve(
    ep_tx: mpsc::Sender<(String, String)>,
    counters: Arc<Counters>,
) -> Result<(), CliError> {
    let received = Rc::new(RefCell::new(Received::default()));
    let mut pull = Rc::new(PullSocket::new());
    let pull_ep = pull.bind("tcp://127.0.0.1:0").await?.to_string();
    let router = RouterSocket::new();
    let router_ep = router.bind("tcp://127.0.0.1:0").await?.to_string();
    ep_tx.send((pull_ep.clone(), router_ep)).ok();
    let mut drainer =
        compio::runtime::spawn(drain(pull.clone(), received.clone(), counters.clone()));

    loop {
        let mut msg = router.recv().await?;
        let rid = msg
            .pop_front()
            .ok_or_else(|| CliError("ROUTER message without routing id".into()))?;
        let kind = msg.get(0).cloned().unwrap_or_default();
        let cycle = msg.get(1).and_then(|f| frame_u64(f)).unwrap_or(0);
        let mut reply = match &kind[..] {
            b"quit" => {
                router.send(vec![rid, Bytes::from_static(b"ok")]).await?;
                break;
            }
            _ if rid != routing_id(cycle) => {
                vec![Bytes::from(format!(
                    "error: request from routing id {rid:?} for cycle {cycle}"
                ))]
            }
            b"echo" => msg.into_frames(),
            b"sync" => {
                let want = msg.get(2).and_then(|f| frame_u64(f)).unwrap_or(0);
                vec![wait_for(&received, cycle, want as u32).await]
            }
            b"rebind" => {
                drop(drainer);
                pull.close().await;
                pull = Rc::new(PullSocket::new());
                pull.bind(&pull_ep).await?;
                drainer =
                    compio::runtime::spawn(drain(pull.clone(), received.clone(), counters.clone()));
                counters.rebinds.fetch_add(1, Ordering::Relaxed);
                vec![Bytes::from_static(b"ok")]
            }
            other => vec![Bytes::from(format!("error: unknown request {other:?}"))],
        };
        reply.insert(0, rid);
        router.send(reply).await?;
    }
    drop(drainer);
    pull.close().await;
    router.close().await;
    match received.borrow().error.clone() {
        Some(e) => Err(CliError(format!("soak verification error: {e}"))),
        None => Ok(()),
    }
}

/// Waits until the PULL has verified `want` messages of `cycle`; the reply frame.
async fn wait_for(received: &RefCell<Received>, cycle: u64, want: u32) -> Bytes {
    let start = Instant::now();
    loop {
        {
            let r = received.borrow();
            if let Some(e) = &r.error {
                return Bytes::from(format!("error: {e}"));
            }
            if r.cycle == cycle && r.next_seq >= want {
                return if r.next_seq == want {
                    Bytes::from_static(b"ok")
                } else {
                    Bytes::from(format!(
                        "error: cycle {cycle}: {} messages, expected {want}",
                        r.next_seq
                    ))
                };
            }
            if start.elapsed() > STEP_TIMEOUT {
                return Bytes::from(format!(
                    "error: cycle {cycle}: {} of {want} messages after {STEP_TIMEOUT:?} \
                     (PULL at cycle {})",
                    if r.cycle == cycle { r.next_seq } else { 0 },
                    r.cycle
                ));
            }
        }
        compio::time::sleep(Duration::from_millis(1)).await;
    }
}
