//! What libzmq (4.3.4, vendored by the `zmq` crate) actually puts on the wire and
//! accepts, observed with a raw TCP peer, next to what zeroring does with the same
//! input. These pin down the places where libzmq is stricter or more lenient than
//! the RFC text (RFC 23/37 ZMTP 3.x), so a change on either side shows up here.
//!
//! Observed libzmq behaviour:
//! - Greeting: libzmq sends only the 10-byte signature (`FF 00*7 01 7F`; last padding
//!   byte 0x01) and waits for the peer's before sending the version and the rest.
//!   Version 3.1, mechanism NULL, as-server 0 on both the binding and connecting side.
//! - READY: `Socket-Type` always; `Identity` only from REQ, DEALER and ROUTER, and
//!   then always, with an empty value when no ZMQ_ROUTING_ID is set.
//! - Heartbeats: PING carries HEARTBEAT_TTL in deciseconds and no context; a peer
//!   that sends nothing for HEARTBEAT_TIMEOUT after a PING is dropped. PONG echoes the
//!   PING context, cut to 16 bytes when the peer sent more.
//! - Incompatible socket types: libzmq sends its READY, then closes without ERROR.
//! - Frame flags: libzmq ignores the reserved bits 3-7 (the frame is delivered) and
//!   a command frame with MORE set is consumed as a command; zeroring closes the
//!   connection in both cases (the RFC says those bits MUST be zero).
//! - Identity starting with 0x00: a libzmq ROUTER accepts it as the routing id;
//!   zeroring refuses the connection with ERROR (ids starting with 0 are reserved
//!   for generated ids).
//! - ipc: libzmq leaves the socket file behind after unbind and close (and replaces
//!   a stale file on bind); zeroring removes its file when the listener closes.
//! - A connecting libzmq socket whose handshake failed on an incompatible socket
//!   type gives up on that endpoint (no reconnect); zeroring retries every
//!   RECONNECT_IVL (see `incompatible.rs`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use zeroring::{DealerSocket, RouterSocket};
use zeroring_interop_tests::*;

