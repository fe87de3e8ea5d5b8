//! Transports: TCP and Unix-domain (ipc) streams and listeners behind one type.

use std::io;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

use compio::BufResult;
use compio::buf::{IntoInner, IoBuf, IoBufMut, IoVectoredBuf};
use compio::io::{AsyncRead, AsyncWriteExt};
use compio::net::{TcpListener, TcpSocket, TcpStream, UnixListener, UnixSocket, UnixStream};
use socket2::SockRef;

use crate::endpoint::Endpoint;
use crate::error::Error;

/// A connected byte stream.
#[derive(Debug, Clone)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    /// Reads into the spare capacity of `buf`, after the bytes it already holds.
    ///
    /// compio's `read` fills a buffer from its start and only grows its length, so a
    /// read into a buffer holding a partial frame would overwrite that frame. Reading
    /// through `uninit()` appends instead.
    pub(crate) async fn read<B: IoBufMut>(&mut self, buf: B) -> BufResult<usize, B> {
        let BufResult(r, b) = match self {
            Stream::Tcp(s) => s.read(buf.uninit()).await,
            Stream::Unix(s) => s.read(buf.uninit()).await,
        };
        BufResult(r, b.into_inner())
    }

    /// Writes all of `buf`.
    pub(crate) async fn write_all<B: IoBuf>(&mut self, buf: B) -> BufResult<(), B> {
        match self {
            Stream::Tcp(s) => s.write_all(buf).await,
            Stream::Unix(s) => s.write_all(buf).await,
        }
    }

    /// Writes all of a vectored buffer.
    pub(crate) async fn write_vectored_all<B: IoVectoredBuf>(
        &mut self,
        buf: B,
    ) -> BufResult<(), B> {
        match self {
            Stream::Tcp(s) => s.write_vectored_all(buf).await,
            Stream::Unix(s) => s.write_vectored_all(buf).await,
        }
    }

    /// Shuts both directions down at once; a pending read then returns end-of-file.
    /// Errors (already closed, not connected) are ignored: the goal is a dead socket.
    pub(crate) fn shutdown_now(&self) {
        let _ = match self {
            Stream::Tcp(s) => SockRef::from(s).shutdown(Shutdown::Both),
            Stream::Unix(s) => SockRef::from(s).shutdown(Shutdown::Both),
        };
    }

    /// Shuts the sending side down: the peer reads what was sent, then
    /// end-of-file. Reading goes on.
    pub(crate) fn shutdown_write(&self) {
        let _ = match self {
            Stream::Tcp(s) => SockRef::from(s).shutdown(Shutdown::Write),
            Stream::Unix(s) => SockRef::from(s).shutdown(Shutdown::Write),
        };
    }

    /// Bytes sent but not yet taken by the peer: unacknowledged over TCP, unread
    /// by the peer over a Unix socket (SIOCOUTQ).
    pub(crate) fn unsent_bytes(&self) -> io::Result<usize> {
        let fd = match self {
            Stream::Tcp(s) => SockRef::from(s).as_raw_fd(),
            Stream::Unix(s) => SockRef::from(s).as_raw_fd(),
        };
        let mut n: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (SIOCOUTQ) writes one int through the pointer, which
        // points at a live c_int; the fd belongs to this stream.
        let r = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n as *mut libc::c_int) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// One non-blocking `send` straight from the caller (no io_uring submission):
    /// returns how many bytes the kernel took, 0 when it would block.
    pub(crate) fn try_send_now(&self, bytes: &[u8]) -> io::Result<usize> {
        let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
        let r = match self {
            Stream::Tcp(s) => SockRef::from(s).send_with_flags(bytes, flags),
            Stream::Unix(s) => SockRef::from(s).send_with_flags(bytes, flags),
        };
        match r {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            other => other,
        }
    }

    /// Applies per-connection options (TCP_NODELAY always, keepalive if asked).
    pub(crate) fn configure(&self, keepalive: Option<bool>) {
        if let Stream::Tcp(s) = self {
            let _ = s.set_nodelay(true);
            if let Some(k) = keepalive {
                let _ = SockRef::from(s).set_keepalive(k);
            }
        }
    }

    /// The peer's IP address (`None` over ipc), for the authenticator.
    pub(crate) fn peer_ip(&self) -> Option<std::net::IpAddr> {
        match self {
            Stream::Tcp(s) => s.peer_addr().ok().map(|a| a.ip().to_canonical()),
            Stream::Unix(_) => None,
        }
    }

    /// A printable description of the remote side, for logs.
    pub(crate) fn peer_label(&self) -> String {
        match self {
            Stream::Tcp(s) => s
                .peer_addr()
                .map(|a| format!("tcp://{a}"))
                .unwrap_or_else(|_| "tcp://?".into()),
            Stream::Unix(_) => "ipc peer".into(),
        }
    }
}

/// Connects to an endpoint once.
pub(crate) async fn connect(endpoint: &Endpoint) -> io::Result<Stream> {
    match endpoint {
        Endpoint::Tcp { .. } => {
            let addrs = endpoint.resolve()?;
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect(addr).await {
                    Ok(s) => return Ok(Stream::Tcp(s)),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| io::Error::other("no address to connect to")))
        }
        Endpoint::Ipc(path) => Ok(Stream::Unix(UnixStream::connect(path).await?)),
        Endpoint::Inproc(_) => Err(io::Error::other("inproc endpoints have no stream")),
    }
}

/// A bound listener.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl Listener {
    /// Binds an endpoint, listening with `backlog` pending connections (ZMQ_BACKLOG),
    /// and returns the listener with its resolved endpoint.
    pub(crate) async fn bind(
        endpoint: &Endpoint,
        backlog: u32,
    ) -> Result<(Listener, Endpoint), Error> {
        let bind_err = |source| Error::Bind {
            endpoint: endpoint.to_string(),
            source,
        };
        match endpoint {
            Endpoint::Tcp { .. } => {
                let addrs = endpoint.resolve().map_err(bind_err)?;
                let listener = tcp_listen(addrs[0], backlog).await.map_err(bind_err)?;
                let local = listener.local_addr().map_err(bind_err)?;
                Ok((Listener::Tcp(listener), Endpoint::from_addr(local)))
            }
            Endpoint::Ipc(path) => {
                // libzmq replaces a stale socket file left by a previous process.
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(path);
                    }
                }
                let socket = UnixSocket::new_stream().await.map_err(bind_err)?;
                socket.bind(path).await.map_err(bind_err)?;
                let listener = socket
                    .listen(backlog_i32(backlog))
                    .await
                    .map_err(bind_err)?;
                Ok((
                    Listener::Unix(listener, path.clone()),
                    Endpoint::Ipc(path.clone()),
                ))
            }
            Endpoint::Inproc(_) => Err(bind_err(io::Error::other(
                "inproc endpoints are bound in the context, not the kernel",
            ))),
        }
    }

    /// Accepts one connection.
    pub(crate) async fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(l) => Ok(Stream::Tcp(l.accept().await?.0)),
            Listener::Unix(l, _) => Ok(Stream::Unix(l.accept().await?.0)),
        }
    }
}

/// A TCP listener with SO_REUSEADDR (as libzmq) and the given backlog.
async fn tcp_listen(addr: std::net::SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4().await?
    } else {
        TcpSocket::new_v6().await?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr).await?;
    socket.listen(backlog_i32(backlog)).await
}

fn backlog_i32(backlog: u32) -> i32 {
    i32::try_from(backlog).unwrap_or(i32::MAX)
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix(_, path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}
