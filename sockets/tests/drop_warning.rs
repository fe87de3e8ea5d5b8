//! Messages still queued when a socket's runtime stops are lost; zeroring says so
//! with a warning that carries their count instead of losing them silently.

mod common;

use zeroring_sockets::PushSocket;

use common::capture_warnings;

#[test]
fn leaving_the_runtime_with_queued_messages_warns_with_their_count() {
    let (logs, _guard) = capture_warnings();
    // Nothing listens on this port: the connect() slot queues the messages.
    let endpoint = format!("tcp://127.0.0.1:{}", common::free_port());
    let runtime = compio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let push = PushSocket::new();
        push.connect(&endpoint).await.unwrap();
        for i in 0..7 {
            push.send(format!("lost {i}")).await.unwrap();
        }
        // Dropped without close(): the shutdown would deliver them, but the
        // runtime stops first.
    });
    drop(runtime);
    let text = logs.text();
    assert!(
        text.contains("WARN") && text.contains("7 queued message(s) lost"),
        "no warning with the count of lost messages; logs: {text:?}"
    );
}

#[test]
fn a_close_that_delivered_everything_warns_about_nothing() {
    let (logs, _guard) = capture_warnings();
    let runtime = compio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pull = zeroring_sockets::PullSocket::new();
        let ep = pull.bind("tcp://127.0.0.1:0").await.unwrap();
        let push = PushSocket::new();
        push.connect(&ep.to_string()).await.unwrap();
        for i in 0..7 {
            push.send(format!("kept {i}")).await.unwrap();
        }
        for _ in 0..7 {
            pull.recv().await.unwrap();
        }
        push.close().await;
    });
    drop(runtime);
    let text = logs.text();
    assert!(!text.contains("lost"), "unexpected warning: {text:?}");
}
