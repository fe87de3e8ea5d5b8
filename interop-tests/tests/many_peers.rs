//! Ten libzmq peers on one zeroring socket, and one zeroring socket on ten libzmq
//! peers.
//!
//! Fan-in: a bound zeroring ROUTER serves ten connecting libzmq DEALERs (replies
//! routed by routing id, nothing crosses between peers) and a bound zeroring PULL
//! fair-queues ten libzmq PUSHers (every message arrives, each sender's order kept).
//! Fan-out: a zeroring DEALER and a zeroring PUSH connected to ten bound libzmq
//! sockets distribute strictly round-robin, and a zeroring REQ spreads its requests
//! over ten libzmq REPs.

use std::collections::HashMap;

use zeroring::{DealerSocket, PullSocket, PushSocket, ReqSocket, RouterSocket};
use zeroring_interop_tests::*;

const PEERS: usize = 10;

#[compio::test]
async fn zeroring_router_serves_ten_libzmq_dealers() {
    const PER_PEER: usize = 20;
    let router = RouterSocket::new();
    let ep = ok("bind", router.bind("tcp://127.0.0.1:0"))
        .await
        .to_string();
    let ctx = zmq::Context::new();
    let mut peers = Vec::new();
    for p in 0..PEERS {
        let dealer = zsocket(&ctx, zmq::DEALER);
        // Half set a routing id, half get a generated one.
        if p.is_multiple_of(2) {
            dealer
                .set_identity(format!("dealer-{p}").as_bytes())
                .unwrap();
        }
        dealer.connect(&ep).unwrap();
        peers.push(spawn_peer(&format!("libzmq DEALER {p}"), move || {
            for i in 0..PER_PEER {
                zsend(&dealer, &[format!("{p}"), format!("{i}")]);
            }
            for i in 0..PER_PEER {
                assert_eq!(
                    zrecv(&dealer),
                    parts(&[format!("reply to {p}"), format!("{i}")]),
                    "replies reach the right peer, in order"
                );
            }
        }));
    }
    let mut ids: HashMap<usize, Vec<u8>> = HashMap::new();
    for _ in 0..PEERS * PER_PEER {
        let m = frames(&ok("ROUTER recv", router.recv()).await);
        assert_eq!(m.len(), 3, "{m:?}");
        let p: usize = String::from_utf8_lossy(&m[1]).parse().unwrap();
        let id = ids.entry(p).or_insert_with(|| m[0].clone());
        assert_eq!(id, &m[0], "peer {p} keeps its routing id");
        if p.is_multiple_of(2) {
            assert_eq!(m[0], format!("dealer-{p}").as_bytes());
        } else {
            assert!(is_generated_id(&m[0]), "generated id: {:?}", m[0]);
        }
        let reply = vec![
            m[0].clone(),
            format!("reply to {p}").into_bytes(),
            m[2].clone(),
        ];
        ok("ROUTER send", router.send(reply)).await;
    }
    assert_eq!(ids.len(), PEERS);
    let mut distinct: Vec<&Vec<u8>> = ids.values().collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), PEERS, "routing ids are distinct");
    for p in peers {
        p.join().await;
    }
}

#[compio::test]
async fn zeroring_pull_fair_queues_ten_libzmq_pushers() {
    const PER_PEER: usize = 200;
    let pull = PullSocket::new();
    let ep = ok("bind", pull.bind("tcp://127.0.0.1:0")).await.to_string();
    let ctx = zmq::Context::new();
    let mut peers = Vec::new();
    for p in 0..PEERS {
        let push = zsocket(&ctx, zmq::PUSH);
        push.connect(&ep).unwrap();
        peers.push(spawn_peer(&format!("libzmq PUSH {p}"), move || {
            for i in 0..PER_PEER {
                zsend(&push, &[format!("{p}"), format!("{i}")]);
            }
        }));
    }
    let mut next = [0usize; PEERS];
    for _ in 0..PEERS * PER_PEER {
        let m = frames(&ok("PULL recv", pull.recv()).await);
        let p: usize = String::from_utf8_lossy(&m[0]).parse().unwrap();
        let i: usize = String::from_utf8_lossy(&m[1]).parse().unwrap();
        assert_eq!(i, next[p], "messages of pusher {p} arrive in order");
        next[p] += 1;
    }
    assert_eq!(next, [PER_PEER; PEERS]);
    for p in peers {
        p.join().await;
    }
}

