//! The Raft log storage: `raft::Storage` over the crate's segment log, plus the hard
//! state and the latest snapshot, under the node's [`Durability`] mode.
//!
//! Entries live in memory from the snapshot's index on (what Raft may still ask for)
//! and, with files, in a *generation* directory `<dir>/log-<first index:020>/` of
//! segment files, one record per entry: record offset `o` is Raft index `first + o`,
//! the record's epoch is the entry's term and its payload the protobuf `Entry`.
//! Compaction writes a snapshot (`snapshot_file`), copies the entries after it into a
//! new generation (`log-<snapshot index + 1>.tmp`, synced, renamed) and deletes the
//! old one, so the log does not grow forever and a restart replays only the entries
//! after the snapshot. Installing a snapshot from the leader starts an empty
//! generation after it.
//!
//! Layout of `<dir>`: `hardstate` (see `hard_state`), `snapshot`, `log-*/`.

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use protobuf::Message as _;
use raft::prelude::{ConfState, Entry, HardState, Snapshot};
use raft::{GetEntriesContext, RaftState, StorageError};

use super::durability::Durability;
use super::error::{ReplogError, Result};
use super::hard_state::HardStateFile;
use super::snapshot_file;
use super::storage::{Storage, sync_dir};

/// Where the log is kept and how it is synced.
#[derive(Debug)]
struct Disk {
    dir: PathBuf,
    segment_bytes: u64,
    /// Raft index of the generation's record 0.
    gen_first: u64,
    log: Storage,
    hs_file: HardStateFile,
    /// Entries appended (written out) but not fdatasynced yet.
    unsynced: u64,
    last_sync: Instant,
}

/// The node's Raft log, hard state and snapshot.
#[derive(Debug)]
pub(crate) struct LogStore {
    mode: Durability,
    hs: HardState,
    cs: ConfState,
    snap: Snapshot,
    /// Entries `snap.index + 1 ..= last_index`.
    entries: Vec<Entry>,
    disk: Option<Disk>,
    /// Raft asked for a snapshot the kept one cannot serve: make one soon.
    snapshot_wanted: Cell<bool>,
}

fn gen_name(first: u64) -> String {
    format!("log-{first:020}")
}

fn encode_entry(e: &Entry) -> Result<Vec<u8>> {
    e.write_to_bytes()
        .map_err(|err| ReplogError::InvalidRecord(format!("encoding entry {}: {err}", e.index)))
}

impl LogStore {
    /// An empty store kept in memory only.
    pub(crate) fn memory() -> LogStore {
        LogStore {
            mode: Durability::InMemory,
            hs: HardState::default(),
            cs: ConfState::default(),
            snap: Snapshot::default(),
            entries: Vec::new(),
            disk: None,
            snapshot_wanted: Cell::new(false),
        }
    }

