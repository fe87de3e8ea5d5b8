//! The receive paths: the next message in fair-queue order, at once or waiting
//! under RCVTIMEO (with the busy-poll or adaptive spin first), or failing at once
//! (ZMQ_DONTWAIT).

use std::time::Duration;

use super::Core;
use crate::error::{Error, Result};
use crate::pipe::inbound::Received;
use crate::wait::{wait_for, yield_now};

impl Core {
    /// Takes the next message in fair-queue order, if one is waiting.
    #[inline(always)]
    pub(crate) fn try_recv(&self) -> Option<Received> {
        self.queue.try_recv()
    }

    /// Waits for the next message (fair-queued), honouring RCVTIMEO; with
    /// `dontwait` (ZMQ_DONTWAIT) fails with [`Error::WouldBlock`] instead of waiting.
    pub(crate) async fn recv(&self, dontwait: bool) -> Result<Received> {
        // Fast path: a message is waiting; no timer, no waiting future.
        if let Some(m) = self.try_recv() {
            return Ok(m);
        }
        if dontwait {
            return self.would_block("recv").await;
        }
        self.recv_wait().await
    }

    /// The waiting part of [`Core::recv`] (socket types try [`Core::try_recv`]
    /// first).
    pub(crate) async fn recv_wait(&self) -> Result<Received> {
        let (mut timeout, fixed, adaptive) =
            self.option(|o| (o.rcvtimeo, o.busy_poll, o.adaptive_spin));
        let spin = match fixed {
            Some(spin) => Some(spin),
            None => adaptive.filter(|_| self.spin.should_spin()),
        };
        if let Some(spin) = spin
            && timeout != Some(Duration::ZERO)
        {
            // Busy-poll: give the runtime back without parking, so it keeps
            // reaping completions, and look again; park only after `spin`.
            let start = std::time::Instant::now();
            let limit = timeout.map_or(spin, |t| t.min(spin));
            loop {
                if let Some(m) = self.try_recv() {
                    self.spin.hit();
                    return Ok(m);
                }
                if self.closed.get() {
                    return Err(Error::Closed);
                }
                if start.elapsed() >= limit {
                    break;
                }
                yield_now().await;
            }
            if fixed.is_none() {
                self.spin.miss();
            }
            timeout = timeout.map(|t| t.saturating_sub(start.elapsed()));
        }
        wait_for(self.queue.arrivals(), timeout, "recv", || {
            if let Some(m) = self.try_recv() {
                return Some(Ok(m));
            }
            self.closed.get().then_some(Err(Error::Closed))
        })
        .await
    }
}
