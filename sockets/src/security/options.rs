//! The security options of [`SocketOptions`] (PLAIN_*, CURVE_*, ZAP_DOMAIN):
//! which mechanism and role they make, the checks made when they are set
//! (nothing contradictory) and when the socket binds or connects (nothing
//! missing), and the ZMTP [`Security`] a connection gets from them.
//!
//! As in libzmq, the options choose the mechanism: PLAIN_SERVER makes a PLAIN
//! server, PLAIN_USERNAME or PLAIN_PASSWORD a PLAIN client, CURVE_SERVER a
//! CURVE server, CURVE_SERVERKEY a CURVE client; nothing, NULL. Unlike libzmq,
//! where the option set last wins, options of two mechanisms or two roles are
//! refused when set, and a role without its keys is refused by bind and
//! connect, each with a message that says what to set.

use zeroring_zmtp::{CurveKeyPair, Mechanism, PlainCredentials, Security};

use crate::error::{Error, Result};
use crate::options::SocketOptions;

/// Largest ZAP_DOMAIN, as in libzmq.
const MAX_DOMAIN: usize = 255;

impl SocketOptions {
    fn has_plain(&self) -> bool {
        self.plain_server || self.plain_username.is_some() || self.plain_password.is_some()
    }

    fn has_curve(&self) -> bool {
        self.curve_server
            || self.curve_publickey.is_some()
            || self.curve_secretkey.is_some()
            || self.curve_serverkey.is_some()
    }

    /// The mechanism the security options choose.
    ///
    /// ```
    /// use zeroring_sockets::{Mechanism, SocketOptions};
    /// let mut o = SocketOptions::default();
    /// assert_eq!(o.mechanism(), Mechanism::Null);
    /// o.plain_server = true;
    /// assert_eq!(o.mechanism(), Mechanism::Plain);
    /// ```
    pub fn mechanism(&self) -> Mechanism {
        if self.has_plain() {
            Mechanism::Plain
        } else if self.has_curve() {
            Mechanism::Curve
        } else {
            Mechanism::Null
        }
    }

    /// True when the options make this socket the server of PLAIN or CURVE
    /// (the side that authenticates the other).
    pub fn is_security_server(&self) -> bool {
        self.plain_server || self.curve_server
    }

    /// The checks made whenever an option is set: no two mechanisms, no two
    /// roles, lengths within the wire's limits.
    pub(crate) fn validate_security(&self) -> Result<()> {
        if self.has_plain() && self.has_curve() {
            return Err(Error::Security(
                "both PLAIN and CURVE options are set; a socket uses one mechanism: \
                 clear the PLAIN_* or the CURVE_* options",
            ));
        }
        if self.plain_server && (self.plain_username.is_some() || self.plain_password.is_some()) {
            return Err(Error::Security(
                "PLAIN_SERVER is set together with PLAIN_USERNAME/PLAIN_PASSWORD: a socket is \
                 either the PLAIN server (it checks passwords, through its authenticator) or a \
                 PLAIN client (it sends them); set one or the other",
            ));
        }
        if self.curve_server && self.curve_serverkey.is_some() {
            return Err(Error::Security(
                "CURVE_SERVER is set together with CURVE_SERVERKEY: a CURVE server uses its own \
                 key pair (CURVE_PUBLICKEY/CURVE_SECRETKEY); CURVE_SERVERKEY is the server's \
                 public key for a client; set one or the other",
            ));
        }
        if self.plain_username.as_ref().is_some_and(|u| u.len() > 255) {
            return Err(Error::InvalidOption {
                option: "PLAIN_USERNAME",
                reason: "at most 255 bytes",
            });
        }
        if self.plain_password.as_ref().is_some_and(|p| p.len() > 255) {
            return Err(Error::InvalidOption {
                option: "PLAIN_PASSWORD",
                reason: "at most 255 bytes",
            });
        }
        if self
            .zap_domain
            .as_ref()
            .is_some_and(|d| d.len() > MAX_DOMAIN)
        {
            return Err(Error::InvalidOption {
                option: "ZAP_DOMAIN",
                reason: "at most 255 bytes",
            });
        }
        Ok(())
    }

    /// The security a connection gets from these options, or why they cannot
    /// work yet (a role without its keys). bind and connect refuse such
    /// options with this error.
    ///
    /// ```
    /// use zeroring_sockets::SocketOptions;
    /// let mut o = SocketOptions::default();
    /// let server = zeroring_sockets::curve_keypair().unwrap();
    /// o.curve_serverkey = Some(*server.public());
    /// let e = o.security().unwrap_err().to_string();
    /// assert!(e.contains("CURVE_PUBLICKEY"), "{e}");
    /// ```
    pub fn security(&self) -> Result<Security> {
        self.validate_security()?;
        match self.mechanism() {
            Mechanism::Null => Ok(Security::Null),
            Mechanism::Plain if self.plain_server => Ok(Security::PlainServer),
            Mechanism::Plain => {
                let username = self.plain_username.clone().unwrap_or_default();
                let password = self
                    .plain_password
                    .as_ref()
                    .map(|p| p.expose().to_vec())
                    .unwrap_or_default();
                PlainCredentials::new(username, password)
                    .map(Security::PlainClient)
                    .map_err(|_| {
                        Error::Security("PLAIN user name and password are at most 255 bytes each")
                    })
            }
            Mechanism::Curve => self.curve_security(),
        }
    }

