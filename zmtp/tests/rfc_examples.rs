//! Byte-exact checks of the ZMTP wire format against the RFC texts.
//!
//! Covers RFC 23 (ZMTP 3.0) and RFC 37 (ZMTP 3.1): the 64-byte greeting (signature,
//! version, NUL-padded mechanism, as-server, filler), the exact greeting libzmq 4.3
//! sends, short and long data frames, short and long command frames, READY with
//! `Socket-Type` / `Identity` metadata, PING / PONG, SUBSCRIBE / CANCEL, ERROR with its
//! one-byte reason length, and the rejections the grammar implies (reserved flag bits,
//! MORE on a command, sizes of 2^63 and above). Every expected byte string here is
//! written out by hand from the grammar, not produced by the encoder under test.

use bytes::{Bytes, BytesMut};
use zeroring_zmtp::command::MAX_PING_CONTEXT;
use zeroring_zmtp::greeting::{GREETING_LEN, VERSION_DECIDED_AT};
use zeroring_zmtp::{
    Command, FrameDecoder, Greeting, Handshake, HandshakeConfig, Mechanism, Metadata, SocketType,
    Version, ZmtpError, frame,
};

/// Builds a 64-byte greeting by hand: signature, padding, version, mechanism, as-server.
fn greeting_bytes(padding: [u8; 8], major: u8, minor: u8, mechanism: &[u8], server: u8) -> Vec<u8> {
    let mut g = Vec::with_capacity(GREETING_LEN);
    g.push(0xFF); // signature start
    g.extend_from_slice(&padding); // 8 octets, not significant
    g.push(0x7F); // signature end
    g.push(major);
    g.push(minor);
    let mut mech = [0u8; 20]; // mechanism: 20 octets, NUL padded
    mech[..mechanism.len()].copy_from_slice(mechanism);
    g.extend_from_slice(&mech);
    g.push(server); // as-server
    g.extend_from_slice(&[0u8; 31]); // filler: 31 zero octets
    assert_eq!(g.len(), 64);
    g
}

/// The greeting libzmq 4.3 sends for a NULL socket without a routing id: the padding
/// is the routing-id length plus one as a big-endian u64, i.e. `00 00 00 00 00 00 00 01`.
const LIBZMQ_43_NULL_GREETING: [u8; 64] = [
    0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7F, // signature
    0x03, 0x01, // version 3.1
    b'N', b'U', b'L', b'L', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    // mechanism
    0x00, // as-server
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, // filler (31)
];

fn encode(cmd: &Command) -> Vec<u8> {
    let mut out = BytesMut::new();
    cmd.encode(&mut out);
    out.to_vec()
}

/// Decodes exactly one frame from `wire` and checks nothing is left over.
fn decode_one(wire: &[u8]) -> zeroring_zmtp::Frame {
    let mut buf = BytesMut::from(wire);
    let f = FrameDecoder::new(None)
        .decode(&mut buf)
        .expect("valid frame")
        .expect("complete frame");
    assert!(buf.is_empty(), "bytes left after the frame: {:?}", &buf[..]);
    f
}

/// Decodes one command frame and parses its body.
fn parse_command_frame(wire: &[u8]) -> Command {
    let f = decode_one(wire);
    assert!(f.command, "not a command frame");
    assert!(!f.more);
    Command::parse(f.body).expect("valid command")
}

// ---------------------------------------------------------------------------------
// Greeting
// ---------------------------------------------------------------------------------

#[test]
fn greeting_layout_null_3_1() {
    let ours = Greeting::ours(Mechanism::Null, false).encode();
    assert_eq!(ours.len(), GREETING_LEN);
    assert_eq!(ours[0], 0xFF, "signature starts with 0xFF");
    assert_eq!(ours[9], 0x7F, "signature ends with 0x7F");
    assert_eq!(&ours[10..12], &[3, 1], "version 3.1");
    assert_eq!(&ours[12..16], b"NULL");
    assert!(ours[16..32].iter().all(|&b| b == 0), "mechanism NUL padded");
    assert_eq!(ours[32], 0, "NULL: as-server must be zero");
    assert!(ours[33..].iter().all(|&b| b == 0), "31 zero filler octets");
    assert_eq!(ours.len() - 33, 31);
}

