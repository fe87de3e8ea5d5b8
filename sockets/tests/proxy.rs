//! The built-in proxy (libzmq's zmq_proxy and zmq_proxy_steerable), zeroring
//! against zeroring over tcp: a ROUTER/DEALER broker with REQ clients and REP
//! workers, a capture socket, a PULL/PUSH streamer, and the control commands
//! PAUSE, RESUME, STATISTICS and TERMINATE on REP and PAIR control sockets.
//!
//! The proxy runs as a task spawned on the test's runtime thread (the sockets are
//! `!Send`); every await is bounded by `within` so nothing can hang.

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use zeroring_sockets::{
    DealerSocket, Error, Message, PairSocket, ProxySocket, PullSocket, PushSocket, RepSocket,
    ReqSocket, Result, RouterSocket, proxy, proxy_steerable,
};

use common::*;

/// Where a spawned proxy task leaves its result, so tests can check it is still
/// running (`None`) or how it ended.
type Outcome = Rc<RefCell<Option<Result<()>>>>;

/// Spawns `fut` on this runtime thread and records its result in the returned cell.
fn spawn_recorded(fut: impl Future<Output = Result<()>> + 'static) -> Outcome {
    let outcome: Outcome = Rc::new(RefCell::new(None));
    let slot = outcome.clone();
    compio::runtime::spawn(async move {
        let r = fut.await;
        *slot.borrow_mut() = Some(r);
    })
    .detach();
    outcome
}

/// Decodes a STATISTICS reply: 8 frames, each a native-endian u64.
fn stats(m: &Message) -> [u64; 8] {
    assert_eq!(m.len(), 8, "STATISTICS reply has 8 frames: {:?}", show(m));
    let mut out = [0u64; 8];
    for (i, f) in m.iter().enumerate() {
        out[i] = u64::from_ne_bytes(f[..].try_into().expect("8-byte frame"));
    }
    out
}

/// Asserts that no message arrives on `pull` within `ms` milliseconds.
async fn assert_silent(pull: &PullSocket, ms: u64) {
    if let Ok(m) = compio::time::timeout(Duration::from_millis(ms), pull.recv()).await {
        panic!(
            "expected no message within {ms} ms, got {:?}",
            m.map(|m| show(&m))
        );
    }
}

// A ROUTER/DEALER broker: REQ clients -> ROUTER frontend, DEALER backend -> REP
// workers. Every request gets its own reply back through the envelopes, and the
// capture socket sees a copy of every forwarded message (requests and replies).
#[compio::test]
async fn broker_routes_replies_and_captures_everything() {
    let watch = panic_watch();
    let frontend = Rc::new(RouterSocket::new());
    let front_ep = frontend.bind(ANY).await.unwrap().to_string();
    let backend = Rc::new(DealerSocket::new());
    let back_ep = backend.bind(ANY).await.unwrap().to_string();
    let capture_in = PullSocket::new();
    let capture_ep = capture_in.bind(ANY).await.unwrap().to_string();
    let capture = Rc::new(PushSocket::new());
    capture.connect(&capture_ep).await.unwrap();

    let outcome = {
        let (f, b, c) = (frontend.clone(), backend.clone(), capture.clone());
        spawn_recorded(async move { proxy(&*f, &*b, Some(&*c)).await })
    };

    const WORKERS: usize = 2;
    const CLIENTS: usize = 4;
    const REQUESTS: usize = 5;
    for _ in 0..WORKERS {
        let rep = RepSocket::new();
        rep.connect(&back_ep).await.unwrap();
        compio::runtime::spawn(async move {
            while let Ok(req) = rep.recv().await {
                let body = String::from_utf8(req[0].to_vec()).unwrap();
                if rep.send(format!("reply to {body}")).await.is_err() {
                    break;
                }
            }
        })
        .detach();
    }

    let clients: Vec<ReqSocket> = (0..CLIENTS).map(|_| ReqSocket::new()).collect();
    for c in &clients {
        c.connect(&front_ep).await.unwrap();
    }
    let runs = clients.iter().enumerate().map(|(i, c)| async move {
        for n in 0..REQUESTS {
            let body = format!("client {i} request {n}");
            within("client send", c.send(body.as_str())).await.unwrap();
            let reply = within("client recv", c.recv()).await.unwrap();
            assert_msg(&reply, &[format!("reply to {body}").as_bytes()]);
        }
    });
    futures_util::future::join_all(runs).await;

    // Capture: each request as ROUTER received it ([id, "", body]) and each reply
    // as DEALER received it ([id, "", reply]).
    let mut seen = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for _ in 0..2 * CLIENTS * REQUESTS {
        let m = within("capture recv", capture_in.recv()).await.unwrap();
        assert_eq!(m.len(), 3, "captured {:?}", show(&m));
        assert!(m[1].is_empty(), "empty delimiter in {:?}", show(&m));
        ids.insert(m[0].to_vec());
        assert!(seen.insert(String::from_utf8(m[2].to_vec()).unwrap()));
    }
    assert_eq!(ids.len(), CLIENTS, "one routing id per client");
    for i in 0..CLIENTS {
        for n in 0..REQUESTS {
            assert!(seen.contains(&format!("client {i} request {n}")));
            assert!(seen.contains(&format!("reply to client {i} request {n}")));
        }
    }
    assert_silent(&capture_in, 50).await;
    assert!(outcome.borrow().is_none(), "proxy still running");
    watch.assert_none();
}

