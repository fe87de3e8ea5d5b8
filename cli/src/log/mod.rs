//! `zeroring log ...`: run a node of a Raft-replicated log cluster (`serve`), talk to
//! a running cluster (`put`, `get`, `delete`, `status`, `members`,
//! `transfer-leader`), and measure it (`bench`).

mod bench;

use std::io::Write;
use std::path::PathBuf;

use crate::{CliError, numeric_flag, text_flag};
use zeroring::replog::{
    Durability, LogClient, Node, NodeConfig, ReadConsistency, ReplogError, parse_peers,
};
use zeroring::{CurveKeyPair, CurvePublicKey, CurveSecretKey};

impl From<ReplogError> for CliError {
    fn from(e: ReplogError) -> CliError {
        CliError(e.to_string())
    }
}

pub(crate) const USAGE: &str =
    "  log serve --id N --peers 1=EP,2=EP,3=EP [--dir D] [--mode strict|buffered|inmemory]
            [--join] [--bind EP] [--cluster-key-file F [--client-keys K,K..]]
            [--snapshot-entries N] [--segment-bytes N]
        run node N of a Raft cluster (founding members: --peers; with --join, start
        empty and wait for `log members add`); prints `listening on <endpoint>`
  log put --node EP[,EP..] KEY VALUE          write through the leader (redirects
  log delete --node EP[,EP..] KEY             are followed; retries apply once)
  log get --node EP[,EP..] KEY [--stale]      linearizable read on the leader, or
                                              the first node's applied state
  log status --node EP                        term, leader, commit, applied, lag
  log members list --node EP
  log members add --node EP ID ENDPOINT [--learner]
  log members remove --node EP ID
  log transfer-leader --node EP ID
        (clients of a cluster with a key need --cluster-key-file F, or their own
        --client-key-file F listed in the nodes' --client-keys (public keys or
        certificate files) with --cluster-public-key K; --timeout MS bounds a
        client command, retries included: 10000 by default)
  log bench [--dir D] [--quick]
        3-node cluster and standalone node, per durability mode, on the disk of D
";

/// Flags that take a value (skipped when collecting positional arguments).
const WITH_VALUE: [&str; 13] = [
    "--node",
    "--id",
    "--peers",
    "--dir",
    "--mode",
    "--bind",
    "--cluster-key-file",
    "--snapshot-entries",
    "--segment-bytes",
    "--timeout",
    "--client-keys",
    "--client-key-file",
    "--cluster-public-key",
];

/// Runs `zeroring log <args>`.
pub(crate) fn run(args: &[String]) -> Result<(), CliError> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("serve") => serve(rest),
        Some("bench") => bench::run(rest),
        Some(command @ ("put" | "delete" | "get" | "status" | "members" | "transfer-leader")) => {
            client_command(command, rest)
        }
        _ => Err(CliError(format!("usage:\n{USAGE}"))),
    }
}

