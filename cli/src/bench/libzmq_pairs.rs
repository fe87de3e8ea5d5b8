//! The pairs cases of libzmq's column (crate `zmq`): N independent PUSH/PULL pairs
//! (`pairs1`, `pairs2`) or REQ/REP pairs (`rr-pairs1`, `rr-pairs2`) over one context
//! with N I/O threads (`ZMQ_IO_THREADS`), each socket on its own thread. All pairs warm
//! up, start together and are timed until the last one is done; the figure is the
//! aggregate rate.

use std::sync::{Arc, Barrier};
use std::thread;

use super::figure::{RunResult, rate, time_clients};

const WARMUP: usize = 100;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// A context with `n` I/O threads.
fn context(n: usize) -> Result<zmq::Context, String> {
    let ctx = zmq::Context::new();
    ctx.set_io_threads(i32::try_from(n).map_err(s)?)
        .map_err(s)?;
    Ok(ctx)
}

/// A socket of `ty` bound to a free loopback port, and the endpoint to connect to.
fn bound(ctx: &zmq::Context, ty: zmq::SocketType) -> Result<(zmq::Socket, String), String> {
    let sock = ctx.socket(ty).map_err(s)?;
    sock.bind("tcp://127.0.0.1:*").map_err(s)?;
    let ep = sock
        .get_last_endpoint()
        .map_err(s)?
        .map_err(|_| "endpoint is not UTF-8".to_string())?;
    Ok((sock, ep))
}

/// `n` PUSH/PULL pairs, `count` messages per pair; aggregate msg/s until the last
/// receiver is done.
pub(super) fn push_pull(size: usize, count: usize, n: usize) -> RunResult {
    let ctx = context(n)?;
    let barrier = Arc::new(Barrier::new(2 * n + 1));
    let (mut receivers, mut senders) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (pull, ep) = bound(&ctx, zmq::PULL)?;
        let b = barrier.clone();
        receivers.push(thread::spawn(move || -> Result<(), String> {
            let mut msg = zmq::Message::new();
            for _ in 0..WARMUP {
                pull.recv(&mut msg, 0).map_err(s)?;
            }
            b.wait();
            for _ in 0..count {
                pull.recv(&mut msg, 0).map_err(s)?;
                if msg.len() != size {
                    return Err("message of the wrong size".into());
                }
            }
            Ok(())
        }));
        let push = ctx.socket(zmq::PUSH).map_err(s)?;
        let b = barrier.clone();
        senders.push(thread::spawn(move || -> Result<(), String> {
            push.connect(&ep).map_err(s)?;
            let body = vec![7u8; size];
            for _ in 0..WARMUP {
                push.send(&body[..], 0).map_err(s)?;
            }
            b.wait();
            for _ in 0..count {
                push.send(&body[..], 0).map_err(s)?;
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
    let ctx = context(n)?;
    let barrier = Arc::new(Barrier::new(n + 1));
    let (mut servers, mut clients) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (rep, ep) = bound(&ctx, zmq::REP)?;
        servers.push(thread::spawn(move || -> Result<(), String> {
            let mut msg = zmq::Message::new();
            for _ in 0..count + WARMUP {
                rep.recv(&mut msg, 0).map_err(s)?;
                rep.send(&msg[..], 0).map_err(s)?;
            }
            Ok(())
        }));
        let req = ctx.socket(zmq::REQ).map_err(s)?;
        let b = barrier.clone();
        clients.push(thread::spawn(move || -> Result<(), String> {
            req.connect(&ep).map_err(s)?;
            let body = vec![7u8; size];
            let mut reply = zmq::Message::new();
            for i in 0..count + WARMUP {
                if i == WARMUP {
                    b.wait();
                }
                req.send(&body[..], 0).map_err(s)?;
                req.recv(&mut reply, 0).map_err(s)?;
                if reply.len() != size {
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
