//! The loops of the socket-type subcommands, one per way a type talks: send only
//! (PUSH, PUB), receive only (PULL, SUB), request then reply (REQ), reply to each
//! request (REP), and both at once (DEALER, ROUTER, PAIR, XPUB, XSUB: stdin is sent
//! from a thread while the main thread prints what arrives).

use std::io::Write;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use zeroring::{Error, Message, Socket, SocketType};

use super::input::Input;
use super::output::Printer;
use crate::CliError;

/// How a socket type talks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// PUSH, PUB.
    SendOnly,
    /// PULL, SUB.
    RecvOnly,
    /// REQ.
    Request,
    /// REP.
    Reply,
    /// DEALER, ROUTER, PAIR, XPUB, XSUB.
    Both,
}

impl Pattern {
    /// The pattern of a socket type.
    pub fn of(ty: SocketType) -> Pattern {
        match ty {
            SocketType::Push | SocketType::Pub => Pattern::SendOnly,
            SocketType::Pull | SocketType::Sub => Pattern::RecvOnly,
            SocketType::Req => Pattern::Request,
            SocketType::Rep => Pattern::Reply,
            _ => Pattern::Both,
        }
    }

    /// Whether the type sends at all (REP its replies).
    pub fn sends(self) -> bool {
        self != Pattern::RecvOnly
    }
}

/// What the loops need besides the socket.
pub struct Run<'a> {
    /// Prints received messages.
    pub printer: &'a Printer,
    /// `--count`.
    pub count: Option<usize>,
    /// `--timeout`, for the messages of errors (the socket's SNDTIMEO/RCVTIMEO
    /// carry it, except in [`both`]).
    pub timeout: Option<Duration>,
}

impl Run<'_> {
    /// What a socket error means to the user.
    fn explain(&self, e: Error) -> CliError {
        explain(e, self.timeout)
    }

    fn done(&self, n: usize) -> bool {
        self.count.is_some_and(|c| n >= c)
    }
}

/// PUSH, PUB: sends every input message (at most `--count`).
pub fn send_only(socket: &Socket, input: Input, run: &Run) -> Result<(), CliError> {
    for (n, msg) in input.enumerate() {
        if run.done(n) {
            break;
        }
        socket.send(msg?).map_err(|e| run.explain(e))?;
    }
    Ok(())
}

/// PULL, SUB: prints what arrives (`--count` messages, or until killed).
pub fn recv_only(socket: &Socket, run: &Run, out: &mut impl Write) -> Result<(), CliError> {
    let mut n = 0;
    while !run.done(n) {
        let msg = socket.recv().map_err(|e| run.explain(e))?;
        run.printer.print(&msg, out)?;
        n += 1;
    }
    Ok(())
}

/// REQ: sends each input message and prints its reply.
pub fn request(
    socket: &Socket,
    input: Input,
    run: &Run,
    out: &mut impl Write,
) -> Result<(), CliError> {
    for (n, msg) in input.enumerate() {
        if run.done(n) {
            break;
        }
        socket.send(msg?).map_err(|e| run.explain(e))?;
        let reply = socket.recv().map_err(|e| run.explain(e))?;
        run.printer.print(&reply, out)?;
    }
    Ok(())
}

/// REP: prints each request and answers it with the request itself (`echo`) or the
/// next input message; stops when the input ends.
pub fn reply(
    socket: &Socket,
    mut input: Option<Input>,
    run: &Run,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut n = 0;
    while !run.done(n) {
        let request = socket.recv().map_err(|e| run.explain(e))?;
        run.printer.print(&request, out)?;
        let answer: Message = match input.as_mut() {
            None => request,
            Some(input) => match input.next() {
                Some(msg) => msg?,
                None => break,
            },
        };
        socket.send(answer).map_err(|e| run.explain(e))?;
        n += 1;
    }
    Ok(())
}

/// How long one receive waits in [`both`] before it looks whether the input ended.
pub const SLICE: Duration = Duration::from_millis(50);

/// DEALER, ROUTER, PAIR, XPUB, XSUB: a thread sends the input while this one prints
/// what arrives, until `--count` messages arrived or, without `--count`, the input
/// ended and was sent. An input or send error ends the run. The socket's RCVTIMEO
/// must be [`SLICE`]; `--timeout` is checked here.
pub fn both(
    socket: Arc<Socket>,
    input: Input,
    run: &Run,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let mut sender = Some({
        let (socket, timeout) = (socket.clone(), run.timeout);
        thread::Builder::new()
            .name("zeroring-input".into())
            .spawn(move || send_all(&socket, input, timeout))
            .map_err(|e| CliError(format!("cannot start the input thread: {e}")))?
    });
    let mut n = 0;
    let mut last = Instant::now();
    while !run.done(n) {
        if let Some(finished) = sender.take_if(|s| s.is_finished()) {
            finished
                .join()
                .map_err(|_| CliError("the input thread panicked".into()))??;
            if run.count.is_none() {
                break;
            }
        }
        match socket.recv() {
            Ok(msg) => {
                run.printer.print(&msg, out)?;
                n += 1;
                last = Instant::now();
            }
            Err(Error::Timeout(_)) => {
                if run.timeout.is_some_and(|t| last.elapsed() >= t) {
                    return Err(explain(Error::Timeout("recv"), run.timeout));
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The input thread of [`both`]: sends every message, each within `timeout`.
fn send_all(socket: &Socket, input: Input, timeout: Option<Duration>) -> Result<(), CliError> {
    for msg in input {
        socket.send(msg?).map_err(|e| explain(e, timeout))?;
    }
    Ok(())
}

/// What a socket error means to the user; `timeout` is `--timeout`.
fn explain(e: Error, timeout: Option<Duration>) -> CliError {
    let ms = timeout.unwrap_or_default().as_millis();
    match e {
        Error::Timeout(op) if op.starts_with("send") => CliError(format!(
            "no peer took a message within {ms} ms (--timeout): is a peer connected?"
        )),
        Error::Timeout(_) => CliError(format!("no message arrived within {ms} ms (--timeout)")),
        e => CliError::from(e),
    }
}
