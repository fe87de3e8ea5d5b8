//! [`SocketBase`]: what every socket type offers — bind, connect, unbind,
//! disconnect, close and the libzmq options. Typed sockets dereference to it.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use zeroring_zmtp::SocketType;

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::inproc::registry::Registry;
use crate::options::SocketOptions;
use crate::socket::{self, Core};

/// The part of a socket that does not depend on its type.
///
/// Every typed socket (`ReqSocket`, `RouterSocket`, ...) dereferences to this, so
/// `sock.bind(..)`, `sock.connect(..)` and the option setters work on all of them.
/// Dropping the socket closes it: endpoints stop, and queued messages are still
/// delivered within LINGER.
#[derive(Debug)]
pub struct SocketBase {
    pub(crate) core: Rc<Core>,
}

impl SocketBase {
    pub(crate) fn new(socket_type: SocketType) -> SocketBase {
        SocketBase::new_in(socket_type, Registry::process_default())
    }

    /// A socket whose `inproc://` endpoints live in `inproc`.
    pub(crate) fn new_in(socket_type: SocketType, inproc: Arc<Registry>) -> SocketBase {
        SocketBase {
            core: Core::new(socket_type, inproc),
        }
    }

    /// The socket's type.
    pub fn socket_type(&self) -> SocketType {
        self.core.socket_type()
    }

    /// Binds to an endpoint and starts accepting connections. Returns the resolved
    /// endpoint (with the port the kernel chose for `:0` or `:*`).
    ///
    /// ```no_run
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let rep = zeroring_sockets::RepSocket::new();
    /// let ep = rep.bind("tcp://127.0.0.1:0").await.unwrap();
    /// assert!(ep.to_string().starts_with("tcp://127.0.0.1:"));
    /// # });
    /// ```
    pub async fn bind(&self, endpoint: &str) -> Result<Endpoint> {
        if self.core.is_closed() {
            return Err(Error::Closed);
        }
        socket::bind(&self.core, endpoint).await
    }

    /// Connects to an endpoint in the background and returns at once. The socket
    /// keeps reconnecting (RECONNECT_IVL, RECONNECT_IVL_MAX) until it is closed or
    /// [`disconnect`](Self::disconnect)ed, so connecting before the peer binds works.
    pub async fn connect(&self, endpoint: &str) -> Result<()> {
        if self.core.is_closed() {
            return Err(Error::Closed);
        }
        socket::connect(&self.core, endpoint)
    }

