//! CURVE keys: long-term public and secret keys (Curve25519), their Z85 form,
//! and key pair generation.
//!
//! Keys are accepted as 32 raw bytes or as 40 characters of Z85, like libzmq's
//! `ZMQ_CURVE_*KEY` options. Secret keys are wiped when dropped and never printed.
//!
//! ```
//! use zeroring_zmtp::{CurveKeyPair, CurvePublicKey, CurveSecretKey};
//! let secret: CurveSecretKey = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6".parse().unwrap();
//! let pair = CurveKeyPair::from_secret(secret);
//! assert_eq!(pair.public().to_z85(), "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
//! ```

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::ZmtpError;
use crate::random::Random;
use crate::z85;

/// Length of a CURVE key in bytes.
pub const KEY_LEN: usize = 32;
/// Length of a CURVE key in Z85 characters.
pub const KEY_Z85_LEN: usize = 40;

/// Reads a key given as 32 raw bytes or 40 Z85 characters.
fn key_bytes(input: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, ZmtpError> {
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    match input.len() {
        KEY_LEN => key.copy_from_slice(input),
        KEY_Z85_LEN => {
            let text = std::str::from_utf8(input)
                .map_err(|_| ZmtpError::InvalidCurveKey("Z85 text must be ASCII"))?;
            let decoded = Zeroizing::new(
                z85::decode(text).map_err(|_| ZmtpError::InvalidCurveKey("invalid Z85 text"))?,
            );
            key.copy_from_slice(&decoded);
        }
        _ => {
            return Err(ZmtpError::InvalidCurveKey(
                "a key is 32 bytes, or 40 characters of Z85",
            ));
        }
    }
    Ok(key)
}

/// A Curve25519 public key (a server's S, a client's C, or a short-term key).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurvePublicKey([u8; KEY_LEN]);

impl CurvePublicKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> CurvePublicKey {
        CurvePublicKey(bytes)
    }

    /// The key from 32 raw bytes or 40 Z85 characters.
    pub fn from_slice(input: &[u8]) -> Result<CurvePublicKey, ZmtpError> {
        key_bytes(input).map(|k| CurvePublicKey(*k))
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as 40 characters of Z85.
    pub fn to_z85(&self) -> String {
        z85_of(&self.0)
    }

    pub(crate) fn to_box_key(self) -> crypto_box::PublicKey {
        crypto_box::PublicKey::from(self.0)
    }
}

fn z85_of(key: &[u8; KEY_LEN]) -> String {
    // 32 is a multiple of 4: encoding cannot fail.
    z85::encode(key).unwrap_or_default()
}

impl FromStr for CurvePublicKey {
    type Err = ZmtpError;
    fn from_str(s: &str) -> Result<CurvePublicKey, ZmtpError> {
        CurvePublicKey::from_slice(s.as_bytes())
    }
}

/// The key's 32 bytes, so a key can go wherever raw key bytes are taken (the
/// `ZMQ_CURVE_*KEY` setters of zeroring's sockets).
impl AsRef<[u8]> for CurvePublicKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl TryFrom<&[u8]> for CurvePublicKey {
    type Error = ZmtpError;
    fn try_from(input: &[u8]) -> Result<CurvePublicKey, ZmtpError> {
        CurvePublicKey::from_slice(input)
    }
}

impl fmt::Debug for CurvePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CurvePublicKey({})", self.to_z85())
    }
}

impl fmt::Display for CurvePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_z85())
    }
}

/// A Curve25519 secret key: wiped on drop, printed as `<redacted>`, compared in
/// constant time.
#[derive(Clone)]
pub struct CurveSecretKey(Zeroizing<[u8; KEY_LEN]>);

impl CurveSecretKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> CurveSecretKey {
        CurveSecretKey(Zeroizing::new(bytes))
    }

    /// The key from 32 raw bytes or 40 Z85 characters.
    pub fn from_slice(input: &[u8]) -> Result<CurveSecretKey, ZmtpError> {
        key_bytes(input).map(CurveSecretKey)
    }

    /// A fresh random key.
    pub fn generate(random: &Random) -> Result<CurveSecretKey, ZmtpError> {
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        random.fill(&mut key[..])?;
        Ok(CurveSecretKey(key))
    }

    /// The key's 32 bytes. Handle with care.
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The key as 40 characters of Z85. Handle with care.
    pub fn to_z85(&self) -> Zeroizing<String> {
        Zeroizing::new(z85_of(&self.0))
    }

    /// The public key that belongs to this secret key.
    pub fn public_key(&self) -> CurvePublicKey {
        CurvePublicKey(*self.to_box_key().public_key().as_bytes())
    }

    /// The key as `crypto_box` wants it. (crypto_box 0.9 wipes the scalar it
    /// keeps when dropped, not its copy of the bytes: keep these short-lived.)
    pub(crate) fn to_box_key(&self) -> crypto_box::SecretKey {
        crypto_box::SecretKey::from(*self.0)
    }

    /// Constant-time comparison with raw key bytes.
    pub(crate) fn ct_eq_bytes(&self, other: &[u8]) -> bool {
        bool::from(self.0[..].ct_eq(other))
    }
}

