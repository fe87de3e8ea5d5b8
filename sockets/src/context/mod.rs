//! [`Context`]: the I/O threads behind thread-safe sockets (libzmq's context).
//! Each I/O thread runs a compio runtime; a socket handle created from the context
//! lives on one of them (round-robin). Terminating the context closes every socket
//! it made, honouring LINGER, then stops the threads, as `zmq_ctx_term` does once
//! its sockets are closed.

mod native;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use zeroring_zmtp::SocketType;

use crate::error::{Error, Result};
use crate::handle::Socket;
use crate::handle::pump;
use crate::handle::shared::Shared;
use crate::inproc::registry::Registry;
use crate::security::Authenticator;
use crate::security::authenticator::AuthenticatorSlot;
use crate::xthread::queue::BatchQueue;

/// Work for an I/O thread: runs on its runtime (and may spawn tasks there).
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// Cross-thread wake-ups an I/O thread's runtime can queue before its sender
/// spins (compio's default is 64).
const WAKE_QUEUE: usize = 4096;

struct IoThread {
    jobs: Arc<BatchQueue<Job>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for IoThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IoThread").finish_non_exhaustive()
    }
}

/// Sockets of a context that are not closed yet.
#[derive(Debug, Default)]
struct Live {
    sockets: Vec<std::sync::Weak<crate::handle::shared::Shared>>,
    open: usize,
}

#[derive(Debug)]
pub(crate) struct ContextInner {
    threads: Vec<IoThread>,
    next: AtomicUsize,
    live: Mutex<Live>,
    all_closed: Condvar,
    /// The context's `inproc://` names.
    inproc: Arc<Registry>,
    /// The authenticator of the context's sockets (libzmq's ZAP handler).
    authenticator: Arc<AuthenticatorSlot>,
}

/// The I/O threads behind thread-safe [`Socket`]s (`ZMQ_IO_THREADS`).
///
/// Create one per process (or per group of sockets that share threads), make
/// sockets with [`Context::socket`], and use them from any thread or runtime.
/// Dropping the context (or [`Context::terminate`]) closes its sockets, lets their
/// queued messages go within LINGER, and stops the threads.
///
/// ```no_run
/// use zeroring_sockets::{Context, SocketType};
/// let ctx = Context::new()?;
/// let rep = ctx.socket(SocketType::Rep)?;
/// let ep = rep.bind("tcp://127.0.0.1:0")?;
/// let req = ctx.socket(SocketType::Req)?;
/// req.connect(&ep.to_string())?;
/// req.send("hello")?;
/// let request = rep.recv()?;
/// rep.send(request)?;
/// assert_eq!(&req.recv()?[0][..], b"hello");
/// # Ok::<(), zeroring_sockets::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Context {
    owner: Arc<Owner>,
}

/// Held by the application's clones of a [`Context`] (not by its sockets): when
/// the last one goes, the context terminates.
#[derive(Debug)]
struct Owner {
    inner: Arc<ContextInner>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.inner.terminate();
    }
}

impl Context {
    /// A context with one I/O thread (libzmq's default).
    pub fn new() -> Result<Context> {
        Context::with_io_threads(1)
    }

    /// A context with `n` I/O threads (at least one).
    pub fn with_io_threads(n: usize) -> Result<Context> {
        let mut threads = Vec::with_capacity(n.max(1));
        for i in 0..n.max(1) {
            threads.push(spawn_io_thread(i)?);
        }
        Ok(Context {
            owner: Arc::new(Owner {
                inner: Arc::new(ContextInner {
                    threads,
                    next: AtomicUsize::new(0),
                    live: Mutex::new(Live::default()),
                    all_closed: Condvar::new(),
                    inproc: Arc::new(Registry::default()),
                    authenticator: Arc::new(AuthenticatorSlot::default()),
                }),
            }),
        })
    }

    /// The number of I/O threads.
    pub fn io_threads(&self) -> usize {
        self.owner.inner.threads.len()
    }

    /// A new socket of `socket_type`, usable from any thread. See [`Socket`].
    pub fn socket(&self, socket_type: SocketType) -> Result<Socket> {
        create_socket(&self.owner.inner, socket_type)
    }

    /// The context's `inproc://` names (for native sockets made with
    /// `with_context`).
    pub(crate) fn inproc(&self) -> Arc<Registry> {
        self.owner.inner.inproc.clone()
    }

