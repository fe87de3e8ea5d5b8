//! Per-call non-blocking operations (libzmq's ZMQ_DONTWAIT): `try_send` and
//! `try_recv` on every socket type, and the guarantee that a loop of sends or
//! receives that fail for lack of room or messages never starves the socket's own
//! connections (each failure gives the runtime a turn), with SNDTIMEO/RCVTIMEO 0 too.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use zeroring_sockets::{
    DealerSocket, Error, PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket, SubSocket,
    XpubSocket,
};

use common::*;

const N: usize = 20_000;

/// Receives everything on its own task and counts.
fn count_on_task(pull: Rc<PullSocket>) -> Rc<Cell<usize>> {
    let got = Rc::new(Cell::new(0));
    let counter = got.clone();
    compio::runtime::spawn(async move {
        while pull.recv().await.is_ok() {
            counter.set(counter.get() + 1);
        }
    })
    .detach();
    got
}

async fn connected_pair() -> (PushSocket, Rc<PullSocket>) {
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(100)).unwrap();
    let ep = pull.bind(ANY).await.unwrap();
    let push = PushSocket::new();
    push.set_sndhwm(Some(100)).unwrap();
    push.connect(&ep.to_string()).await.unwrap();
    wait_until("connected", || push.peer_count() == 1).await;
    (push, Rc::new(pull))
}

