//! Reading our own encoded ZMTP frames back, so an encrypting session can seal
//! each one as a CURVE MESSAGE.
//!
//! The sockets' send path encodes plain frames into a pipe that outlives its
//! connections; the flusher hands the session whatever a batch holds, which may
//! end (and the next batch begin) anywhere inside a frame, since large bodies
//! travel as separate buffers. [`PlainFrames`] keeps a frame that is not complete
//! yet until its last byte arrives; complete frames are sealed straight from the
//! caller's bytes.

use bytes::BytesMut;

use crate::frame::{FLAG_COMMAND, FLAG_LONG, FLAG_MORE, MAX_HEADER_LEN};

/// Largest part of an incomplete body reserved ahead of its bytes.
const RESERVE_AHEAD: usize = 64 * 1024;

/// A frame read back: its MORE and COMMAND flags and its body.
pub(crate) struct PlainFrame<'a> {
    pub(crate) more: bool,
    pub(crate) command: bool,
    pub(crate) body: &'a [u8],
}

/// Incremental reader of a stream of encoded ZMTP frames.
#[derive(Debug, Default)]
pub(crate) struct PlainFrames {
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    /// The body of an incomplete frame, while its header is known.
    body: BytesMut,
    /// Body bytes still to come for the incomplete frame (`None`: in a header).
    missing: Option<u64>,
}

impl PlainFrames {
    /// True when no part of a frame is held back.
    pub(crate) fn is_idle(&self) -> bool {
        self.header_len == 0 && self.missing.is_none()
    }

    /// Reads `input` and calls `emit` for every frame it completes.
    pub(crate) fn feed(&mut self, mut input: &[u8], mut emit: impl FnMut(PlainFrame<'_>)) {
        while !input.is_empty() {
            let Some(missing) = self.missing else {
                // Reading a header, one byte at a time until its size is known.
                self.header[self.header_len] = input[0];
                self.header_len += 1;
                input = &input[1..];
                if let Some(size) = self.header_size() {
                    self.missing = Some(size);
                    self.body.clear();
                    if size == 0 {
                        self.finish(&mut emit);
                    }
                }
                continue;
            };
            if self.body.is_empty() && (input.len() as u64) >= missing {
                // The whole body is here: seal it without a copy.
                let n = missing as usize;
                let flags = self.header[0];
                emit(PlainFrame {
                    more: flags & FLAG_MORE != 0,
                    command: flags & FLAG_COMMAND != 0,
                    body: &input[..n],
                });
                input = &input[n..];
                self.reset();
                continue;
            }
            let n = (input.len() as u64).min(missing) as usize;
            if self.body.is_empty() {
                self.body
                    .reserve((missing as usize).min(RESERVE_AHEAD).max(n));
            }
            self.body.extend_from_slice(&input[..n]);
            input = &input[n..];
            let left = missing - n as u64;
            self.missing = Some(left);
            if left == 0 {
                self.finish(&mut emit);
            }
        }
    }

    /// The body size, once the header read so far is complete.
    fn header_size(&self) -> Option<u64> {
        let flags = self.header[0];
        if flags & FLAG_LONG != 0 {
            (self.header_len == MAX_HEADER_LEN).then(|| {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&self.header[1..MAX_HEADER_LEN]);
                u64::from_be_bytes(raw)
            })
        } else {
            (self.header_len == 2).then(|| u64::from(self.header[1]))
        }
    }

    fn finish(&mut self, emit: &mut impl FnMut(PlainFrame<'_>)) {
        let flags = self.header[0];
        emit(PlainFrame {
            more: flags & FLAG_MORE != 0,
            command: flags & FLAG_COMMAND != 0,
            body: &self.body,
        });
        self.reset();
    }

    fn reset(&mut self) {
        self.header_len = 0;
        self.missing = None;
        self.body.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::frame;
    use bytes::Bytes;

    fn collect(stream: &[u8], split: usize) -> Vec<(bool, bool, Vec<u8>)> {
        let mut p = PlainFrames::default();
        let mut out = Vec::new();
        for chunk in stream.chunks(split.max(1)) {
            p.feed(chunk, |f| out.push((f.more, f.command, f.body.to_vec())));
        }
        assert!(p.is_idle());
        out
    }

    #[test]
    fn frames_come_back_at_any_split() {
        let mut wire = BytesMut::new();
        frame::encode_frame(&mut wire, b"a", true);
        frame::encode_frame(&mut wire, &[], true);
        frame::encode_frame(&mut wire, &[9u8; 300], false);
        Command::Ping {
            ttl_deciseconds: 1,
            context: Bytes::new(),
        }
        .encode(&mut wire);
        let expected = vec![
            (true, false, b"a".to_vec()),
            (true, false, vec![]),
            (false, false, vec![9u8; 300]),
            (false, true, b"\x04PING\x00\x01".to_vec()),
        ];
        for split in 1..=wire.len() {
            assert_eq!(collect(&wire, split), expected, "split {split}");
        }
    }
}
