//! A client for a running node (what `zeroring log put|get|status` use): one request
//! at a time over a DEALER socket, each answer awaited with a timeout.
//!
//! Any REQ socket can speak the same protocol (see [`super::protocol`]); with pyzmq:
//! `s = ctx.socket(zmq.REQ); s.connect(ep); s.send_multipart([b"PUT", b"k", b"v"])`.

use std::time::Duration;

use bytes::Bytes;

use super::error::{ReplogError, Result};
use super::protocol::{Ack, Request};
use super::service::parse_reply;
use zeroring_sockets::DealerSocket;

/// A connection to one node.
///
/// ```no_run
/// # async fn demo() -> Result<(), zeroring_replog::ReplogError> {
/// use zeroring_replog::{Ack, LogClient};
/// let client = LogClient::connect("tcp://127.0.0.1:7000").await?;
/// let offset = client.put(b"k", b"v", Ack::Quorum, false).await?;
/// assert_eq!(client.get(b"k").await?.as_deref(), Some(&b"v"[..]));
/// # let _ = offset; Ok(()) }
/// ```
pub struct LogClient {
    dealer: DealerSocket,
    endpoint: String,
    timeout: Duration,
}

impl LogClient {
    /// Connects (in the background, like every zeroring connect) to the node at
    /// `endpoint`; requests wait up to 10 s for an answer.
    pub async fn connect(endpoint: &str) -> Result<LogClient> {
        let dealer = DealerSocket::new();
        dealer.set_linger(Some(Duration::ZERO));
        dealer.connect(endpoint).await?;
        Ok(LogClient {
            dealer,
            endpoint: endpoint.to_owned(),
            timeout: Duration::from_secs(10),
        })
    }

    /// Changes how long a request waits for its answer.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    async fn call(&self, request: Request) -> Result<Option<Bytes>> {
        self.dealer.send(request.to_message()).await?;
        let answer = compio::time::timeout(self.timeout, self.dealer.recv())
            .await
            .map_err(|_| ReplogError::NoAnswer {
                endpoint: self.endpoint.clone(),
                waited_ms: self.timeout.as_millis() as u64,
            })??;
        match answer.frames().split_first() {
            Some((delimiter, rest)) if delimiter.is_empty() => parse_reply(rest),
            _ => Err(ReplogError::Protocol("reply without a delimiter".into())),
        }
    }

    fn number(reply: Option<Bytes>) -> Result<u64> {
        reply
            .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
            .ok_or_else(|| ReplogError::Protocol("expected a number in the reply".into()))
    }

    /// Writes `key` = `value`; returns the record's offset once `ack` is met
    /// (`durable` forces an fdatasync on the leader whatever its mode).
    pub async fn put(&self, key: &[u8], value: &[u8], ack: Ack, durable: bool) -> Result<u64> {
        let request = Request::Put {
            key: Bytes::copy_from_slice(key),
            value: Bytes::copy_from_slice(value),
            ack,
            durable,
        };
        Self::number(self.call(request).await?)
    }

    /// Removes `key`; returns the record's offset.
    pub async fn delete(&self, key: &[u8], ack: Ack, durable: bool) -> Result<u64> {
        let request = Request::Delete {
            key: Bytes::copy_from_slice(key),
            ack,
            durable,
        };
        Self::number(self.call(request).await?)
    }

    /// Reads `key` from the node's store.
    pub async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        self.call(Request::Get {
            key: Bytes::copy_from_slice(key),
        })
        .await
    }

    /// The node's status text (role, epoch, offsets, followers).
    pub async fn status(&self) -> Result<String> {
        let text = self.call(Request::Status).await?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&text).into_owned())
    }

    /// Promotes the node to leader of a new epoch; returns the epoch.
    pub async fn promote(&self) -> Result<u64> {
        Self::number(self.call(Request::Promote).await?)
    }

    /// Makes the node follow the leader at `leader`.
    pub async fn follow(&self, leader: &str) -> Result<()> {
        self.call(Request::Follow {
            leader: leader.to_owned(),
        })
        .await?;
        Ok(())
    }

    /// Closes the connection.
    pub async fn close(self) {
        self.dealer.close().await;
    }
}
