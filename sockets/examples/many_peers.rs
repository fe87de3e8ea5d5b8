//! Many peers on one socket, for measuring how the per-message cost grows with the
//! number of peers: wall time, and instructions under callgrind.
//!
//! ```text
//! many_peers router PEERS ACTIVE COUNT       ROUTER echo and PEERS DEALERs in one process
//! many_peers pull PEERS ACTIVE COUNT         PULL and PEERS PUSHes in one process
//! many_peers router-echo EP TOTAL            only the ROUTER: binds EP, echoes TOTAL
//! many_peers dealers EP PEERS ACTIVE COUNT   only the DEALERs
//! many_peers pull-sink EP TOTAL              only the PULL: binds EP, takes TOTAL
//! many_peers pushers EP PEERS ACTIVE COUNT   only the PUSHes
//! many_peers push-stalled PEERS WARM COUNT   one PUSH, PEERS PULL peers of which
//!                                            all but one never read
//! ```
//!
//! ACTIVE of the PEERS do COUNT round trips (DEALER: one in flight each) or send
//! COUNT 64-byte messages (PUSH) each, after a warm-up of [`WARMUP`]; each active
//! peer runs on its own thread and compio runtime, like `zeroring bench`'s
//! `dealer16`. The other peers share one more thread: each makes one round trip
//! (sends one message) so its connection is up, then stays idle and connected.
//! The peers' side prints the aggregate rate; TOTAL for the socket's side is
//! `PEERS - ACTIVE + ACTIVE * (WARMUP + COUNT)`.
//!
//! To count instructions per message, run the socket's side alone under
//! `valgrind --tool=callgrind` (valgrind serialises threads and blocks in
//! io_uring_enter, so the threaded modes hang under it) with the peers' side in
//! another process, at two COUNTs, and divide the difference in instructions by
//! the difference in messages (that cancels the set-up).
//!
//! Environment: `MANY_PEERS_YIELD=1` makes the PULL give the runtime a turn after
//! each message (its readers then find their inboxes at RCVHWM);
//! `MANY_PEERS_RING=plain|defer` changes the runtimes' io_uring settings (see
//! `rt`).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use zeroring_sockets::{DealerSocket, PullSocket, PushSocket, RouterSocket};

const SIZE: usize = 64;
/// Round trips (messages) each active peer makes before the clock starts; its
/// thread blocks on the start barrier only after them, with its connection up.
const WARMUP: usize = 100;

/// A runtime for one thread: zeroring's recommended settings
/// ([`zeroring_sockets::runtime_builder`]: io_uring's COOP_TASKRUN and
/// TASKRUN_FLAG), as `zeroring bench` uses. `MANY_PEERS_RING=plain` gives
/// compio's defaults instead, `defer` adds SINGLE_ISSUER and DEFER_TASKRUN.
fn rt() -> compio::runtime::Runtime {
    let mut proactor = zeroring_sockets::proactor_builder();
    match std::env::var("MANY_PEERS_RING").as_deref() {
        Ok("plain") => proactor = compio::driver::ProactorBuilder::new(),
        Ok("defer") => {
            proactor.single_issuer(true).defer_taskrun(true);
        }
        _ => {}
    }
    compio::runtime::RuntimeBuilder::new()
        .with_proactor(proactor)
        .build()
        .expect("a compio runtime")
}

/// Messages the socket's side handles for this run of the peers' side.
fn total(peers: usize, active: usize, count: usize) -> usize {
    peers - active + active * (WARMUP + count)
}

/// The ROUTER: binds `ep`, sends the resolved endpoint, echoes `total` messages.
async fn router_echo(ep: &str, total: usize, bound: mpsc::Sender<String>) {
    let router = RouterSocket::new();
    router.set_sndhwm(None).unwrap();
    router.set_rcvhwm(None).unwrap();
    let ep = router.bind(ep).await.unwrap();
    bound.send(ep.to_string()).ok();
    for _ in 0..total {
        let m = router.recv().await.unwrap();
        router.send(m).await.unwrap();
    }
    router.close().await;
}

/// The PULL: binds `ep`, sends the resolved endpoint, takes `total` messages.
/// With `MANY_PEERS_YIELD=1` it gives the runtime a turn after each message, like
/// an application that awaits something per message (its readers then run while
/// messages are still queued, and the inboxes stay at RCVHWM).
async fn pull_sink(ep: &str, total: usize, bound: mpsc::Sender<String>) {
    let pull = PullSocket::new();
    let ep = pull.bind(ep).await.unwrap();
    bound.send(ep.to_string()).ok();
    let yields = std::env::var("MANY_PEERS_YIELD").is_ok_and(|v| v == "1");
    for _ in 0..total {
        pull.recv().await.unwrap();
        if yields {
            yield_now().await;
        }
    }
    pull.close().await;
}