// PULL frontend -> PUSH backend: a one-way streamer. The proxy never tries to
// receive on the PUSH (that would end it with NotSupported); multipart messages
// arrive whole and in order.
#[compio::test]
async fn streamer_forwards_pull_to_push() {
    let watch = panic_watch();
    let frontend = Rc::new(PullSocket::new());
    let front_ep = frontend.bind(ANY).await.unwrap().to_string();
    let backend = Rc::new(PushSocket::new());
    let back_ep = backend.bind(ANY).await.unwrap().to_string();
    let outcome = {
        let (f, b) = (frontend.clone(), backend.clone());
        spawn_recorded(async move { proxy(&*f, &*b, None::<&PushSocket>).await })
    };

    let producer = PushSocket::new();
    producer.connect(&front_ep).await.unwrap();
    let consumer = PullSocket::new();
    consumer.connect(&back_ep).await.unwrap();

    for i in 0..200u32 {
        let msg: Message = [format!("part-a-{i}"), format!("part-b-{i}")]
            .into_iter()
            .collect();
        within("producer send", producer.send(msg)).await.unwrap();
    }
    for i in 0..200u32 {
        let m = within("consumer recv", consumer.recv()).await.unwrap();
        assert_msg(
            &m,
            &[
                format!("part-a-{i}").as_bytes(),
                format!("part-b-{i}").as_bytes(),
            ],
        );
    }
    assert!(outcome.borrow().is_none(), "proxy still running");
    watch.assert_none();
}

// The proxy ends with the error of the first socket operation that fails: here
// the frontend is closed under it.
#[compio::test]
async fn proxy_returns_the_error_when_a_socket_closes() {
    let watch = panic_watch();
    let frontend = Rc::new(PullSocket::new());
    frontend.bind(ANY).await.unwrap();
    let backend = Rc::new(PushSocket::new());
    backend.bind(ANY).await.unwrap();
    let outcome = {
        let (f, b) = (frontend.clone(), backend.clone());
        spawn_recorded(async move { proxy(&*f, &*b, None::<&PushSocket>).await })
    };
    pause(20).await;
    assert!(outcome.borrow().is_none());
    within("close", frontend.close()).await;
    wait_until("proxy ends", || outcome.borrow().is_some()).await;
    let r = outcome.borrow_mut().take().unwrap();
    assert!(matches!(r, Err(Error::Closed)), "{r:?}");
    watch.assert_none();
}

