//! Shared helpers for the zeroring ⇄ libzmq interop tests in `tests/`.
//!
//! The zeroring side of every test runs on the test's compio runtime; the libzmq side
//! runs on plain `std::thread`s (libzmq calls block), started with [`spawn_peer`] and
//! awaited with [`Peer::join`], which polls so the compio runtime keeps driving
//! zeroring's connections meanwhile.
//!
//! Nothing may hang: every libzmq socket made by [`zsocket`] has RCVTIMEO and
//! SNDTIMEO set, every zeroring wait goes through [`within`] / [`ok`] /
//! [`wait_until`], and every cross-thread wait through [`recv_chan`] or
//! [`Peer::join`]. A stuck test fails with a message naming what it waited for.
//!
//! Ports are never fixed: zeroring binds `tcp://127.0.0.1:0` and reports the port in
//! the returned [`Endpoint`](zeroring::Endpoint); libzmq binds `tcp://127.0.0.1:*`
//! and reports it through `get_last_endpoint()`.

use std::future::Future;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

pub use zmq;

use zeroring::{Message, SocketBase};

mod py_peer;
mod python;
pub mod zap;
pub use py_peer::PyPeer;
pub use python::{first_line, python_script};

/// Upper bound of any single wait (a receive, a handshake, a peer finishing its part).
pub const WAIT: Duration = Duration::from_secs(5);

/// [`WAIT`] in milliseconds, for libzmq's RCVTIMEO and SNDTIMEO.
pub const WAIT_MS: i32 = 5_000;

/// How long a libzmq peer thread may take overall before [`Peer::join`] gives up.
pub const PEER_DEADLINE: Duration = Duration::from_secs(15);

/// LINGER of libzmq sockets made by [`zsocket`]: long enough to deliver what a peer
/// sent just before it returns, short enough that closing never stalls a test.
pub const LINGER_MS: i32 = 1_000;

/// Which side binds; the other connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// zeroring binds `tcp://127.0.0.1:0`, libzmq connects.
    ZeroringBinds,
    /// libzmq binds `tcp://127.0.0.1:*`, zeroring connects.
    LibzmqBinds,
}

/// A libzmq socket with RCVTIMEO/SNDTIMEO = [`WAIT`], LINGER = [`LINGER_MS`] and a
/// short RECONNECT_IVL, so no libzmq call in a test can block forever.
pub fn zsocket(ctx: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(kind).expect("libzmq socket");
    s.set_rcvtimeo(WAIT_MS).unwrap();
    s.set_sndtimeo(WAIT_MS).unwrap();
    s.set_linger(LINGER_MS).unwrap();
    s.set_reconnect_ivl(50).unwrap();
    s
}

/// Binds a libzmq socket and returns the endpoint it actually got (`tcp://...:*`
/// resolved to the ephemeral port, or the ipc path).
pub fn zbind(s: &zmq::Socket, endpoint: &str) -> String {
    s.bind(endpoint)
        .unwrap_or_else(|e| panic!("libzmq bind {endpoint}: {e}"));
    s.get_last_endpoint()
        .expect("ZMQ_LAST_ENDPOINT")
        .expect("endpoint is UTF-8")
}

/// Binds one side over loopback TCP (ephemeral port) and connects the other to it.
/// Returns the endpoint.
pub async fn link(z: &SocketBase, l: &zmq::Socket, dir: Dir) -> String {
    match dir {
        Dir::ZeroringBinds => {
            let ep = ok("zeroring bind", z.bind("tcp://127.0.0.1:0"))
                .await
                .to_string();
            l.connect(&ep).expect("libzmq connect");
            ep
        }
        Dir::LibzmqBinds => {
            let ep = zbind(l, "tcp://127.0.0.1:*");
            ok("zeroring connect", z.connect(&ep)).await;
            ep
        }
    }
}

/// Like [`link`] over `ipc://` at a fresh path (see [`ipc_endpoint`]). Keep the
/// returned guard alive for the test: it removes the socket file when dropped
/// (libzmq 4.3 leaves the file behind after unbind and close).
pub async fn link_ipc(z: &SocketBase, l: &zmq::Socket, dir: Dir, tag: &str) -> IpcPath {
    let ep = ipc_endpoint(tag);
    match dir {
        Dir::ZeroringBinds => {
            let bound = ok("zeroring bind ipc", z.bind(&ep)).await.to_string();
            assert_eq!(bound, ep, "zeroring reports the ipc endpoint it bound");
            l.connect(&ep).expect("libzmq connect ipc");
        }
        Dir::LibzmqBinds => {
            assert_eq!(zbind(l, &ep), ep);
            ok("zeroring connect ipc", z.connect(&ep)).await;
        }
    }
    IpcPath(ep)
}

