//! Routes the Raft engine's `slog` records into `tracing` (target `zeroring_replog::raft`),
//! so a node logs through one facility. Records below the enabled level are not
//! formatted.

use std::fmt::{self, Write as _};

use slog::{Drain, KV as _, Level, OwnedKVList, Record};

const TARGET: &str = "zeroring_replog::raft";

/// A `slog` drain that emits `tracing` events.
struct TracingDrain;

/// Collects a record's key-value pairs as ` key=value`.
struct Pairs(String);

impl slog::Serializer for Pairs {
    fn emit_arguments(&mut self, key: slog::Key, val: &fmt::Arguments<'_>) -> slog::Result {
        let _ = write!(self.0, " {key}={val}");
        Ok(())
    }
}

impl Drain for TracingDrain {
    type Ok = ();
    type Err = slog::Never;

    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<(), slog::Never> {
        let level = match record.level() {
            Level::Critical | Level::Error => tracing::Level::ERROR,
            Level::Warning => tracing::Level::WARN,
            Level::Info => tracing::Level::INFO,
            Level::Debug => tracing::Level::DEBUG,
            Level::Trace => tracing::Level::TRACE,
        };
        let enabled = match level {
            tracing::Level::ERROR => tracing::enabled!(target: TARGET, tracing::Level::ERROR),
            tracing::Level::WARN => tracing::enabled!(target: TARGET, tracing::Level::WARN),
            tracing::Level::INFO => tracing::enabled!(target: TARGET, tracing::Level::INFO),
            tracing::Level::DEBUG => tracing::enabled!(target: TARGET, tracing::Level::DEBUG),
            _ => tracing::enabled!(target: TARGET, tracing::Level::TRACE),
        };
        if !enabled {
            return Ok(());
        }
        let mut pairs = Pairs(String::new());
        let _ = record.kv().serialize(record, &mut pairs);
        let _ = values.serialize(record, &mut pairs);
        let msg = record.msg();
        let kv = pairs.0;
        match level {
            tracing::Level::ERROR => tracing::error!(target: TARGET, "{msg}{kv}"),
            tracing::Level::WARN => tracing::warn!(target: TARGET, "{msg}{kv}"),
            tracing::Level::INFO => tracing::info!(target: TARGET, "{msg}{kv}"),
            tracing::Level::DEBUG => tracing::debug!(target: TARGET, "{msg}{kv}"),
            _ => tracing::trace!(target: TARGET, "{msg}{kv}"),
        }
        Ok(())
    }
}

/// The logger handed to the Raft engine for node `id`.
pub(crate) fn logger(id: u64) -> slog::Logger {
    slog::Logger::root(TracingDrain.fuse(), slog::o!("node" => id))
}
