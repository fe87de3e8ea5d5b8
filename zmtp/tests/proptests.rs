//! Property tests of the ZMTP codec.
//!
//! - (a) Any sequence of data frames (bodies of 0..600 bytes, biased around the 255/256
//!   short/long boundary, random MORE) and commands, encoded and fed to [`FrameDecoder`]
//!   in arbitrary chunks (down to one byte), decodes back to exactly the same frames
//!   and commands and leaves no bytes behind; decoding arbitrary bytes gives the same
//!   frames and the same error whatever the chunking.
//! - (b) Arbitrary bytes fed to `FrameDecoder`, `Command::parse`, `Metadata::decode`,
//!   `Greeting::peek_version` / `Greeting::decode` and `Handshake::advance` (also after
//!   a valid greeting, and as mutations of a valid transcript) never panic; an ERROR
//!   reason of arbitrary bytes parses to at most 255 bytes and re-encodes unchanged.
//! - (c) Metadata with random valid names and values round-trips, and lookups are
//!   case-insensitive and return the first matching property.
//! - (d) A full two-sided NULL handshake between every pair of `SocketType::ALL`, with
//!   each direction delivered in random splits, succeeds exactly when `is_compatible`
//!   says so, reports the right peer type and routing id, and leaves the traffic that
//!   follows READY for the frame decoder.
//! - (e) A frame header announcing more than the maximum size is rejected as soon as
//!   the header is complete, before any body byte arrives (also inside the handshake).

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;
use zeroring_zmtp::frame::{self, FLAG_COMMAND, FLAG_LONG, FLAG_MORE};
use zeroring_zmtp::greeting::GREETING_LEN;
use zeroring_zmtp::{
    Command, Frame, FrameDecoder, Greeting, Handshake, HandshakeConfig, Mechanism, Metadata,
    PeerInfo, SocketType, Version, ZmtpError,
};

// ---------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------

/// Body lengths over 0..600 with extra weight around the short/long boundary.
fn body_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => 0usize..600,
        2 => 250usize..262,
        1 => 0usize..3,
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    body_len().prop_flat_map(|n| prop::collection::vec(any::<u8>(), n))
}

fn metadata_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9._+-]{1,24}",
        1 => "[A-Za-z0-9._+-]{250,255}",
        1 => prop::sample::select(vec![
            "Socket-Type".to_string(),
            "socket-type".to_string(),
            "IDENTITY".to_string(),
            "Identity".to_string(),
            "X-Custom".to_string(),
        ]),
    ]
}

fn metadata() -> impl Strategy<Value = Metadata> {
    prop::collection::vec(
        (metadata_name(), prop::collection::vec(any::<u8>(), 0..300)),
        0..6,
    )
    .prop_map(|props| {
        let mut m = Metadata::new();
        for (n, v) in props {
            m.insert(&n, v);
        }
        m
    })
}

fn small_bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..=max).prop_map(Bytes::from)
}

/// Commands whose encoding parses back to the same value.
fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        metadata().prop_map(Command::Ready),
        "\\PC{0,60}".prop_map(Command::Error),
        small_bytes(300).prop_map(Command::Subscribe),
        small_bytes(300).prop_map(Command::Cancel),
        (any::<u16>(), small_bytes(16)).prop_map(|(ttl_deciseconds, context)| Command::Ping {
            ttl_deciseconds,
            context
        }),
        small_bytes(16).prop_map(Command::Pong),
        ("[A-Za-z]{1,40}", small_bytes(300))
            .prop_filter("not a known command name", |(n, _)| {
                !matches!(
                    n.as_str(),
                    "READY" | "ERROR" | "SUBSCRIBE" | "CANCEL" | "PING" | "PONG"
                )
            })
            .prop_map(|(n, data)| Command::Unknown {
                name: Bytes::from(n.into_bytes()),
                data
            }),
    ]
}

