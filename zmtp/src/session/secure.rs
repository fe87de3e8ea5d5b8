//! The security side of a session: the authentication pause (resuming a
//! handshake with the caller's [`AuthResult`]) and, after a CURVE handshake,
//! the sealed data phase (opening inbound MESSAGEs, sealing batches for the
//! flusher).

use bytes::BytesMut;

use super::{CloseReason, Phase, Session, Step};
use crate::auth::AuthResult;
use crate::error::ZmtpError;
use crate::frame::FrameDecoder;
use crate::mechanism::curve::MessageCipher;
use crate::mechanism::curve::message::MESSAGE_OVERHEAD;
use crate::message::Message;

impl Session {
    /// [`Session::drive`] after a CURVE handshake: every frame is a MESSAGE,
    /// opened (and its nonce checked) before the frame inside goes on.
    #[inline(never)]
    pub(super) fn drive_sealed<F>(
        &mut self,
        buf: &mut BytesMut,
        mut take: F,
    ) -> Result<Step, CloseReason>
    where
        F: FnMut(Message) -> Option<Message>,
    {
        loop {
            let Some(outer) = self.decoder.decode(buf)? else {
                return Ok(Step::NeedInput);
            };
            let Some(cipher) = self.cipher.as_deref_mut() else {
                return Err(ZmtpError::UnexpectedDuringHandshake("plain frame").into());
            };
            let frame = cipher.open(&outer.body)?;
            if frame.command && frame.body.len() as u64 > self.command_max {
                return Err(ZmtpError::TooLarge {
                    size: frame.body.len() as u64,
                    max: self.command_max,
                }
                .into());
            }
            if let Some(step) = self.on_frame(frame, &mut take)? {
                return Ok(step);
            }
        }
    }

    /// From now on frames travel in CURVE MESSAGEs: the decoder admits a
    /// MESSAGE around the largest command or message allowed.
    pub(super) fn start_encrypting(&mut self, cipher: MessageCipher) {
        let overhead = MESSAGE_OVERHEAD as u64;
        let data = self
            .max_size
            .map(|m| m.max(self.command_max).saturating_add(overhead));
        let command = Some(self.command_max.saturating_add(overhead));
        self.decoder = FrameDecoder::with_limits(data, command);
        self.cipher = Some(Box::new(cipher));
    }

    /// Resumes a handshake paused with [`Event::Authenticate`](super::Event::Authenticate). With
    /// [`ZapStatus::Success`](crate::ZapStatus) the handshake goes on: call
    /// [`Session::poll_transmit`] and [`Session::poll_input`] again (the latter
    /// even without new bytes: the handshake may be complete). With any other
    /// status the session ends with
    /// [`ZmtpError::AuthenticationFailed`](crate::ZmtpError): send what
    /// [`Session::poll_transmit`] holds (an ERROR with the status code, except
    /// for 300) and close.
    pub fn authenticated(&mut self, result: AuthResult) -> Result<(), CloseReason> {
        let Phase::Handshake(hs) = &mut self.phase else {
            return Err(ZmtpError::NoAuthenticationPending.into());
        };
        hs.authenticated(result, &mut self.transmit)
            .map_err(CloseReason::from)
    }

    /// True while the handshake waits for [`Session::authenticated`].
    pub fn awaiting_authentication(&self) -> bool {
        matches!(&self.phase, Phase::Handshake(hs) if hs.awaiting_authentication())
    }

    /// True after a CURVE handshake: everything sent must be sealed (see
    /// [`Session::seal`]).
    pub fn is_encrypting(&self) -> bool {
        self.cipher.is_some()
    }

    /// Appends a batch of plain encoded ZMTP frames (as the sockets' send path
    /// writes them: data frames and commands, whole or split anywhere) as one
    /// CURVE MESSAGE per frame. A frame that is not complete at the end of
    /// `plain` is held until a later call completes it. On a session that does
    /// not encrypt, `plain` is appended as it is.
    pub fn seal(&mut self, plain: &[u8], out: &mut BytesMut) {
        let Some(cipher) = self.cipher.as_deref_mut() else {
            out.extend_from_slice(plain);
            return;
        };
        self.sealing
            .feed(plain, |f| cipher.seal(f.more, f.command, f.body, out));
    }

    /// True when [`Session::seal`] holds part of a frame.
    pub fn seal_pending(&self) -> bool {
        !self.sealing.is_idle()
    }
}
