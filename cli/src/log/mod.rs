//! `zeroring log ...`: run a replicated-log node (`serve`), talk to a running one
//! (`put`, `get`, `delete`, `status`, `promote`, `follow`), and measure the log
//! (`bench`).

mod bench;

use std::io::Write;
use std::path::PathBuf;

use crate::{CliError, numeric_flag, text_flag};
use zeroring::replog::{Ack, Durability, LogClient, Node, NodeConfig, ReplogError};

impl From<ReplogError> for CliError {
    fn from(e: ReplogError) -> CliError {
        CliError(e.to_string())
    }
}

pub(crate) const USAGE: &str =
    "  log serve --dir D --bind EP [--follow EP] [--mode inmemory|buffered|strict]
            [--segment-bytes N] [--replicas N] [--name NAME]
        run a replicated-log node: leader, or follower of --follow; prints
        `listening on <endpoint>` and serves until killed
  log put --node EP KEY VALUE [--ack leader|quorum|all] [--durable]
  log delete --node EP KEY [--ack leader|quorum|all] [--durable]
  log get --node EP KEY
  log status --node EP
  log promote --node EP            make a follower the leader of a new epoch
  log follow --node EP --leader EP make a node follow another leader
  log bench [--dir D] [--quick]
        put latency and throughput per durability mode, with and without a
        follower, on the disk holding D (default: ./replog-bench)
";

/// Runs `zeroring log <args>`.
pub(crate) fn run(args: &[String]) -> Result<(), CliError> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("serve") => serve(rest),
        Some("bench") => bench::run(rest),
        Some(command @ ("put" | "delete" | "get" | "status" | "promote" | "follow")) => {
            client_command(command, rest)
        }
        _ => Err(CliError(format!("usage:\n{USAGE}"))),
    }
}

fn serve(args: &[String]) -> Result<(), CliError> {
    let mode: Durability = text_flag(args, "--mode")
        .unwrap_or("strict")
        .parse()
        .map_err(CliError)?;
    let dir = text_flag(args, "--dir").map(PathBuf::from);
    if mode.has_files() && dir.is_none() {
        return Err(CliError(format!("--mode {mode} keeps files: give --dir")));
    }
    if !mode.has_files() && dir.is_some() {
        return Err(CliError(
            "--mode inmemory keeps no files: drop --dir (or pick buffered or strict)".into(),
        ));
    }
    let bind = text_flag(args, "--bind").ok_or_else(|| CliError("serve needs --bind EP".into()))?;
    let mut cfg = NodeConfig::new(dir, mode, bind);
    cfg.follow = text_flag(args, "--follow").map(str::to_owned);
    cfg.segment_bytes = numeric_flag(args, "--segment-bytes", 64 << 20)? as u64;
    if args.iter().any(|a| a == "--replicas") {
        cfg.replicas = Some(numeric_flag(args, "--replicas", 0)?);
    }
    cfg.name = text_flag(args, "--name").map(str::to_owned);
    zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start the runtime: {e}")))?
        .block_on(async move {
            let node = Node::open(cfg).await?;
            let status = node.status();
            println!("listening on {}", node.endpoint());
            println!(
                "role: {}, epoch {}, {} records, mode {}",
                status.role, status.epoch, status.next_offset, status.durability
            );
            std::io::stdout().flush().ok();
            // Serve until the process is stopped.
            std::future::pending::<()>().await;
            Ok(())
        })
}

fn client_command(command: &str, args: &[String]) -> Result<(), CliError> {
    let node = text_flag(args, "--node")
        .ok_or_else(|| CliError(format!("{command} needs --node EP")))?
        .to_owned();
    let ack: Ack = text_flag(args, "--ack").unwrap_or("leader").parse()?;
    let durable = args.iter().any(|a| a == "--durable");
    let positional = positional(args);
    let need = |n: usize, what: &str| -> Result<(), CliError> {
        if positional.len() == n {
            Ok(())
        } else {
            Err(CliError(format!("{command} takes {what}")))
        }
    };
    match command {
        "put" => need(2, "KEY VALUE")?,
        "get" | "delete" => need(1, "KEY")?,
        _ => need(0, "no positional arguments")?,
    }
    let command = command.to_owned();
    let leader = text_flag(args, "--leader").map(str::to_owned);
    zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start the runtime: {e}")))?
        .block_on(async move {
            let client = LogClient::connect(&node).await?;
            let key = positional.first().map(|k| k.as_bytes()).unwrap_or_default();
            match command.as_str() {
                "put" => {
                    let offset = client
                        .put(key, positional[1].as_bytes(), ack, durable)
                        .await?;
                    println!("offset {offset}");
                }
                "delete" => {
                    let offset = client.delete(key, ack, durable).await?;
                    println!("offset {offset}");
                }
                "get" => match client.get(key).await? {
                    Some(value) => println!("{}", String::from_utf8_lossy(&value)),
                    None => return Err(CliError(format!("no such key: {}", positional[0]))),
                },
                "status" => print!("{}", client.status().await?),
                "promote" => println!("epoch {}", client.promote().await?),
                "follow" => {
                    let leader =
                        leader.ok_or_else(|| CliError("follow needs --leader EP".into()))?;
                    client.follow(&leader).await?;
                    println!("following {leader}");
                }
                _ => unreachable!("commands are checked above"),
            }
            client.close().await;
            Ok(())
        })
}

/// Arguments that are neither flags nor flag values.
fn positional(args: &[String]) -> Vec<String> {
    const WITH_VALUE: [&str; 3] = ["--node", "--ack", "--leader"];
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
        } else if WITH_VALUE.contains(&a.as_str()) {
            skip = true;
        } else if !a.starts_with("--") {
            out.push(a.clone());
        }
    }
    out
}
