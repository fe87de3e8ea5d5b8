//! The CURVE server: WELCOME (fresh short-term key and cookie) for a HELLO that
//! opens under our long-term key, then the checks of INITIATE (cookie, box,
//! vouch, metadata), the caller's authentication of the client's long-term key
//! when it is on, and READY.

use bytes::{Bytes, BytesMut};
use subtle::ConstantTimeEq;

use super::boxes::{BoxKey, nonce};
use super::cookie::{COOKIE_LEN, CookieKey};
use super::keys::{CurveKeyPair, CurvePublicKey, CurveSecretKey, KEY_LEN};
use super::message::MessageCipher;
use super::{
    CurveBox, HELLO_DATA, HELLO_PREFIX, INITIATE_MIN_DATA, INITIATE_PREFIX, READY_PREFIX,
    VOUCH_PREFIX, WELCOME_PREFIX, short_nonce,
};
use crate::auth::{AuthRequest, Credentials};
use crate::command::encode_raw;
use crate::error::ZmtpError;
use crate::mechanism::{Local, Machine, Status, malformed, unexpected};
use crate::mechanism_name::Mechanism;
use crate::metadata::Metadata;
use crate::peer::PeerInfo;

/// What the server keeps between WELCOME and INITIATE.
struct Welcomed {
    client_short: CurvePublicKey,
    short: CurveSecretKey,
    cookie_key: CookieKey,
    hello_nonce: u64,
}

/// What the server keeps while its caller authenticates the client.
struct Accepted {
    key: BoxKey,
    peer: PeerInfo,
    initiate_nonce: u64,
}

enum State {
    ExpectHello,
    ExpectInitiate(Box<Welcomed>),
    Authenticating(Box<Accepted>),
    Done,
}

/// Our side of a CURVE handshake as the server.
pub(crate) struct Server {
    keys: CurveKeyPair,
    state: State,
    /// Our next short nonce (READY uses 1, then MESSAGEs).
    next_nonce: u64,
    cipher: Option<MessageCipher>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("curve::Server")
            .field("public", self.keys.public())
            .finish_non_exhaustive()
    }
}

impl Server {
    pub(crate) fn new(keys: CurveKeyPair) -> Server {
        Server {
            keys,
            state: State::ExpectHello,
            next_nonce: 1,
            cipher: None,
        }
    }

    fn on_hello(
        &mut self,
        local: &Local<'_>,
        data: &[u8],
        out: &mut BytesMut,
    ) -> Result<Welcomed, ZmtpError> {
        if data.len() != HELLO_DATA {
            return Err(malformed("HELLO", "CURVE HELLO must be 200 bytes"));
        }
        let (major, minor) = (data[0], data[1]);
        if (major, minor) != (1, 0) {
            return Err(ZmtpError::UnsupportedCurveVersion { major, minor });
        }
        // data[2..74]: anti-amplification padding, not significant.
        let client_short = CurvePublicKey::from_slice(&data[74..106])?;
        let short = &data[106..114];
        let signature = BoxKey::new(&client_short, self.keys.secret())
            .open(&nonce(HELLO_PREFIX, short), &data[114..])
            .map_err(|_| ZmtpError::CurveBoxRejected(CurveBox::Hello))?;
        if !bool::from(signature.as_slice().ct_eq(&[0u8; 64][..])) {
            return Err(ZmtpError::CurveBoxRejected(CurveBox::Hello));
        }

        let server_short = CurveSecretKey::generate(local.random)?;
        let cookie_key = CookieKey::generate(local.random)?;
        let cookie = cookie_key.bake(local.random, &client_short, &server_short)?;
        let mut plain = Vec::with_capacity(KEY_LEN + COOKIE_LEN);
        plain.extend_from_slice(server_short.public_key().as_bytes());
        plain.extend_from_slice(&cookie);
        let long_nonce: [u8; 16] = local.random.array()?;
        let mut boxed = BytesMut::new();
        BoxKey::new(&client_short, self.keys.secret()).seal_to(
            &nonce(WELCOME_PREFIX, &long_nonce),
            &plain,
            &mut boxed,
        );
        encode_raw(out, b"WELCOME", &[&long_nonce, &boxed]);
        Ok(Welcomed {
            client_short,
            short: server_short,
            cookie_key,
            hello_nonce: short_nonce(short),
        })
    }

