//! The built-in proxy over thread-safe sockets: a streamer and a request-reply
//! broker on a proxy thread, a capture socket, steering (STATISTICS, PAUSE,
//! RESUME, TERMINATE), and the end of the proxy when its context terminates.

use std::time::Duration;

use zeroring_sockets::{Context, Error, SocketType, proxy_blocking, proxy_steerable_blocking};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn streamer_with_capture_across_threads_ends_when_the_context_terminates() {
    let ctx = Context::new().unwrap();
    let frontend = ctx.socket(SocketType::Pull).unwrap();
    frontend.bind("inproc://stream-in").unwrap();
    let backend = ctx.socket(SocketType::Push).unwrap();
    backend.bind("inproc://stream-out").unwrap();
    let capture = ctx.socket(SocketType::Push).unwrap();
    capture.bind("inproc://stream-capture").unwrap();
    let proxy = std::thread::spawn(move || proxy_blocking(&frontend, &backend, Some(&capture)));
    let producer = ctx.socket(SocketType::Push).unwrap();
    producer.connect("inproc://stream-in").unwrap();
    let worker = ctx.socket(SocketType::Pull).unwrap();
    worker.set_rcvtimeo(Some(WAIT));
    worker.connect("inproc://stream-out").unwrap();
    let tap = ctx.socket(SocketType::Pull).unwrap();
    tap.set_rcvtimeo(Some(WAIT));
    tap.connect("inproc://stream-capture").unwrap();
    for i in 0..100u32 {
        producer
            .send_multipart([i.to_be_bytes().to_vec(), b"body".to_vec()])
            .unwrap();
    }
    for i in 0..100u32 {
        let m = worker.recv().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], i.to_be_bytes()[..]);
        assert_eq!(tap.recv().unwrap()[0], i.to_be_bytes()[..]);
    }
    ctx.terminate();
    assert!(matches!(proxy.join().unwrap(), Err(Error::Closed)));
}

#[test]
fn broker_with_steering() {
    let ctx = Context::new().unwrap();
    let frontend = ctx.socket(SocketType::Router).unwrap();
    frontend.bind("inproc://broker-front").unwrap();
    let backend = ctx.socket(SocketType::Dealer).unwrap();
    backend.bind("inproc://broker-back").unwrap();
    let control = ctx.socket(SocketType::Pair).unwrap();
    control.bind("inproc://broker-control").unwrap();
    let proxy =
        std::thread::spawn(move || proxy_steerable_blocking(&frontend, &backend, None, &control));
    let worker = ctx.socket(SocketType::Rep).unwrap();
    worker.set_rcvtimeo(Some(WAIT));
    worker.connect("inproc://broker-back").unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..10 {
            let q = worker.recv().unwrap();
            worker.send(q).unwrap();
        }
    });
    let client = ctx.socket(SocketType::Req).unwrap();
    client.set_rcvtimeo(Some(WAIT));
    client.connect("inproc://broker-front").unwrap();
    for i in 0..10 {
        client.send(format!("q{i}")).unwrap();
        assert_eq!(client.recv().unwrap()[0], format!("q{i}").as_bytes());
    }
    server.join().unwrap();
    let steer = ctx.socket(SocketType::Pair).unwrap();
    steer.set_rcvtimeo(Some(WAIT));
    steer.connect("inproc://broker-control").unwrap();
    steer.send("STATISTICS").unwrap();
    let stats = steer.recv().unwrap();
    assert_eq!(stats.len(), 8);
    let n = |i: usize| u64::from_ne_bytes(stats[i][..].try_into().unwrap());
    // Ten requests in at the frontend and out at the backend, ten replies back.
    assert_eq!((n(0), n(2), n(4), n(6)), (10, 10, 10, 10));
    steer.send("TERMINATE").unwrap();
    assert!(proxy.join().unwrap().is_ok());
}
