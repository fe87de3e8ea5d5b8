//! The socket set-up the everyday tools share (`push`/`pull`/..., `proxy`,
//! `monitor`): socket types as clap values ([`socket_type`]), the socket-option flags
//! and how they apply (`options`), and binding and connecting with the resolved
//! endpoints reported on stderr (`endpoints`). The tools use the thread-safe [`zeroring::Socket`]
//! of a [`zeroring::Context`], so one code path serves every socket type.

mod endpoints;
mod options;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use zeroring::SocketType;

pub use endpoints::{Attach, Place, attach, attach_places};
pub use options::SocketArgs;

/// Every socket type, by its name in lower case (for [`socket_type`]).
pub const ALL_TYPES: &[&str] = &[
    "req", "rep", "dealer", "router", "pub", "sub", "xpub", "xsub", "push", "pull", "pair",
];

/// The clap value parser of a `--type` flag that takes one of `names` (socket type
/// names in lower case, e.g. [`ALL_TYPES`]), as a [`SocketType`].
pub fn socket_type(names: &'static [&'static str]) -> impl TypedValueParser<Value = SocketType> {
    PossibleValuesParser::new(names).map(|name| {
        SocketType::from_bytes(name.to_ascii_uppercase().as_bytes())
            .expect("the names are socket type names")
    })
}
