//! [`PyPeer`]: the pyzmq peer of the security tests (`secure_peer.py`), one
//! `python3` child configured by a JSON object, whose output lines (the port it
//! bound, the User-Id it saw, its monitor's handshake failures, "ok") arrive
//! through a channel the compio runtime polls.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::WAIT;

const SCRIPT: &str = include_str!("secure_peer.py");

/// How long a Python peer may take to finish its part.
const PEER_LIMIT: Duration = Duration::from_secs(20);

/// A running pyzmq peer.
#[derive(Debug)]
pub struct PyPeer {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line printed so far, and whether [`PyPeer::expect`] returned it.
    seen: Vec<(String, bool)>,
}

impl PyPeer {
    /// Starts `secure_peer.py` with `config` (a JSON object; see the script).
    pub fn start(config: &str) -> PyPeer {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(SCRIPT)
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 with pyzmq (scripts/test installs it)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line.trim().to_string()).is_err() {
                    return;
                }
            }
        });
        PyPeer {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push((line, false));
        }
    }

    /// True when the peer has printed a line starting with `prefix` (does not
    /// wait).
    pub fn printed(&mut self, prefix: &str) -> bool {
        self.drain();
        self.seen.iter().any(|(l, _)| l.starts_with(prefix))
    }

    /// Waits (polling, so the compio runtime keeps running) for a line starting
    /// with `prefix` that no earlier call returned, and returns the rest of it.
    pub async fn expect(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + PEER_LIMIT;
        loop {
            self.drain();
            for (line, taken) in &mut self.seen {
                if !*taken && let Some(rest) = line.strip_prefix(prefix) {
                    *taken = true;
                    return rest.trim().to_string();
                }
            }
            if Instant::now() >= deadline {
                let err = self.kill_and_stderr();
                panic!(
                    "python peer never printed {prefix:?}; printed {:?}; stderr: {err}",
                    self.lines_printed()
                );
            }
            if let Ok(Some(status)) = self.child.try_wait()
                && !status.success()
            {
                let err = self.kill_and_stderr();
                panic!("python peer failed ({status}) before {prefix:?}: {err}");
            }
            compio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn lines_printed(&self) -> Vec<String> {
        self.seen.iter().map(|(l, _)| l.clone()).collect()
    }

    /// The endpoint of a peer that binds (its first line is `port N`).
    pub async fn endpoint(&mut self) -> String {
        let port = self.expect("port").await;
        format!("tcp://127.0.0.1:{port}")
    }

    /// Waits for the peer to print "ok" and exit successfully; returns every
    /// line it printed.
    pub async fn finish(mut self) -> Vec<String> {
        if !self.printed("ok") {
            self.expect("ok").await;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            match self.child.try_wait().expect("wait for python") {
                Some(status) if status.success() => break,
                Some(status) => {
                    let err = self.kill_and_stderr();
                    panic!("python peer exited with {status}: {err}");
                }
                None if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    break;
                }
                None => compio::time::sleep(Duration::from_millis(5)).await,
            }
        }
        self.drain();
        self.lines_printed()
    }

    fn kill_and_stderr(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for PyPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
