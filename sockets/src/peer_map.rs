//! [`PeerMap`]: a hash map keyed by [`PeerId`](crate::pipe::PeerId) with a
//! multiplicative hash. Peer ids are small sequential integers chosen by the socket
//! itself (never by the network), so a DoS-resistant hash buys nothing here and its
//! cost showed up on every inbound message.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes one `u64` by Fibonacci multiplication.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PeerIdHasher(u64);

impl Hasher for PeerIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map from peer ids.
pub(crate) type PeerMap<V> = HashMap<u64, V, BuildHasherDefault<PeerIdHasher>>;
