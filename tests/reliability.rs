//! Reliability: cancel safety, no loss and ordering over long streams, faults (a
//! peer process killed and restarted, kernel resets, port in use), LINGER, and
//! hostile connection patterns (slowloris, a thousand connections at once).
//!
//! Every wait is bounded; nothing asserts on timing beyond generous upper bounds.
//! Message bodies validate themselves (sequence number, length, checksum), so a torn
//! or spliced message is detected on its own.
//!
//! The 10^7-message streams are `#[ignore]`d (too slow for CI in a debug build).
//! Run them with:
//!
//! ```sh
//! cargo test --release --test reliability -- --include-ignored
//! ```
//!
//! The child-process test re-executes this test binary with `ZR_CHILD` set, which
//! makes `child_process_entry` act as the peer process instead of a test.

mod common;

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Write;
use std::net::TcpStream;
use std::process::{Child, Command};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use compio::time::timeout;
use zeroring::{DealerSocket, Error, Message, PullSocket, PushSocket, RouterSocket};

// ---------------------------------------------------------------------------
// 1. Cancel safety

/// recv() raced against very short timers while 10^6 messages stream in from a peer
/// on another thread: every cancelled recv loses nothing, and order is kept.
#[compio::test]
async fn recv_cancelled_by_short_timeouts_loses_nothing() {
    const N: u64 = 1_000_000;
    let pull = PullSocket::new();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let sender = on_thread("push", move || async move {
        let push = PushSocket::new();
        push.connect(&ep).await.unwrap();
        for seq in 0..N {
            push.send(body(seq, 0)).await.unwrap();
        }
        within_for(Duration::from_secs(60), "push close", push.close()).await;
    });
    let mut next = 0u64;
    let mut timeouts = 0u64;
    let deadline = Instant::now() + Duration::from_secs(120);
    let waits = [
        Duration::from_micros(1),
        Duration::from_micros(20),
        Duration::from_micros(200),
    ];
    while next < N {
        assert!(Instant::now() < deadline, "stalled at {next} of {N}");
        match timeout(waits[(next as usize + timeouts as usize) % 3], pull.recv()).await {
            Ok(m) => {
                let m = m.unwrap();
                assert_eq!(m.len(), 1);
                let seq = check_body(&m[0]).unwrap();
                assert_eq!(
                    seq, next,
                    "lost or reordered after {timeouts} cancelled recvs"
                );
                next += 1;
            }
            Err(_) => timeouts += 1,
        }
    }
    assert!(
        timeouts > 0,
        "no recv was ever cancelled; the test proves nothing"
    );
    eprintln!("{N} messages in order; {timeouts} recv futures cancelled by timeouts");
    join_within(Duration::from_secs(60), "sender thread", sender).await;
}

/// A send future dropped while waiting for room (the peer is at its high-water
/// mark) never leaves part of its message behind: later messages arrive intact, and
/// the dropped one arrives whole or not at all.
#[compio::test]
async fn dropped_send_never_leaves_a_partial_message() {
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(1)).unwrap();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let push = PushSocket::new();
    push.set_sndhwm(Some(1)).unwrap();
    push.connect(&ep).await.unwrap();
    wait_until("connected", || push.peer_count() == 1).await;

    // Fill the path (writer, kernel buffers, PULL inbox) until sends start waiting,
    // then drop a few waiting sends.
    let mut accepted = Vec::new();
    let mut dropped = Vec::new();
    let mut seq = 0u64;
    while dropped.len() < 5 {
        assert!(seq < 20_000, "the peer never filled up");
        match timeout(
            Duration::from_millis(50),
            push.send(two_part(seq, 64 * 1024)),
        )
        .await
        {
            Ok(r) => {
                r.unwrap();
                accepted.push(seq);
            }
            Err(_) => dropped.push(seq),
        }
        seq += 1;
    }
    // Now read, and keep sending while reading.
    let got = Rc::new(std::cell::RefCell::new(Vec::<u64>::new()));
    let reader = {
        let got = got.clone();
        let last = seq + 100 - 1;
        compio::runtime::spawn(async move {
            loop {
                let m = within("recv", pull.recv()).await.unwrap();
                let s = check_two_part(&m).unwrap_or_else(|e| panic!("torn message: {e}"));
                got.borrow_mut().push(s);
                if s == last {
                    return;
                }
            }
        })
    };
    for s in seq..seq + 100 {
        within("send after the drops", push.send(two_part(s, 64 * 1024)))
            .await
            .unwrap();
        accepted.push(s);
    }
    within("reader", reader).await.unwrap();
    let got = got.borrow();
    let expected: Vec<u64> = accepted.clone();
    let without_dropped: Vec<u64> = got
        .iter()
        .copied()
        .filter(|s| !dropped.contains(s))
        .collect();
    assert_eq!(
        without_dropped, expected,
        "accepted messages lost or reordered"
    );
    assert!(
        got.windows(2).all(|w| w[0] < w[1]),
        "duplicates or reordering"
    );
    let delivered_dropped = dropped.iter().filter(|s| got.contains(s)).count();
    eprintln!(
        "{} accepted, {} dropped sends ({} of those delivered whole)",
        accepted.len(),
        dropped.len(),
        delivered_dropped
    );
}

