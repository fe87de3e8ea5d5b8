//! The data phase of a CURVE connection: every frame travels as a MESSAGE
//! command, `\x07MESSAGE`, a short nonce (8, big-endian), and Box[flags (1) +
//! body] under `CurveZMQMESSAGEC` (client to server) or `CurveZMQMESSAGES`
//! (server to client). The flags byte carries MORE (`0x01`) and COMMAND
//! (`0x02`). Nonces increase strictly in each direction: one that does not is a
//! replay or a reordering and ends the connection, as a box that does not open
//! does.

use bytes::{BufMut, Bytes, BytesMut};

use super::boxes::{BoxKey, MAC_LEN, nonce};
use super::{CLIENT_MESSAGE_PREFIX, CurveBox, SERVER_MESSAGE_PREFIX, short_nonce};
use crate::error::ZmtpError;
use crate::frame::{self, Frame};

/// MESSAGE's name as it starts the frame body.
const NAME: &[u8; 8] = b"\x07MESSAGE";
/// Bytes a MESSAGE adds to a frame body: name (8), nonce (8), tag (16), flags (1).
pub(crate) const MESSAGE_OVERHEAD: usize = 8 + 8 + MAC_LEN + 1;

/// Flag bits inside a MESSAGE (libzmq's `msg_t::more` and `msg_t::command`).
const INNER_MORE: u8 = 0x01;
const INNER_COMMAND: u8 = 0x02;

/// Seals and opens the MESSAGE commands of one connection.
pub struct MessageCipher {
    key: BoxKey,
    send_prefix: &'static [u8; 16],
    recv_prefix: &'static [u8; 16],
    /// Our next short nonce.
    next_nonce: u64,
    /// The highest short nonce the peer used so far.
    peer_nonce: u64,
}

impl std::fmt::Debug for MessageCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageCipher")
            .field("next_nonce", &self.next_nonce)
            .field("peer_nonce", &self.peer_nonce)
            .finish_non_exhaustive()
    }
}

impl MessageCipher {
    /// The cipher of a finished handshake: `key` is the short-term shared key,
    /// `next_nonce` our next short nonce, `peer_nonce` the peer's last one.
    pub(crate) fn new(key: BoxKey, server: bool, next_nonce: u64, peer_nonce: u64) -> Self {
        let (send_prefix, recv_prefix) = if server {
            (SERVER_MESSAGE_PREFIX, CLIENT_MESSAGE_PREFIX)
        } else {
            (CLIENT_MESSAGE_PREFIX, SERVER_MESSAGE_PREFIX)
        };
        MessageCipher {
            key,
            send_prefix,
            recv_prefix,
            next_nonce,
            peer_nonce,
        }
    }

    /// Appends one frame (a data frame, or a command's body with `command`) as a
    /// MESSAGE in a data frame.
    pub(crate) fn seal(&mut self, more: bool, command: bool, body: &[u8], out: &mut BytesMut) {
        let short = self.next_nonce;
        // 2^64 frames cannot be sent on one connection; should it ever wrap,
        // the peer refuses the repeated nonce rather than anything leaking.
        self.next_nonce = self.next_nonce.wrapping_add(1);
        let mut flags = 0;
        if more {
            flags |= INNER_MORE;
        }
        if command {
            flags |= INNER_COMMAND;
        }
        let len = MESSAGE_OVERHEAD + body.len();
        out.reserve(frame::header_len(len) + len);
        frame::encode_header(out, len, false, false);
        out.put_slice(NAME);
        out.put_u64(short);
        let boxed = out.len();
        out.put_bytes(0, MAC_LEN);
        out.put_u8(flags);
        out.put_slice(body);
        let n = nonce(self.send_prefix, &short.to_be_bytes());
        self.key.seal_in_place(&n, &mut out[boxed..]);
    }

