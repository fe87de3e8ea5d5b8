//! Publish-subscribe against libzmq 4.3: PUB-SUB, XPUB-SUB/XSUB in both roles and
//! both bind directions, prefix filtering, many topics, counted subscriptions, topic
//! sizes, fan-out to many subscribers, fan-in from many publishers, restarts, and
//! the XPUB options (VERBOSE, VERBOSER, WELCOME_MSG, NODROP, MANUAL).
//!
//! Subscriptions are asynchronous: every test waits for them with probes or for the
//! XPUB's subscription report, never with a sleep (see the helpers in `src/lib.rs`).
//! A libzmq SUB also filters on its side, so these tests show that the right
//! messages arrive; `pubsub_wire.rs` shows that a zeroring PUB sends nothing else.

use std::time::{Duration, Instant};

use zeroring::{PubSocket, SubSocket, XpubSocket, XsubSocket};
use zeroring_interop_tests::*;

/// Binds a new libzmq socket on `ep`, retrying while the port is still held by the
/// socket just closed (libzmq releases it asynchronously in its I/O thread).
async fn rebind(ctx: &zmq::Context, kind: zmq::SocketType, ep: &str) -> zmq::Socket {
    let deadline = Instant::now() + WAIT;
    loop {
        let s = zsocket(ctx, kind);
        match s.bind(ep) {
            Ok(()) => return s,
            Err(zmq::Error::EADDRINUSE) if Instant::now() < deadline => {
                compio::time::sleep(Duration::from_millis(10)).await
            }
            Err(e) => panic!("rebind {ep}: {e}"),
        }
    }
}

/// A list of messages, each a list of frames.
type Msgs = Vec<Vec<Vec<u8>>>;

/// What the basic tests publish, and which of it a subscriber to `news.` gets.
fn news() -> (Msgs, Msgs) {
    let sent = vec![
        parts(&["news.fr", "one"]),
        parts(&["sport.f1", "no: other topic"]),
        parts(&["news", "no: shorter than the prefix"]),
        parts(&["news.de", "multi", "part", ""]),
        parts(&["News.it", "no: case matters"]),
        parts(&["news."]),
        parts(&["xnews.", "no: prefix, not substring"]),
        parts(&["news.end", "end"]),
    ];
    let want = vec![
        sent[0].clone(),
        sent[3].clone(),
        sent[5].clone(),
        sent[7].clone(),
    ];
    (sent, want)
}

both_dirs! {
    zeroring_pub_libzmq_sub => pub_sub;
    libzmq_pub_zeroring_sub => zpub_sub;
    zeroring_xpub_libzmq_sub => xpub_zsub;
    zeroring_xpub_libzmq_xsub => xpub_zxsub;
    libzmq_xpub_zeroring_sub => zxpub_sub;
    libzmq_xpub_zeroring_xsub => zxpub_xsub;
    zeroring_pub_libzmq_sub_100_topics => many_topics_zsub;
    libzmq_pub_zeroring_sub_100_topics => many_topics_sub;
    libzmq_sub_restarted_resubscribes => zsub_restart;
    zeroring_sub_resubscribes_to_restarted_libzmq_pub => zpub_restart;
}

async fn pub_sub(dir: Dir) {
    let ctx = zmq::Context::new();
    let sub = zsocket(&ctx, zmq::SUB);
    sub.set_subscribe(b"news.").unwrap();
    let publisher = PubSocket::new();
    link(&publisher, &sub, dir).await;
    sync_zsubs(&publisher, b"news.", &[&sub]).await;
    let (sent, want) = news();
    send_all(&publisher, sent).await;
    for w in want {
        assert_eq!(zrecv_data(&sub, "libzmq SUB").await, w);
    }
}

async fn zpub_sub(dir: Dir) {
    let ctx = zmq::Context::new();
    let publisher = zsocket(&ctx, zmq::PUB);
    let sub = SubSocket::new();
    sub.subscribe("news.");
    link(&sub, &publisher, dir).await;
    sync_zpub(&publisher, b"news.", &sub).await;
    let (sent, want) = news();
    for m in &sent {
        zsend_now(&publisher, m);
    }
    for w in want {
        assert_eq!(recv_data(&sub).await, w);
    }
}

