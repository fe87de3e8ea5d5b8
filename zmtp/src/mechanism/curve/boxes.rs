//! NaCl boxes in the layout CurveZMQ puts on the wire: a 16-byte Poly1305 tag
//! followed by the ciphertext (libsodium's `crypto_box_easy` layout, which is
//! `crypto_box` with the 16 leading zero bytes stripped), under 24-byte nonces
//! made of a text prefix and a counter or random tail.
//!
//! [`BoxKey`] is `crypto_box` (Curve25519 + XSalsa20-Poly1305, shared key
//! precomputed as with `crypto_box_beforenm`); [`SecretBoxKey`] is
//! `crypto_secretbox` for the server's cookie.

use bytes::{BufMut, BytesMut};
use crypto_box::SalsaBox;
use crypto_box::aead::consts::{U16, U24};
use crypto_box::aead::generic_array::GenericArray;
use crypto_box::aead::{AeadCore, AeadInPlace};
use crypto_secretbox::{KeyInit, XSalsa20Poly1305};
use zeroize::Zeroizing;

use super::keys::{CurvePublicKey, CurveSecretKey};

/// Length of a box's authentication tag.
pub(crate) const MAC_LEN: usize = 16;
/// Length of a full nonce.
pub(crate) const NONCE_LEN: usize = 24;

/// A full nonce: `prefix` (16 or 8 bytes of text) then `tail` (the rest).
pub(crate) fn nonce(prefix: &[u8], tail: &[u8]) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    let split = prefix.len().min(NONCE_LEN);
    n[..split].copy_from_slice(&prefix[..split]);
    let rest = (NONCE_LEN - split).min(tail.len());
    n[split..split + rest].copy_from_slice(&tail[..rest]);
    n
}

/// A box could not be opened: wrong keys, or the bytes were altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rejected;

/// Seals `buf[MAC_LEN..]` in place and writes the tag into `buf[..MAC_LEN]`.
fn seal_tagged<A>(aead: &A, nonce: &[u8; NONCE_LEN], buf: &mut [u8])
where
    A: AeadInPlace + AeadCore<NonceSize = U24, TagSize = U16>,
{
    if buf.len() < MAC_LEN {
        return;
    }
    let (tag_slot, body) = buf.split_at_mut(MAC_LEN);
    // XSalsa20-Poly1305 only fails for associated data (none here) or messages
    // longer than 2^38 bytes, which no frame can be.
    if let Ok(tag) = aead.encrypt_in_place_detached(GenericArray::from_slice(nonce), b"", body) {
        tag_slot.copy_from_slice(&tag);
    }
}

/// Opens `buf` (tag then ciphertext) in place: on success `buf[MAC_LEN..]` holds
/// the plaintext.
fn open_tagged<A>(aead: &A, nonce: &[u8; NONCE_LEN], buf: &mut [u8]) -> Result<(), Rejected>
where
    A: AeadInPlace + AeadCore<NonceSize = U24, TagSize = U16>,
{
    if buf.len() < MAC_LEN {
        return Err(Rejected);
    }
    let (tag, body) = buf.split_at_mut(MAC_LEN);
    aead.decrypt_in_place_detached(
        GenericArray::from_slice(nonce),
        b"",
        body,
        GenericArray::from_slice(tag),
    )
    .map_err(|_| Rejected)
}

/// A `crypto_box` key shared by two parties (our secret key, their public key).
pub(crate) struct BoxKey(SalsaBox);

impl std::fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxKey(<redacted>)")
    }
}

impl BoxKey {
    /// Precomputes the key shared between `ours` and `theirs`.
    pub(crate) fn new(theirs: &CurvePublicKey, ours: &CurveSecretKey) -> BoxKey {
        BoxKey(SalsaBox::new(&theirs.to_box_key(), &ours.to_box_key()))
    }

    /// Appends the box of `plaintext` (tag, then ciphertext) to `out`.
    pub(crate) fn seal_to(&self, nonce: &[u8; NONCE_LEN], plaintext: &[u8], out: &mut BytesMut) {
        let start = out.len();
        out.reserve(MAC_LEN + plaintext.len());
        out.put_bytes(0, MAC_LEN);
        out.put_slice(plaintext);
        seal_tagged(&self.0, nonce, &mut out[start..]);
    }

    /// Seals in place: `buf` is a tag slot of [`MAC_LEN`] bytes then the plaintext.
    pub(crate) fn seal_in_place(&self, nonce: &[u8; NONCE_LEN], buf: &mut [u8]) {
        seal_tagged(&self.0, nonce, buf);
    }

