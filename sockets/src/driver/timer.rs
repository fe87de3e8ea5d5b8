//! The timer of one connection: sleeps until the session's next deadline
//! ([`Session::poll_timeout`]: a PING due, a heartbeat timeout, the peer's TTL)
//! and runs [`Session::handle_timeout`] with the current time. The timer never
//! touches the stream: a PING goes out through the flusher, a timeout closes the
//! connection through [`Conn::close`].

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use futures_util::future::{Either, select};
use zeroring_zmtp::Session;

use super::conn::Conn;
use crate::reason::DisconnectReason;

/// Runs until the connection is closed.
pub(crate) async fn run(session: Rc<RefCell<Session>>, conn: Rc<Conn>) {
    loop {
        if conn.is_closed() {
            return;
        }
        let changed = conn.timers_notified();
        let deadline = session.borrow().poll_timeout();
        match deadline {
            None => changed.await,
            Some(at) => {
                let sleep = compio::time::sleep(at.saturating_duration_since(Instant::now()));
                if let Either::Right(_) = select(std::pin::pin!(sleep), changed).await {
                    continue;
                }
            }
        }
        if conn.is_closed() {
            return;
        }
        let result = session.borrow_mut().handle_timeout(Instant::now());
        match result {
            Err(reason) => {
                conn.close(DisconnectReason::Session(reason));
                return;
            }
            Ok(()) => {
                if session.borrow().wants_transmit() {
                    conn.outbound().kick();
                }
            }
        }
    }
}
