//! Durability modes and the write-ahead log that enforces them: appends go to the
//! storage at once, and a syncer task group-commits them with `fdatasync` (submitted
//! through io_uring, so the runtime keeps serving sockets meanwhile).
//!
//! - [`Durability::InMemory`]: no files; a record is "durable" when appended.
//! - [`Durability::Buffered`]: the syncer writes out and syncs every `interval_ms`, or
//!   as soon as `batch` records are waiting, whichever comes first; a crash loses at
//!   most what was appended since the last sync.
//! - [`Durability::Strict`]: a write is acknowledged only after an fdatasync covering
//!   it. While one sync runs, later appends from any number of writers accumulate and
//!   the next sync covers them all (group commit).
//!
//! [`Wal::wait_durable`] forces a sync for one write in any mode (`put_durable`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::path::Path;
use std::rc::Rc;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::error::{ReplogError, Result};
use super::event::Event;
use super::storage::{Recovery, Storage};

/// When appended records reach the disk, and so what a crash can lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Records live only in memory: nothing survives a restart.
    InMemory,
    /// Group commit on a timer or a record count, whichever comes first. A crash
    /// loses at most the records appended since the last sync.
    Buffered {
        /// Longest time between syncs while records are waiting.
        interval_ms: u64,
        /// Sync as soon as this many records are waiting.
        batch: u64,
    },
    /// Every acknowledged write is on disk (fdatasync before the acknowledgement,
    /// shared by concurrent writers).
    Strict,
}

impl Durability {
    /// `Buffered { interval_ms: 100, batch: 1000 }`, the default buffered setting.
    pub const BUFFERED: Durability = Durability::Buffered {
        interval_ms: 100,
        batch: 1000,
    };

    /// Whether this mode keeps files.
    pub fn has_files(self) -> bool {
        self != Durability::InMemory
    }
}

impl FromStr for Durability {
    type Err = String;

    /// Parses `inmemory`, `buffered` (100 ms / 1000 records) or `strict`.
    fn from_str(s: &str) -> std::result::Result<Durability, String> {
        match s.to_ascii_lowercase().as_str() {
            "inmemory" | "in-memory" | "memory" => Ok(Durability::InMemory),
            "buffered" => Ok(Durability::BUFFERED),
            "strict" => Ok(Durability::Strict),
            other => Err(format!(
                "unknown durability mode {other:?}: use inmemory, buffered or strict"
            )),
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Durability::InMemory => f.write_str("inmemory"),
            Durability::Buffered { interval_ms, batch } => {
                write!(f, "buffered({interval_ms} ms / {batch} records)")
            }
            Durability::Strict => f.write_str("strict"),
        }
    }
}

/// The node's log: storage plus the group-commit state.
pub(crate) struct Wal {
    storage: RefCell<Storage>,
    mode: Durability,
    /// Every offset below this is on disk (or, in memory, appended).
    durable: Cell<u64>,
    /// Someone waits for every offset below this to be durable now.
    urgent: Cell<u64>,
    closed: Cell<bool>,
    /// Bumped by every truncation, so a sync that straddles one publishes nothing.
    truncations: Cell<u64>,
    failed: RefCell<Option<String>>,
    /// Notified on every append (the syncer and replication senders wait on it).
    pub(crate) appended: Event,
    /// Notified when `durable` moves or the log fails.
    pub(crate) synced: Event,
    /// The active segment, opened for io_uring fdatasync, keyed by segment base.
    sync_file: RefCell<Option<(u64, Rc<compio::fs::File>)>>,
}

impl Wal {
    /// Opens the log: in memory for [`Durability::InMemory`], else the segment files in
    /// `dir` (recovering a torn tail). Call [`Wal::start`] to run the syncer.
    pub(crate) fn open(
        dir: Option<&Path>,
        mode: Durability,
        segment_bytes: u64,
    ) -> Result<(Rc<Wal>, Option<Recovery>)> {
        let (storage, recovery) = match (mode, dir) {
            (Durability::InMemory, _) => (Storage::memory(), None),
            (_, Some(dir)) => {
                let (storage, recovery) = Storage::open_dir(dir, segment_bytes)?;
                (storage, Some(recovery))
            }
            (_, None) => {
                return Err(ReplogError::Protocol(format!(
                    "durability mode {mode} needs a log directory"
                )));
            }
        };
        let durable = storage.next_offset();
        let wal = Rc::new(Wal {
            storage: RefCell::new(storage),
            mode,
            durable: Cell::new(durable),
            urgent: Cell::new(0),
            closed: Cell::new(false),
            truncations: Cell::new(0),
            failed: RefCell::new(None),
            appended: Event::default(),
            synced: Event::default(),
            sync_file: RefCell::new(None),
        });
        Ok((wal, recovery))
    }

    /// Spawns the syncer for the file-backed modes.
    pub(crate) fn start(self: &Rc<Self>) {
        if self.mode.has_files() {
            compio::runtime::spawn(run_syncer(self.clone())).detach();
        }
    }

