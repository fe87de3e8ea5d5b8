//! PUSH and PULL behaviour (RFC 30), after libzmq's tests/test_spec_pushpull.cpp,
//! zeroring against zeroring, plus the high-water marks; every case runs over tcp
//! and over inproc.

mod common;

use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use zeroring_sockets::{Error, Message, PullSocket, PushSocket};

use common::*;

/// Sends N "ABC" then N "DEF"; every PULL must get one "ABC" then one "DEF".
async fn check_round_robin(push: &PushSocket, pulls: &[PullSocket]) {
    for _ in pulls {
        within("send", push.send("ABC")).await.unwrap();
    }
    for _ in pulls {
        within("send", push.send("DEF")).await.unwrap();
    }
    for p in pulls {
        assert_msg(&within("recv ABC", p.recv()).await.unwrap(), &[b"ABC"]);
        assert_msg(&within("recv DEF", p.recv()).await.unwrap(), &[b"DEF"]);
    }
    for p in pulls {
        p.set_rcvtimeo(Some(Duration::from_millis(100)));
        assert!(
            matches!(within("p.recv", p.recv()).await, Err(Error::Timeout(_))),
            "a PULL got more than its share"
        );
    }
}

/// Waits until every PUSH is attached to `pull` (and `pull` to all of them), then
/// checks that `pull` fair-queues `per_sender` messages queued by each.
async fn check_fair_queue(pull: &PullSocket, pushes: &[PushSocket], per_sender: usize) {
    let n = pushes.len();
    wait_until(&format!("{n} PUSHes attached"), || {
        pull.peer_count() == n && pushes.iter().all(|p| p.peer_count() == 1)
    })
    .await;
    assert_fair_queue(
        n,
        per_sender,
        async |s, seq, attempt| pushes[s].send(tag(s, seq, attempt)).await.unwrap(),
        async || parse_tag(&pull.recv().await.unwrap()[0]),
    )
    .await;
}