/// An `ipc://` endpoint whose socket file is removed when this is dropped.
#[derive(Debug)]
pub struct IpcPath(String);

impl IpcPath {
    /// The endpoint, `ipc:///tmp/...`.
    pub fn endpoint(&self) -> &str {
        &self.0
    }
}

impl Drop for IpcPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0.trim_start_matches("ipc://"));
    }
}

/// A fresh `ipc://` endpoint in the temp directory, unique per process and call.
pub fn ipc_endpoint(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let path =
        std::env::temp_dir().join(format!("zr-interop-{}-{tag}-{n}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("ipc://{}", path.display())
}

/// A libzmq peer running on its own thread; see [`spawn_peer`].
#[derive(Debug)]
pub struct Peer<T> {
    name: String,
    rx: mpsc::Receiver<thread::Result<T>>,
}

/// Runs `f` (the libzmq side of a test) on a new thread. Await its result with
/// [`Peer::join`]; a panic in `f` (a failed assertion, a libzmq timeout) fails the
/// test with the peer's message.
pub fn spawn_peer<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Peer<T> {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name(name.to_string())
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r);
        })
        .expect("spawn peer thread");
    Peer {
        name: name.to_string(),
        rx,
    }
}

impl<T> Peer<T> {
    /// Waits (without blocking the compio runtime) for the peer to finish and returns
    /// its result. Panics if the peer panicked or takes longer than [`PEER_DEADLINE`].
    pub async fn join(self) -> T {
        match recv_chan_for(&self.rx, &self.name, PEER_DEADLINE).await {
            Ok(v) => v,
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "non-string panic".into());
                panic!("libzmq peer {:?} failed: {msg}", self.name)
            }
        }
    }
}

/// Receives from a std channel without blocking the compio runtime, waiting at most
/// [`WAIT`]. Panics on timeout or when the sender is gone (the peer thread died).
pub async fn recv_chan<T>(rx: &mpsc::Receiver<T>, what: &str) -> T {
    recv_chan_for(rx, what, WAIT).await
}

async fn recv_chan_for<T>(rx: &mpsc::Receiver<T>, what: &str, limit: Duration) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match rx.try_recv() {
            Ok(v) => return v,
            Err(mpsc::TryRecvError::Disconnected) => {
                panic!("{what}: the other thread is gone (it probably panicked)")
            }
            Err(mpsc::TryRecvError::Empty) => {}
        }
        if Instant::now() >= deadline {
            panic!("{what}: nothing arrived within {limit:?}");
        }
        compio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Awaits `fut` for at most [`WAIT`]; panics naming `what` when it does not finish.
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    within_for(what, WAIT, fut).await
}

/// Awaits `fut` for at most `limit`; panics naming `what` when it does not finish.
pub async fn within_for<F: Future>(what: &str, limit: Duration, fut: F) -> F::Output {
    match compio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: did not complete within {limit:?}"),
    }
}

/// Awaits a fallible zeroring operation for at most [`WAIT`] and unwraps it.
pub async fn ok<T, E: std::fmt::Debug>(what: &str, fut: impl Future<Output = Result<T, E>>) -> T {
    within(what, fut)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e:?}"))
}

/// Polls `cond` every few milliseconds until it holds; panics after `limit`.
pub async fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() >= deadline {
            panic!("{what}: condition not reached within {limit:?}");
        }
        compio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until a zeroring socket has exactly `n` handshaken peers.
pub async fn wait_peers(s: &SocketBase, n: usize) {
    wait_until(&format!("peer_count() == {n}"), WAIT, || {
        s.peer_count() == n
    })
    .await;
}

/// The frames of a zeroring message as byte vectors, for comparisons.
pub fn frames(m: &Message) -> Vec<Vec<u8>> {
    m.iter().map(|f| f.to_vec()).collect()
}

/// Builds a frame list from byte-string literals or slices.
pub fn parts<B: AsRef<[u8]>>(p: &[B]) -> Vec<Vec<u8>> {
    p.iter().map(|f| f.as_ref().to_vec()).collect()
}

