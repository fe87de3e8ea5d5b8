//! What a remote peer can make a socket hold stays bounded in bytes, whatever it
//! sends and however little it reads.
//!
//! A counting global allocator tracks the live heap bytes of the whole process and
//! their peak. The hostile side is a blocking raw TCP peer on its own thread that
//! writes from buffers built beforehand, so it allocates nothing while it floods;
//! it shrinks its receive buffer and never reads, so whatever zeroring sends it
//! backs up in zeroring's memory unless zeroring bounds it. Every case fails on a
//! build without the bound (the figures in each assertion say by how much).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use socket2::SockRef;
use zeroring_sockets::{Error, PullSocket, PushSocket, XpubSocket};

use common::*;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// Every byte ever requested (allocations, and what reallocations added).
static REQUESTED: AtomicIsize = AtomicIsize::new(0);

fn grew(by: isize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
    if by > 0 {
        REQUESTED.fetch_add(by, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live heap bytes now.
fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Starts a new peak measurement from the current live bytes.
fn reset_peak() -> isize {
    let now = live();
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn peak() -> isize {
    PEAK.load(Ordering::Relaxed)
}

fn requested() -> isize {
    REQUESTED.load(Ordering::Relaxed)
}

const MIB: isize = 1 << 20;

/// The tests share the allocator's counters: one at a time, even under `cargo test`.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs a test body on a runtime of its own while holding [`SERIAL`].
fn serially(body: impl std::future::Future<Output = ()>) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    compio::runtime::Runtime::new().unwrap().block_on(body);
}

/// A raw peer past its handshake as `socket_type`, with a receive buffer shrunk to
/// the minimum so that what zeroring sends backs up on zeroring's side. The
/// handshake runs on a thread: the runtime must stay free to answer it.
async fn raw_connect(addr: SocketAddr, socket_type: &'static str) -> TcpStream {
    join(std::thread::spawn(move || raw_handshake(addr, socket_type))).await
}

fn raw_handshake(addr: SocketAddr, socket_type: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    SockRef::from(&s).set_recv_buffer_size(4096).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let mut s2 = s.try_clone().unwrap();
    s2.write_all(&handshake(socket_type)).unwrap();
    // Read zeroring's greeting and READY so the handshake is complete.
    let mut greeting = [0u8; 64];
    s2.read_exact(&mut greeting).unwrap();
    let mut hdr = [0u8; 2];
    s2.read_exact(&mut hdr).unwrap();
    let mut body = vec![0u8; usize::from(hdr[1])];
    s2.read_exact(&mut body).unwrap();
    assert!(body.starts_with(b"\x05READY"));
    s
}

/// Writes `chunk` `times` times from a thread, then `tail` (if the connection is
/// still open). Returns whether zeroring closed the connection on the way.
fn flood(
    mut s: TcpStream,
    chunk: Vec<u8>,
    times: usize,
    tail: Vec<u8>,
) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        for _ in 0..times {
            if s.write_all(&chunk).is_err() {
                return true;
            }
        }
        if s.write_all(&tail).is_err() {
            return true;
        }
        // Wait for zeroring's verdict: end-of-file or reset means it closed.
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false;
                }
                Err(_) => return true,
            }
        }
    })
}

fn ping(context: &[u8]) -> Vec<u8> {
    let mut data = vec![0, 0]; // TTL 0
    data.extend_from_slice(context);
    command("PING", &data)
}

/// A PULL with a well-behaved PUSH that checks the socket still works.
async fn pull_with_good_peer(configure: impl FnOnce(&PullSocket)) -> (PullSocket, PushSocket) {
    let pull = PullSocket::new();
    configure(&pull);
    let ep = pull.bind(ANY).await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep.to_string()).await.unwrap();
    within("good peer", push.send("hello")).await.unwrap();
    assert_eq!(
        &within("good peer", pull.recv()).await.unwrap()[0][..],
        b"hello"
    );
    (pull, push)
}

/// [`pull_with_good_peer`] plus a raw PUSH peer past its handshake (see
/// [`raw_connect`]), attached to the same PULL.
async fn pull_with_raw_push(
    configure: impl FnOnce(&PullSocket),
) -> (PullSocket, PushSocket, TcpStream) {
    let (pull, push) = pull_with_good_peer(configure).await;
    let raw = attach_raw_push(&pull).await;
    (pull, push, raw)
}

