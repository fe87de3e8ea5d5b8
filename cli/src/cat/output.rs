//! [`Printer`]: received messages on stdout, one line each: frames joined by the
//! separator (text when printable, `0x<hex>` otherwise, or all hex / base64), or a
//! JSON object per line with `--json` (the routing id of a ROUTER separate).

use std::io::Write;

use base64::Engine;
use serde_json::{Value, json};
use zeroring::Message;

use super::args::Format;
use crate::CliError;

/// Prints received messages.
pub struct Printer {
    format: Format,
    /// The first frame is a routing id (ROUTER).
    routed: bool,
}

impl Printer {
    /// A printer for `format`; `routed` when the socket prepends routing ids.
    pub fn new(format: &Format, routed: bool) -> Printer {
        Printer {
            format: format.clone(),
            routed,
        }
    }

    /// The line for `msg`, without its newline.
    pub fn line(&self, msg: &Message) -> String {
        if self.format.json {
            return self.json(msg).to_string();
        }
        let frames: Vec<String> = msg.iter().map(|f| self.text(f)).collect();
        frames.join(&self.format.separator)
    }

    /// Writes `msg`'s line to `out` (stdout is line-buffered, so each line leaves at once).
    pub fn print(&self, msg: &Message, out: &mut impl Write) -> Result<(), CliError> {
        writeln!(out, "{}", self.line(msg))
            .and_then(|()| out.flush())
            .map_err(|e| CliError(format!("cannot write to stdout: {e}")))
    }

    /// One frame as text.
    fn text(&self, frame: &[u8]) -> String {
        if self.format.hex {
            hex::encode(frame)
        } else if self.format.base64 {
            base64::engine::general_purpose::STANDARD.encode(frame)
        } else {
            match std::str::from_utf8(frame) {
                Ok(text) if printable(text) => text.to_string(),
                _ => format!("0x{}", hex::encode(frame)),
            }
        }
    }

    /// One frame as a JSON value.
    fn json_frame(&self, frame: &[u8]) -> Value {
        if self.format.hex || self.format.base64 {
            return Value::String(self.text(frame));
        }
        match std::str::from_utf8(frame) {
            Ok(text) => Value::String(text.to_string()),
            Err(_) => json!({ "hex": hex::encode(frame) }),
        }
    }

    /// The JSON object for `msg`.
    fn json(&self, msg: &Message) -> Value {
        let mut frames = msg.iter().map(|f| self.json_frame(f));
        if self.routed {
            let routing_id = frames.next().unwrap_or(Value::Null);
            json!({ "routing_id": routing_id, "frames": frames.collect::<Vec<_>>() })
        } else {
            json!({ "frames": frames.collect::<Vec<_>>() })
        }
    }
}

/// Whether text shows as itself on a line: no control characters but tabs.
fn printable(text: &str) -> bool {
    text.chars().all(|c| c == '\t' || !c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn format(hex: bool, json: bool) -> Format {
        Format {
            multipart: false,
            separator: "|".into(),
            hex,
            base64: false,
            json,
        }
    }

    fn msg(frames: &[&[u8]]) -> Message {
        frames
            .iter()
            .map(|f| Bytes::copy_from_slice(f))
            .collect::<Vec<Bytes>>()
            .into()
    }

    #[test]
    fn text_when_printable_hex_otherwise() {
        let p = Printer::new(&format(false, false), false);
        assert_eq!(
            p.line(&msg(&[b"hello", b"\x00\x80\x00\x00\x01", b"a\tb", b"x\ny"])),
            "hello|0x0080000001|a\tb|0x780a79"
        );
        let p = Printer::new(&format(true, false), false);
        assert_eq!(p.line(&msg(&[b"AB"])), "4142");
    }

    #[test]
    fn json_lines_with_the_routing_id() {
        let p = Printer::new(&format(false, true), true);
        let line = p.line(&msg(&[b"client-1", b"hi", b"\xff"]));
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v,
            json!({"routing_id": "client-1", "frames": ["hi", {"hex": "ff"}]})
        );
        let p = Printer::new(&format(false, true), false);
        assert_eq!(p.line(&msg(&[b"a\nb"])), r#"{"frames":["a\nb"]}"#);
    }
}
