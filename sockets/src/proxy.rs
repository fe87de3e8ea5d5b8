//! The built-in proxy: libzmq's `zmq_proxy` and `zmq_proxy_steerable`.
//!
//! [`proxy`] shuttles messages between a frontend and a backend socket (ROUTER to
//! DEALER for a request-reply broker, PULL to PUSH for a streamer, XSUB to XPUB for
//! a pub-sub forwarder), optionally copying every forwarded message to a capture
//! socket. [`proxy_steerable`] adds a control socket that accepts the commands
//! `PAUSE`, `RESUME`, `TERMINATE` and `STATISTICS`.
//!
//! Both directions run concurrently inside the one future: a send that waits for
//! room (SNDHWM) in one direction never holds up the other direction or the control
//! socket. Receives are cancel-safe, so a receive abandoned because the proxy was
//! paused or terminated loses nothing: the message stays queued in the socket.
//! A message already received is always sent before the proxy pauses or returns
//! `Ok`, so TERMINATE never drops a message half-way through the proxy.
//!
//! The sockets are `!Send`: run the proxy on the runtime thread that owns them, e.g.
//! with `compio::runtime::spawn(async move { proxy(&front, &back, None::<&PushSocket>).await })`.
//!
//! Differences from libzmq 4.3, on purpose:
//! - an unknown control command is logged (`tracing::warn!`) and ignored, where
//!   libzmq 4.3 asserts (aborts the process); libzmq master ignores it too;
//! - a REP control socket gets an empty reply to every command but STATISTICS (as
//!   in libzmq master; libzmq 4.3 never replied, which wedged a REP control socket);
//! - control commands are not copied to the capture socket (libzmq 4.3 copied them,
//!   libzmq master does not).

use std::cell::Cell;
use std::pin::pin;

use bytes::Bytes;
use futures_util::future::{Either, select, try_join3};
use zeroring_zmtp::SocketType;

use crate::error::Result;
use crate::notify::Notify;
use zeroring_zmtp::Message;

/// A socket the [`proxy`] can drive: every native socket type implements it, and
/// so does the thread-safe [`Socket`](crate::Socket) (see [`proxy_blocking`](crate::proxy_blocking)).
///
/// Types that cannot receive (PUSH, PUB) report `can_recv() == false` and fail
/// `recv_message` with [`Error::NotSupported`](crate::Error::NotSupported); types
/// that cannot send (PULL, SUB) do the same for sending. The proxy never calls an
/// operation a socket does not support: that direction simply stays idle.
#[allow(async_fn_in_trait)]
pub trait ProxySocket {
    /// Receives the next whole message, as the socket type's own `recv` does.
    /// Must be cancel-safe: the proxy drops pending receives when it pauses.
    async fn recv_message(&self) -> Result<Message>;

    /// Sends one whole message, as the socket type's own `send` does.
    async fn send_message(&self, msg: Message) -> Result<()>;

    /// Whether this socket type can receive at all (false for PUSH and PUB).
    fn can_recv(&self) -> bool {
        true
    }

    /// Whether this socket type can send at all (false for PULL and SUB).
    fn can_send(&self) -> bool {
        true
    }

    /// The socket's type.
    fn socket_type(&self) -> SocketType;
}

/// Implements [`ProxySocket`] for a typed socket with inherent `recv()` and/or
/// `send(impl Into<Message>)` methods:
/// `impl_proxy_socket!(PullSocket, recv: yes, send: no);`
macro_rules! impl_proxy_socket {
    ($ty:ty, recv: $recv:ident, send: $send:ident) => {
        impl $crate::proxy::ProxySocket for $ty {
            $crate::proxy::impl_proxy_socket!(@recv $recv);
            $crate::proxy::impl_proxy_socket!(@send $send);

            fn socket_type(&self) -> $crate::SocketType {
                $crate::SocketBase::socket_type(self)
            }
        }
    };
    (@recv yes) => {
        async fn recv_message(&self) -> $crate::Result<$crate::Message> {
            self.recv().await
        }
    };
    (@recv no) => {
        async fn recv_message(&self) -> $crate::Result<$crate::Message> {
            Err($crate::Error::NotSupported {
                op: "recv",
                socket_type: $crate::SocketBase::socket_type(self).as_str(),
            })
        }

        fn can_recv(&self) -> bool {
            false
        }
    };
    (@send yes) => {
        async fn send_message(&self, msg: $crate::Message) -> $crate::Result<()> {
            self.send(msg).await
        }
    };
    (@send no) => {
        async fn send_message(&self, _msg: $crate::Message) -> $crate::Result<()> {
            Err($crate::Error::NotSupported {
                op: "send",
                socket_type: $crate::SocketBase::socket_type(self).as_str(),
            })
        }

        fn can_send(&self) -> bool {
            false
        }
    };
}
pub(crate) use impl_proxy_socket;

