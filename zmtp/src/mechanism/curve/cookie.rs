//! The CURVE server's cookie: the client's short-term public key and the
//! server's short-term secret key, sealed under a key only the server knows, so
//! the server can check that an INITIATE answers its own WELCOME.
//!
//! Layout (96 bytes): a long nonce (16) and `crypto_secretbox` of C' + s' (80)
//! under `COOKIE--` + that nonce. Like libzmq, the key is drawn fresh for every
//! WELCOME and dropped (wiped) with the connection, so a cookie is never valid
//! on another connection.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::COOKIE_PREFIX;
use super::boxes::{SecretBoxKey, nonce};
use super::keys::{CurvePublicKey, CurveSecretKey, KEY_LEN};
use crate::error::ZmtpError;
use crate::random::Random;

/// Length of a cookie.
pub(crate) const COOKIE_LEN: usize = 96;

/// The cookie key of one connection.
pub(crate) struct CookieKey(SecretBoxKey);

impl std::fmt::Debug for CookieKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieKey(<redacted>)")
    }
}

impl CookieKey {
    /// A fresh random key.
    pub(crate) fn generate(random: &Random) -> Result<CookieKey, ZmtpError> {
        let mut key = Zeroizing::new([0u8; 32]);
        random.fill(&mut key[..])?;
        Ok(CookieKey(SecretBoxKey::new(&key)))
    }

    /// Seals C' and s' into a cookie.
    pub(crate) fn bake(
        &self,
        random: &Random,
        client_short: &CurvePublicKey,
        server_short: &CurveSecretKey,
    ) -> Result<Vec<u8>, ZmtpError> {
        let long_nonce: [u8; 16] = random.array()?;
        let mut plaintext = Zeroizing::new([0u8; 2 * KEY_LEN]);
        plaintext[..KEY_LEN].copy_from_slice(client_short.as_bytes());
        plaintext[KEY_LEN..].copy_from_slice(server_short.expose());
        let mut cookie = Vec::with_capacity(COOKIE_LEN);
        cookie.extend_from_slice(&long_nonce);
        self.0.seal_to(
            &nonce(COOKIE_PREFIX, &long_nonce),
            &plaintext[..],
            &mut cookie,
        );
        Ok(cookie)
    }

    /// True when `cookie` opens and holds exactly C' and s' (compared in
    /// constant time).
    pub(crate) fn check(
        &self,
        cookie: &[u8],
        client_short: &CurvePublicKey,
        server_short: &CurveSecretKey,
    ) -> bool {
        if cookie.len() != COOKIE_LEN {
            return false;
        }
        let (long_nonce, boxed) = cookie.split_at(16);
        let Ok(plain) = self.0.open(&nonce(COOKIE_PREFIX, long_nonce), boxed) else {
            return false;
        };
        if plain.len() != 2 * KEY_LEN {
            return false;
        }
        let client_ok = plain[..KEY_LEN].ct_eq(client_short.as_bytes());
        let server_ok = server_short.ct_eq_bytes(&plain[KEY_LEN..]);
        bool::from(client_ok) & server_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_checks_its_contents_and_its_key() {
        let random = Random::os();
        let key = CookieKey::generate(&random).unwrap();
        let c_short = CurveSecretKey::generate(&random).unwrap().public_key();
        let s_short = CurveSecretKey::generate(&random).unwrap();
        let cookie = key.bake(&random, &c_short, &s_short).unwrap();
        assert_eq!(cookie.len(), COOKIE_LEN);
        assert!(key.check(&cookie, &c_short, &s_short));
        let other_client = CurveSecretKey::generate(&random).unwrap().public_key();
        assert!(!key.check(&cookie, &other_client, &s_short));
        let other_key = CookieKey::generate(&random).unwrap();
        assert!(!other_key.check(&cookie, &c_short, &s_short));
        let mut tampered = cookie.clone();
        tampered[40] ^= 0x80;
        assert!(!key.check(&tampered, &c_short, &s_short));
        assert!(!key.check(&cookie[..95], &c_short, &s_short));
    }
}