// ---------------------------------------------------------------------------
// 2. No loss, order kept: long streams between two runtimes on two threads.

async fn push_pull_stream(n: u64) {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<String>();
    let receiver = on_thread("pull", move || async move {
        let pull = PullSocket::new();
        let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
        tx.send(ep.to_string()).unwrap();
        for next in 0..n {
            let m = within("recv", pull.recv()).await.unwrap();
            assert_eq!(m.len(), 1);
            let seq = check_body(&m[0]).unwrap();
            assert_eq!(seq, next, "lost or reordered");
        }
        // Nothing after the last one.
        assert!(
            timeout(Duration::from_millis(100), pull.recv())
                .await
                .is_err()
        );
        n
    });
    let ep = rx.recv_timeout(LIMIT).unwrap();
    let sender = on_thread("push", move || async move {
        let push = PushSocket::new();
        push.connect(&ep).await.unwrap();
        for seq in 0..n {
            push.send(body(seq, 8)).await.unwrap();
        }
        within_for(Duration::from_secs(60), "push close", push.close()).await;
    });
    let limit = Duration::from_secs(600);
    join_within(limit, "sender", sender).await;
    assert_eq!(join_within(limit, "receiver", receiver).await, n);
    eprintln!(
        "PUSH/PULL: {n} messages in order in {:?}",
        started.elapsed()
    );
}

async fn dealer_router_streams(n_per_dealer: u64, dealers: usize) {
    let started = Instant::now();
    let (tx, rx) = mpsc::channel::<String>();
    let total = n_per_dealer * dealers as u64;
    let receiver = on_thread("router", move || async move {
        let router = RouterSocket::new();
        let ep = router.bind("tcp://127.0.0.1:0").await.unwrap();
        tx.send(ep.to_string()).unwrap();
        let mut next: HashMap<Bytes, u64> = HashMap::new();
        for _ in 0..total {
            let m = within("recv", router.recv()).await.unwrap();
            assert_eq!(m.len(), 2);
            let seq = check_body(&m[1]).unwrap();
            let expected = next.entry(m[0].clone()).or_insert(0);
            assert_eq!(seq, *expected, "peer {:?}: lost or reordered", m[0]);
            *expected += 1;
        }
        assert!(
            timeout(Duration::from_millis(100), router.recv())
                .await
                .is_err()
        );
        next
    });
    let ep = rx.recv_timeout(LIMIT).unwrap();
    let senders: Vec<_> = (0..dealers)
        .map(|d| {
            let ep = ep.clone();
            on_thread("dealer", move || async move {
                let dealer = DealerSocket::new();
                dealer.set_routing_id(format!("dealer-{d}")).unwrap();
                dealer.connect(&ep).await.unwrap();
                for seq in 0..n_per_dealer {
                    dealer.send(body(seq, 8)).await.unwrap();
                }
                within_for(Duration::from_secs(60), "dealer close", dealer.close()).await;
            })
        })
        .collect();
    let limit = Duration::from_secs(600);
    for s in senders {
        join_within(limit, "dealer", s).await;
    }
    let per_peer = join_within(limit, "router", receiver).await;
    assert_eq!(per_peer.len(), dealers);
    for (d, count) in &per_peer {
        assert_eq!(*count, n_per_dealer, "peer {d:?}");
    }
    eprintln!(
        "DEALER/ROUTER: {dealers} x {n_per_dealer} messages, in order per peer, in {:?}",
        started.elapsed()
    );
}

