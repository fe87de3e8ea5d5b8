//! Local storage of the replicated log: [`Storage`], one API over two backends.
//!
//! - In memory ([`Storage::memory`]): encoded records in a `Vec<u8>` and an offset
//!   index; nothing on disk.
//! - Segment files ([`Storage::open_dir`]): `{base_offset:020}.log` files holding
//!   records back to back in the [`crate::record`] framing, opened
//!   with recovery of a torn tail (see [`Recovery`]).
//!
//! This layer is synchronous `std::fs` code. Group commit is built on top of it with
//! three hooks: [`Storage::write_out`] (user buffer to page cache),
//! [`Storage::active_file`] (the one file an fdatasync must then cover; the roll
//! rule keeps every older segment durable) and [`Storage::pending_bytes`].
//!
//! Submodules: `epochs` (epoch history), `segment` (one file and its buffer),
//! `segmented` (the file backend), `memory` (the memory backend), `recovery`
//! (scanning and repairing on open).

mod epochs;
mod memory;
mod recovery;
mod segment;
mod segmented;

use std::fs::File;
use std::path::Path;

pub use recovery::Recovery;
pub use segment::segment_file_name;
pub(crate) use segment::sync_dir;

use self::epochs::Epochs;
use self::memory::MemoryLog;
use self::segmented::SegmentedLog;
use super::error::{ReplogError, Result};
use super::record::{self, RecordView, parse_raw};

/// Appended bytes are written out to the active segment once its buffer holds this
/// much (checked before the next append): 256 KiB.
pub const WRITE_OUT_BYTES: usize = 256 << 10;

/// Bytes read per step by [`Storage::for_each`].
const FOR_EACH_CHUNK: usize = 4 << 20;

/// The log's records, in memory or in segment files.
#[derive(Debug)]
pub struct Storage {
    epochs: Epochs,
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Memory(MemoryLog),
    Files(SegmentedLog),
}

impl Storage {
    /// An empty log kept in memory only.
    pub fn memory() -> Storage {
        Storage {
            epochs: Epochs::default(),
            backend: Backend::Memory(MemoryLog::default()),
        }
    }

    /// Opens the log in `dir` (creating the directory and a first segment if needed),
    /// recovering it as described in [`Recovery`]: a torn tail left by a crash is cut
    /// off; damage followed by valid records fails with [`ReplogError::Corrupt`] and
    /// leaves every file as it was.
    ///
    /// The active segment rolls to a new file before an append once it holds
    /// `segment_bytes` or more, so a segment holds at least one record and exceeds
    /// `segment_bytes` by less than one record.
    pub fn open_dir(dir: &Path, segment_bytes: u64) -> Result<(Storage, Recovery)> {
        let recovered = recovery::recover(dir)?;
        let log = SegmentedLog::new(
            dir.to_path_buf(),
            segment_bytes,
            recovered.segments,
            recovered.positions,
        )?;
        let storage = Storage {
            epochs: recovered.epochs,
            backend: Backend::Files(log),
        };
        Ok((storage, recovered.report))
    }

