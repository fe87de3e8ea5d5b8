//! Bind and connect: the accept loop of a bound endpoint and the reconnect loop of a
//! connected one. Both run as detached tasks until the endpoint or socket is closed,
//! and run every connection they make with the socket as its host.

use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::future::{Either, select};

use zeroring_zmtp::SocketType;

use super::{Core, EndpointTask};
use crate::driver::host::ConnectionHost;
use crate::driver::run_connection;
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::monitor::SocketEvent;
use crate::pipe::PeerId;
use crate::transport::{self, Listener};

/// Binds `endpoint` and starts accepting. Returns the resolved endpoint.
pub(crate) async fn bind(core: &Rc<Core>, endpoint: &str) -> Result<Endpoint> {
    let parsed: Endpoint = endpoint.parse()?;
    core.check_security_for_endpoint()?;
    if let Endpoint::Inproc(name) = &parsed {
        return super::inproc::bind(core, endpoint, name);
    }
    let backlog = core.option(|o| o.backlog);
    let (listener, resolved) = Listener::bind(&parsed, backlog).await?;
    let task = core.register_endpoint(vec![endpoint.to_string(), resolved.to_string()]);
    core.listener_opened();
    compio::runtime::spawn(accept_loop(core.clone(), listener, task)).detach();
    tracing::debug!(endpoint = %resolved, "bound");
    core.events().emit(|| SocketEvent::Listening {
        endpoint: resolved.to_string(),
    });
    Ok(resolved)
}