/// Binds `pull` once more and attaches a raw PUSH peer to it.
async fn attach_raw_push(pull: &PullSocket) -> TcpStream {
    let addr = addr(&pull.bind(ANY).await.unwrap());
    let raw = raw_connect(addr, "PUSH").await;
    wait_until("raw peer attached", || pull.peer_count() == 2).await;
    raw
}

async fn good_peer_still_served(pull: &PullSocket, push: &PushSocket) {
    within("good peer after", push.send("still here"))
        .await
        .unwrap();
    loop {
        let m = within("good peer after", pull.recv()).await.unwrap();
        if &m[0][..] == b"still here" {
            return;
        }
    }
}

/// libzmq keeps at most one pending PONG; before this bound, every PING from a
/// peer that never reads appended a PONG to the write buffer (23 bytes each:
/// about 23 MB for the million PINGs below).
#[test]
fn ping_flood_from_a_peer_that_never_reads_keeps_memory_flat() {
    serially(ping_flood_from_a_peer_that_never_reads_keeps_memory_flat_body());
}

async fn ping_flood_from_a_peer_that_never_reads_keeps_memory_flat_body() {
    let watch = panic_watch();
    let (pull, push, raw) = pull_with_raw_push(|_| {}).await;
    let chunk: Vec<u8> = (0..1000).flat_map(|_| ping(&[7u8; 16])).collect();
    // Warm up: buffers reach their working size.
    let warm = flood(raw.try_clone().unwrap(), chunk.clone(), 20, Vec::new());
    pause(300).await;
    let before = reset_peak();
    let flooder = flood(raw, chunk, 1000, data_frame(b"end of pings", false));
    loop {
        let m = within("the message after the PINGs", pull.recv())
            .await
            .unwrap();
        if &m[0][..] == b"end of pings" {
            break;
        }
    }
    let grown = peak() - before;
    eprintln!("peak heap growth: {grown} bytes");
    assert!(
        grown < 2 * MIB,
        "a million unread PONGs grew the heap by {grown} bytes (bound: 2 MiB)"
    );
    good_peer_still_served(&pull, &push).await;
    drop(pull);
    let _ = join(flooder).await;
    let _ = join(warm).await;
    watch.assert_none();
}

/// Empty frames with MORE set and no last frame: refused after the default frame
/// limit (65,536) instead of growing 34 bytes per 2-byte frame without end.
#[test]
fn endless_multipart_is_refused_at_the_default_frame_limit() {
    serially(endless_multipart_is_refused_at_the_default_frame_limit_body());
}

async fn endless_multipart_is_refused_at_the_default_frame_limit_body() {
    let watch = panic_watch();
    let (pull, push, raw) = pull_with_raw_push(|_| {}).await;
    let before = reset_peak();
    // 500,000 frames: 1 MB on the wire, 17 MB of frame handles if nothing stops it.
    let chunk: Vec<u8> = [1u8, 0].repeat(10_000);
    let flooder = flood(raw, chunk, 50, Vec::new());
    let closed = join(flooder).await;
    let grown = peak() - before;
    eprintln!("peak heap growth: {grown} bytes");
    assert!(
        closed,
        "the endless message did not get its connection closed"
    );
    assert!(
        grown < 6 * MIB,
        "an endless multipart message grew the heap by {grown} bytes (bound: 6 MiB)"
    );
    wait_until("raw peer detached", || pull.peer_count() == 1).await;
    good_peer_still_served(&pull, &push).await;
    watch.assert_none();
}

/// With MAXMSGSIZE set, every frame after the first counts 32 bytes toward it, so
/// empty frames are limited by it too (here with the frame limit off).
#[test]
fn empty_frames_count_toward_maxmsgsize() {
    serially(empty_frames_count_toward_maxmsgsize_body());
}

async fn empty_frames_count_toward_maxmsgsize_body() {
    let watch = panic_watch();
    let (pull, push) = pull_with_good_peer(|p| {
        p.set_maxmsgsize(Some(256 * 1024));
        p.set_max_msg_frames(None).unwrap();
    })
    .await;
    // A message of many small frames under the limit still goes through.
    let frames: Vec<&str> = vec!["f"; 1000];
    within("many frames", push.send(frames)).await.unwrap();
    assert_eq!(
        within("many frames", pull.recv()).await.unwrap().len(),
        1000
    );
    let raw = attach_raw_push(&pull).await;
    let before = reset_peak();
    let chunk: Vec<u8> = [1u8, 0].repeat(10_000);
    let closed = join(flood(raw, chunk, 50, Vec::new())).await;
    let grown = peak() - before;
    eprintln!("peak heap growth: {grown} bytes");
    assert!(
        closed,
        "empty frames past MAXMSGSIZE did not close the connection"
    );
    assert!(grown < MIB, "the heap grew by {grown} bytes (bound: 1 MiB)");
    good_peer_still_served(&pull, &push).await;
    watch.assert_none();
}

