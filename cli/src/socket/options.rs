//! [`SocketArgs`]: the socket-option flags of the everyday tools (HWMs, routing id,
//! linger, reconnect interval, heartbeats, CURVE keys, ROUTER_MANDATORY) and how
//! they become a socket's [`SocketOptions`](zeroring::SocketOptions).

use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use zeroring::{CurvePublicKey, CurveSecretKey, Socket, SocketType, curve_keypair};

use crate::{CliError, values};

/// `--sndhwm N|unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<usize>);

fn limit(text: &str) -> Result<Limit, String> {
    values::limit(text).map(Limit)
}

/// The socket options a tool's command line can set; unset flags keep zeroring's
/// (libzmq's) defaults.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Socket options")]
pub struct SocketArgs {
    /// ZMQ_SNDHWM: messages queued per peer (default 1000).
    #[arg(long, value_name = "N|unlimited", value_parser = limit)]
    pub sndhwm: Option<Limit>,
    /// ZMQ_RCVHWM: messages queued per peer on the receive side (default 1000).
    #[arg(long, value_name = "N|unlimited", value_parser = limit)]
    pub rcvhwm: Option<Limit>,
    /// ZMQ_ROUTING_ID: this socket's identity as its peers' ROUTERs see it.
    #[arg(long, alias = "routing-id", value_name = "TEXT")]
    pub identity: Option<String>,
    /// ZMQ_LINGER: how long unsent messages may still go out at exit (default: until delivered).
    #[arg(long, value_name = "MS", value_parser = values::millis)]
    pub linger: Option<Duration>,
    /// ZMQ_RECONNECT_IVL (default 100).
    #[arg(long, value_name = "MS", value_parser = values::millis)]
    pub reconnect_ivl: Option<Duration>,
    /// ZMQ_RECONNECT_IVL_MAX: upper bound of an exponential backoff (default: none).
    #[arg(long, value_name = "MS", value_parser = values::millis)]
    pub reconnect_ivl_max: Option<Duration>,
    /// ZMQ_HEARTBEAT_IVL: send a PING this often.
    #[arg(long, value_name = "MS", value_parser = values::millis)]
    pub heartbeat_ivl: Option<Duration>,
    /// ZMQ_HEARTBEAT_TTL announced in the PINGs.
    #[arg(long, value_name = "MS", value_parser = values::millis, requires = "heartbeat_ivl")]
    pub heartbeat_ttl: Option<Duration>,
    /// ZMQ_HEARTBEAT_TIMEOUT: drop a peer silent this long after a PING (default: the interval).
    #[arg(long, value_name = "MS", value_parser = values::millis, requires = "heartbeat_ivl")]
    pub heartbeat_timeout: Option<Duration>,
    /// ZMQ_ROUTER_MANDATORY (ROUTER): fail on an unknown routing id instead of dropping.
    #[arg(long)]
    pub router_mandatory: bool,
    /// ZMQ_CURVE_SERVER: be the CURVE server (needs --curve-secret-key).
    #[arg(long, requires = "curve_secret_key")]
    pub curve_server: bool,
    /// ZMQ_CURVE_SECRETKEY in Z85 (40 characters; `zeroring curve keygen` makes one).
    #[arg(long, value_name = "Z85")]
    pub curve_secret_key: Option<String>,
    /// ZMQ_CURVE_SERVERKEY in Z85: be a CURVE client of this server (a fresh key pair
    /// is made when --curve-secret-key is not given).
    #[arg(long, value_name = "Z85", conflicts_with = "curve_server")]
    pub curve_server_key: Option<String>,
}

impl SocketArgs {
    /// Applies the flags to `socket` (of type `ty`).
    pub fn apply(&self, socket: &Socket, ty: SocketType) -> Result<(), CliError> {
        let mut o = socket.options();
        if let Some(Limit(n)) = self.sndhwm {
            o.sndhwm = n;
        }
        if let Some(Limit(n)) = self.rcvhwm {
            o.rcvhwm = n;
        }
        if let Some(id) = &self.identity {
            o.routing_id = Some(Bytes::copy_from_slice(id.as_bytes()));
        }
        if self.linger.is_some() {
            o.linger = self.linger;
        }
        if let Some(ivl) = self.reconnect_ivl {
            o.reconnect_ivl = Some(ivl);
        }
        if self.reconnect_ivl_max.is_some() {
            o.reconnect_ivl_max = self.reconnect_ivl_max;
        }
        if self.heartbeat_ivl.is_some() {
            o.heartbeat_ivl = self.heartbeat_ivl;
            o.heartbeat_ttl = self.heartbeat_ttl;
            o.heartbeat_timeout = self.heartbeat_timeout;
        }
        if self.router_mandatory {
            if ty != SocketType::Router {
                return Err(CliError(format!(
                    "--router-mandatory applies to ROUTER sockets, not {}",
                    ty.as_str()
                )));
            }
            o.router_mandatory = true;
        }
        let secret = self
            .curve_secret_key
            .as_deref()
            .map(|z85| {
                z85.parse::<CurveSecretKey>().map_err(|e| {
                    CliError(format!("--curve-secret-key is not a Z85 CURVE key: {e}"))
                })
            })
            .transpose()?;
        if self.curve_server {
            o.curve_server = true;
            o.curve_secretkey = secret;
        } else if let Some(server) = &self.curve_server_key {
            let server = server
                .parse::<CurvePublicKey>()
                .map_err(|e| CliError(format!("--curve-server-key is not a Z85 CURVE key: {e}")))?;
            let secret = match secret {
                Some(secret) => secret,
                None => curve_keypair()
                    .map_err(|e| CliError(format!("cannot make a CURVE key pair: {e}")))?
                    .secret()
                    .clone(),
            };
            o.curve_serverkey = Some(server);
            o.curve_secretkey = Some(secret);
        } else if secret.is_some() {
            return Err(CliError(
                "--curve-secret-key needs --curve-server (be the server) or \
                 --curve-server-key (be a client)"
                    .into(),
            ));
        }
        socket
            .set_options(o)
            .map_err(|e| CliError(format!("bad socket option: {e}")))
    }
}
