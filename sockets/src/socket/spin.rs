//! When a receive spins before it parks: the back-off of the adaptive spin
//! ([`SocketOptions::adaptive_spin`](crate::SocketOptions::adaptive_spin)). A spin
//! that finds a message keeps the next receives spinning; one that runs out makes
//! the following 1, 3, 7, ... up to 63 receives park at once.

use std::cell::Cell;

/// At most this many spins in a row that found nothing count: after them one
/// receive in 2^6 = 64 spins.
const MAX_MISSES: u32 = 6;

/// The adaptive spin's record of recent spins.
#[derive(Debug, Default)]
pub(crate) struct SpinBackoff {
    /// Spins in a row that found nothing (at most [`MAX_MISSES`]).
    misses: Cell<u32>,
    /// Receives left that park without spinning.
    skip: Cell<u32>,
}

impl SpinBackoff {
    /// Whether this receive spins (counts down the receives that do not).
    pub(crate) fn should_spin(&self) -> bool {
        match self.skip.get() {
            0 => true,
            n => {
                self.skip.set(n - 1);
                false
            }
        }
    }

    /// The spin found a message.
    pub(crate) fn hit(&self) {
        self.misses.set(0);
    }

    /// The spin ran out: the next 2^misses - 1 receives park at once.
    pub(crate) fn miss(&self) {
        let misses = (self.misses.get() + 1).min(MAX_MISSES);
        self.misses.set(misses);
        self.skip.set((1 << misses) - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::SpinBackoff;

    fn spins_in(b: &SpinBackoff, receives: usize) -> usize {
        (0..receives).filter(|_| b.should_spin()).count()
    }

    #[test]
    fn misses_back_off_up_to_one_spin_in_64_and_a_hit_resets() {
        let b = SpinBackoff::default();
        assert!(b.should_spin());
        b.miss();
        // 1 receive parks at once, then the next spins.
        assert!(!b.should_spin());
        assert!(b.should_spin());
        for _ in 0..10 {
            b.miss();
        }
        assert_eq!(b.skip.get(), 63);
        assert_eq!(spins_in(&b, 63), 0);
        assert!(b.should_spin());
        b.hit();
        assert!(b.should_spin());
        assert!(b.should_spin());
        b.miss();
        assert_eq!(b.skip.get(), 1, "a hit starts the back-off over");
    }
}
