//! `zeroring bench`: zeroring side by side with libzmq (crate `zmq`), zmq.rs (crate
//! `zeromq` on tokio) and raw TCP (blocking std sockets, TCP_NODELAY, 2-byte length
//! header) over loopback, every peer on its own thread (like separate processes).
//! zeroring runs twice: its native compio sockets ("zeroring") and its thread-safe
//! handles from a `Context` used from plain threads ("zeroring handle"); the handles
//! also run from tokio tasks (`push64-tokio`, against zmq.rs on the same runtime) and as
//! N pairs over N I/O threads (`pairs1`, `pairs2`). The `curve-*` cases repeat REQ/REP
//! and PUSH/PULL over tcp with CURVE (issue 13); libzmq's column for them loads the
//! system `libzmq.so.5` at run time (module `libzmq_curve`), because the vendored libzmq
//! of crate `zmq` is built without CURVE.
//!
//! Prints a Markdown table on stdout (progress on stderr) and writes an SVG bar chart.
//! Needs the `compare` cargo feature, which pulls in libzmq, zmq.rs and tokio; without
//! it the command only prints how to enable it.

#[cfg(feature = "compare")]
mod handle;
#[cfg(feature = "compare")]
mod libzmq;
#[cfg(feature = "compare")]
mod libzmq_curve;
#[cfg(feature = "compare")]
mod rawtcp;
#[cfg(feature = "compare")]
mod svg;
#[cfg(feature = "compare")]
mod zeroring;
#[cfg(feature = "compare")]
mod zmqrs;

use crate::CliError;

#[cfg(not(feature = "compare"))]
/// Without the `compare` feature: explains how to build the command.
pub fn run(_args: &[String]) -> Result<(), CliError> {
    Err(CliError(
        "the bench command needs the compare feature: cargo run --release --features compare -- bench"
            .into(),
    ))
}

#[cfg(feature = "compare")]
pub use runner::{CASE_NAMES, IMPLEMENTATIONS, is_latency_case, measure, run};

#[cfg(feature = "compare")]
mod runner {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    use super::{CliError, handle, libzmq, libzmq_curve, rawtcp, svg, zeroring, zmqrs};
    use crate::text_flag;

    /// The messaging pattern of a case.
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum Kind {
        /// One REQ, one REP echo; result: median round trip in µs.
        ReqRep(Transport, Security),
        /// One PUSH streaming to one PULL; result: msg/s at the receiver.
        PushPull(Transport, Security),
        /// One PUB to `n` SUBs, every SUB receives every message; result: msg/s published.
        PubSub(usize),
        /// `n` DEALERs doing request/replies through one ROUTER; result: round trips/s.
        DealerRouter(usize),
        /// One PUSH task streaming to one PULL task on a two-worker tokio runtime;
        /// result: msg/s at the receiver.
        PushPullTokio,
        /// `n` PUSH/PULL pairs over one context with `n` I/O threads, each side on
        /// its own thread; result: aggregate msg/s (`count` is per pair).
        Pairs(usize),
    }

