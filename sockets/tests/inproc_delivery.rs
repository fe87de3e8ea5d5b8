//! What an `inproc://` connection delivers: PUSH, DEALER and PAIR hand the
//! message itself to the peer, so frames built from `Vec<u8>` or `&[u8]` arrive
//! byte-identical (native sockets and thread-safe handles).

mod common;

use zeroring_sockets::{
    Context, DealerSocket, Message, PairSocket, PullSocket, PushSocket, SocketType,
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
