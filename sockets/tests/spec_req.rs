//! REQ socket behaviour (RFC 28), after libzmq's tests/test_spec_req.cpp, zeroring
//! against zeroring; every case runs over tcp and over inproc.

mod common;

use std::time::Duration;

use futures_util::future::select_all;
use zeroring_sockets::{Error, Message, RepSocket, ReqSocket, RouterSocket};

use common::*;

/// Waits for whichever REP gets the next request.
async fn which_rep(reps: &[RepSocket]) -> (usize, Message) {
    let futs = reps
        .iter()
        .enumerate()
        .map(|(i, r)| Box::pin(async move { (i, r.recv().await) }));
    let ((i, m), _, _) = within("some REP receives the request", select_all(futs)).await;
    (i, m.unwrap())
}

/// Waits for whichever ROUTER gets the next message.
async fn which_router(routers: &[RouterSocket]) -> (usize, Message) {
    let futs = routers
        .iter()
        .enumerate()
        .map(|(i, r)| Box::pin(async move { (i, r.recv().await) }));
    let ((i, m), _, _) = within("some ROUTER receives the request", select_all(futs)).await;
    (i, m.unwrap())
}

/// Sends 2 x N requests and checks that every REP served one request in each round
/// of N, in the same order both times.
async fn check_round_robin(req: &ReqSocket, reps: &[RepSocket]) {
    let n = reps.len();
    let mut order = Vec::new();
    for i in 0..2 * n {
        let body = format!("ABC{i}");
        within("send request", req.send(body.as_str()))
            .await
            .unwrap();
        let (who, m) = which_rep(reps).await;
        assert_msg(&m, &[body.as_bytes()]);
        let reply = format!("DEF{i}");
        reps[who].send(reply.as_str()).await.unwrap();
        let r = within("reply", req.recv()).await.unwrap();
        assert_msg(&r, &[reply.as_bytes()]);
        order.push(who);
    }
    let mut first: Vec<usize> = order[..n].to_vec();
    assert_eq!(
        order[n..],
        first[..],
        "the second round must visit the peers in the same order: {order:?}"
    );
    first.sort_unstable();
    assert_eq!(
        first,
        (0..n).collect::<Vec<_>>(),
        "each REP must get exactly one request per round: {order:?}"
    );
}