#[compio::test]
async fn push_pull_stream_of_a_million_in_order() {
    push_pull_stream(1_000_000).await;
}

#[compio::test]
async fn dealer_router_streams_of_a_million_in_order_per_peer() {
    dealer_router_streams(500_000, 2).await;
}

#[compio::test]
#[ignore = "10^7 messages: run in release (see the top of this file)"]
async fn push_pull_stream_of_ten_million_in_order() {
    push_pull_stream(10_000_000).await;
}

#[compio::test]
#[ignore = "10^7 messages: run in release (see the top of this file)"]
async fn dealer_router_streams_of_ten_million_in_order_per_peer() {
    dealer_router_streams(5_000_000, 2).await;
}

// ---------------------------------------------------------------------------
// 3. Faults

/// Payload size of message `seq` in the kill/restart stream: mostly small, every
/// fifth large enough to go out by reference.
fn fault_payload(seq: u64) -> usize {
    if seq.is_multiple_of(5) { 20_000 } else { 50 }
}

/// Not a test on its own: with `ZR_CHILD=pull <endpoint> <file>` this process is
/// the PULL peer of `pull_process_killed_and_restarted_mid_stream`. It binds, then
/// appends one line per received message to the file: its sequence number, or
/// `TORN <why>` when the message does not validate.
#[test]
fn child_process_entry() {
    let Ok(spec) = std::env::var("ZR_CHILD") else {
        return;
    };
    let parts: Vec<&str> = spec.split(' ').collect();
    assert_eq!(parts.len(), 3, "ZR_CHILD=pull <endpoint> <file>");
    assert_eq!(parts[0], "pull");
    let (ep, path) = (parts[1].to_string(), parts[2].to_string());
    compio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let pull = PullSocket::new();
            let deadline = Instant::now() + LIMIT;
            loop {
                match pull.bind(&ep).await {
                    Ok(_) => break,
                    Err(e) if Instant::now() < deadline => {
                        eprintln!("child: bind {ep}: {e}; retrying");
                        compio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(e) => panic!("child: bind {ep}: {e}"),
                }
            }
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap();
            // Safety net: exit if the parent goes away and nothing arrives for a while.
            while let Ok(m) = timeout(Duration::from_secs(30), pull.recv()).await {
                let line = match check_two_part(&m.unwrap()) {
                    Ok(seq) => format!("{seq}\n"),
                    Err(e) => format!("TORN {e}\n"),
                };
                out.write_all(line.as_bytes()).unwrap();
            }
        });
}

fn spawn_child_pull(ep: &str, out: &std::path::Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ZR_CHILD", format!("pull {ep} {}", out.display()))
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("re-exec the test binary as the child peer")
}

/// The complete lines of a child's record (a SIGKILL may cut the last one).
fn records(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    complete.lines().map(str::to_string).collect()
}

fn parse_run(lines: &[String], run: &str) -> Vec<u64> {
    lines
        .iter()
        .map(|l| {
            l.parse::<u64>()
                .unwrap_or_else(|_| panic!("{run}: bad record {l:?}"))
        })
        .collect()
}

