//! How a routing id is shown to people: as text when it is printable, as hex
//! otherwise (generated ids start with a zero byte).

use std::fmt;

/// Shows a routing id as quoted text when every byte is printable ASCII
/// (`"client-7"`), and as hex otherwise (`0x006b8b4567`, as ids a ROUTER generates
/// look). Errors, disconnect reasons and the CLI print ids this way.
///
/// ```
/// use zeroring_sockets::RoutingIdDisplay;
/// assert_eq!(RoutingIdDisplay(b"client-7").to_string(), "\"client-7\"");
/// assert_eq!(RoutingIdDisplay(&[0, 0x6b, 0x8b, 0x45, 0x67]).to_string(), "0x006b8b4567");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RoutingIdDisplay<'a>(pub &'a [u8]);

impl fmt::Display for RoutingIdDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.0;
        if id.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            // Printable: shown quoted, so spaces and the empty case are visible.
            return write!(f, "\"{}\"", String::from_utf8_lossy(id));
        }
        f.write_str("0x")?;
        for b in id {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_ids_print_as_text_or_hex() {
        assert_eq!(RoutingIdDisplay(b"nope").to_string(), "\"nope\"");
        assert_eq!(RoutingIdDisplay(b"a b").to_string(), "\"a b\"");
        assert_eq!(
            RoutingIdDisplay(&[0, 0x6b, 0x8b, 0x45, 0x67]).to_string(),
            "0x006b8b4567"
        );
        assert_eq!(RoutingIdDisplay(b"tab\t").to_string(), "0x74616209");
        assert_eq!(RoutingIdDisplay(b"").to_string(), "\"\"");
    }
}
