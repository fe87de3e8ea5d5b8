//! Helpers shared by the integration tests: the transports a case runs over,
//! bounded waits, message comparison, panic accounting for detached engine tasks,
//! and a blocking raw-TCP peer for the hostile-peer tests.
#![allow(dead_code)]

use std::cell::Cell;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zeroring_sockets::{Endpoint, Message};

/// Bind address for every test: an ephemeral port on loopback.
pub const ANY: &str = "tcp://127.0.0.1:0";

/// The transport a test case runs over. Spec cases run over both, as libzmq's
/// tests/test_spec_*.cpp do; see [`both_transports!`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Inproc,
}

impl Transport {
    /// An endpoint to bind: an ephemeral tcp port on loopback, or an inproc name
    /// no other bind in this process uses (native sockets share one namespace).
    pub fn any(self) -> String {
        match self {
            Transport::Tcp => ANY.to_string(),
            Transport::Inproc => inproc_name("spec"),
        }
    }

    /// An endpoint nobody binds: a tcp port that was free a moment ago, or a fresh
    /// inproc name.
    pub fn unbound(self) -> String {
        match self {
            Transport::Tcp => format!("tcp://127.0.0.1:{}", free_port()),
            Transport::Inproc => inproc_name("unbound"),
        }
    }
}

/// A unique `inproc://` name in this process, tagged for readable failures.
pub fn inproc_name(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("inproc://{tag}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Runs each `async fn case(t: Transport)` as two `#[compio::test]`s,
/// `case::tcp` and `case::inproc`, so both run in CI and a failure names its
/// transport.
#[allow(unused_macros)]
macro_rules! both_transports {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[compio::test]
                async fn tcp() {
                    super::$case(super::Transport::Tcp).await
                }

                #[compio::test]
                async fn inproc() {
                    super::$case(super::Transport::Inproc).await
                }
            }
        )+
    };
}
#[allow(unused_imports)]
pub(crate) use both_transports;

/// Upper bound for anything that should happen "soon". Generous: the machine is
/// shared and tests run in parallel.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match compio::time::timeout(LIMIT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {LIMIT:?}: {what}"),
    }
}

/// Polls `cond` every few milliseconds until it holds, failing after [`LIMIT`].
pub async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + LIMIT;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "condition not reached within {LIMIT:?}: {what}"
        );
        compio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sleeps without asserting anything (used only to give stray messages a chance to
/// show up before checking that none did).
pub async fn pause(ms: u64) {
    compio::time::sleep(Duration::from_millis(ms)).await;
}

/// The frames of a message as byte vectors, for readable assertions.
pub fn frames(m: &Message) -> Vec<Vec<u8>> {
    m.iter().map(|f| f.to_vec()).collect()
}

/// Asserts that `m` consists of exactly these frames.
#[track_caller]
pub fn assert_msg(m: &Message, expected: &[&[u8]]) {
    let want: Vec<Vec<u8>> = expected.iter().map(|f| f.to_vec()).collect();
    assert_eq!(
        frames(m),
        want,
        "message {:?} != expected {:?}",
        show(m),
        expected
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect::<Vec<_>>()
    );
}

/// A printable form of a message.
pub fn show(m: &Message) -> Vec<String> {
    m.iter()
        .map(|f| {
            if f.len() > 64 {
                format!("<{} bytes>", f.len())
            } else {
                String::from_utf8_lossy(f).into_owned()
            }
        })
        .collect()
}

/// The socket address of a resolved tcp endpoint.
pub fn addr(ep: &Endpoint) -> SocketAddr {
    ep.to_string()
        .strip_prefix("tcp://")
        .expect("tcp endpoint")
        .parse()
        .expect("resolved tcp endpoint")
}

/// A tcp port that was free a moment ago (for connect-before-bind).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A unique ipc endpoint path in the temp directory.
pub fn ipc_endpoint(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "zeroring-test-{}-{}-{}.sock",
        tag,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    format!("ipc://{}", path.display())
}

// ---------------------------------------------------------------------------
// Panic accounting. compio catches panics of spawned tasks and a detached task's
// panic would otherwise go unnoticed; the hook counts panics per thread.

thread_local! {
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

/// Starts counting panics on this thread (the test's runtime thread) and returns a
/// guard that asserts none happened. Every test starts with one.
pub fn panic_watch() -> PanicWatch {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            prev(info);
        }));
    });
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let name = std::thread::current()
        .name()
        .unwrap_or("unnamed test")
        .to_string();
    std::thread::spawn(move || {
        let deadline = Instant::now() + WATCHDOG;
        while Instant::now() < deadline {
            if flag.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{name}: still running after {WATCHDOG:?}; aborting the test process");
        std::process::abort();
    });
    PanicWatch {
        start: PANICS.with(Cell::get),
        done,
    }
}

/// A test that runs longer than this is hung: the watchdog aborts the process.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// See [`panic_watch`]. Also a watchdog: the test process is aborted if the guard
/// is still alive after [`WATCHDOG`], so a hung test fails instead of hanging.
pub struct PanicWatch {
    start: usize,
    done: Arc<AtomicBool>,
}

