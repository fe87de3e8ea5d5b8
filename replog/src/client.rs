//! [`LogClient`]: talks to a cluster over the client protocol (see
//! [`protocol`](crate::protocol)). It follows `NOTLEADER` redirects to the leader,
//! retries a write whose outcome is unknown with the same client id and sequence
//! number (so it applies at most once), and gives up after a deadline.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

use bytes::Bytes;
use zeroring_sockets::{CurveKeyPair, CurvePublicKey, DealerSocket, Message};

use super::error::{ReplogError, Result};
use super::protocol::{ReadConsistency, Request, read_num};
use super::status::Status;

/// How long one request waits for an answer before it is retried.
const ATTEMPT: Duration = Duration::from_millis(500);

/// How long an endpoint that did not answer is not redirected to.
const SILENT_FOR: Duration = Duration::from_secs(2);

/// A client of a replicated-log cluster. Use one client per task: requests are sent
/// one at a time (the sequence numbers of its writes rely on it).
pub struct LogClient {
    endpoints: Vec<String>,
    /// CURVE: the nodes' public (cluster) key and this client's key pair.
    curve: Option<(CurvePublicKey, CurveKeyPair)>,
    sockets: HashMap<String, DealerSocket>,
    /// Index into `endpoints` of the node asked next.
    current: usize,
    /// Endpoints that did not answer lately: a redirect to one of them (a follower
    /// that has not noticed its leader died) is not followed for a while.
    silent: HashMap<String, Instant>,
    client_id: u64,
    seq: u64,
    next_request: u64,
    /// Total time a request may take, retries included: 10 s.
    pub deadline: Duration,
}

/// An answer's status and result frames.
enum Reply {
    Ok(Vec<Bytes>),
    NotLeader(Option<String>),
    Unconfirmed(String),
    Err(String),
}

impl LogClient {
    /// A client of the cluster whose nodes listen on `endpoints` (one is enough: the
    /// others are learnt from redirects). Connects lazily.
    pub fn new(endpoints: &[&str]) -> LogClient {
        let client_id = RandomState::new().hash_one((std::process::id(), Instant::now())) | 1;
        LogClient {
            endpoints: endpoints.iter().map(|s| s.to_string()).collect(),
            curve: None,
            sockets: HashMap::new(),
            current: 0,
            silent: HashMap::new(),
            client_id,
            seq: 0,
            next_request: 1,
            deadline: Duration::from_secs(10),
        }
    }

    /// Connects with the cluster's CURVE key pair (an administrator holding the
    /// cluster secret).
    pub fn with_cluster_key(mut self, key: CurveKeyPair) -> LogClient {
        self.curve = Some((*key.public(), key));
        self
    }

    /// Connects with this client's own CURVE key pair to nodes whose cluster public
    /// key is `cluster`; the nodes must list `own`'s public key in their
    /// `client_keys`.
    pub fn with_client_key(mut self, cluster: CurvePublicKey, own: CurveKeyPair) -> LogClient {
        self.curve = Some((cluster, own));
        self
    }

    /// This client's id in the nodes' sessions.
    pub fn client_id(&self) -> u64 {
        self.client_id
    }

    async fn socket(&mut self, endpoint: &str) -> Result<&DealerSocket> {
        if !self.sockets.contains_key(endpoint) {
            let d = DealerSocket::new();
            d.set_linger(Some(Duration::ZERO));
            if let Some((server, own)) = &self.curve {
                d.set_curve_serverkey(server.as_bytes())?;
                d.set_curve_keypair(own)?;
            }
            d.connect(endpoint).await?;
            self.sockets.insert(endpoint.to_owned(), d);
        }
        Ok(&self.sockets[endpoint])
    }

    async fn attempt(&mut self, endpoint: &str, req: &Request) -> Result<Option<Reply>> {
        let id = self.next_request;
        self.next_request += 1;
        let id_frame = Bytes::copy_from_slice(&id.to_le_bytes());
        let mut frames = vec![Bytes::new(), id_frame.clone()];
        frames.extend(req.encode());
        let sock = self.socket(endpoint).await?;
        sock.send(Message::from(frames)).await?;
        let started = Instant::now();
        loop {
            let left = ATTEMPT.saturating_sub(started.elapsed());
            let Ok(msg) = compio::time::timeout(left, sock.recv()).await else {
                return Ok(None);
            };
            let msg = msg?;
            let f = msg.frames();
            if f.len() < 3 || !f[0].is_empty() || f[1] != id_frame {
                continue; // an answer to an earlier attempt
            }
            let rest = f[3..].to_vec();
            let text = |i: usize| {
                rest.get(i)
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default()
            };
            return Ok(Some(match &f[2][..] {
                b"OK" => Reply::Ok(rest),
                b"NOTLEADER" => Reply::NotLeader(Some(text(1)).filter(|ep| !ep.is_empty())),
                b"UNCONFIRMED" => Reply::Unconfirmed(text(0)),
                _ => Reply::Err(text(0)),
            }));
        }
    }