async fn xpub_zsub(dir: Dir) {
    let ctx = zmq::Context::new();
    let sub = zsocket(&ctx, zmq::SUB);
    let xpub = XpubSocket::new();
    link(&xpub, &sub, dir).await;
    sub.set_subscribe(b"news.").unwrap();
    // The report comes after the subscription is in effect: no probes needed.
    assert_eq!(
        xpub_report_pumping(&xpub, &sub).await,
        parts(&[b"\x01news."])
    );
    let (sent, want) = news();
    send_all(&xpub, sent).await;
    for w in want {
        assert_eq!(zrecv_async(&sub, "libzmq SUB").await, w);
    }
    sub.set_unsubscribe(b"news.").unwrap();
    assert_eq!(
        frames(&ok("XPUB recv", xpub.recv()).await),
        parts(&[b"\x00news."])
    );
}

async fn xpub_zxsub(dir: Dir) {
    let ctx = zmq::Context::new();
    let xsub = zsocket(&ctx, zmq::XSUB);
    let xpub = XpubSocket::new();
    link(&xpub, &xsub, dir).await;
    zsend(&xsub, &[b"\x01news."]);
    assert_eq!(
        xpub_report_pumping(&xpub, &xsub).await,
        parts(&[b"\x01news."])
    );
    let (sent, want) = news();
    send_all(&xpub, sent).await;
    for w in want {
        assert_eq!(zrecv_async(&xsub, "libzmq XSUB").await, w);
    }
    // Any other message an XSUB sends goes upstream to the XPUB's application.
    zsend(&xsub, &[&b"hello upstream"[..]]);
    assert_eq!(
        frames(&ok("XPUB recv", xpub.recv()).await),
        parts(&["hello upstream"])
    );
    zsend(&xsub, &[b"\x00news."]);
    assert_eq!(
        frames(&ok("XPUB recv", xpub.recv()).await),
        parts(&[b"\x00news."])
    );
}

async fn zxpub_sub(dir: Dir) {
    let ctx = zmq::Context::new();
    let xpub = zsocket(&ctx, zmq::XPUB);
    let sub = SubSocket::new();
    link(&sub, &xpub, dir).await;
    sub.subscribe("news.");
    assert_eq!(
        zrecv_async(&xpub, "libzmq XPUB report").await,
        parts(&[b"\x01news."])
    );
    let (sent, want) = news();
    for m in &sent {
        zsend_now(&xpub, m);
    }
    for w in want {
        assert_eq!(frames(&ok("SUB recv", sub.recv()).await), w);
    }
    sub.unsubscribe("news.");
    assert_eq!(
        zrecv_async(&xpub, "libzmq XPUB report").await,
        parts(&[b"\x00news."])
    );
}

async fn zxpub_xsub(dir: Dir) {
    let ctx = zmq::Context::new();
    let xpub = zsocket(&ctx, zmq::XPUB);
    let xsub = XsubSocket::new();
    link(&xsub, &xpub, dir).await;
    ok("XSUB send", xsub.send(&b"\x01news."[..])).await;
    assert_eq!(
        zrecv_async(&xpub, "libzmq XPUB report").await,
        parts(&[b"\x01news."])
    );
    let (sent, want) = news();
    for m in &sent {
        zsend_now(&xpub, m);
    }
    // libzmq's XPUB filters: only the matching messages arrive at the XSUB.
    for w in want {
        assert_eq!(frames(&ok("XSUB recv", xsub.recv()).await), w);
    }
    ok("XSUB send", xsub.send("hello upstream")).await;
    assert_eq!(
        zrecv_async(&xpub, "libzmq XPUB upstream").await,
        parts(&["hello upstream"])
    );
    ok("XSUB send", xsub.send(&b"\x00news."[..])).await;
    assert_eq!(
        zrecv_async(&xpub, "libzmq XPUB report").await,
        parts(&[b"\x00news."])
    );
}

const TOPICS: usize = 100;

fn topic(i: usize) -> Vec<u8> {
    format!("topic-{i:03}/").into_bytes()
}

/// Round 1: every one of the 100 topics, plus messages on topics nobody wants.
/// Round 2 (after unsubscribing the even topics and one of two `counted`
/// subscriptions): the odd topics and `counted`.
fn many_topics_rounds() -> [(Msgs, Msgs); 2] {
    let mut rounds: [(Vec<_>, Vec<_>); 2] = Default::default();
    for (round, (sent, want)) in rounds.iter_mut().enumerate() {
        for i in 0..TOPICS {
            let m = vec![topic(i), format!("round {round} #{i}").into_bytes()];
            sent.push(m.clone());
            if round == 0 || i % 2 == 1 {
                want.push(m);
            }
            // Not subscribed: a different topic, and the topic without its slash.
            sent.push(vec![format!("other-{i:03}/").into_bytes(), b"no".to_vec()]);
            sent.push(vec![format!("topic-{i:03}").into_bytes(), b"no".to_vec()]);
        }
        let c = parts(&[format!("counted.{round}"), "still subscribed".into()]);
        sent.push(c.clone());
        want.push(c);
        let end = parts(&["~end", "end"]);
        sent.push(end.clone());
        want.push(end);
    }
    rounds
}

