//! Fault testing of the replicated log: a checker that the clients' history of
//! writes and reads is linearizable, and a TCP proxy between nodes that can cut
//! and restore their links (network partitions on loopback).

pub mod linearizable;
pub mod proxy;
