//! Record framing shared by the segment files and the replication wire.
//!
//! Every record is a 24-byte little-endian header followed by its payload:
//!
//! ```text
//! 0..4    len     u32  payload length, 1..=MAX_PAYLOAD; 0 is invalid
//! 4..8    crc     u32  CRC32C over bytes 0..4 (len), then bytes 8..24+len
//! 8..16   epoch   u64  leader epoch that wrote the record
//! 16..24  offset  u64  dense record offset (0, 1, 2, ...)
//! 24..    payload
//! ```
//!
//! The CRC covers the length too, so a damaged length field is caught even when the
//! bytes it points at happen to look like a record. This module owns encoding,
//! parsing one record out of a buffer ([`parse`]) and checking a whole batch received
//! from the network before it is appended ([`validate_batch`]). It does no I/O.

use std::fmt;

use super::error::{ReplogError, Result};

/// Bytes in a record header (length, CRC, epoch, offset).
pub const HEADER_LEN: usize = 24;

/// Largest payload a record may carry: 16 MiB.
pub const MAX_PAYLOAD: usize = 16 << 20;

/// Bytes [`encode`] appends for a payload of `payload_len` bytes.
pub fn encoded_len(payload_len: usize) -> usize {
    HEADER_LEN + payload_len
}

/// Checks that a payload can be framed: 1..=[`MAX_PAYLOAD`] bytes.
pub fn check_payload_len(payload_len: usize) -> Result<()> {
    if payload_len == 0 {
        return Err(ReplogError::InvalidRecord(
            "empty payload: a record carries at least one byte".into(),
        ));
    }
    if payload_len > MAX_PAYLOAD {
        return Err(ReplogError::InvalidRecord(format!(
            "payload of {payload_len} bytes exceeds the {MAX_PAYLOAD}-byte record limit: \
             split the update into smaller records"
        )));
    }
    Ok(())
}

/// Appends one encoded record to `out`, reserving once and allocating nothing else.
///
/// The payload must be 1..=[`MAX_PAYLOAD`] bytes (see [`check_payload_len`]); a record
/// outside that range is still written but [`parse`] will reject it.
pub fn encode(out: &mut Vec<u8>, epoch: u64, offset: u64, payload: &[u8]) {
    out.reserve(encoded_len(payload.len()));
    let start = out.len();
    // A payload over u32::MAX bytes cannot be framed; saturating keeps it invalid
    // (longer than MAX_PAYLOAD) instead of wrapping to a plausible length.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&epoch.to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(payload);
    let crc = record_crc(&out[start..start + 4], &out[start + 8..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// One record borrowed from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Leader epoch that wrote the record.
    pub epoch: u64,
    /// The record's offset in the log.
    pub offset: u64,
    /// The payload bytes.
    pub payload: &'a [u8],
}

/// Outcome of [`parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse<'a> {
    /// A whole valid record, and the number of bytes it took (header + payload).
    Complete(RecordView<'a>, usize),
    /// The buffer ends before the record does: read more bytes and try again.
    Incomplete,
    /// The bytes are not a record; the string says which check failed.
    Invalid(String),
}

/// Why bytes are not a record. Kept allocation-free so scanning damaged files byte by
/// byte stays cheap; rendered to a string only when reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bad {
    /// The length field is 0.
    ZeroLength,
    /// The length field exceeds [`MAX_PAYLOAD`].
    TooLong(u32),
    /// The stored CRC does not match the bytes.
    Crc {
        /// CRC in the header.
        stored: u32,
        /// CRC of the bytes.
        computed: u32,
    },
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bad::ZeroLength => write!(f, "length field is 0 (a record carries at least one byte)"),
            Bad::TooLong(len) => write!(
                f,
                "length field {len} exceeds the {MAX_PAYLOAD}-byte payload limit"
            ),
            Bad::Crc { stored, computed } => write!(
                f,
                "CRC mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
        }
    }
}

/// A parsed header; the CRC has not been checked yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub(crate) payload_len: usize,
    pub(crate) crc: u32,
    pub(crate) epoch: u64,
    pub(crate) offset: u64,
}

impl Header {
    /// Header plus payload.
    pub(crate) fn record_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn record_crc(len_field: &[u8], rest: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(len_field), rest)
}

