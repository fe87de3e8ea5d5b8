//! The Markdown report of `zeroring bench`: the table of per-cell medians with its
//! ratio columns, and the notes under it that say how each column was measured.
//! The targets and the scaling lines come from `targets`.

use super::case::{Case, Kind, Security, Transport, ZMQRS_STREAM_CAP};
use super::columns::{
    HANDLE, IMPLS, LIBZMQ, MONOCOQUE, MONOCOQUE_FLUSH, OTHER_ZEROMQ, RAW_TCP, RZMQ, ZERORING, ZMQRS,
};
use super::figure::Figure;
use super::outcome::{Cell, Outcome, advantage, ratio};
use super::targets;

/// A rate with its unit, or a latency as "p50 / p99 µs" (p50 alone without a p99).
pub(crate) fn format_figure(case: &Case, f: Figure) -> String {
    if case.is_latency() {
        match f.p99 {
            Some(p99) => format!("{:.1} / {p99:.1} µs", f.value),
            None => format!("{:.1} µs", f.value),
        }
    } else {
        format_rate(f.value)
    }
}

/// A rate per second with its unit.
fn format_rate(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2} M/s", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1} k/s", v / 1e3)
    } else {
        format!("{v:.0} /s")
    }
}

/// One run's outcome in words (a figure, "n/a", "stalled", ...).
pub(crate) fn outcome_text(case: &Case, o: &Outcome) -> String {
    match o {
        Outcome::Value(f) => format_figure(case, *f),
        Outcome::NotApplicable => "n/a".into(),
        Outcome::Unavailable(why) => format!("n/a: {why}"),
        Outcome::Stalled => "stalled".into(),
        Outcome::Failed(e) => format!("failed: {e}"),
        Outcome::Skipped => "-".into(),
    }
}

/// A cell: its medians, marked "(k/R)" when only k of the R rounds gave a figure.
fn cell_text(case: &Case, cell: &Cell, rounds: usize) -> String {
    let text = outcome_text(case, &cell.summary());
    let valued = cell.valued();
    if valued > 0 && valued < rounds {
        format!("{text} ({valued}/{rounds})")
    } else {
        text
    }
}