// SHALL route outgoing messages to connected peers using a round-robin strategy.
both_transports!(req_bound_round_robins_to_connected_reps);
async fn req_bound_round_robins_to_connected_reps(t: Transport) {
    let watch = panic_watch();
    let req = ReqSocket::new();
    let ep = req.bind(&t.any()).await.unwrap();
    let reps: Vec<RepSocket> = (0..5).map(|_| RepSocket::new()).collect();
    for rep in &reps {
        rep.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("5 REPs attached", || req.peer_count() == 5).await;
    check_round_robin(&req, &reps).await;
    watch.assert_none();
}

both_transports!(req_connected_round_robins_to_bound_reps);
async fn req_connected_round_robins_to_bound_reps(t: Transport) {
    let watch = panic_watch();
    let req = ReqSocket::new();
    let mut reps = Vec::new();
    for _ in 0..5 {
        let rep = RepSocket::new();
        let ep = rep.bind(&t.any()).await.unwrap();
        req.connect(&ep.to_string()).await.unwrap();
        reps.push(rep);
    }
    wait_until("5 REPs attached", || req.peer_count() == 5).await;
    check_round_robin(&req, &reps).await;
    watch.assert_none();
}

// SHALL accept an incoming message only from the last peer that it sent a request to.
// SHALL discard silently any messages received from other peers.
both_transports!(req_accepts_reply_only_from_the_peer_it_asked);
async fn req_accepts_reply_only_from_the_peer_it_asked(t: Transport) {
    let watch = panic_watch();
    let req = ReqSocket::new();
    req.set_routing_id("A").unwrap();
    let ep = req.bind(&t.any()).await.unwrap();
    let routers: Vec<RouterSocket> = (0..3).map(|_| RouterSocket::new()).collect();
    for r in &routers {
        r.set_router_mandatory(true);
        r.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("3 ROUTERs attached", || {
        req.peer_count() == 3 && routers.iter().all(|r| r.peer_count() == 1)
    })
    .await;

    let mut asked: Vec<usize> = Vec::new();
    for round in 0..routers.len() {
        req.send("ABC").await.unwrap();
        let (k, m) = which_router(&routers).await;
        assert_msg(&m, &[b"A", b"", b"ABC"]);
        assert!(
            !asked.contains(&k),
            "round robin must ask a new ROUTER each round (asked {asked:?}, now {k})"
        );
        // Every ROUTER asked before now sends a bogus reply first: they are not the
        // peer this request went to, so the REQ must drop them. (They will not be
        // asked again, so a bogus reply that arrives late cannot be mistaken for a
        // reply to a later request.)
        for &j in &asked {
            routers[j]
                .send(vec!["A", "", "WRONG"])
                .await
                .expect("REQ is routable");
        }
        if !asked.is_empty() {
            pause(30).await;
        }
        let good = format!("GOOD{round}");
        routers[k].send(vec!["A", "", good.as_str()]).await.unwrap();
        let r = within("good reply", req.recv()).await.unwrap();
        assert_msg(&r, &[good.as_bytes()]);
        asked.push(k);
    }
    watch.assert_none();
}

// The request and reply messages SHALL have this format on the wire: a delimiter
// (empty frame) added by the REQ socket, then the data frames.
both_transports!(req_message_format_on_the_wire);
async fn req_message_format_on_the_wire(t: Transport) {
    let watch = panic_watch();
    let req = ReqSocket::new();
    let ep = req.bind(&t.any()).await.unwrap();
    let router = RouterSocket::new();
    router.connect(&ep.to_string()).await.unwrap();

    within("send", req.send(vec!["ABC", "DEF"])).await.unwrap();
    let m = within("router recv", router.recv()).await.unwrap();
    assert_eq!(m.len(), 4, "{:?}", show(&m));
    let peer_id = m[0].clone();
    assert!(!peer_id.is_empty(), "routing id frame must not be empty");
    assert_msg(&m, &[&peer_id, b"", b"ABC", b"DEF"]);

    router
        .send(Message::from(vec![peer_id, "".into(), "GHI".into()]))
        .await
        .unwrap();
    let r = within("req recv", req.recv()).await.unwrap();
    assert_msg(&r, &[b"GHI"]);
    watch.assert_none();
}

// SHALL block on sending, or return a suitable error, when it has no connected peers.
both_transports!(req_send_without_peers_times_out);
async fn req_send_without_peers_times_out(t: Transport) {
    let watch = panic_watch();
    let req = ReqSocket::new();
    // Bound, as in libzmq's case, but nobody connects.
    req.bind(&t.any()).await.unwrap();
    req.set_sndtimeo(Some(Duration::ZERO));
    assert!(matches!(
        within("req.send", req.send("x")).await,
        Err(Error::Timeout(_))
    ));
    req.set_sndtimeo(Some(Duration::from_millis(250)));
    assert!(matches!(
        within("send with SNDTIMEO", req.send("x")).await,
        Err(Error::Timeout(_))
    ));
    // A request that was never sent leaves the socket ready to send again (not
    // waiting for a reply).
    assert!(matches!(
        within("req.send", req.send("y")).await,
        Err(Error::Timeout(_))
    ));
    assert!(matches!(
        within("req.recv", req.recv()).await,
        Err(Error::InvalidState(_))
    ));
    watch.assert_none();
}

both_transports!(req_enforces_strict_alternation);
async fn req_enforces_strict_alternation(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let req = ReqSocket::new();
    req.connect(&ep.to_string()).await.unwrap();

    assert!(
        matches!(
            within("req.recv", req.recv()).await,
            Err(Error::InvalidState(_))
        ),
        "recv before any send"
    );
    within("first send", req.send("one")).await.unwrap();
    assert!(
        matches!(
            within("req.send", req.send("two")).await,
            Err(Error::InvalidState(_))
        ),
        "second send before the reply"
    );
    let m = within("rep recv", rep.recv()).await.unwrap();
    assert_msg(&m, &[b"one"]);
    rep.send("reply-one").await.unwrap();
    assert_msg(
        &within("req recv", req.recv()).await.unwrap(),
        &[b"reply-one"],
    );
    assert!(
        matches!(
            within("req.recv", req.recv()).await,
            Err(Error::InvalidState(_))
        ),
        "recv twice"
    );
    // After the reply the next request goes through.
    within("send after reply", req.send("three")).await.unwrap();
    assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"three"]);
    rep.send("reply-three").await.unwrap();
    assert_msg(
        &within("req recv", req.recv()).await.unwrap(),
        &[b"reply-three"],
    );
    watch.assert_none();
}

both_transports!(req_ignores_replies_without_the_delimiter);
async fn req_ignores_replies_without_the_delimiter(t: Transport) {
    let watch = panic_watch();
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap();
    let req = ReqSocket::new();
    req.set_routing_id("R").unwrap();
    req.connect(&ep.to_string()).await.unwrap();

    within("send", req.send("question")).await.unwrap();
    assert_msg(
        &within("router recv", router.recv()).await.unwrap(),
        &[b"R", b"", b"question"],
    );
    // Malformed replies from the right peer, in order on one connection.
    router.send(vec!["R", "no-delimiter"]).await.unwrap();
    router.send(vec!["R", "x", "y"]).await.unwrap();
    router.send(vec!["R", ""]).await.unwrap();
    req.set_rcvtimeo(Some(Duration::from_millis(300)));
    assert!(
        matches!(within("req.recv", req.recv()).await, Err(Error::Timeout(_))),
        "malformed replies must not be delivered"
    );
    req.set_rcvtimeo(None);
    router.send(vec!["R", "", "answer"]).await.unwrap();
    assert_msg(
        &within("good reply", req.recv()).await.unwrap(),
        &[b"answer"],
    );
    watch.assert_none();
}

both_transports!(req_recv_is_cancel_safe_and_keeps_the_request_pending);
async fn req_recv_is_cancel_safe_and_keeps_the_request_pending(t: Transport) {
    let watch = panic_watch();
    let rep = RepSocket::new();
    let ep = rep.bind(&t.any()).await.unwrap();
    let req = ReqSocket::new();
    req.connect(&ep.to_string()).await.unwrap();
    within("send", req.send("q")).await.unwrap();
    // Abandon a few receives before the reply exists.
    for _ in 0..3 {
        assert!(
            compio::time::timeout(Duration::from_millis(20), req.recv())
                .await
                .is_err()
        );
    }
    assert_msg(&within("rep recv", rep.recv()).await.unwrap(), &[b"q"]);
    rep.send("a").await.unwrap();
    assert_msg(&within("reply", req.recv()).await.unwrap(), &[b"a"]);
    watch.assert_none();
}
