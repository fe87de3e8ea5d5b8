//! ZMTP frames: the flags byte, short and long sizes, and the incremental decoder.
//!
//! A frame is `flags (1) | size (1 or 8, big-endian) | body`. Flag bits: `0x01` MORE,
//! `0x02` LONG, `0x04` COMMAND; the other five bits are reserved and must be zero.
//! The decoder takes a [`BytesMut`] that may end anywhere and slices complete bodies
//! out of it without copying.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::ZmtpError;

/// MORE flag: another frame of the same message follows.
pub const FLAG_MORE: u8 = 0x01;
/// LONG flag: the size field is 8 bytes.
pub const FLAG_LONG: u8 = 0x02;
/// COMMAND flag: the frame is a command, not message data.
pub const FLAG_COMMAND: u8 = 0x04;
const RESERVED: u8 = !(FLAG_MORE | FLAG_LONG | FLAG_COMMAND);

/// Largest header: flags byte plus an 8-byte size.
pub const MAX_HEADER_LEN: usize = 9;

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Another frame of the same message follows (never set on commands).
    pub more: bool,
    /// The frame is a command.
    pub command: bool,
    /// The frame body, sliced out of the read buffer.
    pub body: Bytes,
}

/// Number of header bytes a frame body of `len` bytes needs.
pub fn header_len(len: usize) -> usize {
    if len > 255 { 9 } else { 2 }
}

/// The 2-byte header of a short data frame (body of at most 255 bytes).
#[inline(always)]
pub fn short_header(len: u8, more: bool) -> [u8; 2] {
    [if more { FLAG_MORE } else { 0 }, len]
}

/// Appends a frame header for a body of `len` bytes.
#[inline]
pub fn encode_header(out: &mut BytesMut, len: usize, more: bool, command: bool) {
    let mut flags = 0;
    if more {
        flags |= FLAG_MORE;
    }
    if command {
        flags |= FLAG_COMMAND;
    }
    if len > 255 {
        let mut header = [0u8; 9];
        header[0] = flags | FLAG_LONG;
        header[1..].copy_from_slice(&(len as u64).to_be_bytes());
        out.put_slice(&header);
    } else {
        out.put_slice(&[flags, len as u8]);
    }
}

/// Appends a whole data frame (header and a copy of the body).
pub fn encode_frame(out: &mut BytesMut, body: &[u8], more: bool) {
    out.reserve(header_len(body.len()) + body.len());
    encode_header(out, body.len(), more, false);
    out.put_slice(body);
}

/// Appends a message: every frame but the last carries MORE.
pub fn encode_message<B: AsRef<[u8]>>(out: &mut BytesMut, frames: &[B]) {
    let last = frames.len().saturating_sub(1);
    for (i, f) in frames.iter().enumerate() {
        encode_frame(out, f.as_ref(), i != last);
    }
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    more: bool,
    command: bool,
    size: usize,
}

/// Incremental frame decoder.
///
/// Feed it a buffer that grows as bytes arrive; each call consumes at most one frame.
/// The maximum size is checked as soon as the header is known, before any memory is
/// reserved for the body.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    max_size: Option<u64>,
    max_command: Option<u64>,
    pending: Option<Pending>,
}

impl FrameDecoder {
    /// A decoder that rejects frames larger than `max_size` bytes (`None`: no limit
    /// other than the protocol's 2^63 - 1).
    pub fn new(max_size: Option<u64>) -> FrameDecoder {
        FrameDecoder {
            max_size,
            max_command: max_size,
            pending: None,
        }
    }

    /// A decoder with separate limits for data frames and command frames.
    pub fn with_limits(max_data: Option<u64>, max_command: Option<u64>) -> FrameDecoder {
        FrameDecoder {
            max_size: max_data,
            max_command,
            pending: None,
        }
    }

    /// How many more bytes the decoder needs before it can make progress. Readers use
    /// it to size their next read; it never exceeds the checked frame size.
    pub fn bytes_wanted(&self, buffered: usize) -> usize {
        match self.pending {
            Some(p) => p.size.saturating_sub(buffered),
            None => 2usize.saturating_sub(buffered).max(1),
        }
    }

    /// True when the decoder is between frames (no header consumed without its body).
    pub fn is_idle(&self) -> bool {
        self.pending.is_none()
    }

    /// Decodes one frame from the front of `buf`, consuming its bytes.
    ///
    /// Returns `Ok(None)` when more input is needed; the bytes seen so far are kept in
    /// `buf` (or, for a header already checked, in the decoder).
    #[inline(always)]
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ZmtpError> {
        // Fast path: a whole data frame under the size limit is in the buffer.
        // Everything else (commands, partial frames, every error) goes the long way.
        if self.pending.is_none()
            && let Some((more, hlen, size)) = self.whole_data_frame(buf)
        {
            buf.advance(hlen);
            return Ok(Some(Frame {
                more,
                command: false,
                body: buf.split_to(size).freeze(),
            }));
        }
        self.decode_slow(buf)
    }

