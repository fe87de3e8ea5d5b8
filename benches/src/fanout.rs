//! PUB/SUB fan-out peers for the benches: subscriber threads (zeroring or libzmq)
//! that count data messages and report the count on an end marker.
//!
//! Messages: first frame `D` (data, 64-byte body in the second frame) or `E` (end of
//! a batch). Each subscriber answers an `E` with its count since the last `E`, as a
//! little-endian u64 on a PUSH socket to the bench thread. SNDHWM/RCVHWM are 0
//! (unlimited) on every side, so no message is dropped and counts are exact.

use std::thread;

/// Starts `n` zeroring SUB threads (one compio runtime each) connected to
/// `pub_endpoint`, reporting to the PULL at `report_endpoint`.
pub fn zeroring_subscribers(n: usize, pub_endpoint: &str, report_endpoint: &str) {
    for _ in 0..n {
        let (pub_ep, report_ep) = (pub_endpoint.to_string(), report_endpoint.to_string());
        thread::spawn(move || {
            compio::runtime::Runtime::new()
                .expect("compio runtime")
                .block_on(async move {
                    let sub = zeroring::SubSocket::new();
                    sub.set_rcvhwm(None).expect("a valid option");
                    sub.subscribe("");
                    sub.connect(&pub_ep).await.expect("connect");
                    let report = zeroring::PushSocket::new();
                    report.connect(&report_ep).await.expect("connect report");
                    let mut count = 0u64;
                    while let Ok(m) = sub.recv().await {
                        if m[0][..] == b"E"[..] {
                            if report.send(count.to_le_bytes().to_vec()).await.is_err() {
                                return;
                            }
                            count = 0;
                        } else {
                            count += 1;
                        }
                    }
                });
        });
    }
}

/// Starts `n` libzmq SUB threads connected to `pub_endpoint`, reporting to the
/// libzmq PULL at `report_endpoint`.
pub fn libzmq_subscribers(ctx: &zmq::Context, n: usize, pub_endpoint: &str, report_endpoint: &str) {
    for _ in 0..n {
        let ctx = ctx.clone();
        let (pub_ep, report_ep) = (pub_endpoint.to_string(), report_endpoint.to_string());
        thread::spawn(move || {
            let sub = ctx.socket(zmq::SUB).expect("socket");
            sub.set_rcvhwm(0).expect("hwm");
            sub.set_subscribe(b"").expect("subscribe");
            sub.connect(&pub_ep).expect("connect");
            let report = ctx.socket(zmq::PUSH).expect("socket");
            report.connect(&report_ep).expect("connect report");
            let mut count = 0u64;
            while let Ok(m) = sub.recv_multipart(0) {
                if m[0] == b"E" {
                    if report.send(&count.to_le_bytes()[..], 0).is_err() {
                        return;
                    }
                    count = 0;
                } else {
                    count += 1;
                }
            }
        });
    }
}

/// Decodes a subscriber's report.
pub fn decode_count(frame: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&frame[..8]);
    u64::from_le_bytes(raw)
}
