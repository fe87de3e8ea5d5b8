//! monocoque's PUB/SUB cases (`pub1`, `pub8`) for the "monocoque" column. monocoque's
//! PUB binds a listener and accepts each subscriber explicitly (`accept_subscriber`),
//! then hands every message to its worker threads (its default count: the core count,
//! at least 2), which write to the subscribers. The channels to the workers hold
//! SNDHWM messages and drop when full, so SNDHWM is set to 2^30 (unlimited in effect)
//! and the run checks that no message was dropped. Subscribers run on their own
//! threads and compio runtimes and report their counts over a channel.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use monocoque::zmq::{PubSocket, SocketOptions, SubSocket};

use super::figure::{RunResult, rate};

/// SNDHWM of the PUB: the capacity of each channel to its workers.
const PUB_HWM: usize = 1 << 30;

fn s<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn rt() -> Result<compio::runtime::Runtime, String> {
    zeroring::runtime_builder()
        .build()
        .map_err(|e| format!("cannot start compio: {e}"))
}

/// Subscriber threads: count `D` messages, report the count on `E` (sync) and on `F`
/// (final, then exit) through `report`.
fn subscribers(n: usize, endpoint: &str, report: &mpsc::Sender<u64>) {
    for _ in 0..n {
        let (endpoint, report) = (endpoint.to_string(), report.clone());
        thread::spawn(move || -> Result<(), String> {
            rt()?.block_on(async move {
                let mut sub = SubSocket::connect(&endpoint).await.map_err(s)?;
                sub.subscribe(b"").await.map_err(s)?;
                let mut m = Vec::new();
                let mut count = 0u64;
                while sub.recv_into(&mut m).await.map_err(s)? {
                    let tag = m.first().map_or(&[][..], |f| &f[..]);
                    if tag == b"D" {
                        count += 1;
                        continue;
                    }
                    let last = tag == b"F";
                    report.send(count).ok();
                    count = 0;
                    if last {
                        break;
                    }
                }
                Ok(())
            })
        });
    }
}

/// One PUB to `subs` SUBs, `count` messages of `size` bytes after a sync; msg/s
/// published until every subscriber reported all of them.
pub(super) fn pub_sub(size: usize, count: usize, subs: usize) -> RunResult {
    rt()?.block_on(async move {
        let options = SocketOptions::default().with_send_hwm(PUB_HWM);
        let mut publisher = PubSocket::bind_with_options("127.0.0.1:0", options)
            .await
            .map_err(s)?;
        let endpoint = format!("tcp://{}", publisher.local_addr().map_err(s)?);
        let (report_tx, reports) = mpsc::channel();
        subscribers(subs, &endpoint, &report_tx);
        for _ in 0..subs {
            publisher.accept_subscriber().await.map_err(s)?;
        }
        // Until every subscriber has answered an E, then let the stragglers' answers in.
        let mut seen = 0;
        while seen < subs {
            publisher
                .send(vec![Bytes::from_static(b"E")])
                .await
                .map_err(s)?;
            compio::time::sleep(Duration::from_millis(20)).await;
            seen += reports.try_iter().count();
        }
        compio::time::sleep(Duration::from_millis(200)).await;
        reports.try_iter().for_each(drop);
        let dropped_before = publisher.drop_count();
        let (tag, body) = (Bytes::from_static(b"D"), Bytes::from(vec![5u8; size]));
        let start = Instant::now();
        for _ in 0..count {
            publisher
                .send_frames(&[tag.clone(), body.clone()])
                .await
                .map_err(s)?;
        }
        publisher
            .send(vec![Bytes::from_static(b"F")])
            .await
            .map_err(s)?;
        let mut finals = Vec::with_capacity(subs);
        while finals.len() < subs {
            match reports.try_recv() {
                Ok(got) => finals.push(got),
                Err(_) => compio::time::sleep(Duration::from_millis(1)).await,
            }
        }
        let elapsed = start.elapsed();
        let dropped = publisher.drop_count() - dropped_before;
        if dropped > 0 {
            return Err(format!("the PUB dropped {dropped} messages"));
        }
        if let Some(got) = finals.iter().find(|&&got| got != count as u64) {
            return Err(format!("a subscriber got {got} of {count}"));
        }
        Ok(Some(rate(count, elapsed)))
    })
}