    /// Installs the authenticator (the ZAP handler, RFC 27) every socket of
    /// this context consults, or with `None` removes it, as libzmq's sockets
    /// consult the ZAP handler bound in their context. A socket's own
    /// authenticator (`set_authenticator` on the socket) wins over this one.
    /// Applies to handshakes from now on.
    ///
    /// ```no_run
    /// use zeroring_sockets::{Authenticator, Context, SocketType};
    /// let ctx = Context::new()?;
    /// let auth = Authenticator::new();
    /// auth.allow_any_curve_key(true);
    /// ctx.set_authenticator(auth);
    /// let rep = ctx.socket(SocketType::Rep)?;
    /// rep.set_curve_server(true)?;
    /// rep.set_curve_keypair(&zeroring_sockets::curve_keypair()?)?;
    /// rep.bind("tcp://127.0.0.1:0")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_authenticator(&self, authenticator: impl Into<Option<Authenticator>>) {
        *self
            .owner
            .inner
            .authenticator
            .write()
            .unwrap_or_else(|e| e.into_inner()) = authenticator.into();
    }

    /// Where the context keeps its authenticator (for native sockets made with
    /// `with_context`).
    pub(crate) fn authenticator_slot(&self) -> Arc<AuthenticatorSlot> {
        self.owner.inner.authenticator.clone()
    }

    /// Closes every socket of this context (queued messages still go within their
    /// LINGER), waits until they are released, and stops the I/O threads. Sockets
    /// used afterwards fail with [`Error::Closed`]. Dropping the last clone of the
    /// context does the same.
    pub fn terminate(&self) {
        self.owner.inner.terminate();
    }
}

impl ContextInner {
    /// Runs `job` on the next I/O thread (round-robin).
    pub(crate) fn run(&self, job: Job) -> Result<()> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.threads.len();
        self.threads[i].jobs.push(job).map_err(|_| Error::Closed)
    }

    /// The context's `inproc://` names.
    pub(crate) fn inproc(&self) -> Arc<Registry> {
        self.inproc.clone()
    }

    /// Where the context keeps its authenticator.
    pub(crate) fn authenticator(&self) -> Arc<AuthenticatorSlot> {
        self.authenticator.clone()
    }

    /// A socket was created: it counts until it reports closed.
    pub(crate) fn register(&self, shared: &Arc<crate::handle::shared::Shared>) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.sockets.retain(|w| w.strong_count() > 0);
        live.sockets.push(Arc::downgrade(shared));
        live.open += 1;
    }

    /// A socket's I/O thread reports it closed and released.
    pub(crate) fn socket_released(&self) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.open -= 1;
        if live.open == 0 {
            self.all_closed.notify_all();
        }
    }

    fn terminate(&self) {
        let sockets: Vec<_> = {
            let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
            live.sockets
                .iter()
                .filter_map(std::sync::Weak::upgrade)
                .collect()
        };
        for s in sockets {
            s.request_close();
        }
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        while live.open > 0 {
            live = self
                .all_closed
                .wait(live)
                .unwrap_or_else(|e| e.into_inner());
        }
        drop(live);
        for t in &self.threads {
            t.jobs.close();
            if let Some(h) = t.thread.lock().unwrap_or_else(|e| e.into_inner()).take()
                && h.thread().id() != std::thread::current().id()
            {
                let _ = h.join();
            }
        }
    }
}

fn spawn_io_thread(index: usize) -> Result<IoThread> {
    let jobs: Arc<BatchQueue<Job>> = Arc::new(BatchQueue::new(usize::MAX));
    let queue = jobs.clone();
    let thread = std::thread::Builder::new()
        .name(format!("zeroring-io-{index}"))
        .spawn(move || run_io_thread(queue))
        .map_err(Error::Io)?;
    Ok(IoThread {
        jobs,
        thread: Mutex::new(Some(thread)),
    })
}

/// An I/O thread: runs jobs (which spawn the sockets' tasks) until the context
/// stops.
fn run_io_thread(jobs: Arc<BatchQueue<Job>>) {
    let runtime = match crate::runtime::runtime_builder()
        .sync_queue_size(WAKE_QUEUE)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start a compio runtime for an I/O thread");
            jobs.close();
            return;
        }
    };
    runtime.block_on(async move {
        let mut batch = std::collections::VecDeque::new();
        loop {
            let closed = std::future::poll_fn(|cx| jobs.poll_take_all(cx, &mut batch)).await;
            for job in batch.drain(..) {
                job();
            }
            if closed {
                return;
            }
        }
    });
}

/// A handle of `socket_type` whose native socket and pump live on one of
/// `ctx`'s I/O threads.
fn create_socket(ctx: &Arc<ContextInner>, socket_type: SocketType) -> Result<Socket> {
    let shared = Shared::new(socket_type);
    ctx.register(&shared);
    let for_pump = shared.clone();
    let released = ctx.clone();
    let inproc = ctx.inproc();
    let authenticator = ctx.authenticator();
    let started = ctx.run(Box::new(move || {
        pump::start(for_pump, inproc, authenticator, move || {
            released.socket_released()
        });
    }));
    if let Err(e) = started {
        // The context is terminated: this socket never lived.
        ctx.socket_released();
        return Err(e);
    }
    Ok(Socket::from_shared(shared))
}
