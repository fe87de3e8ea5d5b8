//! [`Socket`]: a thread-safe socket of any type, made by a
//! [`Context`](crate::Context) and usable from any thread or async runtime.
//!
//! The native socket runs on one of the context's I/O threads. Sends go through
//! one queue of operations and receives come back through another; both move
//! whole batches, and a side is woken only when a queue it waits on goes from
//! empty to non-empty (or from full to not full), so a stream pays no thread
//! hand-over per message. The blocking API (`send`, `recv`, ... honouring
//! SNDTIMEO/RCVTIMEO) and the async one (`send_async`, ...) share the same
//! futures, which use nothing but the `Waker`: they run on tokio, smol,
//! async-std, compio or a plain thread alike.
//!
//! - `shared`: the queues and the state both sides see.
//! - `pump`: the I/O thread's tasks.
//! - `native`: the native socket of any type.
//! - `poll`: [`poll`](crate::poll), readiness over many sockets.
//! - `monitor`: [`SocketMonitor`](crate::SocketMonitor), a handle's events.
//! - `proxy`: the built-in proxy over handles.

pub(crate) mod monitor;
mod native;
pub(crate) mod poll;
pub(crate) mod proxy;
pub(crate) mod pump;
pub(crate) mod shared;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use zeroring_zmtp::{Message, SocketType};

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::options::SocketOptions;
use crate::security::{Authenticator, PeerProperties};
use crate::xthread::park;
use crate::xthread::queue::PushError;
use shared::{Arrival, Control, Op, Shared};

/// A socket of any type that any thread may use (`Send + Sync`), made by
/// [`Context::socket`](crate::Context::socket). Its API follows rust-zmq's: blocking
/// `bind`, `connect`, `send`, `recv` (honouring SNDTIMEO/RCVTIMEO), `try_send` and
/// `try_recv` (ZMQ_DONTWAIT), every option, and `*_async` versions whose futures
/// are `Send`, cancel-safe and runtime-agnostic.
///
/// The native socket types (`ReqSocket`, `PushSocket`, ...) are the fastest path
/// on a compio runtime thread; this handle is for everything else: plain threads,
/// tokio, sharing one socket between threads. Besides each peer's SNDHWM and
/// RCVHWM, a handle keeps a queue each way between the caller and its I/O
/// thread: up to SNDHWM messages (at most 4096) on the way out, plus the batch
/// the I/O thread is working through (as many again, at most), and up to 4096
/// received ones on the way in. Sends wait, like libzmq's, while the socket
/// has no peer to send to, and once every peer is at SNDHWM and the handle's
/// own queue is full.
///
/// ```no_run
/// use zeroring_sockets::{Context, SocketType};
/// let ctx = Context::new()?;
/// let push = ctx.socket(SocketType::Push)?;
/// push.connect("tcp://127.0.0.1:5557")?;
/// push.send("work item")?;
/// # Ok::<(), zeroring_sockets::Error>(())
/// ```
#[derive(Debug)]
pub struct Socket {
    shared: Arc<Shared>,
}

/// What a wait on a socket's queue amounts to with a timeout.
fn with_deadline<T>(
    timeout: Option<Duration>,
    op: &'static str,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let deadline = timeout.map(|t| Instant::now() + t);
    park::block_on(fut, deadline).unwrap_or(Err(Error::Timeout(op)))
}

impl Socket {
    /// The handle over `shared`, whose pump already runs on an I/O thread (see
    /// [`Context::socket`](crate::Context::socket)).
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Socket {
        Socket { shared }
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.shared.socket_type
    }

    // ---- Endpoints ----

    /// Binds to an endpoint and returns it resolved (the port chosen for `:0`).
    pub fn bind(&self, endpoint: &str) -> Result<Endpoint> {
        park::block_on(self.bind_async(endpoint), None).unwrap_or(Err(Error::Closed))
    }

    /// [`Socket::bind`] for async callers.
    pub async fn bind_async(&self, endpoint: &str) -> Result<Endpoint> {
        let ep = endpoint.to_string();
        self.shared.control(|r| Control::Bind(ep, r)).await
    }

