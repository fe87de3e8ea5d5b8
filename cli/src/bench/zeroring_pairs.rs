//! The pairs cases of the zeroring column (native compio sockets): N independent
//! PUSH/PULL pairs (`pairs1`, `pairs2`) or REQ/REP pairs (`rr-pairs1`, `rr-pairs2`)
//! on N threads, one compio runtime each, pair i's two sockets as two tasks of
//! runtime i (thread-per-core: the runtime thread is the pair's only I/O thread).
//! All pairs warm up, start together and are timed until the last one is done; the
//! figure is the aggregate rate.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

use bytes::Bytes;
use zeroring::{PullSocket, PushSocket, RepSocket, ReqSocket};

use super::figure::{RunResult, rate};

const WARMUP: usize = 100;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn rt() -> Result<compio::runtime::Runtime, String> {
    zeroring::runtime_builder()
        .build()
        .map_err(|e| format!("cannot start compio: {e}"))
}

/// Runs `pair` on `n` threads with a runtime each; `pair` warms up, waits on the
/// barrier it is given, runs and returns when it finished. Returns the time from
/// the barrier's release to the last pair's end.
fn on_threads<F, Fut>(n: usize, pair: F) -> Result<std::time::Duration, String>
where
    F: Fn(Arc<Barrier>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Instant, String>>,
{
    let barrier = Arc::new(Barrier::new(n + 1));
    let pair = Arc::new(pair);
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (b, pair) = (barrier.clone(), pair.clone());
            thread::spawn(move || rt()?.block_on(pair(b)))
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut last = start;
    for t in threads {
        let end = t.join().map_err(|_| "pair thread panicked")??;
        last = last.max(end);
    }
    Ok(last - start)
}

/// `n` PUSH/PULL pairs, `count` messages per pair; aggregate msg/s until the last
/// receiver is done.
pub(super) fn push_pull(size: usize, count: usize, n: usize) -> RunResult {
    let elapsed = on_threads(n, move |barrier| async move {
        let pull = PullSocket::new();
        let ep = pull.bind("tcp://127.0.0.1:0").await.map_err(s)?.to_string();
        let push = PushSocket::new();
        push.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        for _ in 0..WARMUP {
            push.send(body.clone()).await.map_err(s)?;
        }
        for _ in 0..WARMUP {
            pull.recv().await.map_err(s)?;
        }
        barrier.wait();
        let receiver = compio::runtime::spawn(async move {
            for _ in 0..count {
                if pull.recv().await.map_err(s)?.byte_len() != size {
                    return Err("message of the wrong size".to_string());
                }
            }
            let end = Instant::now();
            pull.close().await;
            Ok(end)
        });
        for _ in 0..count {
            push.send(body.clone()).await.map_err(s)?;
        }
        let end = receiver.await.map_err(|_| "PULL task panicked")??;
        push.close().await;
        Ok(end)
    })?;
    Ok(Some(rate(n * count, elapsed)))
}

/// `n` REQ/REP pairs, `count` round trips per pair; aggregate round trips/s until the
/// last REQ is done.
pub(super) fn req_rep(size: usize, count: usize, n: usize) -> RunResult {
    let elapsed = on_threads(n, move |barrier| async move {
        let rep = RepSocket::new();
        let ep = rep.bind("tcp://127.0.0.1:0").await.map_err(s)?.to_string();
        let server = compio::runtime::spawn(async move {
            for _ in 0..count + WARMUP {
                let m = rep.recv().await.map_err(s)?;
                rep.send(m).await.map_err(s)?;
            }
            rep.close().await;
            Ok::<_, String>(())
        });
        let req = ReqSocket::new();
        req.connect(&ep).await.map_err(s)?;
        let body = Bytes::from(vec![7u8; size]);
        for i in 0..count + WARMUP {
            if i == WARMUP {
                barrier.wait();
            }
            req.send(body.clone()).await.map_err(s)?;
            if req.recv().await.map_err(s)?.byte_len() != size {
                return Err("reply of the wrong size".to_string());
            }
        }
        let end = Instant::now();
        server.await.map_err(|_| "REP task panicked")??;
        req.close().await;
        Ok(end)
    })?;
    Ok(Some(rate(n * count, elapsed)))
}
