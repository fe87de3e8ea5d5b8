//! The flusher of an encrypting (CURVE) connection: like `flusher`, the one
//! task that writes, but every batch passes through the session first.
//!
//! The send path encodes plain ZMTP frames into the peer's outbound queue (a
//! queue outlives its connections, so it cannot hold one connection's
//! ciphertext). Here each batch is sealed by [`Session::seal`] into one CURVE
//! MESSAGE per frame, then the session's own traffic (PONG, PING, sealed by
//! the session) is appended, and the result is written in that order, which
//! is the order of the nonces. The direct write path of REQ and REP is off
//! for such a connection (`Outbound::start_flusher(None)`), so no byte reaches
//! the stream any other way.

use std::cell::RefCell;
use std::rc::Rc;

use bytes::BytesMut;
use compio::BufResult;
use zeroring_zmtp::Session;

use super::conn::Conn;
use super::flusher::wait_for_work;
use crate::pipe::outbound::{Batch, Outbound};
use crate::transport::Stream;

const SPARE_BUFFER: usize = 16 * 1024;
/// A buffer that grew past this for one large batch is not kept for the next.
const KEEP_BUFFER: usize = 4 * 1024 * 1024;

/// Runs until the connection is lost or, after a close, everything was written.
pub(crate) async fn run(
    outbound: Rc<Outbound>,
    session: Rc<RefCell<Session>>,
    mut stream: Stream,
    conn: Rc<Conn>,
) {
    // No direct writes: every byte passes through the session's seal.
    let generation = outbound.start_flusher(None);
    let mut plain = BytesMut::with_capacity(SPARE_BUFFER);
    let mut sealed = BytesMut::with_capacity(SPARE_BUFFER);
    loop {
        if !wait_for_work(&outbound, &session, &conn, generation).await {
            return;
        }
        // The session's commands are not added to the plain batch: they are
        // sealed by the session itself, after the batch.
        let batch = outbound.take_batch(&mut plain, |_| {});
        {
            let mut session = session.borrow_mut();
            match batch {
                Batch::Contiguous(buf) => {
                    session.seal(&buf, &mut sealed);
                    plain = reuse(buf);
                }
                Batch::Segments(chunks) => {
                    for chunk in &chunks {
                        session.seal(chunk, &mut sealed);
                    }
                }
            }
            session.poll_transmit(&mut sealed);
        }
        let BufResult(result, buf) = stream.write_all(sealed).await;
        sealed = reuse(buf);
        outbound.batch_done();
        if let Err(e) = result {
            conn.write_failed(e);
            return;
        }
    }
}

/// The buffer, emptied, unless one large batch made it too big to keep.
fn reuse(mut buf: BytesMut) -> BytesMut {
    if buf.capacity() > KEEP_BUFFER {
        return BytesMut::with_capacity(SPARE_BUFFER);
    }
    buf.clear();
    buf
}
