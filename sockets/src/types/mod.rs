//! The socket types: request-reply (REQ, REP, DEALER, ROUTER), pipeline (PUSH,
//! PULL), exclusive pair (PAIR) and publish-subscribe (PUB, SUB, XPUB, XSUB). Each
//! file holds one type's pattern logic.

pub mod dealer;
pub mod pair;
pub mod publisher;
pub mod pull;
pub mod push;
pub mod rep;
pub mod req;
pub mod router;
pub mod subscriber;
pub mod xpub;
pub mod xsub;
