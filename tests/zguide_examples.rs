//! The zguide examples in `examples/` run to completion and get the right answers.
//!
//! Each example keeps its logic in a `pub fn run()`, included here as a module (its
//! `main` is for `cargo run --example`). A run that fails, panics or takes longer
//! than the limit fails its test.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

#[allow(dead_code)]
#[path = "../examples/hello_world.rs"]
mod hello_world;
#[allow(dead_code)]
#[path = "../examples/last_value_cache.rs"]
mod last_value_cache;
#[allow(dead_code)]
#[path = "../examples/lazy_pirate.rs"]
mod lazy_pirate;
#[allow(dead_code)]
#[path = "../examples/load_balancing_broker.rs"]
mod load_balancing_broker;
#[allow(dead_code)]
#[path = "../examples/parallel_pipeline.rs"]
mod parallel_pipeline;
#[allow(dead_code)]
#[path = "../examples/paranoid_pirate.rs"]
mod paranoid_pirate;
#[allow(dead_code)]
#[path = "../examples/weather_update.rs"]
mod weather_update;

/// Each example takes well under a second; the limit leaves room for a loaded
/// machine and a debug build.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `example` on a thread of its own and returns its result, or fails the
/// test if it panics or is still running after `LIMIT`.
fn within_limit<T: Send + 'static>(
    name: &str,
    example: impl FnOnce() -> Result<T, Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(example());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(value)) => value,
        Ok(Err(e)) => panic!("{name} failed: {e}"),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{name} still running after {LIMIT:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{name} panicked"),
    }
}

#[test]
fn hello_world_gets_a_world_for_every_hello() {
    let replies = within_limit("hello_world", hello_world::run);
    assert_eq!(replies.len(), hello_world::REQUESTS);
    assert!(replies.iter().all(|r| r == "World"), "{replies:?}");
}

#[test]
fn weather_update_averages_its_zip_code() {
    let r = within_limit("weather_update", weather_update::run);
    assert_eq!(r.zip, weather_update::ZIP);
    assert_eq!(r.updates, weather_update::UPDATES);
    assert!((-80.0..135.0).contains(&r.avg_temperature), "{r:?}");
    assert!((10.0..60.0).contains(&r.avg_humidity), "{r:?}");
}

#[test]
fn parallel_pipeline_spreads_the_batch_over_every_worker() {
    let r = within_limit("parallel_pipeline", parallel_pipeline::run);
    assert_eq!(r.per_worker.len(), parallel_pipeline::WORKERS);
    assert_eq!(r.per_worker.iter().sum::<usize>(), parallel_pipeline::TASKS);
    // Every worker was connected before the batch started, so round-robin gave
    // each its share.
    assert!(!r.per_worker.contains(&0), "{r:?}");
    // Four workers in parallel beat one worker alone.
    assert!(r.elapsed < r.total_work, "{r:?}");
}

#[test]
fn load_balancing_broker_answers_every_request_through_every_worker() {
    use load_balancing_broker::{CLIENTS, REQUESTS, WORKERS, reply_to};
    let r = within_limit("load_balancing_broker", load_balancing_broker::run);
    assert_eq!(r.replies.len(), CLIENTS);
    // Each client got its own replies, in order, each from one of the workers.
    let mut by_worker = vec![0; WORKERS];
    for (client, replies) in r.replies.iter().enumerate() {
        assert_eq!(replies.len(), REQUESTS, "client {client}: {replies:?}");
        for (n, reply) in replies.iter().enumerate() {
            let request = format!("client {client} request {n}");
            let worker = (0..WORKERS).find(|w| *reply == reply_to(&request, &w.to_string()));
            let worker = worker.unwrap_or_else(|| panic!("{request:?} got {reply:?}"));
            by_worker[worker] += 1;
        }
    }
    // What the workers say they did is what the clients saw.
    assert_eq!(r.served, by_worker);
    // All workers were idle when the first requests came: the broker's queue of
    // idle workers gave the first WORKERS requests to WORKERS different workers.
    assert!(!r.served.contains(&0), "{r:?}");
}