#[test]
fn our_greeting_is_exactly_libzmq_43s() {
    assert_eq!(
        Greeting::ours(Mechanism::Null, false).encode(),
        LIBZMQ_43_NULL_GREETING
    );
    assert_eq!(
        greeting_bytes([0, 0, 0, 0, 0, 0, 0, 1], 3, 1, b"NULL", 0),
        LIBZMQ_43_NULL_GREETING.to_vec()
    );
}

#[test]
fn libzmq_43_greeting_decodes() {
    let g = Greeting::decode(&LIBZMQ_43_NULL_GREETING).unwrap();
    assert_eq!(
        g,
        Greeting {
            version: Version::V3_1,
            mechanism: Mechanism::Null,
            as_server: false,
        }
    );
    assert!(g.version.uses_subscribe_commands());
    // libzmq sends the signature and major version first (11 octets), then the rest.
    assert_eq!(
        Greeting::peek_version(&LIBZMQ_43_NULL_GREETING[..VERSION_DECIDED_AT]).unwrap(),
        Some(Version { major: 3, minor: 0 })
    );
    assert_eq!(
        Greeting::peek_version(&LIBZMQ_43_NULL_GREETING[..12]).unwrap(),
        Some(Version::V3_1)
    );
}

#[test]
fn libzmq_greeting_with_routing_id_padding_decodes() {
    // With a 5-byte routing id libzmq puts 5 + 1 into the padding; it is not significant.
    let g = greeting_bytes([0, 0, 0, 0, 0, 0, 0, 6], 3, 1, b"NULL", 0);
    assert_eq!(Greeting::decode(&g).unwrap().mechanism, Mechanism::Null);
    // RFC 23 recommends all-zero padding for peers that do not downgrade.
    let g = greeting_bytes([0; 8], 3, 0, b"NULL", 0);
    let g = Greeting::decode(&g).unwrap();
    assert_eq!(g.version, Version::V3_0);
    assert!(!g.version.uses_subscribe_commands());
}

#[test]
fn greeting_mechanism_field_for_each_mechanism() {
    for (m, name) in [
        (Mechanism::Null, &b"NULL"[..]),
        (Mechanism::Plain, b"PLAIN"),
        (Mechanism::Curve, b"CURVE"),
    ] {
        for server in [false, true] {
            let expected = greeting_bytes([0, 0, 0, 0, 0, 0, 0, 1], 3, 1, name, u8::from(server));
            let g = Greeting::ours(m, server);
            assert_eq!(g.encode().to_vec(), expected, "{m} as_server={server}");
            assert_eq!(Greeting::decode(&expected).unwrap(), g);
        }
    }
}

#[test]
fn greeting_higher_versions_are_accepted() {
    // "A peer MUST accept higher protocol versions as valid."
    let g = greeting_bytes([0; 8], 3, 2, b"NULL", 0);
    assert_eq!(
        Greeting::decode(&g).unwrap().version,
        Version { major: 3, minor: 2 }
    );
}

#[test]
fn greeting_mechanism_must_be_nul_padded_known_name() {
    let g = greeting_bytes([0; 8], 3, 1, b"GSSAPI", 0);
    assert!(matches!(
        Greeting::decode(&g),
        Err(ZmtpError::UnknownMechanism(name)) if name == "GSSAPI"
    ));
    // Space padding is not NUL padding.
    let g = greeting_bytes([0; 8], 3, 1, b"NULL    ", 0);
    assert!(matches!(
        Greeting::decode(&g),
        Err(ZmtpError::UnknownMechanism(_))
    ));
}

#[test]
fn greeting_signature_is_checked_but_padding_is_not() {
    let mut g = LIBZMQ_43_NULL_GREETING;
    g[0] = 0xFE;
    assert_eq!(
        Greeting::peek_version(&g[..1]),
        Err(ZmtpError::BadSignature {
            index: 0,
            byte: 0xFE
        })
    );
    let mut g = greeting_bytes([0xAA; 8], 3, 1, b"NULL", 0);
    assert!(
        Greeting::decode(&g).is_ok(),
        "padding must not be validated"
    );
    g[9] = 0x00;
    assert!(matches!(
        Greeting::decode(&g),
        Err(ZmtpError::BadSignature { index: 9, .. })
    ));
    // ZMTP 2.0 peers announce major version 1 right after the signature.
    let g = greeting_bytes([0; 8], 1, 0, b"NULL", 0);
    assert_eq!(
        Greeting::peek_version(&g[..11]),
        Err(ZmtpError::UnsupportedVersion { major: 1 })
    );
}