/// Returns to the runtime once.
async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// What one peer does: `Dealer` round trips, `Push` messages.
#[derive(Debug, Clone, Copy)]
enum Role {
    Dealer,
    Push,
}

/// One peer's socket, connected.
enum PeerSocket {
    Dealer(DealerSocket),
    Push(PushSocket),
}

impl PeerSocket {
    async fn connect(role: Role, ep: &str) -> PeerSocket {
        let sock = match role {
            Role::Dealer => PeerSocket::Dealer(DealerSocket::new()),
            Role::Push => PeerSocket::Push(PushSocket::new()),
        };
        match &sock {
            PeerSocket::Dealer(s) => s.connect(ep).await.unwrap(),
            PeerSocket::Push(s) => s.connect(ep).await.unwrap(),
        }
        sock
    }

    /// One round trip (DEALER) or one message (PUSH).
    async fn step(&self, body: &Bytes) {
        match self {
            PeerSocket::Dealer(s) => {
                s.send(body.clone()).await.unwrap();
                s.recv().await.unwrap();
            }
            PeerSocket::Push(s) => s.send(body.clone()).await.unwrap(),
        }
    }

    async fn close(self) {
        match self {
            PeerSocket::Dealer(s) => s.close().await,
            PeerSocket::Push(s) => s.close().await,
        }
    }
}

