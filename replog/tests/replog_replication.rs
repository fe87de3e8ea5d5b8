//! Replication between nodes on one runtime over loopback TCP: streaming and
//! acknowledgement policies, catch-up of a follower far behind, fencing of a deposed
//! leader, truncation of a divergent suffix after a promotion, and the client
//! protocol from zeroring and from a libzmq REQ socket.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use zeroring_replog::{Ack, Durability, LogClient, Node, NodeConfig, ReplogError, Role};

const ANY: &str = "tcp://127.0.0.1:0";

/// Awaits `fut`, failing the test if it takes longer than `limit`.
async fn within_for<F: Future>(limit: Duration, what: &str, fut: F) -> F::Output {
    let timed = compio::time::timeout(limit, fut).await;
    timed.unwrap_or_else(|_| panic!("timed out after {limit:?}: {what}"))
}

/// Awaits `fut`, failing the test if it takes longer than 10 s (generous: the machine
/// is shared and tests run in parallel).
async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    within_for(Duration::from_secs(10), what, fut).await
}

fn memory_leader() -> NodeConfig {
    NodeConfig::new(None, Durability::InMemory, ANY)
}

fn memory_follower(leader: &Node) -> NodeConfig {
    NodeConfig::new(None, Durability::InMemory, ANY).following(leader.endpoint())
}

fn files(dir: PathBuf, mode: Durability) -> NodeConfig {
    NodeConfig::new(Some(dir), mode, ANY)
}

