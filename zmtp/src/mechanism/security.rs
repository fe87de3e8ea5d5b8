//! What one side brings to the security handshake: its mechanism, its role, and
//! its credentials or keys.

use bytes::Bytes;

use super::curve::{CurveKeyPair, CurvePublicKey};
use crate::auth::SecretBytes;
use crate::error::ZmtpError;
use crate::mechanism_name::Mechanism;

/// A PLAIN client's user name and password (each at most 255 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainCredentials {
    username: Bytes,
    password: SecretBytes,
}

impl PlainCredentials {
    /// Checks the lengths (the HELLO command gives each one length byte).
    pub fn new(
        username: impl Into<Bytes>,
        password: impl Into<Vec<u8>>,
    ) -> Result<PlainCredentials, ZmtpError> {
        let username = username.into();
        let password = SecretBytes::new(password);
        if username.len() > 255 {
            return Err(ZmtpError::InvalidPlainCredentials(
                "the user name is longer than 255 bytes",
            ));
        }
        if password.len() > 255 {
            return Err(ZmtpError::InvalidPlainCredentials(
                "the password is longer than 255 bytes",
            ));
        }
        Ok(PlainCredentials { username, password })
    }

    /// The user name.
    pub fn username(&self) -> &Bytes {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &SecretBytes {
        &self.password
    }
}

/// The security mechanism of one side and its settings.
///
/// The server side of PLAIN and CURVE sets the greeting's as-server flag; the
/// other side must be the matching client. NULL has no roles.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Security {
    /// No security (the default).
    #[default]
    Null,
    /// PLAIN client: sends a user name and password in clear text.
    PlainClient(PlainCredentials),
    /// PLAIN server: receives credentials; whether they are accepted is the
    /// caller's decision (see [`SessionConfig::authenticate`](crate::SessionConfig)).
    PlainServer,
    /// CURVE client: our long-term key pair and the server's long-term public key.
    CurveClient {
        /// Our long-term key pair (C, c).
        keys: CurveKeyPair,
        /// The server's long-term public key (S).
        server_key: CurvePublicKey,
    },
    /// CURVE server: our long-term key pair.
    CurveServer {
        /// Our long-term key pair (S, s).
        keys: CurveKeyPair,
    },
}

impl Security {
    /// A PLAIN client with these credentials.
    pub fn plain_client(
        username: impl Into<Bytes>,
        password: impl Into<Vec<u8>>,
    ) -> Result<Security, ZmtpError> {
        PlainCredentials::new(username, password).map(Security::PlainClient)
    }

    /// The mechanism named in our greeting.
    pub fn mechanism(&self) -> Mechanism {
        match self {
            Security::Null => Mechanism::Null,
            Security::PlainClient(_) | Security::PlainServer => Mechanism::Plain,
            Security::CurveClient { .. } | Security::CurveServer { .. } => Mechanism::Curve,
        }
    }

    /// The greeting's as-server flag.
    pub fn is_server(&self) -> bool {
        matches!(self, Security::PlainServer | Security::CurveServer { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lengths_are_checked() {
        assert!(Security::plain_client("admin", "secret").is_ok());
        assert!(Security::plain_client(vec![b'u'; 256], "x").is_err());
        assert!(Security::plain_client("u", vec![b'p'; 256]).is_err());
        assert!(Security::plain_client(vec![b'u'; 255], vec![b'p'; 255]).is_ok());
    }

    #[test]
    fn roles_and_names() {
        assert_eq!(Security::default().mechanism(), Mechanism::Null);
        assert!(!Security::Null.is_server());
        assert!(Security::PlainServer.is_server());
        let c = Security::plain_client("a", "b").unwrap();
        assert!(!c.is_server());
        assert_eq!(c.mechanism(), Mechanism::Plain);
    }
}