    /// The header of a valid data frame whose body is complete in `buf`: (MORE,
    /// header length, body size).
    #[inline(always)]
    fn whole_data_frame(&self, buf: &[u8]) -> Option<(bool, usize, usize)> {
        let (&flags, rest) = buf.split_first()?;
        if flags & !(FLAG_MORE | FLAG_LONG) != 0 {
            return None;
        }
        let (size, hlen) = if flags & FLAG_LONG == 0 {
            (u64::from(*rest.first()?), 2)
        } else {
            let raw: [u8; 8] = rest.get(..8)?.try_into().ok()?;
            (u64::from_be_bytes(raw), 9)
        };
        if self.max_size.is_some_and(|max| size > max) {
            return None;
        }
        let size = usize::try_from(size).ok()?;
        (buf.len() - hlen >= size).then_some((flags & FLAG_MORE != 0, hlen, size))
    }

    #[inline(never)]
    fn decode_slow(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ZmtpError> {
        let pending = match self.pending {
            Some(p) => p,
            None => {
                let Some(&flags) = buf.first() else {
                    return Ok(None);
                };
                if flags & RESERVED != 0 {
                    return Err(ZmtpError::ReservedFlags(flags));
                }
                let more = flags & FLAG_MORE != 0;
                let command = flags & FLAG_COMMAND != 0;
                if more && command {
                    return Err(ZmtpError::CommandWithMore);
                }
                let (size, hlen) = if flags & FLAG_LONG != 0 {
                    if buf.len() < 9 {
                        return Ok(None);
                    }
                    let mut raw = [0u8; 8];
                    raw.copy_from_slice(&buf[1..9]);
                    (u64::from_be_bytes(raw), 9)
                } else {
                    if buf.len() < 2 {
                        return Ok(None);
                    }
                    (u64::from(buf[1]), 2)
                };
                if size > i64::MAX as u64 {
                    return Err(ZmtpError::InvalidSize(size));
                }
                let limit = if command {
                    self.max_command
                } else {
                    self.max_size
                };
                if let Some(max) = limit
                    && size > max
                {
                    return Err(ZmtpError::TooLarge { size, max });
                }
                let size = usize::try_from(size).map_err(|_| ZmtpError::InvalidSize(size))?;
                buf.advance(hlen);
                let p = Pending {
                    more,
                    command,
                    size,
                };
                self.pending = Some(p);
                p
            }
        };
        if buf.len() < pending.size {
            return Ok(None);
        }
        self.pending = None;
        Ok(Some(Frame {
            more: pending.more,
            command: pending.command,
            body: buf.split_to(pending.size).freeze(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(mut buf: BytesMut) -> Vec<Frame> {
        let mut d = FrameDecoder::new(None);
        let mut out = Vec::new();
        while let Some(f) = d.decode(&mut buf).unwrap() {
            out.push(f);
        }
        assert!(buf.is_empty());
        out
    }

    #[test]
    fn short_and_long_frames() {
        let mut buf = BytesMut::new();
        encode_frame(&mut buf, &[7u8; 255], true);
        encode_frame(&mut buf, &[8u8; 256], false);
        assert_eq!(buf[0], FLAG_MORE);
        assert_eq!(buf[1], 255);
        assert_eq!(buf[257], FLAG_LONG);
        assert_eq!(&buf[258..266], &256u64.to_be_bytes());
        let frames = decode_all(buf);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].body.len(), 255);
        assert!(frames[0].more);
        assert_eq!(frames[1].body.len(), 256);
        assert!(!frames[1].more);
    }

    #[test]
    fn long_flag_with_small_size_is_accepted() {
        let mut buf = BytesMut::from(&[FLAG_LONG, 0, 0, 0, 0, 0, 0, 0, 3, b'a', b'b', b'c'][..]);
        let f = FrameDecoder::new(None).decode(&mut buf).unwrap().unwrap();
        assert_eq!(&f.body[..], b"abc");
    }

    #[test]
    fn reserved_bits_rejected() {
        for bit in [0x08u8, 0x10, 0x20, 0x40, 0x80] {
            let mut buf = BytesMut::from(&[bit, 0][..]);
            assert_eq!(
                FrameDecoder::new(None).decode(&mut buf),
                Err(ZmtpError::ReservedFlags(bit))
            );
        }
    }

    #[test]
    fn command_with_more_rejected() {
        let mut buf = BytesMut::from(&[FLAG_COMMAND | FLAG_MORE, 0][..]);
        assert_eq!(
            FrameDecoder::new(None).decode(&mut buf),
            Err(ZmtpError::CommandWithMore)
        );
    }

    #[test]
    fn size_checked_before_body_arrives() {
        let mut buf = BytesMut::new();
        buf.put_u8(FLAG_LONG);
        buf.put_u64(1 << 20);
        assert_eq!(
            FrameDecoder::new(Some(1000)).decode(&mut buf),
            Err(ZmtpError::TooLarge {
                size: 1 << 20,
                max: 1000
            })
        );
        let mut buf = BytesMut::new();
        buf.put_u8(FLAG_LONG);
        buf.put_u64(1 << 63);
        assert_eq!(
            FrameDecoder::new(None).decode(&mut buf),
            Err(ZmtpError::InvalidSize(1 << 63))
        );
    }

    #[test]
    fn bytes_wanted_tracks_body() {
        let mut d = FrameDecoder::new(None);
        let mut buf = BytesMut::from(&[0u8, 10, 1, 2][..]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert!(!d.is_idle());
        assert_eq!(d.bytes_wanted(buf.len()), 8);
    }
}
