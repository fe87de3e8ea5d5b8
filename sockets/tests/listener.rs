//! Bound endpoints: ZMQ_BACKLOG reaches the kernel's listen queue, and a listener
//! that cannot accept (the process is out of file descriptors) says so once, then
//! at most every 10 s, instead of a warning per 10 ms retry.

mod common;

use std::process::Command;
use std::sync::Mutex;

use zeroring_sockets::{PullSocket, PushSocket};

use common::*;

/// The tests change process-wide state (file descriptor limit): one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs a test body on a runtime of its own while holding [`SERIAL`].
fn serially(body: impl std::future::Future<Output = ()>) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    compio::runtime::Runtime::new().unwrap().block_on(body);
}

/// The listen queue length the kernel reports for a listening socket (`ss` shows it
/// as Send-Q).
fn listen_queue(args: &[&str]) -> u32 {
    let out = Command::new("ss")
        .args(args)
        .output()
        .expect("ss (iproute2) to inspect listening sockets");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("LISTEN"))
        .unwrap_or_else(|| panic!("no listening socket in `ss {}`: {text:?}", args.join(" ")));
    // ... LISTEN <Recv-Q> <Send-Q> ... (a Netid column comes first with -x).
    line.split_whitespace()
        .skip_while(|w| *w != "LISTEN")
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no Send-Q column in {line:?}"))
}

#[test]
fn backlog_defaults_to_100_and_can_be_raised() {
    serially(backlog_defaults_to_100_and_can_be_raised_body());
}

async fn backlog_defaults_to_100_and_can_be_raised_body() {
    let pull = PullSocket::new();
    assert_eq!(pull.options().backlog, 100);
    let port = addr(&pull.bind(ANY).await.unwrap()).port();
    let filter = format!("sport = :{port}");
    assert_eq!(listen_queue(&["-ltnH", &filter]), 100);

    let busy = PullSocket::new();
    busy.set_backlog(1024).unwrap();
    let port = addr(&busy.bind(ANY).await.unwrap()).port();
    let filter = format!("sport = :{port}");
    assert_eq!(listen_queue(&["-ltnH", &filter]), 1024);

    let ipc = PullSocket::new();
    ipc.set_backlog(7).unwrap();
    let ep = ipc_endpoint("backlog");
    ipc.bind(&ep).await.unwrap();
    let path = ep.trim_start_matches("ipc://").to_string();
    assert_eq!(listen_queue(&["-lxH", "src", &path]), 7);

    assert!(pull.set_backlog(0).is_err());
}

fn nofile() -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim
}

fn set_nofile(lim: &libc::rlimit) {
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, lim) }, 0);
}

#[test]
fn accept_failures_are_logged_once_not_every_retry() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (logs, _guard) = capture_warnings();
    let runtime = compio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let pull = PullSocket::new();
        let ep = pull.bind(ANY).await.unwrap();
        let original = nofile();
        let open_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
        set_nofile(&libc::rlimit {
            rlim_cur: open_now + 16,
            rlim_max: original.rlim_max,
        });
        // Use up every descriptor, then free one for the client's socket: the
        // listener's accept then fails with EMFILE on every retry.
        let mut hogs = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            hogs.push(f);
        }
        hogs.pop();
        let client = std::net::TcpStream::connect(addr(&ep)).unwrap();
        pause(1500).await;
        let failures_logged = logs.count("accept failed");
        drop(hogs);
        set_nofile(&original);
        assert_eq!(
            failures_logged, 1,
            "a listener out of descriptors for 1.5 s logged {failures_logged} warnings"
        );
        // Once descriptors are back, the waiting connection is accepted and a
        // zeroring peer gets through as usual.
        wait_until("accepting again", || {
            logs.count("accepting connections again") == 1
        })
        .await;
        drop(client);
        let push = PushSocket::new();
        push.connect(&ep.to_string()).await.unwrap();
        within("send", push.send("after EMFILE")).await.unwrap();
        assert_eq!(
            &within("recv", pull.recv()).await.unwrap()[0][..],
            b"after EMFILE"
        );
    });
}
