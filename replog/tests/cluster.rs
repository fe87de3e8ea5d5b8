//! In-process clusters on loopback: election, failover, the behind-follower
//! regression of issue 15, forged Raft messages, membership changes with snapshots,
//! idempotent writes and read consistency. Every node runs on the test's compio
//! runtime; "killing" a node closes it, "restarting" reopens its directory.
//! `RUST_LOG=zeroring_replog=debug` shows what the nodes do.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use protobuf::Message as _;
use raft::prelude::{Message as RaftMessage, MessageType};
use zeroring_replog::protocol::RAFT_FRAME;
use zeroring_replog::{Durability, LogClient, Node, NodeConfig, ReadConsistency, ReplogError};
use zeroring_sockets::{DealerSocket, Message};

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn peers(n: u64) -> BTreeMap<u64, String> {
    init_logs();
    (1..=n)
        .map(|id| (id, format!("tcp://127.0.0.1:{}", free_port())))
        .collect()
}

fn config(id: u64, peers: &BTreeMap<u64, String>, dir: Option<&Path>) -> NodeConfig {
    let mode = if dir.is_some() {
        Durability::Strict
    } else {
        Durability::InMemory
    };
    let mut c = NodeConfig::new(
        id,
        peers.clone(),
        dir.map(|d| d.join(format!("n{id}"))),
        mode,
    );
    c.request_timeout = Duration::from_secs(3);
    c
}

/// Opens founding nodes 1..=n of an in-memory cluster on loopback.
async fn start(n: u64) -> Vec<Node> {
    let p = peers(n);
    let mut nodes = Vec::new();
    for id in 1..=n {
        nodes.push(Node::open(config(id, &p, None)).await.unwrap());
    }
    nodes
}

/// Waits until one of `nodes` leads and returns its position.
async fn leader(nodes: &[&Node]) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for (i, n) in nodes.iter().enumerate() {
            if let Ok(s) = n.status().await
                && s.role == "leader"
            {
                return i;
            }
        }
        compio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no leader elected within 10 s");
}

