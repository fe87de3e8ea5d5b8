//! Hostile and broken peers over raw TCP. Each test checks that zeroring closes the
//! offending connection (the raw peer reads end-of-file or a reset within seconds),
//! that a well-behaved zeroring peer on the same socket keeps working before, during
//! and after, that nothing the bad peer sent is delivered, and that nothing panics.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use zeroring_sockets::{Error, Message, PullSocket, PushSocket};

use common::*;

/// How long a raw peer waits for zeroring to close before calling it "still open".
const RAW_WAIT: Duration = Duration::from_secs(5);

/// A bound PULL with a well-behaved zeroring PUSH connected to it.
struct Harness {
    pull: PullSocket,
    push: PushSocket,
    addr: SocketAddr,
    sent: usize,
    /// Messages the PULL received that were not from the good peer.
    others: Vec<Message>,
    watch: PanicWatch,
}

impl Harness {
    async fn new(configure: impl FnOnce(&PullSocket)) -> Harness {
        let watch = panic_watch();
        let pull = PullSocket::new();
        configure(&pull);
        let ep = pull.bind(ANY).await.unwrap();
        let push = PushSocket::new();
        push.connect(&ep.to_string()).await.unwrap();
        let mut h = Harness {
            pull,
            push,
            addr: addr(&ep),
            sent: 0,
            others: Vec::new(),
            watch,
        };
        h.round_trip().await;
        wait_until("good peer attached", || h.pull.peer_count() == 1).await;
        h
    }

    /// The good peer sends a message and the PULL receives it.
    async fn round_trip(&mut self) {
        let body = format!("good-{}", self.sent);
        self.sent += 1;
        within("good peer send", self.push.send(body.as_str()))
            .await
            .unwrap();
        loop {
            let m = within("PULL receives the good peer's message", self.pull.recv())
                .await
                .unwrap();
            if m.len() == 1 && m[0] == body.as_bytes() {
                return;
            }
            assert!(
                !(m.len() == 1 && m[0].starts_with(b"good-")),
                "good peer's messages out of order: {:?}",
                show(&m)
            );
            self.others.push(m);
        }
    }

    /// Runs a raw peer with `script`, exercising the good peer all the while, and
    /// returns what the raw peer saw once it is done. Asserts the raw connection
    /// was closed by zeroring and that the socket is back to its one good peer.
    async fn hostile(&mut self, script: Vec<Step>) -> RawOutcome {
        let watch = panic_watch();
        let raw = raw_peer(self.addr, script, RAW_WAIT);
        self.round_trips_until(|| raw.is_finished()).await;
        let outcome = join(raw).await;
        assert!(
            outcome.closed(),
            "zeroring did not close the offending connection: {outcome:?}"
        );
        for _ in 0..3 {
            self.round_trip().await;
        }
        wait_until("only the good peer is left", || self.pull.peer_count() == 1).await;
        self.round_trip().await;
        watch.assert_none();
        outcome
    }

    /// Keeps the good peer exchanging messages until `done` holds.
    async fn round_trips_until(&mut self, done: impl Fn() -> bool) {
        while !done() {
            self.round_trip().await;
            pause(5).await;
        }
    }

    /// Drains what is still queued, then asserts that, apart from the good peer's
    /// messages, exactly the messages in `must` (and possibly those in `may`, each
    /// at most once) were delivered.
    async fn finish(&mut self, must: &[Message], may: &[Message]) {
        self.pull.set_rcvtimeo(Some(Duration::from_millis(150)));
        loop {
            match within("drain", self.pull.recv()).await {
                Err(Error::Timeout(_)) => break,
                Ok(m) => self.others.push(m),
                Err(e) => panic!("recv failed: {e}"),
            }
        }
        self.pull.set_rcvtimeo(None);
        let mut others = std::mem::take(&mut self.others);
        for m in must {
            let Some(i) = others.iter().position(|o| o == m) else {
                panic!(
                    "message {:?} was not delivered (got {:?})",
                    show(m),
                    others.iter().map(show).collect::<Vec<_>>()
                );
            };
            others.remove(i);
        }
        for m in may {
            if let Some(i) = others.iter().position(|o| o == m) {
                others.remove(i);
            }
        }
        let others: Vec<_> = others.iter().map(show).collect();
        assert!(
            others.is_empty(),
            "messages from the bad peer were delivered: {others:?}"
        );
        self.watch.assert_none();
    }