/// Waits until `node` has every record below `next`.
async fn caught_up(node: &Node, next: u64) {
    within("follower catches up", async {
        while node.status().next_offset < next {
            compio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// Waits until the leader lists `n` followers.
async fn followers(leader: &Node, n: usize) {
    within("followers register", async {
        while leader.status().followers.len() < n {
            compio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[compio::test]
async fn records_stream_to_a_follower_and_acks_wait_for_it() {
    let leader = Node::open(memory_leader()).await.unwrap();
    let follower = Node::open(memory_follower(&leader)).await.unwrap();
    followers(&leader, 1).await;
    for i in 0..100u32 {
        let key = format!("k{i}");
        let offset = leader
            .put(key.as_bytes(), &i.to_le_bytes(), Ack::All)
            .await
            .unwrap();
        // Ack::All returned: the follower holds the record now, not "eventually".
        assert!(follower.status().durable_offset > offset);
        assert_eq!(follower.get(key.as_bytes()).unwrap()[..], i.to_le_bytes());
    }
    leader.delete(b"k7", Ack::Quorum).await.unwrap();
    assert_eq!(follower.get(b"k7"), None);
    let status = leader.status();
    assert_eq!(status.role, Role::Leader { fenced_by: None });
    assert_eq!(status.followers.len(), 1);
    assert_eq!(status.followers[0].durable, status.next_offset);
    assert_eq!(follower.status().epoch, status.epoch);
    // Writes to a follower are refused with the leader's endpoint.
    match follower.put(b"x", b"y", Ack::Leader).await {
        Err(ReplogError::NotLeader { leader: Some(l) }) => assert_eq!(l, leader.endpoint()),
        other => panic!("follower accepted a write: {other:?}"),
    }
    follower.close().await.unwrap();
    leader.close().await.unwrap();
}

#[compio::test]
async fn quorum_succeeds_and_all_times_out_with_a_follower_down() {
    let mut cfg = memory_leader();
    cfg.replicas = Some(2);
    cfg.ack_timeout = Duration::from_millis(300);
    let leader = Node::open(cfg).await.unwrap();
    let a = Node::open(memory_follower(&leader)).await.unwrap();
    followers(&leader, 1).await;
    // Cluster of three, one follower up: a quorum (2 of 3) is reachable, all is not.
    leader.put(b"q", b"1", Ack::Quorum).await.unwrap();
    match leader.put(b"a", b"1", Ack::All).await {
        Err(ReplogError::AckTimeout {
            wanted: 2, got: 1, ..
        }) => {}
        other => panic!("expected an ack timeout, got {other:?}"),
    }
    // The write itself stands on the leader and the follower (it is not undone).
    caught_up(&a, leader.status().next_offset).await;
    assert_eq!(a.get(b"a").as_deref(), Some(&b"1"[..]));
    a.close().await.unwrap();
    leader.close().await.unwrap();
}

#[compio::test]
async fn follower_far_behind_catches_up() {
    const RECORDS: u64 = 1_000_000;
    let leader = Node::open(memory_leader()).await.unwrap();
    let value = [7u8; 16];
    for i in 0..RECORDS {
        leader
            .put(&i.to_le_bytes(), &value, Ack::Leader)
            .await
            .unwrap();
    }
    let end = leader.status().next_offset;
    assert!(end > RECORDS);
    let follower = Node::open(memory_follower(&leader)).await.unwrap();
    // Generous: a debug build on a loaded 2-core machine.
    within_for(Duration::from_secs(120), "catch up 10^6 records", async {
        while follower.status().next_offset < end {
            compio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(follower.status().keys, RECORDS as usize);
    for i in [0, 1, RECORDS / 2, RECORDS - 1] {
        assert_eq!(follower.get(&i.to_le_bytes()).as_deref(), Some(&value[..]));
    }
    follower.close().await.unwrap();
    leader.close().await.unwrap();
}

#[compio::test]
async fn promoted_follower_fences_the_old_leader_and_truncates_its_divergent_suffix() {
    let old = Node::open(memory_leader()).await.unwrap();
    let b = Node::open(memory_follower(&old)).await.unwrap();
    followers(&old, 1).await;
    for i in 0..50u32 {
        old.put(format!("a{i}").as_bytes(), b"1", Ack::All)
            .await
            .unwrap();
    }
    let shared_end = old.status().next_offset;
    // B stops replicating (partition); the old leader keeps writing with leader acks.
    b.promote().unwrap();
    for i in 0..20u32 {
        old.put(format!("lost{i}").as_bytes(), b"x", Ack::Leader)
            .await
            .unwrap();
    }
    assert_eq!(b.status().epoch, 2);
    for i in 0..30u32 {
        b.put(format!("b{i}").as_bytes(), b"2", Ack::Leader)
            .await
            .unwrap();
    }
    // The old leader rejoins as a follower of B: its 20 records of epoch 1 past the
    // point where B's epoch 2 begins are cut, and B's records replace them.
    old.follow(b.endpoint());
    caught_up(&old, b.status().next_offset).await;
    let (s_old, s_b) = (old.status(), b.status());
    assert_eq!(s_old.next_offset, s_b.next_offset);
    assert_eq!(s_old.epoch, 2);
    assert_eq!(s_b.next_offset, shared_end + 1 + 30); // epoch-start record + 30 writes
    assert_eq!(old.get(b"lost0"), None);
    assert_eq!(old.get(b"b29").as_deref(), Some(&b"2"[..]));
    assert_eq!(old.get(b"a49").as_deref(), Some(&b"1"[..]));
    assert_eq!(s_old.keys, s_b.keys);
    // A leader still at epoch 1 is fenced as soon as a node that saw epoch 2 says
    // HELLO to it.
    let stale = Node::open(memory_leader()).await.unwrap();
    b.follow(stale.endpoint());
    within("stale leader fenced", async {
        while !matches!(stale.status().role, Role::Leader { fenced_by: Some(2) }) {
            compio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(matches!(
        stale.put(b"k", b"v", Ack::Leader).await,
        Err(ReplogError::Fenced { epoch: 1, newer: 2 })
    ));
    for node in [old, b, stale] {
        node.close().await.unwrap();
    }
}

#[compio::test]
async fn client_protocol_from_zeroring() {
    let leader = Node::open(memory_leader()).await.unwrap();
    let client = LogClient::connect(leader.endpoint()).await.unwrap();
    let offset = within("put", client.put(b"k", b"v", Ack::Leader, false))
        .await
        .unwrap();
    assert_eq!(client.get(b"k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(client.get(b"missing").await.unwrap(), None);
    assert!(client.delete(b"k", Ack::Leader, true).await.unwrap() > offset);
    assert_eq!(client.get(b"k").await.unwrap(), None);
    let status = client.status().await.unwrap();
    assert!(status.contains("role: leader"), "{status}");
    assert!(status.contains("epoch: 1"), "{status}");
    // Ack::All with no follower connected and none configured: the leader alone.
    client.put(b"k2", b"v", Ack::All, false).await.unwrap();
    client.close().await;
    leader.close().await.unwrap();
}

#[test]
fn client_protocol_from_a_libzmq_req_socket() {
    let (tx, rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    let server = std::thread::spawn(move || {
        compio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let leader = Node::open(memory_leader()).await.unwrap();
                tx.send(leader.endpoint().to_owned()).unwrap();
                while stop_rx.try_recv().is_err() {
                    compio::time::sleep(Duration::from_millis(5)).await;
                }
                leader.close().await.unwrap();
            })
    });
    let endpoint = rx.recv().unwrap();
    let ctx = zmq::Context::new();
    let req = ctx.socket(zmq::REQ).unwrap();
    req.set_rcvtimeo(10_000).unwrap();
    req.connect(&endpoint).unwrap();
    req.send_multipart([&b"PUT"[..], b"key", b"value", b"leader", b"1"], 0)
        .unwrap();
    let reply = req.recv_multipart(0).unwrap();
    assert_eq!(reply[0], b"OK");
    assert!(
        std::str::from_utf8(&reply[1])
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    req.send_multipart([&b"GET"[..], b"key"], 0).unwrap();
    assert_eq!(
        req.recv_multipart(0).unwrap(),
        vec![b"OK".to_vec(), b"value".to_vec()]
    );
    req.send_multipart([&b"GET"[..], b"nope"], 0).unwrap();
    assert_eq!(req.recv_multipart(0).unwrap(), vec![b"NONE".to_vec()]);
    req.send(&b"BOGUS"[..], 0).unwrap();
    let reply = req.recv_multipart(0).unwrap();
    assert_eq!(reply[0], b"ERR");
    req.send_multipart([&b"PUT"[..], b"k", b"v", b"most"], 0)
        .unwrap();
    let reply = req.recv_multipart(0).unwrap();
    assert_eq!(reply[0], b"ERR");
    assert!(
        String::from_utf8_lossy(&reply[1]).contains("ack policy"),
        "{reply:?}"
    );
    stop_tx.send(()).unwrap();
    server.join().unwrap();
}

#[compio::test]
async fn a_strict_follower_acknowledges_durable_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let leader = Node::open(memory_leader()).await.unwrap();
    let follower =
        Node::open(files(dir.path().join("f"), Durability::Strict).following(leader.endpoint()))
            .await
            .unwrap();
    followers(&leader, 1).await;
    for i in 0..20u32 {
        leader.put(&i.to_le_bytes(), b"v", Ack::All).await.unwrap();
    }
    let end = leader.status().next_offset;
    assert!(follower.status().durable_offset >= end);
    follower.close().await.unwrap();
    // Restarted, the follower resumes from its own log end and receives only the rest.
    for i in 20..40u32 {
        leader
            .put(&i.to_le_bytes(), b"v", Ack::Leader)
            .await
            .unwrap();
    }
    let follower =
        Node::open(files(dir.path().join("f"), Durability::Strict).following(leader.endpoint()))
            .await
            .unwrap();
    assert!(follower.status().next_offset >= end);
    caught_up(&follower, leader.status().next_offset).await;
    assert_eq!(follower.status().keys, 40);
    follower.close().await.unwrap();
    leader.close().await.unwrap();
}

#[compio::test]
async fn a_follower_refuses_corrupt_or_out_of_order_records_and_resynchronises() {
    use bytes::Bytes;
    use zeroring_replog::record;
    // A fake leader: a ROUTER that answers HELLO by hand.
    let fake = zeroring_sockets::RouterSocket::new();
    let ep = fake.bind(ANY).await.unwrap().to_string();
    let follower = Node::open(NodeConfig::new(None, Durability::InMemory, ANY).following(&ep))
        .await
        .unwrap();
    let hello = within("HELLO", fake.recv()).await.unwrap();
    assert_eq!(&hello[2][..], b"HELLO");
    let id = hello[0].clone();
    let send = |frames: Vec<Bytes>| {
        let mut all = vec![id.clone(), Bytes::new()];
        all.extend(frames);
        fake.send(all)
    };
    let num = |v: u64| Bytes::copy_from_slice(&v.to_le_bytes());
    send(vec![Bytes::from_static(b"START"), num(1), num(0)])
        .await
        .unwrap();
    let ack = within("ACK after START", fake.recv()).await.unwrap();
    assert_eq!(&ack[2][..], b"ACK");
    // One good record, then a batch whose CRC is broken.
    let mut put = Vec::new();
    zeroring_replog::store::Op::Put {
        key: b"k",
        value: b"v",
    }
    .encode(&mut put);
    let mut good = Vec::new();
    record::encode(&mut good, 1, 0, &put);
    send(vec![Bytes::from_static(b"REC"), num(1), Bytes::from(good)])
        .await
        .unwrap();
    within("ACK after a good batch", fake.recv()).await.unwrap();
    assert_eq!(follower.get(b"k").as_deref(), Some(&b"v"[..]));
    let mut bad = Vec::new();
    record::encode(&mut bad, 1, 1, &put);
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    send(vec![Bytes::from_static(b"REC"), num(1), Bytes::from(bad)])
        .await
        .unwrap();
    // The follower does not apply it and says HELLO again from its own log end.
    let again = within("HELLO after a corrupt batch", fake.recv())
        .await
        .unwrap();
    assert_eq!(&again[2][..], b"HELLO");
    assert_eq!(&again[6][..], &1u64.to_le_bytes());
    assert_eq!(follower.status().next_offset, 1);
    // A gap (offset 5 when 1 is expected) is refused the same way.
    send(vec![Bytes::from_static(b"START"), num(1), num(1)])
        .await
        .unwrap();
    within("ACK after START", fake.recv()).await.unwrap();
    let mut gap = Vec::new();
    record::encode(&mut gap, 1, 5, &put);
    send(vec![Bytes::from_static(b"REC"), num(1), Bytes::from(gap)])
        .await
        .unwrap();
    let again = within("HELLO after a gap", fake.recv()).await.unwrap();
    assert_eq!(&again[2][..], b"HELLO");
    // Records from an older epoch than the follower has seen are refused with FENCED.
    send(vec![Bytes::from_static(b"START"), num(3), num(1)])
        .await
        .unwrap();
    within("ACK after START", fake.recv()).await.unwrap();
    send(vec![Bytes::from_static(b"REC"), num(2), Bytes::new()])
        .await
        .unwrap();
    let fenced = within("FENCED", fake.recv()).await.unwrap();
    assert_eq!(&fenced[2][..], b"FENCED");
    assert_eq!(&fenced[3][..], &3u64.to_le_bytes());
    assert_eq!(follower.status().next_offset, 1);
    follower.close().await.unwrap();
}

#[compio::test]
async fn oversized_or_garbage_requests_do_not_disturb_the_node() {
    use bytes::Bytes;
    let leader = Node::open(memory_leader()).await.unwrap();
    // 40 MiB in one frame: more than any record can hold; the connection is closed
    // before it is buffered, and no reply comes.
    let hostile = zeroring_sockets::DealerSocket::new();
    hostile.connect(leader.endpoint()).await.unwrap();
    let huge = Bytes::from(vec![0u8; 40 << 20]);
    let frames = vec![
        Bytes::new(),
        Bytes::from_static(b"PUT"),
        Bytes::from_static(b"k"),
        huge,
    ];
    hostile.send(frames).await.unwrap();
    // Garbage of every shape from another peer gets ERR answers.
    let client = zeroring_sockets::DealerSocket::new();
    client.connect(leader.endpoint()).await.unwrap();
    for frames in [
        vec![Bytes::new()],
        vec![Bytes::new(), Bytes::from_static(b"HELLO")],
        vec![
            Bytes::new(),
            Bytes::from_static(b"ACK"),
            Bytes::from_static(b"x"),
        ],
        vec![Bytes::new(), Bytes::from_static(b"\xff\xfe")],
    ] {
        client.send(frames).await.unwrap();
        let reply = within("ERR reply", client.recv()).await.unwrap();
        assert_eq!(&reply[1][..], b"ERR", "{reply:?}");
    }
    // A message without the delimiter is ignored; the node keeps serving.
    client
        .send(vec![Bytes::from_static(b"GET"), Bytes::from_static(b"k")])
        .await
        .unwrap();
    let good = LogClient::connect(leader.endpoint()).await.unwrap();
    good.put(b"k", b"v", Ack::Leader, false).await.unwrap();
    assert_eq!(good.get(b"k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert!(
        compio::time::timeout(Duration::from_millis(200), hostile.recv())
            .await
            .is_err()
    );
    leader.close().await.unwrap();
}

#[compio::test]
async fn every_leader_start_is_a_new_epoch_and_followers_follow_on() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = files(dir.path().join("leader"), Durability::Strict);
    let leader = Node::open(cfg.clone()).await.unwrap();
    assert_eq!(leader.status().epoch, 1);
    leader.put(b"a", b"1", Ack::Leader).await.unwrap();
    let endpoint = leader.endpoint().to_owned();
    leader.close().await.unwrap();
    // Same directory, same port: epoch 2, with its start logged at once.
    let mut again = cfg.clone();
    again.bind = endpoint;
    let leader = Node::open(again).await.unwrap();
    let status = leader.status();
    assert_eq!(status.epoch, 2);
    assert_eq!(status.next_offset, 3); // epoch 1 start, put, epoch 2 start
    assert_eq!(leader.get(b"a").as_deref(), Some(&b"1"[..]));
    let follower = Node::open(memory_follower(&leader)).await.unwrap();
    followers(&leader, 1).await;
    leader.put(b"b", b"2", Ack::All).await.unwrap();
    assert_eq!(follower.status().epoch, 2);
    assert_eq!(follower.get(b"a").as_deref(), Some(&b"1"[..]));
    follower.close().await.unwrap();
    leader.close().await.unwrap();
}
