//! The soak's client thread: cycles of create a PUSH and a DEALER, connect, send a
//! burst, do request/replies, close; every [`REBIND_EVERY`]th cycle it has the
//! server re-bind its PULL mid-burst and waits for the PUSH to reconnect.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::report::Counters;
use super::wire::{BURST, Rng, STEP_TIMEOUT, burst_message, routing_id, u64_frame};
use crate::CliError;
use zeroring::{DealerSocket, Message, PushSocket};

/// Request/replies per cycle on the DEALER, besides the sync requests.
const ECHOES: u32 = 5;
/// Every this many cycles the server restarts its PULL mid-burst.
pub(super) const REBIND_EVERY: u64 = 50;

/// The client thread: cycles until `deadline`, then tells the server to quit.
pub(super) async fn churn(
    pull_ep: String,
    router_ep: String,
    deadline: Instant,
    counters: Arc<Counters>,
) -> Result<(), CliError> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cycle = 0u64;
    while Instant::now() < deadline {
        cycle += 1;
        run_cycle(&pull_ep, &router_ep, cycle, &mut rng, &counters).await?;
    }

    let dealer = DealerSocket::new();
    dealer.set_routing_id(routing_id(0))?;
    dealer.connect(&router_ep).await?;
    request(&dealer, vec![Bytes::from_static(b"quit")]).await?;
    dealer.close().await;
    Ok(())
}

/// One cycle on fresh sockets: connect, burst, echoes, (re-bind,) sync, close.
async fn run_cycle(
    pull_ep: &str,
    router_ep: &str,
    cycle: u64,
    rng: &mut Rng,
    counters: &Counters,
) -> Result<(), CliError> {
    let push = PushSocket::new();
    let dealer = DealerSocket::new();
    dealer.set_routing_id(routing_id(cycle))?;
    push.set_sndtimeo(Some(STEP_TIMEOUT));
    dealer.set_sndtimeo(Some(STEP_TIMEOUT));
    push.connect(pull_ep).await?;
    dealer.connect(router_ep).await?;

    let rebind = cycle.is_multiple_of(REBIND_EVERY);
    let first_part = if rebind { BURST / 2 } else { BURST };
    send_burst(&push, rng, cycle, 0..first_part).await?;
    echoes(&dealer, rng, cycle, counters).await?;
    if rebind {
        // The server restarts its PULL while this PUSH is connected: wait until
        // the first half is in, have it re-bound, watch the PUSH lose its
        // connection and reconnect, then send the second half.
        request(&dealer, sync_request(cycle, first_part)).await?;
        request(
            &dealer,
            vec![Bytes::from_static(b"rebind"), u64_frame(cycle)],
        )
        .await?;
        wait_peers(&push, 0, "did not notice the restarted PULL").await?;
        wait_peers(&push, 1, "did not reconnect to the re-bound PULL").await?;
        send_burst(&push, rng, cycle, first_part..BURST).await?;
    }
    request(&dealer, sync_request(cycle, BURST)).await?;
    push.close().await;
    dealer.close().await;
    counters.cycles.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Sends the burst messages with sequence numbers `seqs` of `cycle`.
async fn send_burst(
    push: &PushSocket,
    rng: &mut Rng,
    cycle: u64,
    seqs: Range<u32>,
) -> Result<(), CliError> {
    for seq in seqs {
        push.send(burst_message(rng, cycle, seq)).await?;
    }
    Ok(())
}

/// [`ECHOES`] echo requests, each reply checked against its request.
async fn echoes(
    dealer: &DealerSocket,
    rng: &mut Rng,
    cycle: u64,
    counters: &Counters,
) -> Result<(), CliError> {
    for i in 0..ECHOES {
        let payload = burst_message(rng, cycle, i);
        let frames = vec![
            Bytes::from_static(b"echo"),
            u64_frame(cycle),
            u64_frame(i.into()),
            payload,
        ];
        let reply = request(dealer, frames.clone()).await?;
        if reply.frames() != &frames[..] {
            return Err(CliError(format!(
                "soak verification error: cycle {cycle}: echo {i} came back different"
            )));
        }
        counters.round_trips.fetch_add(1, Ordering::Relaxed);
    }
    Ok(())
}

/// The request that waits until the server has verified `count` messages of `cycle`.
fn sync_request(cycle: u64, count: u32) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"sync"),
        u64_frame(cycle),
        u64_frame(count.into()),
    ]
}

/// Sends a request on the DEALER and returns the reply's frames.
async fn request(dealer: &DealerSocket, frames: Vec<Bytes>) -> Result<Message, CliError> {
    dealer.send(frames).await?;
    let reply = compio::time::timeout(STEP_TIMEOUT, dealer.recv())
        .await
        .map_err(|_| CliError(format!("no reply from the ROUTER within {STEP_TIMEOUT:?}")))??;
    if let Some(f) = reply.get(0)
        && f.starts_with(b"error")
    {
        return Err(CliError(format!(
            "soak verification error: {}",
            String::from_utf8_lossy(f)
        )));
    }
    Ok(reply)
}

/// Waits until `push` has `count` connected peers.
async fn wait_peers(push: &PushSocket, count: usize, what: &str) -> Result<(), CliError> {
    let start = Instant::now();
    while push.peer_count() != count {
        if start.elapsed() > STEP_TIMEOUT {
            return Err(CliError(format!(
                "soak error: the PUSH {what} within {STEP_TIMEOUT:?}"
            )));
        }
        compio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}