#[derive(Debug, Clone)]
enum Item {
    Data { body: Vec<u8>, more: bool },
    Cmd(Command),
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        4 => (body(), any::<bool>()).prop_map(|(body, more)| Item::Data { body, more }),
        1 => command().prop_map(Item::Cmd),
    ]
}

/// Chunk sizes for splitting a byte stream: many single bytes, small and large chunks.
fn chunks() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![
            2 => Just(1usize),
            2 => 1usize..10,
            1 => 1usize..80,
            1 => 1usize..1500,
        ],
        1..40,
    )
}

/// Cycles through a chunk schedule forever.
struct Splitter<'a> {
    sizes: &'a [usize],
    next: usize,
}

impl<'a> Splitter<'a> {
    fn new(sizes: &'a [usize]) -> Self {
        Splitter { sizes, next: 0 }
    }

    fn take(&mut self) -> usize {
        let n = self.sizes[self.next % self.sizes.len()].max(1);
        self.next += 1;
        n
    }
}

/// Feeds `wire` to a decoder in the given chunks. Returns the frames decoded before
/// the first error (if any), the error, the bytes left in the buffer and the decoder.
fn decode_split(
    wire: &[u8],
    max: Option<u64>,
    sizes: &[usize],
) -> (Vec<Frame>, Option<ZmtpError>, BytesMut, FrameDecoder) {
    let mut dec = FrameDecoder::new(max);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let mut split = Splitter::new(sizes);
    let mut pos = 0;
    while pos < wire.len() {
        let n = split.take().min(wire.len() - pos);
        buf.extend_from_slice(&wire[pos..pos + n]);
        pos += n;
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e), buf, dec),
            }
        }
    }
    (frames, None, buf, dec)
}

// ---------------------------------------------------------------------------------
// Handshake driver
// ---------------------------------------------------------------------------------

struct Side {
    hs: Handshake,
    /// Bytes this side has written and the peer has not received yet.
    wire: BytesMut,
    /// Bytes received from the peer and not consumed yet.
    input: BytesMut,
    result: Option<Result<PeerInfo, ZmtpError>>,
    /// Message frames this side sends as soon as its handshake is done.
    after: Vec<Vec<u8>>,
}

impl Side {
    fn new(cfg: HandshakeConfig, after: Vec<Vec<u8>>) -> Side {
        let hs = Handshake::new(cfg);
        let mut wire = BytesMut::new();
        wire.put_slice(&hs.greeting());
        Side {
            hs,
            wire,
            input: BytesMut::new(),
            result: None,
            after,
        }
    }

    fn advance(&mut self) {
        if self.result.is_some() {
            return;
        }
        match self.hs.advance(&mut self.input, &mut self.wire) {
            Ok(None) => {}
            Ok(Some(peer)) => {
                assert!(self.hs.is_done());
                frame::encode_message(&mut self.wire, &self.after);
                self.result = Some(Ok(peer));
            }
            Err(e) => self.result = Some(Err(e)),
        }
    }
}

/// Moves up to one chunk from `from.wire` to `to.input`; true if anything moved.
fn deliver(from: &mut Side, to: &mut Side, split: &mut Splitter<'_>) -> bool {
    if from.wire.is_empty() {
        return false;
    }
    let n = split.take().min(from.wire.len());
    to.input.extend_from_slice(&from.wire.split_to(n));
    true
}

/// Runs both sides until neither can make progress.
fn run_handshake(a: &mut Side, b: &mut Side, a_to_b: &[usize], b_to_a: &[usize]) {
    let (mut sa, mut sb) = (Splitter::new(a_to_b), Splitter::new(b_to_a));
    for _ in 0..100_000 {
        let moved_ab = deliver(a, b, &mut sa);
        b.advance();
        let moved_ba = deliver(b, a, &mut sb);
        a.advance();
        if !moved_ab && !moved_ba && a.wire.is_empty() && b.wire.is_empty() {
            return;
        }
    }
    panic!("handshake did not settle");
}