/// Runs the peers' side; returns the messages timed and when the clock started.
fn peers_side(role: Role, ep: &str, peers: usize, active: usize, count: usize) -> (usize, Instant) {
    let body = Bytes::from(vec![3u8; SIZE]);
    // The idle peers: each makes one step so its connection is up, then waits.
    let (idle_tx, idle_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let (idle_ep, idle_body) = (ep.to_string(), body.clone());
    let idle = thread::spawn(move || {
        rt().block_on(async move {
            let mut socks = Vec::with_capacity(peers - active);
            for _ in active..peers {
                let s = PeerSocket::connect(role, &idle_ep).await;
                s.step(&idle_body).await;
                socks.push(s);
            }
            idle_tx.send(()).ok();
            while stop_rx.try_recv().is_err() {
                compio::time::sleep(Duration::from_millis(5)).await;
            }
            for s in socks {
                s.close().await;
            }
        })
    });
    idle_rx.recv().unwrap();
    let barrier = Arc::new(Barrier::new(active + 1));
    let clients: Vec<_> = (0..active)
        .map(|_| {
            let (ep, barrier, body) = (ep.to_string(), barrier.clone(), body.clone());
            thread::spawn(move || {
                rt().block_on(async move {
                    let s = PeerSocket::connect(role, &ep).await;
                    for i in 0..WARMUP + count {
                        if i == WARMUP {
                            barrier.wait();
                        }
                        s.step(&body).await;
                    }
                    s.close().await;
                })
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    clients.into_iter().for_each(|c| c.join().unwrap());
    stop_tx.send(()).ok();
    idle.join().unwrap();
    (active * count, start)
}

/// Both sides in this process: the socket's on a thread of its own. The clock
/// stops when both sides are done (a PULL finishes after its PUSHes).
fn both(role: Role, peers: usize, active: usize, count: usize) -> (usize, Duration) {
    let n = total(peers, active, count);
    let (bound_tx, bound_rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let ep = "tcp://127.0.0.1:0";
        rt().block_on(async move {
            match role {
                Role::Dealer => router_echo(ep, n, bound_tx).await,
                Role::Push => pull_sink(ep, n, bound_tx).await,
            }
        })
    });
    let ep = bound_rx.recv().unwrap();
    let (msgs, start) = peers_side(role, &ep, peers, active, count);
    server.join().unwrap();
    (msgs, start.elapsed())
}

/// One PUSH round-robins to `peers` peers on this thread: a PULL that takes
/// everything it gets, and `peers - 1` raw ZMTP PULL peers (a thread of plain
/// blocking sockets, 4 KiB receive buffers) that complete the handshake and
/// then never read. After `warm` messages the stalled peers are full (SNDHWM
/// and the kernel's buffers), and the next `count` all go to the PULL: what
/// each costs is the round-robin's, past the full peers. The compio side is
/// one thread, so the run fits under callgrind. The time reported is the
/// sender's, for the last `count`.
fn push_stalled(peers: usize, warm: usize, count: usize) -> (usize, Duration) {
    let stalled: Vec<String> = (1..peers).map(|_| stalled_pull()).collect();
    rt().block_on(async move {
        let pull = Rc::new(PullSocket::new());
        let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
        let push = PushSocket::new();
        push.connect(&ep).await.unwrap();
        for ep in &stalled {
            push.connect(ep).await.unwrap();
        }
        while push.peer_count() < peers {
            compio::time::sleep(Duration::from_millis(1)).await;
        }
        let taken = Rc::new(Cell::new(0usize));
        let task = {
            let (pull, taken) = (pull.clone(), taken.clone());
            compio::runtime::spawn(async move {
                while pull.recv().await.is_ok() {
                    taken.set(taken.get() + 1);
                }
            })
        };
        let body = Bytes::from(vec![3u8; SIZE]);
        for _ in 0..warm {
            push.send(body.clone()).await.unwrap();
        }
        let before = taken.get();
        let start = Instant::now();
        for _ in 0..count {
            push.send(body.clone()).await.unwrap();
        }
        let elapsed = start.elapsed();
        // Until the PULL has them all, or nothing more arrives for a while.
        let mut seen = taken.get();
        while seen < before + count {
            compio::time::sleep(Duration::from_millis(100)).await;
            if taken.get() == seen {
                break;
            }
            seen = taken.get();
        }
        let got = seen.saturating_sub(before).min(count);
        println!(
            "the PULL got {got} of the last {count} (warm-up {warm}): {}",
            if got == count {
                "the stalled peers were full"
            } else {
                "some went to the stalled peers; warm up longer"
            }
        );
        drop(task);
        (count, elapsed)
    })
}

/// A raw ZMTP 3.1 PULL peer that never reads after its handshake: listens on a
/// loopback port with a 4 KiB receive buffer, on a thread of its own. Returns
/// its endpoint.
fn stalled_pull() -> String {
    use std::io::{Read, Write};
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    socket.bind(&addr.into()).unwrap();
    socket.listen(1).unwrap();
    let listener: std::net::TcpListener = socket.into();
    let ep = format!("tcp://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut greeting = vec![0u8; 64];
        greeting[0] = 0xFF;
        greeting[8] = 0x01;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        greeting[11] = 1;
        greeting[12..16].copy_from_slice(b"NULL");
        let mut ready = vec![0x04, 0, 5];
        ready.extend_from_slice(b"READY");
        ready.push(11);
        ready.extend_from_slice(b"Socket-Type");
        ready.extend_from_slice(&4u32.to_be_bytes());
        ready.extend_from_slice(b"PULL");
        ready[1] = (ready.len() - 2) as u8;
        conn.write_all(&greeting).unwrap();
        conn.write_all(&ready).unwrap();
        // The PUSH's greeting, then its READY (flags, size, body).
        let mut theirs = vec![0u8; 64 + 2];
        conn.read_exact(&mut theirs).unwrap();
        let mut body = vec![0u8; theirs[65] as usize];
        conn.read_exact(&mut body).unwrap();
        // Never read again; keep the connection open.
        loop {
            thread::park();
        }
    });
    ep
}

fn usage() -> ! {
    eprintln!(
        "usage: many_peers router|pull PEERS ACTIVE COUNT\n       \
         many_peers router-echo|pull-sink EP TOTAL\n       \
         many_peers dealers|pushers EP PEERS ACTIVE COUNT\n       \
         many_peers push-stalled PEERS WARM COUNT"
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> usize {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let mode = args.first().map(String::as_str).unwrap_or_else(|| usage());
    let (msgs, elapsed) = match mode {
        "router" | "pull" => {
            let role = if mode == "router" {
                Role::Dealer
            } else {
                Role::Push
            };
            let (peers, count) = (num(1), num(3));
            both(role, peers, num(2).min(peers), count)
        }
        "router-echo" | "pull-sink" => {
            let (ep, n) = (args[1].clone(), num(2));
            let (bound_tx, _bound_rx) = mpsc::channel();
            let start = Instant::now();
            rt().block_on(async move {
                if mode == "router-echo" {
                    router_echo(&ep, n, bound_tx).await
                } else {
                    pull_sink(&ep, n, bound_tx).await
                }
            });
            (n, start.elapsed())
        }
        "push-stalled" => push_stalled(num(1), num(2), num(3)),
        "dealers" | "pushers" => {
            let role = if mode == "dealers" {
                Role::Dealer
            } else {
                Role::Push
            };
            let (peers, count) = (num(2), num(4));
            let (msgs, start) = peers_side(role, &args[1], peers, num(3).min(peers), count);
            (msgs, start.elapsed())
        }
        _ => usage(),
    };
    let rate = msgs as f64 / elapsed.as_secs_f64();
    println!(
        "{}: {msgs} in {:.3} s, {:.1} k/s",
        args.join(" "),
        elapsed.as_secs_f64(),
        rate / 1e3
    );
}
