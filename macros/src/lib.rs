//! zeroring-macros: the `#[zeroring::main]` and `#[zeroring::test]` attributes.
//!
//! This crate owns only the two entry-point attributes that the `zeroring` facade
//! re-exports. Each one forwards to the compio attribute of the same name,
//! re-exported by the facade as `zeroring::compio`, with compio's `crate` argument
//! filled in:
//!
//! ```text
//! #[zeroring::main(event_interval = 8)]
//! async fn main() { /* ... */ }
//! // becomes
//! #[::zeroring::compio::main(crate = "::zeroring::compio", event_interval = 8)]
//! async fn main() { /* ... */ }
//! ```
//!
//! Unless the arguments hold a `with_proactor(..)` of their own, a
//! `with_proactor(coop_taskrun = true, taskrun_flag = true)` is added: the io_uring
//! settings `zeroring::runtime_builder` documents (replies reach a spinning REQ or
//! REP without an interrupt; Linux 5.19 or later, else compio falls back to its
//! polling driver).
//!
//! compio's attributes otherwise look for a `compio` or `compio-runtime` entry in
//! the user's Cargo.toml, which a crate that depends only on `zeroring` does not
//! have. Every argument given by the user is passed through unchanged, so
//! everything compio's attributes accept (a `RuntimeBuilder` method as
//! `name = value`, `with_proactor(..)`, `console` for `main`) works here too.
//! The expansion names the facade as `::zeroring`, so the dependency must not be
//! renamed. Use the crate through the facade; its examples are tested there.
//! ## Cargo features
//!
//! | feature | default | what it gives |
//! |---|---|---|
//! | (none) | | No optional features. |
#![warn(missing_docs)]

use proc_macro::{Delimiter, Group, Punct, Spacing, TokenStream, TokenTree};

/// Run an `async fn main` on a compio runtime of its own.
///
/// Expands to `#[::zeroring::compio::main(crate = "::zeroring::compio", ARGS)]`
/// on the same function, where `ARGS` are the arguments given here, for example
/// `#[zeroring::main(event_interval = 8)]`, followed by zeroring's proactor
/// settings unless `ARGS` has a `with_proactor(..)`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    forward("main", args, item)
}

/// Run an `async fn` test on a compio runtime of its own.
///
/// Expands to `#[::zeroring::compio::test(crate = "::zeroring::compio", ARGS)]`
/// on the same function, which compio turns into a `#[test]`. Write it as
/// `#[zeroring::test]` rather than importing it as `test`, which would shadow the
/// standard `#[test]` that compio's expansion relies on.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    forward("test", args, item)
}

/// `#[::zeroring::compio::<name>(crate = "::zeroring::compio", <args>)] <item>`.
fn forward(name: &str, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut inner: TokenStream = "crate = \"::zeroring::compio\""
        .parse()
        .expect("the crate argument is valid tokens");
    let own_proactor = args
        .clone()
        .into_iter()
        .any(|t| matches!(&t, TokenTree::Ident(i) if i.to_string() == "with_proactor"));
    if !args.is_empty() {
        inner.extend([TokenTree::Punct(Punct::new(',', Spacing::Alone))]);
        inner.extend(args);
    }
    if !own_proactor {
        let settings: TokenStream = ", with_proactor(coop_taskrun = true, taskrun_flag = true)"
            .parse()
            .expect("the proactor settings are valid tokens");
        inner.extend(settings);
    }

    let mut attr: TokenStream = format!("::zeroring::compio::{name}")
        .parse()
        .expect("the attribute path is valid tokens");
    attr.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, inner))]);

    let mut out = TokenStream::new();
    out.extend([
        TokenTree::Punct(Punct::new('#', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Bracket, attr)),
    ]);
    out.extend(item);
    out
}