// PAUSE stops forwarding (the message waits in the sockets), RESUME delivers it,
// STATISTICS counts exactly, TERMINATE makes proxy_steerable return Ok. A REP
// control socket answers every command but STATISTICS with one empty frame.
#[compio::test]
async fn steerable_with_rep_control() {
    let watch = panic_watch();
    let frontend = Rc::new(PullSocket::new());
    let front_ep = frontend.bind(ANY).await.unwrap().to_string();
    let backend = Rc::new(PushSocket::new());
    let back_ep = backend.bind(ANY).await.unwrap().to_string();
    let control = Rc::new(RepSocket::new());
    let control_ep = control.bind(ANY).await.unwrap().to_string();
    let outcome = {
        let (f, b, k) = (frontend.clone(), backend.clone(), control.clone());
        spawn_recorded(async move { proxy_steerable(&*f, &*b, None::<&PushSocket>, &*k).await })
    };

    let producer = PushSocket::new();
    producer.connect(&front_ep).await.unwrap();
    let consumer = PullSocket::new();
    consumer.connect(&back_ep).await.unwrap();
    let steer = ReqSocket::new();
    steer.connect(&control_ep).await.unwrap();
    let command = async |cmd: &str| -> Message {
        within("control send", steer.send(cmd)).await.unwrap();
        within("control recv", steer.recv()).await.unwrap()
    };

    within("send m1", producer.send("m1")).await.unwrap();
    assert_msg(&within("recv m1", consumer.recv()).await.unwrap(), &[b"m1"]);

    assert_msg(&command("PAUSE").await, &[b""]);
    within("send m2", producer.send("m2")).await.unwrap();
    assert_silent(&consumer, 300).await;

    // While paused: 1 message of 2 bytes in on the frontend, out on the backend.
    assert_eq!(
        stats(&command("STATISTICS").await),
        [1, 2, 0, 0, 0, 0, 1, 2]
    );

    assert_msg(&command("RESUME").await, &[b""]);
    assert_msg(&within("recv m2", consumer.recv()).await.unwrap(), &[b"m2"]);

    // A multipart message counts once, with the bytes of all its frames.
    within("send multipart", producer.send(vec!["abc", "defgh"]))
        .await
        .unwrap();
    assert_msg(
        &within("recv multipart", consumer.recv()).await.unwrap(),
        &[b"abc", b"defgh"],
    );
    assert_eq!(
        stats(&command("STATISTICS").await),
        [3, 2 + 2 + 8, 0, 0, 0, 0, 3, 2 + 2 + 8]
    );

    // Unknown commands are ignored; REP still gets its empty reply.
    assert_msg(&command("BOGUS").await, &[b""]);
    assert!(outcome.borrow().is_none(), "proxy still running");

    assert_msg(&command("TERMINATE").await, &[b""]);
    wait_until("proxy returns", || outcome.borrow().is_some()).await;
    assert!(matches!(outcome.borrow_mut().take(), Some(Ok(()))));

    // Terminated: nothing is forwarded any more.
    within("send m3", producer.send("m3")).await.unwrap();
    assert_silent(&consumer, 100).await;
    watch.assert_none();
}