fn connect_raw(ep: &str) -> TcpStream {
    let s = TcpStream::connect(raw::addr_of(ep)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn props_of(p: &[(String, Vec<u8>)]) -> Vec<(&str, &[u8])> {
    p.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect()
}

#[test]
fn libzmq_greeting_and_ready_properties() {
    let ctx = zmq::Context::new();
    let cases: [(zmq::SocketType, &str, bool); 7] = [
        (zmq::REQ, "REQ", true),
        (zmq::REP, "REP", false),
        (zmq::DEALER, "DEALER", true),
        (zmq::ROUTER, "ROUTER", true),
        (zmq::PUSH, "PUSH", false),
        (zmq::PULL, "PULL", false),
        (zmq::PAIR, "PAIR", false),
    ];
    for (kind, name, has_identity) in cases {
        let l = zsocket(&ctx, kind);
        let ep = zbind(&l, "tcp://127.0.0.1:*");
        let mut s = connect_raw(&ep);
        // Before it sees our signature, libzmq sends exactly the 10-byte signature.
        let first = raw::read_n(&mut s, 10);
        assert_eq!(first, [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F], "{name}");
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut extra = [0u8; 1];
        assert!(
            s.read(&mut extra).is_err(),
            "{name}: libzmq waits for our signature before sending its version"
        );
        s.set_read_timeout(Some(WAIT)).unwrap();
        s.write_all(&raw::greeting()).unwrap();
        let rest = raw::read_n(&mut s, 54);
        assert_eq!(&rest[..2], [3, 1], "{name}: ZMTP 3.1");
        assert_eq!(&rest[2..22], b"NULL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        assert_eq!(rest[22], 0, "{name}: as-server 0");
        assert!(rest[23..].iter().all(|&b| b == 0), "{name}: filler");
        s.write_all(&raw::ready(&[("Socket-Type", b"PAIR")]))
            .unwrap();
        let (flags, body) = raw::read_frame(&mut s);
        assert_eq!(flags, 0x04);
        assert_eq!(&body[..6], b"\x05READY");
        let props = raw::parse_props(&body[6..]);
        let mut want: Vec<(&str, &[u8])> = vec![("Socket-Type", name.as_bytes())];
        if has_identity {
            want.push(("Identity", b""));
        }
        assert_eq!(props_of(&props), want, "{name}");
    }
}

#[test]
fn libzmq_heartbeat_wire_format_and_timeout() {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::DEALER);
    l.set_heartbeat_ivl(100).unwrap();
    l.set_heartbeat_timeout(300).unwrap();
    l.set_heartbeat_ttl(1000).unwrap();
    let ep = zbind(&l, "tcp://127.0.0.1:*");
    let (mut s, _, _) = raw::handshake(raw::addr_of(&ep), "DEALER");
    let start = Instant::now();
    // A 16-byte context is echoed whole, a 17-byte one (over the RFC's limit) is cut.
    s.write_all(&raw::ping(0, b"0123456789abcdef")).unwrap();
    s.write_all(&raw::ping(0, b"0123456789abcdefX")).unwrap();
    // Then say nothing: libzmq must drop us HEARTBEAT_TIMEOUT after its first PING.
    let seen = raw::frames_until_eof(&mut s);
    let elapsed = start.elapsed();
    assert_eq!(seen[0], (0x04, b"\x04PONG0123456789abcdef".to_vec()));
    assert_eq!(seen[1], (0x04, b"\x04PONG0123456789abcdef".to_vec()));
    let pings = &seen[2..];
    assert!(!pings.is_empty(), "libzmq pinged");
    for p in pings {
        assert_eq!(
            *p,
            (0x04, b"\x04PING\x00\x0a".to_vec()),
            "TTL 10 ds, no context"
        );
    }
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(2),
        "libzmq dropped the silent peer after {elapsed:?}"
    );
}

#[test]
fn libzmq_closes_incompatible_peer_without_error_command() {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::REP);
    let ep = zbind(&l, "tcp://127.0.0.1:*");
    let mut s = connect_raw(&ep);
    s.write_all(&raw::greeting()).unwrap();
    raw::read_n(&mut s, 64);
    s.write_all(&raw::ready(&[("Socket-Type", b"PUSH")]))
        .unwrap();
    let seen = raw::frames_until_eof(&mut s);
    assert_eq!(seen.len(), 1, "only libzmq's READY, no ERROR: {seen:?}");
    assert_eq!(&seen[0].1[..6], b"\x05READY");
}

#[test]
fn libzmq_ignores_reserved_flag_bits_and_command_more() {
    let ctx = zmq::Context::new();
    for (flags, delivered) in [(0x08u8, true), (0x80, true), (0x05, false)] {
        let l = zsocket(&ctx, zmq::DEALER);
        let ep = zbind(&l, "tcp://127.0.0.1:*");
        let (mut s, _, _) = raw::handshake(raw::addr_of(&ep), "DEALER");
        s.write_all(&raw::frame(flags, b"odd")).unwrap();
        s.write_all(&raw::frame(0, b"after")).unwrap();
        if delivered {
            assert_eq!(zrecv(&l), parts(&["odd"]), "flags {flags:#04x}");
        }
        assert_eq!(zrecv(&l), parts(&["after"]), "flags {flags:#04x}");
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut b = [0u8; 1];
        assert!(s.read(&mut b).is_err(), "libzmq keeps the connection open");
    }
}

/// Reads until EOF on a raw connection accepted from a zeroring socket and returns
/// what zeroring sent.
fn zeroring_reaction(listener: TcpListener, send: Vec<u8>) -> Peer<Vec<raw::RawFrame>> {
    spawn_peer("raw peer", move || {
        let (mut s, _) = listener.accept().unwrap();
        raw::handshake_on(&mut s, "DEALER");
        s.write_all(&send).unwrap();
        raw::frames_until_eof(&mut s)
    })
}