impl_proxy_socket!(crate::ReqSocket, recv: yes, send: yes);
impl_proxy_socket!(crate::RepSocket, recv: yes, send: yes);
impl_proxy_socket!(crate::DealerSocket, recv: yes, send: yes);
impl_proxy_socket!(crate::RouterSocket, recv: yes, send: yes);
impl_proxy_socket!(crate::PairSocket, recv: yes, send: yes);
impl_proxy_socket!(crate::PushSocket, recv: no, send: yes);
impl_proxy_socket!(crate::PullSocket, recv: yes, send: no);
impl_proxy_socket!(crate::PubSocket, recv: no, send: yes);
impl_proxy_socket!(crate::SubSocket, recv: yes, send: no);
impl_proxy_socket!(crate::XpubSocket, recv: yes, send: yes);
impl_proxy_socket!(crate::XsubSocket, recv: yes, send: yes);

/// Forwards messages between `frontend` and `backend` until a socket operation
/// fails (for example [`Error::Closed`](crate::Error::Closed)), and returns that
/// error; like libzmq's `zmq_proxy`, it never returns `Ok`.
///
/// Messages received on the frontend go to the backend and the other way round; a
/// direction runs only if its source can receive and its destination can send
/// (a PULL frontend and PUSH backend make a one-way streamer). Multipart messages
/// stay whole. With a `capture` socket, a copy of every forwarded message is sent
/// there first; a failing capture send ends the proxy with that error, as in
/// libzmq. Without one, name a type for the `None`: `None::<&PushSocket>`.
///
/// ```no_run
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// use zeroring_sockets::{proxy, DealerSocket, PushSocket, RouterSocket};
/// let frontend = RouterSocket::new();
/// frontend.bind("tcp://127.0.0.1:5559").await?;
/// let backend = DealerSocket::new();
/// backend.bind("tcp://127.0.0.1:5560").await?;
/// proxy(&frontend, &backend, None::<&PushSocket>).await
/// # }).unwrap_err();
/// ```
pub async fn proxy<F, B, C>(frontend: &F, backend: &B, capture: Option<&C>) -> Result<()>
where
    F: ProxySocket + ?Sized,
    B: ProxySocket + ?Sized,
    C: ProxySocket + ?Sized,
{
    run(frontend, backend, capture, None::<&C>).await
}

/// [`proxy`] steered through a `control` socket, like libzmq's
/// `zmq_proxy_steerable`. Each control message must be a single frame:
///
/// - `PAUSE`: stop forwarding; messages stay queued in the sockets (up to their
///   RCVHWM) and flow again after `RESUME`.
/// - `RESUME`: forward again.
/// - `TERMINATE`: return `Ok(())`.
/// - `STATISTICS`: reply on `control` with 8 frames, each a `u64` in native byte
///   order (`u64::from_ne_bytes`): messages received by the frontend, bytes
///   received by the frontend, messages sent by the frontend, bytes sent by the
///   frontend, then the same four for the backend. As in libzmq 4.3, a multipart
///   message counts as one message and its bytes are the sum of its frames.
///
/// A REP control socket gets an empty one-frame reply to every other command (and
/// to unknown ones, which are otherwise ignored with a warning); other control
/// types (PAIR, ...) get no reply except to `STATISTICS`. Errors on `control` end
/// the proxy like errors on the other sockets.
pub async fn proxy_steerable<F, B, C, K>(
    frontend: &F,
    backend: &B,
    capture: Option<&C>,
    control: &K,
) -> Result<()>
where
    F: ProxySocket + ?Sized,
    B: ProxySocket + ?Sized,
    C: ProxySocket + ?Sized,
    K: ProxySocket + ?Sized,
{
    run(frontend, backend, capture, Some(control)).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Active,
    Paused,
    Terminated,
}

/// Messages and bytes through one side of one socket.
#[derive(Debug, Default)]
struct Counter {
    msgs: Cell<u64>,
    bytes: Cell<u64>,
}

impl Counter {
    fn add(&self, bytes: u64) {
        self.msgs.set(self.msgs.get().wrapping_add(1));
        self.bytes.set(self.bytes.get().wrapping_add(bytes));
    }
}

