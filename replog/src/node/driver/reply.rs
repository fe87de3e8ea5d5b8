//! How an outcome travels back to a network client: the reply frames of the client
//! protocol (see [`protocol`](crate::protocol)).

use bytes::Bytes;

use super::super::shared::Outcome;
use crate::error::ReplogError;
use crate::protocol::num_frame;

/// The frames answering request `request_id` of the client at routing id `peer`.
pub(super) fn reply_frames(peer: Bytes, request_id: Bytes, outcome: Outcome) -> Vec<Bytes> {
    let mut frames = vec![peer, Bytes::new(), request_id];
    let fixed = |s: &'static [u8]| Bytes::from_static(s);
    match outcome {
        Outcome::Written(index) => frames.extend([fixed(b"OK"), num_frame(index)]),
        Outcome::Value(v) => {
            frames.push(fixed(b"OK"));
            match v {
                Some(v) => frames.extend([fixed(b"\x01"), v]),
                None => frames.extend([fixed(b"\x00"), Bytes::new()]),
            }
        }
        Outcome::Status(s) => match s.encode() {
            Ok(b) => frames.extend([fixed(b"OK"), b.into()]),
            Err(e) => frames.extend([fixed(b"ERR"), e.to_string().into()]),
        },
        Outcome::Done => frames.push(fixed(b"OK")),
        Outcome::Failed(ReplogError::NotLeader {
            leader_id, leader, ..
        }) => frames.extend([
            fixed(b"NOTLEADER"),
            num_frame(leader_id.unwrap_or(0)),
            leader.unwrap_or_default().into(),
        ]),
        Outcome::Failed(e @ ReplogError::Unconfirmed { .. }) => {
            frames.extend([fixed(b"UNCONFIRMED"), e.to_string().into()])
        }
        Outcome::Failed(e) => frames.extend([fixed(b"ERR"), e.to_string().into()]),
    }
    frames
}
