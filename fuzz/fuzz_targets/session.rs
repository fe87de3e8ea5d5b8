//! A whole connection as zeroring's driver sees it: `zmtp::Session` fed the peer's
//! bytes in chunks, with time moving between chunks.
//!
//! Input: byte 0 seeds the chunking, byte 1 picks our socket type
//! (`SocketType::ALL[b % 11]`), byte 2 our routing-id length (`% 8`), in bit 3 a
//! heartbeat (1 s interval, 2 s TTL), in bits 4-5 a frame limit (off, 1, 2, 64) and
//! in its top bit a 256-byte message size limit; the remainder is what the peer
//! sends. Besides "never panics", the outcome (events, the first error, what we
//! transmit) must not depend on how the stream was chunked, messages must respect
//! the limits, nothing but READY comes before the handshake ends, and however many
//! PINGs arrive, at most one PONG waits.
#![no_main]

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use zeroring_zmtp::session::{
    CloseReason, Event, HeartbeatConfig, MessageLimits, Session, SessionConfig,
};
use zeroring_zmtp::{Command, FrameDecoder, SocketType};
use zeroring_zmtp_fuzz::chunks;

#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    error: Option<CloseReason>,
    /// Commands we sent after the handshake, by name.
    sent: Vec<Vec<u8>>,
}

fn run(cfg: &SessionConfig, stream: &[u8], seed: u8) -> Outcome {
    let start = Instant::now();
    let mut now = start;
    let mut s = Session::new(cfg.clone(), now);
    let mut input = BytesMut::new();
    let mut handshake_out = BytesMut::new();
    s.poll_transmit(&mut handshake_out);
    let mut out = Outcome {
        events: Vec::new(),
        error: None,
        sent: Vec::new(),
    };
    for chunk in chunks(stream, seed) {
        input.extend_from_slice(chunk);
        s.received(now);
        loop {
            match s.poll_input(&mut input) {
                Ok(Some(e)) => {
                    if let Event::Ready(_) = &e {
                        assert!(s.is_ready());
                        s.start(start);
                    }
                    if let Event::Message(m) = &e {
                        assert!(s.is_ready(), "a message before the handshake ended");
                        check_limits(cfg.limits, m);
                    }
                    out.events.push(e);
                }
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
        if s.is_ready() {
            // At most one PONG and one PING, however much arrived.
            let mut sent = BytesMut::new();
            s.poll_transmit(&mut sent);
            let mut dec = FrameDecoder::new(None);
            let mut pongs = 0;
            while let Some(f) = dec.decode(&mut sent).expect("we send valid frames") {
                let cmd = Command::parse(f.body).expect("we send valid commands");
                if matches!(cmd, Command::Pong(_)) {
                    pongs += 1;
                }
                out.sent.push(cmd.name().to_vec());
            }
            assert!(pongs <= 1, "{pongs} PONGs waiting");
        }
    }
    // Time passes: the session either keeps going or ends with a reason.
    for _ in 0..4 {
        now += Duration::from_millis(700);
        if let Err(e) = s.handle_timeout(now) {
            out.error = Some(e);
            break;
        }
    }
    out
}

fn check_limits(limits: MessageLimits, m: &zeroring_zmtp::Message) {
    if let Some(max) = limits.max_frames {
        assert!(m.len() <= max, "{} frames over the limit of {max}", m.len());
    }
    if let Some(max) = limits.max_size {
        let size = m.byte_len() as u64 + 32 * (m.len() as u64 - 1);
        assert!(size <= max, "message of {size} over MAXMSGSIZE {max}");
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let ty = SocketType::ALL[usize::from(data[1]) % SocketType::ALL.len()];
    let mut cfg = SessionConfig::new(ty);
    let id_len = usize::from(data[2] & 0x07);
    if id_len > 0 {
        cfg.routing_id = Some(Bytes::from(vec![b'i'; id_len]));
    }
    if data[2] & 0x08 != 0 {
        cfg.heartbeat = HeartbeatConfig {
            ivl: Some(Duration::from_secs(1)),
            ttl: Some(Duration::from_secs(2)),
            timeout: None,
        };
    }
    cfg.limits = MessageLimits {
        max_size: (data[2] & 0x80 != 0).then_some(256),
        max_frames: [None, Some(1), Some(2), Some(64)][usize::from(data[2] >> 4 & 0x03)],
    };
    let stream = &data[3..];
    let whole = run(&cfg, stream, 0);
    let split = run(&cfg, stream, data[0]);
    assert_eq!(whole.events, split.events, "events depend on the chunking");
    assert_eq!(
        whole.error, split.error,
        "the outcome depends on the chunking"
    );
});
