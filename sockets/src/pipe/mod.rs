//! Pipes: what connects a socket to one peer ("pipe" in libzmq). A pipe has an
//! outbound half ([`outbound::Outbound`], the buffer sends encode into and its
//! limits) and an inbound half ([`inbound::Inbox`], messages waiting for the
//! application), and every socket has one [`inbound::FairQueue`] that receives
//! take from and one [`room::Room`] that sends waiting for room wait on. Pipes know nothing about connections or socket state; the
//! connection driver and the socket both hold them.

pub(crate) mod inbound;
pub(crate) mod outbound;
pub(crate) mod room;

/// Identifies a peer slot for the lifetime of a socket (never reused).
pub(crate) type PeerId = u64;
