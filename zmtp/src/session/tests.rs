//! Two sessions wired together in memory with a simulated clock: handshake,
//! messages, limits, heartbeats, TTL and handshake deadlines, with no sleeps.

use std::time::{Duration, Instant};

use bytes::BytesMut;

use super::*;

/// Two sessions and the bytes in flight between them; `now` is the shared clock.
struct Pair {
    a: Session,
    b: Session,
    to_a: BytesMut,
    to_b: BytesMut,
    now: Instant,
}

impl Pair {
    fn new(a: SessionConfig, b: SessionConfig) -> Pair {
        let now = Instant::now();
        Pair {
            a: Session::new(a, now),
            b: Session::new(b, now),
            to_a: BytesMut::new(),
            to_b: BytesMut::new(),
            now,
        }
    }

    /// Moves bytes both ways until nothing moves; returns the events of each side.
    fn pump(&mut self) -> (Vec<Event>, Vec<Event>) {
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        loop {
            let moved = self.a.poll_transmit(&mut self.to_b) | self.b.poll_transmit(&mut self.to_a);
            let mut got = false;
            while let Some(e) = self.a.poll_input(&mut self.to_a).unwrap() {
                if matches!(e, Event::Ready(_)) {
                    self.a.start(self.now);
                }
                ea.push(e);
                got = true;
            }
            while let Some(e) = self.b.poll_input(&mut self.to_b).unwrap() {
                if matches!(e, Event::Ready(_)) {
                    self.b.start(self.now);
                }
                eb.push(e);
                got = true;
            }
            if !moved && !got {
                return (ea, eb);
            }
        }
    }

    fn ready(a: SessionConfig, b: SessionConfig) -> Pair {
        let mut p = Pair::new(a, b);
        let (ea, eb) = p.pump();
        assert!(matches!(ea[..], [Event::Ready(_)]), "{ea:?}");
        assert!(matches!(eb[..], [Event::Ready(_)]), "{eb:?}");
        p
    }

    fn advance(&mut self, d: Duration) {
        self.now += d;
    }
}

fn config(t: SocketType) -> SessionConfig {
    SessionConfig::new(t)
}

#[test]
fn handshake_and_messages_at_any_split() {
    let mut p = Pair::ready(config(SocketType::Push), config(SocketType::Pull));
    let mut wire = BytesMut::new();
    p.a.encode_message(&Message::from(vec!["a", "bb", ""]), &mut wire);
    p.a.encode_message(&Message::from(vec![vec![7u8; 300]]), &mut wire);
    // Feed it one byte at a time.
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in wire.iter() {
        buf.extend_from_slice(&[*b]);
        while let Some(e) = p.b.poll_input(&mut buf).unwrap() {
            got.push(e);
        }
    }
    assert_eq!(
        got,
        vec![
            Event::Message(Message::from(vec!["a", "bb", ""])),
            Event::Message(Message::from(vec![vec![7u8; 300]])),
        ]
    );
}

#[test]
fn incompatible_socket_types_get_an_error_command() {
    let mut p = Pair::new(config(SocketType::Push), config(SocketType::Push));
    p.a.poll_transmit(&mut p.to_b);
    p.b.poll_transmit(&mut p.to_a);
    let _ = p.a.poll_input(&mut p.to_a).unwrap();
    p.a.poll_transmit(&mut p.to_b);
    let err = p.b.poll_input(&mut p.to_b).unwrap_err();
    assert!(matches!(
        err,
        CloseReason::Protocol(ZmtpError::IncompatibleSocketType { .. })
    ));
    let mut out = BytesMut::new();
    assert!(p.b.poll_transmit(&mut out));
    assert!(out.windows(5).any(|w| w == b"ERROR"), "{out:?}");
}

