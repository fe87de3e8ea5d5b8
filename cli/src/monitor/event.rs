//! How `zeroring monitor` prints one [`SocketEvent`]: its name and the event's
//! own text, or a JSON object with the label and the event's fields.

use std::time::Duration;

use serde_json::{Map, Value, json};
use zeroring::SocketEvent;

/// A short label for an event: [`SocketEvent::name`] (`CONNECTED`,
/// `HANDSHAKE_FAILED`, ...), as the library and pyzmq name events.
pub fn label(event: &SocketEvent) -> &'static str {
    event.name()
}

/// The human line: time since the start, label, and the event's text.
pub fn text(at: Duration, event: &SocketEvent) -> String {
    format!("{:>9.3} s  {:<21}  {event}", at.as_secs_f64(), label(event))
}

/// The JSON line: `{"time": seconds, "event": label, ...fields}`.
pub fn json(at: Duration, event: &SocketEvent) -> String {
    let mut fields = Map::new();
    fields.insert("time".into(), json!((at.as_secs_f64() * 1e6).round() / 1e6));
    fields.insert("event".into(), json!(label(event)));
    let mut put = |name: &str, value: String| {
        fields.insert(name.into(), Value::String(value));
    };
    match event {
        SocketEvent::Listening { endpoint }
        | SocketEvent::Connected { endpoint }
        | SocketEvent::Closed { endpoint } => put("endpoint", endpoint.clone()),
        SocketEvent::Accepted { endpoint, peer } => {
            put("endpoint", endpoint.clone());
            put("peer", peer.clone());
        }
        SocketEvent::ConnectRetried { endpoint, reason } => {
            put("endpoint", endpoint.clone());
            put("reason", reason.clone());
        }
        SocketEvent::HandshakeSucceeded { peer } => put("peer", peer.clone()),
        SocketEvent::HandshakeFailed { peer, reason }
        | SocketEvent::Disconnected { peer, reason } => {
            put("peer", peer.clone());
            put("reason", reason.to_string());
        }
        SocketEvent::HandshakeFailedAuth {
            peer,
            status,
            reason,
        } => {
            put("peer", peer.clone());
            put("reason", reason.to_string());
            fields.insert("zap_status".into(), json!(status.code()));
        }
        other => put("text", other.to_string()),
    }
    Value::Object(fields).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json() {
        let e = SocketEvent::Connected {
            endpoint: "tcp://127.0.0.1:5555".into(),
        };
        let line = text(Duration::from_millis(12), &e);
        assert_eq!(
            line,
            "    0.012 s  CONNECTED              connected to tcp://127.0.0.1:5555"
        );
        let v: Value = serde_json::from_str(&json(Duration::from_millis(12), &e)).unwrap();
        assert_eq!(
            v,
            json!({"time": 0.012, "event": "CONNECTED", "endpoint": "tcp://127.0.0.1:5555"})
        );
        let e = SocketEvent::Accepted {
            endpoint: "tcp://0.0.0.0:1".into(),
            peer: "127.0.0.1:40000".into(),
        };
        let v: Value = serde_json::from_str(&json(Duration::ZERO, &e)).unwrap();
        assert_eq!(v["peer"], "127.0.0.1:40000");
        assert_eq!(v["event"], "ACCEPTED");
    }
}
