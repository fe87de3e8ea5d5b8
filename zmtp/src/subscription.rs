//! Subscriptions on the wire: ZMTP 3.1 peers exchange SUBSCRIBE and CANCEL
//! commands; ZMTP 3.0 peers send single-frame data messages `0x01 topic`
//! (subscribe) and `0x00 topic` (cancel). A publisher accepts both forms from
//! anyone and sends each peer the form its version expects.

use bytes::{Bytes, BytesMut};

use crate::command::Command;
use crate::frame;
use crate::greeting::Version;
use crate::message::Message;

/// Reads the ZMTP 3.0 data-message form: `Some((subscribe, topic))` for a
/// single-frame message starting with 0x01 or 0x00.
///
/// ```
/// use zeroring_zmtp::{Message, subscription};
/// let m = Message::from(&b"\x01weather"[..]);
/// let (subscribe, topic) = subscription::parse(&m).unwrap();
/// assert!(subscribe);
/// assert_eq!(&topic[..], b"weather");
/// ```
pub fn parse(msg: &Message) -> Option<(bool, Bytes)> {
    if msg.len() != 1 {
        return None;
    }
    let f = &msg[0];
    match f.first() {
        Some(1) => Some((true, f.slice(1..))),
        Some(0) => Some((false, f.slice(1..))),
        _ => None,
    }
}

/// The ZMTP 3.0 data-frame body of a subscription change.
pub fn data_body(subscribe: bool, topic: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(topic.len() + 1);
    v.push(u8::from(subscribe));
    v.extend_from_slice(topic);
    Bytes::from(v)
}

/// Appends a subscription change in the form a peer speaking `version` expects: a
/// SUBSCRIBE/CANCEL command for 3.1 and later, a data frame for 3.0.
pub fn encode(version: Version, subscribe: bool, topic: &Bytes, out: &mut BytesMut) {
    if version.uses_subscribe_commands() {
        let cmd = if subscribe {
            Command::Subscribe(topic.clone())
        } else {
            Command::Cancel(topic.clone())
        };
        cmd.encode(out);
    } else {
        frame::encode_frame(out, &data_body(subscribe, topic), false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_by_version() {
        let topic = Bytes::from_static(b"t");
        let mut v31 = BytesMut::new();
        encode(Version::V3_1, true, &topic, &mut v31);
        assert_eq!(&v31[..], b"\x04\x0b\x09SUBSCRIBEt");
        let mut v30 = BytesMut::new();
        encode(Version { major: 3, minor: 0 }, false, &topic, &mut v30);
        assert_eq!(&v30[..], b"\x00\x02\x00t");
        assert_eq!(parse(&Message::from(vec!["\x01a", "b"])), None);
        assert_eq!(parse(&Message::from(&b"x"[..])), None);
    }
}
