//! Divide and conquer with a pipeline (zguide chapter 1, "taskvent", "taskwork"
//! and "tasksink" as threads of one process): a ventilator hands out tasks, a pool
//! of workers does them in parallel, and a sink collects the results.
//!
//! What it teaches:
//! - PUSH deals messages round-robin to its connected peers and PULL takes them
//!   fairly from all of its peers, so adding workers adds throughput.
//! - The "slow joiner": a bound PUSH deals only to peers already connected, so if
//!   the batch started while workers were still connecting, the first worker to
//!   connect would get most of the work. The ventilator therefore sends probes
//!   until every worker has answered one (a worker that received a probe is
//!   connected), and only then tells the sink to start its clock and deals the
//!   batch. A fixed sleep would only make this likely; the probes make it certain.
//! - Stopping: terminating the context closes every socket, and a worker blocked
//!   in `recv` returns `Error::Closed` (libzmq's ETERM) and exits.
//!
//! Run it with `cargo run --example parallel_pipeline`.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use zeroring::{Context, Error, Message, Socket, SocketType};

/// Any failure, from any thread, ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const WORKERS: usize = 4;
pub const TASKS: usize = 40;

/// What the sink measured.
#[derive(Debug)]
pub struct Report {
    /// Sum of the tasks' workloads: the time one worker alone would take.
    pub total_work: Duration,
    /// From the batch start to the last result.
    pub elapsed: Duration,
    /// Results per worker.
    pub per_worker: Vec<usize>,
}

/// The first frame of a message says what it is.
fn kind(msg: &Message) -> &[u8] {
    &msg[0]
}

/// The second frame as a number.
fn number(msg: &Message) -> Result<u64, BoxError> {
    let frame = msg.get(1).ok_or("a frame is missing")?;
    Ok(std::str::from_utf8(frame)?.parse()?)
}

/// Takes tasks from the ventilator and sends a result for each to the sink, until
/// the context is terminated.
fn worker(id: usize, tasks: Socket, results: Socket) -> Result<(), BoxError> {
    let mut announced = false;
    loop {
        let msg = match tasks.recv() {
            Ok(msg) => msg,
            Err(Error::Closed) => return Ok(()), // the context is terminating
            Err(e) => return Err(e.into()),
        };
        match kind(&msg) {
            b"probe" if !announced => {
                results.send(vec!["ready", &id.to_string()])?;
                announced = true;
            }
            b"probe" => {} // already announced
            b"task" => {
                thread::sleep(Duration::from_millis(number(&msg)?));
                results.send(vec!["done", &id.to_string()])?;
            }
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
}

/// Counts the workers' announcements, reports through `all_ready`, then waits for
/// the batch start and collects every result.
fn sink(results: &Socket, all_ready: mpsc::Sender<()>) -> Result<Report, BoxError> {
    let mut ready = 0;
    while ready < WORKERS {
        let msg = results.recv()?;
        match kind(&msg) {
            b"ready" => ready += 1,
            other => return Err(format!("expected ready, got {other:?}").into()),
        }
    }
    all_ready.send(())?;

    // The batch start comes from the ventilator and results from the workers:
    // different peers, so a result may overtake the start.
    let mut start = None;
    let mut total_work = Duration::ZERO;
    let mut per_worker = vec![0; WORKERS];
    while start.is_none() || per_worker.iter().sum::<usize>() < TASKS {
        let msg = results.recv()?;
        match kind(&msg) {
            b"start" => {
                start = Some(Instant::now());
                total_work = Duration::from_millis(number(&msg)?);
            }
            b"done" => {
                let id = number(&msg)? as usize;
                *per_worker.get_mut(id).ok_or("no such worker")? += 1;
            }
            other => return Err(format!("unexpected {other:?}").into()),
        }
    }
    let elapsed = start.map(|t| t.elapsed()).unwrap_or_default();
    Ok(Report {
        total_work,
        elapsed,
        per_worker,
    })
}

/// Probes until the sink says every worker answered, then sends the batch start
/// to the sink and the tasks to the workers.
fn ventilator(
    tasks: &Socket,
    to_sink: &Socket,
    all_ready: mpsc::Receiver<()>,
) -> Result<(), BoxError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        tasks.send("probe")?;
        match all_ready.recv_timeout(Duration::from_millis(5)) {
            Ok(()) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => continue,
            Err(_) => return Err("the workers did not all answer a probe".into()),
        }
    }
    println!("ventilator: {WORKERS} workers connected");

    // Workloads of 1 to 30 ms, mixed by a fixed formula.
    let workloads: Vec<u64> = (0..TASKS as u64).map(|i| 1 + (i * 17 + 5) % 30).collect();
    let total: u64 = workloads.iter().sum();
    to_sink.send(vec!["start", &total.to_string()])?;
    for ms in workloads {
        tasks.send(vec!["task", &ms.to_string()])?;
    }
    println!("ventilator: sent {TASKS} tasks, {total} ms of work in all");
    Ok(())
}

/// Runs the ventilator (on this thread), the workers and the sink.
pub fn run() -> Result<Report, BoxError> {
    let ctx = Context::new()?;
    let timeout = Some(Duration::from_secs(10));

    // The stable parts bind; the workers come and go, so they connect.
    let tasks = ctx.socket(SocketType::Push)?;
    let tasks_at = tasks.bind("tcp://127.0.0.1:0")?.to_string();
    let results = ctx.socket(SocketType::Pull)?;
    results.set_rcvtimeo(timeout);
    let results_at = results.bind("tcp://127.0.0.1:0")?.to_string();
    let to_sink = ctx.socket(SocketType::Push)?;
    to_sink.connect(&results_at)?;

    let mut worker_sockets = Vec::new();
    for _ in 0..WORKERS {
        let pull = ctx.socket(SocketType::Pull)?;
        pull.connect(&tasks_at)?;
        let push = ctx.socket(SocketType::Push)?;
        push.connect(&results_at)?;
        worker_sockets.push((pull, push));
    }

    let (ready_tx, ready_rx) = mpsc::channel();
    thread::scope(|s| {
        let workers: Vec<_> = (worker_sockets.into_iter().enumerate())
            .map(|(id, (pull, push))| s.spawn(move || worker(id, pull, push)))
            .collect();
        let sink = s.spawn(|| sink(&results, ready_tx));

        let sent = ventilator(&tasks, &to_sink, ready_rx);
        let report = sink.join().map_err(|_| "the sink thread panicked")?;
        // Every result is in (or something failed): stop the workers.
        ctx.terminate();
        for w in workers {
            w.join().map_err(|_| "a worker thread panicked")??;
        }
        sent?;
        let report = report?;
        if report.per_worker.contains(&0) {
            return Err("a worker got no task: it joined after the batch started".into());
        }
        println!(
            "sink: {TASKS} results in {} ms ({} ms of work on {WORKERS} workers); per worker {:?}",
            report.elapsed.as_millis(),
            report.total_work.as_millis(),
            report.per_worker
        );
        Ok(report)
    })
}

fn main() -> Result<(), BoxError> {
    run()?;
    Ok(())
}
