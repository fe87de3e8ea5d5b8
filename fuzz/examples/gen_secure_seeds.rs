//! Writes the seeds of the `plain_server` and `curve_server` targets:
//! `corpus/<target>/seed-*`, each the three header bytes the target reads and a
//! valid client transcript recorded from a client `Session` talking to the very
//! server the target builds (same keys, same seeded randomness). So the fuzzer
//! starts past the greeting: from a whole handshake, traffic in the data phase
//! (sealed MESSAGEs for CURVE), refusals, subscriptions and limits.
//!
//! Run from `fuzz/` (`bash gen-seeds.sh` runs it):
//!
//! ```sh
//! cargo run --example gen_secure_seeds
//! ```
//!
//! Every seed is replayed through the target's driver whole and in its chunks and
//! must end the way the table below says, so a change in zmtp that breaks a seed
//! (a different WELCOME, a refused transcript) shows up here and not as a silently
//! weaker corpus.

use std::fs;
use std::path::Path;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use zeroring_zmtp::{
    AuthResult, Command, Event, Message, Security, Session, SessionConfig, SocketType, ZapStatus,
};
use zeroring_zmtp_fuzz::secure::{
    CLIENT_SEED, Kind, Options, USER_ID, check, client_keys, run_server, seeded, server_config,
    server_public,
};

