//! Recovery on open: scans the segment files in base-offset order, rebuilds the
//! offset index and epoch history, and decides what a bad record means.
//!
//! Records must start at each file's base offset, be dense, keep epochs from going
//! down, and each segment must start where the previous one ended. At the first
//! record that fails (cut short, bad length, bad CRC, wrong offset, lower epoch) at
//! byte `p` of a segment:
//!
//! - if a valid record follows it (found by scanning the rest of that file byte by
//!   byte, and all later segment files, for a record with offset >= the expected
//!   offset), this is damage in the middle of the log, and opening fails with
//!   [`ReplogError::Corrupt`] without touching any file: silently dropping it could
//!   lose acknowledged writes;
//! - otherwise it is a torn tail from a crash: the later segment files are deleted,
//!   the file is cut at `p` and fsynced, the directory is fsynced, and the repair is
//!   logged and reported in [`Recovery`].

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use super::epochs::Epochs;
use super::segment::{Segment, parse_segment_file_name, read_exact_at, sync_dir};
use crate::error::{ReplogError, Result};
use crate::record::{HEADER_LEN, parse_raw, read_header};

/// Bytes read per step while scanning a segment.
const SCAN_CHUNK: usize = 4 << 20;

/// What opening a log directory found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Segment files found and kept (0 for a new directory, where an empty first
    /// segment is created).
    pub segments: usize,
    /// Valid records in the log.
    pub records: u64,
    /// Bytes removed as a torn tail (the cut file's tail plus any later files).
    pub truncated_bytes: u64,
    /// The file that was cut and the byte position of the cut, if a torn tail was
    /// removed.
    pub truncated_at: Option<(PathBuf, u64)>,
}

/// A scanned log ready to be wrapped in a `SegmentedLog`.
pub(crate) struct Recovered {
    /// Segments in order, the last one to append to; never empty.
    pub(crate) segments: Vec<Segment>,
    /// Position of every record inside its segment.
    pub(crate) positions: Vec<u64>,
    /// Epoch history of the records.
    pub(crate) epochs: Epochs,
    /// The report for the caller.
    pub(crate) report: Recovery,
}

/// A segment file found on disk.
struct Found {
    base: u64,
    path: PathBuf,
    file: File,
    len: u64,
}

/// The first record that failed its checks.
struct Failure {
    /// Index of the segment in the found list.
    segment: usize,
    /// Byte position in that segment.
    position: u64,
    /// Which check failed.
    reason: String,
    /// The bytes at `position` are a complete, checksummed record (that does not fit
    /// the log), so they count as a valid record following the failure.
    complete_record: bool,
    /// The segment does not continue the log at all: remove it rather than cut it.
    misplaced: bool,
}

/// What the scan of the valid prefix has built so far.
#[derive(Default)]
struct Scan {
    expected: u64,
    positions: Vec<u64>,
    epochs: Epochs,
}

/// Opens (creating if needed) the log directory and recovers it.
pub(crate) fn recover(dir: &Path) -> Result<Recovered> {
    fs::create_dir_all(dir).map_err(|e| ReplogError::io(dir, e))?;
    let found = find_segments(dir)?;
    let mut scan = Scan::default();
    let mut failure = None;
    for (i, seg) in found.iter().enumerate() {
        if seg.base != scan.expected {
            failure = Some(Failure {
                segment: i,
                position: 0,
                reason: format!(
                    "segment starts at offset {} but the log continues at offset {} \
                     (a segment file is missing or misnamed)",
                    seg.base, scan.expected
                ),
                complete_record: false,
                misplaced: true,
            });
            break;
        }
        if let Some(f) = scan_segment(i, seg, &mut scan)? {
            failure = Some(f);
            break;
        }
    }

    let mut report = Recovery::default();
    let mut segments = Vec::with_capacity(found.len());
    match failure {
        None => {
            report.segments = found.len();
            segments.extend(
                found
                    .into_iter()
                    .map(|f| Segment::from_file(f.base, f.path, f.file, f.len)),
            );
        }
        Some(fail) => {
            refuse_if_records_follow(&found, &fail, scan.expected)?;
            report.truncated_bytes = remove_torn_tail(dir, &found, &fail)?;
            report.truncated_at = Some((found[fail.segment].path.clone(), fail.position));
            let keep = if fail.misplaced {
                fail.segment
            } else {
                fail.segment + 1
            };
            report.segments = keep;
            for (i, f) in found.into_iter().enumerate().take(keep) {
                let len = if i == fail.segment {
                    fail.position
                } else {
                    f.len
                };
                segments.push(Segment::from_file(f.base, f.path, f.file, len));
            }
        }
    }
    if segments.is_empty() {
        segments.push(Segment::create(dir, 0)?);
        sync_dir(dir)?;
    }
    report.records = scan.expected;
    Ok(Recovered {
        segments,
        positions: scan.positions,
        epochs: scan.epochs,
        report,
    })
}

