//! What one run of one case measures ([`Figure`]) and the helpers every implementation
//! computes it with: round-trip percentiles, rates, timing a group of client threads,
//! and decoding a subscriber's count report.

use std::time::{Duration, Instant};

/// The result of one run: a median round trip in µs (REQ/REP, with its 99th
/// percentile) or a rate per second (everything else).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Figure {
    /// Median round trip in µs, or messages (round trips) per second.
    pub value: f64,
    /// The 99th percentile round trip in µs; REQ/REP cases only.
    pub p99: Option<f64>,
}

/// An implementation's result: `Ok(None)` when it has no such pattern.
pub(crate) type RunResult = Result<Option<Figure>, String>;

/// The median and 99th percentile of round-trip samples, in µs.
pub(crate) fn latency_us(mut samples: Vec<Duration>) -> Figure {
    if samples.is_empty() {
        return Figure {
            value: 0.0,
            p99: Some(0.0),
        };
    }
    samples.sort_unstable();
    let at = |q: f64| {
        let i = ((samples.len() - 1) as f64 * q).round() as usize;
        samples[i].as_secs_f64() * 1e6
    };
    Figure {
        value: at(0.5),
        p99: Some(at(0.99)),
    }
}

/// Messages (or round trips) per second.
pub(crate) fn rate(count: usize, elapsed: Duration) -> Figure {
    Figure {
        value: count as f64 / elapsed.as_secs_f64().max(1e-9),
        p99: None,
    }
}

/// Releases the client threads (each waits on `barrier` after its warm-up), waits for
/// all of them and returns how long they took together.
pub(crate) fn time_clients(
    barrier: &std::sync::Barrier,
    clients: Vec<std::thread::JoinHandle<Result<(), String>>>,
) -> Result<Duration, String> {
    barrier.wait();
    let start = Instant::now();
    for c in clients {
        c.join().map_err(|_| "client thread panicked")??;
    }
    Ok(start.elapsed())
}

/// Decodes a subscriber's count report (little-endian u64).
pub(crate) fn decode_count(frame: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    let n = frame.len().min(8);
    raw[..n].copy_from_slice(&frame[..n]);
    u64::from_le_bytes(raw)
}
