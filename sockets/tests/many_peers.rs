//! Many peers on one socket, zeroring against zeroring, over tcp and inproc: a
//! ROUTER with a hundred peers of which one talks, fan-in with every inbox at
//! RCVHWM (each reader waits for its own inbox's room: none may be left
//! asleep), and a flooding peer that must not starve the others.

mod common;

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use zeroring_sockets::{DealerSocket, PullSocket, PushSocket, RouterSocket};

use common::*;

/// Connects `n` DEALERs to `ep` and waits until `router` has them all.
async fn dealers(router: &RouterSocket, ep: &str, n: usize) -> Vec<DealerSocket> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let d = DealerSocket::new();
        d.connect(ep).await.unwrap();
        out.push(d);
    }
    wait_until(&format!("{n} DEALERs attached"), || {
        router.peer_count() == n && out.iter().all(|d| d.peer_count() == 1)
    })
    .await;
    out
}

/// Echoes `n` messages on `router` (routing id first, as received).
async fn echo(router: &RouterSocket, n: usize) {
    for _ in 0..n {
        let m = within("a request", router.recv()).await.unwrap();
        router.send(m).await.unwrap();
    }
}

// A ROUTER with 100 peers of which only one is active answers every request of
// that one, and then each of the 99 that stayed idle.
both_transports!(router_with_a_hundred_peers_serves_the_one_that_talks);
async fn router_with_a_hundred_peers_serves_the_one_that_talks(t: Transport) {
    const PEERS: usize = 100;
    const ROUND_TRIPS: usize = 500;
    let watch = panic_watch();
    let router = RouterSocket::new();
    let ep = router.bind(&t.any()).await.unwrap().to_string();
    let peers = dealers(&router, &ep, PEERS).await;
    let active = &peers[PEERS / 2];
    let client = async {
        for i in 0..ROUND_TRIPS {
            active.send(format!("rt-{i}")).await.unwrap();
            let reply = within("a reply", active.recv()).await.unwrap();
            assert_msg(&reply, &[format!("rt-{i}").as_bytes()]);
        }
    };
    futures_util::future::join(client, echo(&router, ROUND_TRIPS)).await;
    // The idle peers were not disturbed, and each still gets its own answer.
    for (p, d) in peers.iter().enumerate() {
        d.send(format!("idle-{p}")).await.unwrap();
    }
    let client = async {
        for (p, d) in peers.iter().enumerate() {
            let reply = within("an idle peer's reply", d.recv()).await.unwrap();
            assert_msg(&reply, &[format!("idle-{p}").as_bytes()]);
        }
    };
    futures_util::future::join(client, echo(&router, PEERS)).await;
    for d in &peers {
        assert!(d.try_recv().await.is_err(), "a peer got a stray reply");
    }
    watch.assert_none();
}

// Sixteen PUSHes into one PULL at RCVHWM 1: every reader waits for its inbox's
// room after each message, and each receive wakes only the reader it made room
// for. Every message arrives, each sender's in order.
both_transports!(push_fan_in_at_rcvhwm_delivers_every_message);
async fn push_fan_in_at_rcvhwm_delivers_every_message(t: Transport) {
    const PEERS: usize = 16;
    const EACH: usize = 300;
    let watch = panic_watch();
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(1)).unwrap();
    let ep = pull.bind(&t.any()).await.unwrap().to_string();
    let mut pushes = Vec::new();
    for _ in 0..PEERS {
        let p = PushSocket::new();
        p.connect(&ep).await.unwrap();
        pushes.push(p);
    }
    wait_until("PUSHes attached", || pull.peer_count() == PEERS).await;
    for (s, p) in pushes.iter().enumerate() {
        for seq in 0..EACH {
            p.send(tag(s, seq, 0)).await.unwrap();
        }
    }
    let mut next = [0; PEERS];
    for _ in 0..PEERS * EACH {
        let m = within("a fanned-in message", pull.recv()).await.unwrap();
        let (s, seq, _) = parse_tag(&m[0]);
        assert_eq!(seq, next[s], "sender {s}'s messages out of order");
        next[s] += 1;
    }
    assert!(next.iter().all(|&n| n == EACH));
    watch.assert_none();
}

// Sixteen DEALERs each pipeline requests into a ROUTER at RCVHWM 1 that echoes
// them: every request is answered, to the peer that sent it.
both_transports!(router_fan_in_at_rcvhwm_answers_every_request);
async fn router_fan_in_at_rcvhwm_answers_every_request(t: Transport) {
    const PEERS: usize = 16;
    const EACH: usize = 100;
    let watch = panic_watch();
    let router = RouterSocket::new();
    router.set_rcvhwm(Some(1)).unwrap();
    let ep = router.bind(&t.any()).await.unwrap().to_string();
    let peers = dealers(&router, &ep, PEERS).await;
    for (s, d) in peers.iter().enumerate() {
        for seq in 0..EACH {
            d.send(tag(s, seq, 0)).await.unwrap();
        }
    }
    let clients = async {
        for (s, d) in peers.iter().enumerate() {
            for seq in 0..EACH {
                let reply = within("a reply", d.recv()).await.unwrap();
                assert_eq!(parse_tag(&reply[0]), (s, seq, 0));
            }
        }
    };
    futures_util::future::join(clients, echo(&router, PEERS * EACH)).await;
    watch.assert_none();
}

