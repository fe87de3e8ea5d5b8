//! The socket types: request-reply (REQ, REP, DEALER, ROUTER), pipeline (PUSH,
//! PULL) and exclusive pair (PAIR). Each file holds one type's pattern logic.

pub mod dealer;
pub mod pair;
pub mod pull;
pub mod push;
pub mod rep;
pub mod req;
pub mod router;
