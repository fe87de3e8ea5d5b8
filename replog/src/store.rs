//! The key-value store applied from the log, and the encoding of its operations as
//! record payloads.
//!
//! Payload layout (the first byte says what it is):
//! - `1` put: key length (u32 little-endian), key, value (the rest);
//! - `2` delete: key (the rest).

use std::collections::HashMap;

use bytes::Bytes;

use super::error::{ReplogError, Result};

const PUT: u8 = 1;
const DELETE: u8 = 2;

/// One operation, borrowed from a record payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op<'a> {
    /// Set `key` to `value`.
    Put {
        /// The key.
        key: &'a [u8],
        /// The new value.
        value: &'a [u8],
    },
    /// Remove `key`.
    Delete {
        /// The key.
        key: &'a [u8],
    },
}

impl<'a> Op<'a> {
    /// Appends the payload encoding of this operation to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Op::Put { key, value } => {
                out.reserve(5 + key.len() + value.len());
                out.push(PUT);
                out.extend_from_slice(&(key.len() as u32).to_le_bytes());
                out.extend_from_slice(key);
                out.extend_from_slice(value);
            }
            Op::Delete { key } => {
                out.push(DELETE);
                out.extend_from_slice(key);
            }
        }
    }

    /// Reads an operation from a record payload.
    pub fn decode(payload: &'a [u8]) -> Result<Op<'a>> {
        let bad = |why: &str| ReplogError::InvalidRecord(format!("store operation: {why}"));
        match payload.split_first() {
            Some((&PUT, rest)) => {
                let len: [u8; 4] = rest
                    .get(..4)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| bad("put without a key length"))?;
                let len = u32::from_le_bytes(len) as usize;
                let rest = &rest[4..];
                if len > rest.len() {
                    return Err(bad("put key longer than the payload"));
                }
                let (key, value) = rest.split_at(len);
                Ok(Op::Put { key, value })
            }
            Some((&DELETE, key)) => Ok(Op::Delete { key }),
            Some((tag, _)) => Err(bad(&format!("unknown tag {tag}"))),
            None => Err(bad("empty payload")),
        }
    }
}

/// The key-value map the log's operations are applied to.
#[derive(Debug, Default)]
pub struct KvStore {
    map: HashMap<Bytes, Bytes>,
}

impl KvStore {
    /// Applies one record payload.
    pub fn apply(&mut self, payload: &[u8]) -> Result<()> {
        self.apply_op(Op::decode(payload)?);
        Ok(())
    }

    /// Applies one operation.
    pub fn apply_op(&mut self, op: Op<'_>) {
        match op {
            Op::Put { key, value } => {
                let value = Bytes::copy_from_slice(value);
                match self.map.get_mut(key) {
                    Some(slot) => *slot = value,
                    None => {
                        self.map.insert(Bytes::copy_from_slice(key), value);
                    }
                }
            }
            Op::Delete { key } => {
                self.map.remove(key);
            }
        }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &[u8]) -> Option<Bytes> {
        self.map.get(key).cloned()
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forgets everything (before a rebuild from a snapshot).
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Every key and value, in no particular order (for snapshots).
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.map.iter()
    }

    /// Sets `key` to `value` (restoring a snapshot).
    pub fn insert(&mut self, key: Bytes, value: Bytes) {
        self.map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(op: Op<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        op.encode(&mut out);
        out
    }

    #[test]
    fn operations_round_trip() {
        for op in [
            Op::Put {
                key: b"k",
                value: b"v",
            },
            Op::Put {
                key: b"",
                value: b"",
            },
            Op::Put {
                key: b"key",
                value: b"",
            },
            Op::Delete { key: b"k" },
        ] {
            assert_eq!(Op::decode(&encoded(op)).unwrap(), op);
        }
    }

    #[test]
    fn malformed_payloads_are_errors() {
        for bad in [&b""[..], b"\x01", b"\x01\x05\0\0\0ab", b"\x09", b"\x03x"] {
            assert!(Op::decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn apply_put_overwrite_delete() {
        let mut kv = KvStore::default();
        kv.apply(&encoded(Op::Put {
            key: b"a",
            value: b"1",
        }))
        .unwrap();
        kv.apply(&encoded(Op::Put {
            key: b"a",
            value: b"2",
        }))
        .unwrap();
        kv.apply(&encoded(Op::Put {
            key: b"b",
            value: b"3",
        }))
        .unwrap();
        assert_eq!(kv.get(b"a").as_deref(), Some(&b"2"[..]));
        kv.apply(&encoded(Op::Delete { key: b"a" })).unwrap();
        assert_eq!(kv.get(b"a"), None);
        assert_eq!(kv.len(), 1);
    }
}
