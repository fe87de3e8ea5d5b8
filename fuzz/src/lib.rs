//! Helpers shared by the zeroring-zmtp fuzz targets and the seed generator.
//!
//! - [`chunks`]: splits a target's input into reads of input-chosen sizes.
//! - [`alloc`]: a counting global allocator, to bound what an input may allocate.
//! - [`secure`]: the PLAIN and CURVE server targets' configuration and driver.

pub mod alloc;
pub mod secure;

/// Splits `data` into chunks whose sizes come from a small xorshift generator seeded
/// with `seed`. Seed 0 delivers everything at once and seed 1 one byte at a time, so
/// both extremes are always reachable; other seeds give mixed chunk sizes (1..=64,
/// or up to 1024 when the seed's top bit is set).
pub fn chunks(data: &[u8], seed: u8) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if data.is_empty() {
        return out;
    }
    match seed {
        0 => out.push(data),
        1 => out.extend(data.chunks(1)),
        _ => {
            let cap: u32 = if seed & 0x80 != 0 { 1024 } else { 64 };
            let mut state = u32::from(seed).wrapping_mul(0x9E37_79B9) | 1;
            let mut rest = data;
            while !rest.is_empty() {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let n = (state % cap + 1) as usize;
                let (head, tail) = rest.split_at(n.min(rest.len()));
                out.push(head);
                rest = tail;
            }
        }
    }
    out
}