    /// Connects in the background (reconnecting as needed) and returns at once.
    pub fn connect(&self, endpoint: &str) -> Result<()> {
        park::block_on(self.connect_async(endpoint), None).unwrap_or(Err(Error::Closed))
    }

    /// [`Socket::connect`] for async callers.
    pub async fn connect_async(&self, endpoint: &str) -> Result<()> {
        let ep = endpoint.to_string();
        self.shared.control(|r| Control::Connect(ep, r)).await
    }

    /// Stops listening on an endpoint and closes its connections.
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        let ep = endpoint.to_string();
        park::block_on(self.shared.control(|r| Control::Unbind(ep, r)), None)
            .unwrap_or(Err(Error::Closed))
    }

    /// Stops connecting to an endpoint and closes that connection.
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        let ep = endpoint.to_string();
        park::block_on(self.shared.control(|r| Control::Disconnect(ep, r)), None)
            .unwrap_or(Err(Error::Closed))
    }

    // ---- Sending ----

    /// Sends a message, waiting (SNDTIMEO) while the socket cannot take it: no
    /// peer to send to (for the types whose sends wait: DEALER, PUSH, PAIR,
    /// REQ), or the queue to the I/O thread full (every peer at SNDHWM and the
    /// I/O thread waiting for room).
    pub fn send(&self, msg: impl Into<Message>) -> Result<()> {
        let timeout = self.shared.option(|o| o.sndtimeo);
        let op = self.send_op(msg.into())?;
        // Fast path: there is room, no future, no waker.
        let op = if self.shared.is_blocked() {
            op
        } else {
            match self.push_now(op) {
                Ok(r) => return r,
                Err(op) => op,
            }
        };
        if timeout == Some(Duration::ZERO) {
            return Err(Error::Timeout("send"));
        }
        with_deadline(timeout, "send", async {
            self.shared.unblocked().await;
            self.push_send(op).await?;
            self.commit_send_turn();
            Ok(())
        })
    }

    /// Sends without waiting (ZMQ_DONTWAIT): fails with [`Error::WouldBlock`] when
    /// [`send`](Self::send) would wait.
    pub fn try_send(&self, msg: impl Into<Message>) -> Result<()> {
        self.send_now(msg.into(), Error::WouldBlock("send"))
    }

    /// Sends the frames as one multipart message (rust-zmq's `send_multipart`).
    pub fn send_multipart<I, T>(&self, frames: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: Into<Bytes>,
    {
        self.send(frames.into_iter().collect::<Message>())
    }

    /// [`Socket::send`] for async callers (no SNDTIMEO: wrap it in your runtime's
    /// timeout; dropping the future before it completes sends nothing).
    pub async fn send_async(&self, msg: impl Into<Message>) -> Result<()> {
        let op = self.send_op(msg.into())?;
        self.shared.unblocked().await;
        self.push_send(op).await?;
        self.commit_send_turn();
        Ok(())
    }

    fn send_now(&self, msg: Message, full: Error) -> Result<()> {
        let op = self.send_op(msg)?;
        if self.shared.is_blocked() && !self.shared.is_closed() {
            return Err(full);
        }
        self.push_now(op).unwrap_or(Err(full))
    }

    /// Queues a send if the queue has room (a checked one also waits for its
    /// answer); gives the operation back when the caller has to wait.
    fn push_now(&self, op: Op) -> std::result::Result<Result<()>, Op> {
        if let Op::Control(Control::SendChecked(..)) = op {
            // ROUTER_MANDATORY needs the native socket's answer.
            return Ok(park::block_on(self.push_send(op), None).unwrap_or(Err(Error::Closed)));
        }
        match self.shared.ops.push(op) {
            Ok(()) => {
                self.commit_send_turn();
                Ok(Ok(()))
            }
            Err(PushError::Full(op)) => Err(op),
            Err(PushError::Closed(_)) => Ok(Err(Error::Closed)),
        }
    }

    /// Queues a send; a checked one (ROUTER_MANDATORY) also waits for its result.
    async fn push_send(&self, op: Op) -> Result<()> {
        let Op::Control(Control::SendChecked(msg, reply)) = op else {
            return self.shared.push_op(op).await;
        };
        let answer = reply.clone();
        self.shared
            .push_op(Op::Control(Control::SendChecked(msg, reply)))
            .await?;
        shared::wait_reply(&answer).await
    }

    /// Checks a send against the socket type and REQ/REP's turn, and builds its
    /// operation.
    fn send_op(&self, msg: Message) -> Result<Op> {
        if msg.is_empty() {
            return Err(Error::EmptyMessage);
        }
        if self.shared.is_closed() {
            return Err(Error::Closed);
        }
        let ty = self.shared.socket_type;
        if matches!(ty, SocketType::Pull | SocketType::Sub) {
            return Err(Error::NotSupported {
                op: "send",
                socket_type: ty.as_str(),
            });
        }
        let (relaxed, mandatory) = self.shared.option(|o| (o.req_relaxed, o.router_mandatory));
        if !self.shared.takes_turns() {
            if ty == SocketType::Router && mandatory {
                return Ok(Op::Control(Control::SendChecked(msg, shared::reply())));
            }
            return Ok(Op::Send(msg));
        }
        let turn = self.shared.turn.lock().unwrap_or_else(|e| e.into_inner());
        match ty {
            SocketType::Req if turn.waiting && !relaxed => {
                return Err(Error::InvalidState(
                    "a REQ socket must receive the reply before sending the next request",
                ));
            }
            SocketType::Rep if !turn.waiting => {
                return Err(Error::InvalidState(
                    "a REP socket must receive a request before sending a reply",
                ));
            }
            _ => {}
        }
        drop(turn);
        Ok(Op::Send(msg))
    }

    /// A REQ request or a REP reply went out: the turn passes.
    fn commit_send_turn(&self) {
        if !self.shared.takes_turns() {
            return;
        }
        let mut turn = self.shared.turn.lock().unwrap_or_else(|e| e.into_inner());
        match self.shared.socket_type {
            SocketType::Req => {
                turn.waiting = true;
                turn.requests += 1;
            }
            SocketType::Rep => turn.waiting = false,
            _ => {}
        }
    }

    // ---- Receiving ----

    /// Receives the next message, waiting (RCVTIMEO) while none has arrived.
    pub fn recv(&self) -> Result<Message> {
        self.recv_arrival().map(|a| a.msg)
    }

    /// Like [`Socket::recv`], with the properties of the peer that sent the
    /// message (its user id, ZAP metadata, address, CURVE key...): `Some` when
    /// this socket authenticated that peer (as the PLAIN or CURVE server, or
    /// NULL with a ZAP_DOMAIN and an authenticator), `None` otherwise. See
    /// [`PeerProperties`](crate::PeerProperties).
    ///
    /// ```no_run
    /// # fn serve(rep: &zeroring_sockets::Socket) -> zeroring_sockets::Result<()> {
    /// let (request, peer) = rep.recv_with_peer()?;
    /// let user = peer.as_ref().and_then(|p| p.user_id().cloned()).unwrap_or_default();
    /// rep.send(format!("hello {}", String::from_utf8_lossy(&user)))?;
    /// # let _ = request; Ok(()) }
    /// ```
    pub fn recv_with_peer(&self) -> Result<(Message, Option<Arc<PeerProperties>>)> {
        self.recv_arrival().map(|a| (a.msg, a.peer))
    }

    fn recv_arrival(&self) -> Result<Arrival> {
        self.check_recv()?;
        // Fast path: a message is there, no future, no waker.
        if let Some(arrival) = self.shared.next_received() {
            self.took_message();
            return Ok(arrival);
        }
        let timeout = self.shared.option(|o| o.rcvtimeo);
        if timeout == Some(Duration::ZERO) {
            return self.recv_now(Error::Timeout("recv"));
        }
        with_deadline(timeout, "recv", self.recv_arrival_async())
    }

    /// Receives without waiting (ZMQ_DONTWAIT): fails with [`Error::WouldBlock`]
    /// when no message is waiting.
    pub fn try_recv(&self) -> Result<Message> {
        self.recv_now(Error::WouldBlock("recv")).map(|a| a.msg)
    }

    /// The next message's frames as byte vectors (rust-zmq's `recv_multipart`).
    pub fn recv_multipart(&self) -> Result<Vec<Vec<u8>>> {
        Ok(self.recv()?.iter().map(|f| f.to_vec()).collect())
    }

    /// The next single-frame message's bytes (rust-zmq's `recv_bytes`; the frames
    /// of a multipart message are concatenated).
    pub fn recv_bytes(&self) -> Result<Vec<u8>> {
        Ok(self
            .recv()?
            .iter()
            .flat_map(|f| f.iter().copied())
            .collect())
    }

    /// The next message as UTF-8 text (rust-zmq's `recv_string`, without the
    /// inner `Result`: invalid UTF-8 is replaced).
    pub fn recv_string(&self) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.recv_bytes()?).into_owned())
    }

    /// [`Socket::recv`] for async callers (no RCVTIMEO: wrap it in your runtime's
    /// timeout; the future is cancel-safe).
    pub async fn recv_async(&self) -> Result<Message> {
        self.recv_arrival_async().await.map(|a| a.msg)
    }

    /// [`Socket::recv_with_peer`] for async callers.
    pub async fn recv_with_peer_async(&self) -> Result<(Message, Option<Arc<PeerProperties>>)> {
        self.recv_arrival_async().await.map(|a| (a.msg, a.peer))
    }

    async fn recv_arrival_async(&self) -> Result<Arrival> {
        self.check_recv()?;
        let arrival = std::future::poll_fn(|cx| self.shared.poll_received(cx))
            .await
            .ok_or(Error::Closed)?;
        self.took_message();
        Ok(arrival)
    }

    fn recv_now(&self, empty: Error) -> Result<Arrival> {
        self.check_recv()?;
        match self.shared.next_received() {
            Some(arrival) => {
                self.took_message();
                Ok(arrival)
            }
            None if self.shared.inbound.is_closed() => Err(Error::Closed),
            None => Err(empty),
        }
    }

    fn check_recv(&self) -> Result<()> {
        let ty = self.shared.socket_type;
        if matches!(ty, SocketType::Push | SocketType::Pub) {
            return Err(Error::NotSupported {
                op: "recv",
                socket_type: ty.as_str(),
            });
        }
        if !self.shared.takes_turns() {
            return Ok(());
        }
        let turn = self.shared.turn.lock().unwrap_or_else(|e| e.into_inner());
        match ty {
            SocketType::Req if !turn.waiting => Err(Error::InvalidState(
                "a REQ socket must send a request before receiving",
            )),
            SocketType::Rep if turn.waiting => Err(Error::InvalidState(
                "a REP socket must send the reply before receiving the next request",
            )),
            _ => Ok(()),
        }
    }

    /// A message was taken: REQ's reply arrived, REP owes a reply.
    fn took_message(&self) {
        if !self.shared.takes_turns() {
            return;
        }
        let mut turn = self.shared.turn.lock().unwrap_or_else(|e| e.into_inner());
        match self.shared.socket_type {
            SocketType::Req => turn.waiting = false,
            SocketType::Rep => turn.waiting = true,
            _ => {}
        }
    }

    // ---- Subscriptions ----

    /// SUB and XSUB: subscribes to messages whose first frame starts with
    /// `topic`. XPUB with XPUB_MANUAL: subscribes the last subscribing peer.
    pub fn subscribe(&self, topic: impl AsRef<[u8]>) -> Result<()> {
        let topic = Bytes::copy_from_slice(topic.as_ref());
        self.control_now(Control::Subscribe(topic))
    }

    /// Cancels one [`Socket::subscribe`].
    pub fn unsubscribe(&self, topic: impl AsRef<[u8]>) -> Result<()> {
        let topic = Bytes::copy_from_slice(topic.as_ref());
        self.control_now(Control::Unsubscribe(topic))
    }

    /// Queues a control operation that has no reply, in order with the sends.
    fn control_now(&self, c: Control) -> Result<()> {
        if self.shared.is_closed() {
            return Err(Error::Closed);
        }
        park::block_on(self.shared.push_op(Op::Control(c)), None).unwrap_or(Err(Error::Closed))
    }

    // ---- Events ----

    /// A new stream of this socket's events (connections, handshakes,
    /// disconnections with their reasons); see [`SocketMonitor`](crate::SocketMonitor).
    /// Events from the moment this returns on are in it.
    pub fn monitor(&self) -> Result<monitor::SocketMonitor> {
        let sink = crate::monitor::EventSink::new();
        let s = sink.clone();
        park::block_on(self.shared.control(|r| Control::Monitor(s, r)), None)
            .unwrap_or(Err(Error::Closed))?;
        Ok(monitor::SocketMonitor::new(sink))
    }

    // ---- Options ----

    /// A copy of the options.
    pub fn options(&self) -> SocketOptions {
        self.shared.options()
    }

    /// Replaces every option at once, after the same check the setters make.
    pub fn set_options(&self, options: SocketOptions) -> Result<()> {
        self.try_update(|o| *o = options)
    }

    fn update(&self, f: impl FnOnce(&mut SocketOptions)) {
        // Options without a range keep valid options valid.
        let _ = self.try_update(f);
    }

    fn try_update(&self, f: impl FnOnce(&mut SocketOptions)) -> Result<()> {
        let mut options = self
            .shared
            .options
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut next = options.clone();
        f(&mut next);
        next.validate()?;
        *options = next.clone();
        drop(options);
        self.shared.ops.set_capacity(shared::out_queue_for(&next));
        // In order with the sends around it.
        self.control_now(Control::Options(Box::new(next)))
    }

    crate::options::option_setters!();

    /// Installs the authenticator this socket asks about each peer, or with
    /// `None` removes it; without one of its own, the socket consults its
    /// context's ([`Context::set_authenticator`](crate::Context::set_authenticator)).
    /// See [`SocketBase::set_authenticator`](crate::SocketBase::set_authenticator).
    pub fn set_authenticator(&self, authenticator: impl Into<Option<Authenticator>>) -> Result<()> {
        self.control_now(Control::Authenticator(authenticator.into()))
    }

    /// ZMQ_ROUTER_MANDATORY (ROUTER): a send to an unknown peer fails with
    /// [`Error::HostUnreachable`] (the send then waits for the I/O thread's answer).
    pub fn set_router_mandatory(&self, on: bool) {
        self.update(|o| o.router_mandatory = on);
    }

    /// ZMQ_REQ_RELAXED (REQ).
    pub fn set_req_relaxed(&self, on: bool) {
        self.update(|o| o.req_relaxed = on);
    }

    /// ZMQ_REQ_CORRELATE (REQ).
    pub fn set_req_correlate(&self, on: bool) {
        self.update(|o| o.req_correlate = on);
    }

    /// ZMQ_XPUB_VERBOSE (XPUB).
    pub fn set_xpub_verbose(&self, on: bool) {
        self.update(|o| o.xpub_verbose = on);
    }

    /// ZMQ_XPUB_VERBOSER (XPUB).
    pub fn set_xpub_verboser(&self, on: bool) {
        self.update(|o| o.xpub_verboser = on);
    }

    /// ZMQ_XPUB_NODROP (XPUB).
    pub fn set_xpub_nodrop(&self, on: bool) {
        self.update(|o| o.xpub_nodrop = on);
    }

    /// ZMQ_XPUB_MANUAL (XPUB).
    pub fn set_xpub_manual(&self, on: bool) {
        self.update(|o| o.xpub_manual = on);
    }

    /// ZMQ_XPUB_WELCOME_MSG (XPUB; `None`: off).
    pub fn set_xpub_welcome_msg(&self, msg: Option<impl Into<Bytes>>) {
        let msg = msg.map(Into::into);
        self.update(|o| o.xpub_welcome_msg = msg);
    }

    // ---- Closing ----

    /// Closes the socket and waits until its queued messages are delivered (or
    /// LINGER expired) and its ports and paths are released (`zmq_close` followed
    /// by what context termination waits for). Dropping the socket closes it
    /// without waiting.
    pub fn close(&self) {
        park::block_on(self.close_async(), None);
    }

    /// [`Socket::close`] for async callers.
    pub async fn close_async(&self) {
        self.shared.request_close();
        self.shared.released().await;
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for Socket {
    /// Closes the socket without waiting: queued messages still go within LINGER
    /// while the context lives.
    fn drop(&mut self) {
        self.shared.request_close();
    }
}