// PUSH: SHALL route outgoing messages to connected peers using a round-robin strategy.
both_transports!(push_bound_round_robins_out);
async fn push_bound_round_robins_out(t: Transport) {
    let watch = panic_watch();
    let push = PushSocket::new();
    let ep = push.bind(&t.any()).await.unwrap();
    let pulls: Vec<PullSocket> = (0..5).map(|_| PullSocket::new()).collect();
    for p in &pulls {
        p.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("5 PULLs attached", || push.peer_count() == 5).await;
    check_round_robin(&push, &pulls).await;
    watch.assert_none();
}

both_transports!(push_connected_round_robins_out);
async fn push_connected_round_robins_out(t: Transport) {
    let watch = panic_watch();
    let push = PushSocket::new();
    let mut pulls = Vec::new();
    for _ in 0..5 {
        let p = PullSocket::new();
        let ep = p.bind(&t.any()).await.unwrap();
        push.connect(&ep.to_string()).await.unwrap();
        pulls.push(p);
    }
    wait_until("5 PULLs attached", || push.peer_count() == 5).await;
    check_round_robin(&push, &pulls).await;
    watch.assert_none();
}

// PULL: SHALL receive incoming messages from its peers using a fair-queuing strategy.
both_transports!(pull_bound_fair_queues_in);
async fn pull_bound_fair_queues_in(t: Transport) {
    let watch = panic_watch();
    let pull = PullSocket::new();
    let ep = pull.bind(&t.any()).await.unwrap();
    let pushes: Vec<PushSocket> = (0..5).map(|_| PushSocket::new()).collect();
    for p in &pushes {
        p.connect(&ep.to_string()).await.unwrap();
    }
    // libzmq's case: two messages per peer, one from each peer first.
    check_fair_queue(&pull, &pushes, 2).await;
    watch.assert_none();
}

// Two PUSH peers that each queued several messages are read A1 B1 A2 B2 ...
both_transports!(pull_connected_fair_queues_two_pushes);
async fn pull_connected_fair_queues_two_pushes(t: Transport) {
    let watch = panic_watch();
    let pull = PullSocket::new();
    let mut pushes = Vec::new();
    for _ in 0..2 {
        let p = PushSocket::new();
        let ep = p.bind(&t.any()).await.unwrap();
        pull.connect(&ep.to_string()).await.unwrap();
        pushes.push(p);
    }
    check_fair_queue(&pull, &pushes, 6).await;
    watch.assert_none();
}

// PUSH: SHALL block on sending, or return a suitable error, when it has no peers.
both_transports!(push_send_without_peers_times_out);
async fn push_send_without_peers_times_out(t: Transport) {
    let watch = panic_watch();
    let push = PushSocket::new();
    // Bound, as in libzmq's case, but nobody connects.
    push.bind(&t.any()).await.unwrap();
    push.set_sndtimeo(Some(Duration::ZERO));
    assert!(matches!(
        within("push.send", push.send("x")).await,
        Err(Error::Timeout(_))
    ));
    push.set_sndtimeo(Some(Duration::from_millis(250)));
    assert!(matches!(
        within("send with SNDTIMEO", push.send("x")).await,
        Err(Error::Timeout(_))
    ));
    watch.assert_none();
}

both_transports!(push_without_peers_blocks_until_a_pull_connects);
async fn push_without_peers_blocks_until_a_pull_connects(t: Transport) {
    let watch = panic_watch();
    let push = Rc::new(PushSocket::new());
    let ep = push.bind(&t.any()).await.unwrap();
    let p = push.clone();
    let pending = compio::runtime::spawn(async move {
        p.send("first").await?;
        p.send("second").await
    });
    pause(150).await;
    assert!(!pending.is_finished(), "send completed without any peer");
    let pull = PullSocket::new();
    pull.connect(&ep.to_string()).await.unwrap();
    within("pending sends", pending).await.unwrap().unwrap();
    assert_msg(&within("recv", pull.recv()).await.unwrap(), &[b"first"]);
    assert_msg(&within("recv", pull.recv()).await.unwrap(), &[b"second"]);
    watch.assert_none();
}

/// Sends 64 KiB messages with SNDTIMEO until one times out; returns how many went.
async fn fill(push: &PushSocket, start: usize, body: &Bytes) -> usize {
    let mut n = start;
    loop {
        let mut m = Message::new();
        m.push_back(Bytes::from(n.to_string()));
        m.push_back(body.clone());
        match within("send under SNDTIMEO", push.send(m)).await {
            Ok(()) => n += 1,
            Err(Error::Timeout(_)) => return n,
            Err(e) => panic!("unexpected send error: {e}"),
        }
        assert!(
            n - start < 20_000,
            "SNDHWM never stopped the sender ({} messages)",
            n - start
        );
    }
}

// SNDHWM/RCVHWM: a PUSH whose PULL does not read eventually cannot send (SNDTIMEO
// elapses); after the PULL reads, sending resumes. Nothing is lost or reordered.
both_transports!(sndhwm_blocks_a_push_until_the_pull_reads);
async fn sndhwm_blocks_a_push_until_the_pull_reads(t: Transport) {
    let watch = panic_watch();
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(10)).unwrap();
    let ep = pull.bind(&t.any()).await.unwrap();
    let push = PushSocket::new();
    push.set_sndhwm(Some(10)).unwrap();
    push.set_sndtimeo(Some(Duration::from_millis(300)));
    push.connect(&ep.to_string()).await.unwrap();
    wait_until("attached", || push.peer_count() == 1).await;

    let body = Bytes::from(vec![7u8; 64 * 1024]);
    let sent = fill(&push, 0, &body).await;
    assert!(sent >= 10, "at least SNDHWM messages fit ({sent})");

    // Read everything that was sent, in order; the timed-out message was not sent.
    for i in 0..sent {
        let m = within("recv", pull.recv()).await.unwrap();
        assert_eq!(m[0], i.to_string().as_bytes(), "message order");
        assert_eq!(m[1].len(), body.len());
    }
    pull.set_rcvtimeo(Some(Duration::from_millis(200)));
    assert!(
        matches!(
            within("pull.recv", pull.recv()).await,
            Err(Error::Timeout(_))
        ),
        "a message that timed out must not be delivered"
    );
    pull.set_rcvtimeo(None);

    // Sending resumes, and blocks again at the mark.
    let sent2 = fill(&push, sent, &body).await;
    assert!(sent2 >= sent + 10);
    for i in sent..sent2 {
        let m = within("recv", pull.recv()).await.unwrap();
        assert_eq!(m[0], i.to_string().as_bytes(), "message order");
    }
    watch.assert_none();
}

