//! A TCP proxy that stands between two nodes on loopback and injects network
//! faults: the link can be open, black-holed (connections stay up, nothing moves:
//! a partition TCP has not noticed yet) or cut (every connection is closed and new
//! ones are refused), and healed again.
//!
//! Plain threads and blocking sockets: it is a test tool, and it must keep working
//! while the nodes it separates are frozen or killed.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often a black-holed pump and the acceptor look at the link's state again.
const TICK: Duration = Duration::from_millis(10);
/// How long an idle pump's read waits before it looks at the link again (a cut
/// does not wait for it: it closes the sockets, which ends the read at once).
const IDLE_READ: Duration = Duration::from_millis(100);

/// The state of a proxied link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Link {
    /// Bytes flow both ways.
    Open = 0,
    /// Connections stay up but no byte moves (it waits in the kernel's buffers
    /// and flows again once the link is open): a partition without resets.
    Blackhole = 1,
    /// Every connection is closed, and new ones are accepted and closed at once.
    Cut = 2,
}

impl Link {
    fn from_u8(v: u8) -> Link {
        match v {
            0 => Link::Open,
            1 => Link::Blackhole,
            _ => Link::Cut,
        }
    }
}

struct Shared {
    target: SocketAddr,
    link: AtomicU8,
    stopped: AtomicBool,
    /// Both ends of every live connection, to close them on a cut.
    streams: Mutex<Vec<TcpStream>>,
}

impl Shared {
    fn link(&self) -> Link {
        Link::from_u8(self.link.load(Ordering::Acquire))
    }

    fn close_all(&self) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        for s in streams.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// A running proxy: connect to [`FaultProxy::addr`] instead of the target.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listens on an ephemeral loopback port and forwards every connection to
    /// `target`, with the link open.
    pub fn start(target: SocketAddr) -> io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            target,
            link: AtomicU8::new(Link::Open as u8),
            stopped: AtomicBool::new(false),
            streams: Mutex::new(Vec::new()),
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("fault-proxy".into())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(FaultProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// Where to connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The link's state now.
    pub fn link(&self) -> Link {
        self.shared.link()
    }

    /// Changes the link: a cut closes every connection at once.
    pub fn set(&self, link: Link) {
        self.shared.link.store(link as u8, Ordering::Release);
        if link == Link::Cut {
            self.shared.close_all();
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Release);
        self.shared.close_all();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stopped.load(Ordering::Acquire) {
        match listener.accept() {
            Ok((client, _)) => {
                if shared.link() == Link::Cut {
                    drop(client);
                    continue;
                }
                if let Err(e) = join(client, shared) {
                    tracing::debug!(error = %e, "fault proxy: could not reach the target");
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(TICK),
            Err(e) => {
                tracing::warn!(error = %e, "fault proxy: accept failed");
                std::thread::sleep(TICK);
            }
        }
    }
}

/// Connects to the target and starts the two directions of one connection.
fn join(client: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    client.set_nonblocking(false)?;
    let server = TcpStream::connect_timeout(&shared.target, Duration::from_secs(2))?;
    for s in [&client, &server] {
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(IDLE_READ))?;
    }
    {
        let mut streams = shared.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.push(client.try_clone()?);
        streams.push(server.try_clone()?);
    }
    let (client_in, server_in) = (client.try_clone()?, server.try_clone()?);
    for (from, to) in [(client_in, server), (server_in, client)] {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("fault-proxy-pump".into())
            .spawn(move || pump(from, to, &shared))?;
    }
    Ok(())
}

/// Copies one direction while the link allows it; ends both sockets when either
/// side closes, on a cut, or when the proxy stops.
fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if !wait_while_black_holed(shared) {
            break;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                // The link may have changed while the read waited: a chunk read
                // just before a black hole waits for the link to open again.
                if !wait_while_black_holed(shared) || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

/// Waits while the link is a black hole; false when it was cut or the proxy
/// stopped meanwhile.
fn wait_while_black_holed(shared: &Shared) -> bool {
    loop {
        if shared.stopped.load(Ordering::Acquire) {
            return false;
        }
        match shared.link() {
            Link::Open => return true,
            Link::Cut => return false,
            Link::Blackhole => std::thread::sleep(TICK),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on an ephemeral port.
    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(mut s) = s else { return };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn connect(proxy: &FaultProxy) -> TcpStream {
        let s = TcpStream::connect(proxy.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        s
    }

    fn echo(s: &mut TcpStream, text: &[u8]) -> io::Result<Vec<u8>> {
        s.write_all(text)?;
        let mut got = vec![0u8; text.len()];
        s.read_exact(&mut got)?;
        Ok(got)
    }

    #[test]
    fn an_open_link_forwards_both_ways() {
        let proxy = FaultProxy::start(echo_server()).unwrap();
        let mut s = connect(&proxy);
        assert_eq!(echo(&mut s, b"hello").unwrap(), b"hello");
    }

    #[test]
    fn a_black_hole_holds_bytes_until_the_link_heals() {
        let proxy = FaultProxy::start(echo_server()).unwrap();
        let mut s = connect(&proxy);
        assert_eq!(echo(&mut s, b"before").unwrap(), b"before");
        proxy.set(Link::Blackhole);
        std::thread::sleep(2 * TICK);
        assert!(
            echo(&mut s, b"during").is_err(),
            "bytes crossed a black hole"
        );
        proxy.set(Link::Open);
        let mut got = [0u8; 6];
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"during");
    }

    #[test]
    fn a_cut_closes_connections_and_refuses_new_ones_until_healed() {
        let proxy = FaultProxy::start(echo_server()).unwrap();
        let mut s = connect(&proxy);
        assert_eq!(echo(&mut s, b"up").unwrap(), b"up");
        proxy.set(Link::Cut);
        assert!(
            echo(&mut s, b"gone").is_err(),
            "a cut connection still echoed"
        );
        let mut refused = connect(&proxy);
        assert!(
            echo(&mut refused, b"new").is_err(),
            "a new connection got through"
        );
        proxy.set(Link::Open);
        let mut again = connect(&proxy);
        assert_eq!(echo(&mut again, b"healed").unwrap(), b"healed");
    }
}