    /// Opens (creating if needed) the store in `dir`: hard state, snapshot, and the
    /// entries after the snapshot from the newest generation (a torn tail of its last
    /// segment is cut off by the segment log's recovery).
    pub(crate) fn open(dir: &Path, mode: Durability, segment_bytes: u64) -> Result<LogStore> {
        fs::create_dir_all(dir).map_err(|e| ReplogError::io(dir, e))?;
        let (hs_file, hs) = HardStateFile::open(dir)?;
        let snap = snapshot_file::load(dir)?.unwrap_or_default();
        let s = snap.get_metadata().index;
        let mut gens = Vec::new();
        for item in fs::read_dir(dir).map_err(|e| ReplogError::io(dir, e))? {
            let item = item.map_err(|e| ReplogError::io(dir, e))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(first) = name.strip_prefix("log-") {
                if first.ends_with(".tmp") {
                    // An interrupted compaction: the old generation is still complete.
                    let path = item.path();
                    fs::remove_dir_all(&path).map_err(|e| ReplogError::io(&path, e))?;
                } else if let Ok(first) = first.parse::<u64>() {
                    gens.push(first);
                }
            }
        }
        gens.sort_unstable();
        // The newest generation that starts at or before the entry after the snapshot.
        let chosen = gens.iter().rev().find(|&&g| g <= s + 1).copied();
        if chosen.is_none() && !gens.is_empty() {
            return Err(ReplogError::Corrupt {
                path: dir.join(gen_name(gens[0])),
                position: 0,
                reason: format!(
                    "the log starts at index {} but the snapshot ends at {s}: entries in \
                     between are missing; restore the directory from a replica",
                    gens[0]
                ),
            });
        }
        let mut store = LogStore {
            mode,
            hs: hs.unwrap_or_default(),
            cs: snap.get_metadata().get_conf_state().clone(),
            snap,
            entries: Vec::new(),
            disk: None,
            snapshot_wanted: Cell::new(false),
        };
        let gen_first = chosen.unwrap_or(s + 1);
        let gen_dir = dir.join(gen_name(gen_first));
        let (log, recovery) = Storage::open_dir(&gen_dir, segment_bytes)?;
        if let Some((file, at)) = &recovery.truncated_at {
            tracing::warn!(
                file = %file.display(),
                at,
                bytes = recovery.truncated_bytes,
                "cut a torn log tail"
            );
        }
        let mut entries = Vec::new();
        log.for_each(0, |r| {
            let e = Entry::parse_from_bytes(r.payload).map_err(|err| {
                ReplogError::InvalidRecord(format!("record {} is not an entry: {err}", r.offset))
            })?;
            if e.index != gen_first + r.offset || e.term != r.epoch {
                return Err(ReplogError::InvalidRecord(format!(
                    "record {} of {} holds entry {} (term {}), expected index {} term {}",
                    r.offset,
                    gen_dir.display(),
                    e.index,
                    e.term,
                    gen_first + r.offset,
                    r.epoch
                )));
            }
            if e.index > s {
                entries.push(e);
            }
            Ok(())
        })?;
        let covers_snapshot = gen_first + log.next_offset() > s;
        store.entries = entries;
        store.disk = Some(Disk {
            dir: dir.to_path_buf(),
            segment_bytes,
            gen_first,
            log,
            hs_file,
            unsynced: 0,
            last_sync: Instant::now(),
        });
        for g in gens.iter().filter(|&&g| g != gen_first) {
            let path = dir.join(gen_name(*g));
            fs::remove_dir_all(&path).map_err(|e| ReplogError::io(&path, e))?;
        }
        if !covers_snapshot {
            // The log ends before the snapshot (its tail was never synced): continue
            // in a fresh generation right after the snapshot.
            store.new_generation()?;
        }
        // The commit index is relearned from the leader if the log lost its tail.
        let last = store.last();
        store.hs.commit = store.hs.commit.max(s).min(last);
        store.hs.term = store.hs.term.max(store.snap.get_metadata().term);
        Ok(store)
    }

    /// Whether the store holds nothing yet (a new node).
    pub(crate) fn is_empty(&self) -> bool {
        self.hs == HardState::default()
            && self.snap.get_metadata().index == 0
            && self.entries.is_empty()
    }

    /// Starts a new cluster: a snapshot at index 1, term 1, with `voters` and the
    /// state machine bytes `data`. Every founding node must bootstrap the same way.
    pub(crate) fn bootstrap(&mut self, voters: Vec<u64>, data: Vec<u8>) -> Result<()> {
        let mut snap = Snapshot::default();
        snap.mut_metadata().index = 1;
        snap.mut_metadata().term = 1;
        snap.mut_metadata().mut_conf_state().voters = voters;
        snap.data = data.into();
        self.install_snapshot(snap)
    }

    fn first(&self) -> u64 {
        self.snap.get_metadata().index + 1
    }

    fn last(&self) -> u64 {
        self.snap.get_metadata().index + self.entries.len() as u64
    }

    /// The latest snapshot (metadata and state machine bytes).
    pub(crate) fn snapshot_ref(&self) -> &Snapshot {
        &self.snap
    }

