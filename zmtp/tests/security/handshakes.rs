//! NULL, PLAIN and CURVE handshakes between two sessions, with each direction's
//! bytes delivered one byte at a time, in chunks of every size, and in random
//! splits: the outcome and every byte sent are the same whatever the split, and
//! messages flow both ways afterwards (sealed, for CURVE).

use bytes::Bytes;
use proptest::prelude::*;
use zeroring_zmtp::{
    AuthResult, Credentials, Event, Mechanism, Message, PeerInfo, Security, SocketType, ZapStatus,
};

use crate::harness::{Pair, client_keys, config, server_keys, server_public};

#[derive(Debug, Clone, Copy)]
enum Kind {
    Null,
    NullAuthenticated,
    Plain,
    PlainAuthenticated,
    Curve,
    CurveAuthenticated,
}

const KINDS: [Kind; 6] = [
    Kind::Null,
    Kind::NullAuthenticated,
    Kind::Plain,
    Kind::PlainAuthenticated,
    Kind::Curve,
    Kind::CurveAuthenticated,
];

/// A DEALER client `a` and a ROUTER server `b` of the given kind; servers that
/// authenticate allow "admin"/"secret" and libzmq's test client key.
fn pair(kind: Kind) -> Pair {
    let (client, server, authenticate) = match kind {
        Kind::Null => (Security::Null, Security::Null, false),
        Kind::NullAuthenticated => (Security::Null, Security::Null, true),
        Kind::Plain | Kind::PlainAuthenticated => (
            Security::plain_client("admin", "secret").unwrap(),
            Security::PlainServer,
            matches!(kind, Kind::PlainAuthenticated),
        ),
        Kind::Curve | Kind::CurveAuthenticated => (
            Security::CurveClient {
                keys: client_keys(),
                server_key: server_public(),
            },
            Security::CurveServer {
                keys: server_keys(),
            },
            matches!(kind, Kind::CurveAuthenticated),
        ),
    };
    let mut a = config(SocketType::Dealer, client, 11);
    a.routing_id = Some(Bytes::from_static(b"client-1"));
    let mut b = config(SocketType::Router, server, 22);
    b.authenticate = authenticate;
    let mut p = Pair::new(a, b);
    p.b = p.b.with_policy(|request| {
        let allowed = match &request.credentials {
            Credentials::Null => request.mechanism == Mechanism::Null,
            Credentials::Plain { username, password } => {
                &username[..] == b"admin" && password.expose() == b"secret"
            }
            Credentials::Curve { client_public_key } => {
                *client_public_key == *client_keys().public()
            }
        };
        if allowed {
            AuthResult::allow("user-7")
        } else {
            AuthResult::deny(ZapStatus::Failure)
        }
    });
    p
}

/// What one run produced: both transcripts and both peers.
#[derive(Debug, PartialEq)]
struct Outcome {
    a_sent: Vec<u8>,
    b_sent: Vec<u8>,
    a_peer: PeerInfo,
    b_peer: PeerInfo,
}

fn peer(events: &[Event]) -> PeerInfo {
    events
        .iter()
        .find_map(|e| match e {
            Event::Ready(p) => Some(p.clone()),
            _ => None,
        })
        .expect("no Ready event")
}

/// Handshake, then a message each way, all with these chunk sizes.
fn run(kind: Kind, a_to_b: &[usize], b_to_a: &[usize]) -> Outcome {
    let mut p = pair(kind);
    p.run_split(a_to_b, b_to_a);
    assert!(
        p.a.error.is_none() && p.b.error.is_none(),
        "{:?} / {:?}",
        p.a.error,
        p.b.error
    );
    assert!(p.a.is_ready() && p.b.is_ready(), "{kind:?} did not finish");
    let outcome = Outcome {
        a_sent: p.a.sent.clone(),
        b_sent: p.b.sent.clone(),
        a_peer: peer(&p.a.events),
        b_peer: peer(&p.b.events),
    };
    let request = Message::from(vec![&b"GET"[..], &[7u8; 300][..]]);
    let reply = Message::from(vec!["client-1", "", "OK"]);
    p.a.session.encode_message(&request, &mut p.a.out);
    p.b.session.encode_message(&reply, &mut p.b.out);
    p.run_split(a_to_b, b_to_a);
    assert_eq!(p.b.messages(), vec![request]);
    assert_eq!(p.a.messages(), vec![reply]);
    outcome
}

