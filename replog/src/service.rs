//! The node's request loop: everything that arrives on its ROUTER socket, from
//! followers (HELLO, ACK, FENCED) and from clients (PUT, DEL, GET, STATUS, PROMOTE,
//! FOLLOW). Writes run as their own tasks, so a write waiting for acknowledgements
//! never holds up the acknowledgements it waits for.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::error::{ReplogError, Result};
use super::leader;
use super::node::{Inner, Role};
use super::protocol::{Request, ToFollower, reply_ok};
use super::store::Op;
use zeroring_sockets::Message;

/// Serves the node's ROUTER until the node closes.
pub(crate) async fn run(inner: Rc<Inner>) {
    while !inner.closed.get() {
        let msg = match inner.router.recv().await {
            Ok(msg) => msg,
            Err(e) => {
                if !inner.closed.get() {
                    tracing::warn!(error = %e, "node socket failed");
                }
                return;
            }
        };
        let frames = msg.frames();
        let (Some(id), Some(delimiter)) = (frames.first(), frames.get(1)) else {
            continue;
        };
        if !delimiter.is_empty() {
            tracing::debug!("request without an empty delimiter frame; ignored");
            continue;
        }
        let id = id.clone();
        match Request::parse(&frames[2..]) {
            Ok(request) => dispatch(&inner, id, request).await,
            Err(e) => reply(&inner, &id, Err(e)).await,
        }
    }
}

async fn dispatch(inner: &Rc<Inner>, id: Bytes, request: Request) {
    match request {
        Request::Hello {
            name,
            epoch,
            last_log_epoch,
            next,
        } => {
            if let Err(e) = leader::on_hello(inner, id, name, epoch, last_log_epoch, next).await {
                tracing::warn!(error = %e, "answering a follower failed");
            }
        }
        Request::Ack { received, durable } => {
            if !leader::on_ack(inner, &id, received, durable)
                && matches!(*inner.role.borrow(), Role::Leader { .. })
            {
                let _ = leader::send(inner, &id, ToFollower::Resync).await;
            }
        }
        Request::Fenced { epoch } => leader::fence(inner, epoch),
        Request::Put {
            key,
            value,
            ack,
            durable,
        } => {
            let inner = inner.clone();
            compio::runtime::spawn(async move {
                let result = inner
                    .write(
                        Op::Put {
                            key: &key,
                            value: &value,
                        },
                        ack,
                        durable,
                    )
                    .await
                    .map(|offset| reply_ok(offset.to_string()));
                reply(&inner, &id, result).await;
            })
            .detach();
        }
        Request::Delete { key, ack, durable } => {
            let inner = inner.clone();
            compio::runtime::spawn(async move {
                let result = inner
                    .write(Op::Delete { key: &key }, ack, durable)
                    .await
                    .map(|offset| reply_ok(offset.to_string()));
                reply(&inner, &id, result).await;
            })
            .detach();
        }
        Request::Get { key } => {
            let value = inner.kv.borrow().get(&key);
            let result = match value {
                Some(v) => Ok(reply_ok(v)),
                None => Ok([Bytes::from_static(b"NONE"), Bytes::new()]),
            };
            reply(inner, &id, result).await;
        }
        Request::Status => {
            let text = inner.status().to_string();
            reply(inner, &id, Ok(reply_ok(text))).await;
        }
        Request::Promote => {
            let result = inner.promote().map(|epoch| reply_ok(epoch.to_string()));
            reply(inner, &id, result).await;
        }
        Request::Follow { leader } => {
            super::follower::start(inner, leader.clone());
            reply(inner, &id, Ok(reply_ok(format!("following {leader}")))).await;
        }
    }
}

/// Sends a client its answer: `OK` + result, `NONE`, or `ERR` + message.
async fn reply(inner: &Inner, id: &Bytes, result: Result<[Bytes; 2]>) {
    let mut m = Message::with_capacity(4);
    m.push_back(id.clone());
    m.push_back(Bytes::new());
    match result {
        Ok([status, body]) => {
            m.push_back(status);
            if !(status_is_none(&m) && body.is_empty()) {
                m.push_back(body);
            }
        }
        Err(e) => {
            m.push_back(Bytes::from_static(b"ERR"));
            m.push_back(Bytes::from(e.to_string()));
        }
    }
    send_or_drop(inner, m, "reply").await;
}

/// Sends one message on the node's ROUTER without waiting: a peer that does not
/// read what it is sent (over its byte budget) gets this message dropped and
/// counted, a peer that is gone is skipped. Returns whether it was queued.
pub(crate) async fn send_or_drop(inner: &Inner, m: Message, what: &'static str) -> bool {
    match inner.router.try_send(m).await {
        Ok(()) => true,
        Err(zeroring_sockets::Error::WouldBlock(_)) => {
            inner.slow_peers.dropped_one(what);
            false
        }
        Err(e) => {
            tracing::debug!(error = %e, what, "not sent");
            false
        }
    }
}

/// Counts messages dropped for peers that do not read, and warns about them once,
/// then at most every [`SLOW_PEER_WARN_EVERY`].
#[derive(Debug, Default)]
pub(crate) struct SlowPeers {
    dropped: Cell<u64>,
    last_warned: Cell<Option<Instant>>,
    since_warned: Cell<u64>,
}

/// How often the node repeats its warning about peers that do not read.
const SLOW_PEER_WARN_EVERY: Duration = Duration::from_secs(10);

impl SlowPeers {
    fn dropped_one(&self, what: &'static str) {
        self.dropped.set(self.dropped.get() + 1);
        self.since_warned.set(self.since_warned.get() + 1);
        let now = Instant::now();
        if self
            .last_warned
            .get()
            .is_some_and(|t| now.duration_since(t) < SLOW_PEER_WARN_EVERY)
        {
            return;
        }
        tracing::warn!(
            what,
            dropped = self.since_warned.get(),
            total = self.dropped.get(),
            "a peer is not reading what the node sends it (over its byte budget): \
             dropping messages to it"
        );
        self.last_warned.set(Some(now));
        self.since_warned.set(0);
    }

    /// Messages dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.get()
    }
}

fn status_is_none(m: &Message) -> bool {
    m.get(2).is_some_and(|s| &s[..] == b"NONE")
}

/// Turns a node's reply frames (after the delimiter) into a result for clients.
pub(crate) fn parse_reply(frames: &[Bytes]) -> Result<Option<Bytes>> {
    match frames.first().map(|f| &f[..]) {
        Some(b"OK") => Ok(Some(frames.get(1).cloned().unwrap_or_default())),
        Some(b"NONE") => Ok(None),
        Some(b"ERR") => Err(ReplogError::Remote(
            frames
                .get(1)
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .unwrap_or_default(),
        )),
        _ => Err(ReplogError::Protocol(
            "unexpected reply from the node".into(),
        )),
    }
}