/// Reads the header at the start of `buf`: `Ok(None)` if fewer than [`HEADER_LEN`]
/// bytes, an error if the length field is out of range. Does not check the CRC.
pub(crate) fn read_header(buf: &[u8]) -> std::result::Result<Option<Header>, Bad> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = le_u32(buf, 0);
    if len == 0 {
        return Err(Bad::ZeroLength);
    }
    if len as usize > MAX_PAYLOAD {
        return Err(Bad::TooLong(len));
    }
    Ok(Some(Header {
        payload_len: len as usize,
        crc: le_u32(buf, 4),
        epoch: le_u64(buf, 8),
        offset: le_u64(buf, 16),
    }))
}

/// [`parse`] without allocating on failure.
pub(crate) fn parse_raw(buf: &[u8]) -> std::result::Result<Option<(RecordView<'_>, usize)>, Bad> {
    let Some(h) = read_header(buf)? else {
        return Ok(None);
    };
    let total = h.record_len();
    if buf.len() < total {
        return Ok(None);
    }
    let computed = record_crc(&buf[0..4], &buf[8..total]);
    if computed != h.crc {
        return Err(Bad::Crc {
            stored: h.crc,
            computed,
        });
    }
    let view = RecordView {
        epoch: h.epoch,
        offset: h.offset,
        payload: &buf[HEADER_LEN..total],
    };
    Ok(Some((view, total)))
}

/// Parses the record at the start of `buf`.
///
/// Fewer than [`HEADER_LEN`] bytes, or a valid length whose payload runs past the end
/// of `buf`, is [`Parse::Incomplete`]; a length of 0 or over [`MAX_PAYLOAD`], or a CRC
/// mismatch, is [`Parse::Invalid`]. Offsets and epochs are not judged here: whether
/// they fit the log is the caller's business (see [`validate_batch`]).
pub fn parse(buf: &[u8]) -> Parse<'_> {
    match parse_raw(buf) {
        Ok(Some((view, used))) => Parse::Complete(view, used),
        Ok(None) => Parse::Incomplete,
        Err(bad) => Parse::Invalid(bad.to_string()),
    }
}

/// What [`validate_batch`] found in a valid batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchInfo {
    /// Records in the batch.
    pub records: u64,
    /// Offset after the batch's last record (`expected_first` for an empty batch).
    pub next_offset: u64,
    /// Epoch of the batch's last record (`min_epoch` for an empty batch).
    pub last_epoch: u64,
}

/// Checks that `bytes` is a run of whole, valid records that continues a log whose
/// next offset is `expected_first` and whose last epoch is `min_epoch`: offsets dense
/// from `expected_first`, epochs non-decreasing and never below `min_epoch`.
///
/// Followers call this on every batch from the network before appending it; any
/// failure is [`ReplogError::InvalidRecord`] naming the record, its byte position in
/// the batch and the check that failed.
pub fn validate_batch(bytes: &[u8], expected_first: u64, min_epoch: u64) -> Result<BatchInfo> {
    let mut pos = 0;
    let mut next = expected_first;
    let mut epoch = min_epoch;
    let mut records = 0u64;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let (view, used) = match parse_raw(rest) {
            Ok(Some(done)) => done,
            Ok(None) => {
                let need = match read_header(rest) {
                    Ok(Some(h)) => h.record_len(),
                    _ => HEADER_LEN,
                };
                return Err(ReplogError::InvalidRecord(format!(
                    "batch ends inside record {records} (byte {pos}): it has {} of its {need} \
                     bytes; send whole records only",
                    rest.len()
                )));
            }
            Err(bad) => {
                return Err(ReplogError::InvalidRecord(format!(
                    "record {records} of the batch (byte {pos}, expected offset {next}): {bad}"
                )));
            }
        };
        if view.offset != next {
            return Err(ReplogError::InvalidRecord(format!(
                "record {records} of the batch (byte {pos}) has offset {} but the log \
                 continues at offset {next}; resend from offset {next}",
                view.offset
            )));
        }
        if view.epoch < epoch {
            return Err(ReplogError::InvalidRecord(format!(
                "record at offset {next} (byte {pos} of the batch) has epoch {} below the \
                 log's epoch {epoch}; epochs never go down",
                view.epoch
            )));
        }
        epoch = view.epoch;
        next += 1;
        records += 1;
        pos += used;
    }
    Ok(BatchInfo {
        records,
        next_offset: next,
        last_epoch: epoch,
    })
}

