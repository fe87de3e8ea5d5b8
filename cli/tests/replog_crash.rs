//! Crash loop: a Strict leader process is SIGKILLed at random points while clients
//! write, then restarted on the same directory, over and over. After every kill the
//! log must reopen (a torn tail is fine, damage in the middle is not), every write the
//! leader acknowledged must be in it at the offset it was acknowledged with, and the
//! restarted node must serve those values.
//!
//! `REPLOG_CRASH_ITERATIONS` sets the number of kills (default 100).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use zeroring::replog::storage::Storage;
use zeroring::replog::store::Op;
use zeroring::replog::{Ack, LogClient};

/// A small xorshift generator: the seed is printed so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn start_leader(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args([
            "log",
            "serve",
            "--mode",
            "strict",
            "--bind",
            "tcp://127.0.0.1:0",
        ])
        .arg("--dir")
        .arg(dir)
        .args(["--segment-bytes", "16384"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start zeroring log serve");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .expect("read the listening line");
    let endpoint = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim()
        .to_owned();
    (child, endpoint)
}

/// What the leader acknowledged: offset -> (key, value).
type Acked = Rc<RefCell<HashMap<u64, (Vec<u8>, Vec<u8>)>>>;

/// Opens the log as the node would and checks every acknowledged write.
fn check_log(dir: &Path, acked: &Acked, iteration: usize) -> u64 {
    let (storage, recovery) = Storage::open_dir(dir, 16384)
        .unwrap_or_else(|e| panic!("iteration {iteration}: log does not reopen: {e}"));
    let mut found = HashMap::new();
    let mut expected_offset = 0;
    storage
        .for_each(0, |record| {
            assert_eq!(record.offset, expected_offset, "offsets are dense from 0");
            expected_offset += 1;
            if let Op::Put { key, value } = Op::decode(record.payload)? {
                found.insert(record.offset, (key.to_vec(), value.to_vec()));
            }
            Ok(())
        })
        .unwrap();
    for (offset, kv) in acked.borrow().iter() {
        assert_eq!(
            found.get(offset),
            Some(kv),
            "iteration {iteration}: acknowledged write at offset {offset} lost (recovery: {} records, {} bytes cut)",
            recovery.records,
            recovery.truncated_bytes
        );
    }
    storage.next_offset()
}

#[test]
fn strict_writes_survive_sigkill_at_random_points() {
    let iterations: usize = std::env::var("REPLOG_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash loop: {iterations} kills, seed {seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let log_dir = dir.path().join("log");
    let acked: Acked = Rc::default();
    let mut total_acked = 0;
    for iteration in 0..iterations {
        let (mut child, endpoint) = start_leader(&log_dir);
        let kill_after = Duration::from_millis(match rng.below(10) {
            0 => rng.below(3),       // during start-up and recovery
            _ => 5 + rng.below(150), // while writes are in flight
        });
        let verify_key = acked.borrow().values().next().cloned();
        let rt = compio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            // The restarted node serves what earlier incarnations acknowledged.
            if let Some((key, value)) = &verify_key {
                let client = LogClient::connect(&endpoint).await.unwrap();
                let got = client.get(key).await.unwrap();
                assert_eq!(got.as_deref(), Some(&value[..]), "iteration {iteration}");
                client.close().await;
            }
            let start = Instant::now();
            for writer in 0..4u64 {
                let (endpoint, acked) = (endpoint.clone(), acked.clone());
                compio::runtime::spawn(async move {
                    let Ok(mut client) = LogClient::connect(&endpoint).await else {
                        return;
                    };
                    client.set_timeout(Duration::from_secs(2));
                    for n in 0u64.. {
                        let key = format!("i{iteration}-w{writer}-{n}").into_bytes();
                        let value =
                            format!("value of {}", String::from_utf8_lossy(&key)).into_bytes();
                        match client.put(&key, &value, Ack::Leader, false).await {
                            Ok(offset) => {
                                acked.borrow_mut().insert(offset, (key, value));
                            }
                            Err(_) => return, // the node died mid-request
                        }
                    }
                })
                .detach();
            }
            compio::time::sleep(kill_after.saturating_sub(start.elapsed())).await;
            child.kill().unwrap();
            child.wait().unwrap();
            // Let the writers see the dead connection and stop.
            compio::time::sleep(Duration::from_millis(5)).await;
        });
        drop(rt);
        let next = check_log(&log_dir, &acked, iteration);
        total_acked = acked.borrow().len();
        assert!(next as usize >= total_acked);
    }
    eprintln!("crash loop: {iterations} kills, {total_acked} acknowledged writes all present");
    assert!(total_acked > 0, "no write was ever acknowledged");
}