/// zeroring against the best other ZeroMQ implementation of the row, with its name.
fn against_best_other(case: &Case, row: &[Outcome]) -> String {
    let best = OTHER_ZEROMQ
        .iter()
        .filter_map(|&col| advantage(case, &row[ZERORING], &row[col]).map(|r| (r, col)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    best.map_or_else(
        || "-".into(),
        |(r, col)| format!("{r:.2}x ({})", IMPLS[col]),
    )
}

/// Prints the table, the notes and the targets.
pub(crate) fn print(results: &[(Case, Vec<Cell>)], rounds: usize, quick: bool) {
    let summaries: Vec<(Case, Vec<Outcome>)> = results
        .iter()
        .map(|(case, cells)| (*case, cells.iter().map(Cell::summary).collect()))
        .collect();
    println!(
        "| case | {} | zeroring/libzmq | handle/libzmq | handle/zmq.rs | zeroring/raw TCP | zeroring/best other |",
        IMPLS.join(" | ")
    );
    println!("|---{}|", "|---".repeat(IMPLS.len() + 5));
    for ((case, cells), (_, row)) in results.iter().zip(&summaries) {
        let texts: Vec<String> = cells.iter().map(|c| cell_text(case, c, rounds)).collect();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            case.title,
            texts.join(" | "),
            ratio(case, &row[ZERORING], &row[LIBZMQ]),
            ratio(case, &row[HANDLE], &row[LIBZMQ]),
            ratio(case, &row[HANDLE], &row[ZMQRS]),
            ratio(case, &row[ZERORING], &row[RAW_TCP]),
            against_best_other(case, row),
        );
    }
    println!();
    print_notes(&summaries, rounds, quick);
    targets::print(&summaries, rounds);
}

/// True when a case of `results` matches `f`.
fn any_case(results: &[(Case, Vec<Outcome>)], f: impl Fn(&Case) -> bool) -> bool {
    results.iter().any(|(c, _)| f(c))
}

/// True when column `col` ran at all (was not left out with `--impls`).
fn ran(results: &[(Case, Vec<Outcome>)], col: usize) -> bool {
    results
        .iter()
        .any(|(_, row)| !matches!(row[col], Outcome::Skipped))
}

fn print_notes(results: &[(Case, Vec<Outcome>)], rounds: usize, quick: bool) {
    println!(
        "Each cell is the median of {rounds} round{} (every implementation ran each case once \
         per round, in column order, round after round); \"(k/{rounds})\": only k rounds gave \
         a figure. Loopback TCP, each peer on its own thread. REQ/REP: median / 99th \
         percentile round trip (each the median over the rounds); PUSH/PULL: msg/s at the \
         receiver, first to last message; PUB/SUB: msg/s published with every subscriber \
         receiving all; DEALER/ROUTER: aggregate round trips/s. Ratios compare the medians \
         (REQ/REP: the p50s); > 1 means the first named is better; zeroring/best other: \
         zeroring against the best of libzmq, zmq.rs, rzmq and monocoque (either mode) in \
         that row.{}",
        if rounds == 1 { "" } else { "s" },
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
    if ran(results, RZMQ) {
        println!(
            "rzmq 0.5 (crate rzmq with its io-uring feature, on tokio): the process-wide \
             io_uring backend started once with the default UringConfig (its worker count \
             comes from the core count: 1 worker thread on two cores, shared by every rzmq \
             connection), every socket with IO_URING_SESSION_ENABLED; each peer has its own \
             Context on its own current-thread tokio runtime; PUB with XPUB_NODROP (an rzmq \
             SNDHWM of 0 means 1, so PUB waits for room instead of dropping)."
        );
    }
    if ran(results, MONOCOQUE) || ran(results, MONOCOQUE_FLUSH) {
        println!(
            "monocoque 0.4 (crate monocoque-rs, feature zmq, on compio like zeroring): a \
             monocoque socket is one connection, so the bound side accepts on a compio \
             TcpListener and wraps the stream; its DEALER/ROUTER server is 16 ROUTER sockets, \
             one per DEALER, as tasks of one compio runtime thread; its PUB hands messages to \
             worker threads (its default count, 2 on two cores) through channels of SNDHWM \
             capacity (set to 2^30: a full channel drops). Senders use send_one, receivers \
             recv_into with one reused Vec. \"monocoque\": default options, every send \
             written at once. \"monocoque flush\": write coalescing on, flush() after a \
             stream's last message and after every DEALER request and ROUTER reply; n/a for \
             REQ/REP (they have no flush(), so a coalesced request never leaves) and PUB/SUB \
             (PUB has no flush() and its workers ignore the option, so it is the monocoque \
             column again)."
        );
    }
    if any_case(results, |c| matches!(c.kind, Kind::PushPullTokio)) {
        println!(
            "From tokio tasks: one multi-thread tokio runtime with 2 workers, a sender task \
             and a receiver task (zeroring handle: send_async/recv_async, plus its \
             Context's I/O thread; zmq.rs: its sockets on that runtime)."
        );
    }
    if any_case(results, |c| {
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
             inproc (n/a); rzmq and monocoque have one, which this bench does not run (n/a)."
        );
    }
    if let Some((pairs, _)) = results.iter().find(|(c, _)| c.pairs().is_some()) {
        println!(
            "Pairs: N independent pairs (PUSH/PULL: aggregate msg/s; REQ/REP: aggregate round \
             trips/s), started together after a warm-up and timed until the last one is done, \
             {} messages or round trips per pair. zeroring: pair i's two sockets as two tasks \
             of compio runtime thread i (N threads in all); zeroring handle: one Context with \
             N I/O threads, pair i on I/O thread i, each socket used from its own plain thread; \
             libzmq: one context with ZMQ_IO_THREADS = N, each socket on its own thread. The \
             others are not run here (n/a).",
            pairs.count
        );
    }
    println!(
        "Note: zmq.rs 0.7 stalls after 65,536 messages in one PUSH/PULL stream, so its \
         stream runs (tokio case included) are capped at {ZMQRS_STREAM_CAP} messages; its \
         PUB drops messages when its fixed internal queue is full (no HWM option), so the \
         PUB/SUB cases are n/a. Raw TCP has no PUB/SUB or DEALER/ROUTER (n/a); messages of \
         64 KiB and more use 0xFFFF plus a 4-byte length. \"stalled\": no result within \
         the time limit (10 s for zmq.rs, rzmq and monocoque, 20 s for the others); a cell \
         that stalled is not run again in later rounds."
    );
    if any_case(results, |c| c.security() == Security::Curve) {
        println!(
            "CURVE: tcp with CURVE, the bound side (REP, PULL) the server, fresh key pairs \
             per run, no authenticator. libzmq's column loads the system libzmq.so.5 \
             (Debian's libzmq5, built with libsodium) at run time, since crate zmq's \
             vendored libzmq has no CURVE; zmq.rs and raw TCP have no CURVE (n/a); rzmq \
             and monocoque have CURVE, which this bench does not run (n/a)."
        );
    }
}
