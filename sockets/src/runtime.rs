//! The compio runtime settings zeroring recommends, and a builder that has them.
//!
//! io_uring completes a read on a socket by running "task work" in the thread
//! that submitted it. By default the kernel interrupts that thread to run it (an
//! inter-processor interrupt when the thread is busy on another core), which on
//! a virtual machine costs tens of microseconds. With `COOP_TASKRUN` the kernel
//! instead raises a flag in the ring (`TASKRUN_FLAG`) and the task work runs on
//! the thread's next entry into the ring. A thread parked in the ring is woken as
//! before; a thread that spins waiting for a message (the adaptive spin of REQ and
//! REP, or `set_busy_poll`) sees the flag and enters the ring at once, so its
//! reply arrives without any interrupt. Measured on the 2-core development VM
//! (`zeroring perf local_lat/remote_lat`, 64 B, spinning): 23 µs one way on a
//! default runtime, 5 µs with these settings; no difference for a thread that
//! parks or for throughput.
//!
//! The settings need Linux 5.19 or later; on an older kernel creating an io_uring
//! with them fails and compio falls back to its polling driver. `#[zeroring::main]`
//! and `#[zeroring::test]` use them unless given a `with_proactor(..)` of their
//! own, and so do a [`Context`](crate::Context)'s I/O threads.

use compio::driver::ProactorBuilder;
use compio::runtime::RuntimeBuilder;

/// A `ProactorBuilder` with the settings above (`coop_taskrun` and
/// `taskrun_flag`), to which more can be added.
pub fn proactor_builder() -> ProactorBuilder {
    let mut proactor = ProactorBuilder::new();
    proactor.coop_taskrun(true).taskrun_flag(true);
    proactor
}

/// A `RuntimeBuilder` whose proactor is [`proactor_builder`]'s.
///
/// ```
/// let runtime = zeroring_sockets::runtime_builder().build().unwrap();
/// runtime.block_on(async {
///     let rep = zeroring_sockets::RepSocket::new();
///     rep.bind("tcp://127.0.0.1:0").await.unwrap();
/// });
/// ```
pub fn runtime_builder() -> RuntimeBuilder {
    let mut runtime = RuntimeBuilder::new();
    runtime.with_proactor(proactor_builder());
    runtime
}