impl Drop for PanicWatch {
    fn drop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
    }
}

impl PanicWatch {
    /// Fails if anything panicked on this thread since the watch started.
    #[track_caller]
    pub fn assert_none(&self) {
        let now = PANICS.with(Cell::get);
        assert_eq!(
            now, self.start,
            "a task on the runtime thread panicked (see the output above)"
        );
    }
}

// ---------------------------------------------------------------------------
// Raw ZMTP bytes, built by hand.

/// A 64-byte ZMTP greeting with the given version and mechanism.
pub fn greeting(major: u8, minor: u8, mechanism: &str) -> Vec<u8> {
    let mut g = vec![0u8; 64];
    g[0] = 0xFF;
    g[8] = 0x01;
    g[9] = 0x7F;
    g[10] = major;
    g[11] = minor;
    g[12..12 + mechanism.len()].copy_from_slice(mechanism.as_bytes());
    g
}

/// The NULL-mechanism ZMTP 3.1 greeting.
pub fn null_greeting() -> Vec<u8> {
    greeting(3, 1, "NULL")
}

/// A frame header plus body. `flags` is the raw flags byte; the LONG bit is added
/// when the body needs it.
pub fn raw_frame(flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 9);
    if body.len() > 255 {
        out.push(flags | 0x02);
        out.extend_from_slice(&(body.len() as u64).to_be_bytes());
    } else {
        out.push(flags);
        out.push(body.len() as u8);
    }
    out.extend_from_slice(body);
    out
}

/// A data frame (MORE when `more`).
pub fn data_frame(body: &[u8], more: bool) -> Vec<u8> {
    raw_frame(u8::from(more), body)
}

/// A command frame: name length, name, data.
pub fn command(name: &str, data: &[u8]) -> Vec<u8> {
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(data);
    raw_frame(0x04, &body)
}

/// A READY command announcing `socket_type`.
pub fn ready(socket_type: &str) -> Vec<u8> {
    let mut data = Vec::new();
    data.push(11);
    data.extend_from_slice(b"Socket-Type");
    data.extend_from_slice(&(socket_type.len() as u32).to_be_bytes());
    data.extend_from_slice(socket_type.as_bytes());
    command("READY", &data)
}

/// A raw peer's complete NULL handshake as a `socket_type`.
pub fn handshake(socket_type: &str) -> Vec<u8> {
    let mut v = null_greeting();
    v.extend_from_slice(&ready(socket_type));
    v
}

// ---------------------------------------------------------------------------
// A blocking raw TCP peer on its own thread.

/// How a raw peer's connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The other side closed: read returned 0.
    Eof,
    /// The connection was reset or a write failed.
    Reset(String),
    /// Nothing happened within the read timeout: the connection is still open.
    StillOpen,
}

/// What a raw peer saw.
#[derive(Debug)]
pub struct RawOutcome {
    /// Every byte the zeroring side sent.
    pub received: Vec<u8>,
    pub ending: Ending,
}

impl RawOutcome {
    /// True when zeroring closed the connection.
    pub fn closed(&self) -> bool {
        matches!(self.ending, Ending::Eof | Ending::Reset(_))
    }
}

/// One step of a raw peer's script.
#[derive(Debug, Clone)]
pub enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Read the zeroring side's greeting and its first command (READY, or ERROR).
    ReadHandshake,
    /// Sleep.
    Sleep(Duration),
    /// Shut down our writing half (FIN) and keep reading.
    ShutdownWrite,
    /// Raise a flag the test waits for.
    Signal(Arc<AtomicBool>),
    /// Wait (up to [`LIMIT`]) until the test raises this flag.
    WaitFor(Arc<AtomicBool>),
}

/// Runs `script` against `addr` on a new thread, then reads until the zeroring side
/// closes the connection or `wait` passes without anything happening.
pub fn raw_peer(addr: SocketAddr, script: Vec<Step>, wait: Duration) -> JoinHandle<RawOutcome> {
    std::thread::spawn(move || run_raw(addr, script, wait))
}

fn run_raw(addr: SocketAddr, script: Vec<Step>, wait: Duration) -> RawOutcome {
    let mut received = Vec::new();
    let mut s = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(e) => {
            return RawOutcome {
                received,
                ending: Ending::Reset(format!("connect: {e}")),
            };
        }
    };
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(wait)).unwrap();
    for step in script {
        let r = match step {
            Step::Send(bytes) => s.write_all(&bytes),
            Step::ReadHandshake => read_handshake(&mut s, &mut received),
            Step::Sleep(d) => {
                std::thread::sleep(d);
                Ok(())
            }
            Step::ShutdownWrite => s.shutdown(Shutdown::Write),
            Step::Signal(flag) => {
                flag.store(true, Ordering::SeqCst);
                Ok(())
            }
            Step::WaitFor(flag) => {
                let deadline = Instant::now() + LIMIT;
                while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(())
            }
        };
        if let Err(e) = r {
            let ending = if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Ending::Eof
            } else if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                Ending::StillOpen
            } else {
                Ending::Reset(e.to_string())
            };
            return RawOutcome { received, ending };
        }
    }
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => {
                return RawOutcome {
                    received,
                    ending: Ending::Eof,
                };
            }
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return RawOutcome {
                    received,
                    ending: Ending::StillOpen,
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return RawOutcome {
                    received,
                    ending: Ending::Reset(e.to_string()),
                };
            }
        }
    }
}

