//! [`Mechanism`]: the security mechanism a greeting names, shared by the
//! greeting, the handshake, the authentication step and the errors.

use std::fmt;

/// A security mechanism named in the greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mechanism {
    /// No security (RFC 37 NULL). The only mechanism zeroring implements today.
    Null,
    /// Clear-text user name and password (RFC 24).
    Plain,
    /// CurveZMQ (RFC 26).
    Curve,
}

impl Mechanism {
    /// The mechanism's name as it appears in the greeting.
    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Null => "NULL",
            Mechanism::Plain => "PLAIN",
            Mechanism::Curve => "CURVE",
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
