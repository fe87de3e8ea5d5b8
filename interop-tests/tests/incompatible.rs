//! Incompatible socket types against libzmq (e.g. zeroring REQ connecting to a
//! libzmq PUSH): the handshake fails on both sides, no message flows in either
//! direction, sends and receives time out cleanly, nothing panics, and the same
//! runtime goes on to serve a compatible pairing afterwards.
//!
//! libzmq drops the connection after the READY exchange (its monitor reports
//! DISCONNECTED, never HANDSHAKE_SUCCEEDED); a connecting libzmq socket then gives up
//! on that endpoint for good, while zeroring keeps retrying at RECONNECT_IVL.

use std::time::Duration;

use zeroring::{
    DealerSocket, PairSocket, PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket,
    SocketBase,
};
use zeroring_interop_tests::*;

const SHORT: Duration = Duration::from_millis(150);

/// A zeroring socket of any type, with a send and a receive where the type has them.
enum Z {
    Req(ReqSocket),
    Rep(RepSocket),
    Dealer(DealerSocket),
    Router(RouterSocket),
    Push(PushSocket),
    Pull(PullSocket),
    Pair(PairSocket),
}

impl Z {
    fn base(&self) -> &SocketBase {
        match self {
            Z::Req(s) => s,
            Z::Rep(s) => s,
            Z::Dealer(s) => s,
            Z::Router(s) => s,
            Z::Push(s) => s,
            Z::Pull(s) => s,
            Z::Pair(s) => s,
        }
    }

    /// Tries to send. A bound zeroring socket has no peer, so the send times out.
    /// A connecting one has its connect() slot (libzmq's default, ZMQ_IMMEDIATE
    /// off), so the message is queued — and must never reach the peer.
    async fn send_is_never_delivered(&self, zeroring_connects: bool) -> bool {
        let r = match self {
            Z::Req(s) => s.send("x").await,
            Z::Dealer(s) => s.send("x").await,
            Z::Push(s) => s.send("x").await,
            Z::Pair(s) => s.send("x").await,
            // Unroutable: dropped silently (no ROUTER_MANDATORY).
            Z::Router(s) => {
                ok("ROUTER send", s.send(vec!["nobody", "x"])).await;
                return false;
            }
            Z::Rep(_) | Z::Pull(_) => return false,
        };
        if zeroring_connects {
            assert!(r.is_ok(), "send on a connecting socket queues: {r:?}");
            true
        } else {
            assert!(matches!(r, Err(zeroring::Error::Timeout(_))), "send: {r:?}");
            false
        }
    }

    /// Tries to receive; must time out.
    async fn recv_times_out(&self, request_pending: bool) {
        let r = match self {
            Z::Rep(s) => s.recv().await,
            Z::Dealer(s) => s.recv().await,
            Z::Router(s) => s.recv().await,
            Z::Pull(s) => s.recv().await,
            Z::Pair(s) => s.recv().await,
            // REQ: a reply can only be awaited after a request was queued.
            Z::Req(s) if request_pending => s.recv().await,
            Z::Req(_) | Z::Push(_) => return,
        };
        assert!(matches!(r, Err(zeroring::Error::Timeout(_))), "recv: {r:?}");
    }
}

fn can_send(kind: zmq::SocketType) -> bool {
    matches!(kind, zmq::REQ | zmq::DEALER | zmq::PUSH | zmq::PAIR)
}

fn can_recv_first(kind: zmq::SocketType) -> bool {
    matches!(
        kind,
        zmq::REP | zmq::DEALER | zmq::ROUTER | zmq::PULL | zmq::PAIR
    )
}

async fn incompatible(z: Z, kind: zmq::SocketType, dir: Dir) {
    let ctx = zmq::Context::new();
    let l = zsocket(&ctx, kind);
    l.set_sndtimeo(SHORT.as_millis() as i32).unwrap();
    l.set_rcvtimeo(SHORT.as_millis() as i32).unwrap();
    // What libzmq queues can never be delivered; do not wait for it on close.
    l.set_linger(0).unwrap();
    let monitor = Monitor::new(&ctx, &l);
    z.base().set_sndtimeo(Some(SHORT));
    z.base().set_rcvtimeo(Some(SHORT));
    link(z.base(), &l, dir).await;
    let peer = spawn_peer("libzmq (incompatible)", move || {
        // The handshake runs and fails: libzmq drops the connection.
        let before = monitor.expect(zmq::SocketEvent::DISCONNECTED);
        assert!(
            !before.contains(&zmq::SocketEvent::HANDSHAKE_SUCCEEDED),
            "{before:?}"
        );
        if can_send(kind) {
            // Queued (connecting side) or EAGAIN (bound side, no peer): either way
            // it must not reach zeroring.
            match l.send("x", 0) {
                Ok(()) | Err(zmq::Error::EAGAIN) => {}
                Err(e) => panic!("libzmq send: {e}"),
            }
        }
        if can_recv_first(kind) {
            assert_eq!(l.recv_multipart(0), Err(zmq::Error::EAGAIN));
        }
        let later = monitor.drain(100);
        assert!(
            !later.contains(&zmq::SocketEvent::HANDSHAKE_SUCCEEDED),
            "{later:?}"
        );
    });
    let zeroring_connects = matches!(dir, Dir::LibzmqBinds);
    let queued = within("send attempt", z.send_is_never_delivered(zeroring_connects)).await;
    within("recv attempt", z.recv_times_out(queued)).await;
    peer.join().await;
    assert_eq!(z.base().peer_count(), 0);
    // The runtime is unharmed: a compatible pairing works right after.
    let push = PushSocket::new();
    let pull = PullSocket::new();
    let ep = ok("bind", pull.bind("tcp://127.0.0.1:0")).await;
    ok("connect", push.connect(&ep.to_string())).await;
    ok("send", push.send("fine")).await;
    assert_eq!(frames(&ok("recv", pull.recv()).await), parts(&["fine"]));
}

macro_rules! incompatible_tests {
    ($($name:ident: $z:expr, $l:expr;)*) => {$(
        mod $name {
            use super::*;
            #[compio::test]
            async fn zeroring_binds() {
                incompatible($z, $l, Dir::ZeroringBinds).await
            }
            #[compio::test]
            async fn libzmq_binds() {
                incompatible($z, $l, Dir::LibzmqBinds).await
            }
        }
    )*};
}

incompatible_tests! {
    zeroring_req_libzmq_push: Z::Req(ReqSocket::new()), zmq::PUSH;
    zeroring_req_libzmq_req: Z::Req(ReqSocket::new()), zmq::REQ;
    zeroring_rep_libzmq_rep: Z::Rep(RepSocket::new()), zmq::REP;
    zeroring_dealer_libzmq_pull: Z::Dealer(DealerSocket::new()), zmq::PULL;
    zeroring_router_libzmq_push: Z::Router(RouterSocket::new()), zmq::PUSH;
    zeroring_push_libzmq_push: Z::Push(PushSocket::new()), zmq::PUSH;
    zeroring_pull_libzmq_req: Z::Pull(PullSocket::new()), zmq::REQ;
    zeroring_pair_libzmq_dealer: Z::Pair(PairSocket::new()), zmq::DEALER;
    zeroring_push_libzmq_rep: Z::Push(PushSocket::new()), zmq::REP;
}