    /// Where a case's two sockets meet.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Transport {
        /// Loopback TCP.
        Tcp,
        /// `inproc://`, between sockets of one context (zeroring's native sockets:
        /// of one process), each on its own thread.
        Inproc,
    }

    impl Transport {
        /// The address to bind: `tcp_any` (a free loopback port, in the library's
        /// own spelling) or a fresh inproc name.
        pub(crate) fn bind_addr(self, tcp_any: &str) -> String {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            match self {
                Transport::Tcp => tcp_any.to_string(),
                Transport::Inproc => {
                    format!("inproc://bench-{}", NEXT.fetch_add(1, Ordering::Relaxed))
                }
            }
        }
    }

    /// The security mechanism of a case's connection.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub(crate) enum Security {
        /// NULL: no authentication, no encryption (the default everywhere).
        Null,
        /// CURVE (RFC 26), the bound side the server; fresh key pairs per run. Only
        /// over tcp: `inproc://` has no security mechanism (libzmq and zeroring alike),
        /// so an inproc case with CURVE is n/a everywhere.
        Curve,
    }

    /// The key pairs of one CURVE run: the server's (the bound side) and its client's.
    #[derive(Clone)]
    pub(crate) struct CurveKeys {
        /// The server's long-term key pair; the client gets its public half.
        pub server: ::zeroring::CurveKeyPair,
        /// The client's long-term key pair.
        pub client: ::zeroring::CurveKeyPair,
    }

    impl CurveKeys {
        /// Fresh key pairs for a CURVE case, `None` for NULL.
        pub(crate) fn for_case(security: Security) -> Result<Option<CurveKeys>, String> {
            if security == Security::Null {
                return Ok(None);
            }
            let pair = || ::zeroring::curve_keypair().map_err(|e| format!("curve_keypair: {e}"));
            Ok(Some(CurveKeys {
                server: pair()?,
                client: pair()?,
            }))
        }
    }

    /// One benchmark case.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Case {
        pub name: &'static str,
        pub title: &'static str,
        pub kind: Kind,
        pub size: usize,
        /// Round trips (REQ/REP: in total; DEALER/ROUTER: per DEALER) or messages.
        pub count: usize,
    }

    impl Case {
        /// True when the result is a latency (lower is better).
        pub fn is_latency(&self) -> bool {
            matches!(self.kind, Kind::ReqRep(..))
        }

        /// The case's security mechanism (NULL for the patterns that have none).
        pub fn security(&self) -> Security {
            match self.kind {
                Kind::ReqRep(_, security) | Kind::PushPull(_, security) => security,
                _ => Security::Null,
            }
        }
    }

    /// zmq.rs 0.7 stalls after 65,536 messages in one PUSH/PULL stream.
    pub(crate) const ZMQRS_STREAM_CAP: usize = 50_000;

    const CASES: [Case; 17] = [
        Case {
            name: "rr64",
            title: "REQ/REP round trip 64 B",
            kind: Kind::ReqRep(Transport::Tcp, Security::Null),
            size: 64,
            count: 20_000,
        },
        Case {
            name: "rr1k",
            title: "REQ/REP round trip 1 KiB",
            kind: Kind::ReqRep(Transport::Tcp, Security::Null),
            size: 1024,
            count: 20_000,
        },
        Case {
            name: "push64",
            title: "PUSH/PULL 64 B",
            kind: Kind::PushPull(Transport::Tcp, Security::Null),
            size: 64,
            count: 1_000_000,
        },
        Case {
            name: "push1k",
            title: "PUSH/PULL 1 KiB",
            kind: Kind::PushPull(Transport::Tcp, Security::Null),
            size: 1024,
            count: 300_000,
        },
        Case {
            name: "push16k",
            title: "PUSH/PULL 16 KiB",
            kind: Kind::PushPull(Transport::Tcp, Security::Null),
            size: 16 * 1024,
            count: 50_000,
        },
        Case {
            name: "push1m",
            title: "PUSH/PULL 1 MiB",
            kind: Kind::PushPull(Transport::Tcp, Security::Null),
            size: 1 << 20,
            count: 1_000,
        },
        Case {
            name: "pub1",
            title: "PUB/SUB 64 B, 1 subscriber",
            kind: Kind::PubSub(1),
            size: 64,
            count: 500_000,
        },
        Case {
            name: "pub8",
            title: "PUB/SUB 64 B, 8 subscribers",
            kind: Kind::PubSub(8),
            size: 64,
            count: 200_000,
        },
        Case {
            name: "dealer16",
            title: "DEALER/ROUTER 64 B, 16 peers",
            kind: Kind::DealerRouter(16),
            size: 64,
            count: 2_000,
        },
        Case {
            name: "push64-tokio",
            title: "PUSH/PULL 64 B from tokio tasks",
            kind: Kind::PushPullTokio,
            size: 64,
            count: 500_000,
        },
        Case {
            name: "pairs1",
            title: "1 PUSH/PULL pair 64 B, 1 I/O thread",
            kind: Kind::Pairs(1),
            size: 64,
            count: 500_000,
        },
        Case {
            name: "pairs2",
            title: "2 PUSH/PULL pairs 64 B, 2 I/O threads",
            kind: Kind::Pairs(2),
            size: 64,
            count: 500_000,
        },
        Case {
            name: "inproc-rr64",
            title: "inproc REQ/REP round trip 64 B",
            kind: Kind::ReqRep(Transport::Inproc, Security::Null),
            size: 64,
            count: 20_000,
        },
        Case {
            name: "inproc-push64",
            title: "inproc PUSH/PULL 64 B",
            kind: Kind::PushPull(Transport::Inproc, Security::Null),
            size: 64,
            count: 1_000_000,
        },
        Case {
            name: "curve-rr64",
            title: "CURVE REQ/REP round trip 64 B",
            kind: Kind::ReqRep(Transport::Tcp, Security::Curve),
            size: 64,
            count: 5_000,
        },
        Case {
            name: "curve-push64",
            title: "CURVE PUSH/PULL 64 B",
            kind: Kind::PushPull(Transport::Tcp, Security::Curve),
            size: 64,
            count: 200_000,
        },
        Case {
            name: "curve-push16k",
            title: "CURVE PUSH/PULL 16 KiB",
            kind: Kind::PushPull(Transport::Tcp, Security::Curve),
            size: 16 * 1024,
            count: 20_000,
        },
        // A new case needs its entry here, a `Kind` if no existing one fits, an arm
        // in every implementation's `run` (`Ok(None)` where it does not apply) and a
        // `count_for` range in cli/benches/common.
    ];

    /// The implementations, in table order.
    pub(crate) const IMPLS: [&str; 5] =
        ["zeroring", "zeroring handle", "libzmq", "zmq.rs", "raw TCP"];

    /// Column indexes in [`IMPLS`].
    const ZERORING: usize = 0;
    const HANDLE: usize = 1;
    const LIBZMQ: usize = 2;
    const ZMQRS: usize = 3;
    const RAW_TCP: usize = 4;

    /// The implementations [`measure`] knows, in table order.
    pub const IMPLEMENTATIONS: [&str; 5] = IMPLS;

    /// The case names [`measure`] knows (`rr64`, `push1k`, ...), in table order.
    pub const CASE_NAMES: [&str; CASES.len()] = {
        let mut names = [""; CASES.len()];
        let mut i = 0;
        while i < CASES.len() {
            names[i] = CASES[i].name;
            i += 1;
        }
        names
    };

    /// Whether a case's figure is a latency in µs (else a rate per second).
    pub fn is_latency_case(name: &str) -> bool {
        CASES.iter().any(|c| c.name == name && c.is_latency())
    }

    /// Runs one case for one implementation with `count` messages (REQ/REP: round
    /// trips; DEALER/ROUTER: per DEALER) on the same harness as the table, and returns
    /// its figure: median round trip in µs, or messages per second. `Ok(None)` when the
    /// implementation has no such pattern, or cannot run it on this machine (libzmq's
    /// CURVE cases without a system libzmq built with CURVE). The criterion benches in `cli/benches/`
    /// (`compare`, `reqrep`, `fanout`) drive this.
    pub fn measure(name: &str, implementation: &str, count: usize) -> Result<Option<f64>, String> {
        let mut case = *CASES
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| format!("unknown case {name:?}"))?;
        if !IMPLS.contains(&implementation) {
            return Err(format!("unknown implementation {implementation:?}"));
        }
        case.count = count.max(1);
        match run_one(implementation, case) {
            Outcome::Value(v) => Ok(Some(v)),
            Outcome::NotApplicable | Outcome::Unavailable(_) => Ok(None),
            Outcome::Stalled => Err("stalled".into()),
            Outcome::Failed(e) => Err(e),
            Outcome::Skipped => Ok(None),
        }
    }

    /// What one implementation scored on one case.
    #[derive(Clone, Debug)]
    pub(crate) enum Outcome {
        /// The figure: µs for a latency, else per second.
        Value(f64),
        /// The implementation has no such pattern or transport.
        NotApplicable,
        /// It has the case, but not on this machine: the reason, and how to get it
        /// (libzmq with CURVE needs the system package).
        Unavailable(String),
        /// No result within the time limit.
        Stalled,
        /// An error, in words.
        Failed(String),
        /// Left out with `--impls`.
        Skipped,
    }

    impl Outcome {
        pub fn value(&self) -> Option<f64> {
            match self {
                Outcome::Value(v) => Some(*v),
                _ => None,
            }
        }
    }

    /// An implementation's result: `Ok(None)` when it has no such pattern.
    pub(crate) type RunResult = Result<Option<f64>, String>;

    /// Releases the DEALER client threads (each waits on `barrier` after its warm-up),
    /// waits for all of them and returns how long they took together.
    pub(crate) fn time_clients(
        barrier: &std::sync::Barrier,
        clients: Vec<std::thread::JoinHandle<Result<(), String>>>,
    ) -> Result<Duration, String> {
        barrier.wait();
        let start = std::time::Instant::now();
        for c in clients {
            c.join().map_err(|_| "DEALER thread panicked")??;
        }
        Ok(start.elapsed())
    }

    /// Median of round-trip samples, in µs.
    pub(crate) fn median_us(mut samples: Vec<Duration>) -> f64 {
        if samples.is_empty() {
            return 0.0;
        }
        samples.sort_unstable();
        samples[samples.len() / 2].as_secs_f64() * 1e6
    }

    /// Messages (or round trips) per second.
    pub(crate) fn rate(count: usize, elapsed: Duration) -> f64 {
        count as f64 / elapsed.as_secs_f64().max(1e-9)
    }

    /// Runs `f` on its own thread; gives up after `limit` (the thread is left behind).
    fn with_timeout(limit: Duration, f: impl FnOnce() -> RunResult + Send + 'static) -> Outcome {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .unwrap_or_else(|_| Err("panicked".into()));
            tx.send(r).ok();
        });
        match rx.recv_timeout(limit) {
            Ok(Ok(Some(v))) => Outcome::Value(v),
            Ok(Ok(None)) => Outcome::NotApplicable,
            Ok(Err(e)) => Outcome::Failed(e),
            Err(_) => Outcome::Stalled,
        }
    }

    fn run_one(imp: &str, case: Case) -> Outcome {
        let (limit, f): (u64, fn(Case) -> RunResult) = match imp {
            "zeroring" => (20, zeroring::run),
            "zeroring handle" => (20, handle::run),
            // The CURVE cases need the system libzmq; without it the cell says so.
            "libzmq" if case.security() == Security::Curve => {
                if let Err(why) = libzmq_curve::available() {
                    return Outcome::Unavailable(why);
                }
                (20, libzmq_curve::run)
            }
            "libzmq" => (20, libzmq::run),
            "zmq.rs" => (10, zmqrs::run),
            _ => (20, rawtcp::run),
        };
        with_timeout(Duration::from_secs(limit), move || f(case))
    }

    /// A comma-separated list of names (`--cases rr64,push64`), each checked against
    /// `known`; `None` without the flag.
    fn names_flag(
        args: &[String],
        flag: &str,
        what: &str,
        known: &[&str],
    ) -> Result<Option<Vec<String>>, CliError> {
        let Some(list) = text_flag(args, flag) else {
            return Ok(None);
        };
        let names: Vec<String> = list.split(',').map(|n| n.trim().to_string()).collect();
        if let Some(name) = names.iter().find(|n| !known.contains(&n.as_str())) {
            return Err(CliError(format!(
                "unknown {what} {name:?}; known: {}",
                known.join(",")
            )));
        }
        Ok(Some(names))
    }

    /// Runs the bench.
    pub fn run(args: &[String]) -> Result<(), CliError> {
        let quick = args.iter().any(|a| a == "--quick");
        if let Some(us) = text_flag(args, "--busy-poll") {
            let us: u64 = us
                .parse()
                .map_err(|_| CliError("--busy-poll takes microseconds".into()))?;
            zeroring::set_busy_poll(Duration::from_micros(us));
        }
        let svg_path = text_flag(args, "--svg").unwrap_or("bench.svg").to_string();
        let case_names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        let wanted = names_flag(args, "--cases", "case", &case_names)?;
        let impls = names_flag(args, "--impls", "implementation", &IMPLS)?;
        let cases: Vec<Case> = CASES
            .iter()
            .filter(|c| {
                wanted
                    .as_ref()
                    .is_none_or(|w| w.iter().any(|n| n == c.name))
            })
            .map(|c| Case {
                count: if quick {
                    (c.count / 10).max(10)
                } else {
                    c.count
                },
                ..*c
            })
            .collect();
        let started = Instant::now();
        let mut results = Vec::new();
        for case in &cases {
            let mut row = Vec::new();
            for imp in IMPLS {
                if impls.as_ref().is_some_and(|w| !w.iter().any(|n| n == imp)) {
                    row.push(Outcome::Skipped);
                    continue;
                }
                let t = Instant::now();
                let outcome = run_one(imp, *case);
                eprintln!(
                    "bench: {:<38} {:<15} {:>14}  ({:.1} s)",
                    case.title,
                    imp,
                    cell(case, &outcome),
                    t.elapsed().as_secs_f64()
                );
                row.push(outcome);
            }
            results.push((*case, row));
        }
        print_table(&results, quick);
        std::fs::write(&svg_path, svg::chart(&results))
            .map_err(|e| CliError(format!("cannot write {svg_path}: {e}")))?;
        eprintln!(
            "bench: done in {:.1} s; chart written to {svg_path}",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// A value with its unit.
    pub(crate) fn format_value(case: &Case, v: f64) -> String {
        if case.is_latency() {
            format!("{v:.1} µs")
        } else if v >= 1e6 {
            format!("{:.2} M/s", v / 1e6)
        } else if v >= 1e3 {
            format!("{:.1} k/s", v / 1e3)
        } else {
            format!("{v:.0} /s")
        }
    }

    fn cell(case: &Case, o: &Outcome) -> String {
        match o {
            Outcome::Value(v) => format_value(case, *v),
            Outcome::NotApplicable => "n/a".into(),
            Outcome::Unavailable(why) => format!("n/a: {why}"),
            Outcome::Stalled => "stalled".into(),
            Outcome::Failed(e) => format!("failed: {e}"),
            Outcome::Skipped => "-".into(),
        }
    }

    /// The advantage of `a` over `b` as a number: > 1 means `a` is better.
    fn advantage(case: &Case, a: &Outcome, b: &Outcome) -> Option<f64> {
        match (a.value(), b.value()) {
            (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
                Some(if case.is_latency() { b / a } else { a / b })
            }
            _ => None,
        }
    }

    /// [`advantage`] for the table: `1.23x`, or `-` without both figures.
    fn ratio(case: &Case, a: &Outcome, b: &Outcome) -> String {
        advantage(case, a, b).map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
    }

    fn print_table(results: &[(Case, Vec<Outcome>)], quick: bool) {
        println!(
            "| case | {} | zeroring/libzmq | handle/libzmq | handle/zmq.rs | zeroring/raw TCP |",
            IMPLS.join(" | ")
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for (case, row) in results {
            let cells: Vec<String> = row.iter().map(|o| cell(case, o)).collect();
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                case.title,
                cells.join(" | "),
                ratio(case, &row[ZERORING], &row[LIBZMQ]),
                ratio(case, &row[HANDLE], &row[LIBZMQ]),
                ratio(case, &row[HANDLE], &row[ZMQRS]),
                ratio(case, &row[ZERORING], &row[RAW_TCP]),
            );
        }
        println!();
        println!(
            "Loopback TCP, each peer on its own thread. REQ/REP: median round trip; PUSH/PULL: \
             msg/s at the receiver, first to last message; PUB/SUB: msg/s published with every \
             subscriber receiving all (HWM unlimited); DEALER/ROUTER: aggregate round trips/s. \
             Ratios > 1 mean the first named is better.{}",
            if quick {
                " Quick run (10x fewer messages)."
            } else {
                ""
            }
        );
        println!(
            "zeroring: native compio sockets, one runtime per thread. zeroring handle: the \
             thread-safe Socket of a Context, blocking API from plain threads; like libzmq's \
             column (one zmq::Context per case, 1 I/O thread), each case uses one Context with \
             1 I/O thread shared by all its sockets. Both zeroring columns send one shared \
             Bytes body cloned per message. --busy-poll applies to the zeroring column only."
        );
        if results
            .iter()
            .any(|(c, _)| matches!(c.kind, Kind::PushPullTokio))
        {
            println!(
                "From tokio tasks: one multi-thread tokio runtime with 2 workers, a sender task \
                 and a receiver task (zeroring handle: send_async/recv_async, plus its \
                 Context's I/O thread; zmq.rs: its sockets on that runtime)."
            );
        }
        if results.iter().any(|(c, _)| {
            matches!(
                c.kind,
                Kind::ReqRep(Transport::Inproc, _) | Kind::PushPull(Transport::Inproc, _)
            )
        }) {
            println!(
                "inproc: the two sockets on two threads of one process, no encoding (zeroring \
                 native: sockets made with new(), each on its own compio runtime thread; zeroring \
                 handle and libzmq: sockets of one context with 1 I/O thread, which libzmq's \
                 inproc does not use and zeroring's handles do). zmq.rs and raw TCP have no \
                 inproc (n/a)."
            );
        }
        if let Some((pairs, _)) = results
            .iter()
            .find(|(c, _)| matches!(c.kind, Kind::Pairs(_)))
        {
            println!(
                "Pairs: N PUSH/PULL pairs over one context with N I/O threads (libzmq: \
                 ZMQ_IO_THREADS = N), each side on its own thread, started together after a \
                 warm-up; aggregate msg/s until the last receiver is done, {} messages per pair.",
                pairs.count
            );
        }
        println!(
            "Note: zmq.rs 0.7 stalls after 65,536 messages in one PUSH/PULL stream, so its \
             stream runs (tokio case included) are capped at {ZMQRS_STREAM_CAP} messages; its \
             PUB drops messages when its fixed internal queue is full (no HWM option), so the \
             PUB/SUB cases are n/a. Raw TCP has no PUB/SUB or DEALER/ROUTER (n/a); messages of \
             64 KiB and more use 0xFFFF plus a 4-byte length. \"stalled\": no result within \
             the time limit (10 s for zmq.rs, 20 s for the others)."
        );
        if results.iter().any(|(c, _)| c.security() == Security::Curve) {
            println!(
                "CURVE: tcp with CURVE, the bound side (REP, PULL) the server, fresh key pairs \
                 per run, no authenticator. libzmq's column loads the system libzmq.so.5 \
                 (Debian's libzmq5, built with libsodium) at run time, since crate zmq's \
                 vendored libzmq has no CURVE; zmq.rs and raw TCP have no CURVE (n/a)."
            );
        }
        print_targets(results);
    }

    /// The row of case `name`, when that case ran.
    fn row_of<'a>(
        results: &'a [(Case, Vec<Outcome>)],
        name: &str,
    ) -> Option<&'a (Case, Vec<Outcome>)> {
        results.iter().find(|(c, _)| c.name == name)
    }

    /// Issue 12's targets for the handle and issue 13's for CURVE, for the cases that
    /// ran (medians of several runs decide; one run is one sample).
    fn print_targets(results: &[(Case, Vec<Outcome>)]) {
        let verdict = |r: Option<f64>, min: f64| match r {
            Some(r) if r >= min => format!("{r:.2}x (met)"),
            Some(r) => format!("{r:.2}x (missed)"),
            None => "-".into(),
        };
        let mut lines = Vec::new();
        // (case, column, against column, minimum, what)
        let pairs_of = [
            (
                "push64",
                HANDLE,
                LIBZMQ,
                1.5,
                "handle PUSH/PULL 64 B vs libzmq >= 1.5x",
            ),
            (
                "rr64",
                HANDLE,
                LIBZMQ,
                1.0,
                "handle REQ/REP 64 B round trip vs libzmq >= 1.0x (no slower)",
            ),
            (
                "push64-tokio",
                HANDLE,
                ZMQRS,
                3.0,
                "handle from tokio tasks vs zmq.rs >= 3x",
            ),
            (
                "inproc-push64",
                ZERORING,
                LIBZMQ,
                2.0,
                "native inproc PUSH/PULL 64 B vs libzmq inproc >= 2x",
            ),
            (
                "inproc-push64",
                HANDLE,
                LIBZMQ,
                2.0,
                "handle inproc PUSH/PULL 64 B vs libzmq inproc >= 2x",
            ),
            (
                "inproc-rr64",
                ZERORING,
                LIBZMQ,
                1.0,
                "native inproc REQ/REP round trip vs libzmq inproc >= 1.0x (no slower)",
            ),
            (
                "inproc-rr64",
                HANDLE,
                LIBZMQ,
                1.0,
                "handle inproc REQ/REP round trip vs libzmq inproc >= 1.0x (no slower)",
            ),
        ];
        for (name, a, b, min, what) in pairs_of {
            if let Some((case, row)) = row_of(results, name) {
                lines.push(format!(
                    "{what}: {}",
                    verdict(advantage(case, &row[a], &row[b]), min)
                ));
            }
        }
        if let (Some((one, r1)), Some((_, r2))) =
            (row_of(results, "pairs1"), row_of(results, "pairs2"))
        {
            for (col, min) in [(HANDLE, Some(1.6)), (LIBZMQ, None)] {
                let r = advantage(one, &r2[col], &r1[col]);
                let figure = match min {
                    Some(min) => verdict(r, min),
                    None => r.map_or_else(|| "-".into(), |r| format!("{r:.2}x")),
                };
                let target = if min.is_some() { " >= 1.6x" } else { "" };
                lines.push(format!(
                    "{} pairs2/pairs1 aggregate{target}: {figure}",
                    IMPLS[col]
                ));
            }
        }
        if !lines.is_empty() {
            println!(
                "Targets (issue 12; medians of interleaved runs decide, this is one run): {}.",
                lines.join("; ")
            );
        }
        // Issue 13: the zeroring column (native sockets) against libzmq with CURVE; the
        // handle's figure is printed beside it for reference.
        if let Some((case, row)) = row_of(results, "curve-push64") {
            println!(
                "Target (issue 13; medians of interleaved runs decide, this is one run): CURVE \
                 PUSH/PULL 64 B vs libzmq with CURVE >= 2x: {} (handle: {}).",
                verdict(advantage(case, &row[ZERORING], &row[LIBZMQ]), 2.0),
                ratio(case, &row[HANDLE], &row[LIBZMQ]),
            );
        }
    }
}

/// Decodes a subscriber's count report (little-endian u64).
#[cfg(feature = "compare")]
pub(crate) fn decode_count(frame: &[u8]) -> u64 {
    let mut raw = [0u8; 8];
    let n = frame.len().min(8);
    raw[..n].copy_from_slice(&frame[..n]);
    u64::from_le_bytes(raw)
}
