//! Publish-subscribe on the wire, with a raw TCP peer playing ZMTP 3.0 or 3.1.
//!
//! - A raw SUB on a zeroring PUB: the 3.0 peer subscribes with a data frame
//!   `0x01 topic`, the 3.1 peer with a SUBSCRIBE command; either way the PUB puts
//!   only matching messages on the wire (filtering happens at the publisher), and
//!   a cancel stops them.
//! - A zeroring SUB on a raw PUB: subscriptions go out as data frames to a 3.0 peer
//!   and as SUBSCRIBE/CANCEL commands to a 3.1 peer.
//! - What libzmq 4.3.4 (vendored by the `zmq` crate) sends, recorded with a raw
//!   PUB server accepting a libzmq SUB/XSUB:
//!   - its greeting always says 3.1;
//!   - a SUB's ZMQ_SUBSCRIBE / ZMQ_UNSUBSCRIBE goes to a **3.1 peer as a command**
//!     (`0x04`, `SUBSCRIBE`/`CANCEL` + topic) and to a 3.0 peer as a data frame
//!     `0x01 topic` / `0x00 topic`;
//!   - a subscription an XSUB application *sends* (`0x01 topic` message) goes out
//!     as that data frame as it is, to a 3.1 peer too: a 3.1 publisher has to
//!     accept both forms;
//!   - bug: when the command body (10 + topic bytes to a 3.1 peer, 1 + topic to a
//!     3.0 peer) exceeds 255 bytes while the topic itself does not (topics of
//!     246..=255 bytes to a 3.1 peer, 255 to a 3.0 peer), libzmq writes the 8-byte
//!     size of a long frame without setting the LONG flag. The frame is malformed
//!     (a short frame, then garbage), so such a subscription from a libzmq 4.3.4
//!     SUB never takes effect on a zeroring publisher (`pubsub.rs` tests 245-byte
//!     topics in that direction instead). Topics of 256 bytes and more are fine.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Instant;

use zeroring::{PubSocket, SubSocket};
use zeroring_interop_tests::raw::RawFrame;
use zeroring_interop_tests::*;

/// Our 64-byte NULL greeting announcing ZMTP 3.`minor`.
fn greeting(minor: u8) -> [u8; 64] {
    let mut g = raw::greeting();
    g[11] = minor;
    g
}

/// A subscription (or cancel) as a peer of version 3.`minor` sends it.
fn subscription(minor: u8, subscribe: bool, topic: &[u8]) -> Vec<u8> {
    if minor == 0 {
        let mut body = vec![u8::from(subscribe)];
        body.extend_from_slice(topic);
        raw::frame(0, &body)
    } else {
        raw::command_frame(&command_body(subscribe, topic))
    }
}

/// A SUBSCRIBE or CANCEL command body.
fn command_body(subscribe: bool, topic: &[u8]) -> Vec<u8> {
    let name: &[u8] = if subscribe { b"SUBSCRIBE" } else { b"CANCEL" };
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name);
    body.extend_from_slice(topic);
    body
}

/// Greets (as 3.`minor`) and exchanges READY as `socket_type`; returns the peer's
/// greeting and READY properties.
fn greet(s: &mut TcpStream, minor: u8, socket_type: &str) -> (Vec<u8>, raw::Props) {
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.set_nodelay(true).unwrap();
    s.write_all(&greeting(minor)).unwrap();
    let g = raw::read_n(s, 64);
    s.write_all(&raw::ready(&[("Socket-Type", socket_type.as_bytes())]))
        .unwrap();
    let (flags, body) = raw::read_frame(s);
    assert_eq!(flags, 0x04, "READY is a command");
    assert_eq!(&body[..6], b"\x05READY");
    (g, raw::parse_props(&body[6..]))
}

/// Reads one whole message off the wire (frames up to one without MORE), checking
/// that it holds no command frame.
fn read_message(s: &mut TcpStream) -> Vec<Vec<u8>> {
    let mut m = Vec::new();
    loop {
        let (flags, body) = raw::read_frame(s);
        assert_eq!(flags & 0x04, 0, "no command expected, got {body:?}");
        m.push(body);
        if flags & 0x01 == 0 {
            return m;
        }
    }
}

