//! After a CURVE handshake: every frame travels sealed in a MESSAGE, whichever
//! way it was produced ([`Session::seal`] on plain batches split anywhere,
//! `encode_message`, subscriptions, PING and PONG); altered, replayed,
//! reordered, plain and oversized frames end the connection with a typed reason.

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use zeroring_zmtp::frame::{self, FLAG_COMMAND, FLAG_LONG, FrameDecoder};
use zeroring_zmtp::session::MessageLimits;
use zeroring_zmtp::{
    CloseReason, Command, CurveBox, Event, Message, Security, SessionConfig, SocketType, ZmtpError,
};

use crate::harness::{Pair, client_keys, config, server_keys, server_public};

fn curve(a_type: SocketType, b_type: SocketType, tweak: impl FnOnce(&mut SessionConfig)) -> Pair {
    let a = config(
        a_type,
        Security::CurveClient {
            keys: client_keys(),
            server_key: server_public(),
        },
        1,
    );
    let mut b = config(
        b_type,
        Security::CurveServer {
            keys: server_keys(),
        },
        2,
    );
    tweak(&mut b);
    let mut p = Pair::new(a, b);
    p.run();
    assert!(p.a.is_ready() && p.b.is_ready());
    assert!(p.a.session.is_encrypting() && p.b.session.is_encrypting());
    p
}

fn push_pull() -> Pair {
    curve(SocketType::Push, SocketType::Pull, |_| {})
}

/// One sealed message from `a`, as bytes on the wire.
fn sealed(p: &mut Pair, msg: &Message) -> BytesMut {
    let mut wire = BytesMut::new();
    p.a.session.encode_message(msg, &mut wire);
    wire
}

fn receive(p: &mut Pair, wire: &mut BytesMut) -> Result<Option<Event>, CloseReason> {
    p.b.session.poll_input(wire)
}

#[test]
fn frames_travel_as_message_data_frames() {
    let mut p = push_pull();
    let msg = Message::from(vec!["a", "b"]);
    let mut wire = sealed(&mut p, &msg);
    let mut copy = wire.clone();
    let mut dec = FrameDecoder::new(None);
    for nonce in [3u64, 4] {
        let f = dec.decode(&mut copy).unwrap().unwrap();
        assert!(!f.command && !f.more);
        assert_eq!(&f.body[..8], b"\x07MESSAGE");
        assert_eq!(&f.body[8..16], &nonce.to_be_bytes());
        assert_eq!(f.body.len(), 33 + 1);
    }
    assert_eq!(receive(&mut p, &mut wire), Ok(Some(Event::Message(msg))));
}

#[test]
fn tampered_message_is_rejected() {
    let mut p = push_pull();
    let mut wire = sealed(&mut p, &Message::from("secret"));
    let last = wire.len() - 1;
    wire[last] ^= 0x01;
    assert_eq!(
        receive(&mut p, &mut wire),
        Err(CloseReason::Protocol(ZmtpError::CurveBoxRejected(
            CurveBox::Message
        )))
    );
}

#[test]
fn replayed_message_is_rejected() {
    let mut p = push_pull();
    let wire = sealed(&mut p, &Message::from("pay 10"));
    assert!(matches!(
        receive(&mut p, &mut wire.clone()),
        Ok(Some(Event::Message(_)))
    ));
    assert_eq!(
        receive(&mut p, &mut wire.clone()),
        Err(CloseReason::Protocol(ZmtpError::CurveNonceReused {
            nonce: 3,
            previous: 3
        }))
    );
}

#[test]
fn reordered_messages_are_rejected() {
    let mut p = push_pull();
    let first = sealed(&mut p, &Message::from("1"));
    let mut second = sealed(&mut p, &Message::from("2"));
    assert!(matches!(
        receive(&mut p, &mut second),
        Ok(Some(Event::Message(_)))
    ));
    assert_eq!(
        receive(&mut p, &mut first.clone()),
        Err(CloseReason::Protocol(ZmtpError::CurveNonceReused {
            nonce: 3,
            previous: 4
        }))
    );
}

#[test]
fn plain_frames_are_refused_after_the_handshake() {
    let mut p = push_pull();
    let mut wire = BytesMut::new();
    frame::encode_frame(&mut wire, b"in the clear", false);
    assert!(matches!(
        receive(&mut p, &mut wire),
        Err(CloseReason::Protocol(ZmtpError::UnexpectedCommand { .. }))
    ));
    let mut p = push_pull();
    let mut wire = BytesMut::new();
    Command::Ping {
        ttl_deciseconds: 0,
        context: Bytes::new(),
    }
    .encode(&mut wire);
    assert!(matches!(
        receive(&mut p, &mut wire),
        Err(CloseReason::Protocol(ZmtpError::UnexpectedCommand { .. }))
    ));
}