#[compio::test]
async fn try_send_loop_without_sleeping_keeps_the_writer_going() {
    let watch = panic_watch();
    let (push, pull) = connected_pair().await;
    let got = count_on_task(pull);
    let mut sent = 0;
    let mut would_block = 0;
    within("a busy try_send loop delivers everything", async {
        while sent < N {
            match push.try_send(format!("m{sent}")).await {
                Ok(()) => sent += 1,
                Err(Error::WouldBlock("send")) => would_block += 1,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert!(would_block > 0, "SNDHWM 100 never made try_send fail");
    wait_until("everything received", || got.get() == N).await;
    watch.assert_none();
}

#[compio::test]
async fn zero_sndtimeo_send_loop_keeps_the_writer_going() {
    let watch = panic_watch();
    let (push, pull) = connected_pair().await;
    push.set_sndtimeo(Some(Duration::ZERO));
    let got = count_on_task(pull);
    let mut sent = 0;
    let mut timeouts = 0;
    within("a busy SNDTIMEO=0 loop delivers everything", async {
        while sent < N {
            match push.send(format!("m{sent}")).await {
                Ok(()) => sent += 1,
                Err(Error::Timeout("send")) => timeouts += 1,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert!(timeouts > 0, "SNDHWM 100 never made the send time out");
    wait_until("everything received", || got.get() == N).await;
    watch.assert_none();
}

#[compio::test]
async fn try_recv_polling_loop_receives_without_sleeping() {
    let watch = panic_watch();
    let pull = PullSocket::new();
    let ep = pull.bind(ANY).await.unwrap();
    assert!(matches!(
        pull.try_recv().await,
        Err(Error::WouldBlock("recv"))
    ));
    let push = Rc::new(PushSocket::new());
    push.connect(&ep.to_string()).await.unwrap();
    let sender = push.clone();
    compio::runtime::spawn(async move {
        for i in 0..1000 {
            sender.send(format!("m{i}")).await.unwrap();
        }
    })
    .detach();
    let mut got = 0;
    let mut empty = 0;
    within("a busy try_recv loop receives everything", async {
        while got < 1000 {
            match pull.try_recv().await {
                Ok(m) => {
                    assert_eq!(m[0], format!("m{got}"));
                    got += 1;
                }
                Err(Error::WouldBlock(_)) => empty += 1,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert!(empty > 0);
    // RCVTIMEO 0 behaves the same way, as a timeout.
    pull.set_rcvtimeo(Some(Duration::ZERO));
    assert!(matches!(pull.recv().await, Err(Error::Timeout("recv"))));
    watch.assert_none();
}

#[compio::test]
async fn req_try_recv_keeps_the_request_pending_until_the_reply_arrives() {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(ANY).await.unwrap();
    let req = ReqSocket::new();
    req.connect(&ep.to_string()).await.unwrap();
    assert!(matches!(
        rep.try_recv().await,
        Err(Error::WouldBlock("recv"))
    ));
    req.try_send("question").await.unwrap();
    assert!(matches!(
        req.try_recv().await,
        Err(Error::WouldBlock("recv"))
    ));
    let q = within("request", rep.recv()).await.unwrap();
    rep.try_send(q).await.unwrap();
    let reply = within("reply", async {
        loop {
            match req.try_recv().await {
                Ok(m) => return m,
                Err(Error::WouldBlock(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert_eq!(&reply[0][..], b"question");
    // The reply was taken: the REQ may send again.
    req.try_send("again").await.unwrap();
    watch.assert_none();
}

#[compio::test]
async fn dealer_try_send_without_peers_would_block() {
    let dealer = DealerSocket::new();
    dealer.bind(ANY).await.unwrap();
    assert!(matches!(
        dealer.try_send("x").await,
        Err(Error::WouldBlock("send"))
    ));
    assert!(matches!(
        dealer.try_recv().await,
        Err(Error::WouldBlock("recv"))
    ));
    dealer.close().await;
    assert!(matches!(dealer.try_send("x").await, Err(Error::Closed)));
}

#[compio::test]
async fn router_mandatory_try_send_to_a_full_peer_would_block() {
    let watch = panic_watch();
    let router = RouterSocket::new();
    router.set_router_mandatory(true);
    router.set_sndhwm(Some(1)).unwrap();
    let ep = router.bind(ANY).await.unwrap();
    // A raw DEALER that never reads, with an identity, so the router can address it.
    let mut hs = null_greeting();
    let mut data = Vec::new();
    for (name, value) in [("Socket-Type", &b"DEALER"[..]), ("Identity", b"slow")] {
        data.push(name.len() as u8);
        data.extend_from_slice(name.as_bytes());
        data.extend_from_slice(&(value.len() as u32).to_be_bytes());
        data.extend_from_slice(value);
    }
    hs.extend_from_slice(&command("READY", &data));
    let raw = raw_peer(addr(&ep), vec![Step::Send(hs)], Duration::from_secs(3));
    wait_until("raw dealer attached", || router.peer_count() == 1).await;
    let big = vec![0u8; 1 << 20];
    let mut would_block = false;
    within("the router fills the slow peer", async {
        for _ in 0..64 {
            match router.try_send(vec![&b"slow"[..], &big]).await {
                Ok(()) => {}
                Err(Error::WouldBlock("send")) => {
                    would_block = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert!(
        would_block,
        "64 MiB to a peer that never reads never blocked"
    );
    assert!(matches!(
        router.try_send(vec!["nobody", "x"]).await,
        Err(Error::HostUnreachable(_))
    ));
    router.close().await;
    let _ = join(raw).await;
    watch.assert_none();
}

#[compio::test]
async fn xpub_nodrop_try_send_to_a_full_subscriber_would_block() {
    let watch = panic_watch();
    let xpub = XpubSocket::new();
    xpub.set_xpub_nodrop(true);
    xpub.set_sndhwm(Some(1)).unwrap();
    let ep = xpub.bind(ANY).await.unwrap();
    let mut hs = handshake("SUB");
    hs.extend_from_slice(&command("SUBSCRIBE", b""));
    let raw = raw_peer(addr(&ep), vec![Step::Send(hs)], Duration::from_secs(3));
    within("subscription report", xpub.recv()).await.unwrap();
    let big = vec![0u8; 1 << 20];
    let mut would_block = false;
    for _ in 0..64 {
        match within("publish", xpub.try_send(big.clone())).await {
            Ok(()) => {}
            Err(Error::WouldBlock("send")) => {
                would_block = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        would_block,
        "XPUB_NODROP try_send never reported a full subscriber"
    );
    xpub.close().await;
    let _ = join(raw).await;
    watch.assert_none();
}

#[compio::test]
async fn sub_try_recv_is_non_blocking() {
    let sub = SubSocket::new();
    sub.subscribe("");
    sub.bind(ANY).await.unwrap();
    assert!(matches!(
        sub.try_recv().await,
        Err(Error::WouldBlock("recv"))
    ));
}
