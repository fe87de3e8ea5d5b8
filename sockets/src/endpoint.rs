//! Endpoint strings: `tcp://host:port`, `ipc:///path` and `inproc://name`, parsed
//! and printed.
//!
//! Bind accepts `tcp://*:PORT` (all IPv4 interfaces), `tcp://127.0.0.1:0` or
//! `tcp://127.0.0.1:*` (an ephemeral port) and host names; connect accepts host names
//! such as `localhost`, resolved to IPv4 like libzmq does by default.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::Error;

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// TCP to a host (name or address literal) and port (0: ephemeral, for bind).
    Tcp {
        /// Host name or address literal; `*` means every interface.
        host: String,
        /// Port.
        port: u16,
    },
    /// A Unix domain socket path.
    Ipc(PathBuf),
    /// A name for sockets of the same context (`inproc://name`).
    Inproc(String),
}

impl Endpoint {
    /// A TCP endpoint for a resolved address.
    pub fn from_addr(addr: SocketAddr) -> Endpoint {
        Endpoint::Tcp {
            host: addr.ip().to_string(),
            port: addr.port(),
        }
    }

    /// The TCP port (None for ipc and inproc).
    pub fn port(&self) -> Option<u16> {
        match self {
            Endpoint::Tcp { port, .. } => Some(*port),
            Endpoint::Ipc(_) | Endpoint::Inproc(_) => None,
        }
    }

    /// Resolves a TCP endpoint to socket addresses (IPv4 preferred, like libzmq).
    pub(crate) fn resolve(&self) -> std::io::Result<Vec<SocketAddr>> {
        let Endpoint::Tcp { host, port } = self else {
            return Err(std::io::Error::other("not a tcp endpoint"));
        };
        if host == "*" {
            return Ok(vec![SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                *port,
            )]);
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, *port)]);
        }
        let mut addrs: Vec<SocketAddr> = (bare, *port).to_socket_addrs()?.collect();
        addrs.sort_by_key(|a| !a.is_ipv4());
        if addrs.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("host {host} has no address"),
            ));
        }
        Ok(addrs)
    }
}

fn invalid(endpoint: &str, reason: &'static str) -> Error {
    Error::InvalidEndpoint {
        endpoint: endpoint.to_string(),
        reason,
    }
}

impl FromStr for Endpoint {
    type Err = Error;

    /// ```
    /// use zeroring_sockets::Endpoint;
    /// let e: Endpoint = "tcp://localhost:5555".parse().unwrap();
    /// assert_eq!(e.port(), Some(5555));
    /// assert!("udp://x:1".parse::<Endpoint>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Endpoint, Error> {
        let Some((scheme, rest)) = s.split_once("://") else {
            return Err(invalid(s, "expected transport://address"));
        };
        match scheme {
            "tcp" => {
                let Some((host, port)) = rest.rsplit_once(':') else {
                    return Err(invalid(s, "expected tcp://host:port"));
                };
                if host.is_empty() {
                    return Err(invalid(s, "host is empty"));
                }
                let port = if port == "*" {
                    0
                } else {
                    port.parse::<u16>()
                        .map_err(|_| invalid(s, "port must be a number 0-65535 or *"))?
                };
                Ok(Endpoint::Tcp {
                    host: host.to_string(),
                    port,
                })
            }
            "ipc" => {
                if rest.is_empty() {
                    return Err(invalid(s, "ipc path is empty"));
                }
                if rest.starts_with('@') {
                    return Err(Error::UnsupportedTransport(
                        "ipc abstract namespace (@name)".into(),
                    ));
                }
                Ok(Endpoint::Ipc(PathBuf::from(rest)))
            }
            "inproc" => {
                if rest.is_empty() {
                    return Err(invalid(s, "inproc name is empty"));
                }
                Ok(Endpoint::Inproc(rest.to_string()))
            }
            "pgm" | "epgm" | "tipc" | "vmci" | "udp" | "ws" | "wss" => {
                Err(Error::UnsupportedTransport(scheme.to_string()))
            }
            _ => Err(invalid(s, "unknown transport")),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } if host.contains(':') && !host.starts_with('[') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            Endpoint::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Endpoint::Ipc(p) => write!(f, "ipc://{}", p.display()),
            Endpoint::Inproc(name) => write!(f, "inproc://{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        for s in [
            "tcp://127.0.0.1:5555",
            "tcp://*:80",
            "tcp://localhost:1",
            "ipc:///tmp/x.sock",
            "tcp://[::1]:9",
            "inproc://workers",
        ] {
            assert_eq!(s.parse::<Endpoint>().unwrap().to_string(), s);
        }
        assert_eq!(
            "tcp://127.0.0.1:*".parse::<Endpoint>().unwrap().port(),
            Some(0)
        );
        for bad in [
            "127.0.0.1:5",
            "tcp://:5",
            "tcp://h:99999",
            "tcp://h",
            "ipc://",
            "inproc://",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
        assert!(matches!(
            "pgm://x".parse::<Endpoint>(),
            Err(Error::UnsupportedTransport(_))
        ));
    }

    #[test]
    fn resolves_localhost_to_ipv4_first() {
        let e: Endpoint = "tcp://localhost:7".parse().unwrap();
        let addrs = e.resolve().unwrap();
        assert!(addrs[0].is_ipv4());
        let e: Endpoint = "tcp://*:7".parse().unwrap();
        assert_eq!(e.resolve().unwrap()[0].to_string(), "0.0.0.0:7");
    }
}