// A PAIR control socket gets no reply to PAUSE/RESUME/TERMINATE or unknown
// commands, only to STATISTICS. Counts cover both directions of a broker.
#[compio::test]
async fn steerable_with_pair_control_counts_both_directions() {
    let watch = panic_watch();
    let frontend = Rc::new(RouterSocket::new());
    let front_ep = frontend.bind(ANY).await.unwrap().to_string();
    let backend = Rc::new(DealerSocket::new());
    let back_ep = backend.bind(ANY).await.unwrap().to_string();
    let control = Rc::new(PairSocket::new());
    let control_ep = control.bind(ANY).await.unwrap().to_string();
    let outcome = {
        let (f, b, k) = (frontend.clone(), backend.clone(), control.clone());
        spawn_recorded(async move { proxy_steerable(&*f, &*b, None::<&PushSocket>, &*k).await })
    };
    let steer = PairSocket::new();
    steer.connect(&control_ep).await.unwrap();

    let client = ReqSocket::new();
    client.set_routing_id("client").unwrap();
    client.connect(&front_ep).await.unwrap();
    let worker = RepSocket::new();
    worker.connect(&back_ep).await.unwrap();

    const ROUNDS: u64 = 10;
    for i in 0..ROUNDS {
        within("client send", client.send(format!("q{i}")))
            .await
            .unwrap();
        let q = within("worker recv", worker.recv()).await.unwrap();
        assert_msg(&q, &[format!("q{i}").as_bytes()]);
        within("worker send", worker.send(format!("a{i}")))
            .await
            .unwrap();
        let a = within("client recv", client.recv()).await.unwrap();
        assert_msg(&a, &[format!("a{i}").as_bytes()]);
    }

    // Neither command below is answered: the first reply is the statistics.
    within("control", steer.send("PAUSE")).await.unwrap();
    within("control", steer.send("NOT-A-COMMAND"))
        .await
        .unwrap();
    within("control", steer.send("RESUME")).await.unwrap();
    within("control", steer.send("STATISTICS")).await.unwrap();
    let s = stats(&within("stats", steer.recv()).await.unwrap());
    // Requests: [id "client", "", "qN"] = 6 + 0 + 2 bytes in on the frontend and
    // out on the backend; replies: [id, "", "aN"] the other way.
    let per_msg = 6 + 2;
    assert_eq!(
        s,
        [
            ROUNDS,
            ROUNDS * per_msg,
            ROUNDS,
            ROUNDS * per_msg,
            ROUNDS,
            ROUNDS * per_msg,
            ROUNDS,
            ROUNDS * per_msg,
        ]
    );

    // Still forwarding after the ignored command.
    within("client send", client.send("again")).await.unwrap();
    assert_msg(
        &within("worker recv", worker.recv()).await.unwrap(),
        &[b"again"],
    );

    within("control", steer.send("TERMINATE")).await.unwrap();
    wait_until("proxy returns", || outcome.borrow().is_some()).await;
    assert!(matches!(outcome.borrow_mut().take(), Some(Ok(()))));
    assert_silent_pair(&steer, 50).await;
    watch.assert_none();
}

async fn assert_silent_pair(pair: &PairSocket, ms: u64) {
    if let Ok(m) = compio::time::timeout(Duration::from_millis(ms), pair.recv()).await {
        panic!(
            "expected no reply within {ms} ms, got {:?}",
            m.map(|m| show(&m))
        );
    }
}

// The trait reports what each type can do, and the impossible operations fail
// with NotSupported instead of hanging.
#[compio::test]
async fn proxy_socket_reports_capabilities() {
    let push = PushSocket::new();
    assert!(!push.can_recv());
    assert!(push.can_send());
    assert!(matches!(
        within("push recv", push.recv_message()).await,
        Err(Error::NotSupported { op: "recv", .. })
    ));
    let pull = PullSocket::new();
    assert!(pull.can_recv());
    assert!(!pull.can_send());
    assert!(matches!(
        within("pull send", pull.send_message("x".into())).await,
        Err(Error::NotSupported { op: "send", .. })
    ));
    assert_eq!(
        ProxySocket::socket_type(&pull),
        zeroring_sockets::SocketType::Pull
    );
    for s in [
        ProxySocket::can_recv(&RouterSocket::new()) && RouterSocket::new().can_send(),
        DealerSocket::new().can_recv() && DealerSocket::new().can_send(),
        PairSocket::new().can_recv() && PairSocket::new().can_send(),
        ReqSocket::new().can_recv() && RepSocket::new().can_send(),
    ] {
        assert!(s);
    }
}
