//! Handshakes that must fail, and how each side learns why: refused
//! credentials (with the ZAP status on both sides), wrong or unknown CURVE
//! keys, altered handshake boxes, mismatched mechanisms and roles, and the
//! handshake deadline while the caller authenticates.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use zeroring_zmtp::{
    AuthResult, CloseReason, Credentials, CurveBox, CurveKeyPair, Event, Mechanism, Security,
    Session, SocketType, ZapStatus, ZmtpError,
};

use crate::harness::{Pair, client_keys, config, ended, seeded, server_keys, server_public};

fn protocol(e: Option<&CloseReason>) -> Option<&ZmtpError> {
    match e {
        Some(CloseReason::Protocol(z)) => Some(z),
        _ => None,
    }
}

fn plain_pair(password: &str, status: ZapStatus) -> Pair {
    let a = config(
        SocketType::Req,
        Security::plain_client("admin", password).unwrap(),
        1,
    );
    let mut b = config(SocketType::Rep, Security::PlainServer, 2);
    b.authenticate = true;
    let mut p = Pair::new(a, b);
    p.b = p.b.with_policy(move |request| match &request.credentials {
        Credentials::Plain { password, .. } if password.expose() == b"secret" => {
            AuthResult::allow("admin")
        }
        _ => AuthResult::deny(status),
    });
    p
}

#[test]
fn plain_wrong_password_is_refused_with_400_on_both_sides() {
    let mut p = plain_pair("guess", ZapStatus::Failure);
    p.run();
    assert_eq!(
        protocol(ended(&p.b)),
        Some(&ZmtpError::AuthenticationFailed(ZapStatus::Failure))
    );
    assert_eq!(
        protocol(ended(&p.a)),
        Some(&ZmtpError::RefusedByPeer(ZapStatus::Failure))
    );
    assert!(
        p.b.sent.ends_with(b"\x04\x0a\x05ERROR\x03400"),
        "{:?}",
        p.b.sent
    );
    assert!(!p.a.is_ready() && !p.b.is_ready());
    // The right password gets in.
    let mut p = plain_pair("secret", ZapStatus::Failure);
    p.run();
    assert!(p.a.is_ready() && p.b.is_ready());
}

#[test]
fn temporary_failure_closes_without_an_error_command() {
    let mut p = plain_pair("guess", ZapStatus::TemporaryError);
    p.run();
    assert_eq!(
        protocol(ended(&p.b)),
        Some(&ZmtpError::AuthenticationFailed(ZapStatus::TemporaryError))
    );
    assert!(!p.b.sent.windows(5).any(|w| w == b"ERROR"));
    assert_eq!(ended(&p.a), Some(&CloseReason::PeerClosedDuringHandshake));
}

fn curve_client(server_key: zeroring_zmtp::CurvePublicKey, keys: CurveKeyPair) -> Security {
    Security::CurveClient { keys, server_key }
}

#[test]
fn curve_wrong_server_key_fails() {
    // The client expects another server: the server cannot open its HELLO and
    // closes, so the client's handshake fails too.
    let wrong = *client_keys().public();
    let a = config(SocketType::Dealer, curve_client(wrong, client_keys()), 1);
    let b = config(
        SocketType::Router,
        Security::CurveServer {
            keys: server_keys(),
        },
        2,
    );
    let mut p = Pair::new(a, b);
    p.run();
    assert_eq!(
        protocol(ended(&p.b)),
        Some(&ZmtpError::CurveBoxRejected(CurveBox::Hello))
    );
    assert_eq!(ended(&p.a), Some(&CloseReason::PeerClosedDuringHandshake));
}

#[test]
fn curve_client_key_not_allowed_is_refused() {
    let stranger = CurveKeyPair::generate(&seeded(99)).unwrap();
    let a = config(
        SocketType::Dealer,
        curve_client(server_public(), stranger),
        1,
    );
    let mut b = config(
        SocketType::Router,
        Security::CurveServer {
            keys: server_keys(),
        },
        2,
    );
    b.authenticate = true;
    let allowed = *client_keys().public();
    let mut p = Pair::new(a, b);
    p.b = p.b.with_policy(move |request| match &request.credentials {
        Credentials::Curve { client_public_key } if *client_public_key == allowed => {
            AuthResult::allow("")
        }
        _ => AuthResult::deny(ZapStatus::Failure),
    });
    p.run();
    assert_eq!(
        protocol(ended(&p.b)),
        Some(&ZmtpError::AuthenticationFailed(ZapStatus::Failure))
    );
    assert_eq!(
        protocol(ended(&p.a)),
        Some(&ZmtpError::RefusedByPeer(ZapStatus::Failure))
    );
}

#[test]
fn null_with_authentication_refuses_before_ready() {
    let a = config(SocketType::Push, Security::Null, 1);
    let mut b = config(SocketType::Pull, Security::Null, 2);
    b.authenticate = true;
    let mut p = Pair::new(a, b);
    p.b = p.b.with_policy(|request| {
        assert_eq!(request.mechanism, Mechanism::Null);
        AuthResult::deny(ZapStatus::InternalError)
    });
    p.run();
    assert_eq!(
        protocol(ended(&p.b)),
        Some(&ZmtpError::AuthenticationFailed(ZapStatus::InternalError))
    );
    assert_eq!(
        protocol(ended(&p.a)),
        Some(&ZmtpError::RefusedByPeer(ZapStatus::InternalError))
    );
    assert!(!p.b.sent.windows(5).any(|w| w == b"READY"));
}

