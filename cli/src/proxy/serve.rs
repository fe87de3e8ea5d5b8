//! Runs a proxy: makes the frontend, backend, capture and control sockets, runs
//! `proxy_steerable_blocking` on a thread of its own, and on this thread handles
//! the commands typed on stdin and the periodic statistics, through a REQ connected
//! to the control socket over inproc (so stdin and remote controllers share one
//! control path).

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use zeroring::{Context, Socket, SocketType, proxy_steerable_blocking};

use super::ServeArgs;
use super::control::{Command, Controller};
use super::stats::Statistics;
use crate::CliError;
use crate::socket::{Place, attach_places};

/// How long messages still queued when the proxy ends may take to go out.
const LINGER: Duration = Duration::from_secs(1);

/// How long the command loop waits for the proxy's control replies.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// What the command loop waits for.
enum Event {
    /// A line typed on stdin.
    Line(String),
    /// The proxy returned.
    Finished(Result<(), zeroring::Error>),
}

/// Runs a proxy between a `front` and a `back` socket until TERMINATE.
pub fn serve(front: SocketType, back: SocketType, a: &ServeArgs) -> Result<(), CliError> {
    let ctx = Context::new()?;
    let socket = |ty: SocketType, what: &str, places: &[Place]| -> Result<Arc<Socket>, CliError> {
        let s = ctx.socket(ty)?;
        let mut o = s.options();
        o.linger = Some(LINGER);
        s.set_options(o)?;
        attach_places(&s, what, places)?;
        Ok(Arc::new(s))
    };
    let frontend = socket(front, &format!("frontend {}", front.as_str()), &a.frontend)?;
    let backend = socket(back, &format!("backend {}", back.as_str()), &a.backend)?;
    let capture = match a.capture.is_empty() {
        true => None,
        false => {
            let ty = a.capture_type;
            Some(socket(ty, &format!("capture {}", ty.as_str()), &a.capture)?)
        }
    };
    let control = socket(SocketType::Rep, "control REP", &a.control)?;
    // This process's own way in (stdin commands, --stats-every), not reported.
    let inproc = format!("inproc://zeroring-proxy-control-{}", std::process::id());
    control.bind(&inproc)?;

    let (events, inbox) = mpsc::channel();
    let finished = events.clone();
    thread::Builder::new()
        .name("zeroring-proxy".into())
        .spawn(move || {
            let result =
                proxy_steerable_blocking(&frontend, &backend, capture.as_deref(), &control);
            finished.send(Event::Finished(result)).ok();
        })
        .map_err(|e| CliError(format!("cannot start the proxy thread: {e}")))?;
    thread::Builder::new()
        .name("zeroring-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if events.send(Event::Line(line)).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| CliError(format!("cannot start the stdin thread: {e}")))?;
    eprintln!(
        "zeroring: proxy {} -> {} running{}",
        front.as_str(),
        back.as_str(),
        if std::io::stdin().is_terminal() {
            "; type pause, resume, stats or terminate"
        } else {
            ""
        }
    );
    let controller = Controller::connect(&ctx, &inproc, CONTROL_TIMEOUT)?;
    steer(&controller, &inbox, a)
}

/// The command loop: stdin commands and periodic statistics until the proxy ends.
fn steer(
    controller: &Controller,
    inbox: &mpsc::Receiver<Event>,
    a: &ServeArgs,
) -> Result<(), CliError> {
    let print = |stats: Statistics| println!("{}", stats.line(a.json));
    let mut next_stats = a.stats_every.map(|every| Instant::now() + every);
    loop {
        let event = match next_stats {
            None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(at) => inbox.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        match event {
            Ok(Event::Line(line)) if line.trim().is_empty() => {}
            Ok(Event::Line(line)) => match Command::parse(&line) {
                Some(Command::Statistics) => print(controller.statistics()?),
                Some(Command::Terminate) => {
                    print(controller.statistics()?);
                    controller.send(Command::Terminate)?;
                }
                Some(command) => {
                    controller.send(command)?;
                    eprintln!("zeroring: proxy: {} done", command.wire());
                }
                None => eprintln!(
                    "zeroring: proxy: unknown command {:?}; type pause, resume, stats or terminate",
                    line.trim()
                ),
            },
            Ok(Event::Finished(result)) => {
                return result.map_err(|e| CliError(format!("the proxy stopped: {e}")));
            }
            Err(RecvTimeoutError::Timeout) => {
                print(controller.statistics()?);
                next_stats = a.stats_every.map(|every| Instant::now() + every);
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(CliError("the proxy thread ended without a result".into()));
            }
        }
    }
}
