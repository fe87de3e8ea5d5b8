//! The `ipc://` transport (Unix-domain sockets) against libzmq, with libzmq on both
//! sides: REQ-REP and PUSH-PULL with libzmq binding the path and zeroring
//! connecting, and the other way round; a ROUTER seeing a libzmq DEALER's routing
//! id; large messages; and reconnecting to a libzmq socket re-bound on the same path.

use std::time::{Duration, Instant};

use zeroring::{PullSocket, PushSocket, RepSocket, ReqSocket, RouterSocket};
use zeroring_interop_tests::*;

const N: usize = 5;

both_dirs! {
    zeroring_req_libzmq_rep => req_rep;
    zeroring_rep_libzmq_req => rep_req;
    zeroring_push_libzmq_pull => push_pull;
    zeroring_pull_libzmq_push => pull_push;
}

async fn req_rep(dir: Dir) {
    let ctx = zmq::Context::new();
    let rep = zsocket(&ctx, zmq::REP);
    let req = ReqSocket::new();
    let _ipc = link_ipc(&req, &rep, dir, "req-rep").await;
    let peer = spawn_peer("libzmq REP", move || {
        zserve(&rep, N, numbered("request"), numbered("reply"));
    });
    request_each(&req, N, numbered("request"), numbered("reply")).await;
    peer.join().await;
}

async fn rep_req(dir: Dir) {
    let ctx = zmq::Context::new();
    let req = zsocket(&ctx, zmq::REQ);
    let rep = RepSocket::new();
    let _ipc = link_ipc(&rep, &req, dir, "rep-req").await;
    let peer = spawn_peer("libzmq REQ", move || {
        zrequest(&req, N, numbered("request"), numbered("reply"));
    });
    serve_each(&rep, N, numbered("request"), numbered("reply")).await;
    peer.join().await;
}

fn pipeline_message(i: usize) -> Vec<Vec<u8>> {
    match i {
        0 => vec![body(1 << 20, 3)],
        1 => vec![vec![], body(300, 4), vec![]],
        _ => vec![format!("item {i}").into_bytes()],
    }
}

async fn push_pull(dir: Dir) {
    let ctx = zmq::Context::new();
    let pull = zsocket(&ctx, zmq::PULL);
    let push = PushSocket::new();
    let _ipc = link_ipc(&push, &pull, dir, "push-pull").await;
    let peer = spawn_peer("libzmq PULL", move || {
        for i in 0..4 * N {
            assert!(zrecv(&pull) == pipeline_message(i), "message {i}");
        }
    });
    for i in 0..4 * N {
        ok("PUSH send", push.send(msg(&pipeline_message(i)))).await;
    }
    peer.join().await;
}

async fn pull_push(dir: Dir) {
    let ctx = zmq::Context::new();
    let push = zsocket(&ctx, zmq::PUSH);
    let pull = PullSocket::new();
    let _ipc = link_ipc(&pull, &push, dir, "pull-push").await;
    let peer = spawn_peer("libzmq PUSH", move || {
        for i in 0..4 * N {
            zsend(&push, &pipeline_message(i));
        }
    });
    for i in 0..4 * N {
        let m = ok("PULL recv", pull.recv()).await;
        assert!(frames(&m) == pipeline_message(i), "message {i}");
    }
    peer.join().await;
}

#[compio::test]
async fn zeroring_router_libzmq_dealer_over_ipc() {
    let ctx = zmq::Context::new();
    let dealer = zsocket(&ctx, zmq::DEALER);
    dealer.set_identity(b"ipc-dealer").unwrap();
    let router = RouterSocket::new();
    let _ipc = link_ipc(&router, &dealer, Dir::ZeroringBinds, "router").await;
    let peer = spawn_peer("libzmq DEALER", move || {
        zrequest(&dealer, N, |i| parts(&[format!("{i}")]), numbered("re"));
    });
    serve_each(
        &router,
        N,
        |i| parts(&["ipc-dealer".to_string(), format!("{i}")]),
        |i| parts(&["ipc-dealer".to_string(), format!("re {i}")]),
    )
    .await;
    peer.join().await;
}

/// libzmq REP bound on an ipc path is closed and a new one binds the same path;
/// zeroring's REQ reconnects.
#[compio::test]
async fn zeroring_req_reconnects_to_rebound_ipc_path() {
    let ctx = zmq::Context::new();
    let rep = zsocket(&ctx, zmq::REP);
    let req = ReqSocket::new();
    let ipc = link_ipc(&req, &rep, Dir::LibzmqBinds, "rebind").await;
    let ep = ipc.endpoint().to_string();
    let ctx2 = ctx.clone();
    let peer = spawn_peer("libzmq REP (restarted)", move || {
        assert_eq!(zrecv(&rep), parts(&["first"]));
        zsend(&rep, &["one"]);
        drop(rep);
        let deadline = Instant::now() + WAIT;
        let rep = loop {
            let s = zsocket(&ctx2, zmq::REP);
            match s.bind(&ep) {
                Ok(()) => break s,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("rebind {ep}: {e}"),
            }
        };
        assert_eq!(zrecv(&rep), parts(&["second"]));
        zsend(&rep, &["two"]);
    });
    ok("send", req.send("first")).await;
    assert_eq!(frames(&ok("recv", req.recv()).await), parts(&["one"]));
    wait_peers(&req, 0).await;
    ok("send", req.send("second")).await;
    assert_eq!(frames(&ok("recv", req.recv()).await), parts(&["two"]));
    peer.join().await;
}