async fn many_topics_zsub(dir: Dir) {
    let ctx = zmq::Context::new();
    let sub = zsocket(&ctx, zmq::SUB);
    let publisher = PubSocket::new();
    sub.set_subscribe(b"~sync0").unwrap();
    link(&publisher, &sub, dir).await;
    // Connected: from here on every subscription goes out at once, in order.
    sync_zsubs(&publisher, b"~sync0", &[&sub]).await;
    for i in 0..TOPICS {
        sub.set_subscribe(&topic(i)).unwrap();
    }
    for t in [&b"counted"[..], b"counted", b"~end", b"~sync1"] {
        sub.set_subscribe(t).unwrap();
    }
    sync_zsubs(&publisher, b"~sync1", &[&sub]).await;
    let [(sent0, want0), (sent1, want1)] = many_topics_rounds();
    send_all(&publisher, sent0).await;
    for (i, w) in want0.into_iter().enumerate() {
        assert_eq!(zrecv_data(&sub, "libzmq SUB").await, w, "round 0, #{i}");
    }
    for i in (0..TOPICS).step_by(2) {
        sub.set_unsubscribe(&topic(i)).unwrap();
    }
    sub.set_unsubscribe(b"counted").unwrap();
    sub.set_subscribe(b"~sync2").unwrap();
    sync_zsubs(&publisher, b"~sync2", &[&sub]).await;
    send_all(&publisher, sent1).await;
    for (i, w) in want1.into_iter().enumerate() {
        assert_eq!(zrecv_data(&sub, "libzmq SUB").await, w, "round 1, #{i}");
    }
}

async fn many_topics_sub(dir: Dir) {
    let ctx = zmq::Context::new();
    let publisher = zsocket(&ctx, zmq::PUB);
    let sub = SubSocket::new();
    sub.subscribe("~sync0");
    link(&sub, &publisher, dir).await;
    sync_zpub(&publisher, b"~sync0", &sub).await;
    for i in 0..TOPICS {
        sub.subscribe(topic(i));
    }
    for t in ["counted", "counted", "~end", "~sync1"] {
        sub.subscribe(t);
    }
    sync_zpub(&publisher, b"~sync1", &sub).await;
    let [(sent0, want0), (sent1, want1)] = many_topics_rounds();
    for m in &sent0 {
        zsend_now(&publisher, m);
    }
    for (i, w) in want0.into_iter().enumerate() {
        assert_eq!(recv_data(&sub).await, w, "round 0, #{i}");
    }
    for i in (0..TOPICS).step_by(2) {
        sub.unsubscribe(topic(i));
    }
    sub.unsubscribe("counted");
    sub.subscribe("~sync2");
    sync_zpub(&publisher, b"~sync2", &sub).await;
    for m in &sent1 {
        zsend_now(&publisher, m);
    }
    for (i, w) in want1.into_iter().enumerate() {
        assert_eq!(recv_data(&sub).await, w, "round 1, #{i}");
    }
}

const SIZES: [usize; 5] = [0, 1, 255, 256, 1000];

/// Topic sizes a libzmq 4.3.4 SUB can subscribe to over the wire. It cannot send
/// a subscription to a topic of 246..=255 bytes to a ZMTP 3.1 peer (255 to a 3.0
/// peer): its encoder writes an 8-byte size without the LONG flag, a malformed
/// frame (see `pubsub_wire.rs`), so 245 stands in for 255 in that direction.
const LIBZMQ_SUB_SIZES: [usize; 5] = [0, 1, 245, 256, 1000];

/// For a topic of `n` bytes: what is published, and what its subscriber gets.
fn sized(n: usize) -> (Vec<u8>, Msgs, Msgs) {
    let t = body(n, n as u8);
    let mut longer = t.clone();
    longer.extend_from_slice(b"+suffix");
    let mut sent = vec![
        vec![t.clone(), b"exact".to_vec()],
        vec![longer, b"longer".to_vec()],
    ];
    let mut want = sent.clone();
    if n == 0 {
        // The empty subscription matches everything, an empty first frame too.
        for m in [parts(&["anything", "any"]), parts(&["", "empty topic"])] {
            sent.push(m.clone());
            want.push(m);
        }
    } else {
        let mut different = t.clone();
        *different.last_mut().unwrap() ^= 0xFF;
        sent.push(vec![t[..n - 1].to_vec(), b"shorter".to_vec()]);
        sent.push(vec![different, b"different".to_vec()]);
    }
    let end = vec![t.clone(), b"end".to_vec()];
    sent.push(end.clone());
    want.push(end);
    (t, sent, want)
}