    async fn assert_nothing_else_delivered(&mut self) {
        self.finish(&[], &[]).await;
    }
}

/// One READY metadata property: name length, name, a declared value length (which
/// a hostile peer may get wrong) and the value bytes.
fn property(name: &str, declared_len: u32, value: &[u8]) -> Vec<u8> {
    let mut p = vec![name.len() as u8];
    p.extend_from_slice(name.as_bytes());
    p.extend_from_slice(&declared_len.to_be_bytes());
    p.extend_from_slice(value);
    p
}

/// The well-formed `Socket-Type: PUSH` property.
fn push_socket_type() -> Vec<u8> {
    property("Socket-Type", 4, b"PUSH")
}

/// A NULL greeting followed by a READY command carrying `metadata`.
fn ready_with(metadata: &[u8]) -> Vec<Step> {
    vec![
        Step::Send(null_greeting()),
        Step::Send(command("READY", metadata)),
    ]
}

fn after_handshake(hostile: Vec<u8>) -> Vec<Step> {
    vec![
        Step::Send(handshake("PUSH")),
        Step::ReadHandshake,
        Step::Send(hostile),
    ]
}

/// Control: a raw peer that follows the protocol is accepted, its message is
/// delivered, and its connection stays open. (Shows that the raw peer's "closed"
/// verdicts in the other tests are meaningful.)
#[compio::test]
async fn well_behaved_raw_peer_is_accepted_and_kept_open() {
    let watch = panic_watch();
    let mut h = Harness::new(|_| {}).await;
    let mut script = vec![Step::Send(handshake("PUSH")), Step::ReadHandshake];
    // A PING is answered with a PONG echoing the context; an unknown command and
    // SUBSCRIBE (meaningless for PULL) are ignored; then a two-frame message.
    let mut data = command("PING", b"\x00\x00ctx");
    data.extend_from_slice(&command("X-VENDOR", b"whatever"));
    data.extend_from_slice(&command("SUBSCRIBE", b"topic"));
    data.extend_from_slice(&data_frame(b"raw-1", true));
    data.extend_from_slice(&data_frame(b"raw-2", false));
    script.push(Step::Send(data));
    let raw = raw_peer(h.addr, script, Duration::from_millis(700));
    wait_until("raw peer attached", || h.pull.peer_count() == 2).await;
    let m = within("raw message", h.pull.recv()).await.unwrap();
    assert_msg(&m, &[b"raw-1", b"raw-2"]);
    h.round_trip().await;
    let outcome = join(raw).await;
    assert_eq!(outcome.ending, Ending::StillOpen, "{outcome:?}");
    let pong = command("PONG", b"ctx");
    assert!(
        outcome.received.windows(pong.len()).any(|w| w == pong),
        "no PONG echoing the PING context in {:02x?}",
        outcome.received
    );
    // When the raw peer goes away, so does its connection.
    wait_until("raw peer detached", || h.pull.peer_count() == 1).await;
    h.round_trip().await;
    h.assert_nothing_else_delivered().await;
    watch.assert_none();
}