/// The receiving peer runs in a child process that is SIGKILLed mid-stream and
/// restarted on the same port. The zeroring PUSH reconnects by itself. No message
/// arrives torn, and none twice: sequence numbers strictly increase within each run
/// and across the restart.
#[compio::test]
async fn pull_process_killed_and_restarted_mid_stream() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "zeroring-reliability-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ep = format!("tcp://127.0.0.1:{}", free_port());
    let (out1, out2) = (dir.join("run1"), dir.join("run2"));

    let push = Rc::new(PushSocket::new());
    push.set_sndtimeo(Some(Duration::from_millis(50)));
    push.connect(&ep).await.unwrap();
    let stop = Rc::new(Cell::new(false));
    let sent = Rc::new(Cell::new(0u64));
    let sender = {
        let (push, stop, sent) = (push.clone(), stop.clone(), sent.clone());
        compio::runtime::spawn(async move {
            let mut seq = 0u64;
            while !stop.get() {
                match push.send(two_part(seq, fault_payload(seq))).await {
                    Ok(()) => seq += 1,
                    // Not queued: the same sequence number is tried again.
                    Err(Error::Timeout(_)) => {}
                    Err(e) => panic!("send: {e}"),
                }
                // The task yields whenever SNDHWM is reached, which lets the test
                // task watch the child's progress.
                sent.set(seq);
            }
        })
    };

    let mut child = spawn_child_pull(&ep, &out1);
    wait_until_for(Duration::from_secs(30), "first child receives", || {
        records(&out1).len() >= 3000
    })
    .await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut child = spawn_child_pull(&ep, &out2);
    wait_until_for(Duration::from_secs(30), "restarted child receives", || {
        records(&out2).len() >= 3000
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    stop.set(true);
    within("sender stops", sender).await.unwrap();

    let (run1, run2) = (records(&out1), records(&out2));
    for l in run1.iter().chain(&run2) {
        assert!(!l.starts_with("TORN"), "torn message: {l}");
    }
    let (seq1, seq2) = (parse_run(&run1, "run 1"), parse_run(&run2, "run 2"));
    assert!(
        seq1.windows(2).all(|w| w[0] < w[1]),
        "run 1: duplicate or out of order"
    );
    assert!(
        seq2.windows(2).all(|w| w[0] < w[1]),
        "run 2: duplicate or out of order"
    );
    assert!(
        seq2[0] > *seq1.last().unwrap(),
        "run 2 received something run 1 already had: {} <= {}",
        seq2[0],
        seq1.last().unwrap()
    );
    eprintln!(
        "run 1: {} messages (0..={}), run 2: {} messages ({}..={}); {} lost in the kill; {} sent",
        seq1.len(),
        seq1.last().unwrap(),
        seq2.len(),
        seq2[0],
        seq2.last().unwrap(),
        seq2[0] - seq1.last().unwrap() - 1,
        sent.get()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A message whose first frame is large (queued by reference) and whose second
/// frame is small.
fn large_then_small(seq: u64) -> Message {
    Message::from(vec![
        Bytes::from(body(seq, 64 * 1024)),
        Bytes::copy_from_slice(&seq.to_le_bytes()),
    ])
}

/// Reads one whole message (frames until one without MORE) from a raw connection.
fn read_raw_message(s: &mut TcpStream) -> std::io::Result<Vec<Vec<u8>>> {
    let mut frames = Vec::new();
    loop {
        let (flags, body) = read_frame(s)?;
        assert_eq!(flags & 0x04, 0, "no commands expected");
        frames.push(body);
        if flags & 0x01 == 0 {
            return Ok(frames);
        }
    }
}

/// A write batch bigger than one vectored write (over 512 segments) is cut in
/// the middle of a multipart message. When the connection dies during the first
/// part, the rest must not be sent to the next connection: the new peer would get
/// the tail frames of a message as a message of their own.
#[compio::test]
async fn connection_lost_mid_batch_never_tears_a_multipart_message() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reset = Arc::new(AtomicBool::new(false));
    let server = {
        let reset = reset.clone();
        std::thread::spawn(move || {
            // Connection 1: handshake, read nothing, then reset while the PUSH is
            // still writing its first batch.
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(&handshake("PULL")).unwrap();
            read_handshake(&mut s).unwrap();
            let deadline = Instant::now() + LIMIT;
            while !reset.load(Ordering::SeqCst) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            close_with_rst(s);
            // Connection 2: the reconnection. Read a few messages.
            listener.set_nonblocking(false).unwrap();
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            s.write_all(&handshake("PULL")).unwrap();
            read_handshake(&mut s).unwrap();
            (0..5)
                .map(|_| read_raw_message(&mut s).unwrap())
                .collect::<Vec<_>>()
        })
    };
    let push = PushSocket::new();
    push.set_sndhwm(None).unwrap();
    push.connect(&format!("tcp://127.0.0.1:{port}"))
        .await
        .unwrap();
    wait_until("connected", || push.peer_count() == 1).await;
    // 400 messages of two frames: ~26 MiB, far more than the kernel buffers hold,
    // and 800 segments, more than one vectored write takes.
    for seq in 0..400 {
        push.send(large_then_small(seq)).await.unwrap();
    }
    compio::time::sleep(Duration::from_millis(300)).await;
    reset.store(true, Ordering::SeqCst);
    // Whatever was in flight is lost with the connection; keep sending so that the
    // next connection has messages to carry.
    let mut seq = 400;
    let deadline = Instant::now() + LIMIT;
    while !server.is_finished() {
        assert!(
            Instant::now() < deadline,
            "the raw server did not get 5 messages"
        );
        push.send(large_then_small(seq)).await.unwrap();
        seq += 1;
        compio::time::sleep(Duration::from_millis(10)).await;
    }
    let got = join_within(LIMIT, "raw server", server).await;
    let mut last = None;
    for m in &got {
        assert_eq!(
            m.len(),
            2,
            "a torn message reached the new connection: {:?}",
            { m.iter().map(|f| f.len()).collect::<Vec<_>>() }
        );
        let seq = check_body(&m[0]).unwrap();
        assert_eq!(m[1], seq.to_le_bytes());
        assert!(last < Some(seq), "duplicate or out of order");
        last = Some(seq);
    }
}

/// A raw peer that completes the handshake and then resets the connection (SO_LINGER
/// 0): the bound socket drops it and keeps serving its other peer.
#[compio::test]
async fn bound_socket_survives_peers_that_reset_after_the_handshake() {
    let pull = PullSocket::new();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep.to_string()).await.unwrap();
    wait_until("good peer connected", || pull.peer_count() == 1).await;
    let a = addr(&ep);
    let raws = std::thread::spawn(move || {
        for i in 0..20 {
            let mut s = TcpStream::connect(a).unwrap();
            s.write_all(&handshake("PUSH")).unwrap();
            read_handshake(&mut s).unwrap();
            if i % 2 == 0 {
                // Half a message, then the reset.
                s.write_all(&[0x01, 5, b'h', b'a']).unwrap();
            }
            close_with_rst(s);
        }
    });
    let mut seq = 0u64;
    while !raws.is_finished() {
        push.send(body(seq, 10)).await.unwrap();
        let m = within("recv", pull.recv()).await.unwrap();
        assert_eq!(check_body(&m[0]).unwrap(), seq);
        seq += 1;
    }
    raws.join().unwrap();
    wait_until("only the good peer is left", || pull.peer_count() == 1).await;
    push.send(body(seq, 10)).await.unwrap();
    let m = within("recv after the resets", pull.recv()).await.unwrap();
    assert_eq!(check_body(&m[0]).unwrap(), seq);
    // Nothing from the raw peers was delivered.
    assert!(
        timeout(Duration::from_millis(100), pull.recv())
            .await
            .is_err()
    );
}

/// The connecting side: its peer resets right after the handshake; the socket
/// reconnects and the next connection gets whole messages.
#[compio::test]
async fn connecting_socket_reconnects_after_a_reset() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for _ in 0..3 {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(&handshake("PULL")).unwrap();
            read_handshake(&mut s).unwrap();
            close_with_rst(s);
        }
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        s.write_all(&handshake("PULL")).unwrap();
        read_handshake(&mut s).unwrap();
        (0..10)
            .map(|_| read_raw_message(&mut s).unwrap())
            .collect::<Vec<_>>()
    });
    let push = PushSocket::new();
    push.set_sndtimeo(Some(Duration::from_millis(20)));
    push.connect(&format!("tcp://127.0.0.1:{port}"))
        .await
        .unwrap();
    let mut seq = 0u64;
    let deadline = Instant::now() + LIMIT;
    while !server.is_finished() {
        assert!(Instant::now() < deadline, "no 4th connection served");
        match push.send(two_part(seq, 100)).await {
            Ok(()) => seq += 1,
            Err(Error::Timeout(_)) => {}
            Err(e) => panic!("send: {e}"),
        }
        compio::time::sleep(Duration::from_millis(1)).await;
    }
    let got = server.join().unwrap();
    let mut last = None;
    for frames in got {
        let m = Message::from(frames);
        let s = check_two_part(&m).unwrap();
        assert!(last < Some(s), "duplicate or out of order");
        last = Some(s);
    }
}