// ---------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------

#[test]
fn short_frames() {
    // message-last = %x00 short-size message-body
    let mut out = BytesMut::new();
    frame::encode_frame(&mut out, b"Hello", false);
    assert_eq!(&out[..], b"\x00\x05Hello");
    // message-more = %x01 short-size message-body
    let mut out = BytesMut::new();
    frame::encode_frame(&mut out, b"Hello", true);
    assert_eq!(&out[..], b"\x01\x05Hello");
    // An empty frame has a size of zero.
    let mut out = BytesMut::new();
    frame::encode_frame(&mut out, b"", false);
    assert_eq!(&out[..], b"\x00\x00");

    let f = decode_one(b"\x01\x05Hello");
    assert!(f.more && !f.command);
    assert_eq!(&f.body[..], b"Hello");
    let f = decode_one(b"\x00\x00");
    assert!(!f.more && !f.command && f.body.is_empty());
}

#[test]
fn short_frame_at_255_bytes() {
    let body = [0x5Au8; 255];
    let mut out = BytesMut::new();
    frame::encode_frame(&mut out, &body, false);
    let mut expected = vec![0x00, 0xFF];
    expected.extend_from_slice(&body);
    assert_eq!(&out[..], &expected[..]);
    assert_eq!(frame::header_len(255), 2);
}

#[test]
fn long_frames() {
    // message-last = %x02 long-size message-body, long-size = 8 octets network order
    let body = vec![0xA5u8; 256];
    let mut out = BytesMut::new();
    frame::encode_frame(&mut out, &body, false);
    let mut expected = vec![0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x00];
    expected.extend_from_slice(&body);
    assert_eq!(&out[..], &expected[..]);
    assert_eq!(frame::header_len(256), 9);

    // message-more = %x03 long-size message-body
    let body = vec![7u8; 70_000];
    let mut out = BytesMut::new();
    frame::encode_frame(&mut out, &body, true);
    assert_eq!(&out[..9], &[0x03, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]);
    let f = decode_one(&out);
    assert!(f.more && !f.command);
    assert_eq!(f.body.len(), 70_000);
}

#[test]
fn long_size_may_carry_a_small_body() {
    // The grammar allows a long size for any body from 0 octets up.
    let f = decode_one(b"\x02\x00\x00\x00\x00\x00\x00\x00\x02hi");
    assert_eq!(&f.body[..], b"hi");
    let f = decode_one(b"\x06\x00\x00\x00\x00\x00\x00\x00\x00");
    assert!(f.command && f.body.is_empty());
}

#[test]
fn multipart_message() {
    let mut out = BytesMut::new();
    frame::encode_message(&mut out, &[&b""[..], b"A", b"BC"]);
    assert_eq!(&out[..], b"\x01\x00\x01\x01A\x00\x02BC");
}

#[test]
fn reserved_flag_bits_and_command_more_are_rejected() {
    // Bits 7-3 are reserved and MUST be zero.
    for flags in [0x08u8, 0x10, 0x20, 0x40, 0x80, 0xFF] {
        let mut buf = BytesMut::from(&[flags, 0][..]);
        assert_eq!(
            FrameDecoder::new(None).decode(&mut buf),
            Err(ZmtpError::ReservedFlags(flags))
        );
    }
    // MORE "SHALL be zero on command frames": 0x05 and 0x07.
    for flags in [0x05u8, 0x07] {
        let mut buf = BytesMut::from(&[flags, 0, 0, 0, 0, 0, 0, 0, 0][..]);
        assert_eq!(
            FrameDecoder::new(None).decode(&mut buf),
            Err(ZmtpError::CommandWithMore)
        );
    }
}

#[test]
fn long_size_above_2_pow_63_minus_1_is_rejected() {
    let mut buf = BytesMut::from(&[0x02, 0x80, 0, 0, 0, 0, 0, 0, 0][..]);
    assert_eq!(
        FrameDecoder::new(None).decode(&mut buf),
        Err(ZmtpError::InvalidSize(1 << 63))
    );
}

// ---------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------

