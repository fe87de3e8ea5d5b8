//! `zeroring soak`: a long run of traffic with reconnect churn over loopback TCP, to
//! catch leaks and ordering bugs that short tests miss.
//!
//! A server thread (one compio runtime) binds a PULL and a ROUTER. A client thread
//! (its own runtime) loops: create a PUSH and a DEALER (with a fresh routing id),
//! connect, send a burst of sequence-numbered messages of random size, do a few
//! request/replies through the ROUTER, close both and start over. Every 50th cycle
//! the server drops its PULL and binds a new one on the same port in the middle of
//! the burst, so the PUSH has to reconnect. The server checks per-connection order,
//! counts and a checksum of every body; the main thread prints VmRSS every few
//! seconds and compares the end of the run with the state after warm-up.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::{CliError, numeric_flag};
use zeroring::{DealerSocket, Message, PullSocket, PushSocket, RouterSocket};

/// Messages in one cycle's PUSH burst.
const BURST: u32 = 1000;
/// Request/replies per cycle on the DEALER, besides the sync requests.
const ECHOES: u32 = 5;
/// Every this many cycles the server restarts its PULL mid-burst.
const REBIND_EVERY: u64 = 50;
/// Body sizes, header included.
const MIN_BODY: usize = 16;
const MAX_BODY: usize = 4096;
/// Reports from this point on count as "after warm-up".
const WARM_UP: Duration = Duration::from_secs(60);
/// Allowed RSS growth from warm-up to the end, in percent.
const MAX_GROWTH_PCT: f64 = 10.0;
/// How long any single step may take before the run is declared stuck.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// Counters shared between the threads for the periodic report.
#[derive(Default)]
struct Counters {
    cycles: AtomicU64,
    messages: AtomicU64,
    rebinds: AtomicU64,
    round_trips: AtomicU64,
}

/// Runs the soak.
pub fn run(args: &[String]) -> Result<(), CliError> {
    let minutes = numeric_flag(args, "--minutes", 10)?;
    let report_secs = numeric_flag(args, "--report-secs", 30)?.max(1);
    let duration = Duration::from_secs(minutes as u64 * 60);
    let report = Duration::from_secs(report_secs as u64);
    println!(
        "zeroring soak: {minutes} min over loopback TCP, PUSH/PULL bursts of {BURST} messages \
         ({MIN_BODY}..{MAX_BODY} B) and DEALER/ROUTER request/replies, sockets recreated every \
         cycle, PULL re-bound every {REBIND_EVERY} cycles; report every {report_secs} s"
    );

    let counters = Arc::new(Counters::default());
    let (ep_tx, ep_rx) = mpsc::channel();
    let server = {
        let counters = counters.clone();
        thread::Builder::new()
            .name("soak-server".into())
            .spawn(move || runtime()?.block_on(serve(ep_tx, counters)))
            .map_err(|e| CliError(format!("cannot start the server thread: {e}")))?
    };
    let (pull_ep, router_ep) = match ep_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(eps) => eps,
        Err(_) => {
            return Err(match server.join() {
                Ok(Err(e)) => e,
                _ => CliError("the server thread did not bind".into()),
            });
        }
    };

    let start = Instant::now();
    let deadline = start + duration;
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let client = {
        let counters = counters.clone();
        thread::Builder::new()
            .name("soak-client".into())
            .spawn(move || {
                let result = runtime()?.block_on(churn(pull_ep, router_ep, deadline, counters));
                done_tx.send(()).ok();
                result
            })
            .map_err(|e| CliError(format!("cannot start the client thread: {e}")))?
    };

    let start_rss = vm_rss_kb()?;
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let mut next = start + report;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match done_rx.recv_timeout(wait) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let rss = vm_rss_kb()?;
                let elapsed = start.elapsed();
                print_line(elapsed, &counters, rss);
                samples.push((elapsed, rss));
                next += report;
            }
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let final_rss = vm_rss_kb()?;
    let elapsed = start.elapsed();
    print_line(elapsed, &counters, final_rss);

    let client_result = client
        .join()
        .map_err(|_| CliError("the client thread panicked".into()))?;
    let server_result = server
        .join()
        .map_err(|_| CliError("the server thread panicked".into()))?;
    client_result?;
    server_result?;

    let (warm_at, warm_rss) = samples
        .iter()
        .copied()
        .find(|(t, _)| *t >= WARM_UP)
        .or_else(|| samples.first().copied())
        .unwrap_or((Duration::ZERO, start_rss));
    let growth = (final_rss as f64 - warm_rss as f64) / warm_rss as f64 * 100.0;
    let pass = growth <= MAX_GROWTH_PCT;
    println!(
        "soak: {:.0} s, {} cycles ({} PULL re-binds), {} messages, {} request/replies, \
         all in order, no loss, no duplicates",
        elapsed.as_secs_f64(),
        counters.cycles.load(Ordering::Relaxed),
        counters.rebinds.load(Ordering::Relaxed),
        counters.messages.load(Ordering::Relaxed),
        counters.round_trips.load(Ordering::Relaxed),
    );
    println!(
        "VmRSS at start {start_rss} kB, after warm-up ({:.0} s) {warm_rss} kB, at the end \
         {final_rss} kB: growth {growth:+.1}% (limit {MAX_GROWTH_PCT}%): {}",
        warm_at.as_secs_f64(),
        if pass { "PASS" } else { "FAIL" }
    );
    if pass {
        Ok(())
    } else {
        Err(CliError(format!(
            "soak FAIL: VmRSS grew {growth:+.1}% after warm-up"
        )))
    }
}

