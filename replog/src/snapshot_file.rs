//! The latest snapshot of a node, kept in `<dir>/snapshot`.
//!
//! Layout: `ZRSN`, CRC32C (u32) of everything after it, index (u64), term (u64), the
//! configuration (protobuf `ConfState`, length-prefixed), the state machine bytes
//! (length-prefixed). Written to `snapshot.tmp`, fdatasynced, renamed over
//! `snapshot` and the directory fsynced, so a crash leaves the old or the new
//! snapshot, never half of one.

use std::fs;
use std::io::Write;
use std::path::Path;

use protobuf::Message as _;
use raft::prelude::{ConfState, Snapshot};

use super::codec::{Reader, put_bytes, put_u64};
use super::error::{ReplogError, Result};
use super::storage::sync_dir;

const MAGIC: &[u8; 4] = b"ZRSN";

/// Writes `snap` as the node's snapshot, durably.
pub(crate) fn save(dir: &Path, snap: &Snapshot) -> Result<()> {
    let meta = snap.get_metadata();
    let mut body = Vec::with_capacity(snap.get_data().len() + 64);
    put_u64(&mut body, meta.index);
    put_u64(&mut body, meta.term);
    let cs = meta
        .get_conf_state()
        .write_to_bytes()
        .map_err(|e| ReplogError::InvalidRecord(format!("encoding a configuration: {e}")))?;
    put_bytes(&mut body, &cs)?;
    put_bytes(&mut body, snap.get_data())?;
    let tmp = dir.join("snapshot.tmp");
    let path = dir.join("snapshot");
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(MAGIC)?;
        f.write_all(&crc32c::crc32c(&body).to_le_bytes())?;
        f.write_all(&body)?;
        f.sync_data()
    };
    write().map_err(|e| ReplogError::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| ReplogError::io(&path, e))?;
    sync_dir(dir)
}

/// Reads the node's snapshot, `None` if it has none yet.
pub(crate) fn load(dir: &Path) -> Result<Option<Snapshot>> {
    let path = dir.join("snapshot");
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ReplogError::io(&path, e)),
    };
    let corrupt = |reason: String| ReplogError::Corrupt {
        path: path.clone(),
        position: 0,
        reason,
    };
    let mut r = Reader::new(&bytes, "snapshot file");
    let head = r.take(8, "header").map_err(|e| corrupt(e.to_string()))?;
    if &head[..4] != MAGIC {
        return Err(corrupt("not a zeroring snapshot file (bad magic)".into()));
    }
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if crc != crc32c::crc32c(&bytes[8..]) {
        return Err(corrupt("CRC mismatch".into()));
    }
    let parse = |r: &mut Reader<'_>| -> Result<Snapshot> {
        let mut snap = Snapshot::default();
        let index = r.u64("index")?;
        let term = r.u64("term")?;
        let cs = ConfState::parse_from_bytes(r.bytes("configuration")?)
            .map_err(|e| ReplogError::InvalidRecord(format!("snapshot configuration: {e}")))?;
        let data = r.bytes("data")?.to_vec();
        r.finish()?;
        let meta = snap.mut_metadata();
        meta.index = index;
        meta.term = term;
        meta.set_conf_state(cs);
        snap.data = data.into();
        Ok(snap)
    };
    parse(&mut r).map(Some).map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_and_refuse_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        let mut snap = Snapshot::default();
        snap.mut_metadata().index = 10;
        snap.mut_metadata().term = 3;
        snap.mut_metadata().mut_conf_state().voters = vec![1, 2, 3];
        snap.data = b"state".to_vec().into();
        save(dir.path(), &snap).unwrap();
        assert_eq!(load(dir.path()).unwrap().unwrap(), snap);
        let path = dir.path().join("snapshot");
        let mut bytes = fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert!(matches!(load(dir.path()), Err(ReplogError::Corrupt { .. })));
    }
}