/// READY from a REQ socket: `04 19 05 "READY" 0B "Socket-Type" 00 00 00 03 "REQ"`.
const READY_REQ: &[u8] = b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03REQ";

/// READY from a DEALER with routing id "ABC".
const READY_DEALER_ABC: &[u8] =
    b"\x04\x2c\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x03ABC";

#[test]
fn ready_with_socket_type() {
    assert_eq!(READY_REQ.len(), 2 + 0x19);
    let mut m = Metadata::new();
    m.insert("Socket-Type", "REQ");
    assert_eq!(encode(&Command::Ready(m.clone())), READY_REQ);
    assert_eq!(parse_command_frame(READY_REQ), Command::Ready(m));
    // What the handshake sends for a REQ socket is exactly this frame.
    let hs = Handshake::new(HandshakeConfig::new(SocketType::Req));
    assert_eq!(encode(&hs.ready_command()), READY_REQ);
}

#[test]
fn ready_with_socket_type_and_identity() {
    assert_eq!(READY_DEALER_ABC.len(), 2 + 0x2c);
    let mut cfg = HandshakeConfig::new(SocketType::Dealer);
    cfg.routing_id = Some(Bytes::from_static(b"ABC"));
    let hs = Handshake::new(cfg);
    assert_eq!(encode(&hs.ready_command()), READY_DEALER_ABC);
    let Command::Ready(m) = parse_command_frame(READY_DEALER_ABC) else {
        panic!("not READY")
    };
    assert_eq!(m.len(), 2);
    assert_eq!(m.get("Socket-Type").unwrap().as_ref(), b"DEALER");
    assert_eq!(m.get("identity").unwrap().as_ref(), b"ABC");
    // An empty routing id is not sent at all.
    let mut cfg = HandshakeConfig::new(SocketType::Dealer);
    cfg.routing_id = Some(Bytes::new());
    let Command::Ready(m) = Handshake::new(cfg).ready_command() else {
        panic!("not READY")
    };
    assert!(m.get("Identity").is_none());
}

#[test]
fn ready_property_names_are_case_insensitive() {
    // "The case (upper or lower) of names SHALL NOT be significant."
    let wire = b"\x04\x19\x05READY\x0bSOCKET-TYPE\x00\x00\x00\x03REP";
    let Command::Ready(m) = parse_command_frame(wire) else {
        panic!("not READY")
    };
    assert_eq!(m.get("socket-type").unwrap().as_ref(), b"REP");
    assert_eq!(
        m.iter().next().unwrap().0,
        "SOCKET-TYPE",
        "name kept as sent"
    );
}

#[test]
fn ready_empty_value_and_extra_properties() {
    // Zero-sized values are allowed; "X-" names are for applications.
    let wire = b"\x04\x26\x05READY\x0bSocket-Type\x00\x00\x00\x04PAIR\x07X-Empty\x00\x00\x00\x00";
    assert_eq!(wire.len(), 2 + 0x26);
    let Command::Ready(m) = parse_command_frame(wire) else {
        panic!("not READY")
    };
    assert_eq!(m.get("x-empty").map(|v| v.len()), Some(0));
    assert_eq!(encode(&Command::Ready(m)), wire);
}

#[test]
fn ready_name_characters_are_restricted() {
    // name-char = ALPHA | DIGIT | "-" | "_" | "." | "+"
    let ok = b"\x05READY\x05a-_.+\x00\x00\x00\x00";
    assert!(Command::parse(Bytes::from_static(ok)).is_ok());
    let bad = b"\x05READY\x05a b:c\x00\x00\x00\x00";
    assert!(matches!(
        Command::parse(Bytes::from_static(bad)),
        Err(ZmtpError::MalformedMetadata(_))
    ));
    let empty_name = b"\x05READY\x00\x00\x00\x00\x00";
    assert!(Command::parse(Bytes::from_static(empty_name)).is_err());
}

#[test]
fn large_ready_uses_the_long_command_form() {
    // A command body of 256 octets or more uses %x06 and an 8-octet size.
    let mut m = Metadata::new();
    m.insert("X-Big", vec![b'z'; 300]);
    let wire = encode(&Command::Ready(m.clone()));
    let body_len = 1 + 5 + (1 + 5 + 4 + 300);
    let mut expected = vec![0x06];
    expected.extend_from_slice(&(body_len as u64).to_be_bytes());
    expected.extend_from_slice(b"\x05READY\x05X-Big\x00\x00\x01\x2c");
    expected.extend_from_slice(&[b'z'; 300]);
    assert_eq!(wire, expected);
    assert_eq!(parse_command_frame(&wire), Command::Ready(m));
}

