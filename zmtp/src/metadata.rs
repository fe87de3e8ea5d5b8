//! READY metadata: a list of (name, value) properties with case-insensitive names.
//!
//! Wire form of each property: name length (1 byte), name (1-255 bytes of
//! `[A-Za-z0-9-_.+]`), value length (4 bytes big-endian), value.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::ZmtpError;

/// Property name of the socket type.
pub const SOCKET_TYPE: &str = "Socket-Type";
/// Property name of the routing id.
pub const IDENTITY: &str = "Identity";

/// An ordered list of metadata properties.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    entries: Vec<(String, Bytes)>,
}

impl Metadata {
    /// An empty property list.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Appends a property. Names are compared case-insensitively on lookup.
    ///
    /// # Panics
    /// If the name is empty, longer than 255 bytes or has characters ZMTP forbids.
    pub fn insert(&mut self, name: &str, value: impl Into<Bytes>) {
        assert!(
            valid_name(name.as_bytes()),
            "invalid metadata name {name:?}"
        );
        self.entries.push((name.to_string(), value.into()));
    }

    /// Appends a property, or refuses a name ZMTP forbids (empty, longer than
    /// 255 bytes, or with characters other than `[A-Za-z0-9-_.+]`): the
    /// non-panicking [`Metadata::insert`], for names that come from outside
    /// (a configuration file, an application's authenticator).
    ///
    /// ```
    /// use zeroring_zmtp::Metadata;
    /// let mut m = Metadata::new();
    /// assert!(m.try_insert("Department", "ops").is_ok());
    /// assert!(m.try_insert("no spaces", "x").is_err());
    /// assert_eq!(m.len(), 1);
    /// ```
    pub fn try_insert(&mut self, name: &str, value: impl Into<Bytes>) -> Result<(), ZmtpError> {
        if !valid_name(name.as_bytes()) {
            return Err(ZmtpError::MalformedMetadata(
                "a property name is 1-255 characters of [A-Za-z0-9-_.+]",
            ));
        }
        self.entries.push((name.to_string(), value.into()));
        Ok(())
    }

    /// The value of the first property called `name` (any case).
    ///
    /// ```
    /// use zeroring_zmtp::Metadata;
    /// let mut m = Metadata::new();
    /// m.insert("Socket-Type", "REQ");
    /// assert_eq!(m.get("socket-type").unwrap().as_ref(), b"REQ");
    /// ```
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// All properties in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Bytes)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no properties.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes the encoded form takes.
    pub fn encoded_len(&self) -> usize {
        self.entries
            .iter()
            .map(|(n, v)| 1 + n.len() + 4 + v.len())
            .sum()
    }

    /// Appends the wire form.
    pub fn encode(&self, out: &mut BytesMut) {
        for (name, value) in &self.entries {
            out.put_u8(name.len() as u8);
            out.put_slice(name.as_bytes());
            out.put_u32(value.len() as u32);
            out.put_slice(value);
        }
    }

    /// Parses the wire form; `data` must be exactly the property list.
    pub fn decode(mut data: Bytes) -> Result<Metadata, ZmtpError> {
        let mut entries = Vec::new();
        while data.has_remaining() {
            let name_len = usize::from(data.get_u8());
            if name_len == 0 {
                return Err(ZmtpError::MalformedMetadata("empty property name"));
            }
            if data.remaining() < name_len {
                return Err(ZmtpError::MalformedMetadata("property name truncated"));
            }
            let name = data.split_to(name_len);
            if !valid_name(&name) {
                return Err(ZmtpError::MalformedMetadata(
                    "property name has characters ZMTP forbids",
                ));
            }
            if data.remaining() < 4 {
                return Err(ZmtpError::MalformedMetadata(
                    "property value length truncated",
                ));
            }
            let value_len = data.get_u32() as usize;
            if data.remaining() < value_len {
                return Err(ZmtpError::MalformedMetadata("property value truncated"));
            }
            let value = data.split_to(value_len);
            let name = String::from_utf8(name.to_vec()).expect("validated as ASCII");
            entries.push((name, value));
        }
        Ok(Metadata { entries })
    }
}

fn valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_case_insensitive() {
        let mut m = Metadata::new();
        m.insert(SOCKET_TYPE, "DEALER");
        m.insert(IDENTITY, Bytes::from_static(b"\x01id"));
        m.insert("X-Empty", Bytes::new());
        let mut out = BytesMut::new();
        m.encode(&mut out);
        assert_eq!(out.len(), m.encoded_len());
        let back = Metadata::decode(out.freeze()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.get("SOCKET-TYPE").unwrap().as_ref(), b"DEALER");
        assert_eq!(back.get("identity").unwrap().as_ref(), b"\x01id");
        assert_eq!(back.get("x-empty").unwrap().len(), 0);
        assert!(back.get("missing").is_none());
    }

    #[test]
    fn truncations_are_errors() {
        let mut m = Metadata::new();
        m.insert(SOCKET_TYPE, "PUSH");
        let mut out = BytesMut::new();
        m.encode(&mut out);
        let full = out.freeze();
        for cut in 1..full.len() {
            assert!(Metadata::decode(full.slice(..cut)).is_err(), "cut at {cut}");
        }
        assert!(Metadata::decode(Bytes::from_static(&[0])).is_err());
        assert!(Metadata::decode(Bytes::from_static(b"\x02a b\x00\x00\x00\x00")).is_err());
    }
}
