//! [`Statistics`]: the reply to a steerable proxy's `STATISTICS` command (8 frames,
//! each a `u64` in native byte order: messages and bytes received by the frontend,
//! sent by the frontend, then the same for the backend, as in libzmq), decoded and
//! printed as text or JSON.

use serde_json::{Value, json};
use zeroring::Message;

use crate::CliError;

/// Messages and bytes through one socket of the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side {
    /// Messages received.
    pub received_messages: u64,
    /// Bytes received.
    pub received_bytes: u64,
    /// Messages sent.
    pub sent_messages: u64,
    /// Bytes sent.
    pub sent_bytes: u64,
}

/// The proxy's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statistics {
    /// The frontend socket's.
    pub frontend: Side,
    /// The backend socket's.
    pub backend: Side,
}

impl Statistics {
    /// Decodes a STATISTICS reply.
    pub fn decode(reply: &Message) -> Result<Statistics, CliError> {
        let values: Vec<u64> = reply
            .iter()
            .map(|f| <[u8; 8]>::try_from(&f[..]).map(u64::from_ne_bytes))
            .collect::<Result<_, _>>()
            .map_err(|_| CliError("the STATISTICS reply has a frame that is not 8 bytes".into()))?;
        let [fm, fb, fsm, fsb, bm, bb, bsm, bsb] = values[..] else {
            return Err(CliError(format!(
                "the STATISTICS reply has {} frames instead of 8: is this a zmq_proxy_steerable control socket?",
                values.len()
            )));
        };
        let side = |received_messages, received_bytes, sent_messages, sent_bytes| Side {
            received_messages,
            received_bytes,
            sent_messages,
            sent_bytes,
        };
        Ok(Statistics {
            frontend: side(fm, fb, fsm, fsb),
            backend: side(bm, bb, bsm, bsb),
        })
    }

    /// One line of text.
    pub fn text(&self) -> String {
        let side = |name: &str, s: &Side| {
            format!(
                "{name}: received {} messages ({} B), sent {} messages ({} B)",
                s.received_messages, s.received_bytes, s.sent_messages, s.sent_bytes
            )
        };
        format!(
            "{}; {}",
            side("frontend", &self.frontend),
            side("backend", &self.backend)
        )
    }

    /// The line to print: [`Statistics::json`] or [`Statistics::text`].
    pub fn line(&self, json: bool) -> String {
        if json {
            self.json().to_string()
        } else {
            self.text()
        }
    }

    /// One JSON object.
    pub fn json(&self) -> Value {
        let side = |s: &Side| {
            json!({
                "received_messages": s.received_messages,
                "received_bytes": s.received_bytes,
                "sent_messages": s.sent_messages,
                "sent_bytes": s.sent_bytes,
            })
        };
        json!({ "frontend": side(&self.frontend), "backend": side(&self.backend) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn decodes_libzmq_order() {
        let reply: Message = (1u64..=8)
            .map(|v| Bytes::copy_from_slice(&v.to_ne_bytes()))
            .collect::<Vec<Bytes>>()
            .into();
        let s = Statistics::decode(&reply).unwrap();
        assert_eq!(s.frontend.received_messages, 1);
        assert_eq!(s.frontend.sent_bytes, 4);
        assert_eq!(s.backend.received_messages, 5);
        assert_eq!(s.backend.sent_bytes, 8);
        assert_eq!(
            s.text(),
            "frontend: received 1 messages (2 B), sent 3 messages (4 B); \
             backend: received 5 messages (6 B), sent 7 messages (8 B)"
        );
        assert_eq!(s.json()["backend"]["sent_messages"], 7);
        assert!(Statistics::decode(&Message::from("")).is_err());
    }
}