/// Builds a zeroring message from frames of anything byte-like.
pub fn msg<B: AsRef<[u8]>>(p: &[B]) -> Message {
    p.iter()
        .map(|f| bytes::Bytes::copy_from_slice(f.as_ref()))
        .collect()
}

/// Receives a whole multipart message on a libzmq socket (RCVTIMEO applies).
pub fn zrecv(s: &zmq::Socket) -> Vec<Vec<u8>> {
    s.recv_multipart(0)
        .unwrap_or_else(|e| panic!("libzmq recv: {e} (nothing arrived within RCVTIMEO?)"))
}

/// Sends a multipart message on a libzmq socket (SNDTIMEO applies).
pub fn zsend<B: AsRef<[u8]>>(s: &zmq::Socket, frames: &[B]) {
    s.send_multipart(frames.iter().map(|f| f.as_ref()), 0)
        .unwrap_or_else(|e| panic!("libzmq send: {e}"));
}

/// Asserts that nothing arrives on a libzmq socket within `ms` milliseconds.
pub fn znothing(s: &zmq::Socket, ms: i64) {
    let n = s.poll(zmq::POLLIN, ms).expect("zmq_poll");
    if n != 0 {
        let m = s.recv_multipart(0);
        panic!("libzmq socket received an unexpected message: {m:?}");
    }
}

/// A one-frame message `"{word} {i}"`, as a function of `i`: the numbered requests
/// and replies most exchanges use.
pub fn numbered(word: &'static str) -> impl Fn(usize) -> Vec<Vec<u8>> {
    move |i| vec![format!("{word} {i}").into_bytes()]
}

/// The libzmq side answering requests: for each `i` in `0..n`, expects `request(i)`
/// on `s` and sends `reply(i)`.
pub fn zserve(
    s: &zmq::Socket,
    n: usize,
    request: impl Fn(usize) -> Vec<Vec<u8>>,
    reply: impl Fn(usize) -> Vec<Vec<u8>>,
) {
    for i in 0..n {
        assert_eq!(zrecv(s), request(i), "request {i}");
        zsend(s, &reply(i));
    }
}

/// The libzmq side asking: for each `i` in `0..n`, sends `request(i)` on `s` and
/// expects `reply(i)`.
pub fn zrequest(
    s: &zmq::Socket,
    n: usize,
    request: impl Fn(usize) -> Vec<Vec<u8>>,
    reply: impl Fn(usize) -> Vec<Vec<u8>>,
) {
    for i in 0..n {
        zsend(s, &request(i));
        assert_eq!(zrecv(s), reply(i), "reply {i}");
    }
}

/// A zeroring socket type's name in wait messages ("REQ", "DEALER", ...).
pub trait Named {
    const NAME: &'static str;
}

/// A zeroring socket type that sends, so the loops below serve every type alike.
#[allow(async_fn_in_trait)]
pub trait Sends: Named {
    async fn send_msg(&self, m: Message) -> zeroring::Result<()>;
}

/// A zeroring socket type that receives, so the loops below serve every type alike.
#[allow(async_fn_in_trait)]
pub trait Receives: Named {
    async fn recv_msg(&self) -> zeroring::Result<Message>;
}

macro_rules! named {
    ($($t:ident => $name:literal),*) => {$(
        impl Named for zeroring::$t {
            const NAME: &'static str = $name;
        }
    )*};
}

macro_rules! sends {
    ($($t:ident),*) => {$(
        impl Sends for zeroring::$t {
            async fn send_msg(&self, m: Message) -> zeroring::Result<()> {
                self.send(m).await
            }
        }
    )*};
}

macro_rules! receives {
    ($($t:ident),*) => {$(
        impl Receives for zeroring::$t {
            async fn recv_msg(&self) -> zeroring::Result<Message> {
                self.recv().await
            }
        }
    )*};
}

named!(
    ReqSocket => "REQ",
    RepSocket => "REP",
    DealerSocket => "DEALER",
    RouterSocket => "ROUTER",
    PairSocket => "PAIR",
    PushSocket => "PUSH",
    PullSocket => "PULL"
);
sends!(
    ReqSocket,
    RepSocket,
    DealerSocket,
    RouterSocket,
    PairSocket,
    PushSocket
);
receives!(
    ReqSocket,
    RepSocket,
    DealerSocket,
    RouterSocket,
    PairSocket,
    PullSocket
);