#[test]
fn ping_layout() {
    // ping = command-size %d4 "PING" ping-ttl ping-context; TTL 3.0 s = 30 deciseconds.
    let wire = b"\x04\x0a\x04PING\x00\x1eabc";
    let ping = Command::Ping {
        ttl_deciseconds: 30,
        context: Bytes::from_static(b"abc"),
    };
    assert_eq!(encode(&ping), wire);
    assert_eq!(parse_command_frame(wire), ping);

    // TTL is big-endian: 0x0102 = 258 deciseconds; zero TTL and empty context allowed.
    let Command::Ping {
        ttl_deciseconds, ..
    } = parse_command_frame(b"\x04\x07\x04PING\x01\x02")
    else {
        panic!("not PING")
    };
    assert_eq!(ttl_deciseconds, 258);
    let zero = Command::Ping {
        ttl_deciseconds: 0,
        context: Bytes::new(),
    };
    assert_eq!(encode(&zero), b"\x04\x07\x04PING\x00\x00");
    // Maximum TTL: 6553.5 s.
    let max = Command::Ping {
        ttl_deciseconds: u16::MAX,
        context: Bytes::from_static(&[0xEE; 16]),
    };
    let wire = encode(&max);
    assert_eq!(&wire[..9], b"\x04\x17\x04PING\xff\xff");
    assert_eq!(parse_command_frame(&wire), max);
}

#[test]
fn ping_without_ttl_is_malformed_and_long_context_is_cut_to_16() {
    assert!(Command::parse(Bytes::from_static(b"\x04PING\x00")).is_err());
    let mut body = b"\x04PING\x00\x0a".to_vec();
    body.extend_from_slice(&[1u8; 17]);
    let Command::Ping { context, .. } = Command::parse(Bytes::from(body)).unwrap() else {
        panic!("not PING")
    };
    assert_eq!(context.len(), MAX_PING_CONTEXT);
    assert_eq!(MAX_PING_CONTEXT, 16);
}

#[test]
fn pong_layout() {
    // pong = command-size %d4 "PONG" ping-context
    let wire = b"\x04\x08\x04PONGabc";
    let pong = Command::Pong(Bytes::from_static(b"abc"));
    assert_eq!(encode(&pong), wire);
    assert_eq!(parse_command_frame(wire), pong);
    assert_eq!(encode(&Command::Pong(Bytes::new())), b"\x04\x05\x04PONG");
}

#[test]
fn subscribe_and_cancel_layout() {
    // subscribe = command-size %d9 "SUBSCRIBE" subscription
    let sub = b"\x04\x0b\x09SUBSCRIBEA";
    assert_eq!(encode(&Command::Subscribe(Bytes::from_static(b"A"))), sub);
    assert_eq!(
        parse_command_frame(sub),
        Command::Subscribe(Bytes::from_static(b"A"))
    );
    // An empty subscription matches everything.
    let all = b"\x04\x0a\x09SUBSCRIBE";
    assert_eq!(encode(&Command::Subscribe(Bytes::new())), all);
    assert_eq!(parse_command_frame(all), Command::Subscribe(Bytes::new()));
    // cancel = command-size %d6 "CANCEL" subscription
    let cancel = b"\x04\x08\x06CANCELA";
    assert_eq!(encode(&Command::Cancel(Bytes::from_static(b"A"))), cancel);
    assert_eq!(
        parse_command_frame(cancel),
        Command::Cancel(Bytes::from_static(b"A"))
    );
    // Binary topics are opaque.
    let topic = Bytes::from_static(&[0x00, 0xFF, 0x01]);
    assert_eq!(
        encode(&Command::Subscribe(topic.clone())),
        b"\x04\x0d\x09SUBSCRIBE\x00\xff\x01"
    );
}