/// A subscriber that floods subscribe/cancel pairs to an XPUB whose application
/// does not read the reports: the reports wait under RCVHWM like messages, and
/// the subscriber's connection is paused, instead of a queue without limit
/// (about 100 MB for these 500,000 pairs before).
#[test]
fn subscription_reports_wait_under_rcvhwm() {
    serially(subscription_reports_wait_under_rcvhwm_body());
}

async fn subscription_reports_wait_under_rcvhwm_body() {
    let watch = panic_watch();
    let xpub = XpubSocket::new();
    xpub.set_xpub_verbose(true);
    let addr = addr(&xpub.bind(ANY).await.unwrap());
    let raw = raw_connect(addr, "SUB").await;
    wait_until("subscriber attached", || xpub.peer_count() == 1).await;
    let pair: Vec<u8> = [command("SUBSCRIBE", b"topic"), command("CANCEL", b"topic")].concat();
    let chunk: Vec<u8> = pair.repeat(1000);
    let before = reset_peak();
    let flooder = flood(raw, chunk, 500, Vec::new());
    // The flood stalls once 1000 reports wait; give it time to try.
    pause(1500).await;
    let grown = peak() - before;
    eprintln!("peak heap growth: {grown} bytes");
    assert!(
        grown < 4 * MIB,
        "unread subscription reports grew the heap by {grown} bytes (bound: 4 MiB)"
    );
    // Reading the reports lets the subscriber go on.
    xpub.set_rcvtimeo(Some(Duration::from_millis(500)));
    let mut reports = 0;
    loop {
        match within("reports", xpub.recv()).await {
            Ok(_) => reports += 1,
            Err(Error::Timeout(_)) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        reports > 1000,
        "only {reports} reports after reading resumed"
    );
    drop(xpub);
    let _ = join(flooder).await;
    watch.assert_none();
}

/// SNDHWM_BYTES bounds what a peer that never reads can make a sender hold when
/// messages are large: 64 KiB messages to a stalled PULL stop at the byte budget,
/// where SNDHWM alone (1000 messages) would queue 64 MB.
#[test]
fn byte_budget_bounds_what_a_stalled_peer_holds() {
    serially(byte_budget_bounds_what_a_stalled_peer_holds_body());
}

async fn byte_budget_bounds_what_a_stalled_peer_holds_body() {
    let watch = panic_watch();
    let push = PushSocket::new();
    push.set_sndhwm_bytes(Some(1 << 20)).unwrap();
    let ep = push.bind(ANY).await.unwrap();
    let raw = raw_connect(addr(&ep), "PULL").await;
    wait_until("stalled peer attached", || push.peer_count() == 1).await;
    let body = bytes::Bytes::from(vec![9u8; 64 * 1024]);
    let before = reset_peak();
    let mut sent = 0usize;
    loop {
        match within(
            "try_send",
            push.try_send(vec![body.clone(), body.slice(..100)]),
        )
        .await
        {
            Ok(()) => sent += 1,
            Err(Error::WouldBlock(_)) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(sent < 1000, "the byte budget never stopped the sender");
    }
    // Kernel buffers take some; the rest must stop near the 1 MiB budget.
    assert!(
        sent < 200,
        "{sent} messages of 64 KiB queued to a peer that never reads"
    );
    let grown = peak() - before;
    eprintln!("peak heap growth: {grown} bytes");
    assert!(
        grown < 4 * MIB,
        "the heap grew by {grown} bytes (bound: 4 MiB)"
    );
    drop(raw);
    watch.assert_none();
}

/// A peer that sends small messages one at a time, to an application that does not
/// read them: each arrives in a read of its own, and a message sliced out of its
/// read buffer would keep the whole 64 KiB buffer alive (1000 messages of 10 bytes,
/// at RCVHWM, pinned about 64 MB). Messages that arrive in small reads while the
/// queue is not empty are copied out instead.
#[test]
fn a_trickle_of_small_messages_does_not_pin_read_buffers() {
    serially(a_trickle_of_small_messages_does_not_pin_read_buffers_body());
}

async fn a_trickle_of_small_messages_does_not_pin_read_buffers_body() {
    let watch = panic_watch();
    let (pull, push, mut raw) = pull_with_raw_push(|_| {}).await;
    let before = reset_peak();
    let one = data_frame(b"0123456789", false);
    let trickle = std::thread::spawn(move || {
        for _ in 0..1000 {
            raw.write_all(&one).unwrap();
            std::thread::sleep(Duration::from_micros(300));
        }
        raw
    });
    let raw = join(trickle).await;
    pause(200).await;
    let grown = peak() - before;
    eprintln!("peak heap growth: {grown} bytes");
    assert!(
        grown < 4 * MIB,
        "1000 unread 10-byte messages grew the heap by {grown} bytes (bound: 4 MiB)"
    );
    // They are all there, in order, after the good peer's.
    pull.set_rcvtimeo(Some(Duration::from_millis(300)));
    let mut got = 0;
    while let Ok(m) = pull.recv().await {
        if &m[0][..] == b"0123456789" {
            got += 1;
        }
    }
    assert_eq!(got, 1000);
    pull.set_rcvtimeo(None);
    good_peer_still_served(&pull, &push).await;
    drop(raw);
    watch.assert_none();
}

/// The header of a data frame of `size` bytes in the 8-byte (LONG) form.
fn long_header(size: u64) -> Vec<u8> {
    let mut h = vec![0x02];
    h.extend_from_slice(&size.to_be_bytes());
    h
}

/// One 1 MiB piece of a large frame's body: byte `i` is `i % 251`.
fn body_piece() -> Vec<u8> {
    (0..MIB as usize).map(|i| (i % 251) as u8).collect()
}

/// A 64 MiB message arriving 1 MiB at a time is received into one buffer that
/// grows in place with what arrived. Before, every 4 MiB the buffer was copied
/// into a new one 4 MiB larger and the old one kept as a spare: 2.9x the message
/// at the peak and 890 MiB requested from the allocator in all (and seconds of
/// copying at 256 MiB).
#[test]
fn a_large_message_is_received_into_one_buffer() {
    serially(a_large_message_is_received_into_one_buffer_body());
}

async fn a_large_message_is_received_into_one_buffer_body() {
    const SIZE: usize = 64 << 20;
    let watch = panic_watch();
    let (pull, push, mut raw) = pull_with_raw_push(|_| {}).await;
    let piece = body_piece();
    let before = reset_peak();
    let requested_before = requested();
    raw.write_all(&long_header(SIZE as u64)).unwrap();
    let sender = flood(raw, piece, SIZE >> 20, Vec::new());
    let m = within("the 64 MiB message", pull.recv()).await.unwrap();
    let grown = peak() - before;
    let asked = requested() - requested_before;
    eprintln!("peak heap growth: {grown} bytes, requested: {asked} bytes");
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].len(), SIZE);
    for i in (0..SIZE).step_by(4099) {
        assert_eq!(m[0][i], ((i % MIB as usize) % 251) as u8, "byte {i}");
    }
    let size = SIZE as isize;
    assert!(
        grown < size * 13 / 10,
        "receiving a 64 MiB message grew the heap by {grown} bytes (bound: 1.3x the message)"
    );
    assert!(
        asked < 2 * size,
        "receiving a 64 MiB message requested {asked} bytes from the allocator (bound: 2x the message)"
    );
    drop(m);
    good_peer_still_served(&pull, &push).await;
    drop(pull);
    let _ = join(sender).await;
    watch.assert_none();
}