/// The zeroring side sending `messages` in order on `s`.
pub async fn send_all<S: Sends>(s: &S, messages: impl IntoIterator<Item = Vec<Vec<u8>>>) {
    for m in messages {
        ok(&format!("{} send", S::NAME), s.send_msg(msg(&m))).await;
    }
}

/// The zeroring side receiving exactly `messages`, in order, on `s`.
pub async fn recv_all<S: Receives>(s: &S, messages: impl IntoIterator<Item = Vec<Vec<u8>>>) {
    for (i, want) in messages.into_iter().enumerate() {
        let got = ok(&format!("{} recv", S::NAME), s.recv_msg()).await;
        assert_eq!(frames(&got), want, "message {i}");
    }
}

/// The libzmq side sending `messages` in order on `s`.
pub fn zsend_all(s: &zmq::Socket, messages: impl IntoIterator<Item = Vec<Vec<u8>>>) {
    for m in messages {
        zsend(s, &m);
    }
}

/// The libzmq side receiving exactly `messages`, in order, on `s`.
pub fn zrecv_all(s: &zmq::Socket, messages: impl IntoIterator<Item = Vec<Vec<u8>>>) {
    for (i, want) in messages.into_iter().enumerate() {
        assert_eq!(zrecv(s), want, "message {i}");
    }
}

/// The zeroring side asking: for each `i` in `0..n`, sends `request(i)` on `s` and
/// expects `reply(i)`.
pub async fn request_each<S: Sends + Receives>(
    s: &S,
    n: usize,
    request: impl Fn(usize) -> Vec<Vec<u8>>,
    reply: impl Fn(usize) -> Vec<Vec<u8>>,
) {
    for i in 0..n {
        ok(&format!("{} send", S::NAME), s.send_msg(msg(&request(i)))).await;
        let got = ok(&format!("{} recv", S::NAME), s.recv_msg()).await;
        assert_eq!(frames(&got), reply(i), "reply {i}");
    }
}

/// The zeroring side answering: for each `i` in `0..n`, expects `request(i)` on `s`
/// and sends `reply(i)`.
pub async fn serve_each<S: Sends + Receives>(
    s: &S,
    n: usize,
    request: impl Fn(usize) -> Vec<Vec<u8>>,
    reply: impl Fn(usize) -> Vec<Vec<u8>>,
) {
    for i in 0..n {
        let got = ok(&format!("{} recv", S::NAME), s.recv_msg()).await;
        assert_eq!(frames(&got), request(i), "request {i}");
        ok(&format!("{} send", S::NAME), s.send_msg(msg(&reply(i)))).await;
    }
}

/// True for a routing id that a ROUTER generated (libzmq and zeroring alike: five
/// bytes, a zero byte and a 32-bit counter).
pub fn is_generated_id(id: &[u8]) -> bool {
    id.len() == 5 && id[0] == 0
}

/// A deterministic body of `n` bytes whose content depends on `seed`.
pub fn body(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Events of a libzmq socket monitor (`zmq_socket_monitor` over inproc).
pub struct Monitor {
    sock: zmq::Socket,
}

impl Monitor {
    /// Starts monitoring every event of `target`. Create it before `target` binds or
    /// connects so no event is missed.
    pub fn new(ctx: &zmq::Context, target: &zmq::Socket) -> Monitor {
        static N: AtomicUsize = AtomicUsize::new(0);
        let ep = format!("inproc://monitor-{}", N.fetch_add(1, Ordering::Relaxed));
        target
            .monitor(&ep, zmq::SocketEvent::ALL as i32)
            .expect("zmq_socket_monitor");
        let sock = ctx.socket(zmq::PAIR).expect("monitor socket");
        sock.set_linger(0).unwrap();
        sock.connect(&ep).expect("connect monitor");
        Monitor { sock }
    }

    /// The next event, waiting at most `ms` milliseconds.
    pub fn next(&self, ms: i64) -> Option<(zmq::SocketEvent, u32)> {
        if self.sock.poll(zmq::POLLIN, ms).expect("poll monitor") == 0 {
            return None;
        }
        let m = self.sock.recv_multipart(0).expect("monitor event");
        let ev = u16::from_ne_bytes([m[0][0], m[0][1]]);
        let val = u32::from_ne_bytes([m[0][2], m[0][3], m[0][4], m[0][5]]);
        Some((zmq::SocketEvent::from_raw(ev), val))
    }

    /// Waits (at most [`WAIT`]) for an event of this kind; returns the events seen
    /// before it.
    pub fn expect(&self, want: zmq::SocketEvent) -> Vec<zmq::SocketEvent> {
        let deadline = Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left.as_millis() as i64) {
                Some((ev, _)) if ev == want => return seen,
                Some((ev, _)) => seen.push(ev),
                None => panic!("libzmq monitor: no {want:?} within {WAIT:?}; saw {seen:?}"),
            }
        }
    }

    /// Every event that arrives within `ms` milliseconds.
    pub fn drain(&self, ms: i64) -> Vec<zmq::SocketEvent> {
        let deadline = Instant::now() + Duration::from_millis(ms as u64);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left.as_millis() as i64) {
                Some((ev, _)) => seen.push(ev),
                None => return seen,
            }
        }
    }
}

