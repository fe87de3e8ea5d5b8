//! [`PeerProperties`]: what a socket knows about a peer it authenticated — the
//! user id and metadata its authenticator gave it, its address, its
//! credentials' public part — handed to the application with that peer's
//! messages by `recv_with_peer()` (libzmq's `zmq_msg_gets`).

use std::net::IpAddr;

use bytes::Bytes;
use zeroring_zmtp::{Credentials, CurvePublicKey, Mechanism, Metadata, PeerInfo, SocketType};

/// A peer as its socket authenticated it, shared by all its messages.
///
/// Messages carry no properties themselves (a `Message` is frames only, kept
/// small for every path); a receive that wants them asks with
/// `recv_with_peer()` on any receiving socket (native or thread-safe), which
/// returns the sender's properties with the message.
///
/// Properties exist for connections this socket authenticated: as the PLAIN
/// or CURVE server, or with NULL when a ZAP_DOMAIN and an authenticator are
/// set. Other connections (a client's, `inproc://`, NULL without ZAP) have
/// none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerProperties {
    mechanism: Mechanism,
    address: Option<IpAddr>,
    socket_type: SocketType,
    routing_id: Option<Bytes>,
    user_id: Option<Bytes>,
    plain_username: Option<Bytes>,
    curve_public_key: Option<CurvePublicKey>,
    zap_metadata: Metadata,
    metadata: Metadata,
}

impl PeerProperties {
    /// The properties of a peer whose handshake ended with `info`, after
    /// presenting `credentials`.
    pub(crate) fn new(
        mechanism: Mechanism,
        address: Option<IpAddr>,
        info: &PeerInfo,
        credentials: &Credentials,
    ) -> PeerProperties {
        let (plain_username, curve_public_key) = match credentials {
            Credentials::Null => (None, None),
            Credentials::Plain { username, .. } => (Some(username.clone()), None),
            Credentials::Curve { client_public_key } => (None, Some(*client_public_key)),
        };
        PeerProperties {
            mechanism,
            address,
            socket_type: info.socket_type,
            routing_id: info.routing_id.clone(),
            user_id: info.user_id.clone(),
            plain_username,
            curve_public_key,
            zap_metadata: info.zap_metadata.clone(),
            metadata: info.metadata.clone(),
        }
    }

    /// The security mechanism of the connection.
    pub fn mechanism(&self) -> Mechanism {
        self.mechanism
    }

    /// The peer's IP address (`None` over `ipc://`): libzmq's `Peer-Address`.
    pub fn address(&self) -> Option<IpAddr> {
        self.address
    }

    /// The peer's socket type.
    pub fn socket_type(&self) -> SocketType {
        self.socket_type
    }

    /// The routing id the peer sent (`Identity`), if any.
    pub fn routing_id(&self) -> Option<&Bytes> {
        self.routing_id.as_ref()
    }

    /// The user id the authenticator gave the peer (`None`: none given, or no
    /// authenticator ran, as for a CURVE server without one): libzmq's
    /// `User-Id`. The built-in checks of [`Authenticator`](crate::Authenticator)
    /// give the PLAIN user name, or the CURVE key in Z85.
    pub fn user_id(&self) -> Option<&Bytes> {
        self.user_id.as_ref()
    }

    /// The PLAIN user name the peer logged in with.
    pub fn plain_username(&self) -> Option<&Bytes> {
        self.plain_username.as_ref()
    }

    /// The CURVE client's long-term public key.
    pub fn curve_public_key(&self) -> Option<&CurvePublicKey> {
        self.curve_public_key.as_ref()
    }

    /// The metadata of the authenticator's reply (ZAP metadata).
    pub fn zap_metadata(&self) -> &Metadata {
        &self.zap_metadata
    }

    /// The properties the peer sent in its handshake (READY or INITIATE):
    /// `Socket-Type`, `Identity`, and any others.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// A property by name, as libzmq's `zmq_msg_gets` looks it up (names are
    /// case-insensitive): `User-Id`, `Peer-Address`, `Socket-Type`,
    /// `Routing-Id`, then the ZAP metadata, then the handshake's properties.
    ///
    /// ```
    /// # fn show(p: &zeroring_sockets::PeerProperties) {
    /// if let Some(user) = p.get("User-Id") {
    ///     println!("from {}", String::from_utf8_lossy(&user));
    /// }
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Option<Bytes> {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("User-Id") {
            return self.user_id.clone();
        }
        if is("Peer-Address") {
            return self.address.map(|a| Bytes::from(a.to_string()));
        }
        if is("Socket-Type") {
            return Some(Bytes::from_static(self.socket_type.as_str().as_bytes()));
        }
        if is("Routing-Id") {
            return self.routing_id.clone();
        }
        self.zap_metadata
            .get(name)
            .or_else(|| self.metadata.get(name))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroring_zmtp::{SecretBytes, Version};

    #[test]
    fn lookups_follow_zmq_msg_gets() {
        let mut metadata = Metadata::new();
        metadata.insert("Socket-Type", "DEALER");
        metadata.insert("X-Client", "v2");
        let mut zap = Metadata::new();
        zap.insert("Department", "ops");
        let info = PeerInfo {
            version: Version::V3_1,
            socket_type: SocketType::Dealer,
            routing_id: Some(Bytes::from_static(b"w1")),
            metadata,
            user_id: Some(Bytes::from_static(b"alice")),
            zap_metadata: zap,
        };
        let p = PeerProperties::new(
            Mechanism::Plain,
            Some("10.0.0.7".parse().unwrap()),
            &info,
            &Credentials::Plain {
                username: Bytes::from_static(b"alice"),
                password: SecretBytes::new("pw"),
            },
        );
        assert_eq!(p.get("user-id").unwrap(), "alice");
        assert_eq!(p.get("Peer-Address").unwrap(), "10.0.0.7");
        assert_eq!(p.get("Socket-Type").unwrap(), "DEALER");
        assert_eq!(p.get("Routing-Id").unwrap(), "w1");
        assert_eq!(p.get("department").unwrap(), "ops");
        assert_eq!(p.get("X-Client").unwrap(), "v2");
        assert!(p.get("missing").is_none());
        assert_eq!(p.plain_username().unwrap(), "alice");
        assert!(p.curve_public_key().is_none());
        assert!(!format!("{p:?}").contains("pw"));
    }
}
