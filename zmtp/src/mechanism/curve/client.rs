//! The CURVE client: HELLO with a fresh short-term key, INITIATE (cookie, vouch,
//! metadata) once WELCOME opened under the server's long-term key, and the data
//! phase once READY opened under the short-term keys.

use bytes::{Bytes, BytesMut};

use super::boxes::{BoxKey, nonce};
use super::keys::{CurveKeyPair, CurvePublicKey, CurveSecretKey, KEY_LEN};
use super::message::MessageCipher;
use super::{
    CurveBox, HELLO_PREFIX, INITIATE_PREFIX, READY_MIN_DATA, READY_PREFIX, VOUCH_PREFIX,
    WELCOME_DATA, WELCOME_PREFIX, short_nonce,
};
use crate::command::encode_raw;
use crate::error::ZmtpError;
use crate::mechanism::{Local, Machine, Status, malformed, unexpected};
use crate::metadata::Metadata;

#[derive(Debug)]
enum State {
    Start,
    ExpectWelcome {
        short: CurveSecretKey,
    },
    ExpectReady {
        /// Box key between c' and S'.
        key: BoxKey,
    },
    Done,
}

/// Our side of a CURVE handshake as the client.
pub(crate) struct Client {
    keys: CurveKeyPair,
    server_key: CurvePublicKey,
    state: State,
    /// Our next short nonce (HELLO uses 1, INITIATE 2, then MESSAGEs).
    next_nonce: u64,
    cipher: Option<MessageCipher>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("curve::Client")
            .field("public", self.keys.public())
            .field("server_key", &self.server_key)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub(crate) fn new(keys: CurveKeyPair, server_key: CurvePublicKey) -> Client {
        Client {
            keys,
            server_key,
            state: State::Start,
            next_nonce: 1,
            cipher: None,
        }
    }

    fn take_nonce(&mut self) -> [u8; 8] {
        let n = self.next_nonce;
        self.next_nonce += 1;
        n.to_be_bytes()
    }

    fn on_welcome(
        &mut self,
        local: &Local<'_>,
        short: &CurveSecretKey,
        data: &[u8],
        out: &mut BytesMut,
    ) -> Result<BoxKey, ZmtpError> {
        if data.len() != WELCOME_DATA {
            return Err(malformed("WELCOME", "CURVE WELCOME must be 168 bytes"));
        }
        let (long_nonce, boxed) = data.split_at(16);
        let plain = BoxKey::new(&self.server_key, short)
            .open(&nonce(WELCOME_PREFIX, long_nonce), boxed)
            .map_err(|_| ZmtpError::CurveBoxRejected(CurveBox::Welcome))?;
        let server_short = CurvePublicKey::from_slice(&plain[..KEY_LEN])?;
        let cookie = &plain[KEY_LEN..];
        let key = BoxKey::new(&server_short, short);

        // vouch = Box[C' + S](C->S'), under VOUCH--- and a long nonce.
        let vouch_nonce: [u8; 16] = local.random.array()?;
        let mut vouch_plain = [0u8; 2 * KEY_LEN];
        vouch_plain[..KEY_LEN].copy_from_slice(short.public_key().as_bytes());
        vouch_plain[KEY_LEN..].copy_from_slice(self.server_key.as_bytes());
        let mut vouch = BytesMut::new();
        BoxKey::new(&server_short, self.keys.secret()).seal_to(
            &nonce(VOUCH_PREFIX, &vouch_nonce),
            &vouch_plain,
            &mut vouch,
        );

        let metadata = local.metadata();
        let mut plain = BytesMut::with_capacity(128 + metadata.encoded_len());
        plain.extend_from_slice(self.keys.public().as_bytes());
        plain.extend_from_slice(&vouch_nonce);
        plain.extend_from_slice(&vouch);
        metadata.encode(&mut plain);
        let short_nonce = self.take_nonce();
        let mut boxed = BytesMut::new();
        key.seal_to(&nonce(INITIATE_PREFIX, &short_nonce), &plain, &mut boxed);
        encode_raw(out, b"INITIATE", &[cookie, &short_nonce, &boxed]);
        Ok(key)
    }

    fn on_ready(
        &mut self,
        local: &Local<'_>,
        key: BoxKey,
        data: &[u8],
    ) -> Result<Status, ZmtpError> {
        if data.len() < READY_MIN_DATA {
            return Err(malformed("READY", "CURVE READY shorter than 30 bytes"));
        }
        let (short, boxed) = data.split_at(8);
        let plain = key
            .open(&nonce(READY_PREFIX, short), boxed)
            .map_err(|_| ZmtpError::CurveBoxRejected(CurveBox::Ready))?;
        let peer = local.check_peer(Metadata::decode(Bytes::copy_from_slice(&plain))?)?;
        self.cipher = Some(MessageCipher::new(
            key,
            false,
            self.next_nonce,
            short_nonce(short),
        ));
        Ok(Status::Done(peer))
    }
}

impl Machine for Client {
    fn start(&mut self, local: &Local<'_>, out: &mut BytesMut) -> Result<Status, ZmtpError> {
        let short = CurveSecretKey::generate(local.random)?;
        let short_nonce = self.take_nonce();
        let mut signature = BytesMut::new();
        BoxKey::new(&self.server_key, &short).seal_to(
            &nonce(HELLO_PREFIX, &short_nonce),
            &[0u8; 64],
            &mut signature,
        );
        encode_raw(
            out,
            b"HELLO",
            &[
                &[1, 0],
                &[0u8; 72],
                short.public_key().as_bytes(),
                &short_nonce,
                &signature,
            ],
        );
        self.state = State::ExpectWelcome { short };
        Ok(Status::Continue)
    }

    fn on_command(
        &mut self,
        local: &Local<'_>,
        name: &[u8],
        data: Bytes,
        out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::ExpectWelcome { short } if name == b"WELCOME" => {
                let key = self.on_welcome(local, &short, &data, out)?;
                self.state = State::ExpectReady { key };
                Ok(Status::Continue)
            }
            State::ExpectReady { key } if name == b"READY" => self.on_ready(local, key, &data),
            State::ExpectWelcome { .. } => Err(unexpected("WELCOME", name)),
            State::ExpectReady { .. } => Err(unexpected("READY", name)),
            State::Start | State::Done => Err(unexpected("nothing", name)),
        }
    }

    fn on_authenticated(
        &mut self,
        _local: &Local<'_>,
        _out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        Err(ZmtpError::NoAuthenticationPending)
    }

    fn take_cipher(&mut self) -> Option<MessageCipher> {
        self.cipher.take()
    }
}
