//! The `inproc://` names of one context: which socket is bound to a name (its
//! queue of incoming connections), and the connects made before their bind.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::link::Link;
use crate::error::{Error, Result};
use crate::xthread::queue::BatchQueue;

/// Incoming connections of a bound name, taken by the binding socket's accept
/// task.
pub(crate) type Accepts = Arc<BatchQueue<Arc<Link>>>;

#[derive(Debug, Default)]
struct Names {
    bound: HashMap<String, Accepts>,
    /// Connects to names not bound yet, in order.
    pending: HashMap<String, Vec<Arc<Link>>>,
}

/// The inproc names of a context.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    names: Mutex<Names>,
}

impl Registry {
    /// The registry of native sockets made with `new()` (the process's default
    /// context).
    pub(crate) fn process_default() -> Arc<Registry> {
        static DEFAULT: OnceLock<Arc<Registry>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Arc::new(Registry::default()))
            .clone()
    }

    /// Binds `name`; connects made before are handed over at once.
    pub(crate) fn bind(&self, name: &str) -> Result<Accepts> {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.bound.contains_key(name) {
            return Err(Error::Bind {
                endpoint: format!("inproc://{name}"),
                source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
            });
        }
        let accepts: Accepts = Arc::new(BatchQueue::new(usize::MAX));
        for link in names.pending.remove(name).unwrap_or_default() {
            let _ = accepts.push(link);
        }
        names.bound.insert(name.to_string(), accepts.clone());
        Ok(accepts)
    }

    /// Releases `name` (unbind or close): later connects wait for the next bind.
    pub(crate) fn unbind(&self, name: &str, accepts: &Accepts) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names
            .bound
            .get(name)
            .is_some_and(|a| Arc::ptr_eq(a, accepts))
        {
            names.bound.remove(name);
        }
        accepts.close();
    }

    /// Connects to `name`: handed to the bound socket now, or when it binds.
    pub(crate) fn connect(&self, name: &str, link: Arc<Link>) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(accepts) = names.bound.get(name)
            && accepts.push(link.clone()).is_ok()
        {
            return;
        }
        names
            .pending
            .entry(name.to_string())
            .or_default()
            .push(link);
    }

    /// Forgets a connect still waiting for its bind (disconnect, close).
    pub(crate) fn cancel(&self, name: &str, link: &Arc<Link>) {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(waiting) = names.pending.get_mut(name) {
            waiting.retain(|l| !Arc::ptr_eq(l, link));
            if waiting.is_empty() {
                names.pending.remove(name);
            }
        }
    }
}
