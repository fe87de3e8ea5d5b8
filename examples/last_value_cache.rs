//! A last value cache in front of a publisher (zguide chapter 5, "lvcache", with
//! the publisher, the cache and the subscribers as threads of one process).
//!
//! What it teaches:
//! - A subscriber that joins late has missed every update published before it
//!   came, and for a topic that changes rarely it may wait a long time for the
//!   next. A proxy between the publisher and the subscribers can remember the
//!   last update of each topic and hand it to each new subscriber at once.
//! - XPUB is the socket for that proxy: unlike PUB it passes the subscriptions it
//!   receives up to the application (`[0x01, topic...]` for a subscribe), so the
//!   cache sees who wants what and answers with the cached value.
//! - By default XPUB reports only the first subscription to a topic; with
//!   XPUB_VERBOSE it reports every one, so the second subscriber to a topic gets
//!   the cached value too. (The cached value goes to every subscriber of that
//!   topic, so an earlier one hears it again: subscribers must tolerate repeats.)
//!
//! The run: the publisher sends `ROUNDS` rounds of updates to `TOPICS` topics and
//! goes quiet; late subscribers then each get their topic's last value from the
//! cache; then the publisher sends one more round, which reaches them live.
//!
//! Run it with `cargo run --example last_value_cache`.

use std::collections::HashMap;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use zeroring::bytes::Bytes;
use zeroring::{Context, Error, Message, PollEvents, PollItem, Socket, SocketType, poll};

/// Any failure, from any thread, ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const TOPICS: usize = 8;
/// Rounds of updates published before the subscribers join.
pub const ROUNDS: usize = 3;
/// The topic each late subscriber wants: two of them want the same one.
pub const SUBSCRIBERS: [usize; 3] = [1, 5, 5];
/// Sent once the publisher has nothing more to say for now.
const END: &str = "END";
/// Sent until the cache has heard one, so that no update is lost to the slow joiner.
const PROBE: &str = "PROBE";

/// A topic's name: fixed width, so that no topic is a prefix of another.
pub fn topic(n: usize) -> String {
    format!("topic-{n:02}")
}

/// What a late subscriber heard.
#[derive(Debug)]
pub struct Heard {
    pub topic: String,
    /// The first update, which came from the cache.
    pub cached: String,
    /// The next new update, published after the subscriber joined.
    pub live: String,
}

/// What the publisher published and the subscribers heard.
#[derive(Debug)]
pub struct Report {
    /// The last update published per topic before the subscribers joined.
    pub last_published: HashMap<String, String>,
    /// The update published per topic after they joined.
    pub live_published: HashMap<String, String>,
    pub heard: Vec<Heard>,
}

/// Forwards updates from `frontend` to `backend`, remembering the last one per
/// topic, and answers every new subscription on `backend` with the cached update.
/// Tells `notes` when the publisher's probe and END pass. Runs until the context
/// is terminated (`Error::Closed`).
fn cache(frontend: &Socket, backend: &Socket, notes: mpsc::Sender<&str>) -> zeroring::Result<()> {
    let mut last: HashMap<Bytes, Message> = HashMap::new();
    loop {
        let mut items = [
            PollItem::new(frontend, PollEvents::IN),
            PollItem::new(backend, PollEvents::IN),
        ];
        poll(&mut items, None)?;
        if items[0].is_readable() {
            let update = frontend.recv()?;
            if update.len() == 2 {
                last.insert(update[0].clone(), update.clone());
                backend.send(update)?;
            } else if update[0] == PROBE {
                let _ = notes.send(PROBE);
            } else if update[0] == END {
                let _ = notes.send(END);
            }
        }
        if items[1].is_readable() {
            let event = backend.recv()?;
            // [0x01, topic...] is a subscribe, [0x00, topic...] a cancel.
            if let Some((&1, topic)) = event[0].split_first()
                && let Some(update) = last.get(topic)
            {
                println!("cache: replaying {:?}", String::from_utf8_lossy(topic));
                backend.send(update.clone())?;
            }
        }
    }
}

/// Publishes one update (`[topic, value]`) per topic; returns what it sent.
fn publish_round(publisher: &Socket, round: &str) -> Result<HashMap<String, String>, BoxError> {
    let mut sent = HashMap::new();
    for n in 0..TOPICS {
        let name = topic(n);
        let value = format!("{name} {round}");
        publisher.send(vec![name.as_str(), value.as_str()])?;
        sent.insert(name, value);
    }
    Ok(sent)
}

