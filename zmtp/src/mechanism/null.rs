//! The NULL mechanism (RFC 37): each side sends READY with its properties at
//! once. With authentication on (libzmq: a ZAP domain is set), a side asks its
//! caller about the peer before it sends READY.

use bytes::{Bytes, BytesMut};

use super::{Local, Machine, Status, encode_ready, unexpected};
use crate::auth::{AuthRequest, Credentials};
use crate::error::ZmtpError;
use crate::mechanism_name::Mechanism;
use crate::metadata::Metadata;

/// Our side of a NULL handshake.
#[derive(Debug, Default)]
pub(crate) struct Null {
    ready_sent: bool,
}

impl Null {
    fn send_ready(&mut self, local: &Local<'_>, out: &mut BytesMut) -> Status {
        encode_ready(local.metadata(), out);
        self.ready_sent = true;
        Status::Continue
    }
}

impl Machine for Null {
    fn start(&mut self, local: &Local<'_>, out: &mut BytesMut) -> Result<Status, ZmtpError> {
        if local.authenticate {
            return Ok(Status::Authenticate(AuthRequest {
                mechanism: Mechanism::Null,
                credentials: Credentials::Null,
                peer_routing_id: None,
            }));
        }
        Ok(self.send_ready(local, out))
    }

    fn on_command(
        &mut self,
        local: &Local<'_>,
        name: &[u8],
        data: Bytes,
        _out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        if name != b"READY" || !self.ready_sent {
            return Err(unexpected("READY", name));
        }
        let peer = local.check_peer(Metadata::decode(data)?)?;
        Ok(Status::Done(peer))
    }

    fn on_authenticated(
        &mut self,
        local: &Local<'_>,
        out: &mut BytesMut,
    ) -> Result<Status, ZmtpError> {
        Ok(self.send_ready(local, out))
    }
}