/// Raw ZMTP over a blocking `TcpStream`, for the tests that play a misbehaving or
/// silent peer, or look at exactly what libzmq puts on the wire.
pub mod raw {
    use super::*;
    use std::net::TcpStream;

    /// Our 64-byte ZMTP 3.1 NULL greeting (as-server 0).
    pub fn greeting() -> [u8; 64] {
        let mut g = [0u8; 64];
        g[0] = 0xFF;
        g[9] = 0x7F;
        g[10] = 3;
        g[11] = 1;
        g[12..16].copy_from_slice(b"NULL");
        g
    }

    /// A READY command frame with the given properties.
    pub fn ready(props: &[(&str, &[u8])]) -> Vec<u8> {
        let mut body = vec![5u8];
        body.extend_from_slice(b"READY");
        for (name, value) in props {
            body.push(name.len() as u8);
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(&(value.len() as u32).to_be_bytes());
            body.extend_from_slice(value);
        }
        command_frame(&body)
    }

    /// Wraps a command body in a command frame (short or long as needed).
    pub fn command_frame(body: &[u8]) -> Vec<u8> {
        frame(0x04, body)
    }

    /// A frame with the given flags (LONG is added when the body needs it).
    pub fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(body.len() + 9);
        if body.len() > 255 {
            f.push(flags | 0x02);
            f.extend_from_slice(&(body.len() as u64).to_be_bytes());
        } else {
            f.push(flags);
            f.push(body.len() as u8);
        }
        f.extend_from_slice(body);
        f
    }

    /// One decoded frame: (flags, body).
    pub type RawFrame = (u8, Vec<u8>);

    /// READY properties: (name, value) pairs in wire order.
    pub type Props = Vec<(String, Vec<u8>)>;

    /// Reads exactly `n` bytes (the stream's read timeout applies).
    pub fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        s.read_exact(&mut b).expect("raw read");
        b
    }

    /// Reads one frame.
    pub fn read_frame(s: &mut TcpStream) -> RawFrame {
        let h = read_n(s, 2);
        let flags = h[0];
        let len = if flags & 0x02 != 0 {
            let mut rest = vec![h[1]];
            rest.extend(read_n(s, 7));
            u64::from_be_bytes(rest.try_into().unwrap()) as usize
        } else {
            h[1] as usize
        };
        (flags, read_n(s, len))
    }

    /// Reads frames until the peer closes the connection and returns them. Panics
    /// if the connection is still open after the read timeout.
    pub fn frames_until_eof(s: &mut TcpStream) -> Vec<RawFrame> {
        let mut out = Vec::new();
        loop {
            let mut h = [0u8; 2];
            match s.read_exact(&mut h) {
                Ok(()) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
                    ) =>
                {
                    return out;
                }
                Err(e) => panic!("raw read: {e} (the peer did not close the connection)"),
            }
            let len = if h[0] & 0x02 != 0 {
                let mut rest = vec![h[1]];
                rest.extend(read_n(s, 7));
                u64::from_be_bytes(rest.try_into().unwrap()) as usize
            } else {
                h[1] as usize
            };
            out.push((h[0], read_n(s, len)));
        }
    }

    /// A PING command frame.
    pub fn ping(ttl_deciseconds: u16, context: &[u8]) -> Vec<u8> {
        let mut body = b"\x04PING".to_vec();
        body.extend_from_slice(&ttl_deciseconds.to_be_bytes());
        body.extend_from_slice(context);
        command_frame(&body)
    }

    /// Parses the properties of a READY command body (after the name).
    pub fn parse_props(mut data: &[u8]) -> Props {
        let mut out = Vec::new();
        while !data.is_empty() {
            let n = data[0] as usize;
            let name = String::from_utf8_lossy(&data[1..1 + n]).into_owned();
            data = &data[1 + n..];
            let v = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
            out.push((name, data[4..4 + v].to_vec()));
            data = &data[4 + v..];
        }
        out
    }

    /// Connects to `addr` (host:port) and runs [`handshake_on`] as `socket_type`.
    pub fn handshake(addr: &str, socket_type: &str) -> (TcpStream, Vec<u8>, Props) {
        let mut s = TcpStream::connect(addr).expect("raw connect");
        let (g, props) = handshake_on(&mut s, socket_type);
        (s, g, props)
    }

    /// Sends our greeting and a READY for `socket_type` on a connected stream, and
    /// reads the peer's greeting and READY. Returns the peer's greeting and READY
    /// properties. Sets a read timeout of [`WAIT`].
    pub fn handshake_on(s: &mut TcpStream, socket_type: &str) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.set_nodelay(true).unwrap();
        s.write_all(&greeting()).unwrap();
        let g = read_n(s, 64);
        s.write_all(&ready(&[("Socket-Type", socket_type.as_bytes())]))
            .unwrap();
        let (flags, body) = read_frame(s);
        assert_eq!(flags & 0x04, 0x04, "READY is a command frame");
        assert_eq!(&body[..6], b"\x05READY", "peer's first command is READY");
        (g, parse_props(&body[6..]))
    }

    /// The `host:port` part of a `tcp://` endpoint.
    pub fn addr_of(endpoint: &str) -> &str {
        endpoint.strip_prefix("tcp://").expect("a tcp endpoint")
    }
}