    /// Checks INITIATE; returns the client's long-term key and what to keep.
    fn on_initiate(
        &self,
        local: &Local<'_>,
        w: &Welcomed,
        data: &[u8],
    ) -> Result<(CurvePublicKey, Accepted), ZmtpError> {
        if data.len() < INITIATE_MIN_DATA {
            return Err(malformed(
                "INITIATE",
                "CURVE INITIATE shorter than 257 bytes",
            ));
        }
        let (cookie, rest) = data.split_at(COOKIE_LEN);
        let (short, boxed) = rest.split_at(8);
        if !w.cookie_key.check(cookie, &w.client_short, &w.short) {
            return Err(ZmtpError::CurveBoxRejected(CurveBox::Cookie));
        }
        let initiate_nonce = short_nonce(short);
        if initiate_nonce <= w.hello_nonce {
            return Err(ZmtpError::CurveNonceReused {
                nonce: initiate_nonce,
                previous: w.hello_nonce,
            });
        }
        let key = BoxKey::new(&w.client_short, &w.short);
        let plain = key
            .open(&nonce(INITIATE_PREFIX, short), boxed)
            .map_err(|_| ZmtpError::CurveBoxRejected(CurveBox::Initiate))?;
        // INITIATE_MIN_DATA guarantees 128 bytes of plaintext.
        let client_key = CurvePublicKey::from_slice(&plain[..KEY_LEN])?;
        let vouch = BoxKey::new(&client_key, &w.short)
            .open(&nonce(VOUCH_PREFIX, &plain[32..48]), &plain[48..128])
            .map_err(|_| ZmtpError::CurveBoxRejected(CurveBox::Vouch))?;
        let names_client_short = vouch[..KEY_LEN].ct_eq(w.client_short.as_bytes());
        let names_us = vouch[KEY_LEN..].ct_eq(self.keys.public().as_bytes());
        if !bool::from(names_client_short & names_us) {
            return Err(ZmtpError::CurveBoxRejected(CurveBox::Vouch));
        }
        let peer = local.check_peer(Metadata::decode(Bytes::copy_from_slice(&plain[128..]))?)?;
        Ok((
            client_key,
            Accepted {
                key,
                peer,
                initiate_nonce,
            },
        ))
    }

    fn ready(&mut self, local: &Local<'_>, accepted: Accepted, out: &mut BytesMut) -> Status {
        let short = self.next_nonce.to_be_bytes();
        self.next_nonce += 1;
        let mut plain = BytesMut::new();
        local.metadata().encode(&mut plain);
        let mut boxed = BytesMut::new();
        accepted
            .key
            .seal_to(&nonce(READY_PREFIX, &short), &plain, &mut boxed);
        encode_raw(out, b"READY", &[&short, &boxed]);
        self.cipher = Some(MessageCipher::new(
            accepted.key,
            true,
            self.next_nonce,
            accepted.initiate_nonce,
        ));
        self.state = State::Done;
        Status::Done(accepted.peer)
    }
}

impl Machine for Server {
    fn start(&mut self, _local: &Local<'_>, _out: &mut BytesMut) -> Result<Status, ZmtpError> {
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
            State::ExpectHello if name == b"HELLO" => {
                let welcomed = self.on_hello(local, &data, out)?;
                self.state = State::ExpectInitiate(Box::new(welcomed));
                Ok(Status::Continue)
            }
            State::ExpectInitiate(w) if name == b"INITIATE" => {
                let (client_key, accepted) = self.on_initiate(local, &w, &data)?;
                // The short-term secret and the cookie key go (wiped) with `w`.
                drop(w);
                if !local.authenticate {
                    return Ok(self.ready(local, accepted, out));
                }
                let request = AuthRequest {
                    mechanism: Mechanism::Curve,
                    credentials: Credentials::Curve {
                        client_public_key: client_key,
                    },
                    peer_routing_id: accepted.peer.routing_id.clone(),
                };
                self.state = State::Authenticating(Box::new(accepted));
                Ok(Status::Authenticate(request))
            }
            State::ExpectHello => Err(unexpected("HELLO", name)),
            State::ExpectInitiate(_) => Err(unexpected("INITIATE", name)),
            State::Authenticating(_) | State::Done => Err(unexpected("nothing", name)),
        }
    }

    fn on_authenticated(
        &mut self,
        local: &Local<'_>,
        out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Authenticating(accepted) => Ok(self.ready(local, *accepted, out)),
            other => {
                self.state = other;
                Err(ZmtpError::NoAuthenticationPending)
            }
        }
    }

    fn take_cipher(&mut self) -> Option<MessageCipher> {
        self.cipher.take()
    }
}
