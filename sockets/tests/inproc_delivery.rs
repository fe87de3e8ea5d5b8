//! What an `inproc://` connection delivers: PUSH, DEALER and PAIR hand the
//! message itself to the peer, so frames built from `Vec<u8>` or `&[u8]` arrive
//! byte-identical (native sockets and thread-safe handles); the receiving side
//! moves runs of messages into its inbox at once, and RCVHWM still bounds it,
//! with order kept across that bound and across subscriptions in between.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use zeroring_sockets::{
    Context, DealerSocket, Error, Message, PairSocket, PullSocket, PushSocket, SocketType,
    XpubSocket, XsubSocket,
};

use common::*;

/// Messages whose frames are not `Bytes` to begin with: one frame from a
/// `Vec<u8>`, one from a `&[u8]`, multipart with an empty frame, and four frames
/// (more than a message stores inline), bodies from empty to past 8 KiB.
fn varied_messages() -> Vec<Vec<Vec<u8>>> {
    (0..60u32)
        .map(|i| {
            let len = (i as usize * 397) % 20_000;
            let body: Vec<u8> = (0..len)
                .map(|b| (b as u32 ^ i.wrapping_mul(31)) as u8)
                .collect();
            match i % 4 {
                0 | 1 => vec![body],
                2 => vec![i.to_be_bytes().to_vec(), Vec::new(), body],
                _ => vec![b"head".to_vec(), body.clone(), body, b"tail".to_vec()],
            }
        })
        .collect()
}

/// The message for `frames`, built the way the `i`th case says.
fn build(i: usize, frames: &[Vec<u8>]) -> Message {
    match (i % 4, frames) {
        (0, [one]) => Message::from(one.clone()),
        (1, [one]) => Message::from(&one[..]),
        _ => Message::from(frames.to_vec()),
    }
}

/// Asserts that `got` holds exactly `want`'s frames.
#[track_caller]
fn assert_same(i: usize, got: &Message, want: &[Vec<u8>]) {
    assert_eq!(frames(got), want, "message {i} changed on the way");
}

#[compio::test]
async fn push_to_pull_arrives_byte_identical() {
    let ep = inproc_name("owned-push");
    let pull = PullSocket::new();
    pull.bind(&ep).await.unwrap();
    let push = PushSocket::new();
    push.connect(&ep).await.unwrap();
    let messages = varied_messages();
    for (i, m) in messages.iter().enumerate() {
        push.send(build(i, m)).await.unwrap();
    }
    for (i, m) in messages.iter().enumerate() {
        assert_same(i, &within("pull.recv", pull.recv()).await.unwrap(), m);
    }
}

#[compio::test]
async fn dealer_and_pair_arrive_byte_identical_both_ways() {
    let ep = inproc_name("owned-dealer");
    let bound = DealerSocket::new();
    bound.bind(&ep).await.unwrap();
    let connected = DealerSocket::new();
    connected.connect(&ep).await.unwrap();
    let ep = inproc_name("owned-pair");
    let pair_a = PairSocket::new();
    pair_a.bind(&ep).await.unwrap();
    let pair_b = PairSocket::new();
    pair_b.connect(&ep).await.unwrap();
    let messages = varied_messages();
    for (i, m) in messages.iter().enumerate() {
        connected.send(build(i, m)).await.unwrap();
        pair_b.send(build(i, m)).await.unwrap();
        let got = within("dealer recv", bound.recv()).await.unwrap();
        assert_same(i, &got, m);
        bound.send(got).await.unwrap();
        let got = within("pair recv", pair_a.recv()).await.unwrap();
        assert_same(i, &got, m);
        pair_a.try_send(got).await.unwrap();
    }
    for (i, m) in messages.iter().enumerate() {
        assert_same(
            i,
            &within("dealer back", connected.recv()).await.unwrap(),
            m,
        );
        assert_same(i, &within("pair back", pair_b.recv()).await.unwrap(), m);
    }
}

