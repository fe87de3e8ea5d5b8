//! The `inproc://` transport: sockets of one context (or of the process's default
//! context, for native sockets made with `new()`) connect by name and move whole
//! messages to each other through a pair of queues — never encoded, never copied.
//!
//! - [`link`]: what travels between two sockets and the pair of queues.
//! - [`registry`]: the names bound in a context, and connects waiting for a bind
//!   (connect-before-bind works, as in libzmq 4.x).

pub(crate) mod link;
pub(crate) mod registry;
