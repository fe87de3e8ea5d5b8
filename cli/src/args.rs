//! The command line as clap sees it: the top-level [`Cli`], the [`Command`] enum with
//! one variant per subcommand (each subcommand's own flags live in its module), and
//! shell completions.

use std::io::Write;

use clap::{Args, CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::bench::BenchArgs;
use crate::cat::CatArgs;
use crate::curve::CurveArgs;
use crate::demo::DemoArgs;
use crate::monitor::MonitorArgs;
use crate::perf::PerfArgs;
use crate::proxy::ProxyArgs;
use crate::soak::SoakArgs;

/// zeroring: ZeroMQ-compatible messaging on io_uring, from the shell.
#[derive(Debug, Parser)]
#[command(name = "zeroring", version, propagate_version = true)]
#[command(after_help = "\
Everyday tools: one subcommand per socket type (push, pull, req, rep, pub, sub,
xpub, xsub, dealer, router, pair) sends stdin and prints what arrives; proxy runs
a broker, forwarder or streamer; monitor prints a socket's events.
Run `zeroring <command> --help` for a command's flags.")]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand of `zeroring`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// A PUSH socket: send stdin, one message per line.
    Push(CatArgs),
    /// A PULL socket: print what arrives.
    Pull(CatArgs),
    /// A REQ socket: send each input message and print its reply.
    Req(CatArgs),
    /// A REP socket: print each request and answer it (with the next input message, or --echo).
    Rep(CatArgs),
    /// A PUB socket: publish stdin, one message per line.
    Pub(CatArgs),
    /// A SUB socket: print what arrives on the --subscribe topics.
    Sub(CatArgs),
    /// An XPUB socket: publish stdin, print (un)subscriptions.
    Xpub(CatArgs),
    /// An XSUB socket: print what arrives, send stdin (subscriptions: 0x01 + topic).
    Xsub(CatArgs),
    /// A DEALER socket: send stdin, print what arrives.
    Dealer(CatArgs),
    /// A ROUTER socket: print what arrives with its routing id; stdin lines need
    /// --multipart with the routing id as first frame.
    Router(CatArgs),
    /// A PAIR socket: send stdin, print what arrives.
    Pair(CatArgs),
    /// Run a proxy: broker (ROUTER/DEALER), forwarder (XSUB/XPUB) or streamer
    /// (PULL/PUSH), or steer a running one.
    Proxy(ProxyArgs),
    /// Connect (or bind) a socket and print every monitor event as it happens.
    Monitor(MonitorArgs),
    /// REQ/REP round trips and a PUSH/PULL stream between two threads over loopback TCP.
    Demo(DemoArgs),
    /// libzmq's perf tools (local_lat, remote_lat, local_thr, remote_thr), same arguments and output.
    Perf(PerfArgs),
    /// Long PUSH/PULL and DEALER/ROUTER run with reconnect churn; fails on RSS growth.
    Soak(SoakArgs),
    /// zeroring side by side with libzmq, zmq.rs, rzmq, monocoque and raw TCP (needs --features compare).
    Bench(BenchArgs),
    /// CURVE keys (keygen).
    Curve(CurveArgs),
    /// The replicated log: serve, put, get, delete, status, members, transfer-leader, bench.
    #[command(after_help = crate::log::USAGE)]
    Log(LogArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
}

/// `zeroring log ...`: everything after `log` goes to the log module as it was typed.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The log subcommand and its arguments (see below).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut impl Write) {
    clap_complete::generate(shell, &mut Cli::command(), "zeroring", out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(line: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("zeroring").chain(line.iter().copied()))
    }

    #[test]
    fn log_takes_its_arguments_raw() {
        let cli = parse(&["log", "put", "--node", "tcp://x:1", "k", "v", "--durable"]).unwrap();
        let Command::Log(a) = cli.command else {
            panic!("not log: {cli:?}");
        };
        assert_eq!(
            a.args,
            ["put", "--node", "tcp://x:1", "k", "v", "--durable"]
        );
    }

    #[test]
    fn a_wrong_argument_is_named() {
        let e = parse(&["perf", "local_thr", "tcp://127.0.0.1:1", "64", "many"]).unwrap_err();
        assert!(e.to_string().contains("many"), "{e}");
        assert!(e.to_string().contains("<COUNT>"), "{e}");
        let e = parse(&["pull", "--bind", "tcp://*:1", "--sndhwm", "lots"]).unwrap_err();
        assert!(e.to_string().contains("--sndhwm"), "{e}");
        let e = parse(&["bench", "--rounds"]).unwrap_err();
        assert!(e.to_string().contains("--rounds"), "{e}");
    }

    #[test]
    fn completions_name_the_subcommands() {
        let mut out = Vec::new();
        completions(Shell::Bash, &mut out);
        let script = String::from_utf8(out).unwrap();
        for name in ["pull", "router", "proxy", "monitor", "bench", "log"] {
            assert!(script.contains(name), "{name} missing from the bash script");
        }
    }
}