#[compio::test]
async fn zeroring_closes_on_reserved_flag_bits_and_command_more() {
    for flags in [0x08u8, 0x80, 0x05] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let z = DealerSocket::new();
        z.set_reconnect_ivl(Some(Duration::from_secs(30))).unwrap();
        ok("connect", z.connect(&format!("tcp://{addr}"))).await;
        let peer = zeroring_reaction(listener, raw::frame(flags, b"odd"));
        let seen = peer.join().await;
        assert!(seen.is_empty(), "zeroring sent {seen:?}");
        wait_peers(&z, 0).await;
    }
}

/// Greets as a raw DEALER (reading the other side's 64-byte greeting) and sends a
/// READY whose Identity starts with a zero byte.
fn greet_as_dealer_with_zero_id(s: &mut TcpStream) {
    s.write_all(&raw::greeting()).unwrap();
    raw::read_n(s, 64);
    s.write_all(&raw::ready(&[
        ("Socket-Type", b"DEALER"),
        ("Identity", b"\0abc"),
    ]))
    .unwrap();
}

#[compio::test]
async fn identity_starting_with_zero_byte() {
    // libzmq's ROUTER takes it as the routing id.
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, zmq::ROUTER);
    let ep = zbind(&l, "tcp://127.0.0.1:*");
    let mut s = connect_raw(&ep);
    greet_as_dealer_with_zero_id(&mut s);
    raw::read_frame(&mut s);
    s.write_all(&raw::frame(0, b"hi")).unwrap();
    assert_eq!(zrecv(&l), parts(&[&b"\0abc"[..], b"hi"]));

    // zeroring's ROUTER refuses the connection with an ERROR command.
    let router = RouterSocket::new();
    let ep = ok("bind", router.bind("tcp://127.0.0.1:0"))
        .await
        .to_string();
    let peer = spawn_peer("raw DEALER", move || {
        let mut s = connect_raw(&ep);
        greet_as_dealer_with_zero_id(&mut s);
        raw::frames_until_eof(&mut s)
    });
    let seen = peer.join().await;
    // zeroring's own READY comes first when it was sent before the peer's READY was
    // read; when both arrived together, ERROR replaces it (RFC 37 allows either).
    let names: Vec<&[u8]> = seen.iter().map(|(_, b)| &b[..6]).collect();
    assert!(
        names == [b"\x05READY", b"\x05ERROR"] || names == [b"\x05ERROR"],
        "READY? then ERROR: {seen:?}"
    );
    assert_eq!(router.peer_count(), 0);
}

fn stream_message(i: usize) -> Vec<Vec<u8>> {
    let n = (i * 37) % 700;
    if i.is_multiple_of(5) {
        vec![body(n, i as u8), vec![], body(i % 13, 7)]
    } else {
        vec![body(n, i as u8)]
    }
}

/// Regression: frames split across TCP reads at every possible point (header and
/// body, short and long frames) reach zeroring intact. Before the fix, a read into
/// a buffer holding a partial frame overwrote that partial frame (compio fills a
/// buffer from its start), corrupting the stream.
#[compio::test]
async fn zeroring_reassembles_frames_split_across_reads() {
    const COUNT: usize = 1500;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let z = DealerSocket::new();
    ok("connect", z.connect(&format!("tcp://{addr}"))).await;
    let peer = spawn_peer("raw chunked writer", move || {
        let (mut s, _) = listener.accept().unwrap();
        raw::handshake_on(&mut s, "DEALER");
        let mut wire = Vec::new();
        for i in 0..COUNT {
            let m = stream_message(i);
            for (k, f) in m.iter().enumerate() {
                wire.extend(raw::frame(u8::from(k + 1 < m.len()), f));
            }
        }
        // Odd chunk sizes, with pauses so the pieces arrive as separate reads.
        let mut rest = &wire[..];
        let mut n = 0;
        while !rest.is_empty() {
            let size = [1, 2, 7, 9, 100, 255, 256, 4093][n % 8].min(rest.len());
            s.write_all(&rest[..size]).unwrap();
            rest = &rest[size..];
            n += 1;
            if n.is_multiple_of(16) {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
        // Keep the connection open until zeroring has read everything.
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut b = [0u8; 1];
        let _ = s.read(&mut b);
    });
    recv_all(&z, (0..COUNT).map(stream_message)).await;
    within("close", z.close()).await;
    peer.join().await;
}