#[test]
fn huge_declared_lengths_are_bounded_by_the_limits() {
    let limit = |b: &mut SessionConfig| {
        b.limits = MessageLimits {
            max_size: Some(1000),
            max_frames: Some(16),
        }
    };
    // A MESSAGE frame announcing 1 TiB is refused from its header.
    let mut p = curve(SocketType::Push, SocketType::Pull, limit);
    let mut wire = BytesMut::new();
    wire.put_u8(FLAG_LONG);
    wire.put_u64(1 << 40);
    assert!(matches!(
        receive(&mut p, &mut wire),
        Err(CloseReason::Protocol(ZmtpError::TooLarge { size, .. })) if size == 1 << 40
    ));
    // So is a command frame (its limit is the command limit plus the box).
    let mut p = curve(SocketType::Push, SocketType::Pull, limit);
    let mut wire = BytesMut::new();
    wire.put_u8(FLAG_LONG | FLAG_COMMAND);
    wire.put_u64(1 << 20);
    assert!(matches!(
        receive(&mut p, &mut wire),
        Err(CloseReason::Protocol(ZmtpError::TooLarge { .. }))
    ));
    // A genuine message over MAXMSGSIZE opens, then fails the message limit.
    let mut p = curve(SocketType::Push, SocketType::Pull, limit);
    let mut wire = sealed(&mut p, &Message::from(vec![0u8; 1001]));
    assert!(matches!(
        receive(&mut p, &mut wire),
        Err(CloseReason::MessageTooLarge { max: 1000, .. })
    ));
    // Exactly MAXMSGSIZE still fits, box and all.
    let mut p = curve(SocketType::Push, SocketType::Pull, limit);
    let mut wire = sealed(&mut p, &Message::from(vec![0u8; 1000]));
    assert!(matches!(
        receive(&mut p, &mut wire),
        Ok(Some(Event::Message(m))) if m[0].len() == 1000
    ));
}

#[test]
fn seal_takes_plain_batches_split_anywhere() {
    let messages = [
        Message::from(vec![&b"k"[..], &[5u8; 300][..]]),
        Message::from(""),
        Message::from(vec![vec![1u8; 70_000]]),
    ];
    let mut plain = BytesMut::new();
    for m in &messages {
        frame::encode_message(&mut plain, m.frames());
    }
    let expected: Vec<Event> = messages.iter().cloned().map(Event::Message).collect();
    for split in [1, 2, 3, 9, 100, 256, 4096, plain.len()] {
        let mut p = push_pull();
        let mut wire = BytesMut::new();
        for chunk in plain.chunks(split) {
            p.a.session.seal(chunk, &mut wire);
        }
        assert!(!p.a.session.seal_pending());
        let mut got = Vec::new();
        while let Some(e) = receive(&mut p, &mut wire).unwrap() {
            got.push(e);
        }
        assert_eq!(got, expected, "split {split}");
    }
    // Sealing a batch writes the same bytes as encode_message would.
    let (mut p, mut q) = (push_pull(), push_pull());
    let (mut via_seal, mut via_encode) = (BytesMut::new(), BytesMut::new());
    p.a.session.seal(&plain, &mut via_seal);
    for m in &messages {
        q.a.session.encode_message(m, &mut via_encode);
    }
    assert_eq!(via_seal, via_encode);
}

#[test]
fn a_session_without_curve_passes_batches_through() {
    let mut p = Pair::new(
        config(SocketType::Push, Security::Null, 1),
        config(SocketType::Pull, Security::Null, 2),
    );
    p.run();
    assert!(!p.a.session.is_encrypting());
    let mut out = BytesMut::new();
    p.a.session.seal(b"\x00\x01x", &mut out);
    assert_eq!(&out[..], b"\x00\x01x");
}

#[test]
fn heartbeats_travel_sealed() {
    let mut p = curve(SocketType::Dealer, SocketType::Router, |b| {
        b.heartbeat.ivl = Some(Duration::from_secs(1));
    });
    let due = p.b.session.poll_timeout().expect("a PING is due");
    p.b.session.handle_timeout(due).unwrap();
    let mut ping = BytesMut::new();
    assert!(p.b.session.poll_transmit(&mut ping));
    let mut copy = ping.clone();
    let f = FrameDecoder::new(None).decode(&mut copy).unwrap().unwrap();
    assert!(!f.command && f.body.starts_with(b"\x07MESSAGE"));
    assert!(!ping.windows(4).any(|w| w == b"PING"), "PING in the clear");
    assert_eq!(p.a.session.poll_input(&mut ping), Ok(None));
    let mut pong = BytesMut::new();
    assert!(p.a.session.poll_transmit(&mut pong));
    assert!(!pong.windows(4).any(|w| w == b"PONG"), "PONG in the clear");
    assert_eq!(p.b.session.poll_input(&mut pong), Ok(None));
}

#[test]
fn subscriptions_travel_sealed() {
    let mut p = curve(SocketType::Sub, SocketType::Xpub, |_| {});
    let topic = Bytes::from_static(b"news");
    let mut wire = BytesMut::new();
    p.a.session.encode_subscription(true, &topic, &mut wire);
    p.a.session.encode_subscription(false, &topic, &mut wire);
    assert!(!wire.windows(4).any(|w| w == b"news"));
    assert_eq!(
        receive(&mut p, &mut wire),
        Ok(Some(Event::Subscribe(topic.clone())))
    );
    assert_eq!(receive(&mut p, &mut wire), Ok(Some(Event::Cancel(topic))));
}

#[test]
fn the_server_seals_too() {
    let mut p = push_pull();
    let mut wire = BytesMut::new();
    // A PULL sends nothing but commands; a sealed PING from the server opens
    // on the client with the server's prefix and a nonce after READY's (1).
    let mut ping = BytesMut::new();
    Command::Ping {
        ttl_deciseconds: 0,
        context: Bytes::from_static(b"c"),
    }
    .encode(&mut ping);
    p.b.session.seal(&ping, &mut wire);
    assert_eq!(&wire[2 + 8..2 + 16], &2u64.to_be_bytes());
    assert_eq!(p.a.session.poll_input(&mut wire), Ok(None));
    assert!(p.a.session.wants_transmit(), "a PONG answers");
}
