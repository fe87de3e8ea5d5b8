//! ZMTP heartbeats: PINGs every HEARTBEAT_IVL, closing after HEARTBEAT_TIMEOUT without
//! traffic, and honouring the TTL a peer announces in its own PINGs.
//!
//! Any inbound byte counts as liveness. The timer runs in its own task per connection
//! and never touches the stream: it queues PING through the writer (one at most
//! waiting to leave) and closes the connection through [`Conn::close`].

use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::connection::Conn;
use crate::options::SocketOptions;

const MIN_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy)]
struct Settings {
    ivl: Duration,
    timeout: Duration,
    ttl_deciseconds: u16,
}

/// Starts the heartbeat task of a connection (HEARTBEAT_IVL > 0).
pub(crate) fn start(conn: &Rc<Conn>, opts: &SocketOptions) {
    let settings = Settings {
        ivl: opts.heartbeat_ivl,
        timeout: opts.effective_heartbeat_timeout(),
        ttl_deciseconds: (opts.heartbeat_ttl.as_millis() / 100).min(u128::from(u16::MAX)) as u16,
    };
    spawn(conn, settings);
}

/// Makes sure a task watches the peer's TTL, even when we send no PINGs ourselves.
pub(crate) fn ensure_ttl_watch(conn: &Rc<Conn>) {
    if !conn.heartbeat_running.get() {
        spawn(
            conn,
            Settings {
                ivl: Duration::ZERO,
                timeout: Duration::ZERO,
                ttl_deciseconds: 0,
            },
        );
    }
}

fn spawn(conn: &Rc<Conn>, settings: Settings) {
    conn.heartbeat_running.set(true);
    compio::runtime::spawn(run(conn.clone(), settings)).detach();
}

async fn run(conn: Rc<Conn>, s: Settings) {
    let mut last_ping: Option<Instant> = None;
    let mut unanswered_since: Option<Instant> = None;
    loop {
        let mut tick = Duration::from_secs(1);
        for d in [s.ivl, s.timeout, conn.remote_ttl.get().unwrap_or_default()] {
            if !d.is_zero() {
                tick = tick.min(d / 2);
            }
        }
        compio::time::sleep(tick.max(MIN_TICK)).await;
        if conn.is_closed() {
            return;
        }
        let now = Instant::now();
        if let Some(t) = unanswered_since {
            if conn.last_recv() >= t {
                unanswered_since = None;
            } else if now.duration_since(t) >= s.timeout {
                conn.close("no traffic within HEARTBEAT_TIMEOUT after a PING");
                return;
            }
        }
        if !s.ivl.is_zero() && last_ping.is_none_or(|t| now.duration_since(t) >= s.ivl) {
            conn.writer.queue_ping(s.ttl_deciseconds);
            last_ping = Some(now);
            unanswered_since.get_or_insert(now);
        }
        if let Some(ttl) = conn.remote_ttl.get()
            && now.duration_since(conn.last_recv()) > ttl
        {
            conn.close("peer's HEARTBEAT_TTL expired without traffic");
            return;
        }
    }
}