    /// The storage, for reads, replays and truncation.
    pub(crate) fn storage(&self) -> std::cell::Ref<'_, Storage> {
        self.storage.borrow()
    }

    pub(crate) fn next_offset(&self) -> u64 {
        self.storage.borrow().next_offset()
    }

    pub(crate) fn last_epoch(&self) -> u64 {
        self.storage.borrow().last_epoch()
    }

    /// Every offset below this survives a crash (in memory: every appended offset).
    pub(crate) fn durable_offset(&self) -> u64 {
        match self.mode {
            Durability::InMemory => self.next_offset(),
            _ => self.durable.get(),
        }
    }

    /// What this replica acknowledges to its leader: every offset below this is
    /// accepted under its own mode (synced under Strict; appended otherwise, with
    /// Buffered's bounded loss window, as for the node's own writes).
    pub(crate) fn accepted_offset(&self) -> u64 {
        match self.mode {
            Durability::Strict => self.durable.get(),
            _ => self.next_offset(),
        }
    }

    /// Appends one record written by this node as leader.
    pub(crate) fn append(&self, epoch: u64, payload: &[u8]) -> Result<u64> {
        self.check_failed()?;
        let offset = self.storage.borrow_mut().append(epoch, payload)?;
        self.appended.notify();
        Ok(offset)
    }

    /// Appends records received from the leader (validated by the storage).
    pub(crate) fn append_encoded(&self, batch: &[u8]) -> Result<u64> {
        self.check_failed()?;
        let next = self.storage.borrow_mut().append_encoded(batch)?;
        self.appended.notify();
        Ok(next)
    }

    /// Drops every record at or after `next` (a follower's divergent suffix).
    pub(crate) fn truncate(&self, next: u64) -> Result<()> {
        self.storage.borrow_mut().truncate(next)?;
        // Segments may have been deleted; a later one could reuse a cached base.
        self.sync_file.borrow_mut().take();
        self.truncations.set(self.truncations.get() + 1);
        self.durable.set(self.durable.get().min(next));
        self.urgent.set(self.urgent.get().min(next));
        self.synced.notify();
        Ok(())
    }

    /// Returns once the record at `offset` is durable, forcing a sync now if needed.
    pub(crate) async fn wait_durable(&self, offset: u64) -> Result<()> {
        if self.durable_offset() > offset {
            return Ok(());
        }
        self.urgent.set(self.urgent.get().max(offset + 1));
        self.appended.notify();
        self.synced
            .wait_until(|| {
                self.durable.get() > offset || self.failed.borrow().is_some() || self.closed.get()
            })
            .await;
        self.check_failed()?;
        if self.durable.get() > offset {
            Ok(())
        } else {
            Err(ReplogError::Protocol(
                "log closed before the write was durable".into(),
            ))
        }
    }

    /// Whether a write acknowledged under this mode must wait for a sync.
    pub(crate) fn acks_after_sync(&self) -> bool {
        self.mode == Durability::Strict
    }

    /// Stops the syncer and writes and syncs whatever is buffered (blocking).
    pub(crate) fn close(&self) -> Result<()> {
        self.closed.set(true);
        self.appended.notify();
        if self.mode.has_files() && self.failed.borrow().is_none() {
            let next = self.next_offset();
            self.storage.borrow_mut().sync_now()?;
            self.durable.set(next);
        }
        self.synced.notify();
        Ok(())
    }

    fn check_failed(&self) -> Result<()> {
        match &*self.failed.borrow() {
            Some(why) => Err(ReplogError::Protocol(format!(
                "the log stopped after a failed sync ({why}); restart the node"
            ))),
            None => Ok(()),
        }
    }

    /// One group commit: write out, fdatasync the active segment, publish.
    async fn sync_once(&self) -> Result<()> {
        let truncations = self.truncations.get();
        let (target, file) = {
            let mut storage = self.storage.borrow_mut();
            let target = storage.next_offset();
            storage.write_out()?;
            let Some((base, active)) = storage.active_file() else {
                return Ok(());
            };
            let mut cached = self.sync_file.borrow_mut();
            let file = match &*cached {
                Some((b, f)) if *b == base => f.clone(),
                _ => {
                    let dup = active
                        .try_clone()
                        .map_err(|e| ReplogError::io("active segment", e))?;
                    // SAFETY: `into_raw_fd` hands over sole ownership of a freshly
                    // duplicated descriptor, which the compio File now owns and closes.
                    let file = Rc::new(unsafe { compio::fs::File::from_raw_fd(dup.into_raw_fd()) });
                    *cached = Some((base, file.clone()));
                    file
                }
            };
            (target, file)
        };
        file.sync_data()
            .await
            .map_err(|e| ReplogError::io("active segment (fdatasync)", e))?;
        if target > self.durable.get() && truncations == self.truncations.get() {
            self.durable.set(target);
        }
        self.synced.notify();
        Ok(())
    }
}

/// The group-commit loop for the file-backed modes.
async fn run_syncer(wal: Rc<Wal>) {
    let mut last_sync = Instant::now();
    loop {
        let pending = || wal.next_offset() > wal.durable.get();
        match wal.mode {
            Durability::Strict => {
                wal.appended
                    .wait_until(|| pending() || wal.closed.get())
                    .await;
            }
            Durability::Buffered { interval_ms, batch } => {
                let interval = Duration::from_millis(interval_ms.max(1));
                let due = || {
                    wal.next_offset().saturating_sub(wal.durable.get()) >= batch.max(1)
                        || wal.urgent.get() > wal.durable.get()
                        || wal.closed.get()
                };
                let left = interval.saturating_sub(last_sync.elapsed());
                if !wal.appended.wait_until_for(left, due).await && !pending() {
                    // Nothing to sync this interval.
                    last_sync = Instant::now();
                    continue;
                }
            }
            Durability::InMemory => return,
        }
        if wal.closed.get() {
            return;
        }
        if !pending() {
            continue;
        }
        last_sync = Instant::now();
        if let Err(e) = wal.sync_once().await {
            tracing::error!(error = %e, "log sync failed; refusing further writes");
            *wal.failed.borrow_mut() = Some(e.to_string());
            wal.synced.notify();
            return;
        }
    }
}