    /// Opens a box into a new buffer that is wiped when dropped.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        boxed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Rejected> {
        let mut buf = Zeroizing::new(boxed.to_vec());
        open_tagged(&self.0, nonce, &mut buf)?;
        buf.drain(..MAC_LEN);
        Ok(buf)
    }

    /// Opens in place: on success `buf[MAC_LEN..]` is the plaintext.
    pub(crate) fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        buf: &mut [u8],
    ) -> Result<(), Rejected> {
        open_tagged(&self.0, nonce, buf)
    }
}

/// A `crypto_secretbox` key (the server's cookie key).
pub(crate) struct SecretBoxKey(XSalsa20Poly1305);

impl SecretBoxKey {
    /// The key from its 32 bytes.
    pub(crate) fn new(key: &[u8; 32]) -> SecretBoxKey {
        SecretBoxKey(XSalsa20Poly1305::new(key.into()))
    }

    /// Appends the box of `plaintext` (tag, then ciphertext) to `out`.
    pub(crate) fn seal_to(&self, nonce: &[u8; NONCE_LEN], plaintext: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + MAC_LEN, 0);
        out.extend_from_slice(plaintext);
        seal_tagged(&self.0, nonce, &mut out[start..]);
    }

    /// Opens a box into a new buffer that is wiped when dropped.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        boxed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Rejected> {
        let mut buf = Zeroizing::new(boxed.to_vec());
        open_tagged(&self.0, nonce, &mut buf)?;
        buf.drain(..MAC_LEN);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// NaCl's crypto_box test vector (alice's secret key, bob's public key,
    /// nonce), checked against the first bytes of the published box: the tag
    /// leads, then the ciphertext.
    #[test]
    fn nacl_vector_layout() {
        let alice_secret = CurveSecretKey::from_bytes([
            0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2,
            0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5,
            0x1d, 0xb9, 0x2c, 0x2a,
        ]);
        let bob_public = CurvePublicKey::from_bytes([
            0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4,
            0x35, 0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14,
            0x6f, 0x88, 0x2b, 0x4f,
        ]);
        let n: [u8; NONCE_LEN] = [
            0x69, 0x69, 0x6e, 0xe9, 0x55, 0xb6, 0x2b, 0x73, 0xcd, 0x62, 0xbd, 0xa8, 0x75, 0xfc,
            0x73, 0xd6, 0x82, 0x19, 0xe0, 0x03, 0x6b, 0x7a, 0x0b, 0x37,
        ];
        let plaintext_head = [
            0xbe, 0x07, 0x5f, 0xc5, 0x3c, 0x81, 0xf2, 0xd5, 0xcf, 0x14, 0x13, 0x16, 0xeb, 0xeb,
            0x0c, 0x7b,
        ];
        let key = BoxKey::new(&bob_public, &alice_secret);
        let mut out = BytesMut::new();
        key.seal_to(&n, &plaintext_head, &mut out);
        // The stream cipher's output for the first 16 bytes does not depend on
        // the message length: the published ciphertext starts 8e 99 3b 9f.
        assert_eq!(&out[MAC_LEN..MAC_LEN + 4], &[0x8e, 0x99, 0x3b, 0x9f]);
        let opened = key.open(&n, &out).unwrap();
        assert_eq!(&opened[..], &plaintext_head);
        out[MAC_LEN] ^= 1;
        assert_eq!(key.open(&n, &out), Err(Rejected));
    }

    #[test]
    fn secretbox_round_trip_and_tamper() {
        let key = SecretBoxKey::new(&[7u8; 32]);
        let n = nonce(b"COOKIE--", &[1u8; 16]);
        let mut boxed = Vec::new();
        key.seal_to(&n, b"cookie contents", &mut boxed);
        assert_eq!(boxed.len(), MAC_LEN + 15);
        assert_eq!(&key.open(&n, &boxed).unwrap()[..], b"cookie contents");
        let other = nonce(b"COOKIE--", &[2u8; 16]);
        assert!(key.open(&other, &boxed).is_err());
        assert!(key.open(&n, &boxed[..10]).is_err());
    }

    #[test]
    fn nonce_layout() {
        let n = nonce(b"CurveZMQMESSAGEC", &7u64.to_be_bytes());
        assert_eq!(&n[..16], b"CurveZMQMESSAGEC");
        assert_eq!(&n[16..], &[0, 0, 0, 0, 0, 0, 0, 7]);
        let n = nonce(b"WELCOME-", &[9u8; 16]);
        assert_eq!(&n[..8], b"WELCOME-");
        assert_eq!(&n[8..], &[9u8; 16]);
    }
}
