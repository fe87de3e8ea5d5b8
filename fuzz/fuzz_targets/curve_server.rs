//! A CURVE server session (RFC 26 as libzmq implements it) fed what a client sends,
//! as zeroring's driver runs it: `poll_input` through the handshake (HELLO, WELCOME,
//! INITIATE with its cookie and vouch, READY), the authentication pause answered
//! with `authenticated`, then `drive` opening sealed MESSAGEs into an inbox that
//! fills up, the first messages echoed back sealed, `poll_transmit` after every
//! read, and timers (sealed PINGs) once the client goes quiet.
//!
//! The server has fixed keys (libzmq's test pair) and a seeded `Random::from_fn`,
//! restarted for every run, so it makes the same WELCOME every time and a recorded
//! client transcript (the seeds) gets through the handshake into the data phase.
//!
//! Input: three header bytes (chunking seed; the answer to the authentication
//! request, or authentication off, and the inbox size; our socket type, heartbeats
//! and message limits: see `zeroring_zmtp_fuzz::secure`), then the client's bytes.
//!
//! Checks besides "never panics": the outcome (events, the first error, what was
//! sent during the handshake) is the same whole or chunked; the server asks exactly
//! once when authentication is on and never when it is off; a refused client never
//! gets READY and is told the status in an ERROR (nothing for 300); the handshake
//! sends at most 1 KiB and afterwards at most two sealed control frames (a PONG
//! and a PING) wait; messages come only after the handshake and within the limits;
//! and a run's live heap stays under 256 KiB plus 16 bytes per input byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zeroring_zmtp_fuzz::alloc::Counting;
use zeroring_zmtp_fuzz::secure::{Kind, check};

#[global_allocator]
static ALLOC: Counting = Counting;

fuzz_target!(|data: &[u8]| check(Kind::Curve, data));
