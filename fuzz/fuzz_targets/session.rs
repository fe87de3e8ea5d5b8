//! A whole connection as the engine sees it: `Handshake::advance` until it finishes,
//! then `FrameDecoder` + `Command::parse` on whatever follows, all fed in chunks.
//!
//! Input: byte 0 seeds the chunking, byte 1 picks our socket type
//! (`SocketType::ALL[b % 11]`) and byte 2 our routing-id length (`% 8`) plus, in its
//! top bit, a 256-byte message size limit; the remainder is what the peer sends.
//! Besides "never panics", the outcome (peer info, decoded frames and commands, the
//! first error) must not depend on how the stream was chunked, bytes after the peer's
//! READY must reach the frame decoder, and a finished handshake refuses more input.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use zeroring_zmtp::{
    Command, Frame, FrameDecoder, Handshake, HandshakeConfig, PeerInfo, SocketType, ZmtpError,
};
use zeroring_zmtp_fuzz::chunks;

#[derive(Debug, PartialEq)]
struct Outcome {
    peer: Option<PeerInfo>,
    frames: Vec<Frame>,
    commands: Vec<Result<Command, ZmtpError>>,
    error: Option<ZmtpError>,
}

fn session(cfg: &HandshakeConfig, max: Option<u64>, stream: &[u8], seed: u8) -> Outcome {
    let mut hs = Handshake::new(cfg.clone());
    let mut dec = FrameDecoder::new(max);
    let (mut input, mut output) = (BytesMut::new(), BytesMut::new());
    let mut out = Outcome {
        peer: None,
        frames: Vec::new(),
        commands: Vec::new(),
        error: None,
    };
    for chunk in chunks(stream, seed) {
        input.extend_from_slice(chunk);
        if out.peer.is_none() {
            match hs.advance(&mut input, &mut output) {
                Ok(None) => {
                    assert!(!hs.is_done());
                    continue;
                }
                Ok(Some(peer)) => {
                    assert!(hs.is_done());
                    assert!(cfg.socket_type.is_compatible(peer.socket_type));
                    // Our READY (and only it) went out.
                    let f = FrameDecoder::new(None)
                        .decode(&mut output)
                        .expect("our READY is a valid frame")
                        .expect("our READY is complete");
                    assert!(output.is_empty());
                    assert_eq!(Command::parse(f.body).unwrap(), hs.ready_command());
                    // The state machine is finished: more input is a violation.
                    assert!(
                        hs.advance(&mut BytesMut::from(&b"x"[..]), &mut output)
                            .is_err()
                    );
                    assert!(output.is_empty());
                    out.peer = Some(peer);
                }
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
        // Traffic phase: everything left over goes to the frame decoder.
        loop {
            match dec.decode(&mut input) {
                Ok(Some(f)) => {
                    if let Some(max) = max {
                        assert!(f.body.len() as u64 <= max, "frame over the limit");
                    }
                    if f.command {
                        assert!(!f.more, "command frame with MORE");
                        out.commands.push(Command::parse(f.body.clone()));
                    }
                    out.frames.push(f);
                }
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let ty = SocketType::ALL[usize::from(data[1]) % SocketType::ALL.len()];
    let mut cfg = HandshakeConfig::new(ty);
    let id_len = usize::from(data[2] & 0x07);
    if id_len > 0 {
        cfg.routing_id = Some(Bytes::from(vec![b'i'; id_len]));
    }
    let max = (data[2] & 0x80 != 0).then_some(256);
    let stream = &data[3..];
    let whole = session(&cfg, max, stream, 0);
    let split = session(&cfg, max, stream, data[0]);
    assert_eq!(whole, split, "session outcome depends on the chunking");
    if whole.peer.is_none() {
        assert!(whole.frames.is_empty());
    }
});