/// Waits until every node has applied `index`.
async fn converged(nodes: &[&Node], index: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for n in nodes {
        loop {
            let s = n.status().await.unwrap();
            if s.applied >= index {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "node {} stuck at {}",
                s.id,
                s.applied
            );
            compio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// `key`'s value on node `n`, read with `consistency`.
async fn value(n: &Node, key: &[u8], consistency: ReadConsistency) -> Option<Vec<u8>> {
    n.get(key, consistency).await.unwrap().map(|v| v.to_vec())
}

#[compio::test]
async fn three_nodes_elect_replicate_and_fail_over() {
    let mut nodes: Vec<Option<Node>> = start(3).await.into_iter().map(Some).collect();
    let all: Vec<&Node> = nodes.iter().flatten().collect();
    let l = leader(&all).await;
    let mut last = 0;
    for i in 0..100u32 {
        last = all[l].put(format!("k{i}").as_bytes(), b"v").await.unwrap();
    }
    converged(&all, last).await;
    for n in &all {
        assert_eq!(
            value(n, b"k99", ReadConsistency::Stale).await.as_deref(),
            Some(&b"v"[..])
        );
    }
    // Followers refuse writes and linearizable reads, and name the leader.
    let f = (l + 1) % 3;
    match all[f].put(b"x", b"y").await {
        Err(ReplogError::NotLeader { leader_id, .. }) => {
            assert_eq!(leader_id, Some(all[l].id()))
        }
        other => panic!("expected NotLeader, got {other:?}"),
    }
    assert!(matches!(
        all[f].get(b"k1", ReadConsistency::Linearizable).await,
        Err(ReplogError::NotLeader { .. })
    ));
    assert_eq!(
        value(all[l], b"k1", ReadConsistency::Linearizable)
            .await
            .as_deref(),
        Some(&b"v"[..])
    );
    // Kill the leader: the other two elect one and accept writes again.
    let old = l;
    drop(all);
    let killed = Instant::now();
    nodes[old].take().unwrap().close().await;
    let rest: Vec<&Node> = nodes.iter().flatten().collect();
    let l = leader(&rest).await;
    let mut wrote = None;
    while wrote.is_none() {
        match rest[l].put(b"after", b"failover").await {
            Ok(i) => wrote = Some(i),
            Err(e) => {
                assert!(killed.elapsed() < Duration::from_secs(5), "{e}");
                compio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    let took = killed.elapsed();
    assert!(took < Duration::from_secs(3), "failover took {took:?}");
    for i in 0..100u32 {
        assert!(
            rest[l]
                .get(format!("k{i}").as_bytes(), ReadConsistency::Linearizable)
                .await
                .unwrap()
                .is_some(),
            "acknowledged write k{i} lost in failover"
        );
    }
}

/// Issue 15's first reproduction, with Raft: C falls behind (down), A dies, B alone
/// cannot commit; A returns, A and B commit 200 writes; B dies; C returns. C lacks
/// the writes, so A must lead and nothing acknowledged is lost.
#[compio::test]
async fn a_follower_that_fell_behind_never_loses_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let p = peers(3);
    let open = |id| Node::open(config(id, &p, Some(dir.path())));
    let a = open(1).await.unwrap();
    let b = open(2).await.unwrap();
    let c = open(3).await.unwrap();
    let l = leader(&[&a, &b, &c]).await;
    let first = [&a, &b, &c][l].put(b"before", b"1").await.unwrap();
    converged(&[&a, &b, &c], first).await;
    c.close().await; // C "frozen"
    a.close().await; // A killed
    // B alone has no quorum: a write cannot be acknowledged.
    assert!(b.put(b"alone", b"x").await.is_err());
    let a = open(1).await.unwrap();
    let l = leader(&[&a, &b]).await;
    let w = [&a, &b][l];
    let mut acked = Vec::new();
    for i in 0..200u32 {
        let key = format!("w{i}");
        if w.put(key.as_bytes(), b"acked").await.is_ok() {
            acked.push(key);
        }
    }
    assert_eq!(acked.len(), 200);
    b.close().await; // B killed
    let c = open(3).await.unwrap(); // C resumed, behind by 200 writes
    let l = leader(&[&a, &c]).await;
    assert_eq!(l, 0, "the node lacking acknowledged writes must not lead");
    let last = a.put(b"after", b"1").await.unwrap();
    converged(&[&a, &c], last).await;
    for key in &acked {
        for n in [&a, &c] {
            assert_eq!(
                value(n, key.as_bytes(), ReadConsistency::Stale)
                    .await
                    .as_deref(),
                Some(&b"acked"[..]),
                "{key} lost on node {}",
                n.id()
            );
        }
    }
}

fn forged(kind: MessageType, from: u64, to: u64, term: u64) -> Bytes {
    let mut m = RaftMessage::default();
    m.set_msg_type(kind);
    m.from = from;
    m.to = to;
    m.term = term;
    m.index = u64::MAX / 2;
    m.commit = u64::MAX / 2;
    if kind == MessageType::MsgSnapshot {
        m.mut_snapshot().mut_metadata().index = u64::MAX / 2;
    }
    m.write_to_bytes().unwrap().into()
}

/// Issue 15's second reproduction: forged fencing (huge terms), fake acknowledgements
/// and forged appends from a rogue peer are refused and the cluster keeps serving.
#[compio::test]
async fn forged_messages_are_refused() {
    // With a cluster key, a rogue without it cannot even connect, and a client with
    // an admitted key of its own may send requests but no Raft traffic; without a
    // key, a sender that is not a member is dropped.
    for keyed in [true, false] {
        let p = peers(3);
        let key = keyed.then(|| zeroring_sockets::curve_keypair().unwrap());
        let client_key = zeroring_sockets::curve_keypair().unwrap();
        let mut nodes = Vec::new();
        for id in 1..=3 {
            let mut c = config(id, &p, None);
            c.cluster_key = key.clone();
            if keyed {
                c.client_keys = vec![*client_key.public()];
            }
            nodes.push(Node::open(c).await.unwrap());
        }
        let all: Vec<&Node> = nodes.iter().collect();
        let l = leader(&all).await;
        let term = all[l].status().await.unwrap().term;
        let mut rogues = vec![DealerSocket::new()];
        if let Some(key) = &key {
            let insider = DealerSocket::new();
            insider
                .set_curve_serverkey(key.public().as_bytes())
                .unwrap();
            insider.set_curve_keypair(&client_key).unwrap();
            rogues.push(insider);
        }
        // A member id is only usable by a node with the cluster key; without a key,
        // a non-member id (99) must be refused.
        let from = if keyed { 2 } else { 99 };
        for rogue in &rogues {
            rogue.set_linger(Some(Duration::ZERO));
            rogue.connect(all[l].endpoint()).await.unwrap();
            for kind in [
                MessageType::MsgHeartbeat,
                MessageType::MsgAppend,
                MessageType::MsgAppendResponse,
                MessageType::MsgRequestVote,
                MessageType::MsgTimeoutNow,
                MessageType::MsgSnapshot,
            ] {
                for to in 1..=3 {
                    let body = forged(kind, from, to, 1 << 62);
                    let _ = rogue
                        .send(Message::from(vec![Bytes::from_static(RAFT_FRAME), body]))
                        .await;
                }
            }
            let _ = rogue
                .send(Message::from(vec![
                    Bytes::from_static(RAFT_FRAME),
                    Bytes::from_static(b"\xff\x00garbage"),
                ]))
                .await;
        }
        compio::time::sleep(Duration::from_millis(300)).await;
        let s = all[l].status().await.unwrap();
        assert_eq!(s.role, "leader", "keyed={keyed}: the leader was deposed");
        assert_eq!(s.term, term, "keyed={keyed}: a forged term was accepted");
        // Writes still need a real quorum and still succeed.
        let i = all[l].put(b"still", b"serving").await.unwrap();
        converged(&all, i).await;
        for n in &all {
            assert_eq!(n.status().await.unwrap().term, term);
        }
        if let Some(key) = &key {
            // The admitted client key is good for requests.
            let mut client = LogClient::new(&[all[l].endpoint()])
                .with_client_key(*key.public(), client_key.clone());
            client.put(b"from", b"a client key").await.unwrap();
            client.close().await;
        }
        for rogue in rogues {
            rogue.close().await;
        }
        for n in nodes {
            n.close().await;
        }
    }
}

/// A leader cut off from its followers must not answer a linearizable read: the
/// read-index round needs a heartbeat quorum, and check-quorum deposes it.
#[compio::test]
async fn an_isolated_leader_answers_no_linearizable_read() {
    let mut nodes: Vec<Option<Node>> = start(3).await.into_iter().map(Some).collect();
    let all: Vec<&Node> = nodes.iter().flatten().collect();
    let l = leader(&all).await;
    all[l].put(b"k", b"v").await.unwrap();
    drop(all);
    for (i, slot) in nodes.iter_mut().enumerate() {
        if i != l {
            slot.take().unwrap().close().await;
        }
    }
    let alone = nodes[l].as_ref().unwrap();
    let read = alone.get(b"k", ReadConsistency::Linearizable).await;
    assert!(
        matches!(
            read,
            Err(ReplogError::NotLeader { .. } | ReplogError::Unconfirmed { .. })
        ),
        "an isolated leader answered {read:?}"
    );
    // Stale reads still work, and say nothing about recency.
    assert_eq!(
        value(alone, b"k", ReadConsistency::Stale).await.as_deref(),
        Some(&b"v"[..])
    );
}

#[compio::test]
async fn membership_changes_and_snapshots_for_new_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = peers(3);
    let mut nodes = Vec::new();
    for id in 1..=3 {
        let mut c = config(id, &p, Some(dir.path()));
        c.snapshot_entries = 50;
        nodes.push(Node::open(c).await.unwrap());
    }
    let all: Vec<&Node> = nodes.iter().collect();
    let l = leader(&all).await;
    for i in 0..300u32 {
        all[l].put(format!("k{i}").as_bytes(), b"v").await.unwrap();
    }
    let s = all[l].status().await.unwrap();
    assert!(s.snapshot_index >= 250, "no compaction: {s}");
    // A new node joins as a learner: it can only catch up from a snapshot.
    let ep4 = format!("tcp://127.0.0.1:{}", free_port());
    p.insert(4, ep4.clone());
    let mut c4 = config(4, &p, Some(dir.path()));
    c4.join = true;
    let n4 = Node::open(c4).await.unwrap();
    all[l].add_member(4, &ep4, true).await.unwrap();
    let last = all[l].put(b"k-last", b"v").await.unwrap();
    converged(&[&n4], last).await;
    let s4 = n4.status().await.unwrap();
    assert!(
        s4.snapshot_index >= 250,
        "node 4 did not get a snapshot: {s4}"
    );
    assert_eq!(s4.keys, 301);
    // Promote it to a voter, then remove node 3 (or 2 if 3 leads).
    all[l].add_member(4, &ep4, false).await.unwrap();
    let status = all[l].status().await.unwrap();
    assert!(
        status.members.iter().any(|m| m.id == 4 && m.voter),
        "{status}"
    );
    let remove = if all[l].id() == 3 { 2 } else { 3 };
    all[l].remove_member(remove).await.unwrap();
    let status = all[l].status().await.unwrap();
    assert!(!status.members.iter().any(|m| m.id == remove), "{status}");
    // Only one log generation remains on disk after compaction.
    let gens = std::fs::read_dir(dir.path().join(format!("n{}", all[l].id())))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("log-")
        })
        .count();
    assert_eq!(gens, 1);
    n4.close().await;
}

#[compio::test]
async fn retried_writes_apply_once_and_restart_keeps_state() {
    let dir = tempfile::tempdir().unwrap();
    let p = peers(1);
    let mut c = config(1, &p, Some(dir.path()));
    c.snapshot_entries = 20;
    let n = Node::open(c.clone()).await.unwrap();
    leader(&[&n]).await;
    // Too large for one log record: refused, and the node keeps serving.
    let huge = vec![0u8; 9 << 20];
    assert!(matches!(
        n.put(b"huge", &huge).await,
        Err(ReplogError::Protocol(_))
    ));
    n.put_as(7, 1, b"k", b"one").await.unwrap();
    n.put_as(7, 2, b"k", b"two").await.unwrap();
    // A retry of write 1 (say after a timeout) does not roll the value back.
    n.put_as(7, 1, b"k", b"one").await.unwrap();
    assert_eq!(
        value(&n, b"k", ReadConsistency::Linearizable)
            .await
            .as_deref(),
        Some(&b"two"[..])
    );
    for i in 0..50u32 {
        n.put(format!("x{i}").as_bytes(), b"y").await.unwrap();
    }
    n.close().await;
    let n = Node::open(c).await.unwrap();
    leader(&[&n]).await;
    let s = n.status().await.unwrap();
    assert!(s.snapshot_index > 1, "{s}");
    assert_eq!(
        value(&n, b"k", ReadConsistency::Linearizable)
            .await
            .as_deref(),
        Some(&b"two"[..])
    );
    assert_eq!(s.keys, 51);
    n.put_as(7, 2, b"k", b"late retry").await.unwrap();
    assert_eq!(
        value(&n, b"k", ReadConsistency::Stale).await.as_deref(),
        Some(&b"two"[..]),
        "the session survived the restart"
    );
    n.close().await;
}

#[compio::test]
async fn the_client_follows_redirects() {
    let nodes = start(3).await;
    let all: Vec<&Node> = nodes.iter().collect();
    let l = leader(&all).await;
    let follower = all[(l + 1) % 3].endpoint().to_owned();
    let mut client = LogClient::new(&[&follower]);
    client.put(b"via", b"redirect").await.unwrap();
    assert_eq!(
        client
            .get(b"via", ReadConsistency::Linearizable)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"redirect"[..])
    );
    let s = client.status().await.unwrap();
    assert_eq!(s.leader_id, all[l].id());
    client.close().await;
}
