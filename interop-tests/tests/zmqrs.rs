//! zeroring against zmq.rs (crate `zeromq` 0.7, ZMTP 3 in pure Rust on tokio), each
//! zmq.rs peer on its own thread and tokio runtime: REQ/REP both ways, PUSH/PULL,
//! DEALER/ROUTER and PUB/SUB.

use std::sync::mpsc;
use std::time::Duration;

use compio::time::timeout;
use zeromq::{Socket, SocketRecv, SocketSend, ZmqMessage};
use zeroring_interop_tests::{Peer, spawn_peer};

const WAIT: Duration = Duration::from_secs(10);

/// Runs a zmq.rs peer on its own thread with a tokio runtime (await it with
/// [`Peer::join`], which fails the test if the peer panics or hangs).
fn zmqrs<F, Fut>(f: F) -> Peer<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    spawn_peer("zmq.rs", move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(async move {
                tokio::time::timeout(WAIT, f())
                    .await
                    .expect("zmq.rs peer timed out");
            });
    })
}

fn text(m: &ZmqMessage, i: usize) -> String {
    String::from_utf8(m.get(i).expect("frame").to_vec()).expect("utf8")
}

#[compio::test]
async fn zmqrs_req_to_zeroring_rep() {
    let rep = zeroring::RepSocket::new();
    let ep = rep.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let peer = zmqrs(move || async move {
        let mut req = zeromq::ReqSocket::new();
        req.connect(&ep).await.expect("connect");
        for i in 0..5 {
            req.send(format!("q{i}").into()).await.expect("send");
            let r = req.recv().await.expect("recv");
            assert_eq!(text(&r, 0), format!("a{i}"));
        }
    });
    for i in 0..5 {
        let m = timeout(WAIT, rep.recv()).await.unwrap().unwrap();
        assert_eq!(m[0], format!("q{i}"));
        rep.send(format!("a{i}")).await.unwrap();
    }
    peer.join().await;
}

#[compio::test]
async fn zeroring_req_to_zmqrs_rep() {
    let (tx, rx) = mpsc::channel();
    let peer = zmqrs(move || async move {
        let mut rep = zeromq::RepSocket::new();
        let ep = rep.bind("tcp://127.0.0.1:0").await.expect("bind");
        tx.send(ep.to_string()).unwrap();
        for _ in 0..5 {
            let m = rep.recv().await.expect("recv");
            let body = text(&m, 0).replace('q', "a");
            rep.send(body.into()).await.expect("send");
        }
    });
    let ep = rx.recv_timeout(WAIT).unwrap();
    let req = zeroring::ReqSocket::new();
    req.connect(&ep).await.unwrap();
    for i in 0..5 {
        req.send(format!("q{i}")).await.unwrap();
        let r = timeout(WAIT, req.recv()).await.unwrap().unwrap();
        assert_eq!(r[0], format!("a{i}"));
    }
    peer.join().await;
}

#[compio::test]
async fn zmqrs_push_to_zeroring_pull_multipart() {
    let pull = zeroring::PullSocket::new();
    let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let peer = zmqrs(move || async move {
        let mut push = zeromq::PushSocket::new();
        push.connect(&ep).await.expect("connect");
        for i in 0..100u32 {
            let mut m = ZmqMessage::from(format!("m{i}"));
            m.push_back(bytes::Bytes::from(vec![7u8; 300]));
            push.send(m).await.expect("send");
        }
        // Give the writer time to drain before the runtime stops.
        tokio::time::sleep(Duration::from_millis(200)).await;
    });
    for i in 0..100 {
        let m = timeout(WAIT, pull.recv()).await.unwrap().unwrap();
        assert_eq!(m[0], format!("m{i}"));
        assert_eq!(m[1].len(), 300);
    }
    peer.join().await;
}

#[compio::test]
async fn zmqrs_dealer_to_zeroring_router() {
    let router = zeroring::RouterSocket::new();
    let ep = router.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let peer = zmqrs(move || async move {
        let mut dealer = zeromq::DealerSocket::new();
        dealer.connect(&ep).await.expect("connect");
        for i in 0..5 {
            dealer.send(format!("d{i}").into()).await.expect("send");
            let r = dealer.recv().await.expect("recv");
            assert_eq!(text(&r, 0), format!("r{i}"));
        }
    });
    for i in 0..5 {
        let m = timeout(WAIT, router.recv()).await.unwrap().unwrap();
        assert_eq!(m.len(), 2, "routing id + body");
        assert_eq!(m[1], format!("d{i}"));
        router
            .send(vec![m[0].clone(), bytes::Bytes::from(format!("r{i}"))])
            .await
            .unwrap();
    }
    peer.join().await;
}

#[compio::test]
async fn zeroring_pub_to_zmqrs_sub_filters() {
    let publisher = zeroring::PubSocket::new();
    let ep = publisher
        .bind("tcp://127.0.0.1:0")
        .await
        .unwrap()
        .to_string();
    let (ready_tx, ready_rx) = mpsc::channel();
    let peer = zmqrs(move || async move {
        let mut sub = zeromq::SubSocket::new();
        sub.connect(&ep).await.expect("connect");
        sub.subscribe("yes").await.expect("subscribe");
        // Wait for a probe to know the subscription took effect.
        loop {
            let m = sub.recv().await.expect("recv");
            if text(&m, 0) == "yes.probe" {
                break;
            }
        }
        ready_tx.send(()).unwrap();
        let mut i = 0;
        while i < 10 {
            let m = sub.recv().await.expect("recv");
            if text(&m, 0) == "yes.probe" {
                continue; // probes sent before the publisher saw the ready signal
            }
            assert_eq!(
                text(&m, 0),
                format!("yes.{i}"),
                "only matching topics arrive"
            );
            i += 1;
        }
    });
    timeout(WAIT, async {
        while ready_rx.try_recv().is_err() {
            publisher.send("yes.probe").await.unwrap();
            compio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("zmq.rs subscription never arrived");
    for i in 0..10 {
        publisher.send(format!("no.{i}")).await.unwrap();
        publisher.send(format!("yes.{i}")).await.unwrap();
    }
    peer.join().await;
}

/// zeroring's close() half-closes after its last message and waits until the peer
/// closes its side or has taken every byte. zmq.rs keeps its side open until its
/// socket is dropped; here the zmq.rs PULL stays open until close() has returned,
/// so a close that waited for the peer's end-of-file would never return.
#[compio::test]
async fn zeroring_push_close_completes_against_a_zmqrs_pull_that_stays_open() {
    let (tx, rx) = mpsc::channel();
    let (closed_tx, closed_rx) = mpsc::channel::<()>();
    let peer = zmqrs(move || async move {
        let mut pull = zeromq::PullSocket::new();
        let ep = pull.bind("tcp://127.0.0.1:0").await.expect("bind");
        tx.send(ep.to_string()).unwrap();
        for i in 0..200 {
            let m = pull.recv().await.expect("recv");
            assert_eq!(text(&m, 0), format!("m{i}"));
        }
        // Keep the socket open until zeroring's close() has returned.
        closed_rx
            .recv_timeout(WAIT)
            .expect("zeroring's close() returned");
        drop(pull);
    });
    let ep = rx.recv_timeout(WAIT).unwrap();
    let push = zeroring::PushSocket::new();
    push.connect(&ep).await.unwrap();
    for i in 0..200 {
        push.send(format!("m{i}")).await.unwrap();
    }
    timeout(WAIT, push.close())
        .await
        .expect("close() returns while the zmq.rs peer keeps its side open");
    closed_tx.send(()).unwrap();
    peer.join().await;
}