/// Walks the headers of bytes already checked by [`validate_batch`], yielding
/// `(byte position, epoch, record length)` for each record without re-checking CRCs.
/// Stops early (never panics) if the bytes turn out not to be records.
pub(crate) fn headers(bytes: &[u8]) -> impl Iterator<Item = (usize, u64, usize)> + '_ {
    let mut pos = 0usize;
    std::iter::from_fn(move || {
        let h = read_header(bytes.get(pos..)?).ok()??;
        let at = pos;
        let len = h.record_len();
        if bytes.len() - at < len {
            return None;
        }
        pos += len;
        Some((at, h.epoch, len))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(epoch: u64, offset: u64, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode(&mut v, epoch, offset, payload);
        v
    }

    fn invalid_reason(buf: &[u8]) -> String {
        match parse(buf) {
            Parse::Invalid(r) => r,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn layout_is_little_endian_with_crc_over_len_and_body() {
        let r = rec(0x0102, 0x0304, b"xyz");
        assert_eq!(r.len(), encoded_len(3));
        assert_eq!(&r[0..4], &3u32.to_le_bytes());
        assert_eq!(&r[8..16], &0x0102u64.to_le_bytes());
        assert_eq!(&r[16..24], &0x0304u64.to_le_bytes());
        assert_eq!(&r[24..], b"xyz");
        let mut body = r[0..4].to_vec();
        body.extend_from_slice(&r[8..]);
        assert_eq!(&r[4..8], &crc32c::crc32c(&body).to_le_bytes());
    }

    #[test]
    fn encode_appends_without_touching_existing_bytes() {
        let mut out = b"prefix".to_vec();
        encode(&mut out, 1, 2, b"a");
        encode(&mut out, 1, 3, b"bc");
        assert_eq!(&out[..6], b"prefix");
        let Parse::Complete(v, n) = parse(&out[6..]) else {
            panic!("first record")
        };
        assert_eq!((v.epoch, v.offset, v.payload, n), (1, 2, &b"a"[..], 25));
        let Parse::Complete(v, n) = parse(&out[6 + 25..]) else {
            panic!("second record")
        };
        assert_eq!((v.epoch, v.offset, v.payload, n), (1, 3, &b"bc"[..], 26));
    }

    #[test]
    fn round_trip_with_trailing_bytes() {
        let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let mut r = rec(u64::MAX, 7, &payload);
        r.extend_from_slice(b"next record");
        match parse(&r) {
            Parse::Complete(v, n) => {
                assert_eq!(n, HEADER_LEN + 1000);
                assert_eq!(v.epoch, u64::MAX);
                assert_eq!(v.offset, 7);
                assert_eq!(v.payload, &payload[..]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn incomplete_header_and_body() {
        let r = rec(1, 0, b"hello");
        for cut in 0..r.len() {
            assert_eq!(parse(&r[..cut]), Parse::Incomplete, "cut at {cut}");
        }
    }

    #[test]
    fn zero_length_is_invalid() {
        let zeros = [0u8; 64];
        assert!(invalid_reason(&zeros).contains("length field is 0"));
        // Even with only a header present: the length is judged before the body.
        assert!(invalid_reason(&zeros[..HEADER_LEN]).contains("length field is 0"));
    }

    #[test]
    fn oversized_length_is_invalid_even_without_body() {
        let mut r = rec(1, 0, b"x");
        r[0..4].copy_from_slice(&(MAX_PAYLOAD as u32 + 1).to_le_bytes());
        assert!(invalid_reason(&r).contains("exceeds"));
        r[0..4].copy_from_slice(&(MAX_PAYLOAD as u32).to_le_bytes());
        assert_eq!(parse(&r), Parse::Incomplete);
    }

    #[test]
    fn max_payload_round_trips() {
        let payload = vec![0xA5; MAX_PAYLOAD];
        let r = rec(3, 9, &payload);
        let Parse::Complete(v, n) = parse(&r) else {
            panic!("max payload")
        };
        assert_eq!(n, HEADER_LEN + MAX_PAYLOAD);
        assert_eq!(v.payload.len(), MAX_PAYLOAD);
    }

    #[test]
    fn every_flipped_bit_is_caught() {
        let r = rec(5, 42, b"some payload");
        for byte in 0..r.len() {
            for bit in 0..8 {
                let mut d = r.clone();
                d[byte] ^= 1 << bit;
                match parse(&d) {
                    Parse::Invalid(_) | Parse::Incomplete => {}
                    Parse::Complete(..) => panic!("flip of byte {byte} bit {bit} not caught"),
                }
            }
        }
        let mut d = r.clone();
        d[30] ^= 1;
        assert!(invalid_reason(&d).contains("CRC mismatch"));
        let mut d = r.clone();
        d[5] ^= 0x10;
        assert!(invalid_reason(&d).contains("CRC mismatch"));
        let mut d = r;
        d[0] ^= 1; // len 12 -> 13: body past the end
        assert_eq!(parse(&d), Parse::Incomplete);
        d.push(0);
        assert!(invalid_reason(&d).contains("CRC mismatch"));
    }

    #[test]
    fn check_payload_len_bounds() {
        assert!(check_payload_len(0).is_err());
        assert!(check_payload_len(1).is_ok());
        assert!(check_payload_len(MAX_PAYLOAD).is_ok());
        assert!(check_payload_len(MAX_PAYLOAD + 1).is_err());
    }

    fn batch(epochs_offsets: &[(u64, u64)]) -> Vec<u8> {
        let mut out = Vec::new();
        for &(e, o) in epochs_offsets {
            encode(&mut out, e, o, format!("payload {o}").as_bytes());
        }
        out
    }

    fn invalid_record(r: Result<BatchInfo>) -> String {
        match r {
            Err(ReplogError::InvalidRecord(m)) => m,
            other => panic!("expected InvalidRecord, got {other:?}"),
        }
    }

    #[test]
    fn validate_batch_accepts_dense_rising_epochs() {
        let b = batch(&[(2, 10), (2, 11), (3, 12), (5, 13)]);
        let info = validate_batch(&b, 10, 2).unwrap();
        assert_eq!(
            info,
            BatchInfo {
                records: 4,
                next_offset: 14,
                last_epoch: 5
            }
        );
        let empty = validate_batch(&[], 7, 4).unwrap();
        assert_eq!(
            empty,
            BatchInfo {
                records: 0,
                next_offset: 7,
                last_epoch: 4
            }
        );
    }

    #[test]
    fn validate_batch_rejects_wrong_start_and_gaps() {
        let b = batch(&[(1, 10), (1, 11)]);
        let m = invalid_record(validate_batch(&b, 9, 0));
        assert!(
            m.contains("offset 10") && m.contains("continues at offset 9"),
            "{m}"
        );
        let gap = batch(&[(1, 10), (1, 12)]);
        let m = invalid_record(validate_batch(&gap, 10, 0));
        assert!(m.contains("record 1 ") && m.contains("offset 12"), "{m}");
        assert!(m.contains("byte 34"), "{m}"); // "payload 10" is 10 bytes
        let dup = batch(&[(1, 10), (1, 10)]);
        assert!(validate_batch(&dup, 10, 0).is_err());
    }

    #[test]
    fn validate_batch_rejects_lower_epoch() {
        let below_min = batch(&[(2, 0)]);
        let m = invalid_record(validate_batch(&below_min, 0, 3));
        assert!(m.contains("epoch 2 below") && m.contains("epoch 3"), "{m}");
        let going_down = batch(&[(4, 0), (3, 1)]);
        let m = invalid_record(validate_batch(&going_down, 0, 0));
        assert!(m.contains("offset 1") && m.contains("epoch 3 below"), "{m}");
    }

    #[test]
    fn validate_batch_rejects_bad_crc() {
        let mut b = batch(&[(1, 0), (1, 1), (1, 2)]);
        let second = encoded_len(b"payload 0".len());
        b[second + HEADER_LEN] ^= 0xFF;
        let m = invalid_record(validate_batch(&b, 0, 0));
        assert!(m.contains("CRC mismatch") && m.contains("record 1 "), "{m}");
        assert!(m.contains(&format!("byte {second}")), "{m}");
    }

    #[test]
    fn validate_batch_rejects_trailing_partial_record() {
        let b = batch(&[(1, 0), (1, 1)]);
        for cut in 1..encoded_len(b"payload 1".len()) {
            let m = invalid_record(validate_batch(&b[..b.len() - cut], 0, 0));
            assert!(m.contains("ends inside record 1"), "{m}");
        }
        let mut zero_tail = b.clone();
        zero_tail.extend_from_slice(&[0; 30]);
        let m = invalid_record(validate_batch(&zero_tail, 0, 0));
        assert!(m.contains("length field is 0"), "{m}");
    }

    #[test]
    fn headers_walks_records() {
        let b = batch(&[(1, 0), (2, 1), (2, 2)]);
        let hs: Vec<_> = headers(&b).collect();
        assert_eq!(hs.len(), 3);
        assert_eq!(hs[0], (0, 1, 33));
        assert_eq!(hs[1], (33, 2, 33));
        assert_eq!(hs[2], (66, 2, 33));
        assert_eq!(headers(&b[..50]).count(), 1);
    }
}