    /// The log directory, or `None` for the in-memory log.
    pub fn dir(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Memory(_) => None,
            Backend::Files(log) => Some(log.dir()),
        }
    }

    /// Offset the next appended record gets.
    pub fn next_offset(&self) -> u64 {
        match &self.backend {
            Backend::Memory(log) => log.next_offset(),
            Backend::Files(log) => log.next_offset(),
        }
    }

    /// Offset of the oldest record kept: always 0 (nothing is deleted yet).
    pub fn first_offset(&self) -> u64 {
        0
    }

    /// Epoch of the last record, 0 for an empty log.
    pub fn last_epoch(&self) -> u64 {
        self.epochs.last()
    }

    /// `(epoch, first offset)` of every epoch present in the log, ascending.
    pub fn epochs(&self) -> &[(u64, u64)] {
        self.epochs.as_slice()
    }

    /// First offset of the smallest epoch greater than `epoch` present in the log, or
    /// [`Storage::next_offset`] if there is none (Kafka's OffsetsForLeaderEpoch): a
    /// follower whose last epoch is `epoch` truncates its log to this offset.
    pub fn epoch_end(&self, epoch: u64) -> u64 {
        self.epochs.end_of(epoch, self.next_offset())
    }

    /// Appends one record written in `epoch` and returns its offset.
    ///
    /// The payload must be 1..=[`record::MAX_PAYLOAD`] bytes and `epoch` must not be
    /// below [`Storage::last_epoch`]. For files the record goes into the active
    /// segment's buffer (no system call); see [`Storage::write_out`].
    pub fn append(&mut self, epoch: u64, payload: &[u8]) -> Result<u64> {
        record::check_payload_len(payload.len())?;
        let last = self.epochs.last();
        if epoch < last {
            return Err(ReplogError::InvalidRecord(format!(
                "append in epoch {epoch} after epoch {last}: epochs never go down; a \
                 deposed leader must stop writing and follow the new leader"
            )));
        }
        let offset = match &mut self.backend {
            Backend::Memory(log) => log.append(epoch, payload),
            Backend::Files(log) => log.append(epoch, payload)?,
        };
        self.epochs.note(epoch, offset);
        Ok(offset)
    }

    /// Appends a batch of encoded records as they are (after
    /// [`record::validate_batch`] against [`Storage::next_offset`] and
    /// [`Storage::last_epoch`]) and returns the new next offset. A batch that fails
    /// validation appends nothing. On an I/O error, whole records from the start of
    /// the batch may have been appended: [`Storage::next_offset`] tells.
    pub fn append_encoded(&mut self, batch: &[u8]) -> Result<u64> {
        let first = self.next_offset();
        let last = self.epochs.last();
        let info = record::validate_batch(batch, first, last)?;
        let result = match &mut self.backend {
            Backend::Memory(log) => {
                log.append_encoded(batch);
                Ok(())
            }
            Backend::Files(log) => log.append_encoded(batch),
        };
        // Epochs never go down in a batch, so one that ends in the log's current epoch
        // (the common case) adds no epoch to the history.
        let same_epoch = info.last_epoch == last && !self.epochs.as_slice().is_empty();
        let appended = if same_epoch {
            0
        } else {
            self.next_offset() - first
        };
        for (i, (_, epoch, _)) in record::headers(batch).take(appended as usize).enumerate() {
            self.epochs.note(epoch, first + i as u64);
        }
        result.map(|()| self.next_offset())
    }

    /// Writes buffered records to the active segment file (page cache, one write
    /// call). In memory: nothing to do.
    pub fn write_out(&mut self) -> Result<()> {
        match &mut self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Files(log) => log.write_out(),
        }
    }

    /// Bytes appended but not yet written out (always 0 in memory).
    pub fn pending_bytes(&self) -> usize {
        match &self.backend {
            Backend::Memory(_) => 0,
            Backend::Files(log) => log.pending_bytes(),
        }
    }

    /// The active segment (its base offset and file): after [`Storage::write_out`],
    /// an fdatasync of this file makes every appended record durable. `None` in
    /// memory.
    pub fn active_file(&self) -> Option<(u64, &File)> {
        match &self.backend {
            Backend::Memory(_) => None,
            Backend::Files(log) => Some(log.active_file()),
        }
    }

    /// Blocking write out and fdatasync of the active segment: every appended record
    /// is durable when this returns. For shutdown and tests; in memory a no-op.
    pub fn sync_now(&mut self) -> Result<()> {
        match &mut self.backend {
            Backend::Memory(_) => Ok(()),
            Backend::Files(log) => log.sync_now(),
        }
    }

    fn check_from(&self, from: u64) -> Result<()> {
        let (first, next) = (self.first_offset(), self.next_offset());
        if from < first || from > next {
            return Err(ReplogError::InvalidRecord(format!(
                "read from offset {from} outside the log's offsets {first}..={next}: ask \
                 for an offset in that range (a follower ahead of the leader must \
                 truncate to the leader's epoch end)"
            )));
        }
        Ok(())
    }

    /// Appends whole encoded records starting at offset `from` to `out` and returns
    /// the offset after the last one copied: at least one record if
    /// `from < next_offset`, then as many more as keep the total within `max_bytes`.
    /// Includes records still in the write buffer. `from` must be within
    /// `first_offset..=next_offset`. The bytes can go straight to
    /// [`Storage::append_encoded`] on another node.
    pub fn read(&self, from: u64, max_bytes: usize, out: &mut Vec<u8>) -> Result<u64> {
        self.check_from(from)?;
        if from == self.next_offset() {
            return Ok(from);
        }
        match &self.backend {
            Backend::Memory(log) => Ok(log.read(from, max_bytes, out)),
            Backend::Files(log) => log.read(from, max_bytes, out),
        }
    }

    /// Calls `f` with every record from offset `from` on, in order, reading files in
    /// large chunks; stops at the first error `f` returns. Records are checked again
    /// (CRC, offset) as they are read.
    pub fn for_each(
        &self,
        from: u64,
        mut f: impl FnMut(RecordView<'_>) -> Result<()>,
    ) -> Result<()> {
        self.check_from(from)?;
        match &self.backend {
            Backend::Memory(log) => log.for_each(from, &mut f),
            Backend::Files(log) => log.for_each(from, &mut f),
        }
    }

    /// Removes every record with offset `next` or later: deletes later segment
    /// files, cuts the one holding `next`, and fsyncs the file and the directory.
    /// `next` may not exceed [`Storage::next_offset`].
    pub fn truncate(&mut self, next: u64) -> Result<()> {
        let current = self.next_offset();
        if next > current {
            return Err(ReplogError::InvalidRecord(format!(
                "cannot truncate to offset {next}: the log ends at offset {current}; \
                 truncation only removes records"
            )));
        }
        if next < self.first_offset() {
            return Err(ReplogError::InvalidRecord(format!(
                "cannot truncate to offset {next} below the first offset {}",
                self.first_offset()
            )));
        }
        if next == current {
            return Ok(());
        }
        let result = match &mut self.backend {
            Backend::Memory(log) => {
                log.truncate(next);
                Ok(())
            }
            Backend::Files(log) => log.truncate(next),
        };
        self.epochs.truncate(self.next_offset());
        result
    }
}