    fn curve_security(&self) -> Result<Security> {
        if self.curve_server {
            let keys = self.curve_keys(
                "a CURVE server needs CURVE_SECRETKEY (its long-term secret key; \
                 CURVE_PUBLICKEY is derived from it): make a pair with \
                 zeroring::curve_keypair() and give clients the public half as \
                 their CURVE_SERVERKEY",
            )?;
            return Ok(Security::CurveServer { keys });
        }
        let Some(server_key) = self.curve_serverkey else {
            return Err(Error::Security(
                "CURVE_PUBLICKEY/CURVE_SECRETKEY are set but no role: set CURVE_SERVER for \
                 a CURVE server, or CURVE_SERVERKEY (the server's public key) for a client",
            ));
        };
        let keys = self.curve_keys(
            "a CURVE client needs its own long-term key pair besides CURVE_SERVERKEY: set \
             CURVE_PUBLICKEY and CURVE_SECRETKEY (zeroring::curve_keypair() makes one)",
        )?;
        Ok(Security::CurveClient { keys, server_key })
    }

    /// Our key pair: the secret key (required), checked against the public
    /// key when that is set too.
    fn curve_keys(&self, missing: &'static str) -> Result<CurveKeyPair> {
        let Some(secret) = self.curve_secretkey.clone() else {
            return Err(Error::Security(missing));
        };
        match self.curve_publickey {
            None => Ok(CurveKeyPair::from_secret(secret)),
            Some(public) => CurveKeyPair::new(public, secret).map_err(|_| {
                Error::Security(
                    "CURVE_PUBLICKEY is not the public key of CURVE_SECRETKEY: set the two \
                     halves of one key pair (or only CURVE_SECRETKEY; the public key is \
                     derived from it)",
                )
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use crate::security::keys::{domain, parse_public_key};
    use bytes::Bytes;
    use zeroring_zmtp::SecretBytes;

    fn pair() -> CurveKeyPair {
        zeroring_zmtp::curve_keypair().unwrap()
    }

    #[test]
    fn roles_and_mechanisms() {
        let mut o = SocketOptions::default();
        assert_eq!(o.security().unwrap(), Security::Null);
        o.plain_server = true;
        assert_eq!(o.security().unwrap(), Security::PlainServer);
        o.plain_server = false;
        o.plain_username = Some(Bytes::from_static(b"admin"));
        assert!(matches!(o.security().unwrap(), Security::PlainClient(_)));
        o.plain_password = Some(SecretBytes::new("x"));
        o.curve_server = true;
        assert!(o.validate_security().is_err(), "two mechanisms");
    }

    #[test]
    fn contradictions_are_refused_when_set() {
        let mut o = SocketOptions::default();
        o.plain_server = true;
        o.plain_username = Some(Bytes::from_static(b"u"));
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("PLAIN_SERVER")
        );
        let mut o = SocketOptions::default();
        o.curve_server = true;
        o.curve_serverkey = Some(*pair().public());
        assert!(
            o.validate()
                .unwrap_err()
                .to_string()
                .contains("CURVE_SERVERKEY")
        );
        let mut o = SocketOptions::default();
        o.zap_domain = Some("d".repeat(256));
        assert!(o.validate().is_err());
    }

    #[test]
    fn incomplete_curve_roles_say_what_is_missing() {
        let server = pair();
        let client = pair();
        let mut o = SocketOptions::default();
        o.curve_server = true;
        assert!(
            o.security()
                .unwrap_err()
                .to_string()
                .contains("CURVE_SECRETKEY")
        );
        o.curve_secretkey = Some(server.secret().clone());
        assert_eq!(
            o.security().unwrap(),
            Security::CurveServer {
                keys: server.clone()
            }
        );
        // A public key of another pair is refused.
        o.curve_publickey = Some(*client.public());
        assert!(
            o.security()
                .unwrap_err()
                .to_string()
                .contains("not the public key")
        );

        let mut c = SocketOptions::default();
        c.curve_publickey = Some(*client.public());
        c.curve_secretkey = Some(client.secret().clone());
        assert!(c.security().unwrap_err().to_string().contains("no role"));
        c.curve_serverkey = Some(*server.public());
        assert_eq!(
            c.security().unwrap(),
            Security::CurveClient {
                keys: client.clone(),
                server_key: *server.public()
            }
        );
        c.curve_secretkey = None;
        assert!(
            c.security()
                .unwrap_err()
                .to_string()
                .contains("own long-term key pair")
        );
    }

    #[test]
    fn keys_parse_raw_or_z85() {
        let k = pair();
        let z = k.public().to_z85();
        assert_eq!(parse_public_key("K", z.as_bytes()).unwrap(), *k.public());
        assert_eq!(
            parse_public_key("K", k.public().as_bytes()).unwrap(),
            *k.public()
        );
        assert!(parse_public_key("K", b"short").is_err());
        assert_eq!(domain(String::new()), None);
    }
}
