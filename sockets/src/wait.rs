//! Waiting helpers shared by sends and receives: wait for a condition under a
//! timeout (SNDTIMEO, RCVTIMEO) with a compact future, run a future under a
//! timeout, and give the runtime one turn.

use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::notify::Notify;

/// Waits until `attempt` gives an answer, trying again after every wake-up of
/// `notify`, for at most `timeout` (zero: try once; `None`: no limit).
///
/// This is the compact waiting path of send and recv: its state is a few words
/// (the timer is boxed, and only created when a wait with a timeout actually
/// sleeps), so the futures of sends and receives that do not wait stay small
/// and cheap to move.
pub(crate) async fn wait_for<T>(
    notify: &Notify,
    timeout: Option<Duration>,
    op: &'static str,
    mut attempt: impl FnMut() -> Option<Result<T>>,
) -> Result<T> {
    let mut deadline: Option<std::pin::Pin<Box<dyn Future<Output = ()>>>> = None;
    loop {
        let changed = notify.notified();
        if let Some(r) = attempt() {
            return r;
        }
        match timeout {
            None => changed.await,
            Some(d) if d.is_zero() => {
                // One turn of the runtime first: a loop of failing calls must not
                // starve the connections that would make room.
                yield_now().await;
                return Err(Error::Timeout(op));
            }
            Some(d) => {
                let sleep = deadline.get_or_insert_with(|| Box::pin(compio::time::sleep(d)));
                if let futures_util::future::Either::Right(_) =
                    futures_util::future::select(changed, sleep.as_mut()).await
                {
                    return Err(Error::Timeout(op));
                }
            }
        }
    }
}

/// Returns to the runtime once, scheduled to run again at once.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// Runs `fut` under an optional timeout; zero means "try once" (the future is polled
/// once and must be ready).
pub(crate) async fn with_timeout<T>(
    timeout: Option<Duration>,
    op: &'static str,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match timeout {
        None => fut.await,
        Some(d) if d.is_zero() => {
            let mut fut = std::pin::pin!(fut);
            let first = std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
                std::task::Poll::Ready(r) => std::task::Poll::Ready(Some(r)),
                std::task::Poll::Pending => std::task::Poll::Ready(None),
            })
            .await;
            match first {
                Some(r) => r,
                None => {
                    yield_now().await;
                    Err(Error::Timeout(op))
                }
            }
        }
        Some(d) => compio::time::timeout(d, fut)
            .await
            .unwrap_or(Err(Error::Timeout(op))),
    }
}
