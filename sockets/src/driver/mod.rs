//! The connection driver: runs one [`Session`] over one transport stream, from
//! the greeting to the close, with three tasks — the reader (the only one that
//! reads, never cancelled mid-read), the flusher (the only one that writes) and
//! the timer (the session's deadlines).
//!
//! The driver never names the socket: it reaches it through
//! [`ConnectionHost`](host::ConnectionHost) when the handshake ends, when the
//! connection ends and for subscriptions, and hands messages to the peer's pipe.

pub(crate) mod conn;
mod flusher;
pub(crate) mod host;
pub(crate) mod inproc;
mod reader;
mod timer;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use compio::BufResult;
use zeroring_zmtp::{CloseReason, Event, PeerInfo, Session};

use crate::monitor::SocketEvent;
use crate::pipe::PeerId;
use crate::reason::DisconnectReason;
use crate::transport::Stream;
use conn::Conn;
use host::{ConnectionHost, OriginId};
use reader::Reader;

/// Read buffer size until the handshake is done: a crowd of connections that
/// never finish their handshake must not pin 64 KiB each.
const HANDSHAKE_BUFFER: usize = 512;

/// Runs a connection from handshake to close; returns when it is gone. `slot` is
/// the connect() endpoint's persistent peer slot, if it has one.
pub(crate) async fn run_connection(
    host: Rc<dyn ConnectionHost>,
    mut stream: Stream,
    origin: OriginId,
    slot: Option<PeerId>,
) {
    let settings = host.settings();
    stream.configure(settings.tcp_keepalive);
    let label = stream.peer_label();
    let mut session = Session::new(settings.session, Instant::now());
    let mut buf = BytesMut::with_capacity(HANDSHAKE_BUFFER);
    let peer = match handshake(&mut session, &mut stream, &mut buf).await {
        Ok(peer) => peer,
        Err(reason) => {
            tracing::debug!(peer = %label, %reason, "handshake failed");
            host.events().emit(|| SocketEvent::HandshakeFailed {
                peer: label.clone(),
                reason,
            });
            stream.shutdown_now();
            return;
        }
    };
    session.start(Instant::now());
    let outbound = host.outbound_for(slot);
    let conn = Rc::new(Conn::new(
        conn::ConnIo::Stream(stream.clone()),
        outbound.clone(),
        label,
    ));
    let pipe = match host.attach(&peer, &conn, origin, slot) {
        Ok(pipe) => pipe,
        Err(reason) => {
            host.events().emit(|| SocketEvent::HandshakeFailed {
                peer: conn.label().to_string(),
                reason: reason.clone(),
            });
            conn.close(reason);
            return;
        }
    };
    host.events().emit(|| SocketEvent::HandshakeSucceeded {
        peer: conn.label().to_string(),
    });
    tracing::debug!(peer = %conn.label(), socket_type = %peer.socket_type, version = %peer.version, "connection ready");
    let session = Rc::new(RefCell::new(session));
    compio::runtime::spawn(flusher::run(
        outbound,
        session.clone(),
        stream.clone(),
        conn.clone(),
    ))
    .detach();
    compio::runtime::spawn(timer::run(session.clone(), conn.clone())).detach();

    let reader = Reader {
        host: &*host,
        conn: &conn,
        session: &session,
        pipe: &pipe,
    };
    let reason = reader.run(&mut stream, buf).await;
    // The loop may end right after queueing messages it had not woken the
    // receiver for yet.
    pipe.queue.wake();
    host.detach(pipe.peer);
    conn.close(reason);
    let reason = conn.reason().unwrap_or(DisconnectReason::SocketClosed);
    host.events().emit(|| SocketEvent::Disconnected {
        peer: conn.label().to_string(),
        reason,
    });
}

/// Runs the session's handshake over `stream` under its deadline (HANDSHAKE_IVL).
/// Bytes after the peer's READY stay in `buf` for the reader.
async fn handshake(
    session: &mut Session,
    stream: &mut Stream,
    buf: &mut BytesMut,
) -> Result<PeerInfo, DisconnectReason> {
    let deadline = session.poll_timeout();
    let exchange = exchange_handshake(session, stream, buf);
    let Some(deadline) = deadline else {
        return exchange.await;
    };
    let left = deadline.saturating_duration_since(Instant::now());
    match compio::time::timeout(left, exchange).await {
        Ok(result) => result,
        Err(_) => Err(DisconnectReason::Session(CloseReason::HandshakeTimeout)),
    }
}

async fn exchange_handshake(
    session: &mut Session,
    stream: &mut Stream,
    buf: &mut BytesMut,
) -> Result<PeerInfo, DisconnectReason> {
    let mut out = BytesMut::new();
    loop {
        let event = session.poll_input(buf);
        // What the session has to say goes out first: the greeting, READY, or an
        // ERROR that tells the peer why it is refused.
        if session.poll_transmit(&mut out) {
            let BufResult(r, _) = stream.write_all(out.split()).await;
            if let Err(e) = r {
                return Err(DisconnectReason::WriteFailed(Arc::new(e)));
            }
        }
        // Before it is ready a session yields nothing but Ready.
        if let Some(Event::Ready(peer)) = event? {
            return Ok(peer);
        }
        buf.reserve(256);
        let BufResult(r, b) = stream.read(std::mem::take(buf)).await;
        *buf = b;
        match r {
            Ok(0) => return Err(session.closed_by_peer(buf.len()).into()),
            Ok(_) => session.received(Instant::now()),
            Err(e) => return Err(DisconnectReason::ReadFailed(Arc::new(e))),
        }
    }
}