    /// The hard state as last persisted.
    #[cfg(test)]
    pub(crate) fn hard_state(&self) -> &HardState {
        &self.hs
    }

    /// The current configuration (voters, learners).
    pub(crate) fn conf_state(&self) -> &ConfState {
        &self.cs
    }

    /// Whether Raft asked for a snapshot newer than the one kept.
    pub(crate) fn snapshot_wanted(&self) -> bool {
        self.snapshot_wanted.get()
    }

    /// Records a new configuration (after a membership change was applied).
    pub(crate) fn set_conf_state(&mut self, cs: ConfState) {
        self.cs = cs;
    }

    /// Appends entries from a Raft ready, replacing any conflicting suffix.
    pub(crate) fn append(&mut self, ents: &[Entry]) -> Result<()> {
        let Some(head) = ents.first() else {
            return Ok(());
        };
        let first = self.first();
        if head.index < first || head.index > self.last() + 1 {
            return Err(ReplogError::InvalidRecord(format!(
                "raft appended entries from index {} to a log holding {first}..={}: this \
                 is a bug, please report it",
                head.index,
                self.last()
            )));
        }
        let keep = (head.index - first) as usize;
        if keep < self.entries.len() {
            self.entries.truncate(keep);
            if let Some(disk) = &mut self.disk {
                disk.log.truncate(head.index - disk.gen_first)?;
            }
        }
        if let Some(disk) = &mut self.disk {
            for e in ents {
                disk.log.append(e.term, &encode_entry(e)?)?;
            }
            disk.log.write_out()?;
            disk.unsynced += ents.len() as u64;
        }
        self.entries.extend_from_slice(ents);
        Ok(())
    }

    /// Records a new hard state; term and vote changes are written and synced at
    /// once.
    pub(crate) fn set_hard_state(&mut self, hs: HardState) -> Result<()> {
        let decisive = hs.term != self.hs.term || hs.vote != self.hs.vote;
        self.hs = hs;
        if let Some(disk) = &mut self.disk {
            // A commit-only change is written with the next term or vote change (or
            // snapshot): Raft relearns the commit index from the leader, and a
            // restart re-applies from the snapshot anyway. This saves a write per
            // round on every node.
            if decisive {
                disk.hs_file.write(&self.hs, true)?;
            }
        }
        Ok(())
    }

    /// Records the commit index (from a light ready); not written on its own.
    pub(crate) fn set_commit(&mut self, commit: u64) -> Result<()> {
        let mut hs = self.hs.clone();
        hs.commit = commit;
        self.set_hard_state(hs)
    }

    /// Makes appended entries durable as the mode requires: Strict always (before
    /// the node acknowledges them), Buffered when its interval or batch is reached
    /// (`force` syncs whatever is waiting). Returns whether it synced.
    pub(crate) fn sync(&mut self, force: bool) -> Result<bool> {
        let mode = self.mode;
        let Some(disk) = &mut self.disk else {
            return Ok(false);
        };
        if disk.unsynced == 0 {
            return Ok(false);
        }
        let due = match mode {
            Durability::Strict => true,
            Durability::Buffered { interval_ms, batch } => {
                force
                    || disk.unsynced >= batch
                    || disk.last_sync.elapsed().as_millis() as u64 >= interval_ms
            }
            Durability::InMemory => false,
        };
        if due {
            disk.log.sync_now()?;
            disk.unsynced = 0;
            disk.last_sync = Instant::now();
        }
        Ok(due)
    }

