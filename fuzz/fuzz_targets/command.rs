//! `Command::parse` on an arbitrary command body; whatever parses must survive
//! encode -> frame decode -> parse unchanged, as exactly one command frame.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use zeroring_zmtp::{Command, FrameDecoder};

fuzz_target!(|data: &[u8]| {
    let Ok(cmd) = Command::parse(Bytes::copy_from_slice(data)) else {
        return;
    };
    let mut wire = BytesMut::new();
    cmd.encode(&mut wire);
    let frame = FrameDecoder::new(None)
        .decode(&mut wire)
        .expect("our encoding is a valid frame")
        .expect("our encoding is complete");
    assert!(wire.is_empty(), "encode wrote more than one frame");
    assert!(frame.command && !frame.more);
    let again = Command::parse(frame.body).expect("our encoding parses");
    assert_eq!(again, cmd, "parse(encode(parse(x))) != parse(x)");
});
