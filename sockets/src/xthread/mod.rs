//! Crossing threads: the batch queue that connects a thread-safe socket handle
//! (or an `inproc://` peer) to a compio I/O thread, and the parking that turns
//! its futures into blocking calls, and waking an I/O thread during a panic.

pub(crate) mod park;
pub(crate) mod queue;
pub(crate) mod unwinding;
