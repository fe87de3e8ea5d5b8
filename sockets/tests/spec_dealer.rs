//! DEALER socket behaviour (RFC 28), after libzmq's tests/test_spec_dealer.cpp,
//! zeroring against zeroring; every case runs over tcp and over inproc.

mod common;

use std::rc::Rc;
use std::time::Duration;

use zeroring_sockets::{DealerSocket, Error, RepSocket, RouterSocket};

use common::*;

/// Sends two batches of N requests; in each batch every REP gets exactly one.
async fn check_round_robin(dealer: &DealerSocket, reps: &[RepSocket]) {
    for batch in 0..2 {
        for i in 0..reps.len() {
            let body = format!("ABC-{batch}-{i}");
            within("dealer send", dealer.send(vec!["", body.as_str()]))
                .await
                .unwrap();
        }
        // N messages, N REPs, each REP receives one: none can have received two.
        let mut got = Vec::new();
        for rep in reps {
            let m = within("each REP gets one request", rep.recv())
                .await
                .unwrap();
            got.push(String::from_utf8(m[0].to_vec()).unwrap());
            rep.send("DEF").await.unwrap();
        }
        got.sort();
        let want: Vec<String> = (0..reps.len())
            .map(|i| format!("ABC-{batch}-{i}"))
            .collect();
        assert_eq!(got, want);
        for _ in reps {
            assert_msg(
                &within("replies", dealer.recv()).await.unwrap(),
                &[b"", b"DEF"],
            );
        }
    }
}

/// Checks that `receiver` fair-queues `per_sender` messages queued by each of the
/// (attached) `senders`.
async fn check_fair_queue(receiver: &DealerSocket, senders: &[DealerSocket], per_sender: usize) {
    assert_fair_queue(
        senders.len(),
        per_sender,
        async |s, seq, attempt| senders[s].send(tag(s, seq, attempt)).await.unwrap(),
        async || parse_tag(&receiver.recv().await.unwrap()[0]),
    )
    .await;
}

