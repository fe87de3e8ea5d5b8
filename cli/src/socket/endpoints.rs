//! Binding and connecting: [`Attach`] (the `--bind`/`--connect` flags), czmq-style
//! endpoints for the proxy (`@tcp://...` binds, `>tcp://...` connects, a bare one
//! binds), and [`attach`], which reports every resolved bind on stderr as
//! `zeroring: listening on tcp://127.0.0.1:41233` so that a port chosen with `:0`
//! can be read by a script.

use clap::Args;
use zeroring::Socket;

use crate::CliError;

/// `--bind EP` / `--connect EP`, each repeatable.
#[derive(Debug, Clone, Default, Args)]
pub struct Attach {
    /// Bind to this endpoint (repeatable; `tcp://127.0.0.1:0` picks a port, reported on stderr).
    #[arg(long, short = 'b', value_name = "EP")]
    pub bind: Vec<String>,
    /// Connect to this endpoint (repeatable; connects in the background and reconnects).
    #[arg(long, short = 'c', value_name = "EP")]
    pub connect: Vec<String>,
}

impl Attach {
    /// Whether no endpoint was given.
    pub fn is_empty(&self) -> bool {
        self.bind.is_empty() && self.connect.is_empty()
    }
}

/// Where a czmq-style endpoint goes: bound or connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `@EP` or a bare `EP`.
    Bind(String),
    /// `>EP`.
    Connect(String),
}

impl Place {
    /// Reads `@EP`, `>EP` or `EP` (bind).
    pub fn parse(text: &str) -> Result<Place, String> {
        let place = match text.as_bytes().first() {
            Some(b'>') => Place::Connect(text[1..].to_string()),
            Some(b'@') => Place::Bind(text[1..].to_string()),
            _ => Place::Bind(text.to_string()),
        };
        match &place {
            Place::Bind(ep) | Place::Connect(ep) if ep.is_empty() => {
                Err(format!("{text:?} names no endpoint"))
            }
            _ => Ok(place),
        }
    }
}

/// Binds and connects `socket` as `attach` says; `what` names the socket in
/// messages (e.g. "PULL", "frontend ROUTER"). Returns the resolved bound endpoints.
pub fn attach(socket: &Socket, what: &str, attach: &Attach) -> Result<Vec<String>, CliError> {
    let places: Vec<Place> = (attach.bind.iter().cloned().map(Place::Bind))
        .chain(attach.connect.iter().cloned().map(Place::Connect))
        .collect();
    attach_places(socket, what, &places)
}

/// Binds and connects `socket` to each of `places`, in order. Returns the resolved
/// bound endpoints.
pub fn attach_places(
    socket: &Socket,
    what: &str,
    places: &[Place],
) -> Result<Vec<String>, CliError> {
    let mut bound = Vec::new();
    for place in places {
        match place {
            Place::Bind(ep) => {
                let resolved = socket
                    .bind(ep)
                    .map_err(|e| CliError(format!("{what} cannot bind to {ep}: {e}")))?;
                eprintln!("zeroring: {what} listening on {resolved}");
                bound.push(resolved.to_string());
            }
            Place::Connect(ep) => socket
                .connect(ep)
                .map_err(|e| CliError(format!("{what} cannot connect to {ep}: {e}")))?,
        }
    }
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn czmq_prefixes() {
        assert_eq!(
            Place::parse("@tcp://*:1"),
            Ok(Place::Bind("tcp://*:1".into()))
        );
        assert_eq!(
            Place::parse(">tcp://h:1"),
            Ok(Place::Connect("tcp://h:1".into()))
        );
        assert_eq!(Place::parse("ipc://x"), Ok(Place::Bind("ipc://x".into())));
        assert!(Place::parse(">").is_err());
    }
}
