//! ZMTP commands: READY, ERROR, SUBSCRIBE, CANCEL, PING and PONG.
//!
//! A command frame's body is `name length (1) | name | data`. Names are compared
//! exactly, as libzmq does. Unknown commands are returned as [`Command::Unknown`] so
//! the engine can decide to ignore them.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::ZmtpError;
use crate::frame;
use crate::metadata::Metadata;

/// Largest PING context a peer may send; longer contexts are truncated, like libzmq.
pub const MAX_PING_CONTEXT: usize = 16;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// NULL mechanism READY with the sender's properties.
    Ready(Metadata),
    /// Fatal error with a reason (at most 255 bytes).
    Error(String),
    /// ZMTP 3.1 subscription to a topic prefix.
    Subscribe(Bytes),
    /// ZMTP 3.1 cancellation of a subscription.
    Cancel(Bytes),
    /// Heartbeat request: time-to-live in tenths of a second and a context to echo.
    Ping {
        /// TTL in deciseconds (0: none).
        ttl_deciseconds: u16,
        /// Opaque context, echoed in PONG.
        context: Bytes,
    },
    /// Heartbeat reply carrying the PING's context.
    Pong(Bytes),
    /// A command zeroring does not know.
    Unknown {
        /// The command name.
        name: Bytes,
        /// The command data.
        data: Bytes,
    },
}

fn malformed(name: &[u8], reason: &'static str) -> ZmtpError {
    ZmtpError::MalformedCommand {
        command: String::from_utf8_lossy(name).into_owned(),
        reason,
    }
}

impl Command {
    /// The command's wire name.
    pub fn name(&self) -> &[u8] {
        match self {
            Command::Ready(_) => b"READY",
            Command::Error(_) => b"ERROR",
            Command::Subscribe(_) => b"SUBSCRIBE",
            Command::Cancel(_) => b"CANCEL",
            Command::Ping { .. } => b"PING",
            Command::Pong(_) => b"PONG",
            Command::Unknown { name, .. } => name,
        }
    }

    /// Parses a command frame body.
    pub fn parse(mut body: Bytes) -> Result<Command, ZmtpError> {
        if body.is_empty() {
            return Err(malformed(b"unnamed", "empty command frame"));
        }
        let name_len = usize::from(body.get_u8());
        if name_len == 0 || body.len() < name_len {
            return Err(malformed(b"unnamed", "command name truncated or empty"));
        }
        let name = body.split_to(name_len);
        let mut data = body;
        Ok(match &name[..] {
            b"READY" => Command::Ready(Metadata::decode(data)?),
            b"ERROR" => {
                let Some(&len) = data.first() else {
                    return Err(malformed(&name, "reason length missing"));
                };
                let len = usize::from(len);
                if data.len() != 1 + len {
                    return Err(malformed(&name, "reason length does not match the frame"));
                }
                // Invalid UTF-8 grows when replaced (1 byte -> 3), so cut the lossy
                // text back to 255 bytes: the reason must re-encode unchanged.
                let reason = String::from_utf8_lossy(&data[1..]);
                Command::Error(truncate_utf8(&reason, 255).to_owned())
            }
            b"SUBSCRIBE" => Command::Subscribe(data),
            b"CANCEL" => Command::Cancel(data),
            b"PING" => {
                if data.len() < 2 {
                    return Err(malformed(&name, "TTL missing"));
                }
                let ttl_deciseconds = data.get_u16();
                data.truncate(MAX_PING_CONTEXT);
                Command::Ping {
                    ttl_deciseconds,
                    context: data,
                }
            }
            b"PONG" => {
                data.truncate(MAX_PING_CONTEXT);
                Command::Pong(data)
            }
            _ => Command::Unknown { name, data },
        })
    }

    fn data_len(&self) -> usize {
        match self {
            Command::Ready(m) => m.encoded_len(),
            Command::Error(r) => 1 + truncate_utf8(r, 255).len(),
            Command::Subscribe(t) | Command::Cancel(t) => t.len(),
            Command::Ping { context, .. } => 2 + context.len(),
            Command::Pong(c) => c.len(),
            Command::Unknown { data, .. } => data.len(),
        }
    }