/// What the client sends once its handshake is done.
#[derive(Clone)]
enum Traffic {
    /// A message with these frames.
    Message(&'static [&'static [u8]]),
    /// A message with one frame of this many bytes.
    Long(usize),
    /// A PING with a TTL (tenths of a second) and a context.
    Ping(u16, &'static [u8]),
    /// A SUBSCRIBE (a 3.1 command) for this topic.
    Subscribe(&'static [u8]),
    /// A CANCEL for this topic.
    Cancel(&'static [u8]),
    /// A command the server does not know.
    Unknown,
}

/// How the server must end on the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Handshake done and this many messages, no error.
    Messages(usize),
    /// Refused with this status.
    Refused(ZapStatus),
    /// Handshake done, then an error after this many messages.
    FailsAfter(usize),
    /// The handshake fails (not by authentication).
    HandshakeFails,
}

struct Seed {
    name: &'static str,
    options: Options,
    client_type: SocketType,
    routing_id: Option<&'static [u8]>,
    /// CURVE only: give the client the wrong server key.
    wrong_server_key: bool,
    traffic: Vec<Traffic>,
    expect: Expect,
}

fn options(chunk_seed: u8, answer: Option<ZapStatus>, socket_type: SocketType) -> Options {
    Options {
        chunk_seed,
        answer,
        queue: 2,
        socket_type,
        heartbeat: false,
        two_frames: false,
        small_messages: false,
    }
}

/// The seeds, the same list for both mechanisms.
fn seeds(kind: Kind) -> Vec<Seed> {
    use SocketType::*;
    use ZapStatus::*;
    let ok = Some(Success);
    let mut list = vec![
        Seed {
            name: "dealer-router-traffic",
            options: options(0x00, ok, Router),
            client_type: Dealer,
            routing_id: Some(b"client-1"),
            wrong_server_key: false,
            traffic: vec![
                Traffic::Message(&[b"hello", b"world"]),
                Traffic::Ping(30, b"abc"),
                Traffic::Message(&[b"x"]),
                Traffic::Long(300),
                Traffic::Unknown,
                Traffic::Message(&[b"", b"last"]),
            ],
            expect: Expect::Messages(4),
        },
        Seed {
            name: "req-rep-1byte-chunks",
            options: Options {
                queue: 1,
                ..options(0x01, ok, Rep)
            },
            client_type: Req,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![
                Traffic::Message(&[b"", b"request-1"]),
                Traffic::Message(&[b"", b"request-2"]),
            ],
            expect: Expect::Messages(2),
        },
        Seed {
            name: "refused-400",
            options: options(0x00, Some(Failure), Router),
            client_type: Dealer,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![],
            expect: Expect::Refused(Failure),
        },
        Seed {
            name: "temporary-300-mixed-chunks",
            options: options(0x2b, Some(TemporaryError), Pull),
            client_type: Push,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![],
            expect: Expect::Refused(TemporaryError),
        },
        Seed {
            name: "internal-error-500",
            options: options(0x05, Some(InternalError), Pair),
            client_type: Pair,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![],
            expect: Expect::Refused(InternalError),
        },
        Seed {
            name: "no-auth-pub-sub-heartbeat",
            options: Options {
                heartbeat: true,
                ..options(0x2b, None, Pub)
            },
            client_type: Sub,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![
                Traffic::Subscribe(b"topic"),
                Traffic::Ping(20, b""),
                Traffic::Subscribe(b""),
                Traffic::Cancel(b"topic"),
            ],
            expect: Expect::Messages(0),
        },
        Seed {
            name: "pull-limits-too-many-frames",
            options: Options {
                queue: 1,
                two_frames: true,
                small_messages: true,
                ..options(0x93, ok, Pull)
            },
            client_type: Push,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![
                Traffic::Message(&[b"one", b"two"]),
                Traffic::Message(&[b"one", b"two", b"three"]),
            ],
            expect: Expect::FailsAfter(1),
        },
        Seed {
            name: "pair-limits-too-large",
            options: Options {
                small_messages: true,
                ..options(0x07, None, Pair)
            },
            client_type: Pair,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![Traffic::Message(&[b"small"]), Traffic::Long(300)],
            expect: Expect::FailsAfter(1),
        },
        Seed {
            name: "incompatible-socket-type",
            options: options(0x00, ok, Pull),
            client_type: Pull,
            routing_id: None,
            wrong_server_key: false,
            traffic: vec![],
            expect: Expect::HandshakeFails,
        },
    ];
    if kind == Kind::Curve {
        list.push(Seed {
            name: "wrong-server-key",
            options: options(0x00, ok, Router),
            client_type: Dealer,
            routing_id: None,
            wrong_server_key: true,
            traffic: vec![],
            expect: Expect::HandshakeFails,
        });
    }
    list
}

fn client_config(kind: Kind, seed: &Seed) -> SessionConfig {
    let mut cfg = SessionConfig::new(seed.client_type);
    cfg.routing_id = seed.routing_id.map(Bytes::from_static);
    cfg.random = seeded(CLIENT_SEED);
    cfg.security = match kind {
        Kind::Plain => Security::plain_client("admin", "secret").expect("short credentials"),
        Kind::Curve => {
            let keys = client_keys();
            let server_key = if seed.wrong_server_key {
                *keys.public()
            } else {
                server_public()
            };
            Security::CurveClient { keys, server_key }
        }
    };
    cfg
}

/// Runs a client against the target's server until neither moves, and returns
/// the client (for the data phase) with everything it sent.
fn handshake(kind: Kind, seed: &Seed) -> (Session, Vec<u8>) {
    let now = Instant::now();
    let mut client = Session::new(client_config(kind, seed), now);
    let mut server = Session::new(server_config(kind, &seed.options), now);
    let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
    let mut sent = Vec::new();
    let (mut client_done, mut server_done) = (false, false);
    for _ in 0..16 {
        let mut out = BytesMut::new();
        client.poll_transmit(&mut out);
        sent.extend_from_slice(&out);
        to_server.extend_from_slice(&out);
        while !server_done {
            match server.poll_input(&mut to_server) {
                Ok(None) => break,
                Ok(Some(Event::Authenticate(_))) => {
                    let answer = seed.options.answer.expect("asked with authentication off");
                    let result = if answer == ZapStatus::Success {
                        AuthResult::allow(Bytes::from_static(USER_ID))
                    } else {
                        AuthResult::deny(answer)
                    };
                    server_done = server.authenticated(result).is_err();
                }
                Ok(Some(Event::Ready(_))) => {}
                Ok(Some(other)) => panic!("{}: server got {other:?}", seed.name),
                Err(_) => server_done = true,
            }
        }
        server.poll_transmit(&mut to_client);
        while !client_done {
            match client.poll_input(&mut to_client) {
                Ok(None) => break,
                Ok(Some(Event::Ready(_))) => {}
                Ok(Some(other)) => panic!("{}: client got {other:?}", seed.name),
                Err(_) => client_done = true,
            }
        }
        if client.is_ready() || client_done || server_done && to_client.is_empty() {
            break;
        }
    }
    (client, sent)
}

/// Appends the client's traffic (sealed by a CURVE client).
fn traffic(client: &mut Session, items: &[Traffic], out: &mut Vec<u8>) {
    let mut buf = BytesMut::new();
    for item in items {
        let mut plain = BytesMut::new();
        match item {
            Traffic::Message(frames) => {
                client.encode_message(&Message::from(frames.to_vec()), &mut buf)
            }
            Traffic::Long(n) => client.encode_message(&Message::from(vec![b'L'; *n]), &mut buf),
            Traffic::Ping(ttl, context) => {
                Command::Ping {
                    ttl_deciseconds: *ttl,
                    context: Bytes::from_static(context),
                }
                .encode(&mut plain);
                client.seal(&plain, &mut buf);
            }
            Traffic::Subscribe(topic) => {
                client.encode_subscription(true, &Bytes::from_static(topic), &mut buf)
            }
            Traffic::Cancel(topic) => {
                client.encode_subscription(false, &Bytes::from_static(topic), &mut buf)
            }
            Traffic::Unknown => {
                // Command frame: flags 0x04, size, name length, name, data.
                plain.extend_from_slice(b"\x04\x0a\x05HELLOdata");
                client.seal(&plain, &mut buf);
            }
        }
    }
    out.extend_from_slice(&buf);
}

/// Replays `data` through the target's driver, whole and chunked, and checks it
/// ends as expected.
fn verify(kind: Kind, seed: &Seed, data: &[u8]) {
    // The target's own checks (they panic on a violation).
    check(kind, data);
    let (options, stream) = Options::parse(data).expect("a header");
    assert_eq!(options, seed.options, "{}: header round trip", seed.name);
    for chunk_seed in [0, options.chunk_seed] {
        let out = run_server(kind, &options, stream, chunk_seed);
        let ok = match seed.expect {
            Expect::Messages(n) => out.ready && out.error.is_none() && out.messages() == n,
            Expect::FailsAfter(n) => out.ready && out.error.is_some() && out.messages() == n,
            Expect::Refused(status) => {
                !out.ready
                    && out.error
                        == Some(zeroring_zmtp::CloseReason::Protocol(
                            zeroring_zmtp::ZmtpError::AuthenticationFailed(status),
                        ))
            }
            Expect::HandshakeFails => !out.ready && out.error.is_some(),
        };
        assert!(
            ok,
            "{}: expected {:?}, got ready={} messages={} error={:?}",
            seed.name,
            seed.expect,
            out.ready,
            out.messages(),
            out.error
        );
    }
}

fn main() {
    for (kind, target) in [(Kind::Plain, "plain_server"), (Kind::Curve, "curve_server")] {
        let dir = Path::new("corpus").join(target);
        fs::create_dir_all(&dir).expect("create the corpus directory");
        for seed in seeds(kind) {
            let (mut client, transcript) = handshake(kind, &seed);
            let mut data = seed.options.encode().to_vec();
            data.extend_from_slice(&transcript);
            if !seed.traffic.is_empty() {
                assert!(client.is_ready(), "{}: the client is not ready", seed.name);
                traffic(&mut client, &seed.traffic, &mut data);
            }
            verify(kind, &seed, &data);
            let path = dir.join(format!("seed-{}", seed.name));
            fs::write(&path, &data).expect("write the seed");
        }
    }
}