/// Binding a TCP port that is in use fails with `Error::Bind`, naming the endpoint
/// and the OS reason. (For ipc, libzmq and zeroring replace the socket file.)
#[compio::test]
async fn bind_to_a_port_in_use_is_a_bind_error() {
    let first = PullSocket::new();
    let ep = first.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let second = PullSocket::new();
    match second.bind(&ep).await {
        Err(Error::Bind { endpoint, source }) => {
            assert_eq!(endpoint, ep);
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
            let text = Error::Bind { endpoint, source }.to_string();
            assert!(text.contains(&ep) && text.contains("in use"), "{text}");
        }
        other => panic!("expected Error::Bind, got {other:?}"),
    }
    // Also when the port belongs to something else entirely.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held = format!("tcp://{}", holder.local_addr().unwrap());
    assert!(matches!(second.bind(&held).await, Err(Error::Bind { .. })));
    // The failed binds did not break the socket.
    let ok = second.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::new();
    push.connect(&ok.to_string()).await.unwrap();
    push.send("after").await.unwrap();
    assert_eq!(within("recv", second.recv()).await.unwrap()[0], "after");
}

// ---------------------------------------------------------------------------
// 4. LINGER

/// A PULL on its own thread that waits for `start` before reading, then reads until
/// nothing arrives for `idle`; returns the sequence numbers, checking every body.
fn lazy_receiver(
    start: Arc<AtomicBool>,
    idle: Duration,
    rcvhwm: usize,
) -> (String, std::thread::JoinHandle<Vec<u64>>) {
    let (tx, rx) = mpsc::channel::<String>();
    let handle = on_thread("lazy-pull", move || async move {
        let pull = PullSocket::new();
        pull.set_rcvhwm(Some(rcvhwm)).unwrap();
        let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
        tx.send(ep.to_string()).unwrap();
        wait_until_for(LIMIT + LIMIT, "told to read", || {
            start.load(Ordering::SeqCst)
        })
        .await;
        let mut got = Vec::new();
        while let Ok(m) = timeout(idle, pull.recv()).await {
            let m = m.unwrap();
            got.push(check_body(&m[0]).unwrap_or_else(|e| panic!("torn: {e}")));
        }
        got
    });
    (rx.recv_timeout(LIMIT).unwrap(), handle)
}