    /// Appends the whole command frame (header and body).
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use zeroring_zmtp::Command;
    /// let mut out = BytesMut::new();
    /// Command::Subscribe(Bytes::from_static(b"A")).encode(&mut out);
    /// assert_eq!(&out[..], b"\x04\x0b\x09SUBSCRIBEA");
    /// ```
    pub fn encode(&self, out: &mut BytesMut) {
        let body_len = self.body_len();
        out.reserve(frame::header_len(body_len) + body_len);
        frame::encode_header(out, body_len, false, true);
        self.encode_body(out);
    }

    /// Length of the command frame's body (name length, name, data).
    pub(crate) fn body_len(&self) -> usize {
        1 + self.name().len() + self.data_len()
    }

    /// Appends the command frame's body without the frame header (what a CURVE
    /// MESSAGE carries).
    pub(crate) fn encode_body(&self, out: &mut BytesMut) {
        let name = self.name();
        out.put_u8(name.len() as u8);
        out.put_slice(name);
        match self {
            Command::Ready(m) => m.encode(out),
            Command::Error(r) => {
                let r = truncate_utf8(r, 255);
                out.put_u8(r.len() as u8);
                out.put_slice(r.as_bytes());
            }
            Command::Subscribe(t) | Command::Cancel(t) => out.put_slice(t),
            Command::Ping {
                ttl_deciseconds,
                context,
            } => {
                out.put_u16(*ttl_deciseconds);
                out.put_slice(context);
            }
            Command::Pong(c) => out.put_slice(c),
            Command::Unknown { data, .. } => out.put_slice(data),
        }
    }
}

/// Appends a command frame named `name` whose data is `parts` one after another
/// (the security handshakes' HELLO, WELCOME, INITIATE, and boxed READY).
pub(crate) fn encode_raw(out: &mut BytesMut, name: &[u8], parts: &[&[u8]]) {
    let body_len = 1 + name.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    out.reserve(frame::header_len(body_len) + body_len);
    frame::encode_header(out, body_len, false, true);
    out.put_u8(name.len() as u8);
    out.put_slice(name);
    for p in parts {
        out.put_slice(p);
    }
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameDecoder;

    fn round_trip(c: Command) {
        let mut out = BytesMut::new();
        c.encode(&mut out);
        let f = FrameDecoder::new(None).decode(&mut out).unwrap().unwrap();
        assert!(f.command);
        assert!(out.is_empty());
        assert_eq!(Command::parse(f.body).unwrap(), c);
    }

    #[test]
    fn all_commands_round_trip() {
        let mut m = Metadata::new();
        m.insert("Socket-Type", "ROUTER");
        round_trip(Command::Ready(m));
        round_trip(Command::Error("bad things".into()));
        round_trip(Command::Subscribe(Bytes::from_static(b"topic")));
        round_trip(Command::Cancel(Bytes::new()));
        round_trip(Command::Ping {
            ttl_deciseconds: 300,
            context: Bytes::from_static(b"ctx"),
        });
        round_trip(Command::Pong(Bytes::from_static(b"ctx")));
        round_trip(Command::Unknown {
            name: Bytes::from_static(b"HELLO"),
            data: Bytes::from_static(b"x"),
        });
    }

    #[test]
    fn malformed_commands() {
        for body in [
            &b""[..],
            b"\x00",
            b"\x05REA",
            b"\x05ERROR",
            b"\x05ERROR\x05abc",
            b"\x04PING\x01",
            b"\x05READY\x0bSocket-Type\x00\x00",
        ] {
            assert!(
                Command::parse(Bytes::copy_from_slice(body)).is_err(),
                "{body:?}"
            );
        }
    }

    #[test]
    fn long_ping_context_truncated() {
        let mut body = b"\x04PING\x00\x0a".to_vec();
        body.extend_from_slice(&[9u8; 40]);
        let Command::Ping { context, .. } = Command::parse(Bytes::from(body)).unwrap() else {
            panic!("not a ping")
        };
        assert_eq!(context.len(), MAX_PING_CONTEXT);
    }

    #[test]
    fn long_error_reason_truncated_on_encode() {
        let mut out = BytesMut::new();
        Command::Error("é".repeat(200)).encode(&mut out);
        let f = FrameDecoder::new(None).decode(&mut out).unwrap().unwrap();
        let Command::Error(r) = Command::parse(f.body).unwrap() else {
            panic!()
        };
        assert!(r.len() <= 255);
    }
}
