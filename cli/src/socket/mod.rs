//! The socket set-up the everyday tools share (`push`/`pull`/..., `proxy`,
//! `monitor`): socket types as clap values (`kind`), the socket-option flags and how
//! they apply (`options`), and binding and connecting with the resolved endpoints
//! reported on stderr (`endpoints`). The tools use the thread-safe [`zeroring::Socket`]
//! of a [`zeroring::Context`], so one code path serves every socket type.

mod endpoints;
mod kind;
mod options;

pub use endpoints::{Attach, Place, attach, attach_places};
pub use kind::Kind;
pub use options::SocketArgs;
