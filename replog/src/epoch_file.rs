//! The node's current leader epoch, kept in `<dir>/epoch` so a promotion survives a
//! restart even before the new epoch's first record is written.
//!
//! Written atomically: a temporary file is written and synced, renamed over the old
//! one, and the directory is synced.

use std::fs;
use std::io::Write;
use std::path::Path;

use super::error::{ReplogError, Result};

const FILE: &str = "epoch";

/// Reads the stored epoch (0 when there is none).
pub(crate) fn load(dir: &Path) -> Result<u64> {
    let path = dir.join(FILE);
    match fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map_err(|_| ReplogError::Corrupt {
            path,
            position: 0,
            reason: format!("epoch file holds {:?}, not a number", text.trim()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(ReplogError::io(path, e)),
    }
}

/// Stores `epoch` durably.
pub(crate) fn store(dir: &Path, epoch: u64) -> Result<()> {
    let tmp = dir.join("epoch.tmp");
    let path = dir.join(FILE);
    let mut file = fs::File::create(&tmp).map_err(|e| ReplogError::io(&tmp, e))?;
    file.write_all(format!("{epoch}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| ReplogError::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| ReplogError::io(&path, e))?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ReplogError::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_then_load() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), 0);
        store(dir.path(), 7).unwrap();
        assert_eq!(load(dir.path()).unwrap(), 7);
        fs::write(dir.path().join(FILE), "x").unwrap();
        assert!(matches!(load(dir.path()), Err(ReplogError::Corrupt { .. })));
    }
}
