//! `with_context` for the native socket types: a native socket that shares a
//! [`Context`]'s `inproc://` names and authenticator while it runs on the
//! current compio runtime.

use super::Context;
use crate::types::dealer::DealerSocket;
use crate::types::pair::PairSocket;
use crate::types::publisher::PubSocket;
use crate::types::pull::PullSocket;
use crate::types::push::PushSocket;
use crate::types::rep::RepSocket;
use crate::types::req::ReqSocket;
use crate::types::router::RouterSocket;
use crate::types::subscriber::SubSocket;
use crate::types::xpub::XpubSocket;
use crate::types::xsub::XsubSocket;

macro_rules! with_context {
    ($($name:ident),*) => {$(
        impl $name {
        /// Creates a socket whose `inproc://` endpoints are those of
        /// `context`, so it can reach that context's thread-safe
        /// [`Socket`](crate::Socket)s (and native sockets made the same way)
        /// over inproc. Sockets made with [`new`](Self::new) share the
        /// process's default inproc namespace instead. The socket still runs
        /// on the current compio runtime.
        ///
        /// Without an authenticator of its own
        /// ([`set_authenticator`](crate::SocketBase::set_authenticator)), the
        /// socket consults the context's
        /// ([`Context::set_authenticator`](crate::Context::set_authenticator)).
        pub fn with_context(context: &Context) -> $name {
            let socket = $name::new_in(context.inproc());
            socket.core.set_context_authenticator(context.authenticator_slot());
            socket
        }
        }
    )*};
}

with_context!(
    DealerSocket,
    PairSocket,
    PubSocket,
    PullSocket,
    PushSocket,
    RepSocket,
    ReqSocket,
    RouterSocket,
    SubSocket,
    XpubSocket,
    XsubSocket
);
