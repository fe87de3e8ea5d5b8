//! What a Raft log entry carries for the key-value store: a [`Command`], an operation
//! plus the writing client's id and sequence number, which make retries idempotent.
//!
//! Layout: client id (u64 LE), sequence (u64 LE), then the [`Op`] encoding. Client id
//! 0 means "no session": the write is applied every time it commits.

use super::codec::{Reader, put_u64};
use super::error::Result;
use super::store::Op;

/// One write to the store, as proposed to Raft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    /// The writing client's id (0: no de-duplication).
    pub client: u64,
    /// The client's sequence number for this write; a client increases it by one per
    /// new write and repeats it on a retry.
    pub seq: u64,
    /// The operation.
    pub op: Op<'a>,
}

impl<'a> Command<'a> {
    /// The entry payload for this command.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_u64(&mut out, self.client);
        put_u64(&mut out, self.seq);
        self.op.encode(&mut out);
        out
    }

    /// Reads a command from an entry payload.
    pub fn decode(payload: &'a [u8]) -> Result<Command<'a>> {
        let mut r = Reader::new(payload, "store command");
        let client = r.u64("client id")?;
        let seq = r.u64("sequence")?;
        let op = Op::decode(r.rest())?;
        Ok(Command { client, seq, op })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_short_input() {
        let c = Command {
            client: 9,
            seq: 3,
            op: Op::Put {
                key: b"k",
                value: b"v",
            },
        };
        let bytes = c.encode();
        assert_eq!(Command::decode(&bytes).unwrap(), c);
        assert!(Command::decode(&bytes[..10]).is_err());
        assert!(Command::decode(&bytes[..16]).is_err());
    }
}