#[test]
fn handshake_deadline() {
    let mut cfg = config(SocketType::Pull);
    cfg.handshake_timeout = Some(Duration::from_secs(2));
    let now = Instant::now();
    let mut s = Session::new(cfg, now);
    assert_eq!(s.poll_timeout(), Some(now + Duration::from_secs(2)));
    assert!(s.handle_timeout(now + Duration::from_millis(1999)).is_ok());
    assert_eq!(
        s.handle_timeout(now + Duration::from_secs(2)),
        Err(CloseReason::HandshakeTimeout)
    );
    // No limit: nothing scheduled.
    let mut cfg = config(SocketType::Pull);
    cfg.handshake_timeout = None;
    assert_eq!(Session::new(cfg, now).poll_timeout(), None);
}

#[test]
fn heartbeat_pings_and_times_out_without_traffic() {
    let mut a = config(SocketType::Dealer);
    a.heartbeat = HeartbeatConfig {
        ivl: Some(Duration::from_secs(1)),
        ttl: Some(Duration::from_secs(5)),
        timeout: Some(Duration::from_millis(1500)),
    };
    let mut p = Pair::ready(a, config(SocketType::Router));
    let start = p.now;
    assert_eq!(p.a.poll_timeout(), Some(start + Duration::from_secs(1)));
    p.advance(Duration::from_secs(1));
    p.a.handle_timeout(p.now).unwrap();
    // The PING goes out; B answers with a PONG and learns A's TTL.
    assert!(p.a.poll_transmit(&mut p.to_b));
    assert_eq!(p.b.poll_input(&mut p.to_b).unwrap(), None);
    assert!(p.b.take_timers_changed());
    assert_eq!(p.b.poll_timeout(), Some(start + Duration::from_secs(5)));
    assert!(p.b.poll_transmit(&mut p.to_a));
    p.a.received(p.now);
    assert_eq!(p.a.poll_input(&mut p.to_a).unwrap(), None);
    // The PONG counted as traffic: no timeout at 2.5 s, a new PING is due at 2 s.
    p.advance(Duration::from_secs(1));
    p.a.handle_timeout(p.now).unwrap();
    assert!(p.a.wants_transmit());
    // Now B goes silent: A closes 1.5 s after its PING at 2 s.
    let mut sink = BytesMut::new();
    p.a.poll_transmit(&mut sink);
    p.advance(Duration::from_millis(1499));
    p.a.handle_timeout(p.now).unwrap();
    p.advance(Duration::from_millis(1));
    assert_eq!(
        p.a.handle_timeout(p.now),
        Err(CloseReason::HeartbeatTimeout)
    );
}

#[test]
fn peer_ttl_expires_without_traffic() {
    let mut a = config(SocketType::Pair);
    a.heartbeat.ivl = Some(Duration::from_secs(10));
    a.heartbeat.ttl = Some(Duration::from_millis(2000));
    let mut p = Pair::ready(a, config(SocketType::Pair));
    p.advance(Duration::from_secs(10));
    p.a.handle_timeout(p.now).unwrap();
    p.a.poll_transmit(&mut p.to_b);
    p.b.received(p.now);
    assert_eq!(p.b.poll_input(&mut p.to_b).unwrap(), None);
    let deadline = p.b.poll_timeout().unwrap();
    assert_eq!(deadline, p.now + Duration::from_secs(2));
    assert_eq!(p.b.handle_timeout(deadline), Err(CloseReason::TtlExpired));
}

#[test]
fn a_ping_flood_leaves_one_pong() {
    let mut p = Pair::ready(config(SocketType::Pull), config(SocketType::Push));
    let mut flood = BytesMut::new();
    for i in 0..10_000u32 {
        let ctx = Bytes::copy_from_slice(&i.to_be_bytes());
        Command::Ping {
            ttl_deciseconds: 0,
            context: ctx,
        }
        .encode(&mut flood);
    }
    assert_eq!(p.a.poll_input(&mut flood).unwrap(), None);
    let mut out = BytesMut::new();
    p.a.poll_transmit(&mut out);
    let mut expected = BytesMut::new();
    Command::Pong(Bytes::copy_from_slice(&9_999u32.to_be_bytes())).encode(&mut expected);
    assert_eq!(out, expected, "exactly one PONG, for the latest PING");
}