/// Joins late: subscribes to `topic`, takes the cached update, reports it through
/// `cached_tx`, then waits for the next new one.
fn subscriber(sub: &Socket, topic: String, cached_tx: mpsc::Sender<()>) -> Result<Heard, BoxError> {
    sub.subscribe(&topic)?;
    let value = |msg: Message| -> Result<String, BoxError> {
        match msg.frames() {
            [t, value] if *t == topic => Ok(String::from_utf8(value.to_vec())?),
            _ => Err(format!("{topic} subscriber: unexpected {msg:?}").into()),
        }
    };
    let cached = value(sub.recv()?)?;
    cached_tx.send(())?;
    loop {
        // The cache replays the same update when another subscriber joins.
        let live = value(sub.recv()?)?;
        if live != cached {
            return Ok(Heard {
                topic,
                cached,
                live,
            });
        }
    }
}

/// Runs the publisher (on this thread), the cache and the late subscribers.
pub fn run() -> Result<Report, BoxError> {
    let ctx = Context::new()?;
    let timeout = Some(Duration::from_secs(10));
    let publisher = ctx.socket(SocketType::Pub)?;
    let publisher_at = publisher.bind("tcp://127.0.0.1:0")?.to_string();
    let frontend = ctx.socket(SocketType::Sub)?;
    frontend.connect(&publisher_at)?;
    frontend.subscribe("")?; // the cache wants everything
    let backend = ctx.socket(SocketType::Xpub)?;
    backend.set_xpub_verbose(true); // every subscription, not only a topic's first
    let backend_at = backend.bind("tcp://127.0.0.1:0")?.to_string();
    let mut subscribers = Vec::new();
    for n in SUBSCRIBERS {
        let sub = ctx.socket(SocketType::Sub)?;
        sub.set_rcvtimeo(timeout);
        subscribers.push((sub, topic(n)));
    }

    let (notes_tx, notes) = mpsc::channel();
    let next_note = || notes.recv_timeout(Duration::from_secs(10));
    thread::scope(|s| {
        let cache = s.spawn(|| match cache(&frontend, &backend, notes_tx) {
            Err(Error::Closed) => Ok(()), // the context was terminated: done
            other => other,
        });
        let published = (|| -> Result<_, BoxError> {
            // Probe until the cache's subscription has reached the publisher.
            loop {
                publisher.send(PROBE)?;
                match notes.recv_timeout(Duration::from_millis(5)) {
                    Ok(PROBE) => break,
                    Ok(other) => return Err(format!("unexpected note {other}").into()),
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            let mut last_published = HashMap::new();
            for round in 1..=ROUNDS {
                last_published = publish_round(&publisher, &format!("round {round}"))?;
            }
            publisher.send(END)?;
            // Late probes may still be queued ahead of END.
            while next_note()? != END {}
            println!("publisher: {ROUNDS} rounds sent and cached; quiet now");

            // One at a time: each joins once the one before has its cached value,
            // so the second subscriber to a topic gets it only thanks to
            // XPUB_VERBOSE.
            let (cached_tx, cached_rx) = mpsc::channel();
            let mut joined = Vec::new();
            for (sub, topic) in &subscribers {
                let cached_tx = cached_tx.clone();
                sub.connect(&backend_at)?;
                joined.push(s.spawn(move || subscriber(sub, topic.clone(), cached_tx)));
                cached_rx.recv_timeout(Duration::from_secs(10))?;
            }
            let live_published = publish_round(&publisher, "live")?;
            let heard = (joined.into_iter())
                .map(|j| j.join().map_err(|_| "a subscriber thread panicked")?)
                .collect::<Result<Vec<_>, BoxError>>()?;
            Ok(Report {
                last_published,
                live_published,
                heard,
            })
        })();
        ctx.terminate(); // stops the cache
        cache.join().map_err(|_| "the cache thread panicked")??;
        published
    })
}

fn main() -> Result<(), BoxError> {
    let report = run()?;
    for h in &report.heard {
        println!(
            "subscriber of {}: cached {:?}, then live {:?}",
            h.topic, h.cached, h.live
        );
    }
    Ok(())
}
