//! The file backend: a directory of segment files, the active one last, plus the
//! offset -> position index covering every record. Owns appending (with the roll
//! rule), reads that span segments and the user buffer, and truncation.
//!
//! Roll rule: before a record goes into an active segment that already holds
//! `segment_bytes` or more (written + buffered), that segment is written out and
//! fdatasynced, the next segment file is created and the directory is fsynced. So
//! every segment but the active one is durable, and "write out + fdatasync the active
//! file" makes every appended record durable.

use std::path::{Path, PathBuf};

use super::segment::{Segment, sync_dir};
use super::{FOR_EACH_CHUNK, WRITE_OUT_BYTES, records_fitting, replay};
use crate::error::{ReplogError, Result};
use crate::record::{self, RecordView};

/// Segment files in one directory.
#[derive(Debug)]
pub(crate) struct SegmentedLog {
    dir: PathBuf,
    segment_bytes: u64,
    /// Full segments, ascending by base; all written out and fdatasynced.
    sealed: Vec<Segment>,
    /// The segment appends go to.
    active: Segment,
    /// `positions[o]` is the byte position of record `o` inside its segment.
    positions: Vec<u64>,
    /// A file was created or deleted and the directory has not been fsynced since.
    dir_unsynced: bool,
}

impl SegmentedLog {
    /// Assembles a log from segments recovery has checked. `segments` must not be
    /// empty; `positions` covers their records.
    pub(crate) fn new(
        dir: PathBuf,
        segment_bytes: u64,
        mut sealed: Vec<Segment>,
        positions: Vec<u64>,
    ) -> Result<SegmentedLog> {
        let Some(active) = sealed.pop() else {
            return Err(ReplogError::InvalidRecord(format!(
                "no segment to append to in {}: this is a bug in recovery, please report it",
                dir.display()
            )));
        };
        Ok(SegmentedLog {
            dir,
            segment_bytes,
            sealed,
            active,
            positions,
            dir_unsynced: false,
        })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn next_offset(&self) -> u64 {
        self.positions.len() as u64
    }

    pub(crate) fn segment_count(&self) -> usize {
        self.sealed.len() + 1
    }

    fn segment(&self, i: usize) -> &Segment {
        self.sealed.get(i).unwrap_or(&self.active)
    }

    /// Index of the segment holding `offset` (the active one for offsets past it).
    fn segment_index(&self, offset: u64) -> usize {
        if offset >= self.active.base() {
            return self.sealed.len();
        }
        self.sealed
            .partition_point(|s| s.base() <= offset)
            .saturating_sub(1)
    }

    fn sync_dir_if_needed(&mut self) -> Result<()> {
        if self.dir_unsynced {
            sync_dir(&self.dir)?;
            self.dir_unsynced = false;
        }
        Ok(())
    }

    /// Makes room for the next record: rolls a full segment, or writes out a full
    /// buffer. Nothing has been appended when this fails.
    fn prepare(&mut self) -> Result<()> {
        let size = self.active.size();
        if size > 0 && size >= self.segment_bytes {
            self.roll()?;
        } else if self.active.pending() >= WRITE_OUT_BYTES {
            self.active.write_out()?;
        }
        self.sync_dir_if_needed()
    }

    fn roll(&mut self) -> Result<()> {
        self.active.write_out()?;
        self.active.sync_data()?;
        let mut next = Segment::create(&self.dir, self.next_offset())?;
        self.dir_unsynced = true;
        next.set_buffer(self.active.take_buffer());
        let full = std::mem::replace(&mut self.active, next);
        self.sealed.push(full);
        tracing::debug!(
            segment = %self.active.path().display(),
            "replog: rolled to a new segment"
        );
        Ok(())
    }

    /// Appends one record (payload and epoch already checked) and returns its offset.
    pub(crate) fn append(&mut self, epoch: u64, payload: &[u8]) -> Result<u64> {
        self.prepare()?;
        let offset = self.next_offset();
        let pos = self.active.size();
        record::encode(self.active.buffer_mut(), epoch, offset, payload);
        self.positions.push(pos);
        Ok(offset)
    }

    /// Appends a batch already checked by `validate_batch`, one copy per run of
    /// records that fits the active segment. On an I/O error a prefix of the batch
    /// (whole records) may have been appended; `next_offset` says how much.
    pub(crate) fn append_encoded(&mut self, batch: &[u8]) -> Result<()> {
        let mut records = record::headers(batch).peekable();
        while let Some(&(run_start, _, _)) = records.peek() {
            self.prepare()?;
            let mut size = self.active.size();
            let mut run_end = run_start;
            while let Some(&(pos, _, len)) = records.peek() {
                if run_end > run_start && size >= self.segment_bytes {
                    break;
                }
                self.positions.push(size);
                size += len as u64;
                run_end = pos + len;
                records.next();
            }
            self.active
                .buffer_mut()
                .extend_from_slice(&batch[run_start..run_end]);
        }
        Ok(())
    }

    pub(crate) fn write_out(&mut self) -> Result<()> {
        self.active.write_out()
    }

    pub(crate) fn pending_bytes(&self) -> usize {
        self.active.pending()
    }

    pub(crate) fn active_file(&self) -> (u64, &std::fs::File) {
        (self.active.base(), self.active.file())
    }

    pub(crate) fn sync_now(&mut self) -> Result<()> {
        self.active.write_out()?;
        self.active.sync_data()?;
        self.sync_dir_if_needed()
    }

    /// Copies whole records from `from` (< next_offset) into `out`; see
    /// `Storage::read`. On error `out` is left as it was.
    pub(crate) fn read(&self, from: u64, max_bytes: usize, out: &mut Vec<u8>) -> Result<u64> {
        let original_len = out.len();
        let result = self.read_inner(from, max_bytes, out);
        if result.is_err() {
            out.truncate(original_len);
        }
        result
    }

    fn read_inner(&self, from: u64, max_bytes: usize, out: &mut Vec<u8>) -> Result<u64> {
        let next = self.next_offset();
        let count = self.segment_count();
        let mut budget = max_bytes as u64;
        let mut cur = from;
        let mut idx = self.segment_index(cur);
        while cur < next && idx < count {
            let seg = self.segment(idx);
            let seg_end = if idx + 1 < count {
                self.segment(idx + 1).base()
            } else {
                next
            };
            if cur < seg_end {
                let starts = &self.positions[cur as usize..seg_end as usize];
                let mut n = records_fitting(starts, seg.size(), budget);
                if cur == from {
                    n = n.max(1);
                }
                if n == 0 {
                    break;
                }
                let start = starts[0];
                let end = starts.get(n).copied().unwrap_or(seg.size());
                seg.read_range(start, end, out)?;
                budget = budget.saturating_sub(end - start);
                cur += n as u64;
                if cur < seg_end {
                    break;
                }
            }
            idx += 1;
        }
        Ok(cur)
    }

    /// Replays records from `from`, reading the files in large chunks.
    pub(crate) fn for_each(
        &self,
        from: u64,
        f: &mut dyn FnMut(RecordView<'_>) -> Result<()>,
    ) -> Result<()> {
        let next = self.next_offset();
        let source = format!("the segment files in {}", self.dir.display());
        let mut chunk = Vec::with_capacity(FOR_EACH_CHUNK);
        let mut cur = from;
        while cur < next {
            chunk.clear();
            let after = self.read(cur, FOR_EACH_CHUNK, &mut chunk)?;
            let replayed = replay(&chunk, cur, &source, f)?;
            if replayed != after {
                return Err(ReplogError::InvalidRecord(format!(
                    "{source} held records {cur}..{replayed} where the index expected \
                     {cur}..{after}: a segment file changed under the running process; \
                     restart the node so recovery checks the log"
                )));
            }
            cur = after;
        }
        Ok(())
    }

    /// Removes every record at or after `next` (< next_offset): deletes later
    /// segments newest first (the log stays a valid prefix at every step), then cuts
    /// the segment holding `next` and fsyncs it.
    pub(crate) fn truncate(&mut self, next: u64) -> Result<()> {
        let mut active_end = self.next_offset();
        while self.active.base() >= next {
            let Some(prev) = self.sealed.pop() else {
                break;
            };
            if let Err(e) = std::fs::remove_file(self.active.path()) {
                self.sealed.push(prev);
                return Err(ReplogError::io(self.active.path(), e));
            }
            let mut gone = std::mem::replace(&mut self.active, prev);
            self.active.set_buffer(std::mem::take(gone.buffer_mut()));
            active_end = gone.base();
            self.positions.truncate(active_end as usize);
            self.dir_unsynced = true;
            tracing::debug!(segment = %gone.path().display(), "replog: deleted truncated segment");
            self.sync_dir_if_needed()?;
        }
        let cut = if next < active_end {
            self.positions[next as usize]
        } else {
            self.active.size()
        };
        self.active.truncate(cut)?;
        self.positions.truncate(next as usize);
        Ok(())
    }
}

impl Drop for SegmentedLog {
    /// Hands the buffered tail to the kernel so a clean shutdown loses nothing
    /// appended; durability still needs `sync_now`.
    fn drop(&mut self) {
        if let Err(e) = self.active.write_out() {
            tracing::warn!(error = %e, "replog: could not write out the log buffer on close");
        }
    }
}
