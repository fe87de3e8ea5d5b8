//! Reading security option values as the setters receive them (keys as raw
//! bytes or Z85, domains), shared by `SocketOptions`' setters and checks.

use zeroring_zmtp::CurvePublicKey;

use crate::error::{Error, Result};

/// Reads a key option's value: 32 raw bytes or 40 characters of Z85.
pub(crate) fn parse_public_key(option: &'static str, key: &[u8]) -> Result<CurvePublicKey> {
    CurvePublicKey::from_slice(key).map_err(|_| Error::InvalidOption {
        option,
        reason: "a CURVE key is 32 raw bytes or 40 characters of Z85",
    })
}

/// A domain as set: an empty one is none (as in libzmq).
pub(crate) fn domain(domain: String) -> Option<String> {
    (!domain.is_empty()).then_some(domain)
}