    /// Installs a snapshot (from the leader, or at bootstrap): saves it, drops every
    /// entry and starts an empty generation after it.
    pub(crate) fn install_snapshot(&mut self, snap: Snapshot) -> Result<()> {
        let meta = snap.get_metadata();
        if meta.index < self.snap.get_metadata().index {
            return Err(ReplogError::Raft(format!(
                "snapshot at index {} is older than the one kept ({})",
                meta.index,
                self.snap.get_metadata().index
            )));
        }
        if let Some(disk) = &self.disk {
            snapshot_file::save(&disk.dir, &snap)?;
        }
        let mut hs = self.hs.clone();
        hs.term = hs.term.max(meta.term);
        hs.commit = hs.commit.max(meta.index);
        self.cs = meta.get_conf_state().clone();
        self.snap = snap;
        self.entries.clear();
        self.new_generation()?;
        self.set_hard_state(hs)?;
        if let Some(disk) = &mut self.disk {
            disk.hs_file.write(&self.hs, true)?;
        }
        Ok(())
    }

    /// Takes a snapshot at `index` (applied, so at most the last index) with the
    /// state machine bytes `data`, then compacts the log up to it.
    pub(crate) fn compact(&mut self, index: u64, data: Vec<u8>) -> Result<()> {
        let first = self.first();
        if index < first || index > self.last() {
            return Ok(());
        }
        let term = self.entries[(index - first) as usize].term;
        let mut snap = Snapshot::default();
        snap.mut_metadata().index = index;
        snap.mut_metadata().term = term;
        snap.mut_metadata().set_conf_state(self.cs.clone());
        snap.data = data.into();
        if let Some(disk) = &mut self.disk {
            // Entries up to `index` must be durable before the snapshot replaces them.
            disk.log.sync_now()?;
            disk.unsynced = 0;
            snapshot_file::save(&disk.dir, &snap)?;
        }
        self.entries.drain(..=(index - first) as usize);
        self.snap = snap;
        self.new_generation()?;
        self.snapshot_wanted.set(false);
        Ok(())
    }

    /// Moves the entries after the snapshot into a new generation directory and
    /// deletes the old one.
    fn new_generation(&mut self) -> Result<()> {
        let first = self.first();
        let Some(disk) = &mut self.disk else {
            return Ok(());
        };
        if disk.gen_first == first {
            return Ok(());
        }
        let name = gen_name(first);
        let tmp = disk.dir.join(format!("{name}.tmp"));
        let path = disk.dir.join(&name);
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| ReplogError::io(&tmp, e))?;
        }
        {
            let (mut log, _) = Storage::open_dir(&tmp, disk.segment_bytes)?;
            for e in &self.entries {
                log.append(e.term, &encode_entry(e)?)?;
            }
            log.sync_now()?;
        }
        fs::rename(&tmp, &path).map_err(|e| ReplogError::io(&path, e))?;
        sync_dir(&disk.dir)?;
        let old = disk.dir.join(gen_name(disk.gen_first));
        let (log, _) = Storage::open_dir(&path, disk.segment_bytes)?;
        disk.log = log;
        disk.gen_first = first;
        disk.unsynced = 0;
        fs::remove_dir_all(&old).map_err(|e| ReplogError::io(&old, e))?;
        sync_dir(&disk.dir)
    }
}

