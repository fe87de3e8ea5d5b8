//! The security mechanisms end to end between two in-memory sessions, with
//! seeded randomness: handshake transcripts at every split, refusals with their
//! typed reasons, the CURVE data phase (sealing, replay and tampering), the
//! CURVE wire layout, and hostile input.

mod data_phase;
mod handshakes;
mod harness;
mod hostile;
mod refusals;
mod wire;

/// A session moves to the thread that drives it (a context's I/O thread).
#[test]
fn sessions_are_send() {
    fn send<T: Send>() {}
    send::<zeroring_zmtp::Session>();
    send::<zeroring_zmtp::SessionConfig>();
}