/// Declares one test per bind direction for an `async fn(Dir)`:
/// `both_dirs! { req_rep => run_req_rep; }` makes `req_rep::zeroring_binds` and
/// `req_rep::libzmq_binds`.
#[macro_export]
macro_rules! both_dirs {
    ($($name:ident => $f:ident;)*) => {$(
        mod $name {
            #[compio::test]
            async fn zeroring_binds() {
                super::$f($crate::Dir::ZeroringBinds).await
            }
            #[compio::test]
            async fn libzmq_binds() {
                super::$f($crate::Dir::LibzmqBinds).await
            }
        }
    )*};
}

// ---------------------------------------------------------------------------------
// Publish-subscribe helpers (tests/pubsub.rs, tests/pubsub_wire.rs).
//
// Subscriptions travel asynchronously, so a test never sleeps and then asserts: the
// publisher sends *probe* messages (last frame [`PROBE`]) on a subscribed topic
// until the subscriber has seen one, with an overall deadline. Messages on one
// connection stay in order, so once a probe arrived every subscription sent before
// the probed one is in effect too; receivers then skip the probes still in flight.
//
// libzmq PUB/SUB sockets are driven from the compio runtime thread itself with
// non-blocking calls (`DONTWAIT`, polled every millisecond): a libzmq PUB never
// blocks anyway, and lock-step probing needs both sides on one thread. libzmq's own
// I/O threads move the bytes meanwhile.
// ---------------------------------------------------------------------------------

named!(
    PubSocket => "PUB",
    SubSocket => "SUB",
    XpubSocket => "XPUB",
    XsubSocket => "XSUB"
);
sends!(PubSocket, XpubSocket, XsubSocket);
receives!(SubSocket, XpubSocket, XsubSocket);

/// The last frame of a probe message.
pub const PROBE: &[u8] = b"__probe__";

/// A probe on `topic`: `[topic, PROBE]`.
pub fn probe(topic: &[u8]) -> Vec<Vec<u8>> {
    vec![topic.to_vec(), PROBE.to_vec()]
}

/// Whether a message is a probe.
pub fn is_probe<B: AsRef<[u8]>>(m: &[B]) -> bool {
    m.len() >= 2 && m.last().is_some_and(|f| f.as_ref() == PROBE)
}

/// A non-blocking libzmq receive: a message if one is queued right now.
pub fn ztry_recv(s: &zmq::Socket) -> Option<Vec<Vec<u8>>> {
    match s.recv_multipart(zmq::DONTWAIT) {
        Ok(m) => Some(m),
        Err(zmq::Error::EAGAIN) => None,
        Err(e) => panic!("libzmq recv: {e}"),
    }
}