// SHALL route outgoing messages to available peers using a round-robin strategy.
both_transports!(dealer_bound_round_robins_out);
async fn dealer_bound_round_robins_out(t: Transport) {
    let watch = panic_watch();
    let dealer = DealerSocket::new();
    let ep = dealer.bind(&t.any()).await.unwrap();
    let reps: Vec<RepSocket> = (0..5).map(|_| RepSocket::new()).collect();
    for rep in &reps {
        rep.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("5 REPs attached", || dealer.peer_count() == 5).await;
    check_round_robin(&dealer, &reps).await;
    watch.assert_none();
}

both_transports!(dealer_connected_round_robins_out);
async fn dealer_connected_round_robins_out(t: Transport) {
    let watch = panic_watch();
    let dealer = DealerSocket::new();
    let mut reps = Vec::new();
    for _ in 0..5 {
        let rep = RepSocket::new();
        let ep = rep.bind(&t.any()).await.unwrap();
        dealer.connect(&ep.to_string()).await.unwrap();
        reps.push(rep);
    }
    wait_until("5 REPs attached", || dealer.peer_count() == 5).await;
    check_round_robin(&dealer, &reps).await;
    watch.assert_none();
}

// SHALL receive incoming messages from its peers using a fair-queuing strategy.
both_transports!(dealer_fair_queues_in);
async fn dealer_fair_queues_in(t: Transport) {
    let watch = panic_watch();
    let receiver = DealerSocket::new();
    let ep = receiver.bind(&t.any()).await.unwrap();
    let senders: Vec<DealerSocket> = (0..5).map(|_| DealerSocket::new()).collect();
    for s in &senders {
        s.connect(&ep.to_string()).await.unwrap();
    }
    for _ in 0..2 {
        within("send", senders[0].send("A")).await.unwrap();
        assert_msg(&within("recv", receiver.recv()).await.unwrap(), &[b"A"]);
    }
    wait_until("5 senders attached", || receiver.peer_count() == 5).await;
    for s in &senders {
        within("send", s.send("B")).await.unwrap();
    }
    for _ in &senders {
        assert_msg(&within("recv", receiver.recv()).await.unwrap(), &[b"B"]);
    }
    // Several messages queued per peer: they are taken one peer at a time.
    check_fair_queue(&receiver, &senders, 3).await;
    watch.assert_none();
}

// Connected the other way: the receiving DEALER connects to bound senders.
both_transports!(dealer_connected_fair_queues_in);
async fn dealer_connected_fair_queues_in(t: Transport) {
    let watch = panic_watch();
    let receiver = DealerSocket::new();
    let mut senders = Vec::new();
    for _ in 0..2 {
        let s = DealerSocket::new();
        let ep = s.bind(&t.any()).await.unwrap();
        receiver.connect(&ep.to_string()).await.unwrap();
        senders.push(s);
    }
    wait_until("2 peers", || {
        receiver.peer_count() == 2 && senders.iter().all(|s| s.peer_count() == 1)
    })
    .await;
    check_fair_queue(&receiver, &senders, 4).await;
    watch.assert_none();
}

// SHALL block on sending, or return a suitable error, when it has no connected peers.
both_transports!(dealer_send_without_peers_times_out);
async fn dealer_send_without_peers_times_out(t: Transport) {
    let watch = panic_watch();
    let dealer = DealerSocket::new();
    // Bound, as in libzmq's case, but nobody connects.
    dealer.bind(&t.any()).await.unwrap();
    dealer.set_sndtimeo(Some(Duration::ZERO));
    assert!(matches!(
        within("dealer.send", dealer.send("x")).await,
        Err(Error::Timeout(_))
    ));
    dealer.set_sndtimeo(Some(Duration::from_millis(250)));
    assert!(matches!(
        within("send with SNDTIMEO", dealer.send("x")).await,
        Err(Error::Timeout(_))
    ));
    // With ZMQ_IMMEDIATE, connecting to an endpoint nobody listens on does not make
    // a peer either. (Without it, the connect() slot takes messages at once, as in
    // libzmq; see tests/connect_queueing.rs in the facade.)
    dealer.set_immediate(true);
    dealer.connect(&t.unbound()).await.unwrap();
    assert!(matches!(
        within("send with SNDTIMEO", dealer.send("x")).await,
        Err(Error::Timeout(_))
    ));
    watch.assert_none();
}

// Without SNDTIMEO the send waits until a peer shows up, then goes to it.
both_transports!(dealer_send_waits_for_a_peer);
async fn dealer_send_waits_for_a_peer(t: Transport) {
    let watch = panic_watch();
    let dealer = Rc::new(DealerSocket::new());
    let ep = dealer.bind(&t.any()).await.unwrap();
    let d = dealer.clone();
    let pending = compio::runtime::spawn(async move { d.send("early").await });
    pause(150).await;
    assert!(!pending.is_finished(), "send completed without any peer");
    let router = RouterSocket::new();
    router.connect(&ep.to_string()).await.unwrap();
    within("pending send", pending).await.unwrap().unwrap();
    let m = within("router recv", router.recv()).await.unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(&m[1][..], b"early");
    watch.assert_none();
}

// DEALER to ROUTER and back, both directions of connect.
both_transports!(dealer_router_exchange_in_both_connect_directions);
async fn dealer_router_exchange_in_both_connect_directions(t: Transport) {
    let watch = panic_watch();
    // DEALER connects to ROUTER.
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap();
    let dealer = DealerSocket::new();
    dealer.set_routing_id("D1").unwrap();
    dealer.connect(&ep.to_string()).await.unwrap();
    within("send", dealer.send(vec!["a", "b"])).await.unwrap();
    assert_msg(
        &within("router recv", router.recv()).await.unwrap(),
        &[b"D1", b"a", b"b"],
    );
    router.send(vec!["D1", "c"]).await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"c"],
    );

    // ROUTER connects to DEALER.
    let dealer2 = DealerSocket::new();
    dealer2.set_routing_id("D2").unwrap();
    let ep2 = dealer2.bind(&t.any()).await.unwrap();
    router.connect(&ep2.to_string()).await.unwrap();
    wait_until("router has both", || router.peer_count() == 2).await;
    router.send(vec!["D2", "hello"]).await.unwrap();
    assert_msg(
        &within("dealer2 recv", dealer2.recv()).await.unwrap(),
        &[b"hello"],
    );
    dealer2.send("back").await.unwrap();
    assert_msg(
        &within("router recv", router.recv()).await.unwrap(),
        &[b"D2", b"back"],
    );
    watch.assert_none();
}
