//! `inproc://` between sockets of one context (or of the process's default
//! namespace): bind before or after connect, every pattern, HWMs on both sides,
//! unbind/disconnect/close, names that do not leak between contexts, thread-safe
//! handles across threads, and a native socket reaching a handle.

use std::time::Duration;

use zeroring_sockets::{
    Context, DealerSocket, Error, PairSocket, PubSocket, PullSocket, PushSocket, RepSocket,
    ReqSocket, RouterSocket, SocketEvent, SocketType, SubSocket, XpubSocket,
};

const WAIT: Duration = Duration::from_secs(10);

/// A name no other test uses (native sockets share the process's namespace).
fn name(tag: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("inproc://{tag}-{}", N.fetch_add(1, Ordering::Relaxed))
}

fn rt() -> compio::runtime::Runtime {
    compio::runtime::Runtime::new().unwrap()
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    match futures_util::future::select(std::pin::pin!(f), std::pin::pin!(compio::time::sleep(WAIT)))
        .await
    {
        futures_util::future::Either::Left((v, _)) => v,
        futures_util::future::Either::Right(_) => panic!("timed out"),
    }
}

#[test]
fn push_pull_bind_before_connect() {
    rt().block_on(async {
        let ep = name("bbc");
        let pull = PullSocket::new();
        let bound = pull.bind(&ep).await.unwrap();
        assert_eq!(bound.to_string(), ep);
        let push = PushSocket::new();
        push.connect(&ep).await.unwrap();
        for i in 0..1000u32 {
            push.send(i.to_be_bytes().to_vec()).await.unwrap();
        }
        for i in 0..1000u32 {
            let m = within(pull.recv()).await.unwrap();
            assert_eq!(m[0], i.to_be_bytes()[..]);
        }
    });
}

#[test]
fn connect_before_bind_queues_until_the_bind() {
    rt().block_on(async {
        let ep = name("cbb");
        let push = PushSocket::new();
        push.connect(&ep).await.unwrap();
        // libzmq 4.x: the pipe exists from connect(), so sends queue.
        for i in 0..10u8 {
            push.send(vec![i]).await.unwrap();
        }
        let pull = PullSocket::new();
        pull.bind(&ep).await.unwrap();
        for i in 0..10u8 {
            assert_eq!(within(pull.recv()).await.unwrap()[0], [i][..]);
        }
    });
}

#[test]
fn req_rep_and_multipart_envelopes() {
    rt().block_on(async {
        let ep = name("reqrep");
        let rep = RepSocket::new();
        rep.bind(&ep).await.unwrap();
        let req = ReqSocket::new();
        req.connect(&ep).await.unwrap();
        for i in 0..50 {
            req.send(vec![format!("q{i}").into_bytes(), b"second".to_vec()])
                .await
                .unwrap();
            let q = within(rep.recv()).await.unwrap();
            assert_eq!(q.len(), 2);
            assert_eq!(q[0], format!("q{i}").as_bytes());
            rep.send(format!("r{i}")).await.unwrap();
            assert_eq!(
                within(req.recv()).await.unwrap()[0],
                format!("r{i}").as_bytes()
            );
        }
    });
}

#[test]
fn router_sees_the_connecters_routing_id() {
    rt().block_on(async {
        let ep = name("router");
        let router = RouterSocket::new();
        router.bind(&ep).await.unwrap();
        let dealer = DealerSocket::new();
        dealer.set_routing_id("dealer-1").unwrap();
        dealer.connect(&ep).await.unwrap();
        dealer.send("hi").await.unwrap();
        let m = within(router.recv()).await.unwrap();
        assert_eq!(m[0], b"dealer-1"[..]);
        assert_eq!(m[1], b"hi"[..]);
        router.send(vec!["dealer-1", "back"]).await.unwrap();
        assert_eq!(within(dealer.recv()).await.unwrap()[0], b"back"[..]);
    });
}