/// Binds `PEERS` libzmq sockets of `kind`, connects `z` to all of them and waits
/// until every connection is handshaken, so round-robin covers all of them.
async fn connect_to_ten(
    z: &zeroring::SocketBase,
    ctx: &zmq::Context,
    kind: zmq::SocketType,
) -> Vec<zmq::Socket> {
    let mut socks = Vec::new();
    for _ in 0..PEERS {
        let s = zsocket(ctx, kind);
        let ep = zbind(&s, "tcp://127.0.0.1:*");
        ok("connect", z.connect(&ep)).await;
        socks.push(s);
    }
    wait_peers(z, PEERS).await;
    socks
}

#[compio::test]
async fn zeroring_push_round_robins_over_ten_libzmq_pullers() {
    const ROUNDS: usize = 10;
    let ctx = zmq::Context::new();
    let push = PushSocket::new();
    let pulls = connect_to_ten(&push, &ctx, zmq::PULL).await;
    let mut peers = Vec::new();
    for (p, pull) in pulls.into_iter().enumerate() {
        peers.push(spawn_peer(&format!("libzmq PULL {p}"), move || {
            let mut got = Vec::new();
            for _ in 0..ROUNDS {
                let m = zrecv(&pull);
                got.push(
                    String::from_utf8(m[0].clone())
                        .unwrap()
                        .parse::<usize>()
                        .unwrap(),
                );
            }
            znothing(&pull, 100);
            got
        }));
    }
    for i in 0..PEERS * ROUNDS {
        ok("PUSH send", push.send(format!("{i}"))).await;
    }
    let mut all = Vec::new();
    for p in peers {
        let got = p.join().await;
        // Strict round-robin: one peer gets every PEERS-th message.
        for w in got.windows(2) {
            assert_eq!(w[1] - w[0], PEERS, "round-robin order: {got:?}");
        }
        all.extend(got);
    }
    all.sort();
    assert_eq!(all, (0..PEERS * ROUNDS).collect::<Vec<_>>());
}

#[compio::test]
async fn zeroring_dealer_round_robins_over_ten_libzmq_routers() {
    const ROUNDS: usize = 5;
    let ctx = zmq::Context::new();
    let dealer = DealerSocket::new();
    dealer.set_routing_id("the-dealer").unwrap();
    let routers = connect_to_ten(&dealer, &ctx, zmq::ROUTER).await;
    let mut peers = Vec::new();
    for (p, router) in routers.into_iter().enumerate() {
        peers.push(spawn_peer(&format!("libzmq ROUTER {p}"), move || {
            let mut got = Vec::new();
            for _ in 0..ROUNDS {
                let m = zrecv(&router);
                assert_eq!(m[0], b"the-dealer");
                got.push(
                    String::from_utf8(m[1].clone())
                        .unwrap()
                        .parse::<usize>()
                        .unwrap(),
                );
                zsend(&router, &[&m[0][..], format!("from {p}").as_bytes(), &m[1]]);
            }
            znothing(&router, 100);
            got
        }));
    }
    for i in 0..PEERS * ROUNDS {
        ok("DEALER send", dealer.send(format!("{i}"))).await;
    }
    let mut replies: HashMap<Vec<u8>, usize> = HashMap::new();
    for _ in 0..PEERS * ROUNDS {
        let m = frames(&ok("DEALER recv", dealer.recv()).await);
        *replies.entry(m[0].clone()).or_default() += 1;
    }
    assert_eq!(replies.len(), PEERS);
    assert!(replies.values().all(|&n| n == ROUNDS), "{replies:?}");
    for p in peers {
        let got = p.join().await;
        assert_eq!(got.len(), ROUNDS);
        for w in got.windows(2) {
            assert_eq!(w[1] - w[0], PEERS, "round-robin order: {got:?}");
        }
    }
}

#[compio::test]
async fn zeroring_req_spreads_requests_over_ten_libzmq_reps() {
    const ROUNDS: usize = 3;
    let ctx = zmq::Context::new();
    let req = ReqSocket::new();
    let reps = connect_to_ten(&req, &ctx, zmq::REP).await;
    let mut peers = Vec::new();
    for (p, rep) in reps.into_iter().enumerate() {
        peers.push(spawn_peer(&format!("libzmq REP {p}"), move || {
            for _ in 0..ROUNDS {
                let m = zrecv(&rep);
                zsend(&rep, &[format!("{p}").into_bytes(), m[0].clone()]);
            }
            znothing(&rep, 100);
        }));
    }
    let mut served = [0usize; PEERS];
    for i in 0..PEERS * ROUNDS {
        ok("REQ send", req.send(format!("{i}"))).await;
        let m = frames(&ok("REQ recv", req.recv()).await);
        assert_eq!(m[1], format!("{i}").as_bytes());
        let p: usize = String::from_utf8_lossy(&m[0]).parse().unwrap();
        served[p] += 1;
    }
    assert_eq!(served, [ROUNDS; PEERS]);
    for p in peers {
        p.join().await;
    }
}