fn runtime() -> Result<compio::runtime::Runtime, CliError> {
    compio::runtime::Runtime::new().map_err(|e| CliError(format!("cannot start compio: {e}")))
}

fn print_line(elapsed: Duration, counters: &Counters, rss_kb: u64) {
    println!(
        "[{:>5.0} s] cycles {:>7}  messages {:>10}  VmRSS {rss_kb} kB",
        elapsed.as_secs_f64(),
        counters.cycles.load(Ordering::Relaxed),
        counters.messages.load(Ordering::Relaxed),
    );
}

/// The process's resident set size in kB, from `/proc/self/status`.
fn vm_rss_kb() -> Result<u64, CliError> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| CliError(format!("cannot read /proc/self/status: {e}")))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| CliError("no VmRSS line in /proc/self/status".into()))
}

/// xorshift64*: sizes and bodies need to vary, not to be unpredictable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// FNV-1a, 32 bits.
fn checksum(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// One burst message: cycle (u64), sequence (u32), checksum of the rest (u32), then
/// random bytes.
fn burst_message(rng: &mut Rng, cycle: u64, seq: u32) -> Bytes {
    let len = MIN_BODY + (rng.next() % (MAX_BODY - MIN_BODY + 1) as u64) as usize;
    let mut body = vec![0u8; len];
    for chunk in body[MIN_BODY..].chunks_mut(8) {
        let r = rng.next().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let sum = checksum(&body[MIN_BODY..]);
    body[..8].copy_from_slice(&cycle.to_le_bytes());
    body[8..12].copy_from_slice(&seq.to_le_bytes());
    body[12..16].copy_from_slice(&sum.to_le_bytes());
    Bytes::from(body)
}

/// What the PULL side has verified so far.
#[derive(Debug, Default)]
struct Received {
    cycle: u64,
    next_seq: u32,
    error: Option<String>,
}

impl Received {
    fn check(&mut self, msg: &Message) -> Result<(), String> {
        if msg.len() != 1 {
            return Err(format!("burst message with {} frames", msg.len()));
        }
        let body = &msg[0];
        if body.len() < MIN_BODY || body.len() > MAX_BODY {
            return Err(format!("burst message of {} bytes", body.len()));
        }
        let cycle = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        let seq = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
        let sum = u32::from_le_bytes(body[12..16].try_into().expect("4 bytes"));
        if checksum(&body[MIN_BODY..]) != sum {
            return Err(format!(
                "torn message: cycle {cycle} seq {seq}, checksum mismatch"
            ));
        }
        if cycle == self.cycle && seq == self.next_seq {
            self.next_seq += 1;
        } else if cycle > self.cycle && seq == 0 {
            if self.cycle != 0 && self.next_seq != BURST {
                return Err(format!(
                    "cycle {} ended after {} of {BURST} messages",
                    self.cycle, self.next_seq
                ));
            }
            self.cycle = cycle;
            self.next_seq = 1;
        } else {
            return Err(format!(
                "out of order: got cycle {cycle} seq {seq}, expected cycle {} seq {} \
                 (or the next cycle's seq 0)",
                self.cycle, self.next_seq
            ));
        }
        Ok(())
    }
}

fn u64_frame(v: u64) -> Bytes {
    Bytes::copy_from_slice(&v.to_le_bytes())
}

fn frame_u64(f: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(f.try_into().ok()?))
}

fn routing_id(cycle: u64) -> Bytes {
    Bytes::from(format!("soak-{cycle}"))
}

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

/// The server thread: a PULL (re-bound on request) and a ROUTER answering echo,
/// sync, rebind and quit requests.
async fn serve(
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

/// The client thread: cycles of create, connect, burst, request/replies, close.
async fn churn(
    pull_ep: String,
    router_ep: String,
    deadline: Instant,
    counters: Arc<Counters>,
) -> Result<(), CliError> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cycle = 0u64;
    while Instant::now() < deadline {
        cycle += 1;
        let push = PushSocket::new();
        let dealer = DealerSocket::new();
        dealer.set_routing_id(routing_id(cycle))?;
        push.set_sndtimeo(Some(STEP_TIMEOUT));
        dealer.set_sndtimeo(Some(STEP_TIMEOUT));
        push.connect(&pull_ep).await?;
        dealer.connect(&router_ep).await?;

        let rebind = cycle.is_multiple_of(REBIND_EVERY);
        let first_part = if rebind { BURST / 2 } else { BURST };
        for seq in 0..first_part {
            push.send(burst_message(&mut rng, cycle, seq)).await?;
        }
        for i in 0..ECHOES {
            let payload = burst_message(&mut rng, cycle, i);
            let frames = vec![
                Bytes::from_static(b"echo"),
                u64_frame(cycle),
                u64_frame(i.into()),
                payload,
            ];
            let reply = request(&dealer, frames.clone()).await?;
            if reply.frames() != &frames[..] {
                return Err(CliError(format!(
                    "soak verification error: cycle {cycle}: echo {i} came back different"
                )));
            }
            counters.round_trips.fetch_add(1, Ordering::Relaxed);
        }
        let sync = |n: u32| {
            vec![
                Bytes::from_static(b"sync"),
                u64_frame(cycle),
                u64_frame(n.into()),
            ]
        };
        if rebind {
            // The server restarts its PULL while this PUSH is connected: wait until
            // the first half is in, have it re-bound, watch the PUSH lose its
            // connection and reconnect, then send the second half.
            request(&dealer, sync(first_part)).await?;
            request(
                &dealer,
                vec![Bytes::from_static(b"rebind"), u64_frame(cycle)],
            )
            .await?;
            wait_peers(&push, 0, "did not notice the restarted PULL").await?;
            wait_peers(&push, 1, "did not reconnect to the re-bound PULL").await?;
            for seq in first_part..BURST {
                push.send(burst_message(&mut rng, cycle, seq)).await?;
            }
        }
        request(&dealer, sync(BURST)).await?;
        push.close().await;
        dealer.close().await;
        counters.cycles.fetch_add(1, Ordering::Relaxed);
    }

    let dealer = DealerSocket::new();
    dealer.set_routing_id(routing_id(0))?;
    dealer.connect(&router_ep).await?;
    request(&dealer, vec![Bytes::from_static(b"quit")]).await?;
    dealer.close().await;
    Ok(())
}
