//! Helpers for the facade's integration tests: bounded waits, self-validating
//! message bodies, peers on their own thread and runtime, a child-process peer, raw
//! TCP peers, and memory readings.
#![allow(dead_code)]

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zeroring::{Endpoint, Message};

/// Upper bound for anything that should happen "soon" (the machine is shared and
/// tests run in parallel, so it is generous).
pub const LIMIT: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than `limit`.
pub async fn within_for<F: Future>(limit: Duration, what: &str, fut: F) -> F::Output {
    match compio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// Awaits `fut`, failing the test if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    within_for(LIMIT, what, fut).await
}

/// Polls `cond` every few milliseconds until it holds, failing after `limit`.
pub async fn wait_until_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "condition not reached within {limit:?}: {what}"
        );
        compio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls `cond` until it holds, failing after [`LIMIT`].
pub async fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    wait_until_for(LIMIT, what, cond).await
}

/// A free loopback port: bound on `:0` and released at once.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The socket address of a resolved tcp endpoint.
pub fn addr(ep: &Endpoint) -> SocketAddr {
    ep.to_string()
        .strip_prefix("tcp://")
        .expect("a tcp endpoint")
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------------------
// Self-validating bodies: sequence number, length, payload derived from both, and
// a checksum, so a torn, truncated or spliced body is detected on its own.

/// FNV-1a over `bytes`.
pub fn fnv(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// A body of `8 + 4 + payload + 4` bytes: seq (LE), payload length (LE), payload
/// (bytes derived from seq), FNV of everything before.
pub fn body(seq: u64, payload: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload + 16);
    v.extend_from_slice(&seq.to_le_bytes());
    v.extend_from_slice(&(payload as u32).to_le_bytes());
    let start = (seq as u8).wrapping_mul(31);
    v.extend((0..payload).map(|i| start.wrapping_add(i as u8)));
    let sum = fnv(&v);
    v.extend_from_slice(&sum.to_le_bytes());
    v
}

/// Checks a body made by [`body`] and returns its sequence number.
pub fn check_body(b: &[u8]) -> Result<u64, String> {
    if b.len() < 16 {
        return Err(format!("body of {} bytes is too short", b.len()));
    }
    let seq = u64::from_le_bytes(b[..8].try_into().unwrap());
    let len = u32::from_le_bytes(b[8..12].try_into().unwrap()) as usize;
    if b.len() != len + 16 {
        return Err(format!(
            "seq {seq}: body of {} bytes, its header says {}",
            b.len(),
            len + 16
        ));
    }
    let (data, sum) = b.split_at(b.len() - 4);
    if fnv(data) != u32::from_le_bytes(sum.try_into().unwrap()) {
        return Err(format!("seq {seq}: checksum mismatch"));
    }
    Ok(seq)
}

/// A two-frame message: a small header frame naming the sequence number and the
/// second frame's length and checksum, then the body (`payload` bytes). Large
/// payloads take the writer's by-reference path.
pub fn two_part(seq: u64, payload: usize) -> Message {
    let data = body(seq, payload);
    let mut head = Vec::with_capacity(16);
    head.extend_from_slice(&seq.to_le_bytes());
    head.extend_from_slice(&(data.len() as u32).to_le_bytes());
    head.extend_from_slice(&fnv(&data).to_le_bytes());
    Message::from(vec![bytes::Bytes::from(head), bytes::Bytes::from(data)])
}

/// Checks a message made by [`two_part`] and returns its sequence number.
pub fn check_two_part(m: &Message) -> Result<u64, String> {
    if m.len() != 2 {
        return Err(format!("{} frames instead of 2", m.len()));
    }
    let head = &m[0];
    if head.len() != 16 {
        return Err(format!("header frame of {} bytes", head.len()));
    }
    let seq = u64::from_le_bytes(head[..8].try_into().unwrap());
    let len = u32::from_le_bytes(head[8..12].try_into().unwrap()) as usize;
    let sum = u32::from_le_bytes(head[12..16].try_into().unwrap());
    if m[1].len() != len || fnv(&m[1]) != sum {
        return Err(format!("seq {seq}: body does not match its header"));
    }
    let body_seq = check_body(&m[1])?;
    if body_seq != seq {
        return Err(format!("header seq {seq}, body seq {body_seq}"));
    }
    Ok(seq)
}

// ---------------------------------------------------------------------------
// Peers on their own thread and compio runtime ("like another process").

/// Runs `f` on a new thread inside its own compio runtime.
pub fn on_thread<T, F, Fut>(name: &str, f: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
{
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            compio::runtime::Runtime::new()
                .expect("compio runtime")
                .block_on(f())
        })
        .unwrap()
}

