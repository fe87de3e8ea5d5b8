//! zeroring against pyzmq (Python bindings, bundling libzmq 4.3.5), the peer most
//! users of ZeroMQ actually run: each Python peer is a `python3` child process.
//! `scripts/test` installs pyzmq when it is missing.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use compio::time::timeout;

const WAIT: Duration = Duration::from_secs(20);

/// Starts `python3 -c script args...` with a hard timeout inside the script.
fn python(script: &str, args: &[&str]) -> Child {
    let prelude = "import sys, zmq\nctx = zmq.Context()\n";
    Command::new("python3")
        .arg("-c")
        .arg(format!("{prelude}{script}"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with pyzmq (scripts/test installs it)")
}

/// Waits for the Python peer without blocking the compio runtime.
async fn finish(mut child: Child) -> String {
    timeout(WAIT, async {
        loop {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            compio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        let _ = child.kill();
        panic!("python peer did not finish");
    });
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "python peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[compio::test]
async fn pyzmq_req_to_zeroring_rep() {
    let rep = zeroring::RepSocket::new();
    let ep = rep.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let child = python(
        "s = ctx.socket(zmq.REQ); s.RCVTIMEO = 10000; s.connect(sys.argv[1])\n\
         for i in range(5):\n    s.send_multipart([b'q%d' % i, b''])\n    \
         assert s.recv_multipart() == [b'a%d' % i], 'bad reply'\n\
         print('ok')",
        &[&ep],
    );
    for i in 0..5 {
        let m = timeout(WAIT, rep.recv()).await.unwrap().unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], format!("q{i}"));
        assert!(m[1].is_empty());
        rep.send(format!("a{i}")).await.unwrap();
    }
    assert!(finish(child).await.contains("ok"));
}

#[compio::test]
async fn zeroring_req_to_pyzmq_rep() {
    let child = python(
        "s = ctx.socket(zmq.REP); s.RCVTIMEO = 10000\n\
         port = s.bind_to_random_port('tcp://127.0.0.1')\n\
         print(port, flush=True)\n\
         for i in range(5):\n    m = s.recv()\n    s.send(m.upper())\n",
        &[],
    );
    let mut child = child;
    let port = {
        use std::io::BufRead;
        let stdout = child.stdout.as_mut().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line.trim().to_string()
    };
    let req = zeroring::ReqSocket::new();
    req.connect(&format!("tcp://127.0.0.1:{port}"))
        .await
        .unwrap();
    for i in 0..5 {
        req.send(format!("hello{i}")).await.unwrap();
        let r = timeout(WAIT, req.recv()).await.unwrap().unwrap();
        assert_eq!(r[0], format!("HELLO{i}"));
    }
    finish(child).await;
}

#[compio::test]
async fn zeroring_router_sees_pyzmq_dealer_identity() {
    let router = zeroring::RouterSocket::new();
    let ep = router.bind("tcp://127.0.0.1:0").await.unwrap().to_string();
    let child = python(
        "s = ctx.socket(zmq.DEALER); s.RCVTIMEO = 10000\n\
         s.setsockopt(zmq.IDENTITY, b'py-dealer'); s.connect(sys.argv[1])\n\
         s.send_multipart([b'', b'ping'])\n\
         assert s.recv_multipart() == [b'', b'pong']\n",
        &[&ep],
    );
    let m = timeout(WAIT, router.recv()).await.unwrap().unwrap();
    assert_eq!(&m[0][..], b"py-dealer");
    assert_eq!(&m[2][..], b"ping");
    router.send(vec!["py-dealer", "", "pong"]).await.unwrap();
    finish(child).await;
}

#[compio::test]
async fn zeroring_pub_to_pyzmq_sub() {
    let publisher = zeroring::PubSocket::new();
    let ep = publisher
        .bind("tcp://127.0.0.1:0")
        .await
        .unwrap()
        .to_string();
    let mut child = python(
        "s = ctx.socket(zmq.SUB); s.RCVTIMEO = 10000\n\
         s.setsockopt(zmq.SUBSCRIBE, b'weather'); s.connect(sys.argv[1])\n\
         for _ in range(10):\n    t, body = s.recv_multipart()\n    \
         assert t == b'weather.paris' and body == b'21C', (t, body)\n\
         print('ok')",
        &[&ep],
    );
    // Subscriptions travel asynchronously: publish a non-matching and a matching
    // message until the subscriber has its ten; the non-matching topic must never
    // reach it (the script asserts every topic).
    timeout(WAIT, async {
        while child.try_wait().expect("wait").is_none() {
            publisher.send(vec!["sport", "x"]).await.unwrap();
            publisher.send(vec!["weather.paris", "21C"]).await.unwrap();
            compio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("pyzmq SUB did not get its messages");
    assert!(finish(child).await.contains("ok"));
}