/// How many records, starting at the first of `starts` (their byte positions, all in
/// one segment that ends at byte `end`), fit in `budget` bytes. May be 0.
fn records_fitting(starts: &[u64], end: u64, budget: u64) -> usize {
    let Some(&first) = starts.first() else {
        return 0;
    };
    // End position of the first `c` records.
    let end_of = |c: usize| starts.get(c).copied().unwrap_or(end);
    let (mut lo, mut hi) = (0usize, starts.len());
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if end_of(mid) - first <= budget {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

/// Parses the records in `bytes` (which start at offset `first`), checking each
/// again, and calls `f` with each. Returns the offset after the last one.
fn replay(
    bytes: &[u8],
    first: u64,
    source: &str,
    f: &mut dyn FnMut(RecordView<'_>) -> Result<()>,
) -> Result<u64> {
    let mut pos = 0;
    let mut expected = first;
    while pos < bytes.len() {
        let reason = match parse_raw(&bytes[pos..]) {
            Ok(Some((view, used))) if view.offset == expected => {
                f(view)?;
                expected += 1;
                pos += used;
                continue;
            }
            Ok(Some((view, _))) => format!("found offset {}", view.offset),
            Ok(None) => "record cut short".to_string(),
            Err(bad) => bad.to_string(),
        };
        return Err(ReplogError::InvalidRecord(format!(
            "record {expected} read back from {source} failed its check ({reason}): the \
             data changed after it was checked; restart the node so recovery checks the log"
        )));
    }
    Ok(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_fitting_bounds() {
        // Records of 10, 20, 30 bytes at 100, 110, 130; segment ends at 160.
        let starts = [100, 110, 130];
        assert_eq!(records_fitting(&starts, 160, 0), 0);
        assert_eq!(records_fitting(&starts, 160, 9), 0);
        assert_eq!(records_fitting(&starts, 160, 10), 1);
        assert_eq!(records_fitting(&starts, 160, 29), 1);
        assert_eq!(records_fitting(&starts, 160, 30), 2);
        assert_eq!(records_fitting(&starts, 160, 59), 2);
        assert_eq!(records_fitting(&starts, 160, 60), 3);
        assert_eq!(records_fitting(&starts, 160, u64::MAX), 3);
        assert_eq!(records_fitting(&[], 160, 100), 0);
    }

    fn contents(s: &Storage) -> Vec<(u64, u64, Vec<u8>)> {
        let mut v = Vec::new();
        s.for_each(0, |r| {
            v.push((r.epoch, r.offset, r.payload.to_vec()));
            Ok(())
        })
        .unwrap();
        v
    }

    #[test]
    fn memory_append_read_truncate() {
        let mut s = Storage::memory();
        assert_eq!((s.next_offset(), s.last_epoch(), s.epoch_end(0)), (0, 0, 0));
        assert!(s.active_file().is_none());
        assert_eq!(s.append(1, b"a").unwrap(), 0);
        assert_eq!(s.append(1, b"bb").unwrap(), 1);
        assert_eq!(s.append(4, b"ccc").unwrap(), 2);
        assert!(matches!(
            s.append(3, b"x"),
            Err(ReplogError::InvalidRecord(_))
        ));
        assert!(s.append(4, b"").is_err());
        assert_eq!(s.next_offset(), 3);
        assert_eq!(s.epochs(), &[(1, 0), (4, 2)]);
        assert_eq!(s.epoch_end(1), 2);
        assert_eq!(s.epoch_end(4), 3);

        let mut out = Vec::new();
        assert_eq!(s.read(0, 0, &mut out).unwrap(), 1);
        assert_eq!(out.len(), 25);
        out.clear();
        assert_eq!(s.read(1, 26 + 27, &mut out).unwrap(), 3);
        assert_eq!(out.len(), 26 + 27);
        assert_eq!(s.read(3, 100, &mut out).unwrap(), 3);
        assert!(s.read(4, 100, &mut out).is_err());

        let mut copy = Storage::memory();
        let mut all = Vec::new();
        s.read(0, usize::MAX, &mut all).unwrap();
        assert_eq!(copy.append_encoded(&all).unwrap(), 3);
        assert_eq!(contents(&copy), contents(&s));
        assert_eq!(copy.epochs(), s.epochs());

        s.truncate(2).unwrap();
        assert_eq!((s.next_offset(), s.last_epoch()), (2, 1));
        assert_eq!(s.epochs(), &[(1, 0)]);
        assert!(s.truncate(3).is_err());
        assert_eq!(s.append(2, b"d").unwrap(), 2);
        assert_eq!(
            contents(&s),
            vec![
                (1, 0, b"a".to_vec()),
                (1, 1, b"bb".to_vec()),
                (2, 2, b"d".to_vec())
            ]
        );
        // A batch that does not continue the log appends nothing.
        assert!(copy.append_encoded(&all).is_err());
        assert_eq!(copy.next_offset(), 3);
    }

    #[test]
    fn for_each_stops_at_callback_error() {
        let mut s = Storage::memory();
        for i in 0..5u8 {
            s.append(0, &[i]).unwrap();
        }
        let mut seen = Vec::new();
        let r = s.for_each(2, |r| {
            seen.push(r.offset);
            if r.offset == 3 {
                return Err(ReplogError::Protocol("stop".into()));
            }
            Ok(())
        });
        assert!(matches!(r, Err(ReplogError::Protocol(_))));
        assert_eq!(seen, [2, 3]);
    }
}