#[test]
fn zmtp_3_0_subscription_is_a_data_frame() {
    // RFC 23: subscribe = %x00 short-size %d1 subscription; cancel uses %d0.
    let f = decode_one(b"\x00\x02\x01A");
    assert!(!f.command && !f.more);
    assert_eq!(&f.body[..], b"\x01A");
    let f = decode_one(b"\x00\x02\x00A");
    assert_eq!(&f.body[..], b"\x00A");
}

#[test]
fn error_layout() {
    // error = command-size %d5 "ERROR" error-reason; error-reason = OCTET 0*255VCHAR
    let wire = b"\x04\x0a\x05ERROR\x03bad";
    let err = Command::Error("bad".into());
    assert_eq!(encode(&err), wire);
    assert_eq!(parse_command_frame(wire), err);
    let empty = b"\x04\x07\x05ERROR\x00";
    assert_eq!(encode(&Command::Error(String::new())), empty);
    assert_eq!(parse_command_frame(empty), Command::Error(String::new()));
}

#[test]
fn error_reason_is_at_most_255_bytes() {
    let reason = "x".repeat(300);
    let wire = encode(&Command::Error(reason));
    // 1 + 5 + 1 + 255 = 262 octets: a long command frame.
    let mut expected = vec![0x06, 0, 0, 0, 0, 0, 0, 0x01, 0x06];
    expected.extend_from_slice(b"\x05ERROR\xff");
    expected.extend_from_slice(&[b'x'; 255]);
    assert_eq!(wire, expected);
    assert_eq!(parse_command_frame(&wire), Command::Error("x".repeat(255)));
    // The reason length must match the frame.
    assert!(Command::parse(Bytes::from_static(b"\x05ERROR\x04bad")).is_err());
    assert!(Command::parse(Bytes::from_static(b"\x05ERROR")).is_err());
}

#[test]
fn error_reason_with_invalid_utf8_stays_within_255_bytes() {
    // 86 bytes of 0xFF become 86 U+FFFD (258 bytes) when decoded lossily; the parsed
    // reason is cut back to 255 bytes so it re-encodes to the same command.
    // (Found by the `command` fuzz target.)
    let mut body = b"\x05ERROR\x56".to_vec();
    body.extend_from_slice(&[0xFF; 86]);
    let parsed = Command::parse(Bytes::from(body)).unwrap();
    let Command::Error(reason) = &parsed else {
        panic!("not ERROR")
    };
    assert!(reason.len() <= 255);
    assert_eq!(reason.chars().count(), 85);
    assert_eq!(parse_command_frame(&encode(&parsed)), parsed);
}

#[test]
fn unknown_commands_are_kept_for_the_engine() {
    // Mechanisms "MAY use any command names they need to".
    let wire = b"\x04\x09\x05HELLOabc";
    assert_eq!(
        parse_command_frame(wire),
        Command::Unknown {
            name: Bytes::from_static(b"HELLO"),
            data: Bytes::from_static(b"abc"),
        }
    );
    // Names are compared exactly, as libzmq does.
    assert!(matches!(
        parse_command_frame(b"\x04\x05\x04ping"),
        Command::Unknown { .. }
    ));
    // command-name = short-size 1*255command-name-char: empty names are malformed.
    assert!(Command::parse(Bytes::from_static(b"\x00abc")).is_err());
}

// ---------------------------------------------------------------------------------
// NULL handshake transcripts
// ---------------------------------------------------------------------------------

#[test]
fn null_handshake_against_a_libzmq_style_transcript() {
    // The peer (a REP socket) sends its greeting and READY back to back.
    let mut input = BytesMut::new();
    input.extend_from_slice(&LIBZMQ_43_NULL_GREETING);
    input.extend_from_slice(b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03REP");
    input.extend_from_slice(b"\x00\x05World"); // first message right behind it
    let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Req));
    assert_eq!(hs.greeting(), LIBZMQ_43_NULL_GREETING);
    let mut output = BytesMut::new();
    let peer = hs.advance(&mut input, &mut output).unwrap().unwrap();
    assert!(hs.is_done());
    assert_eq!(peer.version, Version::V3_1);
    assert_eq!(peer.socket_type, SocketType::Rep);
    assert_eq!(peer.routing_id, None);
    assert_eq!(&output[..], READY_REQ, "we answer with exactly our READY");
    assert_eq!(
        &input[..],
        b"\x00\x05World",
        "traffic stays for the decoder"
    );
}