#[test]
fn router_connecting_to_router_by_routing_id() {
    rt().block_on(async {
        let ep = name("r2r");
        let server = RouterSocket::new();
        server.set_routing_id("server").unwrap();
        server.bind(&ep).await.unwrap();
        let client = RouterSocket::new();
        client.set_routing_id("client").unwrap();
        client.set_router_mandatory(true);
        client.connect(&ep).await.unwrap();
        // The peer becomes addressable once the link is up.
        let mut sent = false;
        for _ in 0..1000 {
            match client.try_send(vec!["server", "ping"]).await {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(_) => compio::time::sleep(Duration::from_millis(1)).await,
            }
        }
        assert!(sent, "server never became addressable");
        let m = within(server.recv()).await.unwrap();
        assert_eq!(m[0], b"client"[..]);
        assert_eq!(m[1], b"ping"[..]);
    });
}

#[test]
fn pub_sub_filters_and_subscriptions_travel_both_ways() {
    rt().block_on(async {
        let ep = name("pubsub");
        let publisher = XpubSocket::new();
        publisher.bind(&ep).await.unwrap();
        let sub = SubSocket::new();
        sub.connect(&ep).await.unwrap();
        sub.subscribe("a");
        let note = within(publisher.recv()).await.unwrap();
        assert_eq!(note[0], b"\x01a"[..]);
        publisher.send("b-dropped").await.unwrap();
        publisher.send("a-kept").await.unwrap();
        assert_eq!(within(sub.recv()).await.unwrap()[0], b"a-kept"[..]);
        sub.unsubscribe("a");
        let note = within(publisher.recv()).await.unwrap();
        assert_eq!(note[0], b"\x00a"[..]);
    });
}

