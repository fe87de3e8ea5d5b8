//! ZMTP 3.1 (the ZeroMQ Message Transport Protocol) without I/O and without a clock.
//!
//! This crate holds every piece of protocol logic zeroring needs on the wire, in the
//! style of `quinn-proto`: you feed it bytes split at any point and get greetings,
//! frames and commands out; you ask it to encode and it appends bytes to a buffer.
//! The `zeroring-sockets` crate drives it with the compio runtime.
//!
//! - [`greeting`]: the 64-byte greeting, version detection from the first 11 bytes.
//! - [`frame`]: frame headers, the incremental zero-copy [`FrameDecoder`] and encoders.
//! - [`command`]: READY, ERROR, SUBSCRIBE, CANCEL, PING, PONG.
//! - [`metadata`]: READY properties with case-insensitive names.
//! - [`socket_type`]: socket types and the compatibility matrix.
//! - [`handshake`]: the connection handshake (greetings, then the mechanism) as a
//!   state machine.
//! - [`mechanism`]: the security mechanisms NULL, PLAIN (RFC 24) and CURVE
//!   (RFC 26), configured with [`Security`]; CURVE keys and [`curve_keypair`].
//! - [`auth`]: the authentication pause (ZAP, RFC 27): [`AuthRequest`] out,
//!   [`AuthResult`] in.
//! - [`session`]: one whole connection (handshake, messages under limits,
//!   heartbeats, subscriptions, CURVE encryption) as a deterministic state
//!   machine driven with bytes and the caller's clock.
//! - [`z85`]: the Z85 encoding of keys (RFC 32).
//! - [`Random`]: where the mechanisms get random bytes (injectable for tests).
//! - [`message`]: [`Message`], a multipart message of `Bytes` frames.
//! - [`subscription`]: the 3.0 and 3.1 forms of subscriptions.
//!
//! ```
//! use bytes::BytesMut;
//! use zeroring_zmtp::{FrameDecoder, frame};
//!
//! let mut wire = BytesMut::new();
//! frame::encode_frame(&mut wire, b"hello", true);
//! frame::encode_frame(&mut wire, b"world", false);
//! let mut dec = FrameDecoder::new(None);
//! let first = dec.decode(&mut wire).unwrap().unwrap();
//! assert_eq!(&first.body[..], b"hello");
//! assert!(first.more);
//! ```
//! ## Cargo features
//!
//! | feature | default | what it gives |
//! |---|---|---|
//! | (none) | | No optional features: CURVE (RustCrypto's `crypto_box`) is always built; the crate has no I/O, no clock and no runtime dependency. |
#![warn(missing_docs)]

pub mod auth;
pub mod command;
pub mod error;
pub mod frame;
pub mod greeting;
pub mod handshake;
pub mod mechanism;
mod mechanism_name;
pub mod message;
pub mod metadata;
mod peer;
mod random;
pub mod session;
pub mod socket_type;
pub mod subscription;
pub mod z85;
mod zap_status;

pub use auth::{AuthRequest, AuthResult, Credentials, SecretBytes, ZapStatus};
pub use command::Command;
pub use error::ZmtpError;
pub use frame::{Frame, FrameDecoder};
pub use greeting::{Greeting, Mechanism, Version};
pub use handshake::{Handshake, HandshakeConfig, PeerInfo};
pub use mechanism::curve::{CurveBox, CurveKeyPair, CurvePublicKey, CurveSecretKey, curve_keypair};
pub use mechanism::{PlainCredentials, Security};
pub use message::Message;
pub use metadata::Metadata;
pub use random::Random;
pub use session::{CloseReason, Event, Session, SessionConfig, Step};
pub use socket_type::SocketType;
