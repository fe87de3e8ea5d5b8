//! Running a future to completion on the calling thread by parking it: the
//! blocking API of the thread-safe handles is the async one, driven here. A
//! waker unparks the thread; a deadline bounds the wait.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Instant;

/// Times a blocked caller yields its core and looks again before it parks.
const SPINS: usize = 20;

/// Wakes a parked thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

thread_local! {
    /// One waker per thread, so waiting again registers the same waker (queues
    /// recognise it with `will_wake` instead of collecting copies).
    static WAKER: Waker = Waker::from(Arc::new(Unpark(std::thread::current())));
}

/// A waker that unparks the current thread.
pub(crate) fn thread_waker() -> Waker {
    WAKER.with(Waker::clone)
}

/// Polls `fut` on this thread, parking between polls, until it completes
/// (`Some`) or `deadline` passes (`None`; the future is dropped, which every
/// future of the handles tolerates: they are cancel-safe).
pub(crate) fn block_on<F: Future>(fut: F, deadline: Option<Instant>) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let waker = thread_waker();
    let mut cx = Context::from_waker(&waker);
    let mut spins = 0;
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Some(v);
        }
        // The other side is often a few microseconds from answering: give up the
        // core a few times before parking, which would cost it a wake-up.
        if spins < SPINS {
            spins += 1;
            std::thread::yield_now();
            continue;
        }
        match deadline {
            None => std::thread::park(),
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return None;
                }
                std::thread::park_timeout(d - now);
            }
        }
    }
}
