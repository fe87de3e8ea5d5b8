//! The cases of `zeroring bench`: what a case is ([`Case`], its pattern [`Kind`], its
//! [`Transport`] and [`Security`]), the fixed list [`CASES`] with each case's default
//! message count, and the CURVE key pairs a case's run makes ([`CurveKeys`]).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The messaging pattern of a case.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// One REQ, one REP echo; result: median (and 99th percentile) round trip in µs.
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
    /// `n` independent PUSH/PULL pairs spread over `n` threads of I/O (a context's I/O
    /// threads, or one compio runtime thread per pair); result: aggregate msg/s
    /// (`count` is per pair).
    Pairs(usize),
    /// `n` independent REQ/REP pairs spread like [`Kind::Pairs`]; result: aggregate
    /// round trips/s (`count` is per pair).
    ReqRepPairs(usize),
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
    /// Short name for `--cases` and the criterion groups (`rr64`, `push1k`, ...).
    pub name: &'static str,
    /// The table's row title.
    pub title: &'static str,
    /// The pattern.
    pub kind: Kind,
    /// Message body size in bytes.
    pub size: usize,
    /// Round trips (REQ/REP: in total; DEALER/ROUTER: per DEALER; pairs: per pair)
    /// or messages (per pair for the pairs cases).
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

    /// The number of pairs of a pairs case (PUSH/PULL or REQ/REP), else `None`.
    pub fn pairs(&self) -> Option<usize> {
        match self.kind {
            Kind::Pairs(n) | Kind::ReqRepPairs(n) => Some(n),
            _ => None,
        }
    }
}

/// zmq.rs 0.7 stalls after 65,536 messages in one PUSH/PULL stream.
pub(crate) const ZMQRS_STREAM_CAP: usize = 50_000;

/// Every case, in table order, with the default run's counts. The counts keep a
/// default run (three rounds of every case for every implementation) under two
/// minutes on a shared two-core machine; `--quick` divides them by ten.
pub(crate) const CASES: [Case; 19] = [
    Case {
        name: "rr64",
        title: "REQ/REP round trip 64 B",
        kind: Kind::ReqRep(Transport::Tcp, Security::Null),
        size: 64,
        count: 5_000,
    },
    Case {
        name: "rr1k",
        title: "REQ/REP round trip 1 KiB",
        kind: Kind::ReqRep(Transport::Tcp, Security::Null),
        size: 1024,
        count: 5_000,
    },
    Case {
        name: "push64",
        title: "PUSH/PULL 64 B",
        kind: Kind::PushPull(Transport::Tcp, Security::Null),
        size: 64,
        count: 300_000,
    },
    Case {
        name: "push1k",
        title: "PUSH/PULL 1 KiB",
        kind: Kind::PushPull(Transport::Tcp, Security::Null),
        size: 1024,
        count: 100_000,
    },
    Case {
        name: "push16k",
        title: "PUSH/PULL 16 KiB",
        kind: Kind::PushPull(Transport::Tcp, Security::Null),
        size: 16 * 1024,
        count: 20_000,
    },
    Case {
        name: "push1m",
        title: "PUSH/PULL 1 MiB",
        kind: Kind::PushPull(Transport::Tcp, Security::Null),
        size: 1 << 20,
        count: 2_000,
    },
    Case {
        name: "pub1",
        title: "PUB/SUB 64 B, 1 subscriber",
        kind: Kind::PubSub(1),
        size: 64,
        count: 200_000,
    },
    Case {
        name: "pub8",
        title: "PUB/SUB 64 B, 8 subscribers",
        kind: Kind::PubSub(8),
        size: 64,
        count: 50_000,
    },
    Case {
        name: "dealer16",
        title: "DEALER/ROUTER 64 B, 16 peers",
        kind: Kind::DealerRouter(16),
        size: 64,
        count: 1_000,
    },
    Case {
        name: "push64-tokio",
        title: "PUSH/PULL 64 B from tokio tasks",
        kind: Kind::PushPullTokio,
        size: 64,
        count: 200_000,
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
        name: "rr-pairs1",
        title: "1 REQ/REP pair 64 B, 1 I/O thread",
        kind: Kind::ReqRepPairs(1),
        size: 64,
        count: 10_000,
    },
    Case {
        name: "rr-pairs2",
        title: "2 REQ/REP pairs 64 B, 2 I/O threads",
        kind: Kind::ReqRepPairs(2),
        size: 64,
        count: 10_000,
    },
    Case {
        name: "inproc-rr64",
        title: "inproc REQ/REP round trip 64 B",
        kind: Kind::ReqRep(Transport::Inproc, Security::Null),
        size: 64,
        count: 5_000,
    },
    Case {
        name: "inproc-push64",
        title: "inproc PUSH/PULL 64 B",
        kind: Kind::PushPull(Transport::Inproc, Security::Null),
        size: 64,
        count: 300_000,
    },
    Case {
        name: "curve-rr64",
        title: "CURVE REQ/REP round trip 64 B",
        kind: Kind::ReqRep(Transport::Tcp, Security::Curve),
        size: 64,
        count: 2_000,
    },
    Case {
        name: "curve-push64",
        title: "CURVE PUSH/PULL 64 B",
        kind: Kind::PushPull(Transport::Tcp, Security::Curve),
        size: 64,
        count: 50_000,
    },
    Case {
        name: "curve-push16k",
        title: "CURVE PUSH/PULL 16 KiB",
        kind: Kind::PushPull(Transport::Tcp, Security::Curve),
        size: 16 * 1024,
        count: 5_000,
    },
    // A new case needs its entry here, a `Kind` if no existing one fits, an arm
    // in every implementation's `run` (`Ok(None)` where it does not apply) and a
    // `count_for` range in cli/benches/common.
];

/// The case names [`CASES`] holds (`rr64`, `push1k`, ...), in table order.
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