/// LINGER 1 s: close() waits while a receiver that starts reading 200 ms later
/// takes everything that was queued.
#[compio::test]
async fn close_with_linger_delivers_to_a_slow_receiver() {
    const N: u64 = 20_000;
    let start = Arc::new(AtomicBool::new(false));
    let (ep, receiver) = lazy_receiver(start.clone(), Duration::from_secs(1), 1000);
    let push = PushSocket::new();
    push.set_linger(Some(Duration::from_secs(1)));
    push.set_sndhwm(None).unwrap();
    push.connect(&ep).await.unwrap();
    // Closing a connect() slot that never connected drops its queue, so wait.
    wait_until("connected", || push.peer_count() == 1).await;
    for seq in 0..N {
        push.send(body(seq, 100)).await.unwrap();
    }
    let reader_start = {
        let start = start.clone();
        compio::runtime::spawn(async move {
            compio::time::sleep(Duration::from_millis(200)).await;
            start.store(true, Ordering::SeqCst);
        })
    };
    within("close with LINGER 1 s", push.close()).await;
    reader_start.await.unwrap();
    let got = join_within(LIMIT + LIMIT, "receiver", receiver).await;
    assert_eq!(got.len() as u64, N, "messages lost within LINGER");
    assert!(got.iter().copied().eq(0..N), "out of order");
}

