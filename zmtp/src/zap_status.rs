//! [`ZapStatus`]: the status codes of ZAP (RFC 27), shared by the
//! authentication step and the errors that report a refusal.

use std::fmt;

/// A ZAP status code (RFC 27).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZapStatus {
    /// 200: the peer is allowed.
    Success,
    /// 300: a temporary failure; the peer may try again later. The connection
    /// closes without an ERROR command.
    TemporaryError,
    /// 400: the credentials are refused.
    Failure,
    /// 500: the authenticator failed.
    InternalError,
}

impl ZapStatus {
    /// The numeric status code.
    pub fn code(self) -> u16 {
        match self {
            ZapStatus::Success => 200,
            ZapStatus::TemporaryError => 300,
            ZapStatus::Failure => 400,
            ZapStatus::InternalError => 500,
        }
    }

    /// The status for a numeric code, if it is one of the four ZAP defines.
    pub fn from_code(code: u16) -> Option<ZapStatus> {
        Some(match code {
            200 => ZapStatus::Success,
            300 => ZapStatus::TemporaryError,
            400 => ZapStatus::Failure,
            500 => ZapStatus::InternalError,
            _ => return None,
        })
    }

    /// The status named by an ERROR reason of exactly three digits ("300",
    /// "400", "500"), which is how a libzmq server tells a client why ZAP
    /// refused it.
    pub fn from_error_reason(reason: &str) -> Option<ZapStatus> {
        if reason.len() != 3 || !reason.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        reason
            .parse()
            .ok()
            .and_then(ZapStatus::from_code)
            .filter(|s| *s != ZapStatus::Success)
    }

    /// The three ASCII digits sent in an ERROR command.
    pub(crate) fn as_reason(self) -> &'static str {
        match self {
            ZapStatus::Success => "200",
            ZapStatus::TemporaryError => "300",
            ZapStatus::Failure => "400",
            ZapStatus::InternalError => "500",
        }
    }
}

impl fmt::Display for ZapStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ZapStatus::Success => "success",
            ZapStatus::TemporaryError => "temporary error",
            ZapStatus::Failure => "authentication failure",
            ZapStatus::InternalError => "internal error",
        };
        write!(f, "{} {text}", self.code())
    }
}
