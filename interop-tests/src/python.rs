//! Python peers: a `python3 -c SCRIPT ARGS...` child process with pyzmq, and the
//! line it prints first (usually the endpoint or port it bound).

use std::io::BufRead;
use std::process::{Child, Command, Stdio};

/// Starts `python3 -c script args...` with stdout and stderr piped.
pub fn python_script(script: &str, args: &[&str]) -> Child {
    Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with pyzmq (scripts/test installs it)")
}

/// Reads the first line the child prints, trimmed (blocks until it comes).
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().expect("piped stdout"))
        .read_line(&mut line)
        .expect("the python peer's first line");
    line.trim().to_string()
}