#[test]
fn limits_refuse_endless_and_oversized_messages() {
    let mut b = config(SocketType::Pull);
    b.limits = MessageLimits {
        max_size: None,
        max_frames: Some(4),
    };
    let mut p = Pair::ready(config(SocketType::Push), b);
    let mut wire = BytesMut::new();
    p.a.encode_message(&Message::from(vec!["1", "2", "3", "4"]), &mut wire);
    assert!(matches!(
        p.b.poll_input(&mut wire).unwrap(),
        Some(Event::Message(m)) if m.len() == 4
    ));
    let mut endless = BytesMut::from(&[1u8, 0].repeat(10)[..]);
    assert_eq!(
        p.b.poll_input(&mut endless),
        Err(CloseReason::TooManyFrames { frames: 5, max: 4 })
    );

    let mut b = config(SocketType::Pull);
    b.limits.max_size = Some(100);
    let mut p = Pair::ready(config(SocketType::Push), b);
    let mut wire = BytesMut::new();
    p.a.encode_message(&Message::from(vec![vec![0u8; 100]]), &mut wire);
    assert!(
        p.b.poll_input(&mut wire).unwrap().is_some(),
        "100 bytes fit"
    );
    // Empty frames count 32 bytes each after the first: the fifth goes over.
    let mut empties = BytesMut::from(&[1u8, 0].repeat(5)[..]);
    assert!(matches!(
        p.b.poll_input(&mut empties),
        Err(CloseReason::MessageTooLarge { max: 100, .. })
    ));
}

#[test]
fn publishers_read_both_subscription_forms() {
    let mut p = Pair::ready(config(SocketType::Sub), config(SocketType::Xpub));
    let topic = Bytes::from_static(b"news");
    p.a.encode_subscription(true, &topic, &mut p.to_b);
    subscription::encode(Version::V3_0, false, &topic, &mut p.to_b);
    let (_, eb) = p.pump();
    assert_eq!(
        eb,
        vec![
            Event::Subscribe(topic.clone()),
            Event::Cancel(topic.clone())
        ]
    );
    // A non-publisher ignores subscription commands and keeps 0x01 messages as data.
    let mut p = Pair::ready(config(SocketType::Pair), config(SocketType::Pair));
    p.a.encode_subscription(true, &topic, &mut p.to_b);
    p.a.encode_message(&Message::from(&b"\x01news"[..]), &mut p.to_b);
    let (_, eb) = p.pump();
    assert_eq!(eb, vec![Event::Message(Message::from(&b"\x01news"[..]))]);
}

#[test]
fn closing_reasons_by_phase() {
    let now = Instant::now();
    let s = Session::new(config(SocketType::Req), now);
    assert_eq!(
        s.closed_by_peer(10),
        CloseReason::PeerClosedDuringGreeting { received: 10 }
    );
    let mut p = Pair::ready(config(SocketType::Req), config(SocketType::Rep));
    assert_eq!(p.b.closed_by_peer(0), CloseReason::PeerClosed);
    let mut part = BytesMut::from(&[1u8, 1, b'x'][..]);
    assert_eq!(p.b.poll_input(&mut part).unwrap(), None);
    assert_eq!(p.b.closed_by_peer(0), CloseReason::PeerClosedMidMessage);
    let err = {
        let mut e = BytesMut::new();
        Command::Error("go away".into()).encode(&mut e);
        p.a.poll_input(&mut e).unwrap_err()
    };
    assert_eq!(err.peer_error(), Some("go away"));
}

#[test]
fn detached_frames_do_not_share_the_input_buffer() {
    let mut p = Pair::ready(config(SocketType::Push), config(SocketType::Pull));
    let mut wire = BytesMut::with_capacity(4096);
    p.a.encode_message(&Message::from(&b"small"[..]), &mut wire);
    p.b.detach_small_frames(true);
    let Some(Event::Message(m)) = p.b.poll_input(&mut wire).unwrap() else {
        panic!("no message");
    };
    assert_eq!(&m[0][..], b"small");
    drop(wire.split());
    // The buffer is not shared with the message: it can take its space back.
    assert!(wire.try_reclaim(4096));
}
