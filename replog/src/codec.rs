//! Length-checked little-endian reading and writing, shared by every compact encoding
//! of the crate: commands, snapshots, the hard-state file and the client protocol.
//!
//! A [`Reader`] never panics and never allocates more than the bytes it was given: a
//! length field that points past the end is an error naming what was being read.

use super::error::{ReplogError, Result};

/// Reads fields out of a byte slice, front to back.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `what` names the encoding in error messages.
    pub(crate) fn new(bytes: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { rest: bytes, what }
    }

    fn short(&self, field: &str) -> ReplogError {
        ReplogError::InvalidRecord(format!("{}: cut short in {field}", self.what))
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(self.short(field));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// One byte.
    pub(crate) fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.take(1, field)?[0])
    }

    /// A little-endian u32.
    pub(crate) fn u32(&mut self, field: &str) -> Result<u32> {
        let b = self.take(4, field)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A little-endian u64.
    pub(crate) fn u64(&mut self, field: &str) -> Result<u64> {
        let mut a = [0; 8];
        a.copy_from_slice(self.take(8, field)?);
        Ok(u64::from_le_bytes(a))
    }

    /// A u32 length, then that many bytes.
    pub(crate) fn bytes(&mut self, field: &str) -> Result<&'a [u8]> {
        let len = self.u32(field)? as usize;
        self.take(len, field)
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ReplogError::InvalidRecord(format!(
                "{}: {} unexpected bytes at the end",
                self.what,
                self.rest.len()
            )))
        }
    }
}

/// Appends a little-endian u64.
pub(crate) fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a u32 length and the bytes. Fails for more than `u32::MAX` bytes.
pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    let len = u32::try_from(b.len()).map_err(|_| {
        ReplogError::InvalidRecord(format!(
            "a field of {} bytes is over the 4 GiB encoding limit",
            b.len()
        ))
    })?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(b);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_written_and_refuses_short_input() {
        let mut out = vec![7];
        put_u64(&mut out, 42);
        put_bytes(&mut out, b"abc").unwrap();
        let mut r = Reader::new(&out, "test");
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u64("b").unwrap(), 42);
        assert_eq!(r.bytes("c").unwrap(), b"abc");
        r.finish().unwrap();
        // A length that points past the end.
        let mut r = Reader::new(&[9, 0, 0, 0, 1], "test");
        assert!(r.bytes("c").is_err());
        let mut r = Reader::new(&[1, 2, 3], "test");
        assert!(r.u64("x").is_err());
        assert!(Reader::new(&[1], "test").finish().is_err());
    }
}