    /// Stops listening on an endpoint (as given to bind, or as bind returned it) and
    /// closes the connections accepted through it.
    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        self.core.stop_endpoint(endpoint)
    }

    /// Stops connecting to an endpoint and closes that connection.
    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.core.stop_endpoint(endpoint)
    }

    /// Closes the socket and waits until its ports and paths are released and its
    /// queued outbound messages are delivered (or LINGER expired), like libzmq's
    /// `zmq_close` followed by context termination. With the default infinite LINGER
    /// this waits for as long as a connected peer does not read.
    ///
    /// Dropping a socket without `close()` starts the same shutdown in the
    /// background; it completes only while the compio runtime keeps running, so call
    /// `close().await` before leaving `block_on` if the last messages matter.
    pub async fn close(&self) {
        self.core.close();
        self.core.wait_released().await;
    }

    /// A new stream of this socket's events (listening, accepted, connected,
    /// handshake succeeded/failed with the reason, disconnected with the reason,
    /// closed). Events before this call are not included.
    pub fn monitor(&self) -> crate::monitor::Monitor {
        self.core.monitor()
    }

    /// Number of peers connected and past the handshake right now.
    pub fn peer_count(&self) -> usize {
        self.core.peer_count()
    }

    /// A copy of the current options (all of them, the type-specific ones too).
    pub fn options(&self) -> SocketOptions {
        self.core.options()
    }

    /// Replaces every option at once, after the same check the setters make
    /// ([`SocketOptions::validate`]); on error nothing changes.
    ///
    /// ```no_run
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// let push = zeroring_sockets::PushSocket::new();
    /// let mut o = push.options();
    /// o.sndhwm = None;
    /// o.linger = Some(std::time::Duration::from_secs(1));
    /// push.set_options(o).unwrap();
    /// # });
    /// ```
    pub fn set_options(&self, options: SocketOptions) -> Result<()> {
        self.core.update_options(|o| *o = options)
    }

    /// Changes one option that cannot be out of range.
    pub(crate) fn update(&self, f: impl FnOnce(&mut SocketOptions)) {
        self.core
            .update_options(f)
            .expect("an option without a range keeps the options valid");
    }

    /// Changes one option that must be checked ([`SocketOptions::validate`]).
    fn try_update(&self, f: impl FnOnce(&mut SocketOptions)) -> Result<()> {
        self.core.update_options(f)
    }

    crate::options::option_setters!();

    /// Installs the authenticator this socket asks about each peer (the ZAP
    /// handler, RFC 27), or with `None` removes it. It decides for a PLAIN or
    /// CURVE server (CURVE_SERVER, PLAIN_SERVER) and for NULL when a
    /// ZAP_DOMAIN is set. A socket made `with_context` also consults its
    /// context's authenticator when it has none of its own. Applies to
    /// handshakes from now on.
    ///
    /// ```no_run
    /// # compio::runtime::Runtime::new().unwrap().block_on(async {
    /// use zeroring_sockets::{Authenticator, RepSocket};
    /// let auth = Authenticator::new();
    /// auth.add_plain_user("admin", "secret");
    /// let rep = RepSocket::new();
    /// rep.set_plain_server(true)?;
    /// rep.set_authenticator(auth);
    /// rep.bind("tcp://127.0.0.1:0").await?;
    /// # Ok::<(), zeroring_sockets::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_authenticator(&self, authenticator: impl Into<Option<crate::Authenticator>>) {
        self.core.set_authenticator(authenticator.into());
    }
}

/// Dropping a socket closes it as [`SocketBase::close`] does, without waiting:
/// endpoints stop at once, and queued messages are still delivered within LINGER by
/// the socket's background tasks, for as long as the compio runtime keeps running.
/// If the runtime stops first (the end of `block_on`, or of `#[zeroring::main]`),
/// the messages still queued are lost; zeroring then logs a warning with their
/// count. Call `close().await` before leaving the runtime when they matter.
impl Drop for SocketBase {
    fn drop(&mut self) {
        self.core.close();
    }
}

/// Implements construction and `Deref<Target = SocketBase>` for a typed socket.
macro_rules! typed_socket {
    ($name:ident, $kind:expr) => {
        impl $name {
            /// Creates a socket with default options. It must be used on a compio
            /// runtime thread.
            pub fn new() -> $name {
                $name::from_base($crate::base::SocketBase::new($kind))
            }

            pub(crate) fn new_in(
                inproc: std::sync::Arc<$crate::inproc::registry::Registry>,
            ) -> $name {
                $name::from_base($crate::base::SocketBase::new_in($kind, inproc))
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl std::ops::Deref for $name {
            type Target = $crate::base::SocketBase;
            fn deref(&self) -> &$crate::base::SocketBase {
                &self.base
            }
        }
    };
}
pub(crate) use typed_socket;

/// `recv_with_peer` for a receiving socket type: its `recv`, and the
/// properties of the peer that sent the message.
macro_rules! recv_with_peer {
    () => {
        /// Like [`recv`](Self::recv), with the properties of the peer that sent
        /// the message (its user id, ZAP metadata, address, CURVE key...):
        /// `Some` when this socket authenticated that peer (as the PLAIN or
        /// CURVE server, or NULL with a ZAP_DOMAIN and an authenticator), `None`
        /// otherwise. See [`PeerProperties`](crate::PeerProperties).
        pub async fn recv_with_peer(
            &self,
        ) -> $crate::error::Result<(
            $crate::Message,
            Option<std::sync::Arc<$crate::PeerProperties>>,
        )> {
            let msg = self.recv().await?;
            // Read before anything else runs: the receive just noted its sender.
            Ok((msg, self.base.core.last_peer()))
        }
    };
}
pub(crate) use recv_with_peer;