// One PUSH floods a PULL (it sends until told to stop) while fifteen others send
// a few messages each: fair queuing serves them all while the flood goes on.
both_transports!(a_flooding_push_does_not_starve_the_others);
async fn a_flooding_push_does_not_starve_the_others(t: Transport) {
    const QUIET: usize = 15;
    const EACH: usize = 3;
    let watch = panic_watch();
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(10)).unwrap();
    let ep = pull.bind(&t.any()).await.unwrap().to_string();
    let flood = PushSocket::new();
    flood.connect(&ep).await.unwrap();
    let mut quiet = Vec::new();
    for _ in 0..QUIET {
        let p = PushSocket::new();
        p.connect(&ep).await.unwrap();
        quiet.push(p);
    }
    wait_until("PUSHes attached", || pull.peer_count() == QUIET + 1).await;
    let stop = Rc::new(Cell::new(false));
    let flooding = {
        let stop = stop.clone();
        async move {
            // Without waiting for room (a full peer gives the runtime a turn), so
            // the flood ends as soon as the receiver has what it waits for.
            let mut sent = 0usize;
            while !stop.get() {
                if flood.try_send(tag(QUIET, sent, 0)).await.is_ok() {
                    sent += 1;
                }
            }
            sent
        }
    };
    let receiving = async {
        // The flood is under way before the quiet peers say anything.
        let first = within("the flood's first message", pull.recv())
            .await
            .unwrap();
        assert_eq!(parse_tag(&first[0]).0, QUIET);
        for (s, p) in quiet.iter().enumerate() {
            for seq in 0..EACH {
                p.send(tag(s, seq, 0)).await.unwrap();
            }
        }
        let mut got: HashMap<usize, usize> = HashMap::new();
        let mut flooded = 0usize;
        while got.values().sum::<usize>() < QUIET * EACH {
            let m = within("the quiet peers' messages", pull.recv())
                .await
                .unwrap();
            let (s, seq, _) = parse_tag(&m[0]);
            if s == QUIET {
                flooded += 1;
                continue;
            }
            let next = got.entry(s).or_default();
            assert_eq!(seq, *next, "sender {s}'s messages out of order");
            *next += 1;
        }
        stop.set(true);
        flooded
    };
    let (sent, flooded) = futures_util::future::join(flooding, receiving).await;
    assert!(
        flooded < sent,
        "the quiet peers were served while the flood went on"
    );
    watch.assert_none();
}

/// Receives on `pull` until the socket closes, counting messages by their first
/// byte (the phase they were sent in).
fn count_phases(pull: Rc<PullSocket>, counts: Rc<[Cell<usize>; 2]>) {
    compio::runtime::spawn(async move {
        while let Ok(m) = pull.recv().await {
            let c = &counts[usize::from(m[0][0])];
            c.set(c.get() + 1);
        }
    })
    .detach();
}

// A PUSH whose peers stop reading goes on sending to the one that reads (it
// sets the full ones aside instead of looking at them on every send), and goes
// back to each of the others once it reads again. Nothing is lost or doubled.
both_transports!(a_push_sets_full_peers_aside_and_returns_to_them);
async fn a_push_sets_full_peers_aside_and_returns_to_them(t: Transport) {
    const PEERS: usize = 4;
    const FLOOD: usize = 2000;
    let watch = panic_watch();
    let push = PushSocket::new();
    push.set_sndhwm(Some(4)).unwrap();
    let ep = push.bind(&t.any()).await.unwrap().to_string();
    let mut pulls = Vec::new();
    for _ in 0..PEERS {
        let pull = Rc::new(PullSocket::new());
        pull.set_rcvhwm(Some(1)).unwrap();
        pull.connect(&ep).await.unwrap();
        pulls.push(pull);
    }
    wait_until("PULLs attached", || {
        push.peer_count() == PEERS && pulls.iter().all(|p| p.peer_count() == 1)
    })
    .await;
    let counts: Vec<Rc<[Cell<usize>; 2]>> = (0..PEERS).map(|_| Rc::default()).collect();
    // Phase 0: only the first PULL reads. Large messages fill the others (their
    // queues, inboxes and kernel buffers) quickly; every send still completes.
    count_phases(pulls[0].clone(), counts[0].clone());
    let mut big = vec![7u8; 16 * 1024];
    big[0] = 0;
    let big = bytes::Bytes::from(big);
    for _ in 0..FLOOD {
        within("a send while three peers are full", push.send(big.clone()))
            .await
            .unwrap();
    }
    // Phase 1: the others read again; sends reach each of them again.
    for (pull, counts) in pulls.iter().zip(&counts).skip(1) {
        count_phases(pull.clone(), counts.clone());
    }
    let mut sent = FLOOD;
    within("phase-1 messages for every peer", async {
        while counts.iter().any(|c| c[1].get() == 0) {
            push.send(vec![1u8, 1]).await.unwrap();
            sent += 1;
        }
    })
    .await;
    wait_until("every message received", || {
        counts
            .iter()
            .map(|c| c[0].get() + c[1].get())
            .sum::<usize>()
            == sent
    })
    .await;
    pause(20).await;
    let received: usize = counts.iter().map(|c| c[0].get() + c[1].get()).sum();
    assert_eq!(received, sent, "a message was lost or doubled");
    watch.assert_none();
}
