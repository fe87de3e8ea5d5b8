//! ROUTER socket behaviour (RFC 28), after libzmq's tests/test_spec_router.cpp,
//! zeroring against zeroring; every case runs over tcp and over inproc.

mod common;

use std::time::Duration;

use bytes::Bytes;
use zeroring_sockets::{DealerSocket, Error, Message, ReqSocket, RouterSocket};

use common::*;

// SHALL receive incoming messages from its peers using a fair-queuing strategy.
both_transports!(router_fair_queues_in);
async fn router_fair_queues_in(t: Transport) {
    let watch = panic_watch();
    let receiver = RouterSocket::new();
    let ep = receiver.bind(&t.any()).await.unwrap();
    let ids = ["A", "B", "C", "D", "E"];
    let senders: Vec<DealerSocket> = ids
        .iter()
        .map(|id| {
            let d = DealerSocket::new();
            d.set_routing_id(*id).unwrap();
            d
        })
        .collect();
    for s in &senders {
        s.connect(&ep.to_string()).await.unwrap();
    }
    for _ in 0..2 {
        within("send", senders[0].send("M")).await.unwrap();
        assert_msg(
            &within("recv", receiver.recv()).await.unwrap(),
            &[b"A", b"M"],
        );
    }
    wait_until("5 senders", || receiver.peer_count() == 5).await;
    for s in &senders {
        within("send", s.send("M")).await.unwrap();
    }
    let mut from = Vec::new();
    for _ in &senders {
        let m = within("recv", receiver.recv()).await.unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(&m[1][..], b"M");
        from.push(String::from_utf8(m[0].to_vec()).unwrap());
    }
    from.sort();
    assert_eq!(from, ids);

    assert_fair_queue(
        5,
        3,
        async |s, seq, attempt| senders[s].send(tag(s, seq, attempt)).await.unwrap(),
        async || {
            let m = receiver.recv().await.unwrap();
            let t = parse_tag(&m[1]);
            assert_eq!(&m[0][..], ids[t.0].as_bytes(), "routing id of the sender");
            t
        },
    )
    .await;
    watch.assert_none();
}

// Outgoing messages go to the peer the first frame names.
both_transports!(router_routes_by_identity);
async fn router_routes_by_identity(t: Transport) {
    let watch = panic_watch();
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap();
    let dealers: Vec<DealerSocket> = (0..3).map(|_| DealerSocket::new()).collect();
    for (i, d) in dealers.iter().enumerate() {
        d.set_routing_id(format!("peer-{i}")).unwrap();
        d.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("3 peers", || router.peer_count() == 3).await;
    for round in 0..3 {
        // Send in reverse order so that routing, not arrival order, decides.
        for i in (0..3).rev() {
            router
                .send(msg([
                    format!("peer-{i}"),
                    format!("to {i} #{round}"),
                    "x".into(),
                ]))
                .await
                .unwrap();
        }
        for (i, d) in dealers.iter().enumerate() {
            let want = format!("to {i} #{round}");
            assert_msg(
                &within("dealer recv", d.recv()).await.unwrap(),
                &[want.as_bytes(), b"x"],
            );
        }
    }
    watch.assert_none();
}

// Peers without an Identity get generated ids: 5 bytes, 0x00 then a u32; replies
// addressed with them come back to the right peer.
both_transports!(router_generated_ids_route_replies);
async fn router_generated_ids_route_replies(t: Transport) {
    let watch = panic_watch();
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap();
    let dealers: Vec<DealerSocket> = (0..3).map(|_| DealerSocket::new()).collect();
    for d in &dealers {
        d.connect(&ep.to_string()).await.unwrap();
    }
    for (i, d) in dealers.iter().enumerate() {
        d.send(format!("hello from {i}")).await.unwrap();
    }
    let mut ids = Vec::new();
    for _ in 0..3 {
        let m = within("router recv", router.recv()).await.unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].len(), 5, "generated id is 5 bytes: {:?}", m[0]);
        assert_eq!(m[0][0], 0, "generated id starts with a zero byte");
        ids.push(m[0].clone());
        let mut reply = Message::new();
        reply.push_back(m[0].clone());
        reply.push_back(Bytes::from(format!(
            "re: {}",
            String::from_utf8_lossy(&m[1])
        )));
        router.send(reply).await.unwrap();
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 3, "ids must differ: {ids:?}");
    for (i, d) in dealers.iter().enumerate() {
        let want = format!("re: hello from {i}");
        assert_msg(
            &within("dealer recv", d.recv()).await.unwrap(),
            &[want.as_bytes()],
        );
    }
    watch.assert_none();
}