#[test]
fn null_handshake_carries_identity_to_a_router() {
    let mut input = BytesMut::new();
    input.extend_from_slice(&greeting_bytes([0, 0, 0, 0, 0, 0, 0, 4], 3, 1, b"NULL", 0));
    input.extend_from_slice(READY_DEALER_ABC);
    let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Router));
    let peer = hs
        .advance(&mut input, &mut BytesMut::new())
        .unwrap()
        .unwrap();
    assert_eq!(peer.socket_type, SocketType::Dealer);
    assert_eq!(peer.routing_id, Some(Bytes::from_static(b"ABC")));
    assert!(input.is_empty());
}

#[test]
fn identity_starting_with_zero_is_rejected() {
    // "The first octet of the Identity SHALL NOT be zero."
    let mut input = BytesMut::new();
    input.extend_from_slice(&LIBZMQ_43_NULL_GREETING);
    input.extend_from_slice(
        b"\x04\x2c\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x03\x00BC",
    );
    let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Router));
    assert!(matches!(
        hs.advance(&mut input, &mut BytesMut::new()),
        Err(ZmtpError::InvalidIdentity(_))
    ));
}

#[test]
fn error_instead_of_ready_ends_the_handshake() {
    // null = ready *message | error
    let mut input = BytesMut::new();
    input.extend_from_slice(&LIBZMQ_43_NULL_GREETING);
    input.extend_from_slice(b"\x04\x0a\x05ERROR\x03bad");
    let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Req));
    assert_eq!(
        hs.advance(&mut input, &mut BytesMut::new()),
        Err(ZmtpError::PeerError("bad".into()))
    );
}

#[test]
fn zmtp_3_0_peer_handshake() {
    let mut input = BytesMut::new();
    input.extend_from_slice(&greeting_bytes([0; 8], 3, 0, b"NULL", 0));
    input.extend_from_slice(b"\x04\x1a\x05READY\x0bSocket-Type\x00\x00\x00\x04PULL");
    let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Push));
    let peer = hs
        .advance(&mut input, &mut BytesMut::new())
        .unwrap()
        .unwrap();
    assert_eq!(peer.version, Version::V3_0);
    assert!(!peer.version.uses_subscribe_commands());
    assert_eq!(peer.socket_type, SocketType::Pull);
}

#[test]
fn incompatible_or_unknown_socket_types_are_rejected() {
    let mut input = BytesMut::new();
    input.extend_from_slice(&LIBZMQ_43_NULL_GREETING);
    input.extend_from_slice(READY_REQ);
    let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Req));
    assert_eq!(
        hs.advance(&mut input, &mut BytesMut::new()),
        Err(ZmtpError::IncompatibleSocketType {
            ours: SocketType::Req,
            theirs: SocketType::Req
        })
    );
    // CLIENT is in RFC 37's list but zeroring does not implement it.
    let mut input = BytesMut::new();
    input.extend_from_slice(&LIBZMQ_43_NULL_GREETING);
    input.extend_from_slice(b"\x04\x1c\x05READY\x0bSocket-Type\x00\x00\x00\x06CLIENT");
    let mut hs = Handshake::new(HandshakeConfig::new(SocketType::Req));
    assert_eq!(
        hs.advance(&mut input, &mut BytesMut::new()),
        Err(ZmtpError::UnknownSocketType("CLIENT".into()))
    );
}

#[test]
fn rfc_compatibility_table() {
    use SocketType::*;
    // Rows of the RFC 23 / RFC 37 table restricted to the socket types zeroring has.
    let table: [(SocketType, &[SocketType]); 11] = [
        (Req, &[Rep, Router]),
        (Rep, &[Req, Dealer]),
        (Dealer, &[Rep, Dealer, Router]),
        (Router, &[Req, Dealer, Router]),
        (Pub, &[Sub, Xsub]),
        (Xpub, &[Sub, Xsub]),
        (Sub, &[Pub, Xpub]),
        (Xsub, &[Pub, Xpub]),
        (Push, &[Pull]),
        (Pull, &[Push]),
        (Pair, &[Pair]),
    ];
    for (ours, peers) in table {
        for theirs in SocketType::ALL {
            assert_eq!(
                ours.is_compatible(theirs),
                peers.contains(&theirs),
                "{ours} with {theirs}"
            );
        }
    }
}