/// A zeroring PUB publishes probes on `topic` until the raw subscriber signals.
async fn probe_until_signal(publisher: &PubSocket, topic: &[u8], rx: &mpsc::Receiver<()>) {
    let deadline = Instant::now() + WAIT;
    while rx.try_recv().is_err() {
        assert!(Instant::now() < deadline, "the raw SUB never saw a probe");
        ok("PUB send", publisher.send(msg(&probe(topic)))).await;
        compio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// A raw SUB speaking ZMTP 3.`minor` subscribes to `match` on a zeroring PUB; the
/// PUB sends it exactly the matching messages, and nothing more after a cancel.
async fn raw_sub_on_zeroring_pub(minor: u8) {
    let publisher = PubSocket::new();
    let ep = ok("bind", publisher.bind("tcp://127.0.0.1:0"))
        .await
        .to_string();
    let addr = raw::addr_of(&ep).to_string();
    let (tx, rx) = mpsc::channel();
    let peer = spawn_peer("raw SUB", move || {
        let mut s = TcpStream::connect(&addr).unwrap();
        let (g, props) = greet(&mut s, minor, "SUB");
        s.write_all(&subscription(minor, true, b"match")).unwrap();
        let mut signaled = false;
        let mut before = Vec::new();
        loop {
            let m = read_message(&mut s);
            if is_probe(&m) {
                if !signaled {
                    tx.send(()).unwrap();
                    signaled = true;
                }
                continue;
            }
            let end = m == parts(&["match.end"]);
            before.push(m);
            if end {
                break;
            }
        }
        s.write_all(&subscription(minor, false, b"match")).unwrap();
        s.write_all(&subscription(minor, true, b"z")).unwrap();
        let mut signaled = false;
        let mut after = Vec::new();
        loop {
            let m = read_message(&mut s);
            if is_probe(&m) {
                // Probes on `match` sent before the cancel took effect, then `z`.
                if m[0] == b"z" && !signaled {
                    tx.send(()).unwrap();
                    signaled = true;
                }
                continue;
            }
            let end = m == parts(&["z", "end"]);
            after.push(m);
            if end {
                break;
            }
        }
        (g, props, before, after)
    });
    probe_until_signal(&publisher, b"match", &rx).await;
    let sent = [
        parts(&["match.1", "a"]),
        parts(&["other", "b"]),
        parts(&["matc", "c"]),
        parts(&["match.2", "multi", "part"]),
        parts(&["nomatch", "d"]),
        parts(&["match"]),
        parts(&["match.end"]),
    ];
    send_all(&publisher, sent.clone()).await;
    probe_until_signal(&publisher, b"z", &rx).await;
    send_all(
        &publisher,
        [parts(&["match.after", "no"]), parts(&["z", "end"])],
    )
    .await;
    let (g, props, before, after) = peer.join().await;
    assert_eq!(&g[10..12], [3, 1], "zeroring announces ZMTP 3.1");
    assert_eq!(props, vec![("Socket-Type".to_string(), b"PUB".to_vec())]);
    let want: Vec<_> = sent
        .iter()
        .filter(|m| m[0].starts_with(b"match"))
        .cloned()
        .collect();
    assert_eq!(before, want, "only matching messages on the wire");
    assert_eq!(
        after,
        vec![parts(&["z", "end"])],
        "nothing after the cancel"
    );
}

#[compio::test]
async fn raw_zmtp30_sub_on_zeroring_pub_gets_only_matching_frames() {
    raw_sub_on_zeroring_pub(0).await;
}

#[compio::test]
async fn raw_zmtp31_sub_on_zeroring_pub_gets_only_matching_frames() {
    raw_sub_on_zeroring_pub(1).await;
}

/// A zeroring SUB connects to a raw PUB server speaking ZMTP 3.`minor`; returns the
/// frames it sent after READY: its subscription to `topic` (held before
/// connecting), then `second` and a 300-byte topic, then the cancel of `topic`.
async fn zeroring_sub_to_raw_pub(minor: u8) -> Vec<RawFrame> {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let peer = spawn_peer("raw PUB", move || {
        let (mut s, _) = l.accept().unwrap();
        let (g, props) = greet(&mut s, minor, "PUB");
        assert_eq!(&g[10..12], [3, 1], "zeroring announces ZMTP 3.1");
        assert_eq!(props, vec![("Socket-Type".to_string(), b"SUB".to_vec())]);
        let got: Vec<RawFrame> = (0..4).map(|_| raw::read_frame(&mut s)).collect();
        s.write_all(&raw::frame(0x01, b"second.x")).unwrap();
        s.write_all(&raw::frame(0x00, b"payload")).unwrap();
        done_rx
            .recv_timeout(WAIT)
            .expect("the SUB received the message");
        got
    });
    let sub = SubSocket::new();
    sub.subscribe("topic");
    ok("connect", sub.connect(&format!("tcp://{addr}"))).await;
    // Connected: what follows goes out at once and in order.
    wait_peers(&sub, 1).await;
    sub.subscribe("second");
    sub.subscribe([b'L'; 300]);
    sub.unsubscribe("topic");
    assert_eq!(
        frames(&ok("SUB recv", sub.recv()).await),
        parts(&["second.x", "payload"])
    );
    done_tx.send(()).unwrap();
    peer.join().await
}

#[compio::test]
async fn zeroring_sub_sends_data_frames_to_a_zmtp30_pub() {
    let got = zeroring_sub_to_raw_pub(0).await;
    let mut long = vec![1u8];
    long.extend_from_slice(&[b'L'; 300]);
    assert_eq!(
        got,
        vec![
            (0x00, b"\x01topic".to_vec()),
            (0x00, b"\x01second".to_vec()),
            (0x02, long),
            (0x00, b"\x00topic".to_vec()),
        ]
    );
}

#[compio::test]
async fn zeroring_sub_sends_commands_to_a_zmtp31_pub() {
    let got = zeroring_sub_to_raw_pub(1).await;
    assert_eq!(
        got,
        vec![
            (0x04, command_body(true, b"topic")),
            (0x04, command_body(true, b"second")),
            (0x06, command_body(true, &[b'L'; 300])),
            (0x04, command_body(false, b"topic")),
        ]
    );
}

/// Accepts one connection from a libzmq socket and greets it as a 3.`minor` PUB.
fn accept_libzmq(l: &TcpListener, minor: u8, socket_type: &str) -> TcpStream {
    let (mut s, _) = l.accept().unwrap();
    let (g, props) = greet(&mut s, minor, "PUB");
    assert_eq!(&g[10..12], [3, 1], "libzmq announces ZMTP 3.1");
    assert_eq!(
        props,
        vec![("Socket-Type".to_string(), socket_type.as_bytes().to_vec())]
    );
    s
}

/// The bytes of a long frame's header as libzmq 4.3.4 writes it for a
/// subscription whose body is `size` bytes: the 8-byte size, but `flags` without
/// the LONG bit.
fn libzmq_bad_long_header(flags: u8, size: u64) -> Vec<u8> {
    let mut h = vec![flags];
    h.extend_from_slice(&size.to_be_bytes());
    h
}

/// Records what a libzmq 4.3.4 SUB and XSUB send for subscriptions to a raw PUB
/// speaking 3.1 and 3.0 (see the module comment).
#[test]
fn libzmq_subscription_wire_forms() {
    let ctx = zmq::Context::new();
    for minor in [1u8, 0] {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let ep = format!("tcp://{}", l.local_addr().unwrap());
        let sub = zsocket(&ctx, zmq::SUB);
        sub.set_linger(0).unwrap();
        sub.set_subscribe(b"topic").unwrap();
        sub.connect(&ep).unwrap();
        let mut s = accept_libzmq(&l, minor, "SUB");
        let expect = |subscribe: bool, topic: &[u8]| -> RawFrame {
            if minor == 1 {
                (0x04, command_body(subscribe, topic))
            } else {
                let mut body = vec![u8::from(subscribe)];
                body.extend_from_slice(topic);
                (0x00, body)
            }
        };
        assert_eq!(raw::read_frame(&mut s), expect(true, b"topic"), "3.{minor}");
        sub.set_unsubscribe(b"topic").unwrap();
        assert_eq!(
            raw::read_frame(&mut s),
            expect(false, b"topic"),
            "3.{minor}"
        );
        // The malformed frame for a topic whose subscription body is just over 255.
        let topic = [b'x'; 255];
        sub.set_subscribe(&topic).unwrap();
        let body = if minor == 1 {
            command_body(true, &topic)
        } else {
            let mut b = vec![1u8];
            b.extend_from_slice(&topic);
            b
        };
        let flags = if minor == 1 { 0x04 } else { 0x00 };
        let mut want = libzmq_bad_long_header(flags, body.len() as u64);
        want.extend_from_slice(&body);
        assert_eq!(
            raw::read_n(&mut s, want.len()),
            want,
            "3.{minor}: 8-byte size without the LONG flag"
        );
        // A subscription an XSUB application sends is passed on as a data frame,
        // to a 3.1 peer too.
        let xsub = zsocket(&ctx, zmq::XSUB);
        xsub.set_linger(0).unwrap();
        xsub.connect(&ep).unwrap();
        let mut s = accept_libzmq(&l, minor, "XSUB");
        zsend(&xsub, &[b"\x01abc"]);
        assert_eq!(
            raw::read_frame(&mut s),
            (0x00, b"\x01abc".to_vec()),
            "3.{minor}"
        );
        zsend(&xsub, &[b"\x00abc"]);
        assert_eq!(
            raw::read_frame(&mut s),
            (0x00, b"\x00abc".to_vec()),
            "3.{minor}"
        );
    }
}