// Unroutable messages are dropped silently by default.
both_transports!(router_drops_unroutable_messages_silently);
async fn router_drops_unroutable_messages_silently(t: Transport) {
    let watch = panic_watch();
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap();
    let dealer = DealerSocket::new();
    dealer.set_routing_id("known").unwrap();
    dealer.connect(&ep.to_string()).await.unwrap();
    wait_until("peer", || router.peer_count() == 1).await;

    within("unroutable send", router.send(vec!["nobody", "lost"]))
        .await
        .expect("unroutable message is dropped without an error");
    within("id-only send", router.send("known"))
        .await
        .expect("a routing id alone is a no-op");
    router.send(vec!["known", "delivered"]).await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"delivered"],
    );
    dealer.set_rcvtimeo(Some(Duration::from_millis(200)));
    assert!(matches!(
        within("dealer.recv", dealer.recv()).await,
        Err(Error::Timeout(_))
    ));
    watch.assert_none();
}

// With ROUTER_MANDATORY, sending to an unknown id fails with HostUnreachable; after
// the peer leaves, its id becomes unknown.
both_transports!(router_mandatory_reports_unroutable_messages);
async fn router_mandatory_reports_unroutable_messages(t: Transport) {
    let watch = panic_watch();
    let router = RouterSocket::new();
    router.set_router_mandatory(true);
    let ep = router.bind(&t.any()).await.unwrap();

    match router.send(vec!["nobody", "x"]).await {
        Err(Error::HostUnreachable(id)) => assert_eq!(id, b"nobody"),
        other => panic!("expected HostUnreachable, got {other:?}"),
    }

    let dealer = DealerSocket::new();
    dealer.set_routing_id("B").unwrap();
    dealer.connect(&ep.to_string()).await.unwrap();
    wait_until("peer B", || router.peer_count() == 1).await;
    router.send(vec!["B", "ABC"]).await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"ABC"],
    );

    dealer.disconnect(&ep.to_string()).unwrap();
    wait_until("peer B gone", || router.peer_count() == 0).await;
    match router.send(vec!["B", "ABC"]).await {
        Err(Error::HostUnreachable(id)) => assert_eq!(id, b"B"),
        other => panic!("expected HostUnreachable after disconnect, got {other:?}"),
    }
    watch.assert_none();
}

// A second peer with a routing id already in use is refused; the first keeps it.
both_transports!(router_refuses_a_duplicate_routing_id);
async fn router_refuses_a_duplicate_routing_id(t: Transport) {
    let watch = panic_watch();
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap();
    let first = DealerSocket::new();
    first.set_routing_id("dup").unwrap();
    first.connect(&ep.to_string()).await.unwrap();
    wait_until("first peer", || router.peer_count() == 1).await;

    let second = DealerSocket::new();
    second.set_routing_id("dup").unwrap();
    second.set_sndtimeo(Some(Duration::from_millis(50)));
    second.connect(&ep.to_string()).await.unwrap();
    // Give the second one time to be refused (over tcp several times: it reconnects;
    // over inproc once).
    pause(300).await;
    assert_eq!(router.peer_count(), 1, "the duplicate must not be attached");

    router.send(vec!["dup", "for the first"]).await.unwrap();
    assert_msg(
        &within("first recv", first.recv()).await.unwrap(),
        &[b"for the first"],
    );
    first.send("still here").await.unwrap();
    assert_msg(
        &within("router recv", router.recv()).await.unwrap(),
        &[b"dup", b"still here"],
    );
    second.set_rcvtimeo(Some(Duration::from_millis(100)));
    assert!(matches!(
        within("second.recv", second.recv()).await,
        Err(Error::Timeout(_))
    ));
    watch.assert_none();
}

