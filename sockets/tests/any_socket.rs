//! `AnySocket`: sockets of different types held as trait objects, used for whole
//! messages, refusing what their type cannot do, and driven by the proxy.

use std::time::Duration;

use compio::time::timeout;
use zeroring_sockets::{
    AnySocket, Error, PullSocket, PushSocket, RouterSocket, SocketType, SubSocket, proxy,
};

const LIMIT: Duration = Duration::from_secs(5);

#[compio::test]
async fn boxed_sockets_of_different_types_exchange_messages() {
    let sockets: Vec<Box<dyn AnySocket>> =
        vec![Box::new(PullSocket::new()), Box::new(PushSocket::new())];
    let (pull, push) = (&sockets[0], &sockets[1]);
    assert_eq!(pull.socket_type(), SocketType::Pull);
    assert_eq!(push.socket_type(), SocketType::Push);
    let ep = pull.base().bind("tcp://127.0.0.1:0").await.unwrap();
    push.base().connect(&ep.to_string()).await.unwrap();
    push.send_dyn(vec!["a", "b"].into()).await.unwrap();
    let got = timeout(LIMIT, pull.recv_dyn()).await.unwrap().unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(&got[1][..], b"b");
}

#[compio::test]
async fn what_a_type_cannot_do_is_refused_and_announced() {
    let pull: Box<dyn AnySocket> = Box::new(PullSocket::new());
    let push: Box<dyn AnySocket> = Box::new(PushSocket::new());
    let sub: Box<dyn AnySocket> = Box::new(SubSocket::new());
    let router: Box<dyn AnySocket> = Box::new(RouterSocket::new());
    assert!(!pull.can_send() && pull.can_recv());
    assert!(push.can_send() && !push.can_recv());
    assert!(!sub.can_send() && sub.can_recv());
    assert!(router.can_send() && router.can_recv());
    assert!(matches!(
        pull.send_dyn("x".into()).await,
        Err(Error::NotSupported {
            op: "send",
            socket_type: "PULL"
        })
    ));
    assert!(matches!(
        push.recv_dyn().await,
        Err(Error::NotSupported {
            op: "recv",
            socket_type: "PUSH"
        })
    ));
}

/// A streamer (PULL frontend, PUSH backend) whose two ends are trait objects.
#[compio::test]
async fn the_proxy_takes_trait_objects() {
    let front: Box<dyn AnySocket> = Box::new(PullSocket::new());
    let back: Box<dyn AnySocket> = Box::new(PushSocket::new());
    let front_ep = front.base().bind("tcp://127.0.0.1:0").await.unwrap();
    let back_ep = back.base().bind("tcp://127.0.0.1:0").await.unwrap();
    let producer = PushSocket::new();
    producer.connect(&front_ep.to_string()).await.unwrap();
    let consumer = PullSocket::new();
    consumer.connect(&back_ep.to_string()).await.unwrap();
    let running =
        compio::runtime::spawn(async move { proxy(&*front, &*back, None::<&dyn AnySocket>).await });
    for i in 0..10 {
        producer.send(format!("m{i}")).await.unwrap();
    }
    for i in 0..10 {
        let got = timeout(LIMIT, consumer.recv()).await.unwrap().unwrap();
        assert_eq!(got[0], format!("m{i}").as_bytes());
    }
    drop(running);
}
