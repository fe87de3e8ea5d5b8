//! REP socket behaviour (RFC 28), after libzmq's tests/test_spec_rep.cpp, zeroring
//! against zeroring; every case runs over tcp and over inproc.

mod common;

use std::time::Duration;

use bytes::Bytes;
use zeroring_sockets::{DealerSocket, Error, RepSocket, ReqSocket, RouterSocket};

use common::*;

// SHALL receive incoming messages from its peers using a fair-queuing strategy.
both_transports!(rep_fair_queues_requests_from_reqs);
async fn rep_fair_queues_requests_from_reqs(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let reqs: Vec<ReqSocket> = (0..5).map(|_| ReqSocket::new()).collect();
    for r in &reqs {
        r.connect(&ep.to_string()).await.unwrap();
    }

    for _ in 0..2 {
        within("send", reqs[0].send("A")).await.unwrap();
        assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"A"]);
        rep.send("A").await.unwrap();
        assert_msg(&within("req recv", reqs[0].recv()).await.unwrap(), &[b"A"]);
    }

    wait_until("5 REQs attached", || rep.peer_count() == 5).await;
    // One request from each REQ; every one is served once and each reply goes back
    // to the REQ that asked.
    for (i, r) in reqs.iter().enumerate() {
        within("send", r.send(format!("req-{i}"))).await.unwrap();
    }
    let mut served = Vec::new();
    for _ in 0..reqs.len() {
        let m = within("rep recv", rep.recv()).await.unwrap();
        assert_eq!(m.len(), 1);
        let body = String::from_utf8(m[0].to_vec()).unwrap();
        rep.send(format!("re:{body}")).await.unwrap();
        served.push(body);
    }
    served.sort();
    assert_eq!(
        served,
        (0..5).map(|i| format!("req-{i}")).collect::<Vec<_>>()
    );
    for (i, r) in reqs.iter().enumerate() {
        let reply = format!("re:req-{i}");
        assert_msg(
            &within("reply", r.recv()).await.unwrap(),
            &[reply.as_bytes()],
        );
    }
    watch.assert_none();
}

// Fair queuing where each peer has several requests queued (DEALERs may pipeline).
both_transports!(rep_fair_queue_alternates_between_pipelining_dealers);
async fn rep_fair_queue_alternates_between_pipelining_dealers(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let dealers: Vec<DealerSocket> = (0..3).map(|_| DealerSocket::new()).collect();
    for d in &dealers {
        d.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("3 DEALERs attached", || rep.peer_count() == 3).await;
    assert_fair_queue(
        3,
        4,
        async |s, seq, attempt| {
            dealers[s]
                .send(msg(["".to_string(), tag(s, seq, attempt)]))
                .await
                .unwrap();
        },
        async || {
            let m = rep.recv().await.unwrap();
            rep.send("ok").await.unwrap();
            parse_tag(&m[0])
        },
    )
    .await;
    watch.assert_none();
}

// For an incoming message: SHALL remove and store the address envelope, including
// the delimiter; SHALL pass the remaining data frames to the application; SHALL
// prepend the envelope to the reply and deliver it to the originating peer.
both_transports!(rep_strips_and_restores_the_envelope);
async fn rep_strips_and_restores_the_envelope(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let dealer = DealerSocket::new();
    dealer.connect(&ep.to_string()).await.unwrap();

    // Minimal envelope.
    within("send", dealer.send(vec!["", "A"])).await.unwrap();
    assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"A"]);
    rep.send("A").await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"", b"A"],
    );

    // Big envelope.
    within("send", dealer.send(vec!["X", "Y", "", "A"]))
        .await
        .unwrap();
    assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"A"]);
    rep.send("A").await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"X", b"Y", b"", b"A"],
    );

    // Multi-hop envelope with binary routing ids and a multipart body both ways.
    let id1 = Bytes::from_static(&[0, 1, 2, 3, 4]);
    let id2 = Bytes::from_static(b"hop-2");
    let req: Vec<Bytes> = vec![
        id1.clone(),
        id2.clone(),
        Bytes::new(),
        "body-1".into(),
        "body-2".into(),
    ];
    within("send", dealer.send(req)).await.unwrap();
    assert_msg(
        &within("rep recv", rep.recv()).await.unwrap(),
        &[b"body-1", b"body-2"],
    );
    rep.send(vec!["reply-1", "", "reply-3"]).await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[&id1, &id2, b"", b"reply-1", b"", b"reply-3"],
    );
    watch.assert_none();
}

