//! ZMTP 3.1 heartbeats as deadlines: when our next PING is due, when a PING that
//! got no traffic back times out, and when the TTL the peer announced runs out.
//! Any received byte counts as liveness. Time comes from the caller.

use std::time::{Duration, Instant};

use super::reason::CloseReason;

/// HEARTBEAT_IVL, HEARTBEAT_TTL and HEARTBEAT_TIMEOUT of one side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeartbeatConfig {
    /// Send a PING this often (`None`: no PINGs).
    pub ivl: Option<Duration>,
    /// TTL announced in our PINGs (rounded down to tenths of a second; `None`: 0,
    /// no TTL).
    pub ttl: Option<Duration>,
    /// Close when nothing arrives this long after a PING (`None`: the interval).
    pub timeout: Option<Duration>,
}

impl HeartbeatConfig {
    /// The TTL field of our PINGs, in tenths of a second.
    pub fn ttl_deciseconds(&self) -> u16 {
        self.ttl.map_or(0, |t| {
            (t.as_millis() / 100).min(u128::from(u16::MAX)) as u16
        })
    }
}

/// The heartbeat timers of one session.
#[derive(Debug, Clone)]
pub(crate) struct Heartbeat {
    config: HeartbeatConfig,
    last_recv: Instant,
    next_ping: Option<Instant>,
    /// Our oldest PING that has seen no traffic since.
    unanswered_since: Option<Instant>,
    /// TTL from the peer's PINGs.
    remote_ttl: Option<Duration>,
}

impl Heartbeat {
    pub(crate) fn new(config: HeartbeatConfig, now: Instant) -> Heartbeat {
        Heartbeat {
            config,
            last_recv: now,
            next_ping: None,
            unanswered_since: None,
            remote_ttl: None,
        }
    }

    /// The session is ready: PINGs start one interval from now.
    pub(crate) fn start(&mut self, now: Instant) {
        self.last_recv = now;
        self.next_ping = self.config.ivl.map(|ivl| now + ivl);
    }

    pub(crate) fn received(&mut self, now: Instant) {
        self.last_recv = now;
    }

    /// The peer announced a TTL (tenths of a second) in a PING; 0 means none.
    /// Returns whether the deadlines changed.
    pub(crate) fn peer_ttl(&mut self, ttl_deciseconds: u16) -> bool {
        let ttl =
            (ttl_deciseconds > 0).then(|| Duration::from_millis(u64::from(ttl_deciseconds) * 100));
        std::mem::replace(&mut self.remote_ttl, ttl) != ttl
    }

    pub(crate) fn ttl_deciseconds(&self) -> u16 {
        self.config.ttl_deciseconds()
    }

    fn timeout(&self) -> Option<Duration> {
        self.config.timeout.or(self.config.ivl)
    }

    /// The earliest instant at which [`Heartbeat::on_timeout`] has something to do.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let unanswered = self
            .unanswered_since
            .zip(self.timeout())
            .map(|(t, d)| t + d);
        let ttl = self.remote_ttl.map(|ttl| self.last_recv + ttl);
        [self.next_ping, unanswered, ttl]
            .into_iter()
            .flatten()
            .min()
    }

    /// Advances the timers to `now`: `Ok(true)` when a PING is due.
    pub(crate) fn on_timeout(&mut self, now: Instant) -> Result<bool, CloseReason> {
        if let Some(t) = self.unanswered_since {
            if self.last_recv >= t {
                self.unanswered_since = None;
            } else if self
                .timeout()
                .is_some_and(|d| now.saturating_duration_since(t) >= d)
            {
                return Err(CloseReason::HeartbeatTimeout);
            }
        }
        if let Some(ttl) = self.remote_ttl
            && now.saturating_duration_since(self.last_recv) >= ttl
        {
            return Err(CloseReason::TtlExpired);
        }
        match (self.next_ping, self.config.ivl) {
            (Some(due), Some(ivl)) if now >= due => {
                self.next_ping = Some(now + ivl);
                self.unanswered_since.get_or_insert(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
