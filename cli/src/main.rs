//! The `zeroring` command-line tool: a client for every socket type (`zeroring push`,
//! `pull`, `req`, ...), a proxy, a monitor, and the measuring commands (`demo`,
//! `perf`, `soak`, `bench`). See `zeroring --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // rzmq (a bench comparison peer) warns about every connection it tears
                // down; its errors still show.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rzmq=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match zeroring_cli::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zeroring: {e}");
            ExitCode::FAILURE
        }
    }
}
