//! XPUB options between zeroring sockets: XPUB_VERBOSE, XPUB_VERBOSER,
//! XPUB_WELCOME_MSG, XPUB_MANUAL and XPUB_NODROP.

use std::time::Duration;

use compio::time::timeout;
use zeroring::{Error, SubSocket, XpubSocket};

const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(200);

async fn next(xpub: &XpubSocket) -> Vec<u8> {
    timeout(WAIT, xpub.recv()).await.unwrap().unwrap()[0].to_vec()
}

async fn bound() -> (XpubSocket, String) {
    let xpub = XpubSocket::new();
    let ep = xpub.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    (xpub, ep)
}

async fn subscriber(ep: &str) -> SubSocket {
    let s = SubSocket::new();
    s.connect(ep).await.unwrap();
    s
}

#[compio::test]
async fn without_verbose_duplicates_are_hidden() {
    let (xpub, ep) = bound().await;
    let (a, b) = (subscriber(&ep).await, subscriber(&ep).await);
    a.subscribe("t");
    assert_eq!(next(&xpub).await, b"\x01t");
    b.subscribe("t");
    assert!(timeout(QUIET, xpub.recv()).await.is_err());
}

#[compio::test]
async fn verbose_reports_every_subscribe() {
    let (xpub, ep) = bound().await;
    xpub.set_xpub_verbose(true);
    let (a, b) = (subscriber(&ep).await, subscriber(&ep).await);
    a.subscribe("t");
    b.subscribe("t");
    assert_eq!(next(&xpub).await, b"\x01t");
    assert_eq!(next(&xpub).await, b"\x01t");
    // Cancels: only the last one without VERBOSER.
    a.unsubscribe("t");
    b.unsubscribe("t");
    assert_eq!(next(&xpub).await, b"\x00t");
    assert!(timeout(QUIET, xpub.recv()).await.is_err());
}

#[compio::test]
async fn verboser_reports_every_cancel() {
    let (xpub, ep) = bound().await;
    xpub.set_xpub_verboser(true);
    let (a, b) = (subscriber(&ep).await, subscriber(&ep).await);
    a.subscribe("t");
    assert_eq!(next(&xpub).await, b"\x01t");
    b.subscribe("t");
    assert_eq!(next(&xpub).await, b"\x01t");
    a.unsubscribe("t");
    assert_eq!(next(&xpub).await, b"\x00t");
    b.unsubscribe("t");
    assert_eq!(next(&xpub).await, b"\x00t");
}

#[compio::test]
async fn welcome_message_reaches_each_new_subscriber() {
    let (xpub, ep) = bound().await;
    xpub.set_xpub_welcome_msg(Some("WELCOME"));
    let s = SubSocket::new();
    s.subscribe("WELCOME");
    s.connect(&ep).await.unwrap();
    let m = timeout(WAIT, s.recv()).await.unwrap().unwrap();
    assert_eq!(&m[0][..], b"WELCOME");
}

#[compio::test]
async fn manual_mode_applies_only_what_the_application_says() {
    let (xpub, ep) = bound().await;
    xpub.set_xpub_manual(true);
    let s = subscriber(&ep).await;
    s.subscribe("asked");
    assert_eq!(next(&xpub).await, b"\x01asked");
    // Not applied: nothing is delivered.
    xpub.send(vec!["asked", "1"]).await.unwrap();
    assert!(timeout(QUIET, s.recv()).await.is_err());
    // The application grants a different topic to that subscriber.
    xpub.subscribe("granted");
    xpub.send(vec!["granted", "2"]).await.unwrap();
    // The SUB filters locally too, so it also needs the topic.
    s.subscribe("granted");
    assert_eq!(next(&xpub).await, b"\x01granted");
    xpub.send(vec!["granted", "3"]).await.unwrap();
    let m = timeout(WAIT, s.recv()).await.unwrap().unwrap();
    assert_eq!(&m[0][..], b"granted");
}

#[compio::test]
async fn nodrop_makes_send_fail_instead_of_dropping() {
    let (xpub, ep) = bound().await;
    xpub.set_xpub_nodrop(true);
    xpub.set_sndhwm(Some(5)).unwrap();
    let s = SubSocket::new();
    s.set_rcvhwm(Some(5)).unwrap();
    s.connect(&ep).await.unwrap();
    s.subscribe("");
    assert_eq!(next(&xpub).await, b"\x01");
    xpub.set_sndtimeo(Some(Duration::ZERO));
    let body = vec![0u8; 64 * 1024];
    let mut sent = 0usize;
    let err = loop {
        match xpub.send(body.clone()).await {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
        if sent.is_multiple_of(5) {
            // Let the flusher run so the kernel buffers fill up.
            compio::time::sleep(Duration::from_millis(1)).await;
        }
        assert!(sent < 100_000, "NODROP never pushed back");
    };
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    // Everything that was accepted is delivered: nothing was dropped.
    let mut got = 0;
    while got < sent {
        timeout(WAIT, s.recv()).await.unwrap().unwrap();
        got += 1;
    }
}
