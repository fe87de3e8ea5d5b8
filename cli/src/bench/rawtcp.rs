//! Raw TCP's side of `zeroring bench`: blocking std sockets with TCP_NODELAY, one thread
//! per side, a 2-byte big-endian length header per message (0xFFFF plus a 4-byte length
//! for messages of 64 KiB and more). No PUB/SUB or DEALER/ROUTER.

use std::io::{BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use super::case::{Case, Kind, Security, Transport};
use super::figure::{RunResult, latency_us, rate};

const WARMUP: usize = 100;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Runs one case.
pub(super) fn run(case: Case) -> RunResult {
    match case.kind {
        Kind::ReqRep(Transport::Tcp, Security::Null) => req_rep(case.size, case.count),
        Kind::PushPull(Transport::Tcp, Security::Null) => push_pull(case.size, case.count),
        Kind::ReqRep(Transport::Inproc, _) | Kind::PushPull(Transport::Inproc, _) => Ok(None),
        // No CURVE.
        Kind::ReqRep(_, Security::Curve) | Kind::PushPull(_, Security::Curve) => Ok(None),
        Kind::PubSub(_)
        | Kind::DealerRouter(_)
        | Kind::PushPullTokio
        | Kind::Pairs(_)
        | Kind::ReqRepPairs(_) => Ok(None),
    }
}

/// Header + body in one buffer.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 6);
    match u16::try_from(body.len()) {
        Ok(n) if n < u16::MAX => out.extend_from_slice(&n.to_be_bytes()),
        _ => {
            out.extend_from_slice(&u16::MAX.to_be_bytes());
            let n = u32::try_from(body.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
    out.extend_from_slice(body);
    out
}

/// Reads one message into `buf`; returns its length.
fn read_message(r: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut h = [0u8; 2];
    r.read_exact(&mut h)?;
    let mut n = usize::from(u16::from_be_bytes(h));
    if n == usize::from(u16::MAX) {
        let mut l = [0u8; 4];
        r.read_exact(&mut l)?;
        n = u32::from_be_bytes(l) as usize;
    }
    if buf.len() < n {
        buf.resize(n, 0);
    }
    r.read_exact(&mut buf[..n])?;
    Ok(n)
}

fn listen() -> Result<(TcpListener, String), String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(s)?;
    let addr = l.local_addr().map_err(s)?.to_string();
    Ok((l, addr))
}

fn req_rep(size: usize, count: usize) -> RunResult {
    let (listener, addr) = listen()?;
    let server = thread::spawn(move || -> Result<(), String> {
        let (mut sock, _) = listener.accept().map_err(s)?;
        sock.set_nodelay(true).map_err(s)?;
        let mut buf = Vec::new();
        for _ in 0..count + WARMUP {
            let n = read_message(&mut sock, &mut buf).map_err(s)?;
            sock.write_all(&frame(&buf[..n])).map_err(s)?;
        }
        Ok(())
    });
    let mut sock = TcpStream::connect(&addr).map_err(s)?;
    sock.set_nodelay(true).map_err(s)?;
    let request = frame(&vec![7u8; size]);
    let mut buf = Vec::new();
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + WARMUP {
        let t = Instant::now();
        sock.write_all(&request).map_err(s)?;
        let n = read_message(&mut sock, &mut buf).map_err(s)?;
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
        if n != size {
            return Err("reply of the wrong size".into());
        }
    }
    server.join().map_err(|_| "echo thread panicked")??;
    Ok(Some(latency_us(samples)))
}

fn push_pull(size: usize, count: usize) -> RunResult {
    let (listener, addr) = listen()?;
    let receiver = thread::spawn(move || -> Result<Duration, String> {
        let (sock, _) = listener.accept().map_err(s)?;
        sock.set_nodelay(true).map_err(s)?;
        let mut r = BufReader::with_capacity(64 * 1024, sock);
        let mut buf = Vec::new();
        read_message(&mut r, &mut buf).map_err(s)?;
        let start = Instant::now();
        for _ in 1..count {
            if read_message(&mut r, &mut buf).map_err(s)? != size {
                return Err("message of the wrong size".into());
            }
        }
        Ok(start.elapsed())
    });
    let sock = TcpStream::connect(&addr).map_err(s)?;
    sock.set_nodelay(true).map_err(s)?;
    let mut w = BufWriter::with_capacity(64 * 1024, sock);
    let message = frame(&vec![7u8; size]);
    for _ in 0..count {
        w.write_all(&message).map_err(s)?;
    }
    w.flush().map_err(s)?;
    let elapsed = receiver.join().map_err(|_| "receiver thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}
