//! The leader-epoch history of a log: for each epoch present, the offset of its first
//! record. Owns the bookkeeping behind `Storage::epochs`, `last_epoch` and `epoch_end`.

/// `(epoch, first offset)` pairs, both strictly ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Epochs {
    list: Vec<(u64, u64)>,
}

impl Epochs {
    /// Records that the record at `offset` was written in `epoch`. Callers append in
    /// offset order with non-decreasing epochs; only epoch changes are stored.
    pub(crate) fn note(&mut self, epoch: u64, offset: u64) {
        match self.list.last() {
            Some(&(last, _)) if last >= epoch => {}
            _ => self.list.push((epoch, offset)),
        }
    }

    /// Epoch of the last record, 0 for an empty log.
    pub(crate) fn last(&self) -> u64 {
        self.list.last().map_or(0, |&(e, _)| e)
    }

    /// Forgets every epoch whose first record is at or after `next`.
    pub(crate) fn truncate(&mut self, next: u64) {
        let keep = self.list.partition_point(|&(_, first)| first < next);
        self.list.truncate(keep);
    }

    /// First offset of the smallest epoch greater than `epoch`, or `next_offset` if no
    /// later epoch is present.
    pub(crate) fn end_of(&self, epoch: u64, next_offset: u64) -> u64 {
        let i = self.list.partition_point(|&(e, _)| e <= epoch);
        self.list.get(i).map_or(next_offset, |&(_, first)| first)
    }

    /// The pairs, ascending.
    pub(crate) fn as_slice(&self) -> &[(u64, u64)] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_truncate_end_of() {
        let mut e = Epochs::default();
        assert_eq!(e.last(), 0);
        assert_eq!(e.end_of(0, 0), 0);
        for (epoch, off) in [(1, 0), (1, 1), (3, 2), (3, 3), (7, 4)] {
            e.note(epoch, off);
        }
        assert_eq!(e.as_slice(), &[(1, 0), (3, 2), (7, 4)]);
        assert_eq!(e.last(), 7);
        assert_eq!(e.end_of(0, 5), 0);
        assert_eq!(e.end_of(1, 5), 2);
        assert_eq!(e.end_of(2, 5), 2);
        assert_eq!(e.end_of(3, 5), 4);
        assert_eq!(e.end_of(7, 5), 5);
        assert_eq!(e.end_of(9, 5), 5);
        e.truncate(4);
        assert_eq!(e.as_slice(), &[(1, 0), (3, 2)]);
        e.truncate(3);
        assert_eq!(e.as_slice(), &[(1, 0), (3, 2)]);
        e.truncate(0);
        assert_eq!(e.as_slice(), &[]);
        assert_eq!(e.last(), 0);
    }
}
