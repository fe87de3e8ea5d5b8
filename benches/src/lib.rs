//! Shared peers for the criterion benches: echo servers and sinks for zeroring,
//! libzmq (crate `zmq`) and raw TCP, each on its own thread (like a separate process).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

/// Starts a zeroring REP echo server on its own thread and compio runtime; returns
/// its endpoint. It serves `round_trips` requests and exits.
pub fn zeroring_rep_echo(round_trips: u64) -> String {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        compio::runtime::Runtime::new()
            .expect("compio runtime")
            .block_on(async move {
                let rep = zeroring::RepSocket::new();
                let ep = rep.bind("tcp://127.0.0.1:0").await.expect("bind");
                tx.send(ep.to_string()).expect("endpoint");
                for _ in 0..round_trips {
                    let m = rep.recv().await.expect("recv");
                    rep.send(m).await.expect("send");
                }
                rep.close().await;
            });
    });
    rx.recv().expect("zeroring REP thread bound")
}

/// Starts a libzmq REP echo server thread; returns its endpoint.
pub fn libzmq_rep_echo(round_trips: u64) -> String {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let ctx = zmq::Context::new();
        let rep = ctx.socket(zmq::REP).expect("socket");
        rep.bind("tcp://127.0.0.1:*").expect("bind");
        tx.send(rep.get_last_endpoint().expect("ep").expect("utf8"))
            .expect("endpoint");
        for _ in 0..round_trips {
            let m = rep.recv_multipart(0).expect("recv");
            rep.send_multipart(m, 0).expect("send");
        }
    });
    rx.recv().expect("libzmq REP thread bound")
}

/// Starts a raw TCP echo server (2-byte length header per message); returns its address.
pub fn raw_tcp_echo(round_trips: u64) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_nodelay(true).expect("nodelay");
        let mut buf = vec![0u8; 65536 + 2];
        for _ in 0..round_trips {
            if s.read_exact(&mut buf[..2]).is_err() {
                return; // the client is done (criterion's test mode stops early)
            }
            let n = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
            s.read_exact(&mut buf[2..2 + n]).expect("body");
            s.write_all(&buf[..2 + n]).expect("echo");
        }
    });
    addr
}

/// One raw TCP round trip of `body` over `s` (2-byte header), reading the echo back.
pub fn raw_tcp_round_trip(s: &mut TcpStream, body: &[u8], scratch: &mut [u8]) {
    let len = u16::try_from(body.len()).expect("body under 64 KiB");
    s.write_all(&len.to_be_bytes()).expect("write header");
    s.write_all(body).expect("write body");
    s.read_exact(&mut scratch[..2 + body.len()])
        .expect("read echo");
}

pub mod fanout;
