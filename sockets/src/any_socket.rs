//! [`AnySocket`]: one object-safe trait over every native socket type, for code
//! that holds "a socket" without knowing its type (a `Vec<Box<dyn AnySocket>>`, a
//! tool that takes the type from its arguments).

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use zeroring_zmtp::{Message, SocketType};

use crate::SocketBase;
use crate::error::Result;
use crate::proxy::ProxySocket;

/// A future an [`AnySocket`] returns: boxed (so the trait is object-safe) and not
/// `Send` (native sockets live on their runtime thread).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Any native socket, behind one object-safe trait.
///
/// Every socket type implements it, so generic code can keep a `Box<dyn
/// AnySocket>` (or `&dyn AnySocket`) and reach bind, connect and every option
/// through [`base`](AnySocket::base), and whole messages through
/// [`send_dyn`](AnySocket::send_dyn) and [`recv_dyn`](AnySocket::recv_dyn).
/// Those do what the type's own `send` and `recv` do; a type without the
/// operation (recv on PUSH or PUB, send on PULL or SUB) fails it with
/// [`Error::NotSupported`](crate::Error::NotSupported), and says so beforehand
/// through [`can_send`](AnySocket::can_send) and [`can_recv`](AnySocket::can_recv).
/// A `dyn AnySocket` also works with [`proxy`](crate::proxy).
///
/// Each call allocates its future; on a hot path, use the typed socket. The
/// thread-safe [`Socket`](crate::Socket) is already one type for every socket
/// type, so it needs no such trait.
///
/// ```no_run
/// use zeroring_sockets::{AnySocket, PullSocket, PushSocket};
/// # compio::runtime::Runtime::new().unwrap().block_on(async {
/// let sockets: Vec<Box<dyn AnySocket>> = vec![Box::new(PullSocket::new()), Box::new(PushSocket::new())];
/// let ep = sockets[0].base().bind("tcp://127.0.0.1:0").await?;
/// sockets[1].base().connect(&ep.to_string()).await?;
/// sockets[1].send_dyn("hello".into()).await?;
/// assert_eq!(&sockets[0].recv_dyn().await?[0][..], b"hello");
/// # Ok::<(), zeroring_sockets::Error>(())
/// # });
/// ```
pub trait AnySocket {
    /// The socket's common half: bind, connect, options, monitor, close.
    fn base(&self) -> &SocketBase;

    /// The socket's type.
    fn socket_type(&self) -> SocketType {
        self.base().socket_type()
    }

    /// Whether this socket type can send at all (false for PULL and SUB).
    fn can_send(&self) -> bool;

    /// Whether this socket type can receive at all (false for PUSH and PUB).
    fn can_recv(&self) -> bool;

    /// Sends one whole message, as the type's own `send` does.
    fn send_dyn(&self, msg: Message) -> LocalBoxFuture<'_, Result<()>>;

    /// Receives the next whole message, as the type's own `recv` does
    /// (cancel-safe).
    fn recv_dyn(&self) -> LocalBoxFuture<'_, Result<Message>>;
}

impl<T> AnySocket for T
where
    T: ProxySocket + Deref<Target = SocketBase>,
{
    fn base(&self) -> &SocketBase {
        self
    }

    fn can_send(&self) -> bool {
        ProxySocket::can_send(self)
    }

    fn can_recv(&self) -> bool {
        ProxySocket::can_recv(self)
    }

    fn send_dyn(&self, msg: Message) -> LocalBoxFuture<'_, Result<()>> {
        Box::pin(self.send_message(msg))
    }

    fn recv_dyn(&self) -> LocalBoxFuture<'_, Result<Message>> {
        Box::pin(self.recv_message())
    }
}

impl ProxySocket for dyn AnySocket + '_ {
    async fn recv_message(&self) -> Result<Message> {
        self.recv_dyn().await
    }

    async fn send_message(&self, msg: Message) -> Result<()> {
        self.send_dyn(msg).await
    }

    fn can_recv(&self) -> bool {
        AnySocket::can_recv(self)
    }

    fn can_send(&self) -> bool {
        AnySocket::can_send(self)
    }

    fn socket_type(&self) -> SocketType {
        AnySocket::socket_type(self)
    }
}
