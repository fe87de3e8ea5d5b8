//! A PLAIN server session (RFC 24) fed what a client sends, as zeroring's driver
//! runs it: `poll_input` through the handshake, the authentication pause answered
//! with `authenticated`, then `drive` with an inbox that fills up, `poll_transmit`
//! after every read, and timers once the client goes quiet.
//!
//! Input: three header bytes (chunking seed; the answer to the authentication
//! request, or authentication off, and the inbox size; our socket type, heartbeats
//! and message limits: see `zeroring_zmtp_fuzz::secure`), then the client's bytes.
//!
//! Checks besides "never panics": the outcome (events, the first error, what was
//! sent during the handshake) is the same whole or chunked; the server asks exactly
//! once when authentication is on and never when it is off; a refused client never
//! gets READY and is told the status in an ERROR (nothing for 300); the handshake
//! sends at most 1 KiB and afterwards at most one PONG and one PING wait; messages
//! come only after the handshake and within the limits; and a run's live heap stays
//! under 256 KiB plus 16 bytes per input byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zeroring_zmtp_fuzz::alloc::Counting;
use zeroring_zmtp_fuzz::secure::{Kind, check};

#[global_allocator]
static ALLOC: Counting = Counting;

fuzz_target!(|data: &[u8]| check(Kind::Plain, data));
