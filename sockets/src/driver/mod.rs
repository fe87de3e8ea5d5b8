//! The connection driver: runs one [`Session`] over one transport stream, from
//! the greeting to the close, with three tasks — the reader (the only one that
//! reads, never cancelled mid-read), the flusher (the only one that writes) and
//! the timer (the session's deadlines).
//!
//! The driver never names the socket: it reaches it through
//! [`ConnectionHost`](host::ConnectionHost) when the handshake pauses for
//! authentication, when it ends, when the connection ends and for
//! subscriptions, and hands messages to the peer's pipe.
//!
//! A CURVE session encrypts: its flusher is `sealer` (every batch sealed
//! by the session before the write, no direct writes by the send path);
//! every other session gets the plain `flusher`, unchanged.

pub(crate) mod conn;
mod flusher;
mod handshake;
pub(crate) mod host;
pub(crate) mod inproc;
mod reader;
mod sealer;
mod timer;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use zeroring_zmtp::Session;

use crate::monitor::SocketEvent;
use crate::pipe::PeerId;
use crate::reason::DisconnectReason;
use crate::security::PeerProperties;
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
    let label = stream.peer_label();
    let settings = match host.settings() {
        Ok(settings) => settings,
        Err(reason) => {
            handshake_failed(&*host, label, reason);
            stream.shutdown_now();
            return;
        }
    };
    stream.configure(settings.tcp_keepalive);
    let mechanism = settings.session.security.mechanism();
    let mut session = Session::new(settings.session, Instant::now());
    let mut buf = BytesMut::with_capacity(HANDSHAKE_BUFFER);
    let done = match handshake::run(&*host, &mut session, &mut stream, &mut buf).await {
        Ok(done) => done,
        Err(reason) => {
            tracing::debug!(peer = %label, %reason, "handshake failed");
            handshake_failed(&*host, label, reason);
            stream.shutdown_now();
            return;
        }
    };
    let peer = done.peer;
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
    if let Some(request) = &done.authenticated {
        let properties =
            PeerProperties::new(mechanism, stream.peer_ip(), &peer, &request.credentials);
        host.set_peer_properties(pipe.peer, Arc::new(properties));
    }
    host.events().emit(|| SocketEvent::HandshakeSucceeded {
        peer: conn.label().to_string(),
    });
    tracing::debug!(peer = %conn.label(), socket_type = %peer.socket_type, version = %peer.version, %mechanism, "connection ready");
    let encrypting = session.is_encrypting();
    let session = Rc::new(RefCell::new(session));
    if encrypting {
        compio::runtime::spawn(sealer::run(
            outbound,
            session.clone(),
            stream.clone(),
            conn.clone(),
        ))
        .detach();
    } else {
        compio::runtime::spawn(flusher::run(
            outbound,
            session.clone(),
            stream.clone(),
            conn.clone(),
        ))
        .detach();
    }
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

/// Reports a handshake that failed: as an authentication failure (libzmq's
/// HANDSHAKE_FAILED_AUTH) when a ZAP status says why, else as a handshake
/// failure.
fn handshake_failed(host: &dyn ConnectionHost, peer: String, reason: DisconnectReason) {
    host.events().emit(|| match reason.zap_status() {
        Some(status) => SocketEvent::HandshakeFailedAuth {
            peer,
            status,
            reason,
        },
        None => SocketEvent::HandshakeFailed { peer, reason },
    });
}
