//! The authentication step (ZAP, RFC 27) as the session sees it: a request the
//! session hands to its caller, and the answer the caller hands back.
//!
//! The session never decides who may connect. When a server (or a NULL socket
//! with authentication on) has the peer's credentials, it pauses and returns
//! [`Event::Authenticate`](crate::session::Event::Authenticate) with an
//! [`AuthRequest`]; the caller asks its ZAP handler (or any policy) and resumes
//! the session with [`Session::authenticated`](crate::Session::authenticated)
//! and an [`AuthResult`]. On [`ZapStatus::Success`] the handshake goes on; on any
//! other status the peer is told the status code in an ERROR command (except
//! for 300, where the connection closes without a word, as libzmq does) and the
//! session ends with [`ZmtpError::AuthenticationFailed`](crate::ZmtpError).

use std::fmt;

use bytes::Bytes;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::mechanism::curve::CurvePublicKey;
use crate::mechanism_name::Mechanism;
use crate::metadata::Metadata;

pub use crate::zap_status::ZapStatus;

/// Bytes that must not linger in memory or show up in logs (a PLAIN password):
/// wiped on drop, printed as `<redacted>`, compared in constant time.
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps the bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes.into()))
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &SecretBytes) -> bool {
        // Lengths are not secret; the contents are compared without early exit.
        self.0.len() == other.0.len() && bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What the peer presented, by mechanism.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// NULL: nothing (the ZAP request carries no credential frames).
    Null,
    /// PLAIN: the HELLO's user name and password.
    Plain {
        /// The user name (0-255 bytes).
        username: Bytes,
        /// The password (0-255 bytes).
        password: SecretBytes,
    },
    /// CURVE: the client's long-term public key, proven by its vouch.
    Curve {
        /// The client's long-term public key (C).
        client_public_key: CurvePublicKey,
    },
}

/// A paused handshake's question to the caller: may this peer connect?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    /// The mechanism in use (the ZAP request's mechanism frame).
    pub mechanism: Mechanism,
    /// The peer's credentials.
    pub credentials: Credentials,
    /// The peer's routing id when the handshake already knows it (CURVE sends
    /// its metadata with the credentials; PLAIN and NULL ask before it).
    pub peer_routing_id: Option<Bytes>,
}

/// The caller's answer to an [`AuthRequest`] (a ZAP reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    /// 200 lets the peer in; anything else refuses it.
    pub status: ZapStatus,
    /// The user id the authenticator assigned (ZAP's user id; empty: none).
    pub user_id: Bytes,
    /// The ZAP reply's metadata, kept for the application in
    /// [`PeerInfo::zap_metadata`](crate::PeerInfo::zap_metadata).
    pub metadata: Metadata,
}

impl AuthResult {
    /// 200, with a user id and no metadata.
    pub fn allow(user_id: impl Into<Bytes>) -> AuthResult {
        AuthResult {
            status: ZapStatus::Success,
            user_id: user_id.into(),
            metadata: Metadata::new(),
        }
    }

    /// A refusal with the given status (use [`ZapStatus::Failure`] for bad
    /// credentials).
    pub fn deny(status: ZapStatus) -> AuthResult {
        AuthResult {
            status,
            user_id: Bytes::new(),
            metadata: Metadata::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes() {
        for s in [
            ZapStatus::Success,
            ZapStatus::TemporaryError,
            ZapStatus::Failure,
            ZapStatus::InternalError,
        ] {
            assert_eq!(ZapStatus::from_code(s.code()), Some(s));
            assert_eq!(s.as_reason(), s.code().to_string());
        }
        assert_eq!(ZapStatus::from_code(404), None);
        assert_eq!(
            ZapStatus::from_error_reason("400"),
            Some(ZapStatus::Failure)
        );
        assert_eq!(ZapStatus::from_error_reason("200"), None);
        assert_eq!(ZapStatus::from_error_reason("+40"), None);
        assert_eq!(ZapStatus::from_error_reason("4000"), None);
    }

    #[test]
    fn secrets_are_not_printed() {
        let c = Credentials::Plain {
            username: Bytes::from_static(b"admin"),
            password: SecretBytes::new(b"hunter2".to_vec()),
        };
        let text = format!("{c:?}");
        assert!(
            text.contains("admin") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
