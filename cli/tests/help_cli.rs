//! The command line itself, run as the built binary: `--help` on every subcommand,
//! argument errors that name the argument, shell completions, and `log` handing its
//! arguments over untouched.

use std::process::{Command, Output};

fn zeroring(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zeroring"))
        .args(args)
        .output()
        .expect("run zeroring")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SUBCOMMANDS: &[&str] = &[
    "push",
    "pull",
    "req",
    "rep",
    "pub",
    "sub",
    "xpub",
    "xsub",
    "dealer",
    "router",
    "pair",
    "proxy",
    "monitor",
    "demo",
    "perf",
    "soak",
    "bench",
    "curve",
    "log",
    "completions",
];

#[test]
fn every_subcommand_has_help() {
    let top = zeroring(&["--help"]);
    assert!(top.status.success());
    let top = text(&top.stdout);
    for name in SUBCOMMANDS {
        assert!(
            top.contains(&format!("  {name} ")),
            "{name} missing from --help"
        );
        let out = zeroring(&[name, "--help"]);
        assert!(out.status.success(), "{name} --help failed");
        assert!(
            text(&out.stdout).contains(&format!("Usage: zeroring {name}")),
            "{name}"
        );
    }
    for nested in [
        ["proxy", "broker"],
        ["proxy", "control"],
        ["curve", "keygen"],
    ] {
        let out = zeroring(&[nested[0], nested[1], "--help"]);
        assert!(out.status.success(), "{nested:?} --help failed");
    }
    let log = text(&zeroring(&["log", "--help"]).stdout);
    assert!(log.contains("log serve --id N --peers"), "{log}");
}

#[test]
fn argument_errors_name_the_argument() {
    for (args, needle) in [
        (
            &["perf", "local_thr", "tcp://127.0.0.1:5555", "64"][..],
            "<COUNT>",
        ),
        (
            &["perf", "local_lag", "tcp://127.0.0.1:5555", "64", "10"],
            "local_lag",
        ),
        (&["demo", "--messages", "lots"], "--messages"),
        (
            &["pull", "--bind", "tcp://127.0.0.1:0", "--count", "0"],
            "--count",
        ),
        (&["monitor"], "<ENDPOINT>"),
        (
            &["proxy", "broker", "--frontend", "tcp://127.0.0.1:0"],
            "--backend",
        ),
        (&["frobnicate"], "frobnicate"),
    ] {
        let out = zeroring(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// The flags README commands, scripts/ and CI pass still parse: without the
/// `compare` feature `bench` gets past parsing to say how to build it (status 1,
/// not clap's 2).
#[test]
fn the_existing_flags_keep_their_spelling() {
    let out = zeroring(&[
        "bench",
        "--quick",
        "--rounds",
        "2",
        "--cases",
        "rr64,push64",
        "--impls",
        "zeroring,libzmq",
        "--svg",
        "/nonexistent/bench.svg",
        "--busy-poll",
        "50",
    ]);
    if !cfg!(feature = "compare") {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("--features compare"));
    }
    for args in [
        &[
            "demo",
            "--messages",
            "1_000",
            "--size",
            "16",
            "--round-trips",
            "10",
        ][..],
        &["soak", "--minutes", "0", "--report-secs", "1"],
    ] {
        let out = zeroring(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    }
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = zeroring(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out.stdout);
        assert!(script.contains("zeroring"), "{shell}");
        assert!(script.contains("--subscribe"), "{shell}: no cat flags");
    }
}

#[test]
fn log_gets_its_arguments_untouched() {
    // The log module's own parser answers (with its usage), not clap.
    let out = zeroring(&["log", "frobnicate", "--node", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("usage:") && err.contains("log put --node EP"),
        "{err}"
    );
}
