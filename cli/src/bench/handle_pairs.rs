//! The pairs cases of the "zeroring handle" column: N independent PUSH/PULL pairs
//! (`pairs1`, `pairs2`) or REQ/REP pairs (`rr-pairs1`, `rr-pairs2`) over one
//! [`Context`] with N I/O threads, pair i's two sockets on I/O thread i and each
//! socket used from its own plain thread. All pairs warm up, start together and are
//! timed until the last one is done; the figure is the aggregate rate.

use std::sync::{Arc, Barrier};
use std::thread;

use bytes::Bytes;
use zeroring::{Context, Socket, SocketType};

use super::figure::{RunResult, rate, time_clients};

const WARMUP: usize = 100;

/// A context and its pairs: (bound socket, connecting socket, endpoint).
type Pairs = (Context, Vec<(Socket, Socket, String)>);

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// `n` sockets of `bound` then `n` of `connecting` on a context with `n` I/O threads
/// (returned too: dropping it closes the sockets), bound ones bound. A context hands sockets to its I/O threads round-robin, so making all the bound
/// sockets first puts pair i's two sockets on I/O thread i (the N = 1 setup, N times
/// over).
fn pairs_of(n: usize, bound: SocketType, connecting: SocketType) -> Result<Pairs, String> {
    let ctx = Context::with_io_threads(n).map_err(s)?;
    let bound: Vec<Socket> = (0..n)
        .map(|_| ctx.socket(bound).map_err(s))
        .collect::<Result<_, _>>()?;
    let connecting: Vec<Socket> = (0..n)
        .map(|_| ctx.socket(connecting).map_err(s))
        .collect::<Result<_, _>>()?;
    let pairs = bound
        .into_iter()
        .zip(connecting)
        .map(|(b, c)| {
            let ep = b.bind("tcp://127.0.0.1:0").map_err(s)?.to_string();
            Ok((b, c, ep))
        })
        .collect::<Result<_, String>>()?;
    Ok((ctx, pairs))
}

/// `n` PUSH/PULL pairs, `count` messages per pair; aggregate msg/s until the last
/// receiver is done.
pub(super) fn push_pull(size: usize, count: usize, n: usize) -> RunResult {
    let barrier = Arc::new(Barrier::new(2 * n + 1));
    let (mut receivers, mut senders) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (_ctx, pairs) = pairs_of(n, SocketType::Pull, SocketType::Push)?;
    for (pull, push, ep) in pairs {
        let b = barrier.clone();
        receivers.push(thread::spawn(move || -> Result<(), String> {
            for _ in 0..WARMUP {
                pull.recv().map_err(s)?;
            }
            b.wait();
            for _ in 0..count {
                if pull.recv().map_err(s)?.byte_len() != size {
                    return Err("message of the wrong size".into());
                }
            }
            Ok(())
        }));
        let b = barrier.clone();
        senders.push(thread::spawn(move || -> Result<(), String> {
            push.connect(&ep).map_err(s)?;
            let body = Bytes::from(vec![7u8; size]);
            for _ in 0..WARMUP {
                push.send(body.clone()).map_err(s)?;
            }
            b.wait();
            for _ in 0..count {
                push.send(body.clone()).map_err(s)?;
            }
            Ok(())
        }));
    }
    // The receivers' ends are what is timed.
    let elapsed = time_clients(&barrier, receivers)?;
    for sender in senders {
        sender.join().map_err(|_| "PUSH thread panicked")??;
    }
    Ok(Some(rate(n * count, elapsed)))
}

/// `n` REQ/REP pairs, `count` round trips per pair; aggregate round trips/s until the
/// last REQ is done.
pub(super) fn req_rep(size: usize, count: usize, n: usize) -> RunResult {
    let barrier = Arc::new(Barrier::new(n + 1));
    let (mut servers, mut clients) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (_ctx, pairs) = pairs_of(n, SocketType::Rep, SocketType::Req)?;
    for (rep, req, ep) in pairs {
        servers.push(thread::spawn(move || -> Result<(), String> {
            for _ in 0..count + WARMUP {
                let m = rep.recv().map_err(s)?;
                rep.send(m).map_err(s)?;
            }
            Ok(())
        }));
        let b = barrier.clone();
        clients.push(thread::spawn(move || -> Result<(), String> {
            req.connect(&ep).map_err(s)?;
            let body = Bytes::from(vec![7u8; size]);
            for i in 0..count + WARMUP {
                if i == WARMUP {
                    b.wait();
                }
                req.send(body.clone()).map_err(s)?;
                if req.recv().map_err(s)?.byte_len() != size {
                    return Err("reply of the wrong size".into());
                }
            }
            Ok(())
        }));
    }
    let elapsed = time_clients(&barrier, clients)?;
    for server in servers {
        server.join().map_err(|_| "REP thread panicked")??;
    }
    Ok(Some(rate(n * count, elapsed)))
}
