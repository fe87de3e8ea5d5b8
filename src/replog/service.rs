//! The node's request loop: everything that arrives on its ROUTER socket, from
//! followers (HELLO, ACK, FENCED) and from clients (PUT, DEL, GET, STATUS, PROMOTE,
//! FOLLOW). Writes run as their own tasks, so a write waiting for acknowledgements
//! never holds up the acknowledgements it waits for.

use std::rc::Rc;

use bytes::Bytes;

use super::error::{ReplogError, Result};
use super::leader;
use super::node::{Inner, Role};
use super::protocol::{Request, ToFollower, reply_ok};
use super::store::Op;
use crate::Message;

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
    if let Err(e) = inner.router.send(m).await {
        tracing::debug!(error = %e, "reply not sent");
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