fn check_peers(kind: Kind, o: &Outcome) {
    assert_eq!(o.a_peer.socket_type, SocketType::Router);
    assert_eq!(o.b_peer.socket_type, SocketType::Dealer);
    assert_eq!(o.b_peer.routing_id, Some(Bytes::from_static(b"client-1")));
    let authenticated = matches!(
        kind,
        Kind::NullAuthenticated | Kind::PlainAuthenticated | Kind::CurveAuthenticated
    );
    let expected = authenticated.then(|| Bytes::from_static(b"user-7"));
    assert_eq!(o.b_peer.user_id, expected);
    assert_eq!(o.a_peer.user_id, None);
}

#[test]
fn every_mechanism_at_many_chunk_sizes() {
    for kind in KINDS {
        let reference = run(kind, &[], &[]);
        check_peers(kind, &reference);
        let longest = reference.a_sent.len().max(reference.b_sent.len());
        // One byte at a time splits at every position; then every small size
        // and a stride of larger ones (a CURVE handshake costs ~50 ms unoptimised).
        let sizes = (1..=40).chain((41..=longest).step_by(23)).chain([longest]);
        for k in sizes {
            assert_eq!(run(kind, &[k], &[k]), reference, "{kind:?}, chunks of {k}");
        }
        // One direction byte by byte while the other arrives whole.
        assert_eq!(run(kind, &[1], &[]), reference, "{kind:?}");
        assert_eq!(run(kind, &[], &[1]), reference, "{kind:?}");
    }
}

#[test]
fn the_auth_request_carries_the_credentials() {
    let mut p = pair(Kind::CurveAuthenticated);
    p.run();
    let Some(Event::Authenticate(request)) = p.b.events.first() else {
        panic!("{:?}", p.b.events);
    };
    assert_eq!(request.mechanism, Mechanism::Curve);
    assert_eq!(
        request.credentials,
        Credentials::Curve {
            client_public_key: *client_keys().public()
        }
    );
    assert_eq!(
        request.peer_routing_id,
        Some(Bytes::from_static(b"client-1"))
    );

    let mut p = pair(Kind::PlainAuthenticated);
    p.run();
    let Some(Event::Authenticate(request)) = p.b.events.first() else {
        panic!("{:?}", p.b.events);
    };
    let Credentials::Plain { username, password } = &request.credentials else {
        panic!("{request:?}");
    };
    assert_eq!(
        (&username[..], password.expose()),
        (&b"admin"[..], &b"secret"[..])
    );
    assert_eq!(request.peer_routing_id, None);
}

#[test]
fn zap_metadata_reaches_peer_info() {
    let mut p = pair(Kind::PlainAuthenticated);
    p.b = p.b.with_policy(|_| {
        let mut r = AuthResult::allow("alice");
        r.metadata.insert("X-Role", "admin");
        r
    });
    p.run();
    let info = peer(&p.b.events);
    assert_eq!(info.user_id, Some(Bytes::from_static(b"alice")));
    assert_eq!(
        info.zap_metadata.get("x-role").map(|v| &v[..]),
        Some(&b"admin"[..])
    );
}

fn chunk_sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(
        prop_oneof![3 => 1usize..8, 2 => 8usize..300, 1 => 300usize..700],
        1..12,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random splits give the same transcripts and peers as whole delivery.
    #[test]
    fn random_splits(kind in 0usize..KINDS.len(), ab in chunk_sizes(), ba in chunk_sizes()) {
        let kind = KINDS[kind];
        let reference = run(kind, &[], &[]);
        prop_assert_eq!(run(kind, &ab, &ba), reference);
    }
}