#[compio::test]
async fn topic_sizes_zeroring_pub_libzmq_sub() {
    let ctx = zmq::Context::new();
    for (k, n) in LIBZMQ_SUB_SIZES.into_iter().enumerate() {
        let dir = [Dir::ZeroringBinds, Dir::LibzmqBinds][k % 2];
        let (t, sent, want) = sized(n);
        let sub = zsocket(&ctx, zmq::SUB);
        sub.set_subscribe(&t).unwrap();
        let publisher = PubSocket::new();
        link(&publisher, &sub, dir).await;
        sync_zsubs(&publisher, &t, &[&sub]).await;
        send_all(&publisher, sent).await;
        for w in want {
            assert_eq!(
                zrecv_data(&sub, "libzmq SUB").await,
                w,
                "topic of {n} bytes"
            );
        }
    }
}

#[compio::test]
async fn topic_sizes_libzmq_pub_zeroring_sub() {
    let ctx = zmq::Context::new();
    for (k, n) in SIZES.into_iter().enumerate() {
        let dir = [Dir::ZeroringBinds, Dir::LibzmqBinds][k % 2];
        let (t, sent, want) = sized(n);
        let publisher = zsocket(&ctx, zmq::PUB);
        let sub = SubSocket::new();
        sub.subscribe(&t);
        link(&sub, &publisher, dir).await;
        sync_zpub(&publisher, &t, &sub).await;
        for m in &sent {
            zsend_now(&publisher, m);
        }
        for w in want {
            assert_eq!(recv_data(&sub).await, w, "topic of {n} bytes");
        }
    }
}

/// 20 libzmq SUBs on one zeroring PUB, each with its own topic, the even ones also
/// on a shared topic.
#[compio::test]
async fn twenty_libzmq_subs_on_one_zeroring_pub() {
    const SUBS: usize = 20;
    let ctx = zmq::Context::new();
    let publisher = PubSocket::new();
    let ep = ok("bind", publisher.bind("tcp://127.0.0.1:0"))
        .await
        .to_string();
    let subs: Vec<zmq::Socket> = (0..SUBS)
        .map(|_| {
            let s = zsocket(&ctx, zmq::SUB);
            s.set_subscribe(b"~sync0").unwrap();
            s.connect(&ep).unwrap();
            s
        })
        .collect();
    let all: Vec<&zmq::Socket> = subs.iter().collect();
    sync_zsubs(&publisher, b"~sync0", &all).await;
    wait_peers(&publisher, SUBS).await;
    for (i, s) in subs.iter().enumerate() {
        s.set_subscribe(format!("s{i:02}.").as_bytes()).unwrap();
        if i % 2 == 0 {
            s.set_subscribe(b"even.").unwrap();
        }
        s.set_subscribe(b"~sync1").unwrap();
    }
    sync_zsubs(&publisher, b"~sync1", &all).await;
    for i in 0..SUBS {
        ok(
            "PUB send",
            publisher.send(msg(&[format!("s{i:02}.x"), format!("for {i}")])),
        )
        .await;
        ok("PUB send", publisher.send(msg(&["nobody", "no"]))).await;
    }
    for k in 0..3 {
        ok(
            "PUB send",
            publisher.send(msg(&["even.".to_string(), format!("{k}")])),
        )
        .await;
    }
    ok("PUB send", publisher.send(msg(&["~sync1", "end"]))).await;
    for (i, s) in subs.iter().enumerate() {
        let mut want = vec![parts(&[format!("s{i:02}.x"), format!("for {i}")])];
        if i % 2 == 0 {
            want.extend((0..3).map(|k| parts(&["even.".to_string(), format!("{k}")])));
        }
        want.push(parts(&["~sync1", "end"]));
        for w in want {
            assert_eq!(zrecv_data(s, "libzmq SUB").await, w, "subscriber {i}");
        }
    }
}