#[compio::test]
async fn garbage_instead_of_a_greeting_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    let out = h
        .hostile(vec![Step::Send(
            b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl\r\n\r\n".to_vec(),
        )])
        .await;
    // Whatever zeroring sent, it was not a READY for an HTTP client.
    assert!(out.received.len() <= 64, "{} bytes", out.received.len());
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn greeting_with_major_version_2_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    let mut script = vec![Step::Send(greeting(2, 0, "NULL"))];
    script.push(Step::Send(ready("PUSH")));
    script.push(Step::Send(data_frame(b"v2 data", false)));
    h.hostile(script).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn greeting_with_plain_mechanism_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    // A PLAIN client would send HELLO next; a confused one sends READY as if the
    // mechanisms matched. Either way the mismatch alone must close the connection.
    h.hostile(vec![
        Step::Send(greeting(3, 1, "PLAIN")),
        Step::Send(ready("PUSH")),
        Step::Send(data_frame(b"plain data", false)),
    ])
    .await;
    h.assert_nothing_else_delivered().await;
    h.hostile(vec![
        Step::Send(greeting(3, 1, "PLAIN")),
        Step::Send(command("HELLO", b"\x04user\x04pass")),
    ])
    .await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn greeting_with_unknown_mechanism_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    h.hostile(vec![Step::Send(greeting(3, 1, "SUPERSECURE"))])
        .await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn ready_with_an_incompatible_socket_type_is_closed_with_error() {
    let mut h = Harness::new(|_| {}).await;
    let out = h
        .hostile(vec![
            Step::Send(handshake("PUB")),
            Step::ReadHandshake,
            Step::Send(data_frame(b"from pub", false)),
        ])
        .await;
    // libzmq tells the peer why before closing: an ERROR command.
    let rest = &out.received[64..];
    assert!(
        rest.windows(6).any(|w| w == b"\x05ERROR"),
        "expected an ERROR command after READY, got {rest:02x?}"
    );
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn ready_without_a_socket_type_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    h.hostile(ready_with(&property("Identity", 1, b"x"))).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn frame_with_reserved_flag_bits_is_closed() {
    for flags in [0x08u8, 0x80, 0x10 | 0x01] {
        let mut h = Harness::new(|_| {}).await;
        let mut bytes = data_frame(b"fine", false);
        bytes.extend_from_slice(&raw_frame(flags, b"reserved"));
        h.hostile(after_handshake(bytes)).await;
        // The frame before the bad one was a complete message; it may be delivered.
        h.finish(&[], &[Message::from("fine")]).await;
    }
}

#[compio::test]
async fn command_frame_with_more_flag_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    let mut ping = command("PING", b"\x00\x00");
    ping[0] |= 0x01;
    h.hostile(after_handshake(ping)).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn frame_over_maxmsgsize_is_closed() {
    let mut h = Harness::new(|p| p.set_maxmsgsize(Some(1000))).await;
    // The good peer's messages up to the limit still go through.
    within("send at the limit", h.push.send(vec![b'x'; 1000]))
        .await
        .unwrap();
    assert_eq!(
        within("recv at the limit", h.pull.recv()).await.unwrap()[0].len(),
        1000
    );
    h.hostile(after_handshake(data_frame(&[b'y'; 2000], false)))
        .await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn multipart_message_over_maxmsgsize_is_closed() {
    let mut h = Harness::new(|p| p.set_maxmsgsize(Some(1000))).await;
    let mut bytes = data_frame(&[b'a'; 600], true);
    bytes.extend_from_slice(&data_frame(&[b'b'; 600], false));
    h.hostile(after_handshake(bytes)).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn long_frame_claiming_huge_sizes_is_closed() {
    // 2^63 and 2^64-1 are beyond what ZMTP allows; 2^63-1 is beyond MAXMSGSIZE.
    for (size, max) in [
        (1u64 << 63, None),
        (u64::MAX, None),
        (1u64 << 63, Some(1000)),
        ((1u64 << 63) - 1, Some(1000)),
    ] {
        let mut h = Harness::new(|p| p.set_maxmsgsize(max)).await;
        let mut bytes = vec![0x02];
        bytes.extend_from_slice(&size.to_be_bytes());
        bytes.extend_from_slice(b"some body bytes");
        h.hostile(after_handshake(bytes)).await;
        h.assert_nothing_else_delivered().await;
    }
}

#[compio::test]
async fn ready_with_truncated_metadata_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    // Socket-Type whose value length (200) runs past the end of the frame.
    let mut script = ready_with(&property("Socket-Type", 200, b"PUSH"));
    script.push(Step::Send(data_frame(b"after bad ready", false)));
    h.hostile(script).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn ready_with_truncated_property_name_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    let mut data = push_socket_type();
    data.push(40); // a name length with only 3 bytes after it
    data.extend_from_slice(b"abc");
    h.hostile(ready_with(&data)).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn ping_with_a_one_byte_body_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    let mut bytes = command("PING", b"\x00");
    bytes.extend_from_slice(&data_frame(b"after bad ping", false));
    h.hostile(after_handshake(bytes)).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn command_with_truncated_name_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    // Name length 9, but only 4 bytes follow.
    h.hostile(after_handshake(raw_frame(0x04, b"\x09PING")))
        .await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn second_ready_after_the_handshake_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    let mut bytes = ready("PUSH");
    bytes.extend_from_slice(&data_frame(b"after second ready", false));
    h.hostile(after_handshake(bytes)).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn half_a_greeting_then_silence_is_closed_after_handshake_ivl() {
    let mut h = Harness::new(|p| {
        p.set_handshake_ivl(Some(Duration::from_millis(200)))
            .unwrap()
    })
    .await;
    h.hostile(vec![Step::Send(null_greeting()[..30].to_vec())])
        .await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn silent_peer_is_closed_after_handshake_ivl() {
    let mut h = Harness::new(|p| {
        p.set_handshake_ivl(Some(Duration::from_millis(200)))
            .unwrap()
    })
    .await;
    h.hostile(vec![]).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn greeting_without_ready_is_closed_after_handshake_ivl() {
    let mut h = Harness::new(|p| {
        p.set_handshake_ivl(Some(Duration::from_millis(200)))
            .unwrap()
    })
    .await;
    let mut partial_ready = ready("PUSH");
    partial_ready.truncate(10);
    h.hostile(vec![Step::Send(null_greeting()), Step::Send(partial_ready)])
        .await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn peer_closing_in_the_middle_of_a_multipart_message_delivers_nothing_partial() {
    let mut h = Harness::new(|_| {}).await;
    let mut bytes = data_frame(b"complete-1", true);
    bytes.extend_from_slice(&data_frame(b"complete-2", false));
    bytes.extend_from_slice(&data_frame(b"partial-1", true));
    bytes.extend_from_slice(&data_frame(b"partial-2", true));
    let mut script = after_handshake(bytes);
    script.push(Step::ShutdownWrite);
    h.hostile(script).await;
    // The complete message made it; the partial one never does.
    h.finish(&[Message::from(vec!["complete-1", "complete-2"])], &[])
        .await;
}

#[compio::test]
async fn peer_closing_in_the_middle_of_a_frame_delivers_nothing() {
    let mut h = Harness::new(|_| {}).await;
    let mut bytes = data_frame(b"head", true);
    let frame = data_frame(&[b'z'; 5000], false);
    bytes.extend_from_slice(&frame[..2000]);
    let mut script = after_handshake(bytes);
    script.push(Step::ShutdownWrite);
    h.hostile(script).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn data_frames_before_ready_are_closed() {
    let mut h = Harness::new(|_| {}).await;
    let mut bytes = null_greeting();
    bytes.extend_from_slice(&data_frame(b"sneaky", false));
    bytes.extend_from_slice(&ready("PUSH"));
    bytes.extend_from_slice(&data_frame(b"sneaky-2", false));
    h.hostile(vec![Step::Send(bytes)]).await;
    h.assert_nothing_else_delivered().await;
}

/// Many bad peers at once, of every kind, while the good peer keeps going.
#[compio::test]
async fn many_bad_peers_at_once() {
    let watch = panic_watch();
    let mut h = Harness::new(|p| {
        p.set_handshake_ivl(Some(Duration::from_millis(300)))
            .unwrap();
        p.set_maxmsgsize(Some(1000));
    })
    .await;
    let scripts: Vec<Vec<Step>> = vec![
        vec![Step::Send(b"GET / HTTP/1.1\r\n\r\n".to_vec())],
        vec![Step::Send(greeting(2, 0, "NULL"))],
        vec![Step::Send(greeting(3, 1, "PLAIN"))],
        vec![Step::Send(handshake("REQ")), Step::ReadHandshake],
        after_handshake(raw_frame(0x40, b"x")),
        after_handshake(data_frame(&[0; 1001], false)),
        after_handshake(command("PING", b"")),
        vec![Step::Send(null_greeting()[..11].to_vec())],
        vec![],
    ];
    let raws: Vec<_> = scripts
        .into_iter()
        .map(|s| raw_peer(h.addr, s, RAW_WAIT))
        .collect();
    h.round_trips_until(|| raws.iter().all(|r| r.is_finished()))
        .await;
    for r in raws {
        let out = join(r).await;
        assert!(out.closed(), "{out:?}");
    }
    wait_until("only the good peer is left", || h.pull.peer_count() == 1).await;
    h.round_trip().await;
    h.assert_nothing_else_delivered().await;
    watch.assert_none();
}

/// The connecting side: a "server" that answers with garbage is dropped, and the
/// socket's other (good) peer is unaffected.
#[compio::test]
async fn connecting_to_a_server_that_sends_garbage() {
    let watch = panic_watch();
    let good = PullSocket::new();
    let good_ep = good.bind(ANY).await.unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bad_addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        drop(listener);
        s.set_read_timeout(Some(RAW_WAIT)).unwrap();
        let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        let mut buf = [0u8; 1024];
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Ending::Eof,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ending::StillOpen;
                }
                Err(e) => return Ending::Reset(e.to_string()),
            }
        }
    });
    let push = PushSocket::new();
    // Only completed connections take messages, so every send goes to the good peer
    // (without this, the bad endpoint's connect() slot would take its share).
    push.set_immediate(true);
    push.connect(&format!("tcp://{bad_addr}")).await.unwrap();
    push.connect(&good_ep.to_string()).await.unwrap();
    let mut i = 0;
    while !server.is_finished() {
        let body = format!("m{i}");
        within("send", push.send(body.as_str())).await.unwrap();
        assert_msg(
            &within("recv", good.recv()).await.unwrap(),
            &[body.as_bytes()],
        );
        i += 1;
        pause(5).await;
    }
    let ending = join(server).await;
    assert!(
        matches!(ending, Ending::Eof | Ending::Reset(_)),
        "the bad server's connection stayed open: {ending:?}"
    );
    assert_eq!(push.peer_count(), 1);
    within("send", push.send("last")).await.unwrap();
    assert_msg(&within("recv", good.recv()).await.unwrap(), &[b"last"]);
    watch.assert_none();
}

/// A connection still in its handshake when its endpoint is unbound must not
/// become a peer when the handshake completes.
#[compio::test]
async fn unbind_during_a_handshake_refuses_that_connection() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let watch = panic_watch();
    let mut h = Harness::new(|_| {}).await;
    let ep2 = h.pull.bind(ANY).await.unwrap();
    let greeted = Arc::new(AtomicBool::new(false));
    let unbound = Arc::new(AtomicBool::new(false));
    let mut rest = ready("PUSH");
    rest.extend_from_slice(&data_frame(b"after unbind", false));
    let raw = raw_peer(
        addr(&ep2),
        vec![
            Step::Send(null_greeting()),
            Step::ReadHandshake,
            Step::Signal(greeted.clone()),
            Step::WaitFor(unbound.clone()),
            Step::Send(rest),
        ],
        RAW_WAIT,
    );
    wait_until("raw peer is mid-handshake", || {
        greeted.load(Ordering::SeqCst)
    })
    .await;
    h.pull.unbind(&ep2.to_string()).unwrap();
    unbound.store(true, Ordering::SeqCst);
    h.round_trips_until(|| raw.is_finished()).await;
    let out = join(raw).await;
    assert!(
        out.closed(),
        "a connection accepted through an unbound endpoint stayed open: {out:?}"
    );
    assert_eq!(h.pull.peer_count(), 1);
    h.round_trip().await;
    h.assert_nothing_else_delivered().await;
    watch.assert_none();
}

#[compio::test]
async fn ready_with_an_invalid_identity_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    for identity in [b"\x00abc".to_vec(), vec![b'i'; 256]] {
        let mut data = push_socket_type();
        data.extend_from_slice(&property("Identity", identity.len() as u32, &identity));
        let mut script = ready_with(&data);
        script.push(Step::Send(data_frame(b"bad identity", false)));
        h.hostile(script).await;
    }
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn oversized_ready_command_is_closed() {
    let mut h = Harness::new(|_| {}).await;
    let mut data = push_socket_type();
    data.extend_from_slice(&property("Blob-", 200_000, &[b'b'; 200_000]));
    h.hostile(ready_with(&data)).await;
    h.assert_nothing_else_delivered().await;
}

#[compio::test]
async fn error_command_from_the_peer_closes_its_connection() {
    let mut h = Harness::new(|_| {}).await;
    let mut bytes = command("ERROR", b"\x0bgoing away!");
    bytes.extend_from_slice(&data_frame(b"after error", false));
    h.hostile(after_handshake(bytes)).await;
    h.assert_nothing_else_delivered().await;
}
