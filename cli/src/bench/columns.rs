//! The implementations `zeroring bench` compares, as the table's columns: their names
//! (what `--impls` and `measure` take) and the column index of each.

/// The implementations, in table order.
pub(crate) const IMPLS: [&str; 8] = [
    "zeroring",
    "zeroring handle",
    "libzmq",
    "zmq.rs",
    "rzmq",
    "monocoque",
    "monocoque flush",
    "raw TCP",
];

/// zeroring's native compio sockets.
pub(crate) const ZERORING: usize = 0;
/// zeroring's thread-safe handles from a `Context`.
pub(crate) const HANDLE: usize = 1;
/// libzmq through crate `zmq` (CURVE cases: the system libzmq).
pub(crate) const LIBZMQ: usize = 2;
/// zmq.rs (crate `zeromq`) on tokio.
pub(crate) const ZMQRS: usize = 3;
/// rzmq on tokio with its io_uring backend.
pub(crate) const RZMQ: usize = 4;
/// monocoque (crate `monocoque-rs`) on compio, eager sends.
pub(crate) const MONOCOQUE: usize = 5;
/// monocoque with write coalescing and a manual `flush()`.
pub(crate) const MONOCOQUE_FLUSH: usize = 6;
/// Blocking std TCP sockets with a 2-byte length header.
pub(crate) const RAW_TCP: usize = 7;

/// The other ZeroMQ implementations (not zeroring, not raw TCP): the columns the
/// table's "zeroring/best other" ratio picks the best of.
pub(crate) const OTHER_ZEROMQ: [usize; 5] = [LIBZMQ, ZMQRS, RZMQ, MONOCOQUE, MONOCOQUE_FLUSH];

/// The implementations `measure` knows, in table order.
pub const IMPLEMENTATIONS: [&str; IMPLS.len()] = IMPLS;