/// One zeroring SUB connected to five libzmq PUBs gets every matching message of
/// each, each publisher's in order.
#[compio::test]
async fn zeroring_sub_on_several_libzmq_pubs() {
    const PUBS: usize = 5;
    const EACH: usize = 20;
    let ctx = zmq::Context::new();
    let sub = SubSocket::new();
    sub.subscribe("x");
    let pubs: Vec<zmq::Socket> = (0..PUBS).map(|_| zsocket(&ctx, zmq::PUB)).collect();
    for p in &pubs {
        let ep = zbind(p, "tcp://127.0.0.1:*");
        ok("connect", sub.connect(&ep)).await;
    }
    for p in &pubs {
        sync_zpub(p, b"x", &sub).await;
    }
    for i in 0..EACH {
        for (k, p) in pubs.iter().enumerate() {
            zsend_now(p, &[format!("x{k}"), format!("{i}")]);
            zsend_now(p, &[format!("y{k}"), format!("{i}")]);
        }
    }
    let mut next = [0usize; PUBS];
    for _ in 0..PUBS * EACH {
        let m = recv_data(&sub).await;
        let k: usize = std::str::from_utf8(&m[0]).unwrap()[1..].parse().unwrap();
        assert_eq!(m[0][0], b'x', "only subscribed topics: {m:?}");
        assert_eq!(
            m[1],
            next[k].to_string().into_bytes(),
            "publisher {k} in order"
        );
        next[k] += 1;
    }
    assert_eq!(next, [EACH; PUBS]);
}

/// A libzmq SUB is closed and a new one takes its place (connecting again, or
/// binding the same port again): the zeroring PUB drops the old subscriber's
/// subscriptions and serves the new one's.
async fn zsub_restart(dir: Dir) {
    let ctx = zmq::Context::new();
    let publisher = PubSocket::new();
    let mut ep = String::new();
    for generation in 0..3 {
        let sub = match (dir, generation) {
            (Dir::ZeroringBinds, 0) => {
                ep = ok("bind", publisher.bind("tcp://127.0.0.1:0"))
                    .await
                    .to_string();
                zsocket(&ctx, zmq::SUB)
            }
            (Dir::LibzmqBinds, 0) => {
                let s = zsocket(&ctx, zmq::SUB);
                ep = zbind(&s, "tcp://127.0.0.1:*");
                ok("connect", publisher.connect(&ep)).await;
                s
            }
            (Dir::ZeroringBinds, _) => zsocket(&ctx, zmq::SUB),
            (Dir::LibzmqBinds, _) => rebind(&ctx, zmq::SUB, &ep).await,
        };
        let t = format!("gen{generation}");
        sub.set_subscribe(t.as_bytes()).unwrap();
        if dir == Dir::ZeroringBinds {
            sub.connect(&ep).unwrap();
        }
        sync_zsubs(&publisher, t.as_bytes(), &[&sub]).await;
        for i in 0..10 {
            ok(
                "PUB send",
                publisher.send(msg(&[t.clone(), format!("{i}")])),
            )
            .await;
        }
        for i in 0..10 {
            assert_eq!(
                zrecv_data(&sub, "libzmq SUB").await,
                parts(&[t.clone(), format!("{i}")])
            );
        }
        sub.set_linger(0).unwrap();
        drop(sub);
        wait_peers(&publisher, 0).await;
    }
}

/// The libzmq PUB a zeroring SUB is connected to is closed and re-bound on the same
/// port (or, with zeroring bound, a new libzmq PUB connects): the zeroring SUB
/// sends its subscriptions to the new connection and receives again.
async fn zpub_restart(dir: Dir) {
    let ctx = zmq::Context::new();
    let sub = SubSocket::new();
    sub.subscribe("a");
    sub.subscribe("b");
    let mut ep = String::new();
    for generation in 0..3 {
        let publisher = match (dir, generation) {
            (Dir::ZeroringBinds, 0) => {
                ep = ok("bind", sub.bind("tcp://127.0.0.1:0")).await.to_string();
                zsocket(&ctx, zmq::PUB)
            }
            (Dir::LibzmqBinds, 0) => {
                let p = zsocket(&ctx, zmq::PUB);
                ep = zbind(&p, "tcp://127.0.0.1:*");
                ok("connect", sub.connect(&ep)).await;
                p
            }
            (Dir::ZeroringBinds, _) => zsocket(&ctx, zmq::PUB),
            (Dir::LibzmqBinds, _) => rebind(&ctx, zmq::PUB, &ep).await,
        };
        if dir == Dir::ZeroringBinds {
            publisher.connect(&ep).unwrap();
        }
        sync_zpub(&publisher, b"a", &sub).await;
        sync_zpub(&publisher, b"b", &sub).await;
        for i in 0..10 {
            zsend_now(&publisher, &[format!("a{generation}"), format!("{i}")]);
            zsend_now(&publisher, &[format!("c{generation}"), format!("{i}")]);
            zsend_now(&publisher, &[format!("b{generation}"), format!("{i}")]);
        }
        for i in 0..10 {
            for t in ["a", "b"] {
                assert_eq!(
                    recv_data(&sub).await,
                    parts(&[format!("{t}{generation}"), format!("{i}")])
                );
            }
        }
        publisher.set_linger(0).unwrap();
        drop(publisher);
        wait_peers(&sub, 0).await;
    }
}

