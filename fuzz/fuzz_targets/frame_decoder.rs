//! Arbitrary bytes in arbitrary chunks through `FrameDecoder`, command frames through
//! `Command::parse`.
//!
//! Input: byte 0 selects the maximum size (bit 0: limit on; the rest scales it),
//! byte 1 seeds the chunking, the remainder is the stream. Besides "never panics",
//! the decoder must produce the same frames and the same error whether the stream
//! arrives at once or in chunks, and must never hand out more bytes than it got.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use zeroring_zmtp::{Command, Frame, FrameDecoder, ZmtpError};
use zeroring_zmtp_fuzz::chunks;

fn run(stream: &[u8], max: Option<u64>, seed: u8) -> (Vec<Frame>, Option<ZmtpError>, usize) {
    let mut dec = FrameDecoder::new(max);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks(stream, seed) {
        buf.extend_from_slice(chunk);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(f)) => {
                    assert!(!(f.command && f.more), "command frame with MORE");
                    if let Some(max) = max {
                        assert!(f.body.len() as u64 <= max, "frame over the limit");
                    }
                    frames.push(f);
                }
                Ok(None) => {
                    let _ = dec.bytes_wanted(buf.len());
                    break;
                }
                Err(e) => return (frames, Some(e), buf.len()),
            }
        }
    }
    (frames, None, buf.len())
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let max = (data[0] & 1 == 1).then(|| u64::from(data[0] >> 1) * 8);
    let stream = &data[2..];
    let (whole, whole_err, _) = run(stream, max, 0);
    let (split, split_err, _) = run(stream, max, data[1]);
    assert_eq!(whole, split, "frames depend on the chunking");
    assert_eq!(whole_err, split_err, "error depends on the chunking");
    let body_bytes: usize = split.iter().map(|f| f.body.len() + 2).sum();
    assert!(
        body_bytes <= stream.len(),
        "decoded more bytes than were fed"
    );
    for f in split {
        if f.command {
            let _ = Command::parse(f.body);
        }
    }
});