// The reply goes to the peer the request came from, with that peer's envelope, also
// when another peer's request is queued meanwhile.
both_transports!(rep_replies_to_the_originating_peer);
async fn rep_replies_to_the_originating_peer(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let a = DealerSocket::new();
    let b = DealerSocket::new();
    a.connect(&ep.to_string()).await.unwrap();
    b.connect(&ep.to_string()).await.unwrap();
    wait_until("2 peers", || rep.peer_count() == 2).await;
    a.send(vec!["env-a", "", "from-a"]).await.unwrap();
    b.send(vec!["env-b", "", "from-b"]).await.unwrap();
    for _ in 0..2 {
        let m = within("rep recv", rep.recv()).await.unwrap();
        let body = String::from_utf8(m[0].to_vec()).unwrap();
        rep.send(format!("re:{body}")).await.unwrap();
    }
    assert_msg(
        &within("a recv", a.recv()).await.unwrap(),
        &[b"env-a", b"", b"re:from-a"],
    );
    assert_msg(
        &within("b recv", b.recv()).await.unwrap(),
        &[b"env-b", b"", b"re:from-b"],
    );
    // Nothing else arrives at either.
    a.set_rcvtimeo(Some(Duration::from_millis(200)));
    b.set_rcvtimeo(Some(Duration::from_millis(200)));
    assert!(matches!(
        within("a.recv", a.recv()).await,
        Err(Error::Timeout(_))
    ));
    assert!(matches!(
        within("b.recv", b.recv()).await,
        Err(Error::Timeout(_))
    ));
    watch.assert_none();
}

both_transports!(rep_discards_requests_without_a_delimiter);
async fn rep_discards_requests_without_a_delimiter(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let dealer = DealerSocket::new();
    dealer.connect(&ep.to_string()).await.unwrap();
    within("send", dealer.send("no-delimiter")).await.unwrap();
    within("send", dealer.send(vec!["a", "b"])).await.unwrap();
    within("send", dealer.send(vec!["env", ""])).await.unwrap();
    within("send", dealer.send(vec!["", "ok"])).await.unwrap();
    assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"ok"]);
    rep.send("done").await.unwrap();
    assert_msg(
        &within("dealer recv", dealer.recv()).await.unwrap(),
        &[b"", b"done"],
    );
    watch.assert_none();
}

both_transports!(rep_enforces_strict_alternation);
async fn rep_enforces_strict_alternation(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    assert!(matches!(
        within("rep.send", rep.send("x")).await,
        Err(Error::InvalidState(_))
    ));
    let req = ReqSocket::new();
    req.connect(&ep.to_string()).await.unwrap();
    within("send", req.send("q1")).await.unwrap();
    assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"q1"]);
    assert!(matches!(
        within("rep.recv", rep.recv()).await,
        Err(Error::InvalidState(_))
    ));
    rep.send("a1").await.unwrap();
    assert!(matches!(
        within("rep.send", rep.send("a1 again")).await,
        Err(Error::InvalidState(_))
    ));
    assert_msg(&within("req recv", req.recv()).await.unwrap(), &[b"a1"]);
    watch.assert_none();
}

// REP connecting to a bound DEALER (a broker's backend in front of workers). REP
// does not speak to ROUTER (not in the socket-type matrix).
both_transports!(rep_connected_to_a_dealer_broker);
async fn rep_connected_to_a_dealer_broker(t: Transport) {
    let watch = panic_watch();
    let dealer = DealerSocket::new();
    let ep = dealer.bind(&t.any()).await.unwrap();
    let reps: Vec<RepSocket> = (0..2).map(|_| RepSocket::new()).collect();
    for r in &reps {
        r.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("2 workers", || dealer.peer_count() == 2).await;
    for i in 0..2 {
        let client = format!("client-{i}");
        dealer.send(vec![client.as_str(), "", "job"]).await.unwrap();
    }
    for (i, r) in reps.iter().enumerate() {
        assert_msg(&within("worker recv", r.recv()).await.unwrap(), &[b"job"]);
        r.send(format!("done-{i}")).await.unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(frames(&within("broker recv", dealer.recv()).await.unwrap()));
    }
    got.sort();
    // Round robin: one job per worker; each reply carries that job's envelope.
    assert_eq!(got.len(), 2);
    let mut clients: Vec<Vec<u8>> = got.iter().map(|m| m[0].clone()).collect();
    clients.sort();
    assert_eq!(clients, vec![b"client-0".to_vec(), b"client-1".to_vec()]);
    let mut bodies: Vec<Vec<u8>> = got
        .iter()
        .map(|m| {
            assert_eq!(m.len(), 3);
            assert!(m[1].is_empty());
            m[2].clone()
        })
        .collect();
    bodies.sort();
    assert_eq!(bodies, vec![b"done-0".to_vec(), b"done-1".to_vec()]);
    watch.assert_none();
}

// REP refuses a ROUTER peer (REP accepts REQ and DEALER only): nothing is exchanged.
both_transports!(rep_refuses_an_incompatible_router_peer);
async fn rep_refuses_an_incompatible_router_peer(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let router = RouterSocket::new();
    router.connect(&ep.to_string()).await.unwrap();
    pause(300).await;
    assert_eq!(rep.peer_count(), 0);
    assert_eq!(router.peer_count(), 0);
    // A compatible peer still works.
    let req = ReqSocket::new();
    req.connect(&ep.to_string()).await.unwrap();
    within("send", req.send("q")).await.unwrap();
    assert_msg(&within("recv", rep.recv()).await.unwrap(), &[b"q"]);
    watch.assert_none();
}