impl PartialEq for CurveSecretKey {
    fn eq(&self, other: &CurveSecretKey) -> bool {
        self.ct_eq_bytes(&other.0[..])
    }
}

impl Eq for CurveSecretKey {}

impl FromStr for CurveSecretKey {
    type Err = ZmtpError;
    fn from_str(s: &str) -> Result<CurveSecretKey, ZmtpError> {
        CurveSecretKey::from_slice(s.as_bytes())
    }
}

impl TryFrom<&[u8]> for CurveSecretKey {
    type Error = ZmtpError;
    fn try_from(input: &[u8]) -> Result<CurveSecretKey, ZmtpError> {
        CurveSecretKey::from_slice(input)
    }
}

impl fmt::Debug for CurveSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CurveSecretKey(<redacted>)")
    }
}

/// A long-term key pair: the public key is always the secret key's own.
#[derive(Clone, PartialEq, Eq)]
pub struct CurveKeyPair {
    public: CurvePublicKey,
    secret: CurveSecretKey,
}

impl CurveKeyPair {
    /// The pair of a secret key (its public key is derived).
    pub fn from_secret(secret: CurveSecretKey) -> CurveKeyPair {
        CurveKeyPair {
            public: secret.public_key(),
            secret,
        }
    }

    /// A pair given both halves, checked to belong together.
    pub fn new(public: CurvePublicKey, secret: CurveSecretKey) -> Result<CurveKeyPair, ZmtpError> {
        if secret.public_key() != public {
            return Err(ZmtpError::InvalidCurveKey(
                "the public key does not belong to the secret key",
            ));
        }
        Ok(CurveKeyPair { public, secret })
    }

    /// A fresh pair from `random`.
    pub fn generate(random: &Random) -> Result<CurveKeyPair, ZmtpError> {
        CurveSecretKey::generate(random).map(CurveKeyPair::from_secret)
    }

    /// The public half.
    pub fn public(&self) -> &CurvePublicKey {
        &self.public
    }

    /// The secret half.
    pub fn secret(&self) -> &CurveSecretKey {
        &self.secret
    }
}

impl fmt::Debug for CurveKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurveKeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// A fresh long-term key pair from the operating system's generator, like
/// libzmq's `zmq_curve_keypair`. Print the halves with `to_z85()`.
pub fn curve_keypair() -> Result<CurveKeyPair, ZmtpError> {
    CurveKeyPair::generate(&Random::os())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key pairs of libzmq's CURVE tests (tests/testutil_security.cpp).
    const SERVER_PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    const SERVER_SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
    const CLIENT_PUBLIC: &str = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
    const CLIENT_SECRET: &str = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

    #[test]
    fn libzmq_test_keys_derive_their_public_keys() {
        for (public_text, secret_text) in [
            (SERVER_PUBLIC, SERVER_SECRET),
            (CLIENT_PUBLIC, CLIENT_SECRET),
        ] {
            let secret: CurveSecretKey = secret_text.parse().unwrap();
            let public: CurvePublicKey = public_text.parse().unwrap();
            assert_eq!(secret.public_key(), public);
            assert_eq!(secret.public_key().to_z85(), public_text);
            assert_eq!(&*secret.to_z85(), secret_text);
            assert!(CurveKeyPair::new(public, secret).is_ok());
        }
    }

    #[test]
    fn keys_parse_raw_or_z85() {
        let z: CurvePublicKey = SERVER_PUBLIC.parse().unwrap();
        let raw = CurvePublicKey::from_slice(z.as_bytes()).unwrap();
        assert_eq!(z, raw);
        assert_eq!(raw.to_z85(), SERVER_PUBLIC);
        assert!(CurvePublicKey::from_slice(&[0u8; 31]).is_err());
        assert!(
            "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\""
                .parse::<CurvePublicKey>()
                .is_err()
        );
        let other: CurvePublicKey = CLIENT_PUBLIC.parse().unwrap();
        let secret: CurveSecretKey = SERVER_SECRET.parse().unwrap();
        assert!(CurveKeyPair::new(other, secret).is_err());
    }

    #[test]
    fn generated_pairs_are_consistent_and_secrets_hidden() {
        let pair = curve_keypair().unwrap();
        assert_eq!(pair.secret().public_key(), *pair.public());
        assert_eq!(pair.public().to_z85().len(), KEY_Z85_LEN);
        let text = format!("{pair:?} {:?}", pair.secret());
        assert!(!text.contains(&*pair.secret().to_z85()), "{text}");
    }
}
