//! Raft messages on the wire between nodes: encoding, and the checks a received one
//! must pass before the engine sees it. A message that fails is dropped with the
//! reason logged; the engine never sees it.
//!
//! Checks: it parses as a protobuf `Message` (the frame is already bounded by the
//! socket's MAXMSGSIZE); it is addressed to this node from another node id; its type
//! is one nodes exchange (never a local one such as `MsgHup` or a forwarded
//! proposal); appended entries are contiguous after the message's index with terms
//! that never go down and never exceed the message's term, each small enough for
//! one log record, and only index 0 has term 0. Whether the sender is a
//! member (and, with a cluster key, authenticated) is checked by the node.

use bytes::Bytes;
use protobuf::Message as _;
use raft::prelude::{Message, MessageType};

use crate::record::MAX_PAYLOAD;

/// The message as bytes for the wire.
pub(crate) fn encode(msg: &Message) -> Option<Bytes> {
    match msg.write_to_bytes() {
        Ok(b) => Some(b.into()),
        Err(e) => {
            tracing::warn!(error = %e, "cannot encode a raft message; dropped");
            None
        }
    }
}

/// Parses and checks a message received by node `me`.
pub(crate) fn decode(body: &[u8], me: u64) -> Result<Message, String> {
    let msg = Message::parse_from_bytes(body).map_err(|e| format!("not a raft message: {e}"))?;
    if msg.to != me {
        return Err(format!("addressed to node {}, this is node {me}", msg.to));
    }
    if msg.from == 0 || msg.from == me {
        return Err(format!("impossible sender id {}", msg.from));
    }
    use MessageType::*;
    match msg.get_msg_type() {
        MsgAppend
        | MsgAppendResponse
        | MsgRequestVote
        | MsgRequestVoteResponse
        | MsgSnapshot
        | MsgHeartbeat
        | MsgHeartbeatResponse
        | MsgTimeoutNow
        | MsgRequestPreVote
        | MsgRequestPreVoteResponse => {}
        other => return Err(format!("{other:?} is not sent between nodes")),
    }
    if msg.get_msg_type() == MsgAppend {
        // Only index 0 has term 0; raft-rs would match such a claim against any index
        // past its log and commit up to it (a panic in the engine).
        if msg.index > 0 && msg.log_term == 0 {
            return Err(format!("append after index {} claims term 0", msg.index));
        }
        let mut term = msg.log_term;
        for (i, e) in msg.entries.iter().enumerate() {
            // Each entry becomes one log record.
            if e.compute_size() as usize > MAX_PAYLOAD {
                return Err(format!("entry {} is over the record size limit", e.index));
            }
            if e.index != msg.index.saturating_add(1 + i as u64) {
                return Err(format!(
                    "entry {i} has index {}, expected {}",
                    e.index,
                    msg.index.saturating_add(1 + i as u64)
                ));
            }
            if e.term < term || e.term > msg.term {
                return Err(format!(
                    "entry {} has term {} out of order",
                    e.index, e.term
                ));
            }
            term = e.term;
        }
    }
    if msg.get_msg_type() == MsgSnapshot && msg.get_snapshot().get_metadata().index == 0 {
        return Err("snapshot without an index".into());
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::prelude::Entry;

    fn msg(t: MessageType, from: u64, to: u64) -> Message {
        let mut m = Message::default();
        m.set_msg_type(t);
        m.from = from;
        m.to = to;
        m.term = 5;
        m
    }

    #[test]
    fn checks() {
        let ok = msg(MessageType::MsgHeartbeat, 2, 1);
        assert!(decode(&encode(&ok).unwrap(), 1).is_ok());
        assert!(decode(&encode(&ok).unwrap(), 3).is_err(), "wrong addressee");
        assert!(decode(b"\xff\xff\xff", 1).is_err());
        assert!(decode(&encode(&msg(MessageType::MsgHup, 2, 1)).unwrap(), 1).is_err());
        assert!(decode(&encode(&msg(MessageType::MsgPropose, 2, 1)).unwrap(), 1).is_err());
        assert!(decode(&encode(&msg(MessageType::MsgHeartbeat, 1, 1)).unwrap(), 1).is_err());
        let mut app = msg(MessageType::MsgAppend, 2, 1);
        app.index = 10;
        app.log_term = 4;
        let e = |index, term| Entry {
            index,
            term,
            ..Entry::default()
        };
        app.entries = vec![e(11, 4), e(12, 5)].into();
        assert!(decode(&encode(&app).unwrap(), 1).is_ok());
        app.entries = vec![e(11, 4), e(13, 5)].into();
        assert!(decode(&encode(&app).unwrap(), 1).is_err(), "gap");
        app.entries = vec![e(11, 6)].into();
        assert!(
            decode(&encode(&app).unwrap(), 1).is_err(),
            "term above the message's"
        );
        app.entries = vec![e(11, 3)].into();
        assert!(
            decode(&encode(&app).unwrap(), 1).is_err(),
            "term below log_term"
        );
    }
}
