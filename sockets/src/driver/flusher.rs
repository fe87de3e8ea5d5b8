//! The flusher of one connection: hands whatever accumulated in the peer's
//! outbound queue, plus the session's protocol traffic (PONG, PING), to io_uring,
//! one write at a time, until the connection ends. A closing socket's flusher
//! writes what is left, then half-closes ([`Conn::finish_sending`]).

use std::cell::RefCell;
use std::rc::Rc;

use bytes::BytesMut;
use compio::BufResult;
use zeroring_zmtp::Session;

use super::conn::Conn;
use crate::pipe::outbound::{Batch, Outbound};
use crate::transport::Stream;

/// Most segments handed to one vectored write (Linux refuses more than 1024).
const MAX_SEGMENTS: usize = 512;
const SPARE_BUFFER: usize = 16 * 1024;

/// Waits until the peer's queue holds data or the session has protocol traffic
/// to send: true. False when this writer is done: a newer flusher took over
/// (`generation` is stale), or a closing socket's queue ran dry (then the
/// connection is told that sending is over). Shared with the CURVE `sealer`.
pub(super) async fn wait_for_work(
    outbound: &Outbound,
    session: &RefCell<Session>,
    conn: &Rc<Conn>,
    generation: u64,
) -> bool {
    loop {
        if !outbound.is_current(generation) {
            return false;
        }
        if outbound.has_data() || session.borrow().wants_transmit() {
            return true;
        }
        if outbound.is_draining() {
            outbound.finish();
            conn.finish_sending();
            return false;
        }
        outbound.idle().await;
    }
}

/// Runs until the connection is lost or, after a close, everything was written.
pub(crate) async fn run(
    outbound: Rc<Outbound>,
    session: Rc<RefCell<Session>>,
    mut stream: Stream,
    conn: Rc<Conn>,
) {
    let generation = outbound.start_flusher(Some(stream.clone()));
    let mut spare = BytesMut::with_capacity(SPARE_BUFFER);
    loop {
        if !wait_for_work(&outbound, &session, &conn, generation).await {
            return;
        }
        let batch = outbound.take_batch(&mut spare, |tail| {
            session.borrow_mut().poll_transmit(tail);
        });
        let result = match batch {
            Batch::Contiguous(buf) => {
                let BufResult(r, buf) = stream.write_all(buf).await;
                spare = buf;
                spare.clear();
                r
            }
            Batch::Segments(mut chunks) => {
                let mut r = Ok(());
                while !chunks.is_empty() {
                    let rest = chunks.split_off(chunks.len().min(MAX_SEGMENTS));
                    r = stream.write_vectored_all(chunks).await.0;
                    if r.is_err() {
                        break;
                    }
                    chunks = rest;
                }
                r
            }
        };
        outbound.batch_done();
        if let Err(e) = result {
            conn.write_failed(e);
            return;
        }
    }
}
