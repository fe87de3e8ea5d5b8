//! Publish-subscribe (zguide chapter 1, "wuserver" and "wuclient" as two threads of
//! one process): a weather station publishes updates for many zip codes, and a
//! client subscribes to one zip code and averages what it hears.
//!
//! What it teaches:
//! - A SUB socket receives only messages whose first bytes match one of its
//!   subscriptions; with none it receives nothing. The filtering happens at the
//!   publisher, so updates for other zip codes never cross the network.
//! - PUB/SUB has no back-pressure and no memory: the publisher never waits for a
//!   subscriber, and a subscriber that joins late misses everything published
//!   before its subscription arrived (the "slow joiner"). Here the publisher starts
//!   first, so the client's first updates are simply the ones that reach it.
//!
//! Run it with `cargo run --example weather_update`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use zeroring::{Context, Socket, SocketType};

/// Any failure, from any thread, ends the example with a non-zero exit code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The station covers zip codes 10000 to 10999 (a small region keeps the run
/// short: one update in a thousand is for the client's zip code).
const FIRST_ZIP: u32 = 10_000;
const ZIP_CODES: u32 = 1_000;
/// The zip code the client listens to.
pub const ZIP: u32 = 10_042;
/// How many updates the client averages.
pub const UPDATES: usize = 20;

/// What the client heard.
#[derive(Debug)]
pub struct Report {
    pub zip: u32,
    pub updates: usize,
    pub avg_temperature: f64,
    pub avg_humidity: f64,
}

/// A small pseudo-random generator (xorshift64), enough for made-up weather.
struct Weather(u64);

impl Weather {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

/// Publishes "zip temperature humidity" lines until `stop` is set; returns how
/// many it published.
fn station(publisher: &Socket, stop: &AtomicBool) -> Result<u64, BoxError> {
    let mut weather = Weather(0x2545_f491_4f6c_dd1d);
    let mut published = 0;
    while !stop.load(Ordering::Relaxed) {
        let zip = FIRST_ZIP + weather.below(ZIP_CODES);
        let temperature = weather.below(215) as i32 - 80; // -80 to 134 °F
        let humidity = 10 + weather.below(50); // 10 to 59 %
        publisher.send(format!("{zip:05} {temperature} {humidity}"))?;
        published += 1;
    }
    Ok(published)
}

/// Subscribes to `ZIP` and averages `UPDATES` updates.
fn client(subscriber: &Socket) -> Result<Report, BoxError> {
    // The trailing space keeps "10042" from also matching a zip like "100421".
    subscriber.subscribe(format!("{ZIP:05} "))?;
    let (mut temperature, mut humidity) = (0i64, 0i64);
    for n in 0..UPDATES {
        let update = subscriber.recv_string()?;
        let fields: Vec<&str> = update.split(' ').collect();
        let [zip, t, h] = fields[..] else {
            return Err(format!("malformed update {update:?}").into());
        };
        if zip.parse::<u32>()? != ZIP {
            return Err(format!("subscribed to {ZIP}, received {update:?}").into());
        }
        temperature += t.parse::<i64>()?;
        humidity += h.parse::<i64>()?;
        if n < 3 {
            println!("client: update {n}: {update}");
        }
    }
    Ok(Report {
        zip: ZIP,
        updates: UPDATES,
        avg_temperature: temperature as f64 / UPDATES as f64,
        avg_humidity: humidity as f64 / UPDATES as f64,
    })
}

/// Runs the station and the client on two threads until the client has its
/// updates.
pub fn run() -> Result<Report, BoxError> {
    let ctx = Context::new()?;
    let publisher = ctx.socket(SocketType::Pub)?;
    let endpoint = publisher.bind("tcp://127.0.0.1:0")?;
    let subscriber = ctx.socket(SocketType::Sub)?;
    // Never wait forever in an example: a stalled stream becomes an error.
    subscriber.set_rcvtimeo(Some(Duration::from_secs(10)));
    let stop = AtomicBool::new(false);

    thread::scope(|s| {
        let station = s.spawn(|| station(&publisher, &stop));
        // The station is already publishing; whatever goes out before the
        // subscription reaches it is lost to this client, by design.
        let report = subscriber
            .connect(&endpoint.to_string())
            .map_err(BoxError::from)
            .and_then(|()| client(&subscriber));
        stop.store(true, Ordering::Relaxed);
        let published = station.join().map_err(|_| "the station thread panicked")?;
        let report = report?;
        println!("station: published {} updates", published?);
        Ok(report)
    })
}

fn main() -> Result<(), BoxError> {
    let r = run()?;
    println!(
        "average for zip code {:05} over {} updates: {:.1} °F, {:.1} % humidity",
        r.zip, r.updates, r.avg_temperature, r.avg_humidity
    );
    Ok(())
}
