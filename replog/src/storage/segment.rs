//! One segment file: its name (`{base_offset:020}.log`), the bytes already written to
//! it, the user-space buffer of bytes appended but not yet written, positional reads
//! that see both, write-out, fdatasync and truncation. Knows nothing about records;
//! the segmented log above it decides what goes in.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::{ReplogError, Result};

/// Length of a segment file name: 20 digits and `.log`.
const NAME_LEN: usize = 24;

/// File name of the segment whose first record has offset `base`.
pub fn segment_file_name(base: u64) -> String {
    format!("{base:020}.log")
}

/// The base offset encoded in a segment file name, or `None` if `name` is not one.
pub(crate) fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".log")?;
    if name.len() != NAME_LEN || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Makes file creations and deletions in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ReplogError::io(dir, e))
}

/// Reads exactly `buf.len()` bytes at `pos`.
pub(crate) fn read_exact_at(file: &File, path: &Path, buf: &mut [u8], pos: u64) -> Result<()> {
    file.read_exact_at(buf, pos)
        .map_err(|e| ReplogError::io(path, e))
}

/// An open segment file plus its pending (buffered, unwritten) tail.
#[derive(Debug)]
pub(crate) struct Segment {
    base: u64,
    path: PathBuf,
    file: File,
    /// Bytes in the file; the buffer continues at this position.
    written: u64,
    /// Appended bytes not yet handed to the kernel.
    buf: Vec<u8>,
}

impl Segment {
    /// Creates a new, empty segment file (failing if it exists). The caller syncs the
    /// directory.
    pub(crate) fn create(dir: &Path, base: u64) -> Result<Segment> {
        let path = dir.join(segment_file_name(base));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| ReplogError::io(&path, e))?;
        Ok(Segment {
            base,
            path,
            file,
            written: 0,
            buf: Vec::new(),
        })
    }

    /// Wraps an existing segment file of `len` valid bytes (recovery has checked them).
    pub(crate) fn from_file(base: u64, path: PathBuf, file: File, len: u64) -> Segment {
        Segment {
            base,
            path,
            file,
            written: len,
            buf: Vec::new(),
        }
    }

    /// Offset of the segment's first record.
    pub(crate) fn base(&self) -> u64 {
        self.base
    }

    /// Where the file lives.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The open file.
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Bytes written plus bytes buffered.
    pub(crate) fn size(&self) -> u64 {
        self.written + self.buf.len() as u64
    }

    /// Bytes buffered, not yet written.
    pub(crate) fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The buffer new records are appended to.
    pub(crate) fn buffer_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Hands over the (empty after [`Segment::write_out`]) buffer so the next segment
    /// reuses its allocation.
    pub(crate) fn take_buffer(&mut self) -> Vec<u8> {
        debug_assert!(self.buf.is_empty());
        std::mem::take(&mut self.buf)
    }

    /// Installs a buffer handed over by [`Segment::take_buffer`].
    pub(crate) fn set_buffer(&mut self, mut buf: Vec<u8>) {
        buf.clear();
        self.buf = buf;
    }

    /// Writes the buffer to the file (page cache). Positional, so a failed write can
    /// simply be retried: nothing moves until the whole buffer is written.
    pub(crate) fn write_out(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.file
            .write_all_at(&self.buf, self.written)
            .map_err(|e| ReplogError::io(&self.path, e))?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        // A huge batch may have grown the buffer; do not keep that memory around.
        if self.buf.capacity() > 4 * super::WRITE_OUT_BYTES {
            self.buf.shrink_to(super::WRITE_OUT_BYTES * 2);
        }
        Ok(())
    }

    /// fdatasync: makes the written bytes durable (not the buffer).
    pub(crate) fn sync_data(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| ReplogError::io(&self.path, e))
    }

    /// Appends bytes `start..end` of the segment (file and buffer) to `out`.
    pub(crate) fn read_range(&self, start: u64, end: u64, out: &mut Vec<u8>) -> Result<()> {
        if start > end || end > self.size() {
            return Err(ReplogError::InvalidRecord(format!(
                "read of bytes {start}..{end} beyond the {} bytes of {}: this is a bug in the \
                 log index, please report it",
                self.size(),
                self.path.display()
            )));
        }
        let file_end = end.min(self.written);
        if start < file_end {
            let n = (file_end - start) as usize;
            let at = out.len();
            out.resize(at + n, 0);
            if let Err(e) = read_exact_at(&self.file, &self.path, &mut out[at..], start) {
                out.truncate(at);
                return Err(e);
            }
        }
        let buf_start = start.max(self.written);
        if buf_start < end {
            let a = (buf_start - self.written) as usize;
            let b = (end - self.written) as usize;
            out.extend_from_slice(&self.buf[a..b]);
        }
        Ok(())
    }

    /// Cuts the segment to `len` bytes and makes that durable (ftruncate + fsync).
    pub(crate) fn truncate(&mut self, len: u64) -> Result<()> {
        if len >= self.written {
            self.buf.truncate((len - self.written) as usize);
            return Ok(());
        }
        self.file
            .set_len(len)
            .map_err(|e| ReplogError::io(&self.path, e))?;
        self.buf.clear();
        self.written = len;
        self.file
            .sync_all()
            .map_err(|e| ReplogError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(segment_file_name(0), "00000000000000000000.log");
        assert_eq!(segment_file_name(1234), "00000000000000001234.log");
        assert_eq!(
            parse_segment_file_name(&segment_file_name(u64::MAX)),
            Some(u64::MAX)
        );
        assert_eq!(
            parse_segment_file_name("00000000000000001234.log"),
            Some(1234)
        );
        assert_eq!(parse_segment_file_name("0000000000000001234.log"), None);
        assert_eq!(parse_segment_file_name("0000000000000000123x.log"), None);
        assert_eq!(parse_segment_file_name("00000000000000001234.tmp"), None);
        assert_eq!(parse_segment_file_name("+0000000000000001234.log"), None);
        assert_eq!(parse_segment_file_name("99999999999999999999.log"), None);
    }

    #[test]
    fn buffer_file_and_truncate() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Segment::create(dir.path(), 5).unwrap();
        assert!(Segment::create(dir.path(), 5).is_err());
        s.buffer_mut().extend_from_slice(b"hello ");
        s.write_out().unwrap();
        s.buffer_mut().extend_from_slice(b"world");
        assert_eq!((s.size(), s.pending()), (11, 5));
        let mut out = Vec::new();
        s.read_range(3, 9, &mut out).unwrap();
        assert_eq!(out, b"lo wor");
        assert!(s.read_range(3, 12, &mut out).is_err());
        assert_eq!(std::fs::read(s.path()).unwrap(), b"hello ");
        s.truncate(8).unwrap();
        assert_eq!((s.size(), s.pending()), (8, 2));
        s.truncate(4).unwrap();
        assert_eq!((s.size(), s.pending()), (4, 0));
        assert_eq!(std::fs::read(s.path()).unwrap(), b"hell");
        s.buffer_mut().extend_from_slice(b"!");
        s.write_out().unwrap();
        assert_eq!(std::fs::read(s.path()).unwrap(), b"hell!");
    }
}