    /// Sends `req` to the leader, following redirects and retrying until the deadline.
    async fn request(&mut self, req: Request) -> Result<Vec<Bytes>> {
        let started = Instant::now();
        let mut last = String::from("no node answered");
        if self.endpoints.is_empty() {
            return Err(ReplogError::Config(
                "the client has no node endpoint".into(),
            ));
        }
        while started.elapsed() < self.deadline {
            let endpoint = self.endpoints[self.current % self.endpoints.len()].clone();
            match self.attempt(&endpoint, &req).await? {
                Some(Reply::Ok(frames)) => {
                    self.silent.remove(&endpoint);
                    return Ok(frames);
                }
                Some(Reply::Err(e)) => return Err(ReplogError::Remote(e)),
                Some(Reply::NotLeader(Some(leader)))
                    if self
                        .silent
                        .get(&leader)
                        .is_some_and(|t| t.elapsed() < SILENT_FOR) =>
                {
                    last = format!("{endpoint} points at {leader}, which did not answer");
                    self.current += 1;
                }
                Some(Reply::NotLeader(Some(leader))) => {
                    last = format!("{endpoint} is not the leader");
                    match self.endpoints.iter().position(|e| *e == leader) {
                        Some(i) => self.current = i,
                        None => {
                            self.endpoints.push(leader);
                            self.current = self.endpoints.len() - 1;
                        }
                    }
                    continue;
                }
                Some(Reply::NotLeader(None)) => {
                    last = format!("{endpoint} knows no leader");
                    self.current += 1;
                }
                Some(Reply::Unconfirmed(e)) => last = e,
                None => {
                    last = format!("no answer from {endpoint}");
                    self.silent.insert(endpoint.clone(), Instant::now());
                    // The node may be down: forget its socket and try the next one.
                    self.sockets.remove(&endpoint);
                    self.current += 1;
                }
            }
            compio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(ReplogError::NoAnswer {
            endpoint: format!("{} ({last})", self.endpoints.join(", ")),
            waited_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// Sets `key` to `value`; returns the entry's index once committed and applied.
    pub async fn put(&mut self, key: &[u8], value: &[u8]) -> Result<u64> {
        self.seq += 1;
        let frames = self
            .request(Request::Put {
                client: self.client_id,
                seq: self.seq,
                key: Bytes::copy_from_slice(key),
                value: Bytes::copy_from_slice(value),
            })
            .await?;
        read_num(frames.first(), "index")
    }

    /// Removes `key`; returns the entry's index.
    pub async fn delete(&mut self, key: &[u8]) -> Result<u64> {
        self.seq += 1;
        let frames = self
            .request(Request::Delete {
                client: self.client_id,
                seq: self.seq,
                key: Bytes::copy_from_slice(key),
            })
            .await?;
        read_num(frames.first(), "index")
    }

    /// Reads `key` (linearizable: from the leader; stale: from the first endpoint
    /// given, whatever its role).
    pub async fn get(&mut self, key: &[u8], consistency: ReadConsistency) -> Result<Option<Bytes>> {
        if consistency == ReadConsistency::Stale {
            self.current = 0;
        }
        let frames = self
            .request(Request::Get {
                key: Bytes::copy_from_slice(key),
                consistency,
            })
            .await?;
        match (frames.first().map(|f| &f[..]), frames.get(1)) {
            (Some(b"\x01"), Some(v)) => Ok(Some(v.clone())),
            (Some(b"\x00"), _) => Ok(None),
            _ => Err(ReplogError::Protocol("malformed GET reply".into())),
        }
    }

    /// The status of the first endpoint's node (not redirected).
    pub async fn status(&mut self) -> Result<Status> {
        self.current = 0;
        let frames = self.request(Request::Status).await?;
        Status::decode(frames.first().map(|f| &f[..]).unwrap_or_default())
    }

    /// Adds a voter or a learner (through the leader).
    pub async fn add_member(&mut self, id: u64, endpoint: &str, learner: bool) -> Result<()> {
        self.request(Request::AddMember {
            id,
            endpoint: endpoint.to_owned(),
            learner,
        })
        .await
        .map(drop)
    }

    /// Removes a member (through the leader).
    pub async fn remove_member(&mut self, id: u64) -> Result<()> {
        self.request(Request::RemoveMember { id }).await.map(drop)
    }

    /// Asks the leader to hand leadership to voter `id`.
    pub async fn transfer_leader(&mut self, id: u64) -> Result<()> {
        self.request(Request::TransferLeader { id }).await.map(drop)
    }

    /// Closes the client's sockets.
    pub async fn close(self) {
        for (_, s) in self.sockets {
            s.close().await;
        }
    }
}
