//! The bytes PLAIN and CURVE put on the wire, checked against the layouts of
//! RFC 24 and RFC 26 as libzmq implements them (sizes, offsets, nonces,
//! prefixes), and opened by hand where a box can be.

use bytes::{Bytes, BytesMut};
use zeroring_zmtp::greeting::GREETING_LEN;
use zeroring_zmtp::{FrameDecoder, Greeting, Mechanism, Security, SocketType};

use crate::harness::{Pair, client_keys, config, server_keys, server_public};

/// The greeting and the command frames (bodies) of a transcript.
fn split_transcript(sent: &[u8]) -> (Greeting, Vec<(bool, Bytes)>) {
    let greeting = Greeting::decode(&sent[..GREETING_LEN]).unwrap();
    let mut rest = BytesMut::from(&sent[GREETING_LEN..]);
    let mut dec = FrameDecoder::new(None);
    let mut frames = Vec::new();
    while let Some(f) = dec.decode(&mut rest).unwrap() {
        frames.push((f.command, f.body));
    }
    assert!(rest.is_empty());
    (greeting, frames)
}

#[test]
fn plain_layout() {
    let a = config(
        SocketType::Req,
        Security::plain_client("admin", "secret").unwrap(),
        1,
    );
    let b = config(SocketType::Rep, Security::PlainServer, 2);
    let mut p = Pair::new(a, b);
    p.run();
    let (g, frames) = split_transcript(&p.a.sent);
    assert_eq!((g.mechanism, g.as_server), (Mechanism::Plain, false));
    assert_eq!(
        frames[0],
        (true, Bytes::from_static(b"\x05HELLO\x05admin\x06secret"))
    );
    assert_eq!(
        frames[1],
        (
            true,
            Bytes::from_static(b"\x08INITIATE\x0bSocket-Type\x00\x00\x00\x03REQ")
        )
    );
    let (g, frames) = split_transcript(&p.b.sent);
    assert_eq!((g.mechanism, g.as_server), (Mechanism::Plain, true));
    assert_eq!(frames[0], (true, Bytes::from_static(b"\x07WELCOME")));
    assert_eq!(
        frames[1],
        (
            true,
            Bytes::from_static(b"\x05READY\x0bSocket-Type\x00\x00\x00\x03REP")
        )
    );
}

#[test]
fn curve_layout() {
    let a = config(
        SocketType::Req,
        Security::CurveClient {
            keys: client_keys(),
            server_key: server_public(),
        },
        1,
    );
    let b = config(
        SocketType::Rep,
        Security::CurveServer {
            keys: server_keys(),
        },
        2,
    );
    let mut p = Pair::new(a, b);
    p.run();
    assert!(p.a.is_ready() && p.b.is_ready());

    let (g, frames) = split_transcript(&p.a.sent);
    assert_eq!((g.mechanism, g.as_server), (Mechanism::Curve, false));
    let [(true, hello), (true, initiate)] = &frames[..] else {
        panic!("client sent {frames:?}");
    };
    assert_eq!(hello.len(), 200);
    assert_eq!(&hello[..6], b"\x05HELLO");
    assert_eq!(&hello[6..8], &[1, 0], "CurveZMQ 1.0");
    assert!(hello[8..80].iter().all(|&b| b == 0), "72 bytes of padding");
    assert_eq!(&hello[112..120], &1u64.to_be_bytes(), "first short nonce");
    // Socket-Type REQ: 1 + 11 + 4 + 3 bytes of metadata.
    assert_eq!(initiate.len(), 257 + 19);
    assert_eq!(&initiate[..9], b"\x08INITIATE");
    assert_eq!(&initiate[105..113], &2u64.to_be_bytes());

    let (g, frames) = split_transcript(&p.b.sent);
    assert_eq!((g.mechanism, g.as_server), (Mechanism::Curve, true));
    let [(true, welcome), (true, ready)] = &frames[..] else {
        panic!("server sent {frames:?}");
    };
    assert_eq!(welcome.len(), 168);
    assert_eq!(&welcome[..8], b"\x07WELCOME");
    assert_eq!(ready.len(), 30 + 19);
    assert_eq!(&ready[..6], b"\x05READY");
    assert_eq!(&ready[6..14], &1u64.to_be_bytes());
    // Nothing readable leaks: the metadata travels boxed.
    assert!(!p.a.sent.windows(11).any(|w| w == b"Socket-Type"));
    assert!(!p.b.sent.windows(11).any(|w| w == b"Socket-Type"));
}
