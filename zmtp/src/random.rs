//! Where the security mechanisms get their randomness: the operating system by
//! default, or a source the caller injects (deterministic tests, a fuzzer).
//!
//! CURVE needs fresh random bytes for its short-term key pairs, the cookie key
//! and the long nonces of WELCOME, the cookie and the vouch. The session asks
//! for them only while it runs the handshake, so a failure ends that handshake
//! with [`ZmtpError::RandomUnavailable`] instead of a panic.

use std::fmt;
use std::sync::Arc;

use crate::error::ZmtpError;

type Fill = dyn Fn(&mut [u8]) -> Result<(), ZmtpError> + Send + Sync;

/// A source of random bytes, cheap to clone (clones share the source).
///
/// ```
/// use zeroring_zmtp::Random;
/// let mut key = [0u8; 32];
/// Random::os().fill(&mut key).unwrap();
/// ```
#[derive(Clone)]
pub struct Random {
    fill: Option<Arc<Fill>>,
}

impl Random {
    /// The operating system's generator (`getrandom`). The default.
    pub fn os() -> Random {
        Random { fill: None }
    }

    /// A source that calls `fill` for every request. It must produce
    /// unpredictable bytes in production: the security of CURVE rests on it.
    /// Tests inject a seeded generator here to get reproducible transcripts.
    pub fn from_fn<F>(fill: F) -> Random
    where
        F: Fn(&mut [u8]) -> Result<(), ZmtpError> + Send + Sync + 'static,
    {
        Random {
            fill: Some(Arc::new(fill)),
        }
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&self, buf: &mut [u8]) -> Result<(), ZmtpError> {
        match &self.fill {
            Some(f) => f(buf),
            None => getrandom::fill(buf).map_err(|e| ZmtpError::RandomUnavailable(e.to_string())),
        }
    }

    /// `N` random bytes.
    pub(crate) fn array<const N: usize>(&self) -> Result<[u8; N], ZmtpError> {
        let mut out = [0u8; N];
        self.fill(&mut out)?;
        Ok(out)
    }
}

impl Default for Random {
    fn default() -> Random {
        Random::os()
    }
}

impl fmt::Debug for Random {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.fill {
            None => "Random::os()",
            Some(_) => "Random::from_fn(..)",
        })
    }
}