// ROUTER in front of REQ clients: the classic server pattern.
both_transports!(router_serves_req_clients);
async fn router_serves_req_clients(t: Transport) {
    let watch = panic_watch();
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap();
    let clients: Vec<ReqSocket> = (0..4).map(|_| ReqSocket::new()).collect();
    for c in &clients {
        c.connect(&ep.to_string()).await.unwrap();
    }
    for (i, c) in clients.iter().enumerate() {
        c.send(format!("q{i}")).await.unwrap();
    }
    for _ in &clients {
        let m = within("router recv", router.recv()).await.unwrap();
        assert_eq!(m.len(), 3, "{:?}", show(&m));
        assert!(m[1].is_empty(), "REQ delimiter");
        let mut reply = Message::new();
        reply.push_back(m[0].clone());
        reply.push_back(Bytes::new());
        reply.push_back(Bytes::from(format!(
            "a{}",
            &String::from_utf8_lossy(&m[2])[1..]
        )));
        router.send(reply).await.unwrap();
    }
    for (i, c) in clients.iter().enumerate() {
        let want = format!("a{i}");
        assert_msg(
            &within("client recv", c.recv()).await.unwrap(),
            &[want.as_bytes()],
        );
    }
    watch.assert_none();
}

/// Fills a mandatory ROUTER's queue to `peer` until a send has to wait.
async fn fill_until_blocked(router: &RouterSocket, peer: &str) {
    let body = Bytes::from(vec![1u8; 256 * 1024]);
    for _ in 0..5_000 {
        let m = msg([Bytes::copy_from_slice(peer.as_bytes()), body.clone()]);
        match compio::time::timeout(Duration::from_millis(300), router.send(m)).await {
            Ok(r) => r.unwrap(),
            Err(_) => return,
        }
    }
    panic!("a ROUTER_MANDATORY send to a peer that does not read never had to wait");
}

// With ROUTER_MANDATORY a send to a full peer waits; when that peer goes away
// meanwhile, the send fails with HostUnreachable instead of waiting forever.
both_transports!(router_mandatory_send_waiting_on_a_full_peer_fails_when_it_leaves);
async fn router_mandatory_send_waiting_on_a_full_peer_fails_when_it_leaves(t: Transport) {
    use std::rc::Rc;
    let watch = panic_watch();
    for local_disconnect in [true, false] {
        let dealer = DealerSocket::new();
        dealer.set_routing_id("slow").unwrap();
        dealer.set_rcvhwm(Some(1)).unwrap();
        dealer.set_linger(Some(Duration::ZERO));
        let ep = dealer.bind(&t.any()).await.unwrap();
        let router = Rc::new(RouterSocket::new());
        router.set_router_mandatory(true);
        router.set_sndhwm(Some(1)).unwrap();
        router.connect(&ep.to_string()).await.unwrap();
        wait_until("attached", || router.peer_count() == 1).await;

        // A send that is still waiting after a moment (room could in principle
        // appear right after a fill; then fill again).
        let mut fills = 0;
        let blocked = loop {
            fill_until_blocked(&router, "slow").await;
            let r = router.clone();
            let send =
                compio::runtime::spawn(async move { r.send(vec!["slow", "one more"]).await });
            pause(100).await;
            if !send.is_finished() {
                break send;
            }
            within("send that got through", send)
                .await
                .unwrap()
                .unwrap();
            fills += 1;
            assert!(
                fills < 5,
                "sends to a peer that does not read keep getting through"
            );
        };
        if local_disconnect {
            router.disconnect(&ep.to_string()).unwrap();
        } else {
            within("close", dealer.close()).await;
        }
        match within("blocked send ends once the peer is gone", blocked)
            .await
            .unwrap()
        {
            Err(Error::HostUnreachable(id)) => assert_eq!(id, b"slow"),
            other => panic!("expected HostUnreachable, got {other:?}"),
        }
        assert_eq!(router.peer_count(), 0);
    }
    watch.assert_none();
}