/// Waits (without blocking the runtime) for a thread to finish, up to `limit`, and
/// returns its result; a panic in the thread fails the test with its message.
pub async fn join_within<T>(limit: Duration, what: &str, handle: JoinHandle<T>) -> T {
    wait_until_for(limit, what, || handle.is_finished()).await;
    match handle.join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

// ---------------------------------------------------------------------------
// Raw TCP peers.

/// A NULL greeting as a ZMTP 3.1 client.
pub fn null_greeting() -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xFF;
    g[9] = 0x7F;
    g[10] = 3;
    g[11] = 1;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// A READY command with `Socket-Type: socket_type`.
pub fn ready(socket_type: &str) -> Vec<u8> {
    let mut body = vec![5u8];
    body.extend_from_slice(b"READY");
    body.push(11);
    body.extend_from_slice(b"Socket-Type");
    body.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    body.extend_from_slice(socket_type.as_bytes());
    let mut v = vec![0x04, body.len() as u8];
    v.extend_from_slice(&body);
    v
}

/// Greeting and READY of a raw peer.
pub fn handshake(socket_type: &str) -> Vec<u8> {
    let mut v = null_greeting();
    v.extend_from_slice(&ready(socket_type));
    v
}

/// Reads the zeroring side's greeting and READY.
pub fn read_handshake(s: &mut TcpStream) -> std::io::Result<()> {
    let mut greeting = [0u8; 64];
    s.read_exact(&mut greeting)?;
    assert_eq!(greeting[0], 0xFF, "greeting signature");
    let mut hdr = [0u8; 2];
    s.read_exact(&mut hdr)?;
    assert_eq!(hdr[0], 0x04, "READY is a short command");
    let mut body = vec![0u8; usize::from(hdr[1])];
    s.read_exact(&mut body)?;
    assert!(body.starts_with(b"\x05READY"), "READY, not {body:02x?}");
    Ok(())
}

/// Reads one data frame (flags, body) from a raw connection.
pub fn read_frame(s: &mut TcpStream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut flags = [0u8; 1];
    s.read_exact(&mut flags)?;
    let len = if flags[0] & 0x02 != 0 {
        let mut l = [0u8; 8];
        s.read_exact(&mut l)?;
        u64::from_be_bytes(l) as usize
    } else {
        let mut l = [0u8; 1];
        s.read_exact(&mut l)?;
        usize::from(l[0])
    };
    let mut body = vec![0u8; len];
    s.read_exact(&mut body)?;
    Ok((flags[0], body))
}

/// Closes a TCP connection with a reset (SO_LINGER 0) instead of a FIN.
pub fn close_with_rst(s: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid fd and a correctly sized option value.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "setsockopt(SO_LINGER)");
    drop(s);
}

/// Writes `bytes` and reports whether the connection is still open: a write error,
/// or end-of-file / reset on a read that waits up to `wait`, means closed.
pub fn still_open_after(s: &mut TcpStream, bytes: &[u8], wait: Duration) -> bool {
    if s.write_all(bytes).is_err() {
        return false;
    }
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 4096];
    match s.read(&mut buf) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            true
        }
        Err(_) => false,
    }
}

// ---------------------------------------------------------------------------
// Process-level readings.

/// Resident set size of this process in KiB (`VmRSS` in /proc/self/status).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}
