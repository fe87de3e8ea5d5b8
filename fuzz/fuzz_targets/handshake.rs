//! `Handshake::advance` on arbitrary input, for every socket type.
//!
//! Input: byte 0 seeds the chunking, byte 1 picks an optional routing id for our side,
//! the remainder is what the peer sends. A completed handshake must have found a
//! compatible peer with a valid routing id, and what we sent must be our greeting's
//! READY; the machine must never panic or loop.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use zeroring_zmtp::{Command, FrameDecoder, Handshake, HandshakeConfig, SocketType};
use zeroring_zmtp_fuzz::chunks;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (seed, id_len, stream) = (data[0], usize::from(data[1] % 8), &data[2..]);
    for ty in SocketType::ALL {
        let mut cfg = HandshakeConfig::new(ty);
        if id_len > 0 {
            cfg.routing_id = Some(Bytes::from(vec![b'i'; id_len]));
        }
        let mut hs = Handshake::new(cfg);
        let mut input = BytesMut::new();
        let mut output = BytesMut::new();
        for chunk in chunks(stream, seed) {
            input.extend_from_slice(chunk);
            match hs.advance(&mut input, &mut output) {
                Ok(None) => assert!(!hs.is_done()),
                Ok(Some(peer)) => {
                    assert!(hs.is_done());
                    assert!(ty.is_compatible(peer.socket_type));
                    if let Some(id) = &peer.routing_id {
                        assert!(!id.is_empty() && id.len() <= 255 && id[0] != 0);
                    }
                    // Exactly our READY went out.
                    let f = FrameDecoder::new(None)
                        .decode(&mut output)
                        .expect("our READY is a valid frame")
                        .expect("our READY is complete");
                    assert!(output.is_empty());
                    assert_eq!(Command::parse(f.body).unwrap(), hs.ready_command());
                    break;
                }
                Err(_) => break,
            }
        }
    }
});