// PUSH and PULL: SHALL either receive or drop multipart messages atomically, also
// when the PULL disconnects and reconnects with data in flight.
both_transports!(push_pull_multipart_messages_are_atomic_across_a_reconnect);
async fn push_pull_multipart_messages_are_atomic_across_a_reconnect(t: Transport) {
    let watch = panic_watch();
    let push = PushSocket::new();
    push.set_linger(Some(Duration::ZERO));
    push.set_sndhwm(Some(1)).unwrap();
    let ep = push.bind(&t.any()).await.unwrap();
    let pull = PullSocket::new();
    pull.set_linger(Some(Duration::ZERO));
    pull.set_rcvhwm(Some(1)).unwrap();
    pull.connect(&ep.to_string()).await.unwrap();
    wait_until("attached", || push.peer_count() == 1).await;

    let big = |c: u8| Bytes::from(vec![c; 4 * 1024 * 1024]);
    let msg = |parts: Vec<Bytes>| Message::from(parts);

    // Normal case.
    within(
        "send",
        push.send(msg(vec!["0".into(), "0".into(), big(b'a')])),
    )
    .await
    .unwrap();
    let m = within("recv", pull.recv()).await.unwrap();
    assert_eq!(m.len(), 3);
    assert_eq!(&m[0][..], b"0");
    assert_eq!(m[2], big(b'a'));

    // Fill both sides, then disconnect with data in flight.
    let m1 = msg(vec!["1".into()]);
    let m2 = msg(vec!["2".into(), "2".into(), big(b'b')]);
    within("send 1", push.send(m1.clone())).await.unwrap();
    within("send 2", push.send(m2.clone())).await.unwrap();
    pull.disconnect(&ep.to_string()).unwrap();
    wait_until("push sees the PULL leave", || push.peer_count() == 0).await;
    pull.connect(&ep.to_string()).await.unwrap();
    wait_until("push sees the PULL again", || push.peer_count() == 1).await;

    let m3 = msg(vec!["3".into(), "3".into(), big(b'c'), "3b".into()]);
    let m5 = msg(vec!["5".into(), "5".into(), big(b'd')]);
    within("send 3", push.send(m3.clone())).await.unwrap();
    within("send 5", push.send(m5.clone())).await.unwrap();

    // Messages from before the disconnect may or may not have made it (the old
    // connection's queue is separate, so they may also come later), but only whole.
    // 3 and 5 went over the new connection: both arrive whole, 3 before 5.
    let expected = [m1, m2, m3, m5];
    let mut seen = Vec::new();
    while !seen.contains(&3) {
        let got = within("recv", pull.recv()).await.unwrap();
        let idx = expected.iter().position(|e| *e == got).unwrap_or_else(|| {
            panic!(
                "received a message that was never sent (torn multipart?): {:?}",
                show(&got)
            )
        });
        assert!(!seen.contains(&idx), "duplicate message {idx}");
        seen.push(idx);
    }
    assert!(
        seen.contains(&2),
        "message 3 was lost or overtaken: {seen:?}"
    );
    watch.assert_none();
}

// Multipart atomicity with several senders: frames of different messages never mix.
both_transports!(multipart_messages_from_many_pushes_never_interleave);
async fn multipart_messages_from_many_pushes_never_interleave(t: Transport) {
    let watch = panic_watch();
    let pull = PullSocket::new();
    let ep = pull.bind(&t.any()).await.unwrap();
    let pushes: Vec<PushSocket> = (0..3).map(|_| PushSocket::new()).collect();
    for p in &pushes {
        p.connect(&ep.to_string()).await.unwrap();
    }
    wait_until("3 PUSHes", || pull.peer_count() == 3).await;
    // Frame sizes around the inline/by-reference threshold and the long-frame size.
    let sizes = [0usize, 1, 255, 256, 8 * 1024 - 1, 8 * 1024, 70_000, 3];
    let per_sender = 40;
    for i in 0..per_sender {
        for (s, p) in pushes.iter().enumerate() {
            let mut m = Message::new();
            m.push_back(Bytes::from(format!("{s}:{i}")));
            for (k, &len) in sizes.iter().enumerate() {
                m.push_back(Bytes::from(vec![(s * 31 + i * 7 + k) as u8; len]));
            }
            within("send", p.send(m)).await.unwrap();
        }
    }
    let mut next = [0usize; 3];
    for _ in 0..per_sender * pushes.len() {
        let m = within("recv", pull.recv()).await.unwrap();
        assert_eq!(m.len(), 1 + sizes.len(), "frame count");
        let head = String::from_utf8(m[0].to_vec()).unwrap();
        let (s, i) = head.split_once(':').unwrap();
        let (s, i): (usize, usize) = (s.parse().unwrap(), i.parse().unwrap());
        assert_eq!(i, next[s], "per-sender order");
        next[s] += 1;
        for (k, &len) in sizes.iter().enumerate() {
            let f = &m[1 + k];
            assert_eq!(f.len(), len);
            assert!(f.iter().all(|&b| b == (s * 31 + i * 7 + k) as u8));
        }
    }
    watch.assert_none();
}