/// Lists `{base:020}.log` files in `dir`, ascending by base, opened for reading and
/// writing. Other entries are ignored.
fn find_segments(dir: &Path) -> Result<Vec<Found>> {
    let mut found = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| ReplogError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ReplogError::io(dir, e))?;
        let name = entry.file_name();
        let Some(base) = name.to_str().and_then(parse_segment_file_name) else {
            continue;
        };
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| ReplogError::io(&path, e))?;
        if !file_type.is_file() {
            continue;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| ReplogError::io(&path, e))?;
        let len = file
            .metadata()
            .map_err(|e| ReplogError::io(&path, e))?
            .len();
        found.push(Found {
            base,
            path,
            file,
            len,
        });
    }
    found.sort_by_key(|f| f.base);
    Ok(found)
}

/// Checks the records of one segment, extending `scan`; returns the first failure.
fn scan_segment(index: usize, seg: &Found, scan: &mut Scan) -> Result<Option<Failure>> {
    let fail = |position: u64, reason: String, complete_record: bool| Failure {
        segment: index,
        position,
        reason,
        complete_record,
        misplaced: false,
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut buf_pos = 0u64; // file position of buf[0]
    let mut cursor = 0usize;
    loop {
        let at = buf_pos + cursor as u64;
        if at == seg.len {
            return Ok(None);
        }
        match parse_raw(&buf[cursor..]) {
            Ok(Some((view, used))) => {
                if view.offset != scan.expected {
                    return Ok(Some(fail(
                        at,
                        format!(
                            "record has offset {} where offset {} was expected",
                            view.offset, scan.expected
                        ),
                        true,
                    )));
                }
                let last = scan.epochs.last();
                if view.epoch < last {
                    return Ok(Some(fail(
                        at,
                        format!(
                            "record {} has epoch {} below epoch {last} of the record before it",
                            view.offset, view.epoch
                        ),
                        true,
                    )));
                }
                scan.epochs.note(view.epoch, view.offset);
                scan.positions.push(at);
                scan.expected += 1;
                cursor += used;
            }
            Ok(None) => {
                let need = match read_header(&buf[cursor..]) {
                    Ok(Some(h)) => h.record_len(),
                    _ => HEADER_LEN,
                };
                let end = buf_pos + buf.len() as u64;
                if end >= seg.len {
                    let have = seg.len - at;
                    return Ok(Some(fail(
                        at,
                        format!(
                            "record {} is cut short: the file ends after {have} of its \
                             {need} bytes",
                            scan.expected
                        ),
                        false,
                    )));
                }
                buf.drain(..cursor);
                buf_pos += cursor as u64;
                cursor = 0;
                let target = (SCAN_CHUNK.max(need) as u64).min(seg.len - buf_pos) as usize;
                let old = buf.len();
                buf.resize(target.max(old), 0);
                read_exact_at(&seg.file, &seg.path, &mut buf[old..], buf_pos + old as u64)?;
            }
            Err(bad) => {
                return Ok(Some(fail(
                    at,
                    format!("record {}: {bad}", scan.expected),
                    false,
                )));
            }
        }
    }
}

/// Fails with [`ReplogError::Corrupt`] if any valid record follows the failure.
fn refuse_if_records_follow(found: &[Found], fail: &Failure, expected: u64) -> Result<()> {
    let seg = &found[fail.segment];
    let corrupt = |detail: String| ReplogError::Corrupt {
        path: seg.path.clone(),
        position: fail.position,
        reason: format!("{}; {detail}", fail.reason),
    };
    let from = if fail.complete_record || fail.misplaced {
        fail.position
    } else {
        fail.position + 1
    };
    if let Some((q, offset)) = find_record(seg, from, expected)? {
        return Err(corrupt(format!(
            "a valid record with offset {offset} follows at byte {q}"
        )));
    }
    for later in &found[fail.segment + 1..] {
        if let Some((q, offset)) = find_record(later, 0, expected)? {
            return Err(corrupt(format!(
                "a valid record with offset {offset} follows at byte {q} of {}",
                later.path.display()
            )));
        }
    }
    Ok(())
}

/// Scans `seg` byte by byte from `from` for a complete, valid record with an offset
/// at or after `expected`. Returns its position and offset.
///
/// Only plausible offsets are checked against the CRC: a record our writer put at
/// byte `q` of a segment with base `b` has at most `q / 25` records before it, so its
/// offset is at most `b + q / 25`; the scan allows up to `max(b, expected) + q`
/// (generous, so hand-made or shifted records still count). This keeps the scan of a
/// garbage-filled file from checksumming megabytes at nearly every byte.
fn find_record(seg: &Found, from: u64, expected: u64) -> Result<Option<(u64, u64)>> {
    let floor = seg.base.max(expected);
    let mut chunk = Vec::new();
    let mut start = from;
    while start + HEADER_LEN as u64 <= seg.len {
        let n = (seg.len - start).min(SCAN_CHUNK as u64) as usize;
        chunk.resize(n, 0);
        read_exact_at(&seg.file, &seg.path, &mut chunk, start)?;
        for i in 0..=(n - HEADER_LEN) {
            let Ok(Some(h)) = read_header(&chunk[i..]) else {
                continue;
            };
            let q = start + i as u64;
            if h.offset < expected || h.offset > floor.saturating_add(q) {
                continue;
            }
            let total = h.record_len();
            if q + total as u64 > seg.len {
                continue;
            }
            let valid = if i + total <= n {
                matches!(parse_raw(&chunk[i..i + total]), Ok(Some(_)))
            } else {
                let mut rec = vec![0; total];
                read_exact_at(&seg.file, &seg.path, &mut rec, q)?;
                matches!(parse_raw(&rec), Ok(Some(_)))
            };
            if valid {
                return Ok(Some((q, h.offset)));
            }
        }
        if start + n as u64 >= seg.len {
            break;
        }
        start += (n - HEADER_LEN + 1) as u64;
    }
    Ok(None)
}

/// Removes the torn tail: later segment files (newest first), then the failing
/// segment is cut at the failure (or removed if it does not continue the log).
/// Returns the bytes removed.
fn remove_torn_tail(dir: &Path, found: &[Found], fail: &Failure) -> Result<u64> {
    let seg = &found[fail.segment];
    let mut removed = seg.len - fail.position;
    for later in found[fail.segment + 1..].iter().rev() {
        fs::remove_file(&later.path).map_err(|e| ReplogError::io(&later.path, e))?;
        removed += later.len;
    }
    if fail.misplaced {
        fs::remove_file(&seg.path).map_err(|e| ReplogError::io(&seg.path, e))?;
    } else {
        seg.file
            .set_len(fail.position)
            .and_then(|()| seg.file.sync_all())
            .map_err(|e| ReplogError::io(&seg.path, e))?;
    }
    sync_dir(dir)?;
    tracing::warn!(
        segment = %seg.path.display(),
        position = fail.position,
        removed_bytes = removed,
        later_segments_removed = found.len() - fail.segment - 1,
        reason = %fail.reason,
        "replog: removed a torn tail left by a crash (no valid record follows it)"
    );
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::encode;

    /// Deterministic bytes that are not records.
    fn garbage(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn found(dir: &Path, base: u64, bytes: &[u8]) -> Found {
        let path = dir.join(super::super::segment_file_name(base));
        fs::write(&path, bytes).unwrap();
        let file = File::open(&path).unwrap();
        Found {
            base,
            path,
            file,
            len: bytes.len() as u64,
        }
    }

    #[test]
    fn find_record_across_scan_chunk_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = Vec::new();
        encode(&mut rec, 2, 7, &[0x5A; 300]);
        // Garbage alone: nothing.
        let g = found(dir.path(), 0, &garbage(SCAN_CHUNK + 5000, 1));
        assert_eq!(find_record(&g, 0, 5).unwrap(), None);
        // A record whose header straddles the first chunk's end, and one whose body does.
        for at in [SCAN_CHUNK - 10, SCAN_CHUNK - HEADER_LEN - 100, 3] {
            let mut bytes = garbage(at, 2);
            bytes.extend_from_slice(&rec);
            bytes.extend_from_slice(&garbage(1000, 3));
            let f = found(dir.path(), 0, &bytes);
            assert_eq!(
                find_record(&f, 0, 5).unwrap(),
                Some((at as u64, 7)),
                "at {at}"
            );
            // Too old an offset, or a scan starting after it: not found.
            assert_eq!(find_record(&f, 0, 8).unwrap(), None);
            assert_eq!(find_record(&f, at as u64 + 1, 5).unwrap(), None);
            // Cut short: not a record.
            let cut = found(dir.path(), 0, &bytes[..at + rec.len() - 1]);
            assert_eq!(find_record(&cut, 0, 5).unwrap(), None);
        }
    }

    #[test]
    fn scan_reads_records_larger_than_the_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        encode(&mut bytes, 1, 0, b"small");
        encode(&mut bytes, 1, 1, &vec![1; SCAN_CHUNK + 1000]);
        encode(&mut bytes, 2, 2, b"after");
        let whole = bytes.len() as u64;
        encode(&mut bytes, 2, 3, &vec![3; SCAN_CHUNK]);
        bytes.truncate(bytes.len() - 1);
        let f = found(dir.path(), 0, &bytes);
        let mut scan = Scan::default();
        let fail = scan_segment(0, &f, &mut scan)
            .unwrap()
            .expect("torn last record");
        assert_eq!(scan.expected, 3);
        assert_eq!(
            scan.positions,
            [0, 29, 29 + HEADER_LEN as u64 + SCAN_CHUNK as u64 + 1000]
        );
        assert_eq!(scan.epochs.as_slice(), &[(1, 0), (2, 2)]);
        assert_eq!(fail.position, whole);
        assert!(fail.reason.contains("cut short"), "{}", fail.reason);
        assert!(!fail.complete_record && !fail.misplaced);
    }
}