/// What the two directions and the control loop share (all on one thread).
#[derive(Debug)]
struct Shared {
    state: Cell<State>,
    changed: Notify,
    frontend_in: Counter,
    frontend_out: Counter,
    backend_in: Counter,
    backend_out: Counter,
}

impl Shared {
    fn set(&self, state: State) {
        self.state.set(state);
        self.changed.notify_all();
    }

    /// The STATISTICS reply, in libzmq's frame order.
    fn statistics(&self) -> Message {
        [
            &self.frontend_in,
            &self.frontend_out,
            &self.backend_in,
            &self.backend_out,
        ]
        .iter()
        .flat_map(|c| [c.msgs.get(), c.bytes.get()])
        .map(|v| Bytes::copy_from_slice(&v.to_ne_bytes()))
        .collect()
    }
}

async fn run<F, B, C, K>(
    frontend: &F,
    backend: &B,
    capture: Option<&C>,
    control: Option<&K>,
) -> Result<()>
where
    F: ProxySocket + ?Sized,
    B: ProxySocket + ?Sized,
    C: ProxySocket + ?Sized,
    K: ProxySocket + ?Sized,
{
    let shared = Shared {
        state: Cell::new(State::Active),
        changed: Notify::default(),
        frontend_in: Counter::default(),
        frontend_out: Counter::default(),
        backend_in: Counter::default(),
        backend_out: Counter::default(),
    };
    // The same socket as frontend and backend (allowed by libzmq): one direction
    // covers it, counted as frontend-in and backend-out.
    let same = std::ptr::eq(
        frontend as *const F as *const (),
        backend as *const B as *const (),
    );
    let forward = pump(
        frontend,
        backend,
        capture,
        &shared,
        frontend.can_recv() && backend.can_send(),
        &shared.frontend_in,
        &shared.backend_out,
    );
    let backward = pump(
        backend,
        frontend,
        capture,
        &shared,
        !same && backend.can_recv() && frontend.can_send(),
        &shared.backend_in,
        &shared.frontend_out,
    );
    let control = steer(control, &shared);
    try_join3(forward, backward, control).await.map(drop)
}

/// One direction: receive from `from`, copy to `capture`, send to `to`, until the
/// proxy terminates (`Ok`) or an operation fails (`Err`).
async fn pump<S, D, C>(
    from: &S,
    to: &D,
    capture: Option<&C>,
    shared: &Shared,
    enabled: bool,
    received: &Counter,
    sent: &Counter,
) -> Result<()>
where
    S: ProxySocket + ?Sized,
    D: ProxySocket + ?Sized,
    C: ProxySocket + ?Sized,
{
    loop {
        let changed = shared.changed.notified();
        match shared.state.get() {
            State::Terminated => return Ok(()),
            State::Paused => {
                changed.await;
                continue;
            }
            State::Active if !enabled => {
                changed.await;
                continue;
            }
            State::Active => {}
        }
        // `changed` is polled first, so a PAUSE or TERMINATE handled since the
        // state check wins over a message that is ready; the dropped receive is
        // cancel-safe and the message stays queued.
        let msg = match select(changed, pin!(from.recv_message())).await {
            Either::Left(_) => continue,
            Either::Right((msg, _)) => msg?,
        };
        let bytes = msg.byte_len() as u64;
        if let Some(capture) = capture {
            capture.send_message(msg.clone()).await?;
        }
        to.send_message(msg).await?;
        received.add(bytes);
        sent.add(bytes);
    }
}

/// The control loop: handles commands until TERMINATE (`Ok`) or an error.
async fn steer<K: ProxySocket + ?Sized>(control: Option<&K>, shared: &Shared) -> Result<()> {
    let Some(control) = control else {
        return Ok(());
    };
    let replies = control.socket_type() == SocketType::Rep;
    loop {
        let cmd = control.recv_message().await?;
        let command: &[u8] = match cmd.frames() {
            [one] => one,
            _ => &[],
        };
        match command {
            b"STATISTICS" => {
                control.send_message(shared.statistics()).await?;
                continue;
            }
            b"PAUSE" => shared.set(State::Paused),
            b"RESUME" => shared.set(State::Active),
            b"TERMINATE" => shared.set(State::Terminated),
            _ => tracing::warn!(
                command = ?cmd.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect::<Vec<_>>(),
                "proxy ignores an unknown control command \
                 (expected PAUSE, RESUME, TERMINATE or STATISTICS as one frame)"
            ),
        }
        if replies {
            control.send_message(Message::from(Bytes::new())).await?;
        }
        if shared.state.get() == State::Terminated {
            return Ok(());
        }
    }
}
