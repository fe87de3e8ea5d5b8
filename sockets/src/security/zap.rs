//! The question and the answer of one authentication, with the fields of a ZAP
//! request and reply (RFC 27): [`ZapRequest`] is what an [`Authenticator`]'s
//! handler is asked, [`ZapReply`] what it answers.
//!
//! libzmq carries these as multipart messages over `inproc://zeromq.zap.01`;
//! zeroring asks its authenticator directly, with the same fields typed.
//!
//! [`Authenticator`]: super::Authenticator

use std::net::IpAddr;

use bytes::Bytes;
use zeroring_zmtp::{Credentials, Mechanism, Metadata, ZapStatus};

/// The ZAP version zeroring speaks (RFC 27's only one).
pub const ZAP_VERSION: &str = "1.0";

/// One authentication request (RFC 27's ZAP request): who connects, through
/// which mechanism, with which credentials.
///
/// ```
/// use zeroring_sockets::{Credentials, Mechanism, ZapRequest};
/// let request = ZapRequest::new(Mechanism::Null, Credentials::Null);
/// assert_eq!(request.version(), "1.0");
/// assert!(request.address.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZapRequest {
    /// A number for this request, unique per authenticator (RFC 27's request
    /// id, sent back in the reply by libzmq's handlers).
    pub request_id: u64,
    /// The server socket's ZAP_DOMAIN (empty when none is set).
    pub domain: String,
    /// The peer's IP address (`None` for `ipc://` peers, whose ZAP address
    /// libzmq leaves empty).
    pub address: Option<IpAddr>,
    /// RFC 27's identity: the server socket's own ZMQ_ROUTING_ID, as libzmq
    /// sends it (empty when none is set). The peer's routing id, when known,
    /// is [`ZapRequest::peer_routing_id`].
    pub identity: Bytes,
    /// The security mechanism of the connection.
    pub mechanism: Mechanism,
    /// What the peer presented: nothing (NULL), a user name and password
    /// (PLAIN), its long-term public key (CURVE).
    pub credentials: Credentials,
    /// The peer's routing id, when the handshake knows it by now (CURVE sends
    /// it with the credentials; PLAIN and NULL ask before it arrives).
    pub peer_routing_id: Option<Bytes>,
}

impl ZapRequest {
    /// A request with the given mechanism and credentials; the other fields
    /// empty (for testing a handler).
    pub fn new(mechanism: Mechanism, credentials: Credentials) -> ZapRequest {
        ZapRequest {
            request_id: 0,
            domain: String::new(),
            address: None,
            identity: Bytes::new(),
            mechanism,
            credentials,
            peer_routing_id: None,
        }
    }

    /// The ZAP version of the request: always `"1.0"`.
    pub fn version(&self) -> &'static str {
        ZAP_VERSION
    }
}

/// The answer to a [`ZapRequest`] (RFC 27's ZAP reply).
///
/// ```
/// use zeroring_sockets::{ZapReply, ZapStatus};
/// let ok = ZapReply::allow("alice").with_metadata("Department", "ops");
/// assert_eq!(ok.status, ZapStatus::Success);
/// assert_eq!(ok.metadata.get("department").unwrap().as_ref(), b"ops");
/// let no = ZapReply::deny("unknown key");
/// assert_eq!(no.status.code(), 400);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZapReply {
    /// 200 lets the peer in; 300 (temporary), 400 (refused) and 500 (internal
    /// error) refuse it. The peer is told the code in an ERROR command, except
    /// for 300, where the connection closes without a word (as libzmq does).
    pub status: ZapStatus,
    /// Why, for the monitor and the logs (never sent to the peer).
    pub status_text: String,
    /// The user id the peer goes by (empty: none). Applications see it with
    /// every message of that peer, in [`PeerProperties::user_id`].
    ///
    /// [`PeerProperties::user_id`]: super::PeerProperties::user_id
    pub user_id: Bytes,
    /// Properties for the application (ZAP metadata), seen with every message
    /// of that peer in [`PeerProperties::zap_metadata`].
    ///
    /// [`PeerProperties::zap_metadata`]: super::PeerProperties::zap_metadata
    pub metadata: Metadata,
}

impl ZapReply {
    /// 200 "OK" with a user id (empty for none).
    pub fn allow(user_id: impl Into<Bytes>) -> ZapReply {
        ZapReply::with_status(ZapStatus::Success, "OK", user_id.into())
    }

    /// 400: the credentials are refused.
    pub fn deny(text: impl Into<String>) -> ZapReply {
        ZapReply::with_status(ZapStatus::Failure, text, Bytes::new())
    }

    /// 300: a temporary failure; the connection closes without an ERROR and
    /// the peer tries again after its reconnect interval.
    pub fn temporary_error(text: impl Into<String>) -> ZapReply {
        ZapReply::with_status(ZapStatus::TemporaryError, text, Bytes::new())
    }

    /// 500: the authenticator itself failed.
    pub fn internal_error(text: impl Into<String>) -> ZapReply {
        ZapReply::with_status(ZapStatus::InternalError, text, Bytes::new())
    }

    fn with_status(status: ZapStatus, text: impl Into<String>, user_id: Bytes) -> ZapReply {
        ZapReply {
            status,
            status_text: text.into(),
            user_id,
            metadata: Metadata::new(),
        }
    }

    /// Adds a metadata property. A name ZMTP forbids (empty, over 255 bytes,
    /// characters other than `[A-Za-z0-9-_.+]`) is left out and logged.
    pub fn with_metadata(mut self, name: &str, value: impl Into<Bytes>) -> ZapReply {
        if let Err(e) = self.metadata.try_insert(name, value) {
            tracing::warn!(name, error = %e, "ZAP reply metadata property left out");
        }
        self
    }

    /// True for 200.
    pub fn is_allowed(&self) -> bool {
        self.status == ZapStatus::Success
    }
}
