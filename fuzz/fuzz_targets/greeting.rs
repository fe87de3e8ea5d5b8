//! `Greeting::peek_version` on every prefix and `Greeting::decode` on 64+ bytes.
//!
//! Checks that the prefix decision never contradicts the full decode, and that a
//! decoded greeting re-encodes to one that decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zeroring_zmtp::Greeting;
use zeroring_zmtp::greeting::{GREETING_LEN, VERSION_DECIDED_AT};

fuzz_target!(|data: &[u8]| {
    let mut failed_early = false;
    for n in 0..=data.len().min(GREETING_LEN) {
        match Greeting::peek_version(&data[..n]) {
            Ok(None) => assert!(n < VERSION_DECIDED_AT, "no decision at {n} bytes"),
            Ok(Some(v)) => {
                assert!(n >= VERSION_DECIDED_AT);
                assert!(v.major >= 3);
                assert!(!failed_early, "a longer prefix un-failed");
            }
            Err(_) => failed_early = true,
        }
    }
    if data.len() < GREETING_LEN {
        return;
    }
    if let Ok(g) = Greeting::decode(data) {
        assert!(!failed_early, "decode accepted what peek_version refused");
        assert_eq!(Greeting::peek_version(data), Ok(Some(g.version)));
        let again = Greeting::decode(&g.encode()).expect("our own encoding decodes");
        assert_eq!(again, g);
    }
});
