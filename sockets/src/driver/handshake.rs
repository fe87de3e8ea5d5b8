//! The handshake of one connection over its stream: greetings and the
//! mechanism's commands go out as the session produces them, the peer's bytes
//! go in until the session is ready, all under HANDSHAKE_IVL. When the session
//! pauses for authentication (a PLAIN or CURVE server, NULL with a ZAP domain),
//! the socket decides ([`ConnectionHost::authenticate`]) and the session
//! resumes; a refused peer is sent its ERROR before the connection closes.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use compio::BufResult;
use zeroring_zmtp::{AuthRequest, AuthResult, CloseReason, Event, PeerInfo, Session};

use super::host::{ConnectionHost, Verdict};
use crate::reason::DisconnectReason;
use crate::transport::Stream;

/// What a finished handshake hands the driver.
pub(crate) struct Handshaken {
    /// Who the peer is.
    pub(crate) peer: PeerInfo,
    /// What the peer presented, when this side authenticated it.
    pub(crate) authenticated: Option<AuthRequest>,
}

/// Runs the session's handshake over `stream` under its deadline (HANDSHAKE_IVL).
/// Bytes after the peer's last handshake command stay in `buf` for the reader.
pub(crate) async fn run(
    host: &dyn ConnectionHost,
    session: &mut Session,
    stream: &mut Stream,
    buf: &mut BytesMut,
) -> Result<Handshaken, DisconnectReason> {
    let deadline = session.poll_timeout();
    let exchange = exchange(host, session, stream, buf);
    let Some(deadline) = deadline else {
        return exchange.await;
    };
    let left = deadline.saturating_duration_since(Instant::now());
    match compio::time::timeout(left, exchange).await {
        Ok(result) => result,
        Err(_) => Err(DisconnectReason::Session(CloseReason::HandshakeTimeout)),
    }
}

async fn exchange(
    host: &dyn ConnectionHost,
    session: &mut Session,
    stream: &mut Stream,
    buf: &mut BytesMut,
) -> Result<Handshaken, DisconnectReason> {
    let mut out = BytesMut::new();
    let mut authenticated = None;
    loop {
        let event = session.poll_input(buf);
        // What the session has to say goes out first: the greeting, READY, or an
        // ERROR that tells the peer why it is refused.
        flush(session, stream, &mut out).await?;
        match event? {
            Some(Event::Ready(peer)) => {
                return Ok(Handshaken {
                    peer,
                    authenticated,
                });
            }
            Some(Event::Authenticate(request)) => {
                let address = stream.peer_ip();
                authenticate(host, session, &request, address, stream, &mut out).await?;
                authenticated = Some(request);
                // The session may be done without another byte from the peer
                // (a NULL or PLAIN server's READY): look again before reading.
                continue;
            }
            // Before it is ready a session yields nothing else.
            _ => {}
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

/// Writes what the session has to send, if anything.
async fn flush(
    session: &mut Session,
    stream: &mut Stream,
    out: &mut BytesMut,
) -> Result<(), DisconnectReason> {
    if session.poll_transmit(out) {
        let BufResult(r, _) = stream.write_all(out.split()).await;
        if let Err(e) = r {
            return Err(DisconnectReason::WriteFailed(Arc::new(e)));
        }
    }
    Ok(())
}

/// Asks the socket about the peer and resumes the session with the answer. A
/// refusal sends the peer its ERROR (the session's, with the status code)
/// before failing with our reason.
async fn authenticate(
    host: &dyn ConnectionHost,
    session: &mut Session,
    request: &AuthRequest,
    address: Option<IpAddr>,
    stream: &mut Stream,
    out: &mut BytesMut,
) -> Result<(), DisconnectReason> {
    let (result, refusal) = match host.authenticate(request, address) {
        Verdict::Allow(result) => (result, None),
        Verdict::Deny { status, reason } => (AuthResult::deny(status), Some(reason)),
    };
    let Err(e) = session.authenticated(result) else {
        return Ok(());
    };
    // The ERROR (if any) is best effort: the connection closes either way.
    let _ = flush(session, stream, out).await;
    Err(refusal.unwrap_or(DisconnectReason::Session(e)))
}
