//! libzmq's side of authentication in the interop tests: a ZAP handler (RFC 27)
//! bound on `inproc://zeromq.zap.01` of a libzmq context, answering with a
//! closure and keeping the requests it saw, and a reader of a libzmq socket's
//! monitor events (HANDSHAKE_FAILED_AUTH and friends).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// libzmq's ZMQ_EVENT_HANDSHAKE_SUCCEEDED.
pub const EVENT_HANDSHAKE_SUCCEEDED: u16 = 0x1000;
/// libzmq's ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL.
pub const EVENT_HANDSHAKE_FAILED_NO_DETAIL: u16 = 0x0800;
/// libzmq's ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL.
pub const EVENT_HANDSHAKE_FAILED_PROTOCOL: u16 = 0x2000;
/// libzmq's ZMQ_EVENT_HANDSHAKE_FAILED_AUTH (its value is the ZAP status code).
pub const EVENT_HANDSHAKE_FAILED_AUTH: u16 = 0x4000;
/// libzmq's ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND (a HANDSHAKE_FAILED_PROTOCOL value).
pub const PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: u32 = 0x1000_0001;

/// One ZAP request as the handler received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZapSeen {
    /// The request's domain.
    pub domain: String,
    /// The peer's address.
    pub address: String,
    /// The server socket's routing id.
    pub identity: Vec<u8>,
    /// "NULL", "PLAIN" or "CURVE".
    pub mechanism: String,
    /// The credential frames.
    pub credentials: Vec<Vec<u8>>,
}

/// A running ZAP handler; stops when dropped.
#[derive(Debug)]
pub struct ZapHandler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    seen: Arc<Mutex<Vec<ZapSeen>>>,
}

impl ZapHandler {
    /// Binds the ZAP endpoint of `ctx` (before any server socket of `ctx`
    /// binds) and answers each request with `decide`: (status code, user id).
    pub fn start(
        ctx: &zmq::Context,
        decide: impl Fn(&ZapSeen) -> (&'static str, String) + Send + 'static,
    ) -> ZapHandler {
        let rep = ctx.socket(zmq::REP).expect("ZAP socket");
        rep.set_rcvtimeo(20).unwrap();
        rep.set_linger(0).unwrap();
        rep.bind("inproc://zeromq.zap.01")
            .expect("bind the ZAP endpoint");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop2, seen2) = (stop.clone(), seen.clone());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let Ok(frames) = rep.recv_multipart(0) else {
                    continue;
                };
                if frames.len() < 6 {
                    continue;
                }
                let text = |i: usize| String::from_utf8_lossy(&frames[i]).into_owned();
                let request = ZapSeen {
                    domain: text(2),
                    address: text(3),
                    identity: frames[4].clone(),
                    mechanism: text(5),
                    credentials: frames[6..].to_vec(),
                };
                let (status, user_id) = decide(&request);
                seen2.lock().unwrap().push(request);
                let reply: Vec<&[u8]> = vec![
                    b"1.0",
                    &frames[1],
                    status.as_bytes(),
                    b"",
                    user_id.as_bytes(),
                    b"",
                ];
                let _ = rep.send_multipart(reply, 0);
            }
        });
        ZapHandler {
            stop,
            thread: Some(thread),
            seen,
        }
    }

    /// The requests answered so far.
    pub fn seen(&self) -> Vec<ZapSeen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ZapHandler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A libzmq socket's monitor events, read on a thread of their own.
#[derive(Debug)]
pub struct LibzmqMonitor {
    events: mpsc::Receiver<(u16, u32)>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl LibzmqMonitor {
    /// Starts monitoring `socket` (of `ctx`).
    pub fn start(ctx: &zmq::Context, socket: &zmq::Socket) -> LibzmqMonitor {
        static N: AtomicUsize = AtomicUsize::new(0);
        let endpoint = format!("inproc://zr-monitor-{}", N.fetch_add(1, Ordering::Relaxed));
        socket
            .monitor(&endpoint, 0xFFFF)
            .expect("zmq_socket_monitor");
        let pair = ctx.socket(zmq::PAIR).expect("monitor PAIR");
        pair.set_rcvtimeo(20).unwrap();
        pair.set_linger(0).unwrap();
        pair.connect(&endpoint).expect("connect the monitor");
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                let Ok(frames) = pair.recv_multipart(0) else {
                    continue;
                };
                let Some(head) = frames.first().filter(|f| f.len() >= 6) else {
                    continue;
                };
                let event = u16::from_ne_bytes([head[0], head[1]]);
                let value = u32::from_ne_bytes([head[2], head[3], head[4], head[5]]);
                if tx.send((event, value)).is_err() {
                    return;
                }
            }
        });
        LibzmqMonitor {
            events,
            stop,
            thread: Some(thread),
        }
    }

    /// Waits (polling, so a compio runtime keeps running) for `event` and
    /// returns its value.
    pub async fn expect(&self, event: u16) -> u32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut others = Vec::new();
        loop {
            while let Ok((e, value)) = self.events.try_recv() {
                if e == event {
                    return value;
                }
                others.push((e, value));
            }
            if Instant::now() >= deadline {
                panic!("libzmq monitor never reported event {event:#06x}; saw {others:x?}");
            }
            compio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for LibzmqMonitor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Waits for zeroring's report of a failed handshake on `monitor`: the ZAP
/// status for an authentication failure (`HandshakeFailedAuth`), `None` for
/// another handshake failure; and the reason.
pub async fn zeroring_refusal(
    monitor: &zeroring::Monitor,
) -> (Option<zeroring::ZapStatus>, zeroring::DisconnectReason) {
    crate::within("a handshake failure on the zeroring side", async {
        loop {
            match monitor.recv().await {
                zeroring::SocketEvent::HandshakeFailedAuth { status, reason, .. } => {
                    return (Some(status), reason);
                }
                zeroring::SocketEvent::HandshakeFailed { reason, .. } => return (None, reason),
                _ => {}
            }
        }
    })
    .await
}