/// LINGER 0: close() returns promptly with a large backlog, and the peer gets an
/// in-order prefix of whole messages (whatever was already written), never a torn one.
#[compio::test]
async fn close_with_linger_zero_is_prompt_and_delivers_a_prefix() {
    const N: u64 = 50_000;
    let start = Arc::new(AtomicBool::new(false));
    let (ep, receiver) = lazy_receiver(start.clone(), Duration::from_millis(500), 1000);
    let push = PushSocket::new();
    push.set_linger(Some(Duration::ZERO));
    push.set_sndhwm(None).unwrap();
    push.connect(&ep).await.unwrap();
    wait_until("connected", || push.peer_count() == 1).await;
    for seq in 0..N {
        push.send(body(seq, 1000)).await.unwrap();
    }
    // Let part of the backlog reach the kernel and the peer before closing.
    compio::time::sleep(Duration::from_millis(50)).await;
    within("close with LINGER 0", push.close()).await;
    start.store(true, Ordering::SeqCst);
    let got = join_within(LIMIT + LIMIT, "receiver", receiver).await;
    assert!(got.len() as u64 <= N);
    assert!(got.iter().copied().eq(0..got.len() as u64), "not a prefix");
    eprintln!("LINGER 0: the peer got {} of {N}", got.len());
}

/// LINGER 100 ms with a receiver that never reads a large backlog: close() returns.
#[compio::test]
async fn close_with_short_linger_and_a_stuck_receiver_returns() {
    let start = Arc::new(AtomicBool::new(false));
    let (ep, receiver) = lazy_receiver(start.clone(), Duration::from_millis(100), 1);
    let push = PushSocket::new();
    push.set_linger(Some(Duration::from_millis(100)));
    push.set_sndhwm(None).unwrap();
    push.connect(&ep).await.unwrap();
    wait_until("connected", || push.peer_count() == 1).await;
    for seq in 0..50_000 {
        push.send(body(seq, 1000)).await.unwrap();
    }
    within("close with LINGER 100 ms", push.close()).await;
    start.store(true, Ordering::SeqCst);
    let got = join_within(LIMIT + LIMIT, "receiver", receiver).await;
    assert!(got.iter().copied().eq(0..got.len() as u64), "not a prefix");
}

// ---------------------------------------------------------------------------
// 5. Hostile connection patterns

/// A peer that sends its greeting one byte per second is cut by HANDSHAKE_IVL
/// (500 ms) long before it finishes, and the socket's good peer is unaffected.
#[compio::test]
async fn slowloris_is_cut_by_handshake_ivl() {
    let pull = PullSocket::new();
    pull.set_handshake_ivl(Some(Duration::from_millis(500)))
        .unwrap();
    let monitor = pull.monitor();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep.to_string()).await.unwrap();
    push.send(body(0, 1)).await.unwrap();
    assert_eq!(
        check_body(&within("recv", pull.recv()).await.unwrap()[0]).unwrap(),
        0
    );
    let a = addr(&ep);
    let slow = std::thread::spawn(move || {
        let mut s = TcpStream::connect(a).unwrap();
        let bytes = handshake("PUSH");
        for (i, b) in bytes.iter().take(10).enumerate() {
            if !still_open_after(&mut s, &[*b], Duration::from_secs(1)) {
                return Some(i + 1);
            }
        }
        None
    });
    let mut seq = 1;
    while !slow.is_finished() {
        push.send(body(seq, 1)).await.unwrap();
        let m = within("recv during the slowloris", pull.recv())
            .await
            .unwrap();
        assert_eq!(check_body(&m[0]).unwrap(), seq);
        seq += 1;
        compio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = slow.join().unwrap();
    let sent = sent.expect("a peer trickling one byte per second was never cut");
    assert!(sent < 64, "cut only after {sent} bytes");
    let reason = within("HandshakeFailed event", async {
        loop {
            if let zeroring::SocketEvent::HandshakeFailed { reason, .. } = monitor.recv().await {
                return reason;
            }
        }
    })
    .await;
    assert_eq!(
        reason,
        zeroring::DisconnectReason::Session(zeroring::CloseReason::HandshakeTimeout)
    );
    assert!(reason.to_string().contains("HANDSHAKE_IVL"), "{reason}");
    eprintln!("slowloris cut after {sent} byte(s): {reason}");
    assert_eq!(pull.peer_count(), 1);
}