/// The XPUB's next report, calling into the libzmq subscriber `l` meanwhile: a
/// *bound* libzmq SUB/XSUB attaches an accepted connection (and sends it its
/// subscriptions) only when its application next calls into the socket (recv,
/// poll, ZMQ_EVENTS), because libzmq attaches the pipe in the socket's own thread.
async fn xpub_report_pumping(xpub: &XpubSocket, l: &zmq::Socket) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(r) = compio::time::timeout(Duration::from_millis(5), xpub.recv()).await {
            return frames(&r.expect("XPUB recv"));
        }
        assert!(Instant::now() < deadline, "XPUB: no report within {WAIT:?}");
        l.get_events().expect("ZMQ_EVENTS");
    }
}

async fn xpub_report(xpub: &XpubSocket) -> Vec<Vec<u8>> {
    frames(&ok("XPUB recv", xpub.recv()).await)
}

async fn xpub_with_libzmq_subs(verbose: bool) {
    let ctx = zmq::Context::new();
    let xpub = XpubSocket::new();
    xpub.set_xpub_verbose(verbose);
    let ep = ok("bind", xpub.bind("tcp://127.0.0.1:0")).await.to_string();
    let a = zsocket(&ctx, zmq::SUB);
    let b = zsocket(&ctx, zmq::SUB);
    a.connect(&ep).unwrap();
    b.connect(&ep).unwrap();
    a.set_subscribe(b"t").unwrap();
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01t"]));
    b.set_subscribe(b"t").unwrap();
    b.set_subscribe(b"u").unwrap();
    if verbose {
        // The second peer's duplicate is reported too.
        assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01t"]));
    }
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01u"]));
    ok("XPUB send", xpub.send(msg(&["t", "both"]))).await;
    assert_eq!(zrecv_async(&a, "SUB a").await, parts(&["t", "both"]));
    assert_eq!(zrecv_async(&b, "SUB b").await, parts(&["t", "both"]));
}

#[compio::test]
async fn xpub_reports_a_topic_once_without_verbose() {
    xpub_with_libzmq_subs(false).await;
}

#[compio::test]
async fn xpub_verbose_reports_duplicate_subscribes() {
    xpub_with_libzmq_subs(true).await;
}

async fn xpub_cancels(verboser: bool) {
    let ctx = zmq::Context::new();
    let xpub = XpubSocket::new();
    xpub.set_xpub_verboser(verboser);
    let ep = ok("bind", xpub.bind("tcp://127.0.0.1:0")).await.to_string();
    let a = zsocket(&ctx, zmq::SUB);
    let b = zsocket(&ctx, zmq::SUB);
    a.connect(&ep).unwrap();
    b.connect(&ep).unwrap();
    a.set_subscribe(b"t").unwrap();
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01t"]));
    b.set_subscribe(b"t").unwrap();
    b.set_subscribe(b"m").unwrap();
    if verboser {
        assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01t"]));
    }
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01m"]));
    a.set_unsubscribe(b"t").unwrap();
    a.set_subscribe(b"n").unwrap();
    if verboser {
        // Not the last subscriber of `t`, reported all the same.
        assert_eq!(xpub_report(&xpub).await, parts(&[b"\x00t"]));
    }
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01n"]));
    b.set_unsubscribe(b"t").unwrap();
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x00t"]));
}

#[compio::test]
async fn xpub_reports_only_the_last_cancel_without_verboser() {
    xpub_cancels(false).await;
}

#[compio::test]
async fn xpub_verboser_reports_every_cancel() {
    xpub_cancels(true).await;
}

/// XPUB_WELCOME_MSG reaches each libzmq SUB subscribed to it as its first message.
#[compio::test]
async fn xpub_welcome_message_reaches_libzmq_subs() {
    let ctx = zmq::Context::new();
    for dir in [Dir::ZeroringBinds, Dir::LibzmqBinds] {
        let xpub = XpubSocket::new();
        xpub.set_xpub_welcome_msg(Some(&b"WELCOME"[..]));
        let sub = zsocket(&ctx, zmq::SUB);
        sub.set_subscribe(b"WELCOME").unwrap();
        link(&xpub, &sub, dir).await;
        assert_eq!(zrecv_async(&sub, "welcome").await, parts(&["WELCOME"]));
        assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01WELCOME"]));
        ok("XPUB send", xpub.send("WELCOME back")).await;
        assert_eq!(zrecv_async(&sub, "SUB").await, parts(&["WELCOME back"]));
    }
}

