//! The 64-byte ZMTP greeting: encoding ours and decoding the peer's.
//!
//! Layout: `0xFF`, 8 padding bytes (never validated), `0x7F`, major, minor,
//! 20 bytes of NUL-padded mechanism name, the as-server byte, 31 filler bytes.
//! The peer's version is known once its first 11 bytes have arrived.

use std::fmt;

use crate::error::ZmtpError;

/// Length of a full ZMTP 3.x greeting.
pub const GREETING_LEN: usize = 64;
/// Bytes needed to decide the peer's major version.
pub const VERSION_DECIDED_AT: usize = 11;

/// A ZMTP protocol version (major, minor).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major version; zeroring talks to 3.
    pub major: u8,
    /// Minor version: 0 for ZMTP 3.0 (RFC 23), 1 for ZMTP 3.1 (RFC 37).
    pub minor: u8,
}

impl Version {
    /// ZMTP 3.0.
    pub const V3_0: Version = Version { major: 3, minor: 0 };
    /// ZMTP 3.1, the version zeroring speaks.
    pub const V3_1: Version = Version { major: 3, minor: 1 };

    /// True when the peer uses SUBSCRIBE/CANCEL commands (3.1 and later) rather than
    /// the 0x01/0x00 data-frame form of ZMTP 3.0.
    pub fn uses_subscribe_commands(self) -> bool {
        self >= Version::V3_1
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

pub use crate::mechanism_name::Mechanism;

/// The mechanism a greeting's 20-byte field names (NUL-padded).
fn mechanism_from_field(field: &[u8]) -> Result<Mechanism, ZmtpError> {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let (name, rest) = field.split_at(end);
    let known = match name {
        b"NULL" => Some(Mechanism::Null),
        b"PLAIN" => Some(Mechanism::Plain),
        b"CURVE" => Some(Mechanism::Curve),
        _ => None,
    };
    match known {
        Some(m) if rest.iter().all(|&b| b == 0) => Ok(m),
        _ => Err(ZmtpError::UnknownMechanism(
            String::from_utf8_lossy(field)
                .trim_end_matches('\0')
                .to_string(),
        )),
    }
}

/// A decoded greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting {
    /// The version the sender announced.
    pub version: Version,
    /// The sender's security mechanism.
    pub mechanism: Mechanism,
    /// The as-server flag (meaningful for PLAIN and CURVE).
    pub as_server: bool,
}

impl Greeting {
    /// The greeting zeroring sends: ZMTP 3.1 with the given mechanism.
    pub fn ours(mechanism: Mechanism, as_server: bool) -> Greeting {
        Greeting {
            version: Version::V3_1,
            mechanism,
            as_server,
        }
    }

    /// Encodes the greeting into its 64 bytes. The padding is `00 .. 01` like libzmq's.
    ///
    /// ```
    /// use zeroring_zmtp::{Greeting, Mechanism};
    /// let g = Greeting::ours(Mechanism::Null, false).encode();
    /// assert_eq!(&g[..12], &[0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1]);
    /// assert_eq!(&g[12..16], b"NULL");
    /// ```
    pub fn encode(&self) -> [u8; GREETING_LEN] {
        let mut out = [0u8; GREETING_LEN];
        out[0] = 0xFF;
        out[8] = 0x01;
        out[9] = 0x7F;
        out[10] = self.version.major;
        out[11] = self.version.minor;
        let name = self.mechanism.as_str().as_bytes();
        out[12..12 + name.len()].copy_from_slice(name);
        out[32] = u8::from(self.as_server);
        out
    }

    /// Checks the signature and decides the peer's version from a greeting prefix.
    ///
    /// Returns `Ok(None)` while fewer than 11 bytes are available, and fails as soon
    /// as a byte proves this is not a ZMTP 3.x greeting. The padding is never checked.
    pub fn peek_version(prefix: &[u8]) -> Result<Option<Version>, ZmtpError> {
        if let Some(&b) = prefix.first()
            && b != 0xFF
        {
            return Err(ZmtpError::BadSignature { index: 0, byte: b });
        }
        if let Some(&b) = prefix.get(9)
            && b & 0x01 == 0
        {
            // libzmq only checks the low bit here (ZMTP 1.0 detection); a peer
            // that fails it is speaking the pre-versioned protocol.
            return Err(ZmtpError::BadSignature { index: 9, byte: b });
        }
        let Some(&major) = prefix.get(10) else {
            return Ok(None);
        };
        if major < 3 {
            return Err(ZmtpError::UnsupportedVersion { major });
        }
        let minor = prefix.get(11).copied().unwrap_or(0);
        Ok(Some(Version { major, minor }))
    }

    /// Decodes a full greeting. `bytes` must hold at least [`GREETING_LEN`] bytes.
    pub fn decode(bytes: &[u8]) -> Result<Greeting, ZmtpError> {
        assert!(
            bytes.len() >= GREETING_LEN,
            "decode needs the whole greeting"
        );
        let version =
            Greeting::peek_version(bytes)?.expect("11 bytes are present in a full greeting");
        let mechanism = mechanism_from_field(&bytes[12..32])?;
        Ok(Greeting {
            version,
            mechanism,
            as_server: bytes[32] == 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        for m in [Mechanism::Null, Mechanism::Plain, Mechanism::Curve] {
            for s in [false, true] {
                let g = Greeting::ours(m, s);
                assert_eq!(Greeting::decode(&g.encode()).unwrap(), g);
            }
        }
    }

    #[test]
    fn padding_is_not_validated() {
        let mut g = Greeting::ours(Mechanism::Null, false).encode();
        g[1..9].copy_from_slice(b"anything");
        g[33..].fill(0xAB);
        assert_eq!(Greeting::decode(&g).unwrap().version, Version::V3_1);
    }

    #[test]
    fn version_decided_from_eleven_bytes() {
        let g = Greeting::ours(Mechanism::Null, false).encode();
        for n in 0..VERSION_DECIDED_AT {
            assert_eq!(Greeting::peek_version(&g[..n]).unwrap(), None);
        }
        assert_eq!(
            Greeting::peek_version(&g[..11]).unwrap(),
            Some(Version { major: 3, minor: 0 })
        );
        assert_eq!(
            Greeting::peek_version(&g[..12]).unwrap(),
            Some(Version::V3_1)
        );
    }

    #[test]
    fn rejects_garbage_and_old_versions() {
        assert!(matches!(
            Greeting::peek_version(b"GET / HTTP/1.1"),
            Err(ZmtpError::BadSignature { index: 0, .. })
        ));
        let mut g = Greeting::ours(Mechanism::Null, false).encode();
        g[10] = 2;
        assert_eq!(
            Greeting::peek_version(&g),
            Err(ZmtpError::UnsupportedVersion { major: 2 })
        );
        let mut g = Greeting::ours(Mechanism::Null, false).encode();
        g[12..16].copy_from_slice(b"NOPE");
        assert!(matches!(
            Greeting::decode(&g),
            Err(ZmtpError::UnknownMechanism(_))
        ));
    }

    #[test]
    fn newer_versions_are_accepted() {
        let mut g = Greeting::ours(Mechanism::Null, false).encode();
        g[10] = 4;
        g[11] = 7;
        assert_eq!(
            Greeting::decode(&g).unwrap().version,
            Version { major: 4, minor: 7 }
        );
    }
}