/// 1000 connections opened at once (half complete the handshake, half send
/// nothing) while a good PUSH keeps delivering. Memory stays bounded, and when they
/// close, only the good peer is left.
#[compio::test]
async fn a_thousand_connections_at_once() {
    const CONNS: usize = 1000;
    const THREADS: usize = 4;
    let pull = Rc::new(PullSocket::new());
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
    let push = Rc::new(PushSocket::new());
    push.connect(&ep.to_string()).await.unwrap();
    let stop = Rc::new(Cell::new(false));
    let delivered = Rc::new(Cell::new(0u64));
    let sender = {
        let (push, stop) = (push.clone(), stop.clone());
        compio::runtime::spawn(async move {
            let mut seq = 0u64;
            while !stop.get() {
                push.send(body(seq, 32)).await.unwrap();
                seq += 1;
                compio::time::sleep(Duration::from_micros(200)).await;
            }
        })
    };
    let receiver = {
        let (pull, delivered) = (pull.clone(), delivered.clone());
        compio::runtime::spawn(async move {
            loop {
                let m = pull.recv().await.unwrap();
                assert_eq!(check_body(&m[0]).unwrap(), delivered.get(), "good peer");
                delivered.set(delivered.get() + 1);
            }
        })
    };
    wait_until("good peer delivering", || delivered.get() > 100).await;
    let rss_before = rss_kib();

    let a = addr(&ep);
    let release = Arc::new(AtomicBool::new(false));
    let opened: Vec<_> = (0..THREADS)
        .map(|t| {
            let release = release.clone();
            std::thread::spawn(move || {
                let mut conns = Vec::new();
                for i in 0..CONNS / THREADS {
                    let mut s = TcpStream::connect(a).unwrap();
                    if (t + i) % 2 == 0 {
                        s.write_all(&handshake("PUSH")).unwrap();
                    }
                    conns.push(s);
                }
                // The handshaking half reads zeroring's greeting and READY.
                for (i, s) in conns.iter_mut().enumerate() {
                    if (t + i) % 2 == 0 {
                        s.set_read_timeout(Some(LIMIT)).unwrap();
                        read_handshake(s).unwrap();
                    }
                }
                let deadline = Instant::now() + Duration::from_secs(60);
                while !release.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
                drop(conns);
            })
        })
        .collect();
    let before = delivered.get();
    wait_until_for(
        Duration::from_secs(30),
        "every handshaking connection is a peer",
        || pull.peer_count() == 1 + CONNS / 2,
    )
    .await;
    let d = delivered.get();
    wait_until("good peer still delivering", || delivered.get() > d + 100).await;
    let rss_during = rss_kib();
    let grown_mib = rss_during.saturating_sub(rss_before) / 1024;
    eprintln!(
        "RSS {} MiB -> {} MiB with {CONNS} connections (+{grown_mib} MiB); good peer delivered {} meanwhile",
        rss_before / 1024,
        rss_during / 1024,
        delivered.get() - before
    );
    assert!(grown_mib < 200, "RSS grew by {grown_mib} MiB");

    release.store(true, Ordering::SeqCst);
    for t in opened {
        join_within(LIMIT, "raw connections closed", t).await;
    }
    wait_until("only the good peer is left", || pull.peer_count() == 1).await;
    let d = delivered.get();
    wait_until("good peer delivering after", || delivered.get() > d + 100).await;
    stop.set(true);
    within("sender stops", sender).await.unwrap();
    drop(receiver);
    let rss_after = rss_kib();
    eprintln!("RSS after they closed: {} MiB", rss_after / 1024);
}