#[test]
fn handles_arrive_byte_identical() {
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.set_rcvtimeo(Some(LIMIT));
    pull.bind("inproc://owned-handles").unwrap();
    let push = ctx.socket(SocketType::Push).unwrap();
    push.connect("inproc://owned-handles").unwrap();
    let messages = varied_messages();
    let sender = {
        let messages = messages.clone();
        std::thread::spawn(move || {
            for (i, m) in messages.iter().enumerate() {
                push.send(build(i, m)).unwrap();
            }
            push
        })
    };
    for (i, m) in messages.iter().enumerate() {
        assert_same(i, &pull.recv().unwrap(), m);
    }
    drop(sender.join().unwrap());
}

/// The body of the `i`th message of a sequence.
fn seq(i: usize) -> Vec<u8> {
    format!("m{i}").into_bytes()
}

// Ten times RCVHWM sent to a PULL that does not read: the sender stalls with the
// PULL's inbox at RCVHWM exactly (the receiving side moves whole runs, but never
// past the limit), and everything then arrives in order.
#[compio::test]
async fn rcvhwm_bounds_the_receiver_when_runs_move_at_once() {
    const RCVHWM: usize = 10;
    // Not a divisor of RCVHWM: a run stops half-way at the limit.
    const SNDHWM: usize = 7;
    const TOTAL: usize = 10 * RCVHWM;
    let ep = inproc_name("rcvhwm-runs");
    let pull = PullSocket::new();
    pull.set_rcvhwm(Some(RCVHWM)).unwrap();
    pull.bind(&ep).await.unwrap();
    let push = Rc::new(PushSocket::new());
    push.set_sndhwm(Some(SNDHWM)).unwrap();
    push.connect(&ep).await.unwrap();
    wait_until("attached", || {
        push.peer_count() == 1 && pull.peer_count() == 1
    })
    .await;

    let sent = Rc::new(Cell::new(0));
    let sender = compio::runtime::spawn({
        let (push, sent) = (push.clone(), sent.clone());
        async move {
            for i in 0..TOTAL {
                push.send(seq(i)).await?;
                sent.set(i + 1);
            }
            Ok::<_, Error>(())
        }
    });
    // Until the sender stops making progress.
    let mut last = usize::MAX;
    while sent.get() != last {
        last = sent.get();
        pause(50).await;
    }
    // The inbox, one run in the receiving side's hands, the link.
    assert!(
        last <= RCVHWM + 2 * SNDHWM + 1,
        "the receiver took {last} of {TOTAL} without reading"
    );
    // What a receive takes without waiting is what the inbox holds.
    let mut held = 0;
    while let Ok(m) = pull.try_recv().await {
        assert_eq!(&m[0][..], seq(held), "out of order");
        held += 1;
        assert!(held <= TOTAL);
    }
    assert_eq!(held, RCVHWM, "the inbox holds RCVHWM messages");
    for i in held..TOTAL {
        let m = within("pull.recv", pull.recv()).await.unwrap();
        assert_eq!(&m[0][..], seq(i), "out of order");
    }
    within("sender", sender).await.unwrap().unwrap();
    assert_eq!(sent.get(), TOTAL);
}

// Subscriptions between messages on the way to an XPUB keep their place, also
// when RCVHWM holds the receiving side back in the middle of a run.
#[compio::test]
async fn subscriptions_and_messages_keep_their_order() {
    let ep = inproc_name("xsub-order");
    let xpub = XpubSocket::new();
    xpub.set_rcvhwm(Some(3)).unwrap();
    xpub.bind(&ep).await.unwrap();
    let xsub = XsubSocket::new();
    xsub.connect(&ep).await.unwrap();
    wait_until("attached", || {
        xsub.peer_count() == 1 && xpub.peer_count() == 1
    })
    .await;
    let item = |i: usize| -> Vec<u8> {
        if i % 4 == 1 {
            // A new topic each time: the XPUB reports every one.
            format!("\x01t{i}").into_bytes()
        } else {
            seq(i)
        }
    };
    for i in 0..40 {
        xsub.send(item(i)).await.unwrap();
    }
    for i in 0..40 {
        let m = within("xpub.recv", xpub.recv()).await.unwrap();
        assert_eq!(&m[0][..], item(i), "item {i} out of order");
    }
}
