//! Waking an I/O thread from a thread that is unwinding a panic.
//!
//! compio's executor aborts the process when a task is scheduled from a thread
//! that is panicking (a guard meant for panics inside its own code also fires
//! while the caller unwinds). A handle or a context dropped during a panic — a
//! failed assertion in a test that holds a socket — would then kill the process
//! and its output. [`outside_unwinding`] runs such a wake-up on a short-lived
//! thread instead, and waits for it; the batch queues between handles and I/O
//! threads wake through it, so every path from a handle (drop, close, a send in a
//! `Drop` impl) is covered.

/// Runs `f` here, or, while this thread unwinds a panic, on a fresh thread that
/// this one waits for. If no thread can be started, `f` is not run: what it would
/// have woken is cleaned up when its context terminates.
pub(crate) fn outside_unwinding(f: impl FnOnce() + Send) {
    if !std::thread::panicking() {
        f();
        return;
    }
    let ran = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("zeroring-unwind".into())
            .spawn_scoped(scope, f)
            .map(|t| t.join().is_ok())
    });
    if !matches!(ran, Ok(true)) {
        tracing::warn!("could not wake the I/O thread while unwinding a panic");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    struct WakeOnDrop<'a>(&'a AtomicBool);

    impl Drop for WakeOnDrop<'_> {
        fn drop(&mut self) {
            outside_unwinding(|| {
                assert!(!std::thread::panicking());
                self.0.store(true, Ordering::SeqCst);
            });
        }
    }

    #[test]
    fn runs_here_normally_and_on_another_thread_while_unwinding() {
        let ran = AtomicBool::new(false);
        drop(WakeOnDrop(&ran));
        assert!(ran.swap(false, Ordering::SeqCst));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = WakeOnDrop(&ran);
            panic!("a failed assertion");
        }));
        assert!(unwound.is_err());
        assert!(ran.load(Ordering::SeqCst));
    }
}
