//! Bind and connect for `inproc://` endpoints: a bind takes the name in the
//! socket's registry and runs each incoming link with the socket as its host; a
//! connect makes the link at once (its slot queues into it, like libzmq, even
//! before the name is bound) and runs it once the bound socket answers. An
//! inproc connection does not reconnect: when it ends, its slot goes.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;

use futures_util::future::{Either, select};
use zeroring_zmtp::SocketType;

use super::{Core, EndpointTask};
use crate::driver::host::ConnectionHost;
use crate::driver::inproc::{run_binder, run_connecter};
use crate::endpoint::Endpoint;
use crate::error::Result;
use crate::inproc::link::{Item, Link};
use crate::inproc::registry::{Accepts, Registry};
use crate::monitor::SocketEvent;
use crate::pipe::outbound::Outbound;

/// Binds `inproc://name`.
pub(crate) fn bind(core: &Rc<Core>, given: &str, name: &str) -> Result<Endpoint> {
    let accepts = core.inproc.bind(name)?;
    let resolved = Endpoint::Inproc(name.to_string());
    let task = core.register_endpoint(vec![given.to_string(), resolved.to_string()]);
    core.listener_opened();
    let accepting = accept_loop(core.clone(), name.to_string(), accepts, task);
    compio::runtime::spawn(accepting).detach();
    tracing::debug!(endpoint = %resolved, "bound");
    core.events().emit(|| SocketEvent::Listening {
        endpoint: resolved.to_string(),
    });
    Ok(resolved)
}

/// A bound name, released when the accept loop ends, also when its runtime
/// stops and drops the loop half-way (the socket leaked, or dropped as the
/// runtime ended): later binds may take the name, and the connects that arrived
/// after the last take are refused, as if they came after the unbind.
struct Bound {
    registry: Arc<Registry>,
    name: String,
    accepts: Accepts,
}

impl Drop for Bound {
    fn drop(&mut self) {
        self.registry.unbind(&self.name, &self.accepts);
        let mut links = VecDeque::new();
        self.accepts.take_all(&mut links);
        for link in links {
            let _ = link.to_connecter.push_force(Item::Refused(format!(
                "inproc://{} was unbound before the connection was accepted",
                self.name
            )));
        }
    }
}

async fn accept_loop(core: Rc<Core>, name: String, accepts: Accepts, task: Rc<EndpointTask>) {
    let label = format!("inproc://{name}");
    let bound = Bound {
        registry: core.inproc.clone(),
        name,
        accepts,
    };
    let accepts = &bound.accepts;
    let mut links = VecDeque::new();
    loop {
        if task.stopped.get() || core.is_closed() {
            break;
        }
        let stop = task.stop.notified();
        let taken = poll_fn(|cx| accepts.poll_take_all(cx, &mut links));
        if let Either::Right(_) = select(pin!(taken), pin!(stop)).await {
            break;
        }
        for link in links.drain(..) {
            core.events().emit(|| SocketEvent::Accepted {
                endpoint: label.clone(),
                peer: label.clone(),
            });
            let host: Rc<dyn ConnectionHost> = core.clone();
            let run = run_binder(host, link, task.id, label.clone(), stopped(task.clone()));
            compio::runtime::spawn(run).detach();
        }
    }
    drop(bound);
    core.events()
        .emit(|| SocketEvent::Closed { endpoint: label });
    core.listener_released();
}

/// Connects to `inproc://name`; returns at once.
pub(crate) fn connect(core: &Rc<Core>, given: &str, name: &str) -> Result<()> {
    let label = format!("inproc://{name}");
    let task = core.register_endpoint(vec![given.to_string(), label.clone()]);
    let capacity = core.option(|o| o.sndhwm.unwrap_or(usize::MAX));
    let link = Link::new(ConnectionHost::inproc_meta(&**core), capacity);
    let immediate = core.option(|o| o.immediate);
    let slot = (core.socket_type() != SocketType::Router && !immediate).then(|| {
        let outbound = Outbound::inproc(core.room.clone(), link.to_binder.clone());
        core.create_slot(task.id, outbound)
    });
    core.inproc.connect(name, link.clone());
    let connecting = Connecting {
        registry: core.inproc.clone(),
        name: name.to_string(),
        link: link.clone(),
    };
    let core = core.clone();
    compio::runtime::spawn(async move {
        let host: Rc<dyn ConnectionHost> = core.clone();
        let id = task.id;
        run_connecter(host, link, id, slot, label, stopped(task)).await;
        drop(connecting);
        core.connect_ended(slot);
    })
    .detach();
    Ok(())
}

/// A connect's link, let go when the connect ends, also when its runtime stops
/// and drops it half-way (the socket leaked, or dropped as the runtime ended):
/// the registry forgets it (it may still hold it for a later bind), and a binding
/// side that took it sees it end instead of waiting forever. After a Close that
/// went before, the binding side ignores this one.
struct Connecting {
    registry: Arc<Registry>,
    name: String,
    link: Arc<Link>,
}

impl Drop for Connecting {
    fn drop(&mut self) {
        self.registry.cancel(&self.name, &self.link);
        let _ = self.link.to_binder.push_force(Item::Close);
    }
}

/// Completes once `task` is stopped (unbind, disconnect, close).
async fn stopped(task: Rc<EndpointTask>) {
    loop {
        let stop = task.stop.notified();
        if task.stopped.get() {
            return;
        }
        stop.await;
    }
}
