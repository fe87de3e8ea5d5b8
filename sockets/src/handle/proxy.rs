//! The built-in proxy over thread-safe sockets: [`Socket`] implements
//! [`ProxySocket`], and [`proxy_blocking`] / [`proxy_steerable_blocking`] run
//! [`proxy`](crate::proxy) / [`proxy_steerable`](crate::proxy_steerable) on the
//! calling thread, like libzmq's `zmq_proxy`.

use zeroring_zmtp::{Message, SocketType};

use super::Socket;
use crate::error::{Error, Result};
use crate::proxy::{ProxySocket, proxy, proxy_steerable};
use crate::xthread::park;

impl ProxySocket for Socket {
    async fn recv_message(&self) -> Result<Message> {
        self.recv_async().await
    }

    async fn send_message(&self, msg: Message) -> Result<()> {
        self.send_async(msg).await
    }

    fn can_recv(&self) -> bool {
        !matches!(
            Socket::socket_type(self),
            SocketType::Push | SocketType::Pub
        )
    }

    fn can_send(&self) -> bool {
        !matches!(
            Socket::socket_type(self),
            SocketType::Pull | SocketType::Sub
        )
    }

    fn socket_type(&self) -> SocketType {
        Socket::socket_type(self)
    }
}

/// [`proxy`](crate::proxy) for thread-safe sockets, on the calling thread (rust-zmq's
/// `zmq::proxy` / `zmq::proxy_with_capture`): forwards messages between
/// `frontend` and `backend`, copying each to `capture` if given, until a socket
/// fails (for example with [`Error::Closed`] when the context is terminated),
/// and returns that error.
///
/// ```no_run
/// use zeroring_sockets::{Context, SocketType, proxy_blocking};
/// let ctx = Context::new()?;
/// let frontend = ctx.socket(SocketType::Router)?;
/// frontend.bind("tcp://127.0.0.1:5559")?;
/// let backend = ctx.socket(SocketType::Dealer)?;
/// backend.bind("tcp://127.0.0.1:5560")?;
/// proxy_blocking(&frontend, &backend, None)
/// # .unwrap_err(); Ok::<(), zeroring_sockets::Error>(())
/// ```
pub fn proxy_blocking(frontend: &Socket, backend: &Socket, capture: Option<&Socket>) -> Result<()> {
    park::block_on(proxy(frontend, backend, capture), None).unwrap_or(Err(Error::Closed))
}

/// [`proxy_steerable`](crate::proxy_steerable) for thread-safe sockets, on the
/// calling thread (libzmq's `zmq_proxy_steerable`): `control` takes `PAUSE`,
/// `RESUME`, `TERMINATE` (returns `Ok`) and `STATISTICS`.
pub fn proxy_steerable_blocking(
    frontend: &Socket,
    backend: &Socket,
    capture: Option<&Socket>,
    control: &Socket,
) -> Result<()> {
    park::block_on(proxy_steerable(frontend, backend, capture, control), None)
        .unwrap_or(Err(Error::Closed))
}