fn routing_id() -> impl Strategy<Value = Option<Bytes>> {
    prop_oneof![
        Just(None),
        Just(Some(Bytes::new())),
        (1u8..=255, prop::collection::vec(any::<u8>(), 0..255)).prop_map(|(first, rest)| {
            let mut id = vec![first];
            id.extend(rest);
            Some(Bytes::from(id))
        }),
    ]
}

fn decode_all_frames(buf: &mut BytesMut) -> Vec<Vec<u8>> {
    let mut dec = FrameDecoder::new(None);
    let mut out = Vec::new();
    while let Some(f) = dec.decode(buf).expect("valid traffic after READY") {
        out.push(f.body.to_vec());
    }
    assert!(buf.is_empty());
    out
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) Encoded frames and commands come back unchanged, whatever the chunking.
    #[test]
    fn frames_round_trip_in_any_split(items in prop::collection::vec(item(), 0..12), sizes in chunks()) {
        let mut wire = BytesMut::new();
        for it in &items {
            match it {
                Item::Data { body, more } => frame::encode_frame(&mut wire, body, *more),
                Item::Cmd(c) => c.encode(&mut wire),
            }
        }
        let (frames, err, rest, dec) = decode_split(&wire, None, &sizes);
        prop_assert_eq!(err, None);
        prop_assert!(rest.is_empty(), "{} bytes left over", rest.len());
        prop_assert!(dec.is_idle());
        prop_assert_eq!(frames.len(), items.len());
        for (f, it) in frames.into_iter().zip(&items) {
            match it {
                Item::Data { body, more } => {
                    prop_assert!(!f.command);
                    prop_assert_eq!(f.more, *more);
                    prop_assert_eq!(&f.body[..], &body[..]);
                }
                Item::Cmd(c) => {
                    prop_assert!(f.command);
                    prop_assert!(!f.more);
                    prop_assert_eq!(&Command::parse(f.body).unwrap(), c);
                }
            }
        }
    }

    /// (a) The header size is the short form up to 255 bytes and the long form above.
    #[test]
    fn header_form_follows_body_size(len in body_len(), more in any::<bool>(), command in any::<bool>()) {
        let mut out = BytesMut::new();
        frame::encode_header(&mut out, len, more, command);
        prop_assert_eq!(out.len(), frame::header_len(len));
        let flags = out[0];
        prop_assert_eq!(flags & FLAG_MORE != 0, more);
        prop_assert_eq!(flags & FLAG_COMMAND != 0, command);
        if len > 255 {
            prop_assert_eq!(flags & FLAG_LONG, FLAG_LONG);
            prop_assert_eq!(&out[1..9], &(len as u64).to_be_bytes()[..]);
        } else {
            prop_assert_eq!(flags & FLAG_LONG, 0);
            prop_assert_eq!(usize::from(out[1]), len);
        }
    }

    /// (a) Arbitrary bytes decode to the same frames and the same error in any split.
    #[test]
    fn decoding_is_split_invariant(
        wire in prop::collection::vec(any::<u8>(), 0..2000),
        max in prop::option::of(0u64..2000),
        sizes in chunks(),
    ) {
        let (whole, whole_err, whole_rest, _) = decode_split(&wire, max, &[usize::MAX]);
        let (split, split_err, split_rest, _) = decode_split(&wire, max, &sizes);
        prop_assert_eq!(whole, split);
        prop_assert_eq!(&whole_err, &split_err);
        if whole_err.is_none() {
            prop_assert_eq!(whole_rest, split_rest);
        }
    }

    /// (b) The frame decoder never panics and never over-consumes.
    #[test]
    fn frame_decoder_never_panics(
        wire in prop::collection::vec(any::<u8>(), 0..3000),
        max in prop::option::of(any::<u64>()),
        sizes in chunks(),
    ) {
        let (frames, _err, rest, dec) = decode_split(&wire, max, &sizes);
        let consumed: usize = frames
            .iter()
            .map(|f| frame::header_len(f.body.len()) + f.body.len())
            .sum();
        // Long-form headers of small bodies make `consumed` an underestimate at most.
        prop_assert!(consumed + rest.len() <= wire.len());
        let _ = dec.bytes_wanted(rest.len());
        for f in frames {
            if f.command {
                let _ = Command::parse(f.body);
            }
        }
    }

    /// (b) Command, metadata and greeting parsers never panic on arbitrary input.
    #[test]
    fn parsers_never_panic(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let bytes = Bytes::from(data.clone());
        let _ = Command::parse(bytes.clone());
        let _ = Metadata::decode(bytes.clone());
        let _ = Greeting::peek_version(&data);
        if data.len() >= GREETING_LEN {
            let _ = Greeting::decode(&data);
        }
    }

    /// (b) Command bodies with a known name and random data never panic either.
    #[test]
    fn known_commands_with_random_data_never_panic(
        name in prop::sample::select(vec!["READY", "ERROR", "SUBSCRIBE", "CANCEL", "PING", "PONG"]),
        data in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut body = vec![name.len() as u8];
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(&data);
        if let Ok(c) = Command::parse(Bytes::from(body)) {
            prop_assert_eq!(c.name(), name.as_bytes());
        }
    }

    /// (b) An ERROR reason of any bytes (also invalid UTF-8, which grows when replaced)
    /// parses to at most 255 bytes and re-encodes to the same command.
    #[test]
    fn error_reason_of_any_bytes_is_stable(reason in prop::collection::vec(any::<u8>(), 0..=255)) {
        let mut body = b"\x05ERROR".to_vec();
        body.push(reason.len() as u8);
        body.extend_from_slice(&reason);
        let parsed = Command::parse(Bytes::from(body)).unwrap();
        let Command::Error(text) = &parsed else {
            panic!("not ERROR")
        };
        prop_assert!(text.len() <= 255);
        let mut wire = BytesMut::new();
        parsed.encode(&mut wire);
        let f = FrameDecoder::new(None).decode(&mut wire).unwrap().unwrap();
        prop_assert_eq!(Command::parse(f.body).unwrap(), parsed);
    }

    /// (b) Greetings with a valid signature and random fields never panic.
    #[test]
    fn greetings_with_random_fields_never_panic(mut g in prop::collection::vec(any::<u8>(), GREETING_LEN..=GREETING_LEN + 8)) {
        g[0] = 0xFF;
        g[9] |= 0x01;
        for n in 0..=g.len() {
            let _ = Greeting::peek_version(&g[..n]);
        }
        if let Ok(parsed) = Greeting::decode(&g) {
            prop_assert!(parsed.version.major >= 3);
        }
    }

    /// (b) The handshake never panics on arbitrary input, raw or after a valid greeting.
    #[test]
    fn handshake_never_panics(
        ty in prop::sample::select(SocketType::ALL.to_vec()),
        valid_greeting in any::<bool>(),
        data in prop::collection::vec(any::<u8>(), 0..600),
        sizes in chunks(),
    ) {
        let mut wire = Vec::new();
        if valid_greeting {
            wire.extend_from_slice(&Greeting::ours(Mechanism::Null, false).encode());
        }
        wire.extend_from_slice(&data);
        let mut hs = Handshake::new(HandshakeConfig::new(ty));
        let mut input = BytesMut::new();
        let mut output = BytesMut::new();
        let mut split = Splitter::new(&sizes);
        let mut pos = 0;
        while pos < wire.len() {
            let n = split.take().min(wire.len() - pos);
            input.extend_from_slice(&wire[pos..pos + n]);
            pos += n;
            match hs.advance(&mut input, &mut output) {
                Ok(None) => {}
                Ok(Some(peer)) => {
                    prop_assert!(ty.is_compatible(peer.socket_type));
                    break;
                }
                Err(_) => break,
            }
        }
    }

    /// (b) Mutated valid transcripts never make the handshake panic.
    #[test]
    fn handshake_survives_mutated_transcripts(
        ours in prop::sample::select(SocketType::ALL.to_vec()),
        theirs in prop::sample::select(SocketType::ALL.to_vec()),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let peer = Handshake::new(HandshakeConfig::new(theirs));
        let mut wire = BytesMut::new();
        wire.put_slice(&peer.greeting());
        peer.ready_command().encode(&mut wire);
        let mut wire = wire.to_vec();
        for (i, b) in flips {
            let i = i.index(wire.len());
            wire[i] = b;
        }
        wire.truncate(cut.index(wire.len() + 1));
        let mut hs = Handshake::new(HandshakeConfig::new(ours));
        let mut input = BytesMut::from(&wire[..]);
        if let Ok(Some(info)) = hs.advance(&mut input, &mut BytesMut::new()) {
            prop_assert!(ours.is_compatible(info.socket_type));
        }
    }

    /// (c) Metadata round-trips and lookups ignore case.
    #[test]
    fn metadata_round_trip(m in metadata(), flip in any::<prop::sample::Index>()) {
        let mut out = BytesMut::new();
        m.encode(&mut out);
        prop_assert_eq!(out.len(), m.encoded_len());
        let back = Metadata::decode(out.freeze()).unwrap();
        prop_assert_eq!(&back, &m);
        prop_assert_eq!(back.len(), m.len());
        let entries: Vec<(String, Bytes)> =
            m.iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        for (name, _) in &entries {
            // Change the case of some letters; the first property with that name in any
            // case must be found.
            let k = flip.index(name.len() + 1);
            let variant: String = name
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % (k + 1) == 0 {
                        if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }
                    } else {
                        c
                    }
                })
                .collect();
            let first = entries
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
            prop_assert_eq!(back.get(&variant), first);
            prop_assert_eq!(back.get(&name.to_ascii_uppercase()), first);
            prop_assert_eq!(back.get(&name.to_ascii_lowercase()), first);
        }
        // A name that is not there (names never contain '!').
        prop_assert!(back.get("not!there").is_none());
    }

    /// (c) READY carrying random metadata round-trips through a command frame.
    #[test]
    fn ready_round_trip(m in metadata(), sizes in chunks()) {
        let mut wire = BytesMut::new();
        Command::Ready(m.clone()).encode(&mut wire);
        let (frames, err, rest, _) = decode_split(&wire, None, &sizes);
        prop_assert_eq!(err, None);
        prop_assert!(rest.is_empty());
        prop_assert_eq!(frames.len(), 1);
        prop_assert_eq!(Command::parse(frames[0].body.clone()).unwrap(), Command::Ready(m));
    }

    /// (d) Every pair of socket types, random splits both ways: success exactly when
    /// the pair is compatible.
    #[test]
    fn handshake_between_every_pair(
        a_to_b in chunks(),
        b_to_a in chunks(),
        a_id in routing_id(),
        b_id in routing_id(),
        after in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..3),
    ) {
        for ta in SocketType::ALL {
            for tb in SocketType::ALL {
                let mut ca = HandshakeConfig::new(ta);
                ca.routing_id = a_id.clone();
                let mut cb = HandshakeConfig::new(tb);
                cb.routing_id = b_id.clone();
                let mut a = Side::new(ca, after.clone());
                let mut b = Side::new(cb, after.clone());
                run_handshake(&mut a, &mut b, &a_to_b, &b_to_a);
                let ra = a.result.take().expect("A finished");
                let rb = b.result.take().expect("B finished");
                if ta.is_compatible(tb) {
                    let pa = ra.unwrap();
                    let pb = rb.unwrap();
                    prop_assert_eq!(pa.socket_type, tb);
                    prop_assert_eq!(pb.socket_type, ta);
                    prop_assert_eq!(pa.version, Version::V3_1);
                    prop_assert_eq!(pb.version, Version::V3_1);
                    prop_assert_eq!(pa.routing_id, b_id.clone().filter(|id| !id.is_empty()));
                    prop_assert_eq!(pb.routing_id, a_id.clone().filter(|id| !id.is_empty()));
                    // Whatever followed READY is left for the frame decoder, intact.
                    prop_assert_eq!(&decode_all_frames(&mut a.input), &after);
                    prop_assert_eq!(&decode_all_frames(&mut b.input), &after);
                } else {
                    prop_assert_eq!(ra, Err(ZmtpError::IncompatibleSocketType { ours: ta, theirs: tb }));
                    prop_assert_eq!(rb, Err(ZmtpError::IncompatibleSocketType { ours: tb, theirs: ta }));
                }
            }
        }
    }

    /// (e) A header announcing more than `max` fails once the header is complete,
    /// before any of the body arrives, in any split of the header.
    #[test]
    fn oversized_frame_rejected_before_body(
        max in 0u64..100_000,
        excess in 1u64..1_000_000,
        long in any::<bool>(),
        more in any::<bool>(),
        command in any::<bool>(),
        sizes in chunks(),
    ) {
        let size = max + excess;
        let more = more && !command;
        let flags = u8::from(more) | if command { FLAG_COMMAND } else { 0 };
        let mut header = Vec::new();
        if long || size > 255 {
            header.push(flags | FLAG_LONG);
            header.extend_from_slice(&size.to_be_bytes());
        } else {
            header.push(flags);
            header.push(size as u8);
        }
        let mut dec = FrameDecoder::new(Some(max));
        let mut buf = BytesMut::new();
        let mut split = Splitter::new(&sizes);
        let mut pos = 0;
        let mut outcome = None;
        while pos < header.len() {
            let n = split.take().min(header.len() - pos);
            buf.extend_from_slice(&header[pos..pos + n]);
            pos += n;
            match dec.decode(&mut buf) {
                Ok(None) => prop_assert!(pos < header.len(), "complete header not judged"),
                Ok(Some(_)) => prop_assert!(false, "no body was sent"),
                Err(e) => {
                    prop_assert_eq!(pos, header.len(), "error before the header was complete");
                    outcome = Some(e);
                }
            }
        }
        prop_assert_eq!(outcome, Some(ZmtpError::TooLarge { size, max }));
    }

    /// (e) A header at or under `max` is accepted and the decoder waits for the body.
    #[test]
    fn frame_within_max_waits_for_body(max in 1u64..100_000, size_frac in 0.0f64..=1.0) {
        let size = ((max as f64) * size_frac) as u64;
        let size = size.clamp(1, max);
        let mut buf = BytesMut::new();
        frame::encode_header(&mut buf, size as usize, false, false);
        let mut dec = FrameDecoder::new(Some(max));
        prop_assert_eq!(dec.decode(&mut buf), Ok(None));
        prop_assert!(!dec.is_idle());
        prop_assert_eq!(dec.bytes_wanted(0), size as usize);
        buf.extend_from_slice(&vec![0xAB; size as usize]);
        let f = dec.decode(&mut buf).unwrap().unwrap();
        prop_assert_eq!(f.body.len() as u64, size);
        prop_assert!(buf.is_empty());
    }

    /// (e) During the handshake an oversized command header is rejected at once.
    #[test]
    fn handshake_rejects_oversized_command_header(
        ty in prop::sample::select(SocketType::ALL.to_vec()),
        max in 0u64..10_000,
        excess in 1u64..1_000_000,
    ) {
        let mut cfg = HandshakeConfig::new(ty);
        cfg.max_command_size = max;
        let mut hs = Handshake::new(cfg);
        let mut input = BytesMut::new();
        input.put_slice(&Greeting::ours(Mechanism::Null, false).encode());
        input.put_u8(FLAG_COMMAND | FLAG_LONG);
        input.put_u64(max + excess);
        prop_assert_eq!(
            hs.advance(&mut input, &mut BytesMut::new()),
            Err(ZmtpError::TooLarge { size: max + excess, max })
        );
    }
}