#[test]
fn subscribe_before_bind_reaches_the_publisher() {
    rt().block_on(async {
        let ep = name("sub-first");
        let sub = SubSocket::new();
        sub.subscribe("");
        sub.connect(&ep).await.unwrap();
        let publisher = PubSocket::new();
        publisher.bind(&ep).await.unwrap();
        // Wait until the subscription arrived, then publish.
        let mut got = None;
        for _ in 0..2000 {
            publisher.send("x").await.unwrap();
            if let Ok(m) = sub.try_recv().await {
                got = Some(m);
                break;
            }
            compio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(got.expect("no message")[0], b"x"[..]);
    });
}

#[test]
fn incompatible_types_are_refused() {
    rt().block_on(async {
        let ep = name("refused");
        let pull = PullSocket::new();
        pull.bind(&ep).await.unwrap();
        let req = ReqSocket::new();
        let events = req.monitor();
        req.connect(&ep).await.unwrap();
        let refused = within(async {
            loop {
                if let SocketEvent::HandshakeFailed { .. } = events.recv().await {
                    return true;
                }
            }
        })
        .await;
        assert!(refused);
    });
}

#[test]
fn second_bind_to_a_name_fails_and_unbind_frees_it() {
    rt().block_on(async {
        let ep = name("twice");
        let a = PullSocket::new();
        a.bind(&ep).await.unwrap();
        let b = PullSocket::new();
        assert!(matches!(b.bind(&ep).await, Err(Error::Bind { .. })));
        a.unbind(&ep).unwrap();
        // The name is free once the accept loop saw the unbind.
        let mut ok = false;
        for _ in 0..1000 {
            if b.bind(&ep).await.is_ok() {
                ok = true;
                break;
            }
            compio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(ok);
    });
}

#[test]
fn sndhwm_blocks_the_sender_until_the_receiver_reads() {
    rt().block_on(async {
        let ep = name("hwm");
        let pull = PullSocket::new();
        pull.set_rcvhwm(Some(10)).unwrap();
        pull.bind(&ep).await.unwrap();
        let push = PushSocket::new();
        push.set_sndhwm(Some(10)).unwrap();
        push.connect(&ep).await.unwrap();
        let mut sent = 0;
        while push.try_send(vec![0u8; 8]).await.is_ok() {
            sent += 1;
            assert!(sent <= 1000, "HWM never stopped the sender");
        }
        // SNDHWM in the link plus RCVHWM in the receiver, give or take one.
        assert!((10..=22).contains(&sent), "sent {sent}");
        for _ in 0..sent {
            within(pull.recv()).await.unwrap();
        }
        // Room again.
        within(push.send("again")).await.unwrap();
        assert_eq!(within(pull.recv()).await.unwrap()[0], b"again"[..]);
    });
}

#[test]
fn disconnect_and_close_end_the_peer() {
    rt().block_on(async {
        let ep = name("end");
        let pair_a = PairSocket::new();
        pair_a.bind(&ep).await.unwrap();
        let events = pair_a.monitor();
        let pair_b = PairSocket::new();
        pair_b.connect(&ep).await.unwrap();
        pair_b.send("one").await.unwrap();
        assert_eq!(within(pair_a.recv()).await.unwrap()[0], b"one"[..]);
        pair_b.close().await;
        let gone = within(async {
            loop {
                if let SocketEvent::Disconnected { .. } = events.recv().await {
                    return true;
                }
            }
        })
        .await;
        assert!(gone);
        // A new peer may take the PAIR's place.
        let pair_c = PairSocket::new();
        pair_c.connect(&ep).await.unwrap();
        pair_c.send("two").await.unwrap();
        assert_eq!(within(pair_a.recv()).await.unwrap()[0], b"two"[..]);
    });
}

#[test]
fn close_delivers_what_was_queued() {
    rt().block_on(async {
        let ep = name("linger");
        let pull = PullSocket::new();
        pull.bind(&ep).await.unwrap();
        let push = PushSocket::new();
        push.connect(&ep).await.unwrap();
        for i in 0..100u8 {
            push.send(vec![i]).await.unwrap();
        }
        push.close().await;
        for i in 0..100u8 {
            assert_eq!(within(pull.recv()).await.unwrap()[0], [i][..]);
        }
    });
}

#[test]
fn contexts_have_separate_names() {
    let a = Context::new().unwrap();
    let b = Context::new().unwrap();
    let pull_a = a.socket(SocketType::Pull).unwrap();
    pull_a.bind("inproc://same-name").unwrap();
    // The same name in another context is a different endpoint.
    let pull_b = b.socket(SocketType::Pull).unwrap();
    pull_b.bind("inproc://same-name").unwrap();
    let push = a.socket(SocketType::Push).unwrap();
    push.connect("inproc://same-name").unwrap();
    push.send("to a").unwrap();
    pull_a.set_rcvtimeo(Some(WAIT));
    assert_eq!(pull_a.recv().unwrap()[0], b"to a"[..]);
    pull_b.set_rcvtimeo(Some(Duration::from_millis(50)));
    assert!(matches!(pull_b.recv(), Err(Error::Timeout(_))));
}

#[test]
fn handles_across_threads() {
    let ctx = Context::new().unwrap();
    let rep = ctx.socket(SocketType::Rep).unwrap();
    rep.set_rcvtimeo(Some(WAIT));
    rep.bind("inproc://handles").unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..200 {
            let q = rep.recv().unwrap();
            rep.send(q).unwrap();
        }
    });
    let clients: Vec<_> = (0..2)
        .map(|c| {
            let ctx = ctx.clone();
            std::thread::spawn(move || {
                let req = ctx.socket(SocketType::Req).unwrap();
                req.set_rcvtimeo(Some(WAIT));
                req.connect("inproc://handles").unwrap();
                for i in 0..100 {
                    let body = format!("{c}-{i}");
                    req.send(body.clone()).unwrap();
                    assert_eq!(req.recv().unwrap()[0], body.as_bytes());
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    server.join().unwrap();
}

#[test]
fn native_socket_reaches_a_handle_of_its_context() {
    let ctx = Context::new().unwrap();
    let pull = ctx.socket(SocketType::Pull).unwrap();
    pull.set_rcvtimeo(Some(WAIT));
    pull.bind("inproc://native-to-handle").unwrap();
    let ctx2 = ctx.clone();
    let sender = std::thread::spawn(move || {
        rt().block_on(async move {
            let push = PushSocket::with_context(&ctx2);
            push.connect("inproc://native-to-handle").await.unwrap();
            for i in 0..100u8 {
                push.send(vec![i]).await.unwrap();
            }
            push.close().await;
        })
    });
    for i in 0..100u8 {
        assert_eq!(pull.recv().unwrap()[0], [i][..]);
    }
    sender.join().unwrap();
}
