//! What the soak client and server exchange, and how the server checks it: the
//! burst message format (cycle, sequence, checksum, random bytes), the per-cycle
//! routing id, u64 frames, and the PULL side's order/count/checksum verifier.

use std::time::Duration;

use bytes::Bytes;

use zeroring::Message;

/// Messages in one cycle's PUSH burst.
pub(super) const BURST: u32 = 1000;
/// Body sizes, header included.
pub(super) const MIN_BODY: usize = 16;
pub(super) const MAX_BODY: usize = 4096;
/// How long any single step may take before the run is declared stuck.
pub(super) const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// xorshift64*: sizes and bodies need to vary, not to be unpredictable.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// FNV-1a, 32 bits.
fn checksum(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// One burst message: cycle (u64), sequence (u32), checksum of the rest (u32), then
/// random bytes.
pub(super) fn burst_message(rng: &mut Rng, cycle: u64, seq: u32) -> Bytes {
    let len = MIN_BODY + (rng.next() % (MAX_BODY - MIN_BODY + 1) as u64) as usize;
    let mut body = vec![0u8; len];
    for chunk in body[MIN_BODY..].chunks_mut(8) {
        let r = rng.next().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let sum = checksum(&body[MIN_BODY..]);
    body[..8].copy_from_slice(&cycle.to_le_bytes());
    body[8..12].copy_from_slice(&seq.to_le_bytes());
    body[12..16].copy_from_slice(&sum.to_le_bytes());
    Bytes::from(body)
}

/// What the PULL side has verified so far.
#[derive(Debug, Default)]
pub(super) struct Received {
    pub(super) cycle: u64,
    pub(super) next_seq: u32,
    pub(super) error: Option<String>,
}

impl Received {
    /// Checks one burst message against what came before it on this connection.
    pub(super) fn check(&mut self, msg: &Message) -> Result<(), String> {
        if msg.len() != 1 {
            return Err(format!("burst message with {} frames", msg.len()));
        }
        let body = &msg[0];
        if body.len() < MIN_BODY || body.len() > MAX_BODY {
            return Err(format!("burst message of {} bytes", body.len()));
        }
        let cycle = u64::from_le_bytes(body[..8].try_into().expect("8 bytes"));
        let seq = u32::from_le_bytes(body[8..12].try_into().expect("4 bytes"));
        let sum = u32::from_le_bytes(body[12..16].try_into().expect("4 bytes"));
        if checksum(&body[MIN_BODY..]) != sum {
            return Err(format!(
                "torn message: cycle {cycle} seq {seq}, checksum mismatch"
            ));
        }
        if cycle == self.cycle && seq == self.next_seq {
            self.next_seq += 1;
        } else if cycle > self.cycle && seq == 0 {
            if self.cycle != 0 && self.next_seq != BURST {
                return Err(format!(
                    "cycle {} ended after {} of {BURST} messages",
                    self.cycle, self.next_seq
                ));
            }
            self.cycle = cycle;
            self.next_seq = 1;
        } else {
            return Err(format!(
                "out of order: got cycle {cycle} seq {seq}, expected cycle {} seq {} \
                 (or the next cycle's seq 0)",
                self.cycle, self.next_seq
            ));
        }
        Ok(())
    }
}

/// A little-endian u64 as one frame.
pub(super) fn u64_frame(v: u64) -> Bytes {
    Bytes::copy_from_slice(&v.to_le_bytes())
}

/// The u64 in a frame written by [`u64_frame`], if it is 8 bytes long.
pub(super) fn frame_u64(f: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(f.try_into().ok()?))
}

/// The DEALER's routing id in `cycle` (cycle 0: the final quit request).
pub(super) fn routing_id(cycle: u64) -> Bytes {
    Bytes::from(format!("soak-{cycle}"))
}
