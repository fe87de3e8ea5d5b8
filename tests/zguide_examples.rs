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
#[path = "../examples/parallel_pipeline.rs"]
mod parallel_pipeline;
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
