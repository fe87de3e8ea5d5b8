//! Steering a proxy: the four commands of `zmq_proxy_steerable` ([`Command`]) and
//! [`Controller`], a REQ socket that sends one to a proxy's control socket (a REP)
//! and returns the reply. `zeroring proxy control` and a running `zeroring proxy`
//! (for its own stdin commands and periodic statistics) both use it.

use std::time::Duration;

use clap::ValueEnum;
use zeroring::{Context, Error, Message, Socket, SocketType};

use super::stats::Statistics;
use crate::CliError;

/// A control command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Command {
    /// Stop forwarding (messages wait in the sockets).
    Pause,
    /// Forward again.
    Resume,
    /// End the proxy.
    Terminate,
    /// Reply with the message and byte counters.
    #[value(alias = "stats")]
    Statistics,
}

impl Command {
    /// The command as the proxy expects it on the wire.
    pub fn wire(self) -> &'static str {
        match self {
            Command::Pause => "PAUSE",
            Command::Resume => "RESUME",
            Command::Terminate => "TERMINATE",
            Command::Statistics => "STATISTICS",
        }
    }

    /// Reads a command typed on stdin (any case; `stats` for STATISTICS).
    pub fn parse(text: &str) -> Option<Command> {
        match text.trim().to_ascii_lowercase().as_str() {
            "stats" => Some(Command::Statistics),
            other => Command::from_str(other, true).ok(),
        }
    }
}

/// A REQ socket connected to a proxy's control socket.
pub struct Controller {
    req: Socket,
    timeout: Duration,
}

impl Controller {
    /// Connects to the control endpoint `endpoint`; a reply must come within `timeout`.
    pub fn connect(
        ctx: &Context,
        endpoint: &str,
        timeout: Duration,
    ) -> Result<Controller, CliError> {
        let req = ctx.socket(SocketType::Req)?;
        let mut o = req.options();
        o.rcvtimeo = Some(timeout);
        o.sndtimeo = Some(timeout);
        o.linger = Some(Duration::ZERO);
        req.set_options(o)?;
        req.connect(endpoint).map_err(|e| {
            CliError(format!(
                "cannot connect to the control socket {endpoint}: {e}"
            ))
        })?;
        Ok(Controller { req, timeout })
    }

    /// Sends `command` and returns the reply (empty for all but STATISTICS).
    pub fn send(&self, command: Command) -> Result<Message, CliError> {
        let timed_out = |e: Error| match e {
            Error::Timeout(_) => CliError(format!(
                "the proxy did not answer {} within {} ms: is a steerable proxy's REP \
                 control socket there?",
                command.wire(),
                self.timeout.as_millis()
            )),
            e => e.into(),
        };
        self.req.send(command.wire()).map_err(timed_out)?;
        self.req.recv().map_err(timed_out)
    }

    /// Asks for the statistics.
    pub fn statistics(&self) -> Result<Statistics, CliError> {
        Statistics::decode(&self.send(Command::Statistics)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_commands() {
        assert_eq!(Command::parse(" Pause\n"), Some(Command::Pause));
        assert_eq!(Command::parse("stats"), Some(Command::Statistics));
        assert_eq!(Command::parse("STATISTICS"), Some(Command::Statistics));
        assert_eq!(Command::parse("stop"), None);
        assert_eq!(Command::Terminate.wire(), "TERMINATE");
    }
}