/// A peer that announces a 4 GiB frame (MAXMSGSIZE is unlimited by default) and
/// sends 16 MiB of it makes the socket hold about what it sent, never the
/// announced size, and the socket keeps serving its other peers.
#[test]
fn an_announced_frame_size_is_not_reserved_up_front() {
    serially(an_announced_frame_size_is_not_reserved_up_front_body());
}

async fn an_announced_frame_size_is_not_reserved_up_front_body() {
    let watch = panic_watch();
    let (pull, push, mut raw) = pull_with_raw_push(|_| {}).await;
    let piece = body_piece();
    let before = reset_peak();
    raw.write_all(&long_header(4 << 30)).unwrap();
    // Returns after its writes and 2 s without a verdict (the frame is incomplete).
    let closed = join(flood(raw, piece, 16, Vec::new())).await;
    assert!(
        !closed,
        "an incomplete frame under MAXMSGSIZE is not an error"
    );
    pause(200).await;
    let grown = peak() - before;
    eprintln!("peak heap growth: {grown} bytes");
    assert!(
        grown < 40 * MIB,
        "16 MiB of an announced 4 GiB frame grew the heap by {grown} bytes (bound: 40 MiB)"
    );
    good_peer_still_served(&pull, &push).await;
    drop(pull);
    watch.assert_none();
}