fn read_handshake(s: &mut TcpStream, received: &mut Vec<u8>) -> std::io::Result<()> {
    let mut greeting = [0u8; 64];
    s.read_exact(&mut greeting)?;
    received.extend_from_slice(&greeting);
    assert_eq!(greeting[0], 0xFF, "zeroring greeting signature");
    let mut hdr = [0u8; 2];
    s.read_exact(&mut hdr)?;
    received.extend_from_slice(&hdr);
    assert_eq!(hdr[0], 0x04, "zeroring READY is a short command frame");
    let mut body = vec![0u8; usize::from(hdr[1])];
    s.read_exact(&mut body)?;
    // READY, or ERROR when zeroring refuses the peer's READY before sending its own.
    assert!(
        body.starts_with(b"\x05READY") || body.starts_with(b"\x05ERROR"),
        "zeroring sends READY or ERROR, not {body:02x?}"
    );
    received.extend_from_slice(&body);
    Ok(())
}

/// Waits (without blocking the runtime) for a thread to finish and returns its result.
pub async fn join<T>(handle: JoinHandle<T>) -> T {
    let deadline = Instant::now() + LIMIT + LIMIT;
    while !handle.is_finished() {
        assert!(Instant::now() < deadline, "raw peer thread did not finish");
        compio::time::sleep(Duration::from_millis(5)).await;
    }
    handle.join().expect("raw peer thread panicked")
}

// ---------------------------------------------------------------------------
// Fair queuing.

/// A message tag `s{sender}-{seq}-{attempt}`.
pub fn tag(sender: usize, seq: usize, attempt: usize) -> String {
    format!("s{sender}-{seq}-{attempt}")
}

/// Parses a [`tag`].
pub fn parse_tag(frame: &[u8]) -> (usize, usize, usize) {
    let s = std::str::from_utf8(frame).expect("utf-8 tag");
    let mut it = s
        .strip_prefix('s')
        .unwrap_or_else(|| panic!("not a tag: {s}"))
        .split('-')
        .map(|x| x.parse::<usize>().unwrap());
    (it.next().unwrap(), it.next().unwrap(), it.next().unwrap())
}

/// True when `order` (sender, seq) is what fair queuing over `senders` peers that
/// all had their messages queued yields: the first `senders` messages come from
/// distinct peers and that cycle repeats, each peer's messages in order.
pub fn is_fair(order: &[(usize, usize)], senders: usize) -> bool {
    let mut cycle: Vec<usize> = order.iter().take(senders).map(|o| o.0).collect();
    cycle.sort_unstable();
    cycle.dedup();
    if cycle.len() != senders {
        return false;
    }
    order
        .iter()
        .enumerate()
        .all(|(i, o)| o.0 == order[i % senders].0 && o.1 == i / senders)
}

/// Checks fair queuing: every sender queues `per_sender` messages (`send(sender,
/// seq, attempt)`), the test waits for them to arrive, then receives them all
/// (`recv()` returns the parsed tag) and expects [`is_fair`] order. How long
/// arrival takes is not observable, so the wait grows over a few attempts; an
/// unfair implementation fails every one of them.
pub async fn assert_fair_queue(
    senders: usize,
    per_sender: usize,
    mut send: impl AsyncFnMut(usize, usize, usize),
    mut recv: impl AsyncFnMut() -> (usize, usize, usize),
) {
    let mut seen = Vec::new();
    for (attempt, settle) in [50u64, 250, 1000, 3000].into_iter().enumerate() {
        // Each sender queues all of its messages before the next one starts, so
        // arrival order alone would not look fair.
        for s in 0..senders {
            for seq in 0..per_sender {
                send(s, seq, attempt).await;
            }
        }
        pause(settle).await;
        let mut order = Vec::new();
        for _ in 0..senders * per_sender {
            let (s, seq, a) = within("fair-queued message", recv()).await;
            assert_eq!(a, attempt, "a message of an earlier attempt showed up");
            order.push((s, seq));
        }
        if is_fair(&order, senders) {
            return;
        }
        seen.push(order);
    }
    panic!("receive order was never fair-queued: {seen:?}");
}

/// A message from frames of any byte-ish type (`String`s included).
pub fn msg<T: Into<bytes::Bytes>>(parts: impl IntoIterator<Item = T>) -> Message {
    parts.into_iter().collect()
}

// ---------------------------------------------------------------------------
// Log capture.

/// Everything a tracing subscriber wrote, for tests that check what zeroring logs.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// All the text so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// How many times `needle` was logged.
    pub fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }
}

/// Captures WARN and ERROR events on this thread until the guard is dropped.
pub fn capture_warnings() -> (CapturedLogs, tracing::subscriber::DefaultGuard) {
    let captured = CapturedLogs::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}
