//! PUB/SUB and XPUB/XSUB between zeroring sockets: filtering at the publisher,
//! counted subscriptions, resubscription after reconnect, XPUB reports.

use std::time::Duration;

use compio::time::timeout;
use zeroring::{PubSocket, SubSocket, XpubSocket, XsubSocket};

const WAIT: Duration = Duration::from_secs(10);

async fn wait_for_subscription(publisher: &PubSocket, sub: &SubSocket, topic: &str) {
    // Subscriptions travel asynchronously: publish probes until one arrives.
    for _ in 0..200 {
        publisher.send(vec![topic, "probe"]).await.unwrap();
        if let Ok(Ok(_)) = timeout(Duration::from_millis(20), sub.recv()).await {
            return;
        }
    }
    panic!("subscription to {topic:?} never took effect");
}

#[compio::test]
async fn prefix_filtering_and_counted_unsubscribe() {
    let publisher = PubSocket::new();
    let ep = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let sub = SubSocket::new();
    sub.connect(&ep.to_string()).await.unwrap();
    sub.subscribe("news.");
    sub.subscribe("news.");
    wait_for_subscription(&publisher, &sub, "news.x").await;
    publisher.send(vec!["sport.f1", "no"]).await.unwrap();
    publisher.send(vec!["news.fr", "yes"]).await.unwrap();
    let m = timeout(WAIT, sub.recv()).await.unwrap().unwrap();
    assert_eq!(&m[0][..], b"news.fr");
    assert_eq!(&m[1][..], b"yes");
    // One unsubscribe of two: still subscribed.
    sub.unsubscribe("news.");
    publisher.send(vec!["news.de", "still"]).await.unwrap();
    let m = timeout(WAIT, sub.recv()).await.unwrap().unwrap();
    assert_eq!(&m[1][..], b"still");
    sub.unsubscribe("news.");
    compio::time::sleep(Duration::from_millis(100)).await;
    publisher.send(vec!["news.it", "gone"]).await.unwrap();
    assert!(
        timeout(Duration::from_millis(200), sub.recv())
            .await
            .is_err()
    );
}

#[compio::test]
async fn xpub_reports_first_subscribe_and_last_cancel() {
    let xpub = XpubSocket::new();
    let ep = xpub.bind("tcp://127.0.0.1:0").await.unwrap();
    let a = SubSocket::new();
    let b = SubSocket::new();
    a.connect(&ep.to_string()).await.unwrap();
    b.connect(&ep.to_string()).await.unwrap();
    a.subscribe("t");
    let m = timeout(WAIT, xpub.recv()).await.unwrap().unwrap();
    assert_eq!(&m[0][..], b"\x01t");
    b.subscribe("t");
    a.unsubscribe("t");
    b.unsubscribe("t");
    let m = timeout(WAIT, xpub.recv()).await.unwrap().unwrap();
    assert_eq!(&m[0][..], b"\x00t");
}

#[compio::test]
async fn xsub_forwards_subscriptions_upstream() {
    let xpub = XpubSocket::new();
    let ep = xpub.bind("tcp://127.0.0.1:0").await.unwrap();
    let xsub = XsubSocket::new();
    xsub.connect(&ep.to_string()).await.unwrap();
    xsub.send(&b"\x01abc"[..]).await.unwrap();
    let m = timeout(WAIT, xpub.recv()).await.unwrap().unwrap();
    assert_eq!(&m[0][..], b"\x01abc");
    xpub.send(vec!["abcdef", "payload"]).await.unwrap();
    let m = timeout(WAIT, xsub.recv()).await.unwrap().unwrap();
    assert_eq!(&m[1][..], b"payload");
}

#[compio::test]
async fn subscriptions_are_resent_after_the_publisher_restarts() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let ep = format!("tcp://127.0.0.1:{port}");
    let publisher = PubSocket::new();
    publisher.bind(&ep).await.unwrap();
    let sub = SubSocket::new();
    sub.connect(&ep).await.unwrap();
    sub.subscribe("k");
    wait_for_subscription(&publisher, &sub, "k1").await;
    publisher.close().await;
    drop(publisher);
    let publisher = PubSocket::new();
    publisher.bind(&ep).await.unwrap();
    wait_for_subscription(&publisher, &sub, "k2").await;
}

#[compio::test]
async fn xsub_xpub_proxy_forwards_both_ways() {
    let publisher = PubSocket::new();
    let pub_ep = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let xsub = XsubSocket::new();
    xsub.connect(&pub_ep.to_string()).await.unwrap();
    let xpub = XpubSocket::new();
    let xpub_ep = xpub.bind("tcp://127.0.0.1:0").await.unwrap();
    let proxy = compio::runtime::spawn(async move {
        let r = zeroring::proxy(&xsub, &xpub, None::<&zeroring::PushSocket>).await;
        drop((xsub, xpub));
        r
    });
    let sub = SubSocket::new();
    sub.connect(&xpub_ep.to_string()).await.unwrap();
    sub.subscribe("via");
    wait_for_subscription(&publisher, &sub, "via-proxy").await;
    publisher.send(vec!["other", "x"]).await.unwrap();
    publisher.send(vec!["via", "y"]).await.unwrap();
    let m = timeout(WAIT, sub.recv()).await.unwrap().unwrap();
    assert_eq!(&m[1][..], b"y");
    drop(proxy);
}

#[compio::test]
async fn a_slow_subscriber_loses_messages_alone() {
    let publisher = PubSocket::new();
    publisher.set_sndhwm(Some(100)).unwrap();
    let ep = publisher.bind("tcp://127.0.0.1:0").await.unwrap();
    let fast = SubSocket::new();
    let slow = SubSocket::new();
    slow.set_rcvhwm(Some(10)).unwrap();
    for s in [&fast, &slow] {
        s.connect(&ep.to_string()).await.unwrap();
        s.subscribe("");
    }
    wait_for_subscription(&publisher, &fast, "warm").await;
    wait_for_subscription(&publisher, &slow, "warm").await;
    while let Ok(Ok(_)) = timeout(Duration::from_millis(50), fast.recv()).await {}
    // Bursts the fast subscriber keeps up with; the slow one never reads, so its
    // queues fill (kernel buffers, RCVHWM, SNDHWM) and it starts missing messages.
    let body = vec![7u8; 1024];
    let (bursts, per_burst) = (200, 50);
    for b in 0..bursts {
        for i in 0..per_burst {
            let n = (b * per_burst + i) as u32;
            publisher
                .send(vec![b"d".to_vec(), n.to_be_bytes().to_vec(), body.clone()])
                .await
                .unwrap();
        }
        for i in 0..per_burst {
            let m = timeout(WAIT, fast.recv()).await.unwrap().unwrap();
            let n = u32::from_be_bytes(m[1][..].try_into().unwrap());
            assert_eq!(
                n as usize,
                b * per_burst + i,
                "fast subscriber lost or reordered"
            );
        }
    }
    let mut slow_got = 0;
    while let Ok(Ok(_)) = timeout(Duration::from_millis(200), slow.recv()).await {
        slow_got += 1;
    }
    assert!(
        slow_got < bursts * per_burst,
        "the slow subscriber should have missed messages (got {slow_got})"
    );
}