    /// Opens a MESSAGE (a whole frame body) into the frame it carries.
    pub(crate) fn open(&mut self, body: &[u8]) -> Result<Frame, ZmtpError> {
        if !body.starts_with(NAME) {
            let received = match body.split_first() {
                Some((&len, rest)) if usize::from(len) <= rest.len() => {
                    String::from_utf8_lossy(&rest[..usize::from(len)]).into()
                }
                _ => "unnamed data".into(),
            };
            return Err(ZmtpError::UnexpectedCommand {
                expected: "MESSAGE (CURVE encrypts everything after the handshake)",
                received,
            });
        }
        if body.len() < MESSAGE_OVERHEAD {
            return Err(ZmtpError::MalformedCommand {
                command: "MESSAGE".into(),
                reason: "shorter than 33 bytes",
            });
        }
        let short = short_nonce(&body[8..16]);
        if short <= self.peer_nonce {
            return Err(ZmtpError::CurveNonceReused {
                nonce: short,
                previous: self.peer_nonce,
            });
        }
        let mut buf = body[16..].to_vec();
        let n = nonce(self.recv_prefix, &short.to_be_bytes());
        self.key
            .open_in_place(&n, &mut buf)
            .map_err(|_| ZmtpError::CurveBoxRejected(CurveBox::Message))?;
        // Only a box that opened moves the sequence on.
        self.peer_nonce = short;
        let flags = buf[MAC_LEN];
        let more = flags & INNER_MORE != 0;
        let command = flags & INNER_COMMAND != 0;
        if more && command {
            return Err(ZmtpError::CommandWithMore);
        }
        Ok(Frame {
            more,
            command,
            body: Bytes::from(buf).slice(MAC_LEN + 1..),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameDecoder;
    use crate::mechanism::curve::keys::CurveSecretKey;

    fn pair() -> (MessageCipher, MessageCipher) {
        let c = CurveSecretKey::from_bytes([1; 32]);
        let s = CurveSecretKey::from_bytes([2; 32]);
        let client = MessageCipher::new(BoxKey::new(&s.public_key(), &c), false, 3, 1);
        let server = MessageCipher::new(BoxKey::new(&c.public_key(), &s), true, 2, 2);
        (client, server)
    }

    fn one_frame(wire: &mut BytesMut) -> Bytes {
        let f = FrameDecoder::new(None).decode(wire).unwrap().unwrap();
        assert!(
            !f.command && !f.more,
            "MESSAGE travels in a plain data frame"
        );
        f.body
    }

    #[test]
    fn layout_and_round_trip() {
        let (mut client, mut server) = pair();
        let mut wire = BytesMut::new();
        client.seal(true, false, b"hello", &mut wire);
        client.seal(false, true, b"\x04PING\x00\x00", &mut wire);
        let first = one_frame(&mut wire);
        assert_eq!(first.len(), MESSAGE_OVERHEAD + 5);
        assert_eq!(&first[..8], b"\x07MESSAGE");
        assert_eq!(&first[8..16], &3u64.to_be_bytes());
        let f = server.open(&first).unwrap();
        assert!(f.more && !f.command);
        assert_eq!(&f.body[..], b"hello");
        let f = server.open(&one_frame(&mut wire)).unwrap();
        assert!(!f.more && f.command);
        assert_eq!(&f.body[..], b"\x04PING\x00\x00");
        // The other direction uses the other prefix: a client cannot read its own.
        let mut wire = BytesMut::new();
        client.seal(false, false, b"x", &mut wire);
        let own = one_frame(&mut wire);
        assert!(matches!(
            client.open(&own),
            Err(ZmtpError::CurveBoxRejected(CurveBox::Message))
        ));
    }

    #[test]
    fn replay_reorder_tamper_and_garbage() {
        let (mut client, mut server) = pair();
        let mut wire = BytesMut::new();
        for body in [&b"a"[..], b"b", b"c"] {
            client.seal(false, false, body, &mut wire);
        }
        let (a, b, c) = (
            one_frame(&mut wire),
            one_frame(&mut wire),
            one_frame(&mut wire),
        );
        assert!(server.open(&b).is_ok());
        assert_eq!(
            server.open(&a),
            Err(ZmtpError::CurveNonceReused {
                nonce: 3,
                previous: 4
            })
        );
        assert!(matches!(
            server.open(&b),
            Err(ZmtpError::CurveNonceReused { .. })
        ));
        let mut bad = c.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(
            server.open(&bad),
            Err(ZmtpError::CurveBoxRejected(CurveBox::Message))
        );
        // The failed box did not move the sequence: the genuine one still opens.
        assert!(server.open(&c).is_ok());
        assert!(matches!(
            server.open(b"\x07MESSAGE"),
            Err(ZmtpError::MalformedCommand { .. })
        ));
        assert!(matches!(
            server.open(b"\x04PING\x00\x00"),
            Err(ZmtpError::UnexpectedCommand { .. })
        ));
        assert!(server.open(b"").is_err());
    }
}
