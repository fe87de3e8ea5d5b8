//! The PLAIN mechanism (RFC 24): the client sends HELLO with a user name and a
//! password in clear text; the server answers WELCOME (after its caller allowed
//! the credentials, when authentication is on); the client sends INITIATE with
//! its properties and the server answers READY with its own.
//!
//! HELLO: name `HELLO`, username length (1), username, password length (1),
//! password, nothing after. WELCOME has no data. INITIATE and READY carry
//! metadata as NULL's READY does.

use bytes::{Buf, Bytes, BytesMut};

use super::{Local, Machine, PlainCredentials, Status, encode_ready, malformed, unexpected};
use crate::auth::{AuthRequest, Credentials, SecretBytes};
use crate::command::encode_raw;
use crate::error::ZmtpError;
use crate::mechanism_name::Mechanism;
use crate::metadata::Metadata;

/// The reason of the ERROR a libzmq PLAIN server sends, which every libzmq
/// release so far writes wrongly: its source spells the name `"\x05ERROR"`,
/// where C reads the hex escape as `\x5E`, so the body is `^RROR`, the reason's
/// length byte and the reason (the ZAP status code), with no valid name length.
/// `None` for anything else.
pub(crate) fn libzmq_error_reason(body: &[u8]) -> Option<String> {
    let rest = body.strip_prefix(b"\x5eRROR")?;
    let (&len, reason) = rest.split_first()?;
    let reason = reason.get(..usize::from(len))?;
    Some(String::from_utf8_lossy(reason).into_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    Start,
    ExpectWelcome,
    ExpectReady,
}

/// The PLAIN client.
#[derive(Debug)]
pub(crate) struct Client {
    credentials: PlainCredentials,
    state: ClientState,
}

impl Client {
    pub(crate) fn new(credentials: PlainCredentials) -> Client {
        Client {
            credentials,
            state: ClientState::Start,
        }
    }
}

impl Machine for Client {
    fn start(&mut self, _local: &Local<'_>, out: &mut BytesMut) -> Result<Status, ZmtpError> {
        let user = self.credentials.username();
        let pass = self.credentials.password().expose();
        // Lengths were checked by PlainCredentials::new (at most 255 each).
        encode_raw(
            out,
            b"HELLO",
            &[&[user.len() as u8], user, &[pass.len() as u8], pass],
        );
        self.state = ClientState::ExpectWelcome;
        Ok(Status::Continue)
    }

    fn on_command(
        &mut self,
        local: &Local<'_>,
        name: &[u8],
        data: Bytes,
        out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        match (self.state, name) {
            (ClientState::ExpectWelcome, b"WELCOME") => {
                if !data.is_empty() {
                    return Err(malformed("WELCOME", "PLAIN WELCOME carries no data"));
                }
                let m = local.metadata();
                let mut body = BytesMut::with_capacity(m.encoded_len());
                m.encode(&mut body);
                encode_raw(out, b"INITIATE", &[&body]);
                self.state = ClientState::ExpectReady;
                Ok(Status::Continue)
            }
            (ClientState::ExpectReady, b"READY") => {
                Ok(Status::Done(local.check_peer(Metadata::decode(data)?)?))
            }
            (ClientState::ExpectWelcome, _) => Err(unexpected("WELCOME", name)),
            _ => Err(unexpected("READY", name)),
        }
    }

    fn on_authenticated(
        &mut self,
        _local: &Local<'_>,
        _out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        Err(ZmtpError::NoAuthenticationPending)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ServerState {
    #[default]
    ExpectHello,
    Authenticating,
    ExpectInitiate,
}

/// The PLAIN server.
#[derive(Debug, Default)]
pub(crate) struct Server {
    state: ServerState,
}

/// Reads a HELLO's data: the user name and the password, nothing after.
fn parse_hello(mut data: Bytes) -> Result<(Bytes, SecretBytes), ZmtpError> {
    let mut field = |what: &'static str| -> Result<Bytes, ZmtpError> {
        let Some(&len) = data.first() else {
            return Err(malformed("HELLO", what));
        };
        let len = usize::from(len);
        if data.len() < 1 + len {
            return Err(malformed("HELLO", what));
        }
        data.advance(1);
        Ok(data.split_to(len))
    };
    let username = field("user name missing or truncated")?;
    let password = field("password missing or truncated")?;
    let password = SecretBytes::new(password.to_vec());
    if !data.is_empty() {
        return Err(malformed("HELLO", "bytes after the password"));
    }
    Ok((username, password))
}

impl Server {
    fn welcome(&mut self, out: &mut BytesMut) -> Status {
        encode_raw(out, b"WELCOME", &[]);
        self.state = ServerState::ExpectInitiate;
        Status::Continue
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
        match (self.state, name) {
            (ServerState::ExpectHello, b"HELLO") => {
                let (username, password) = parse_hello(data)?;
                if !local.authenticate {
                    return Ok(self.welcome(out));
                }
                self.state = ServerState::Authenticating;
                Ok(Status::Authenticate(AuthRequest {
                    mechanism: Mechanism::Plain,
                    credentials: Credentials::Plain { username, password },
                    peer_routing_id: None,
                }))
            }
            (ServerState::ExpectInitiate, b"INITIATE") => {
                let peer = local.check_peer(Metadata::decode(data)?)?;
                encode_ready(local.metadata(), out);
                Ok(Status::Done(peer))
            }
            (ServerState::ExpectHello, _) => Err(unexpected("HELLO", name)),
            _ => Err(unexpected("INITIATE", name)),
        }
    }

    fn on_authenticated(
        &mut self,
        _local: &Local<'_>,
        out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        if self.state != ServerState::Authenticating {
            return Err(ZmtpError::NoAuthenticationPending);
        }
        Ok(self.welcome(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libzmq_plain_error_is_understood() {
        // What libzmq 4.3.5's PLAIN server sends after a ZAP 400.
        let body = [0x5e, b'R', b'R', b'O', b'R', 3, b'4', b'0', b'0'];
        assert_eq!(libzmq_error_reason(&body).as_deref(), Some("400"));
        assert_eq!(libzmq_error_reason(b"\x05ERROR\x03400"), None);
        assert_eq!(libzmq_error_reason(&body[..7]), None);
    }

    #[test]
    fn hello_layout_is_exact() {
        let (u, p) = parse_hello(Bytes::from_static(b"\x05admin\x06secret")).unwrap();
        assert_eq!(&u[..], b"admin");
        assert_eq!(p.expose(), b"secret");
        let (u, p) = parse_hello(Bytes::from_static(b"\x00\x00")).unwrap();
        assert!(u.is_empty() && p.is_empty());
        for bad in [
            &b""[..],
            b"\x05adm",
            b"\x05admin",
            b"\x05admin\x06sec",
            b"\x05admin\x06secretX",
        ] {
            assert!(parse_hello(Bytes::copy_from_slice(bad)).is_err(), "{bad:?}");
        }
    }
}