async fn accept_loop(core: Rc<Core>, listener: Listener, task: Rc<EndpointTask>) {
    let mut failures = AcceptFailures::default();
    loop {
        if task.stopped.get() || core.is_closed() {
            break;
        }
        let stop = task.stop.notified();
        let accepted = match select(pin!(listener.accept()), pin!(stop)).await {
            Either::Left((r, _)) => r,
            Either::Right(_) => break,
        };
        match accepted {
            Ok(stream) => {
                failures.recovered(&task);
                core.events().emit(|| SocketEvent::Accepted {
                    endpoint: task.name(),
                    peer: stream.peer_label(),
                });
                let host: Rc<dyn ConnectionHost> = core.clone();
                compio::runtime::spawn(run_connection(host, stream, task.id, None)).detach();
            }
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                failures.failed(&task, &e);
                compio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    drop(listener);
    core.events().emit(|| SocketEvent::Closed {
        endpoint: task.name(),
    });
    core.listener_released();
}

/// How often a listener that keeps failing to accept (out of file descriptors)
/// says so.
const ACCEPT_WARN_EVERY: Duration = Duration::from_secs(10);

/// Rate-limits the warnings of a failing accept loop: the first failure is logged,
/// then one line per [`ACCEPT_WARN_EVERY`] with the count of failures in between,
/// and one line when accepting works again.
#[derive(Debug, Default)]
struct AcceptFailures {
    last_warned: Option<Instant>,
    unreported: u64,
    total: u64,
}

impl AcceptFailures {
    fn failed(&mut self, task: &EndpointTask, error: &std::io::Error) {
        self.total += 1;
        let now = Instant::now();
        if self
            .last_warned
            .is_some_and(|t| now.duration_since(t) < ACCEPT_WARN_EVERY)
        {
            self.unreported += 1;
            return;
        }
        let endpoint = task.name();
        tracing::warn!(
            %endpoint,
            %error,
            failures_since_last_warning = self.unreported,
            "accept failed (retrying every 10 ms; this warning repeats at most every 10 s)"
        );
        self.last_warned = Some(now);
        self.unreported = 0;
    }

    fn recovered(&mut self, task: &EndpointTask) {
        if self.total > 0 {
            let endpoint = task.name();
            tracing::warn!(%endpoint, failures = self.total, "accepting connections again");
            *self = AcceptFailures::default();
        }
    }
}

/// Starts connecting to `endpoint` in the background; returns at once.
pub(crate) fn connect(core: &Rc<Core>, endpoint: &str) -> Result<()> {
    let parsed: Endpoint = endpoint.parse()?;
    core.check_security_for_endpoint()?;
    if let Endpoint::Inproc(name) = &parsed {
        return super::inproc::connect(core, endpoint, name);
    }
    let task = core.register_endpoint(vec![endpoint.to_string(), parsed.to_string()]);
    // Like libzmq with ZMQ_IMMEDIATE off: the peer slot exists from now on, so sends
    // can queue before the connection is up. ROUTER peers need a routing id first.
    let immediate = core.option(|o| o.immediate);
    let slot = (core.socket_type() != SocketType::Router && !immediate)
        .then(|| core.create_pending(task.id));
    compio::runtime::spawn(connect_loop(core.clone(), parsed, task, slot)).detach();
    Ok(())
}

async fn connect_loop(
    core: Rc<Core>,
    endpoint: Endpoint,
    task: Rc<EndpointTask>,
    slot: Option<PeerId>,
) {
    let gave_up = connect_until_stopped(&core, &endpoint, &task, slot).await;
    // A closed socket forgets the slot once this endpoint gives up (delivered,
    // LINGER expired, or disconnect()).
    core.connect_ended(slot);
    // With RECONNECT_IVL off the slot goes too, with what it queued (as libzmq
    // ends the session's pipe): sends no longer wait for a peer that never comes.
    if gave_up
        && !core.is_closed()
        && let Some(id) = slot
    {
        core.remove_peer(id);
    }
}

/// Connects and reconnects until the endpoint is stopped; returns true when it
/// stopped because RECONNECT_IVL is off (no further attempt).
async fn connect_until_stopped(
    core: &Rc<Core>,
    endpoint: &Endpoint,
    task: &Rc<EndpointTask>,
    slot: Option<PeerId>,
) -> bool {
    let mut backoff: Option<Duration> = None;
    loop {
        if task.stopped.get() || (core.is_closed() && !task.draining.get()) {
            return false;
        }
        let stop = task.stop.notified();
        let connected = match select(pin!(transport::connect(endpoint)), pin!(stop)).await {
            Either::Left((r, _)) => r,
            Either::Right(_) => return false,
        };
        let reconnects = core.option(|o| o.reconnect_ivl.is_some());
        match connected {
            Ok(stream) => {
                tracing::debug!(%endpoint, "connected");
                core.events().emit(|| SocketEvent::Connected {
                    endpoint: endpoint.to_string(),
                });
                backoff = None;
                if task.stopped.get() || (core.is_closed() && !task.draining.get()) {
                    stream.shutdown_now();
                    return false;
                }
                let host: Rc<dyn ConnectionHost> = core.clone();
                run_connection(host, stream, task.id, slot).await;
            }
            Err(e) if reconnects => {
                tracing::trace!(%endpoint, error = %e, "connect failed; will retry");
                core.events().emit(|| SocketEvent::ConnectRetried {
                    endpoint: endpoint.to_string(),
                    reason: e.to_string(),
                });
            }
            Err(e) => tracing::debug!(%endpoint, error = %e, "connect failed"),
        }
        // Read again: the options may have changed while the connection was up.
        let (ivl, ivl_max) = core.option(|o| (o.reconnect_ivl, o.reconnect_ivl_max));
        // libzmq: RECONNECT_IVL -1 stops here; otherwise wait RECONNECT_IVL, and with
        // RECONNECT_IVL_MAX above it, double the wait after each failed attempt up
        // to the maximum.
        let Some(ivl) = ivl else {
            tracing::debug!(%endpoint, "RECONNECT_IVL is off: not reconnecting");
            return true;
        };
        let wait = match (backoff, ivl_max) {
            (Some(prev), Some(max)) if max > ivl => (prev * 2).min(max),
            _ => ivl,
        };
        backoff = Some(wait);
        let stop = task.stop.notified();
        if task.stopped.get() {
            return false;
        }
        if let Either::Right(_) = select(pin!(compio::time::sleep(wait)), pin!(stop)).await {
            return false;
        }
    }
}