impl raft::Storage for LogStore {
    fn initial_state(&self) -> raft::Result<RaftState> {
        Ok(RaftState::new(self.hs.clone(), self.cs.clone()))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        let first = self.first();
        if low < first {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > self.last() + 1 || low > high {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        let mut ents = self.entries[(low - first) as usize..(high - first) as usize].to_vec();
        raft::util::limit_size(&mut ents, max_size.into());
        Ok(ents)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        let meta = self.snap.get_metadata();
        if idx == meta.index {
            return Ok(meta.term);
        }
        if idx < self.first() {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if idx > self.last() {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        Ok(self.entries[(idx - self.first()) as usize].term)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.first())
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.last())
    }

    fn snapshot(&self, request_index: u64, to: u64) -> raft::Result<Snapshot> {
        let meta = self.snap.get_metadata();
        let cs = meta.get_conf_state();
        // A node added after the kept snapshot is not in its configuration and would
        // refuse it: make a newer one (the driver does, at its next round).
        let knows_to = to == 0 || cs.voters.contains(&to) || cs.learners.contains(&to);
        if meta.index < request_index || !knows_to {
            self.snapshot_wanted.set(true);
            return Err(raft::Error::Store(
                StorageError::SnapshotTemporarilyUnavailable,
            ));
        }
        Ok(self.snap.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::Storage as _;

    fn entry(index: u64, term: u64) -> Entry {
        Entry {
            index,
            term,
            data: format!("e{index}").into_bytes().into(),
            ..Entry::default()
        }
    }

    fn terms(s: &LogStore) -> Vec<(u64, u64)> {
        s.entries.iter().map(|e| (e.index, e.term)).collect()
    }

    #[test]
    fn append_truncate_compact_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStore::open(dir.path(), Durability::Strict, 1 << 20).unwrap();
        assert!(s.is_empty());
        s.bootstrap(vec![1, 2, 3], b"init".to_vec()).unwrap();
        assert_eq!((s.first(), s.last()), (2, 1));
        s.append(&[entry(2, 1), entry(3, 1), entry(4, 2)]).unwrap();
        // A conflicting suffix from a newer leader replaces 4.
        s.append(&[entry(4, 3), entry(5, 3)]).unwrap();
        assert!(s.sync(false).unwrap());
        let hs = HardState {
            term: 3,
            vote: 2,
            commit: 5,
            ..HardState::default()
        };
        s.set_hard_state(hs.clone()).unwrap();
        drop(s);
        let mut s = LogStore::open(dir.path(), Durability::Strict, 1 << 20).unwrap();
        assert_eq!(terms(&s), [(2, 1), (3, 1), (4, 3), (5, 3)]);
        assert_eq!(s.hard_state(), &hs);
        assert_eq!(s.term(1).unwrap(), 1);
        assert!(
            s.entries(1, 3, None, GetEntriesContext::empty(false))
                .is_err()
        );
        assert_eq!(
            s.entries(2, 4, None, GetEntriesContext::empty(false))
                .unwrap()
                .len(),
            2
        );
        assert!(
            s.entries(2, 9, None, GetEntriesContext::empty(false))
                .is_err()
        );
        // Compact at 4: entry 5 moves into generation 5; the snapshot holds 4.
        s.compact(4, b"state@4".to_vec()).unwrap();
        assert_eq!((s.first(), s.last()), (5, 5));
        assert_eq!(s.term(4).unwrap(), 3);
        assert!(matches!(
            s.term(3),
            Err(raft::Error::Store(StorageError::Compacted))
        ));
        s.append(&[entry(6, 3)]).unwrap();
        s.sync(false).unwrap();
        drop(s);
        let names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("log-"))
            .collect();
        assert_eq!(names, [gen_name(5)]);
        let s = LogStore::open(dir.path(), Durability::Strict, 1 << 20).unwrap();
        assert_eq!(terms(&s), [(5, 3), (6, 3)]);
        assert_eq!(&s.snapshot_ref().data[..], b"state@4");
        assert_eq!(s.initial_state().unwrap().conf_state.voters, [1, 2, 3]);
    }

    #[test]
    fn installing_a_snapshot_drops_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = LogStore::open(dir.path(), Durability::BUFFERED, 1 << 20).unwrap();
        s.append(&[entry(1, 1), entry(2, 1)]).unwrap();
        let mut snap = Snapshot::default();
        snap.mut_metadata().index = 10;
        snap.mut_metadata().term = 4;
        snap.data = b"x".to_vec().into();
        s.install_snapshot(snap).unwrap();
        assert_eq!((s.first(), s.last(), s.hard_state().commit), (11, 10, 10));
        s.append(&[entry(11, 4)]).unwrap();
        s.sync(true).unwrap();
        drop(s);
        let s = LogStore::open(dir.path(), Durability::BUFFERED, 1 << 20).unwrap();
        assert_eq!(terms(&s), [(11, 4)]);
        assert_eq!(s.hard_state().term, 4);
    }
}