/// XPUB_NODROP with SNDTIMEO 0: once a libzmq SUB that does not read is full,
/// send fails with `Error::Timeout` instead of dropping, and every message that
/// was accepted arrives, in order, without a gap.
#[compio::test]
async fn xpub_nodrop_times_out_instead_of_dropping() {
    const MAX: usize = 2_000;
    let ctx = zmq::Context::new();
    let xpub = XpubSocket::new();
    xpub.set_xpub_nodrop(true);
    xpub.set_sndhwm(Some(1)).unwrap();
    xpub.set_sndtimeo(Some(Duration::ZERO));
    let sub = zsocket(&ctx, zmq::SUB);
    sub.set_rcvhwm(1).unwrap();
    sub.set_rcvbuf(4096).unwrap();
    link(&xpub, &sub, Dir::ZeroringBinds).await;
    sub.set_subscribe(b"").unwrap();
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01"]));
    let big = body(64 * 1024, 3);
    let mut accepted = 0;
    loop {
        assert!(accepted < MAX, "{MAX} sends never hit SNDHWM");
        match xpub
            .send(msg(&[format!("{accepted:06}").into_bytes(), big.clone()]))
            .await
        {
            Ok(()) => accepted += 1,
            Err(zeroring::Error::Timeout(_)) => break,
            Err(e) => panic!("XPUB send: {e:?}"),
        }
        // Let the writer move what it can into the kernel.
        compio::time::sleep(Duration::from_micros(100)).await;
    }
    assert!(accepted > 0);
    for i in 0..accepted {
        let m = zrecv_async(&sub, "libzmq SUB draining").await;
        assert_eq!(m[0], format!("{i:06}").into_bytes(), "no message dropped");
    }
    // Room again: the next message goes out and follows without a gap.
    let deadline = Instant::now() + WAIT;
    loop {
        match xpub
            .send(msg(&[format!("{accepted:06}").into_bytes(), big.clone()]))
            .await
        {
            Ok(()) => break,
            Err(zeroring::Error::Timeout(_)) if Instant::now() < deadline => {
                compio::time::sleep(Duration::from_millis(1)).await
            }
            Err(e) => panic!("XPUB send after draining: {e:?}"),
        }
    }
    let m = zrecv_async(&sub, "libzmq SUB").await;
    assert_eq!(m[0], format!("{accepted:06}").into_bytes());
}

/// XPUB_MANUAL: a libzmq SUB's subscription is reported but not applied until the
/// application calls `subscribe`, which applies it to that subscriber only.
#[compio::test]
async fn xpub_manual_applies_subscriptions_on_request() {
    let ctx = zmq::Context::new();
    let xpub = XpubSocket::new();
    xpub.set_xpub_manual(true);
    let ep = ok("bind", xpub.bind("tcp://127.0.0.1:0")).await.to_string();
    let sub = zsocket(&ctx, zmq::SUB);
    sub.connect(&ep).unwrap();
    sub.set_subscribe(b"m").unwrap();
    sub.set_subscribe(b"z").unwrap();
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01m"]));
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x01z"]));
    // Reported, not applied: this one is not sent (the SUB, subscribed to `m` on
    // its side, would receive it first).
    ok("XPUB send", xpub.send(msg(&["m", "before"]))).await;
    // The application applies `z` and, instead of `m`, the longer `mm`.
    xpub.subscribe("z");
    xpub.subscribe("mm");
    ok("XPUB send", xpub.send(msg(&["m", "still not"]))).await;
    ok("XPUB send", xpub.send(msg(&["mm", "after"]))).await;
    assert_eq!(zrecv_async(&sub, "mm after").await, parts(&["mm", "after"]));
    xpub.subscribe("m");
    ok("XPUB send", xpub.send(msg(&["m", "now"]))).await;
    assert_eq!(zrecv_async(&sub, "m now").await, parts(&["m", "now"]));
    // A cancel is reported too; the application's unsubscribe takes `m` away (the
    // SUB, still subscribed to `m` on its side, would receive "gone" if it came).
    sub.set_unsubscribe(b"z").unwrap();
    assert_eq!(xpub_report(&xpub).await, parts(&[b"\x00z"]));
    xpub.unsubscribe("m");
    ok("XPUB send", xpub.send(msg(&["m", "gone"]))).await;
    ok("XPUB send", xpub.send(msg(&["mm", "end"]))).await;
    assert_eq!(zrecv_async(&sub, "mm end").await, parts(&["mm", "end"]));
}

