//! [`NodeConfig`]: everything a node needs to start, and the parsing of a peer list
//! (`1=tcp://10.0.0.1:7000,2=tcp://10.0.0.2:7000`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use zeroring_sockets::{CurveKeyPair, CurvePublicKey};

use super::durability::Durability;
use super::error::{ReplogError, Result};

/// How a node is set up.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node's id: not 0, unique in the cluster, never reused after removal.
    pub id: u64,
    /// Node id -> endpoint of the founding members (this node included), or, with
    /// `join`, of the existing members it may hear from plus this node.
    pub peers: BTreeMap<u64, String>,
    /// Where to bind; default: this node's entry in `peers`.
    pub bind: Option<String>,
    /// Log directory (required unless `durability` is `InMemory`).
    pub dir: Option<PathBuf>,
    /// When entries reach the disk.
    pub durability: Durability,
    /// Start without a configuration and wait to be added (`log members add`)
    /// instead of founding a cluster of `peers`.
    pub join: bool,
    /// Segment files roll at this size: 64 MiB.
    pub segment_bytes: u64,
    /// Take a snapshot and compact the log once this many entries were applied since
    /// the last one: 100,000.
    pub snapshot_entries: u64,
    /// Raft tick: 50 ms.
    pub tick: Duration,
    /// Election timeout in ticks (randomised between this and twice this): 8, so
    /// 0.4-0.8 s with the default tick.
    pub election_ticks: usize,
    /// Leader heartbeat interval in ticks: 2.
    pub heartbeat_ticks: usize,
    /// How long a write or linearizable read waits for its outcome: 5 s.
    pub request_timeout: Duration,
    /// The cluster's CURVE key pair, shared by its nodes (and trusted admin
    /// clients): with it, every connection to the node must present this key, and
    /// Raft traffic is accepted only from it. `None`: no authentication.
    pub cluster_key: Option<CurveKeyPair>,
    /// With a cluster key: public keys of the clients also admitted (each with its
    /// own key pair, see [`LogClient::with_client_key`](crate::LogClient::with_client_key)).
    /// They may send requests, never Raft traffic.
    pub client_keys: Vec<CurvePublicKey>,
}

impl NodeConfig {
    /// A configuration with the defaults above.
    pub fn new(
        id: u64,
        peers: BTreeMap<u64, String>,
        dir: Option<PathBuf>,
        durability: Durability,
    ) -> NodeConfig {
        NodeConfig {
            id,
            peers,
            bind: None,
            dir,
            durability,
            join: false,
            segment_bytes: 64 << 20,
            snapshot_entries: 100_000,
            tick: Duration::from_millis(50),
            election_ticks: 8,
            heartbeat_ticks: 2,
            request_timeout: Duration::from_secs(5),
            cluster_key: None,
            client_keys: Vec::new(),
        }
    }

    /// Checks the settings; the error says which one to fix.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(ReplogError::Config(m));
        if self.id == 0 {
            return bad("node id 0 is reserved: use 1 or more".into());
        }
        if !self.peers.contains_key(&self.id) && self.bind.is_none() {
            return bad(format!(
                "node {} is not in the peer list and has no bind endpoint: add {}=<endpoint> to the peers",
                self.id, self.id
            ));
        }
        if self.peers.contains_key(&0) {
            return bad("peer id 0 is reserved".into());
        }
        if self.durability.has_files() != self.dir.is_some() {
            return bad(format!(
                "durability {} {}",
                self.durability,
                if self.dir.is_some() {
                    "keeps no files: drop the directory"
                } else {
                    "keeps files: give a directory"
                }
            ));
        }
        if !self.client_keys.is_empty() && self.cluster_key.is_none() {
            return bad("client keys need a cluster key (CURVE is off without one)".into());
        }
        if self.election_ticks <= self.heartbeat_ticks || self.heartbeat_ticks == 0 {
            return bad("the election timeout must be longer than the heartbeat interval".into());
        }
        Ok(())
    }

    /// The endpoint this node binds.
    pub fn bind_endpoint(&self) -> Option<&str> {
        self.bind
            .as_deref()
            .or_else(|| self.peers.get(&self.id).map(String::as_str))
    }
}

/// Parses `ID=ENDPOINT[,ID=ENDPOINT...]`.
pub fn parse_peers(text: &str) -> Result<BTreeMap<u64, String>> {
    let mut peers = BTreeMap::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (id, ep) = item
            .split_once('=')
            .ok_or_else(|| ReplogError::Config(format!("peer {item:?} is not ID=ENDPOINT")))?;
        let id: u64 = id
            .trim()
            .parse()
            .map_err(|_| ReplogError::Config(format!("peer id {id:?} is not a number")))?;
        if peers.insert(id, ep.trim().to_owned()).is_some() {
            return Err(ReplogError::Config(format!("peer id {id} is listed twice")));
        }
    }
    Ok(peers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_and_validation() {
        let p = parse_peers("1=tcp://a:1, 2=tcp://b:2").unwrap();
        assert_eq!(p[&2], "tcp://b:2");
        assert!(parse_peers("1=a,1=b").is_err());
        assert!(parse_peers("x=a").is_err());
        assert!(parse_peers("1").is_err());
        let c = NodeConfig::new(1, p.clone(), None, Durability::InMemory);
        c.validate().unwrap();
        assert_eq!(c.bind_endpoint(), Some("tcp://a:1"));
        assert!(
            NodeConfig::new(3, p.clone(), None, Durability::InMemory)
                .validate()
                .is_err()
        );
        assert!(
            NodeConfig::new(1, p, None, Durability::Strict)
                .validate()
                .is_err()
        );
    }
}
