//! End-to-end smoke test of the facade: REQ/REP over tcp and ipc.

use zeroring::{RepSocket, ReqSocket};

#[compio::test]
async fn req_rep_round_trip_tcp_and_ipc() {
    let dir = std::env::temp_dir().join(format!("zeroring-smoke-{}", std::process::id()));
    let ipc = format!("ipc://{}", dir.display());
    for ep in ["tcp://127.0.0.1:0", ipc.as_str()] {
        let rep = RepSocket::new();
        let bound = rep.bind(ep).await.unwrap();
        let req = ReqSocket::new();
        req.connect(&bound.to_string()).await.unwrap();
        for i in 0..10 {
            req.send(format!("hello {i}")).await.unwrap();
            let m = rep.recv().await.unwrap();
            assert_eq!(m[0], format!("hello {i}"));
            rep.send(vec!["world", "!"]).await.unwrap();
            let r = req.recv().await.unwrap();
            assert_eq!(r.len(), 2);
            assert_eq!(&r[0][..], b"world");
        }
    }
}
