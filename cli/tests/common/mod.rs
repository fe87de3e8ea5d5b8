//! Helpers for the tests that run the built `zeroring` binary against pyzmq peers:
//! starting both, reading the endpoints zeroring reports on stderr, and reading its
//! stdout line by line with a deadline. Needs `python3` with pyzmq (`scripts/test`
//! installs it).
#![allow(dead_code)] // each test file uses its own subset

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long any one expected line may take.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A running `zeroring` with its stdout lines on a channel and its stderr collected.
pub struct Zeroring {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    stderr: Arc<Mutex<String>>,
    endpoints: mpsc::Receiver<(String, String)>,
}

/// Starts `zeroring ARGS` with `stdin` (e.g. `Stdio::null()` or `Stdio::piped()`).
pub fn zeroring(args: &[&str], stdin: Stdio) -> Zeroring {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run zeroring");
    let lines = line_channel(child.stdout.take().unwrap());
    let stderr = Arc::new(Mutex::new(String::new()));
    let (ep_tx, endpoints) = mpsc::channel();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let collected = stderr.clone();
    thread::spawn(move || {
        let mut line = String::new();
        while err.read_line(&mut line).unwrap_or(0) > 0 {
            // `zeroring: frontend ROUTER listening on tcp://127.0.0.1:41233`
            if let Some((what, ep)) = line
                .trim_end()
                .strip_prefix("zeroring: ")
                .and_then(|l| l.split_once(" listening on "))
            {
                ep_tx.send((what.to_string(), ep.to_string())).ok();
            }
            collected.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
    Zeroring {
        child,
        lines,
        stderr,
        endpoints,
    }
}

/// Runs `zeroring ARGS` with `input` on its stdin until it exits, asserts that it
/// succeeded, and returns its stdout lines.
pub fn converse(args: &[&str], input: &str) -> Vec<String> {
    let mut z = zeroring(args, Stdio::piped());
    z.type_in(input);
    let (ok, lines, err) = z.finish();
    assert!(ok, "zeroring {args:?} failed: {err}");
    lines
}

/// The lines of `out`, as they come.
fn line_channel(out: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Zeroring {
    /// The endpoint the socket named `what` (e.g. "PULL", "backend DEALER") bound.
    pub fn endpoint(&self, what: &str) -> String {
        loop {
            match self.endpoints.recv_timeout(PATIENCE) {
                Ok((w, ep)) if w == what => return ep,
                Ok(_) => continue,
                Err(_) => panic!(
                    "zeroring reported no {what} endpoint; stderr: {}",
                    self.stderr()
                ),
            }
        }
    }

    /// The next stdout line.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no line from zeroring; stderr: {}", self.stderr()))
    }

    /// Stdout lines until one satisfies `wanted` (returned last).
    pub fn lines_until(&self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self.lines.recv_timeout(PATIENCE).unwrap_or_else(|_| {
                panic!("no wanted line among {seen:?}; stderr: {}", self.stderr())
            });
            let done = wanted(&line);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    /// Writes `text` to its stdin.
    pub fn type_in(&mut self, text: &str) {
        let stdin = self.child.stdin.as_mut().expect("stdin piped");
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// What it wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the exit (at most [`PATIENCE`]); returns (success, the remaining
    /// stdout lines, stderr).
    pub fn finish(mut self) -> (bool, Vec<String>, String) {
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                self.child.kill().ok();
                panic!("zeroring did not exit; stderr: {}", self.stderr());
            }
            thread::sleep(Duration::from_millis(20));
        };
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            rest.push(line);
        }
        thread::sleep(Duration::from_millis(50));
        (status.success(), rest, self.stderr())
    }
}

impl Drop for Zeroring {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A pyzmq peer: `python3 -c SCRIPT ARGS...`, stdout piped (one line per `print`),
/// stdin piped. The script should end itself within a few seconds (`timeout` in it).
pub struct Python {
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

/// Starts a pyzmq script with `args` (in `sys.argv[1:]`).
pub fn python(script: &str, args: &[&str]) -> Python {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 with pyzmq (scripts/test installs it)");
    let lines = line_channel(child.stdout.take().unwrap());
    Python { child, lines }
}

impl Python {
    /// The next line it printed.
    pub fn line(&self) -> String {
        self.lines
            .recv_timeout(PATIENCE)
            .expect("a line from the python peer")
    }

    /// Writes a line to its stdin.
    pub fn tell(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for a successful exit.
    pub fn succeeds(mut self) {
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the python peer failed: {status}");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the python peer hangs"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A loopback TCP endpoint on a port that was free a moment ago.
pub fn free_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("tcp://127.0.0.1:{port}")
}