/// A non-blocking libzmq send (a PUB or XPUB drops rather than block; anything
/// else must have room).
pub fn zsend_now<B: AsRef<[u8]>>(s: &zmq::Socket, frames: &[B]) {
    s.send_multipart(frames.iter().map(|f| f.as_ref()), zmq::DONTWAIT)
        .unwrap_or_else(|e| panic!("libzmq send: {e}"));
}

/// Receives a message on a libzmq socket from the compio runtime thread, polling
/// without blocking, for at most [`WAIT`].
pub async fn zrecv_async(s: &zmq::Socket, what: &str) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(m) = ztry_recv(s) {
            return m;
        }
        if Instant::now() >= deadline {
            panic!("{what}: nothing arrived on the libzmq socket within {WAIT:?}");
        }
        compio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Like [`zrecv_async`], skipping probes.
pub async fn zrecv_data(s: &zmq::Socket, what: &str) -> Vec<Vec<u8>> {
    loop {
        let m = zrecv_async(s, what).await;
        if !is_probe(&m) {
            return m;
        }
    }
}

/// Receives on a zeroring socket (at most [`WAIT`]), skipping probes.
pub async fn recv_data<S: Receives>(s: &S) -> Vec<Vec<u8>> {
    loop {
        let m = frames(&ok(&format!("{} recv", S::NAME), s.recv_msg()).await);
        if !is_probe(&m) {
            return m;
        }
    }
}

/// A zeroring publisher sends probes on `topic` until every libzmq subscriber in
/// `subs` has received one (each is expected to be subscribed to a prefix of
/// `topic`). Anything else a subscriber receives meanwhile fails the test.
pub async fn sync_zsubs<S: Sends>(publisher: &S, topic: &[u8], subs: &[&zmq::Socket]) {
    let deadline = Instant::now() + WAIT;
    let mut synced = vec![false; subs.len()];
    while synced.iter().any(|s| !s) {
        if Instant::now() >= deadline {
            panic!(
                "{} -> libzmq subscribers: probes on {:?} ({} bytes) never arrived (synced: {synced:?})",
                S::NAME,
                String::from_utf8_lossy(&topic[..topic.len().min(20)]),
                topic.len()
            );
        }
        ok(
            &format!("{} send probe", S::NAME),
            publisher.send_msg(msg(&probe(topic))),
        )
        .await;
        compio::time::sleep(Duration::from_millis(2)).await;
        for (sub, done) in subs.iter().zip(synced.iter_mut()) {
            while let Some(m) = ztry_recv(sub) {
                assert!(is_probe(&m), "unexpected message while probing: {m:?}");
                *done = true;
            }
        }
    }
}

/// A libzmq publisher sends probes on `topic` until the zeroring subscriber has
/// received one.
pub async fn sync_zpub<S: Receives>(publisher: &zmq::Socket, topic: &[u8], sub: &S) {
    let deadline = Instant::now() + WAIT;
    loop {
        if Instant::now() >= deadline {
            panic!(
                "libzmq publisher -> {}: probes on {:?} ({} bytes) never arrived",
                S::NAME,
                String::from_utf8_lossy(&topic[..topic.len().min(20)]),
                topic.len()
            );
        }
        zsend_now(publisher, &probe(topic));
        if let Ok(r) = compio::time::timeout(Duration::from_millis(5), sub.recv_msg()).await {
            let m = frames(&r.unwrap_or_else(|e| panic!("{} recv: {e:?}", S::NAME)));
            assert!(is_probe(&m), "unexpected message while probing: {m:?}");
            return;
        }
    }
}

/// A zeroring publisher sends probes on `topic` until the zeroring subscriber has
/// received one.
pub async fn sync_zeroring<P: Sends, S: Receives>(publisher: &P, topic: &[u8], sub: &S) {
    let deadline = Instant::now() + WAIT;
    loop {
        if Instant::now() >= deadline {
            panic!(
                "{} -> {}: probes on {:?} ({} bytes) never arrived",
                P::NAME,
                S::NAME,
                String::from_utf8_lossy(&topic[..topic.len().min(20)]),
                topic.len()
            );
        }
        ok("send probe", publisher.send_msg(msg(&probe(topic)))).await;
        if let Ok(r) = compio::time::timeout(Duration::from_millis(5), sub.recv_msg()).await {
            let m = frames(&r.unwrap_or_else(|e| panic!("{} recv: {e:?}", S::NAME)));
            assert!(is_probe(&m), "unexpected message while probing: {m:?}");
            return;
        }
    }
}