#[test]
fn mechanisms_and_roles_must_match() {
    let cases = [
        (
            Security::plain_client("a", "b").unwrap(),
            Security::CurveServer {
                keys: server_keys(),
            },
            ZmtpError::MechanismMismatch {
                ours: Mechanism::Plain,
                theirs: Mechanism::Curve,
            },
        ),
        (
            Security::PlainServer,
            Security::PlainServer,
            ZmtpError::RoleMismatch {
                mechanism: Mechanism::Plain,
                both_servers: true,
            },
        ),
        // libzmq never sets as-server: two clients meet HELLO where WELCOME
        // belongs.
        (
            curve_client(server_public(), client_keys()),
            curve_client(server_public(), client_keys()),
            ZmtpError::UnexpectedCommand {
                expected: "WELCOME",
                received: "HELLO".into(),
            },
        ),
    ];
    for (a, b, expected) in cases {
        let mut p = Pair::new(
            config(SocketType::Pair, a, 1),
            config(SocketType::Pair, b, 2),
        );
        p.run();
        assert_eq!(protocol(p.a.error.as_ref()), Some(&expected));
    }
}

/// Greetings, HELLO and WELCOME exchanged by hand: returns the client, the
/// server and the WELCOME bytes not yet delivered.
fn curve_until_welcome(authenticate: bool) -> (Session, Session, BytesMut) {
    let now = Instant::now();
    let mut c = Session::new(
        config(
            SocketType::Dealer,
            curve_client(server_public(), client_keys()),
            1,
        ),
        now,
    );
    let mut server_config = config(
        SocketType::Router,
        Security::CurveServer {
            keys: server_keys(),
        },
        2,
    );
    server_config.authenticate = authenticate;
    let mut s = Session::new(server_config, now);
    let (mut c2s, mut s2c) = (BytesMut::new(), BytesMut::new());
    c.poll_transmit(&mut c2s);
    s.poll_transmit(&mut s2c);
    assert_eq!(c.poll_input(&mut s2c).unwrap(), None);
    c.poll_transmit(&mut c2s); // HELLO
    assert_eq!(s.poll_input(&mut c2s).unwrap(), None);
    s.poll_transmit(&mut s2c); // WELCOME
    (c, s, s2c)
}

#[test]
fn altered_handshake_boxes_are_rejected() {
    // WELCOME
    let (mut c, _, mut welcome) = curve_until_welcome(false);
    let last = welcome.len() - 1;
    welcome[last] ^= 0x01;
    assert_eq!(
        c.poll_input(&mut welcome),
        Err(CloseReason::Protocol(ZmtpError::CurveBoxRejected(
            CurveBox::Welcome
        )))
    );

    // INITIATE: its cookie, then its box.
    for (offset, which) in [(20, CurveBox::Cookie), (200, CurveBox::Initiate)] {
        let (mut c, mut s, mut welcome) = curve_until_welcome(false);
        assert_eq!(c.poll_input(&mut welcome).unwrap(), None);
        let mut initiate = BytesMut::new();
        c.poll_transmit(&mut initiate);
        // Frame header: flags and a one-byte size (under 256 bytes) or 8 bytes.
        let header = if initiate[0] & 0x02 != 0 { 9 } else { 2 };
        initiate[header + offset] ^= 0x40;
        assert_eq!(
            s.poll_input(&mut initiate),
            Err(CloseReason::Protocol(ZmtpError::CurveBoxRejected(which)))
        );
    }

    // READY
    let (mut c, mut s, mut welcome) = curve_until_welcome(false);
    assert_eq!(c.poll_input(&mut welcome).unwrap(), None);
    let mut initiate = BytesMut::new();
    c.poll_transmit(&mut initiate);
    assert!(matches!(
        s.poll_input(&mut initiate),
        Ok(Some(Event::Ready(_)))
    ));
    let mut ready = BytesMut::new();
    s.poll_transmit(&mut ready);
    let last = ready.len() - 1;
    ready[last] ^= 0x01;
    assert_eq!(
        c.poll_input(&mut ready),
        Err(CloseReason::Protocol(ZmtpError::CurveBoxRejected(
            CurveBox::Ready
        )))
    );
}

#[test]
fn handshake_deadline_applies_while_authenticating() {
    let (mut c, mut s, mut welcome) = curve_until_welcome(true);
    assert_eq!(c.poll_input(&mut welcome).unwrap(), None);
    let mut initiate = BytesMut::new();
    c.poll_transmit(&mut initiate);
    assert!(matches!(
        s.poll_input(&mut initiate),
        Ok(Some(Event::Authenticate(_)))
    ));
    assert!(s.awaiting_authentication());
    // Nothing moves while the caller thinks, however often it polls.
    assert_eq!(s.poll_input(&mut BytesMut::new()).unwrap(), None);
    let deadline = s.poll_timeout().expect("the handshake deadline");
    assert!(
        s.handle_timeout(deadline - Duration::from_millis(1))
            .is_ok()
    );
    assert_eq!(
        s.handle_timeout(deadline),
        Err(CloseReason::HandshakeTimeout)
    );
}

#[test]
fn an_answer_nobody_asked_for_is_an_error() {
    let (_, mut s, _) = curve_until_welcome(true);
    assert_eq!(
        s.authenticated(AuthResult::allow("x")),
        Err(CloseReason::Protocol(ZmtpError::NoAuthenticationPending))
    );
    let mut p = Pair::new(
        config(SocketType::Push, Security::Null, 1),
        config(SocketType::Pull, Security::Null, 2),
    );
    p.run();
    assert_eq!(
        p.a.session.authenticated(AuthResult::allow("x")),
        Err(CloseReason::Protocol(ZmtpError::NoAuthenticationPending))
    );
}
