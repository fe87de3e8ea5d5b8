//! The in-memory backend: encoded records in one `Vec<u8>` plus an offset -> byte
//! position index. Nothing touches the disk; used for tests and for nodes that keep
//! their log only in memory. Bounds are checked by `Storage` before calls get here.

use super::{records_fitting, replay};
use crate::error::Result;
use crate::record::{self, RecordView};

/// Records kept in memory.
#[derive(Debug, Default)]
pub(crate) struct MemoryLog {
    /// Encoded records, back to back.
    data: Vec<u8>,
    /// `positions[o]` is the byte position of record `o` in `data`.
    positions: Vec<u64>,
}

impl MemoryLog {
    pub(crate) fn next_offset(&self) -> u64 {
        self.positions.len() as u64
    }

    /// Appends one record; the caller has checked the payload and epoch.
    pub(crate) fn append(&mut self, epoch: u64, payload: &[u8]) -> u64 {
        let offset = self.next_offset();
        self.positions.push(self.data.len() as u64);
        record::encode(&mut self.data, epoch, offset, payload);
        offset
    }

    /// Appends a batch already checked by `validate_batch`.
    pub(crate) fn append_encoded(&mut self, batch: &[u8]) {
        let base = self.data.len() as u64;
        self.positions
            .extend(record::headers(batch).map(|(pos, _, _)| base + pos as u64));
        self.data.extend_from_slice(batch);
    }

    /// Copies whole records from `from` (< next_offset) into `out`; see `Storage::read`.
    pub(crate) fn read(&self, from: u64, max_bytes: usize, out: &mut Vec<u8>) -> u64 {
        let starts = &self.positions[from as usize..];
        let n = records_fitting(starts, self.data.len() as u64, max_bytes as u64).max(1);
        let start = starts[0] as usize;
        let end = starts.get(n).map_or(self.data.len(), |&p| p as usize);
        out.extend_from_slice(&self.data[start..end]);
        from + n as u64
    }

    /// Calls `f` for every record from `from` on, straight out of the buffer.
    pub(crate) fn for_each(
        &self,
        from: u64,
        f: &mut dyn FnMut(RecordView<'_>) -> Result<()>,
    ) -> Result<()> {
        let Some(&start) = self.positions.get(from as usize) else {
            return Ok(());
        };
        replay(&self.data[start as usize..], from, "the in-memory log", f)?;
        Ok(())
    }

    /// Drops every record at or after `next` (< next_offset).
    pub(crate) fn truncate(&mut self, next: u64) {
        if let Some(&pos) = self.positions.get(next as usize) {
            self.data.truncate(pos as usize);
            self.positions.truncate(next as usize);
        }
    }
}