/// The Z85 key in a key file: the `name = "..."` line of a czmq certificate (as
/// `zeroring curve keygen --out` writes), or else the whole file.
fn key_text(path: &str, name: &str) -> Result<String, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError(format!("{path}: {e}")))?;
    Ok(text
        .lines()
        .find_map(|l| {
            let (field, value) = l.split_once('=')?;
            (field.trim() == name).then(|| value.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| text.trim().to_owned()))
}

/// A key pair from the secret key file named by `flag`.
fn key_pair(args: &[String], flag: &str) -> Result<Option<CurveKeyPair>, CliError> {
    let Some(path) = text_flag(args, flag) else {
        return Ok(None);
    };
    let secret =
        CurveSecretKey::from_slice(key_text(path, "secret-key")?.as_bytes()).map_err(|e| {
            CliError(format!(
                "{path}: not a CURVE secret key ({e}): give the 40-character Z85 secret \
                 key or a czmq secret certificate"
            ))
        })?;
    Ok(Some(CurveKeyPair::from_secret(secret)))
}

/// A public key: 40 Z85 characters, or a file holding one (a czmq certificate).
fn public_key(text: &str) -> Result<CurvePublicKey, CliError> {
    let z85 = if std::path::Path::new(text).is_file() {
        key_text(text, "public-key")?
    } else {
        text.to_owned()
    };
    CurvePublicKey::from_slice(z85.as_bytes())
        .map_err(|e| CliError(format!("{text}: not a CURVE public key ({e})")))
}

fn serve(args: &[String]) -> Result<(), CliError> {
    let mode: Durability = text_flag(args, "--mode")
        .unwrap_or("strict")
        .parse()
        .map_err(CliError)?;
    let id = numeric_flag(args, "--id", 0)? as u64;
    let peers = parse_peers(
        text_flag(args, "--peers").ok_or_else(|| CliError("serve needs --peers".into()))?,
    )?;
    let dir = text_flag(args, "--dir").map(PathBuf::from);
    let mut cfg = NodeConfig::new(id, peers, dir, mode);
    cfg.bind = text_flag(args, "--bind").map(str::to_owned);
    cfg.join = args.iter().any(|a| a == "--join");
    cfg.segment_bytes = numeric_flag(args, "--segment-bytes", 64 << 20)? as u64;
    cfg.snapshot_entries = numeric_flag(args, "--snapshot-entries", 100_000)? as u64;
    cfg.cluster_key = key_pair(args, "--cluster-key-file")?;
    if let Some(list) = text_flag(args, "--client-keys") {
        cfg.client_keys = list
            .split(',')
            .map(|k| public_key(k.trim()))
            .collect::<Result<_, _>>()?;
    }
    cfg.validate()?;
    zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start the runtime: {e}")))?
        .block_on(async move {
            let node = Node::open(cfg).await?;
            println!("listening on {}", node.endpoint());
            let s = node.status().await?;
            println!(
                "node {} ({}), term {}, last index {}, mode {}",
                s.id, s.role, s.term, s.last_index, s.durability
            );
            std::io::stdout().flush().ok();
            // Serve until the process is stopped.
            std::future::pending::<()>().await;
            Ok(())
        })
}

fn client_command(command: &str, args: &[String]) -> Result<(), CliError> {
    let nodes: Vec<String> = text_flag(args, "--node")
        .ok_or_else(|| CliError(format!("{command} needs --node EP")))?
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    let key = key_pair(args, "--cluster-key-file")?;
    let own = key_pair(args, "--client-key-file")?;
    let cluster_public = text_flag(args, "--cluster-public-key")
        .map(public_key)
        .transpose()?;
    let timeout = std::time::Duration::from_millis(numeric_flag(args, "--timeout", 10_000)? as u64);
    let positional = positional(args);
    let flag = |name: &str| args.iter().any(|a| a == name);
    let stale = flag("--stale");
    let learner = flag("--learner");
    let need = |n: usize, what: &str| -> Result<(), CliError> {
        if positional.len() == n {
            Ok(())
        } else {
            Err(CliError(format!("{command} takes {what}")))
        }
    };
    let sub = positional.first().cloned().unwrap_or_default();
    match (command, sub.as_str()) {
        ("put", _) => need(2, "KEY VALUE")?,
        ("get" | "delete", _) => need(1, "KEY")?,
        ("transfer-leader", _) => need(1, "the node ID to hand leadership to")?,
        ("members", "list") => need(1, "list")?,
        ("members", "add") => need(3, "add ID ENDPOINT")?,
        ("members", "remove") => need(2, "remove ID")?,
        ("members", _) => {
            return Err(CliError("members takes list, add or remove".into()));
        }
        _ => need(0, "no positional arguments")?,
    }
    let command = command.to_owned();
    zeroring::runtime_builder()
        .build()
        .map_err(|e| CliError(format!("cannot start the runtime: {e}")))?
        .block_on(async move {
            let eps: Vec<&str> = nodes.iter().map(String::as_str).collect();
            let mut client = LogClient::new(&eps);
            client.deadline = timeout;
            match (key, own, cluster_public) {
                (Some(key), _, _) => client = client.with_cluster_key(key),
                (None, Some(own), Some(cluster)) => {
                    client = client.with_client_key(cluster, own);
                }
                (None, Some(_), None) => {
                    return Err(CliError(
                        "--client-key-file needs --cluster-public-key too".into(),
                    ));
                }
                _ => {}
            }
            let arg = |i: usize| positional[i].as_bytes();
            let id_at = |i: usize| -> Result<u64, CliError> {
                positional[i]
                    .parse()
                    .map_err(|_| CliError(format!("{:?} is not a node id", positional[i])))
            };
            match (command.as_str(), sub.as_str()) {
                ("put", _) => println!("index {}", client.put(arg(0), arg(1)).await?),
                ("delete", _) => println!("index {}", client.delete(arg(0)).await?),
                ("get", _) => {
                    let consistency = if stale {
                        ReadConsistency::Stale
                    } else {
                        ReadConsistency::Linearizable
                    };
                    match client.get(arg(0), consistency).await? {
                        Some(v) => println!("{}", String::from_utf8_lossy(&v)),
                        None => {
                            client.close().await;
                            return Err(CliError(format!("no such key: {}", positional[0])));
                        }
                    }
                }
                ("status", _) => print!("{}", client.status().await?),
                ("members", "list") => {
                    for m in client.status().await?.members {
                        let kind = if m.voter { "voter" } else { "learner" };
                        println!("{} {} {kind}", m.id, m.endpoint);
                    }
                }
                ("members", "add") => {
                    client
                        .add_member(id_at(1)?, &positional[2], learner)
                        .await?;
                    println!("added node {}", positional[1]);
                }
                ("members", "remove") => {
                    client.remove_member(id_at(1)?).await?;
                    println!("removed node {}", positional[1]);
                }
                ("transfer-leader", _) => {
                    client.transfer_leader(id_at(0)?).await?;
                    println!("leadership transfer to node {} requested", positional[0]);
                }
                _ => unreachable!("commands are checked above"),
            }
            client.close().await;
            Ok(())
        })
}

/// Arguments that are neither flags nor flag values.
fn positional(args: &[String]) -> Vec<String> {
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
