//! CurveZMQ (RFC 26), byte for byte as libzmq implements it.
//!
//! Keys: long-term C/c (client), S/s (server); short-term C'/c', S'/s' made
//! fresh for each connection. `Box[x](A->B)` is a NaCl `crypto_box` of `x` from
//! A's secret key to B's public key, written tag first. Short nonces are 8-byte
//! big-endian counters, one sequence per direction; long nonces are 16 random
//! bytes.
//!
//! | command | layout (bytes) |
//! |---|---|
//! | HELLO (200) | `\x05HELLO`, version `1 0`, 72 zeros, C' (32), short nonce (8), Box[64 zeros](C'->S) (80) under `CurveZMQHELLO---` |
//! | WELCOME (168) | `\x07WELCOME`, long nonce (16), Box[S' + cookie](S->C') (144) under `WELCOME-` |
//! | INITIATE (257+) | `\x08INITIATE`, cookie (96), short nonce (8), Box[C + vouch nonce (16) + vouch (80) + metadata](C'->S') under `CurveZMQINITIATE` |
//! | READY (30+) | `\x05READY`, short nonce (8), Box[metadata](S'->C') under `CurveZMQREADY---` |
//! | MESSAGE (33+) | `\x07MESSAGE`, short nonce (8), Box[flags (1) + frame body](C'->S' or S'->C') under `CurveZMQMESSAGEC` / `CurveZMQMESSAGES` |
//!
//! The cookie is a long nonce (16) and a `crypto_secretbox` of C' + s' (80) under
//! `COOKIE--` with a key the server draws fresh for every WELCOME; the vouch is
//! Box[C' + S](C->S') under `VOUCH---` and a long nonce. The handshake commands
//! go in command frames; MESSAGE goes in a data frame (no COMMAND flag), as
//! libzmq sends it, and both kinds are accepted. Inside a MESSAGE the flags byte
//! carries MORE (`0x01`) and COMMAND (`0x02`), so PING, PONG, SUBSCRIBE and
//! CANCEL travel sealed too.

mod boxes;
pub(crate) mod client;
mod cookie;
mod keys;
pub(crate) mod message;
pub(crate) mod server;

use std::fmt;

pub use keys::{CurveKeyPair, CurvePublicKey, CurveSecretKey, KEY_LEN, KEY_Z85_LEN, curve_keypair};
pub(crate) use message::MessageCipher;

/// Length of HELLO's data (after the name).
const HELLO_DATA: usize = 200 - 6;
/// Length of WELCOME's data.
const WELCOME_DATA: usize = 168 - 8;
/// Shortest INITIATE data (no metadata).
const INITIATE_MIN_DATA: usize = 257 - 9;
/// Shortest READY data (no metadata).
const READY_MIN_DATA: usize = 30 - 6;

/// Nonce prefixes.
const HELLO_PREFIX: &[u8; 16] = b"CurveZMQHELLO---";
const WELCOME_PREFIX: &[u8; 8] = b"WELCOME-";
const COOKIE_PREFIX: &[u8; 8] = b"COOKIE--";
const INITIATE_PREFIX: &[u8; 16] = b"CurveZMQINITIATE";
const VOUCH_PREFIX: &[u8; 8] = b"VOUCH---";
const READY_PREFIX: &[u8; 16] = b"CurveZMQREADY---";
const CLIENT_MESSAGE_PREFIX: &[u8; 16] = b"CurveZMQMESSAGEC";
const SERVER_MESSAGE_PREFIX: &[u8; 16] = b"CurveZMQMESSAGES";

/// The CURVE box (or check) that failed, with what it usually means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CurveBox {
    /// The server could not open the client's HELLO.
    Hello,
    /// The client could not open the server's WELCOME.
    Welcome,
    /// The INITIATE's cookie is not the one this server sent.
    Cookie,
    /// The server could not open the client's INITIATE.
    Initiate,
    /// The INITIATE's vouch did not open or names other keys.
    Vouch,
    /// The client could not open the server's READY.
    Ready,
    /// A MESSAGE did not open.
    Message,
}

impl fmt::Display for CurveBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CurveBox::Hello => {
                "HELLO box did not open: the client expects another server public key \
                 (check its CURVE server key)"
            }
            CurveBox::Welcome => {
                "WELCOME box did not open: the server does not hold the secret key of the \
                 server public key we were given (check our CURVE server key)"
            }
            CurveBox::Cookie => "INITIATE carries a cookie this server did not make",
            CurveBox::Initiate => "INITIATE box did not open (altered or forged)",
            CurveBox::Vouch => {
                "INITIATE vouch did not open or names other keys: the client does not hold \
                 the secret key of the public key it presented"
            }
            CurveBox::Ready => "READY box did not open (altered or forged)",
            CurveBox::Message => {
                "MESSAGE box did not open: the data was altered on the way or the sender's \
                 keys are not this connection's"
            }
        })
    }
}

/// A short nonce's 8 bytes.
fn short_nonce(bytes: &[u8]) -> u64 {
    let mut n = [0u8; 8];
    n.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(n)
}