/// Both recovery strategies get every reply, each to the request's last attempt,
/// after the server's slow answer and its crash, and give up on the dead server.
fn lazy_pirate_recovers(strategy: lazy_pirate::Strategy) {
    use lazy_pirate::{LAST, REQUESTS, RETRIES};
    let r = within_limit("lazy_pirate", move || lazy_pirate::run(strategy));
    assert_eq!(r.replies.len() as u64, REQUESTS, "{r:?}");
    let mut attempts_beyond_first = 0;
    for (seq, reply) in (1..).zip(&r.replies) {
        let (s, attempt) = reply.split_once('/').expect("seq/attempt");
        assert_eq!(s, seq.to_string(), "{r:?}");
        attempts_beyond_first += attempt.parse::<usize>().unwrap() - 1;
    }
    // Each reply answers the latest attempt: the retries add up, including the
    // last request's, which found no server.
    assert_eq!(attempts_beyond_first + (RETRIES - 1), r.retries, "{r:?}");
    // The slow answer and the crash each cost at least one retry.
    assert!(attempts_beyond_first >= 2, "{r:?}");
    assert_eq!(r.abandoned, Some(LAST), "{r:?}");
    // Neither a fresh socket nor a relaxed REQ_CORRELATE one ever hands the client
    // a reply to an earlier attempt (the client would count and skip it).
    assert_eq!(r.stale, 0, "{r:?}");
}

#[test]
fn lazy_pirate_with_a_fresh_socket_recovers() {
    lazy_pirate_recovers(lazy_pirate::Strategy::FreshSocket);
}

#[test]
fn lazy_pirate_with_req_relaxed_recovers() {
    lazy_pirate_recovers(lazy_pirate::Strategy::Relaxed);
}

#[test]
fn last_value_cache_gives_late_subscribers_the_last_value() {
    use last_value_cache::{ROUNDS, SUBSCRIBERS, TOPICS, topic};
    let r = within_limit("last_value_cache", last_value_cache::run);
    assert_eq!(r.last_published.len(), TOPICS);
    assert_eq!(r.heard.len(), SUBSCRIBERS.len());
    for (h, n) in r.heard.iter().zip(SUBSCRIBERS) {
        assert_eq!(h.topic, topic(n));
        // Both subscribers of the shared topic got the cached value (XPUB_VERBOSE).
        assert_eq!(h.cached, r.last_published[&h.topic], "{r:?}");
        assert_eq!(h.cached, format!("{} round {ROUNDS}", h.topic));
        assert_eq!(h.live, r.live_published[&h.topic], "{r:?}");
    }
}

#[test]
fn paranoid_pirate_survives_a_hung_worker_and_a_queue_restart() {
    use paranoid_pirate::{HANGS, REQUESTS, RESTART_AFTER, WORKERS};
    let r = within_limit("paranoid_pirate", paranoid_pirate::run);
    assert_eq!(r.workers.len(), WORKERS);
    assert_eq!(r.replies.len(), REQUESTS, "{r:?}");
    for (seq, (text, worker)) in (1..).zip(&r.replies) {
        assert_eq!(*text, format!("request {seq}"), "{r:?}");
        assert!(*worker < WORKERS, "{r:?}");
        // After the restart the queue knows only workers that said READY again,
        // which a worker does only on a fresh socket.
        if seq > RESTART_AFTER {
            assert!(r.workers[*worker].reconnects >= 1, "{r:?}");
        }
    }
    // The hung worker answered its first request and nothing after.
    assert_eq!(r.workers[HANGS].served, 1, "{r:?}");
    assert_eq!(r.replies.iter().filter(|(_, w)| *w == HANGS).count(), 1);
    // Its silence got it dropped, and the request it took was asked again.
    assert!(r.purged >= 1, "{r:?}");
    assert!(r.retries >= 1, "{r:?}");
    let served: usize = r.workers.iter().map(|w| w.served).sum();
    assert!(served >= REQUESTS, "{r:?}");
}
