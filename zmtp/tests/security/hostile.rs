//! Whatever a peer sends, a PLAIN or CURVE session never panics: arbitrary
//! bytes after a valid greeting, and valid transcripts with one byte changed or
//! cut short, end in an error or a wait for more, on either side.

use std::sync::OnceLock;
use std::time::Instant;

use bytes::BytesMut;
use proptest::prelude::*;
use zeroring_zmtp::{AuthResult, Event, Greeting, Mechanism, Security, Session, SocketType};

use crate::harness::{Pair, client_keys, config, server_keys, server_public};

fn security(kind: u8) -> (Security, Security) {
    match kind % 2 {
        0 => (
            Security::plain_client("admin", "secret").unwrap(),
            Security::PlainServer,
        ),
        _ => (
            Security::CurveClient {
                keys: client_keys(),
                server_key: server_public(),
            },
            Security::CurveServer {
                keys: server_keys(),
            },
        ),
    }
}

/// The client is a DEALER seeded with 5, the server a ROUTER seeded with 6, so
/// a session fed a recorded transcript makes the same keys as the recording.
fn side(server: bool) -> (SocketType, u64) {
    if server {
        (SocketType::Router, 6)
    } else {
        (SocketType::Dealer, 5)
    }
}

/// How a fed session ended.
#[derive(Debug, PartialEq)]
enum End {
    Failed,
    Ready,
    Waiting,
}

/// Feeds `input` to a fresh session, answering any authentication with 200
/// (it must never panic).
fn feed(server: bool, security: Security, authenticate: bool, input: &[u8], chunk: usize) -> End {
    let (ty, seed) = side(server);
    let mut cfg = config(ty, security, seed);
    cfg.authenticate = authenticate;
    let mut s = Session::new(cfg, Instant::now());
    let mut out = BytesMut::new();
    let mut buf = BytesMut::new();
    let mut end = End::Waiting;
    for piece in input.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            s.poll_transmit(&mut out);
            match s.poll_input(&mut buf) {
                Ok(Some(Event::Authenticate(_))) => {
                    if s.authenticated(AuthResult::allow("u")).is_err() {
                        return End::Failed;
                    }
                }
                Ok(Some(Event::Ready(_))) => end = End::Ready,
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return End::Failed,
            }
        }
    }
    end
}

/// A valid transcript from each side of a handshake of this kind, with a
/// message after it (made once per kind).
fn transcripts(kind: u8) -> (Vec<u8>, Vec<u8>) {
    static MADE: OnceLock<[(Vec<u8>, Vec<u8>); 2]> = OnceLock::new();
    MADE.get_or_init(|| [record(0), record(1)])[usize::from(kind % 2)].clone()
}

fn record(kind: u8) -> (Vec<u8>, Vec<u8>) {
    let (client, server) = security(kind);
    let (client_type, client_seed) = side(false);
    let (server_type, server_seed) = side(true);
    let mut p = Pair::new(
        config(client_type, client, client_seed),
        config(server_type, server, server_seed),
    );
    p.run();
    let mut tail = BytesMut::new();
    p.a.session
        .encode_message(&zeroring_zmtp::Message::from("m"), &mut tail);
    let mut a = p.a.sent.clone();
    a.extend_from_slice(&tail);
    let mut tail = BytesMut::new();
    p.b.session
        .encode_message(&zeroring_zmtp::Message::from(vec!["id", "m"]), &mut tail);
    let mut b = p.b.sent.clone();
    b.extend_from_slice(&tail);
    (a, b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_after_a_greeting(
        kind in any::<u8>(),
        server in any::<bool>(),
        authenticate in any::<bool>(),
        rest in prop::collection::vec(any::<u8>(), 0..600),
        chunk in 1usize..64,
    ) {
        let (client_sec, server_sec) = security(kind);
        let ours = if server { server_sec } else { client_sec };
        let mechanism = if kind % 2 == 0 { Mechanism::Plain } else { Mechanism::Curve };
        let mut input = Greeting::ours(mechanism, !server).encode().to_vec();
        input.extend_from_slice(&rest);
        feed(server, ours, authenticate, &input, chunk);
    }

    #[test]
    fn altered_transcripts(
        kind in any::<u8>(),
        to_server in any::<bool>(),
        at in any::<prop::sample::Index>(),
        flip in 1u8..=255,
        cut in any::<bool>(),
        chunk in 1usize..300,
    ) {
        let (a_sent, b_sent) = transcripts(kind);
        let (client_sec, server_sec) = security(kind);
        let (mut input, security) = if to_server {
            (a_sent, server_sec)
        } else {
            (b_sent, client_sec)
        };
        // Unaltered, the recording replays to a complete handshake.
        prop_assert_eq!(feed(to_server, security.clone(), false, &input, chunk), End::Ready);
        let i = at.index(input.len());
        if cut {
            input.truncate(i);
        } else {
            input[i] ^= flip;
        }
        feed(to_server, security, true, &input, chunk);
    }
}