/// libzmq's own XSUB/XPUB forwarder (`zmq_proxy_steerable` on a std thread) between
/// a zeroring PUB and a zeroring SUB: subscriptions travel up through it, matching
/// messages down.
#[compio::test]
async fn libzmq_proxy_between_zeroring_pub_and_sub() {
    let ctx = zmq::Context::new();
    let front = zsocket(&ctx, zmq::XSUB);
    let back = zsocket(&ctx, zmq::XPUB);
    let front_ep = zbind(&front, "tcp://127.0.0.1:*");
    let back_ep = zbind(&back, "tcp://127.0.0.1:*");
    let control = zsocket(&ctx, zmq::PAIR);
    control.bind("inproc://pubsub-proxy-control").unwrap();
    let ctx2 = ctx.clone();
    let proxy = spawn_peer("libzmq XSUB/XPUB proxy", move || {
        let (mut front, mut back) = (front, back);
        let mut ctl = zsocket(&ctx2, zmq::PAIR);
        ctl.connect("inproc://pubsub-proxy-control").unwrap();
        zmq::proxy_steerable(&mut front, &mut back, &mut ctl).expect("zmq_proxy_steerable");
    });
    let publisher = PubSocket::new();
    let sub = SubSocket::new();
    ok("PUB connect", publisher.connect(&front_ep)).await;
    ok("SUB connect", sub.connect(&back_ep)).await;
    sub.subscribe("p.");
    sync_zeroring(&publisher, b"p.", &sub).await;
    let (sent, _) = news();
    let sent: Vec<_> = sent
        .into_iter()
        .map(|mut m| {
            m[0].splice(0..0, b"p.".iter().copied());
            m
        })
        .chain([parts(&["q.", "no"]), parts(&["p.end", "end"])])
        .collect();
    send_all(&publisher, sent.clone()).await;
    let want: Vec<_> = sent
        .into_iter()
        .filter(|m| m[0].starts_with(b"p."))
        .collect();
    for w in want {
        assert_eq!(recv_data(&sub).await, w);
    }
    zsend(&control, &["TERMINATE"]);
    proxy.join().await;
}

/// zeroring's XSUB/XPUB proxy (spawned on the compio runtime) between a libzmq PUB
/// and libzmq SUBs.
#[compio::test]
async fn zeroring_proxy_between_libzmq_pub_and_subs() {
    let xsub = XsubSocket::new();
    let xpub = XpubSocket::new();
    let front_ep = ok("bind", xsub.bind("tcp://127.0.0.1:0")).await.to_string();
    let back_ep = ok("bind", xpub.bind("tcp://127.0.0.1:0")).await.to_string();
    let proxy =
        compio::runtime::spawn(
            async move { zeroring::proxy(&xsub, &xpub, None::<&PubSocket>).await },
        );
    let ctx = zmq::Context::new();
    let publisher = zsocket(&ctx, zmq::PUB);
    publisher.connect(&front_ep).unwrap();
    let subs: Vec<zmq::Socket> = ["a.", "b."]
        .into_iter()
        .map(|t| {
            let s = zsocket(&ctx, zmq::SUB);
            s.set_subscribe(t.as_bytes()).unwrap();
            s.connect(&back_ep).unwrap();
            s
        })
        .collect();
    // Probe both topics through the proxy until each SUB has seen one.
    let deadline = Instant::now() + WAIT;
    let mut synced = [false; 2];
    while synced != [true, true] {
        assert!(
            Instant::now() < deadline,
            "probes never crossed the proxy: {synced:?}"
        );
        zsend_now(&publisher, &probe(b"a."));
        zsend_now(&publisher, &probe(b"b."));
        compio::time::sleep(Duration::from_millis(2)).await;
        for (s, done) in subs.iter().zip(synced.iter_mut()) {
            while let Some(m) = ztry_recv(s) {
                assert!(is_probe(&m), "unexpected {m:?}");
                *done = true;
            }
        }
    }
    for i in 0..20 {
        zsend_now(&publisher, &[format!("a.{i}"), "x".into(), "y".into()]);
        zsend_now(&publisher, &[format!("b.{i}")]);
        zsend_now(&publisher, &[format!("c.{i}")]);
    }
    for i in 0..20 {
        assert_eq!(
            zrecv_data(&subs[0], "SUB a.").await,
            parts(&[format!("a.{i}"), "x".into(), "y".into()])
        );
        assert_eq!(
            zrecv_data(&subs[1], "SUB b.").await,
            parts(&[format!("b.{i}")])
        );
    }
    drop(proxy);
}
