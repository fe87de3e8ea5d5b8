//! `zeroring push|pull|req|rep|pub|sub|xpub|xsub|dealer|router|pair`: a zmq-cat
//! style client for every socket type. It binds and connects as told, sends what it
//! reads (stdin lines or files) and prints what arrives, so a shell can talk to any
//! ZeroMQ peer (libzmq, pyzmq, JeroMQ, zeroring).
//!
//! - `args`: the flags ([`CatArgs`]) and the message format.
//! - `input`: the messages to send.
//! - `output`: how received messages are printed.
//! - `flow`: the loops, one per way a socket type talks.

mod args;
mod flow;
mod input;
mod output;

use std::io::IsTerminal;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use zeroring::{Context, Socket, SocketType};

use crate::CliError;
use crate::socket::attach;
pub use args::CatArgs;
use flow::{Pattern, Run};
use input::Input;
use output::Printer;

/// Runs the subcommand of socket type `ty`.
pub fn run(ty: SocketType, a: &CatArgs) -> Result<(), CliError> {
    let pattern = Pattern::of(ty);
    check(ty, pattern, a)?;
    let ctx = Context::new()?;
    let socket = Arc::new(ctx.socket(ty)?);
    a.socket.apply(&socket, ty)?;
    let mut options = socket.options();
    // Sends go to completed connections only (ZMQ_IMMEDIATE), so a send to a peer
    // that is not there waits (and fails after --timeout) instead of queuing
    // messages that are dropped, or wait forever, at exit.
    options.immediate = true;
    options.sndtimeo = a.timeout;
    if a.socket.linger.is_none() && a.timeout.is_some() {
        options.linger = a.timeout;
    }
    options.rcvtimeo = match pattern {
        Pattern::Both => Some(flow::SLICE),
        _ => a.timeout,
    };
    socket.set_options(options)?;
    for topic in &a.subscribe {
        socket.subscribe(topic.as_bytes())?;
    }
    attach(&socket, ty.as_str(), &a.attach)?;
    if let Some(delay) = a.delay {
        std::thread::sleep(delay);
    }
    let printer = Printer::new(&a.format, ty == SocketType::Router);
    let run = Run {
        printer: &printer,
        count: a.count,
        timeout: a.timeout,
    };
    let out = &mut std::io::stdout().lock();
    let result = match pattern {
        Pattern::SendOnly => flow::send_only(&socket, input(a), &run),
        Pattern::RecvOnly => flow::recv_only(&socket, &run, out),
        Pattern::Request => flow::request(&socket, input(a), &run, out),
        Pattern::Reply => flow::reply(&socket, (!a.echo).then(|| input(a)), &run, out),
        Pattern::Both => flow::both(socket.clone(), input(a), &run, out),
    };
    close(&socket, result.is_ok());
    result
}

/// The messages to send: the files, or stdin's lines.
fn input(a: &CatArgs) -> Input {
    if a.file.is_empty() {
        Input::lines(std::io::BufReader::new(std::io::stdin()), &a.format)
    } else {
        Input::files(&a.file, &a.format)
    }
}

/// Closes the socket: after a success, waits until what was sent is delivered
/// (within LINGER), with a note on stderr when that takes a while; after an error,
/// drops what is still queued so that the exit is immediate.
fn close(socket: &Socket, delivered: bool) {
    if !delivered {
        let mut o = socket.options();
        o.linger = Some(Duration::ZERO);
        socket.set_options(o).ok();
        return;
    }
    let (closed, waiting) = mpsc::channel::<()>();
    let note = std::thread::spawn(move || {
        if waiting.recv_timeout(NOTE_AFTER) == Err(mpsc::RecvTimeoutError::Timeout) {
            eprintln!(
                "zeroring: delivering the queued messages before exit (Ctrl-C gives up; \
                 --linger MS or --timeout MS bound the wait)"
            );
        }
    });
    socket.close();
    drop(closed);
    note.join().ok();
}

/// How long a close may wait before [`close`] says why it waits.
const NOTE_AFTER: Duration = Duration::from_secs(1);

/// Refuses flags that the socket type would ignore.
fn check(ty: SocketType, pattern: Pattern, a: &CatArgs) -> Result<(), CliError> {
    let name = ty.as_str();
    if a.attach.is_empty() {
        return Err(CliError(format!(
            "{name} needs an endpoint: --bind EP or --connect EP (e.g. --bind tcp://127.0.0.1:5555)"
        )));
    }
    if !a.subscribe.is_empty() && !matches!(ty, SocketType::Sub | SocketType::Xsub) {
        return Err(CliError(format!(
            "--subscribe applies to SUB and XSUB sockets, not {name}"
        )));
    }
    if ty == SocketType::Sub && a.subscribe.is_empty() {
        return Err(CliError(
            "a SUB socket receives nothing without a subscription: add --subscribe TOPIC \
             (--subscribe '' for everything)"
                .into(),
        ));
    }
    if a.echo && ty != SocketType::Rep {
        return Err(CliError(format!(
            "--echo applies to REP sockets, not {name}"
        )));
    }
    if a.echo && !a.file.is_empty() {
        return Err(CliError(
            "--echo replies with the requests: drop --file".into(),
        ));
    }
    if !pattern.sends() && (!a.file.is_empty() || a.delay.is_some()) {
        return Err(CliError(format!(
            "{name} only receives: --file and --delay do not apply"
        )));
    }
    if pattern == Pattern::RecvOnly && a.format.multipart {
        return Err(CliError(format!(
            "{name} only receives: --multipart (for input) does not apply"
        )));
    }
    if pattern == Pattern::SendOnly && a.format.json {
        return Err(CliError(format!(
            "{name} only sends: --json (for output) does not apply"
        )));
    }
    let reads_stdin = pattern != Pattern::RecvOnly && a.file.is_empty() && !a.echo;
    if reads_stdin && std::io::stdin().is_terminal() {
        eprintln!("zeroring: {name}: type one message per line; Ctrl-D ends the input");
    }
    Ok(())
}
