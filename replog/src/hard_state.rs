//! The persisted Raft hard state (term, vote, commit index) in `<dir>/hardstate`.
//!
//! The file holds two 40-byte slots written alternately: sequence (u64), term, vote,
//! commit (u64 each, little-endian), CRC32C of those 32 bytes (u32), 4 zero bytes. A
//! write goes to the slot the previous write did not use, so a write torn by a crash
//! leaves the other slot intact; on open the valid slot with the higher sequence
//! wins. Term and vote changes are fdatasynced before the node sends the message that
//! depends on them; the commit index is written only along with them (Raft relearns
//! it from the leader).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use raft::prelude::HardState;

use super::codec::Reader;
use super::error::{ReplogError, Result};

const SLOT: u64 = 40;

/// The hard-state file of one node.
#[derive(Debug)]
pub(crate) struct HardStateFile {
    path: PathBuf,
    file: File,
    seq: u64,
}

impl HardStateFile {
    /// Opens (or creates) `<dir>/hardstate` and returns it with the newest valid hard
    /// state in it (`None` for a new file).
    pub(crate) fn open(dir: &Path) -> Result<(HardStateFile, Option<HardState>)> {
        let path = dir.join("hardstate");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| ReplogError::io(&path, e))?;
        let mut buf = vec![0u8; 2 * SLOT as usize];
        let len = file
            .metadata()
            .map_err(|e| ReplogError::io(&path, e))?
            .len();
        let n = (len as usize).min(buf.len());
        file.read_exact_at(&mut buf[..n], 0)
            .map_err(|e| ReplogError::io(&path, e))?;
        let best = buf
            .chunks(SLOT as usize)
            .filter_map(decode_slot)
            .max_by_key(|(seq, _)| *seq);
        if best.is_none() && buf[..n].iter().any(|&b| b != 0) {
            return Err(ReplogError::Corrupt {
                path,
                position: 0,
                reason: "neither hard-state slot passes its CRC".into(),
            });
        }
        let (seq, hs) = match best {
            Some((seq, hs)) => (seq, Some(hs)),
            None => (0, None),
        };
        Ok((HardStateFile { path, file, seq }, hs))
    }

    /// Writes `hs` into the next slot, and fdatasyncs it when `sync`.
    pub(crate) fn write(&mut self, hs: &HardState, sync: bool) -> Result<()> {
        self.seq += 1;
        let slot = encode_slot(self.seq, hs);
        self.file
            .write_all_at(&slot, (self.seq % 2) * SLOT)
            .map_err(|e| ReplogError::io(&self.path, e))?;
        if sync {
            self.file
                .sync_data()
                .map_err(|e| ReplogError::io(&self.path, e))?;
        }
        Ok(())
    }
}

fn encode_slot(seq: u64, hs: &HardState) -> [u8; SLOT as usize] {
    let mut out = [0u8; SLOT as usize];
    for (i, v) in [seq, hs.term, hs.vote, hs.commit].into_iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    let crc = crc32c::crc32c(&out[..32]);
    out[32..36].copy_from_slice(&crc.to_le_bytes());
    out
}

fn decode_slot(slot: &[u8]) -> Option<(u64, HardState)> {
    let mut r = Reader::new(slot, "hard state");
    let seq = r.u64("sequence").ok()?;
    let term = r.u64("term").ok()?;
    let vote = r.u64("vote").ok()?;
    let commit = r.u64("commit").ok()?;
    let crc = r.u32("crc").ok()?;
    if seq == 0 || crc != crc32c::crc32c(&slot[..32]) {
        return None;
    }
    let hs = HardState {
        term,
        vote,
        commit,
        ..HardState::default()
    };
    Some((seq, hs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(term: u64, vote: u64, commit: u64) -> HardState {
        HardState {
            term,
            vote,
            commit,
            ..HardState::default()
        }
    }

    #[test]
    fn newest_slot_wins_and_a_torn_slot_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let (mut f, got) = HardStateFile::open(dir.path()).unwrap();
        assert!(got.is_none());
        f.write(&hs(1, 2, 3), true).unwrap();
        f.write(&hs(4, 5, 6), false).unwrap();
        drop(f);
        let (mut f, got) = HardStateFile::open(dir.path()).unwrap();
        assert_eq!(got.unwrap(), hs(4, 5, 6));
        f.write(&hs(7, 8, 9), true).unwrap();
        drop(f);
        // Tear the newest slot (seq 3 lives in slot 1): the older one is used.
        let path = dir.path().join("hardstate");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[SLOT as usize + 10] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let (_, got) = HardStateFile::open(dir.path()).unwrap();
        assert_eq!(got.unwrap(), hs(4, 5, 6));
        // Both torn: refused, not silently reset to term 0.
        bytes[10] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            HardStateFile::open(dir.path()),
            Err(ReplogError::Corrupt { .. })
        ));
    }
}
