//! A socket's endpoints and its end: registering binds and connects, stopping
//! them (unbind, disconnect), close() with LINGER, waiting until ports, paths and
//! queued messages are released, and the warning when a runtime stops first.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use super::Core;
use crate::driver::conn::Conn;
use crate::driver::host::OriginId;
use crate::error::{Error, Result};
use crate::notify::Notify;
use crate::pipe::PeerId;
use crate::reason::DisconnectReason;

/// A bind or connect registered on the socket.
#[derive(Debug)]
pub(crate) struct EndpointTask {
    pub(crate) id: OriginId,
    /// The endpoint as the user wrote it, and the resolved form for bind.
    pub(crate) names: Vec<String>,
    pub(crate) stopped: Cell<bool>,
    pub(crate) stop: Notify,
    /// The socket is closed but this connect() still has queued messages to
    /// deliver within LINGER: keep connecting until they are out.
    pub(crate) draining: Cell<bool>,
}

impl EndpointTask {
    /// The endpoint as bind resolved it (or as connect was given it).
    pub(crate) fn name(&self) -> String {
        self.names.last().cloned().unwrap_or_default()
    }

    fn stop_now(&self) {
        self.stopped.set(true);
        self.stop.notify_all();
    }
}

impl Core {
    /// Registers a new bind/connect and returns its handle.
    pub(crate) fn register_endpoint(&self, names: Vec<String>) -> Rc<EndpointTask> {
        let mut st = self.state.borrow_mut();
        st.next_origin += 1;
        let task = Rc::new(EndpointTask {
            id: st.next_origin,
            names,
            stopped: Cell::new(false),
            stop: Notify::default(),
            draining: Cell::new(false),
        });
        st.endpoints.push(task.clone());
        task
    }

    /// Stops a bind or connect by endpoint name and closes its connections.
    pub(crate) fn stop_endpoint(&self, name: &str) -> Result<()> {
        let task = {
            let mut st = self.state.borrow_mut();
            let Some(pos) = st
                .endpoints
                .iter()
                .position(|t| t.names.iter().any(|n| n == name))
            else {
                return Err(Error::UnknownEndpoint(name.to_string()));
            };
            st.endpoints.remove(pos)
        };
        task.stop_now();
        let (conns, slots): (Vec<Rc<Conn>>, Vec<PeerId>) = {
            let st = self.state.borrow();
            let mine = st.peers.all().iter().filter(|p| p.origin == task.id);
            (
                mine.clone().filter_map(|p| p.conn.clone()).collect(),
                mine.map(|p| p.id).collect(),
            )
        };
        for c in conns {
            c.close(DisconnectReason::EndpointStopped);
        }
        for id in slots {
            self.remove_peer(id);
        }
        self.lifecycle.notify_all();
        Ok(())
    }

    /// Drops a slot: its queued output is discarded, its received messages stay
    /// readable.
    pub(crate) fn remove_peer(&self, id: PeerId) {
        let peer = self.state.borrow_mut().peers.remove(id);
        if let Some(peer) = peer {
            peer.outbound.abort();
            peer.inbox.peer_gone();
        }
    }

    /// A bind's listener is open (until [`Core::listener_released`]).
    pub(crate) fn listener_opened(&self) {
        self.listeners_open.set(self.listeners_open.get() + 1);
    }

    pub(crate) fn listener_released(&self) {
        self.listeners_open.set(self.listeners_open.get() - 1);
        self.lifecycle.notify_all();
    }

    /// Closes the socket: stops all endpoints; queued output is delivered within
    /// LINGER, then connections shut down.
    pub(crate) fn close(&self) {
        if self.closed.replace(true) {
            return;
        }
        self.queue.close();
        let linger = self.option(|o| o.linger);
        let peers = self.state.borrow().peers.all().to_vec();
        // connect() slots that never connected (or are between connections) but
        // hold messages keep connecting until they are delivered or LINGER ends,
        // as libzmq does.
        let mut draining = Vec::new();
        for p in &peers {
            if p.conn.is_none() {
                if p.persistent && linger != Some(Duration::ZERO) && p.outbound.holds_undelivered()
                {
                    p.outbound.drain_and_close();
                    draining.push(p.origin);
                } else {
                    self.remove_peer(p.id);
                }
            }
        }
        self.stop_endpoints_except(&draining, linger);
        for p in peers {
            let Some(conn) = p.conn else {
                continue;
            };
            match linger {
                Some(d) if d.is_zero() => conn.close(DisconnectReason::ClosedWithLingerZero),
                _ => {
                    p.outbound.drain_and_close();
                    if let Some(d) = linger {
                        compio::runtime::spawn(async move {
                            compio::time::sleep(d).await;
                            conn.linger_expired();
                        })
                        .detach();
                    }
                }
            }
        }
        self.lifecycle.notify_all();
        self.room.notify_all();
    }

    /// Stops every endpoint but the connects still delivering (`draining`); those
    /// stop when they are done or when LINGER ends.
    fn stop_endpoints_except(&self, draining: &[OriginId], linger: Option<Duration>) {
        let stopped: Vec<Rc<EndpointTask>> = {
            let mut st = self.state.borrow_mut();
            let (keep, stop) = std::mem::take(&mut st.endpoints)
                .into_iter()
                .partition(|t| draining.contains(&t.id));
            st.endpoints = keep;
            stop
        };
        for t in stopped {
            t.stop_now();
        }
        for t in self.state.borrow().endpoints.iter() {
            t.draining.set(true);
            if let Some(d) = linger {
                let task = t.clone();
                compio::runtime::spawn(async move {
                    compio::time::sleep(d).await;
                    task.stop_now();
                })
                .detach();
            }
        }
    }

    /// Waits until every listener has released its port or path and every
    /// connection has finished (queued output delivered, or LINGER expired).
    pub(crate) async fn wait_released(&self) {
        loop {
            let changed = self.lifecycle.notified();
            if self.listeners_open.get() == 0 && self.state.borrow().peers.all().is_empty() {
                return;
            }
            changed.await;
        }
    }

    /// A connect() endpoint gave up after the socket closed (delivered, LINGER
    /// expired, or disconnect()): its slot goes.
    pub(crate) fn connect_ended(&self, slot: Option<PeerId>) {
        if self.closed.get()
            && let Some(id) = slot
        {
            self.remove_peer(id);
            self.lifecycle.notify_all();
        }
    }
}

/// The last reference goes when the socket is dropped and its background tasks
/// end: normally after everything was delivered, but when the runtime stops first,
/// the messages still queued die with it. Say so, with their count.
impl Drop for Core {
    fn drop(&mut self) {
        let st = self.state.get_mut();
        let lost: usize = st.peers.all().iter().map(|p| p.outbound.queued()).sum();
        if lost > 0 {
            tracing::warn!(
                socket_type = %self.socket_type,
                messages = lost,
                "{lost} queued message(s) lost: the socket's runtime stopped before they \
                 were delivered (call close().await before leaving the runtime)"
            );
        }
    }
}
