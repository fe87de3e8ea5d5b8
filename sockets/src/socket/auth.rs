//! What a socket answers when a connection's handshake asks whether the peer
//! may connect: the reply of its [`Authenticator`] (its own, else its
//! context's) to a ZAP request made from the socket's options, or, with no
//! authenticator, libzmq's behaviour without a ZAP handler — a PLAIN server
//! refuses every client, a CURVE server accepts any client key, NULL accepts.
//! Also which connections pause for that question at all, and where the
//! properties of an authenticated peer go.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use zeroring_zmtp::{AuthRequest, AuthResult, Mechanism, Metadata, Security, ZapStatus};

use super::Core;
use crate::driver::host::Verdict;
use crate::options::SocketOptions;
use crate::pipe::PeerId;
use crate::reason::DisconnectReason;
use crate::security::authenticator::{AuthenticatorSlot, read_slot};
use crate::security::{Authenticator, PeerProperties, ZapRequest};

impl Core {
    /// The authenticator consulted now: the socket's own, else its context's.
    pub(crate) fn authenticator(&self) -> Option<Authenticator> {
        if let Some(own) = self.authenticator.borrow().as_ref() {
            return Some(own.clone());
        }
        self.context_authenticator
            .borrow()
            .as_deref()
            .and_then(read_slot)
    }

    /// Installs (or with `None` removes) the socket's own authenticator.
    pub(crate) fn set_authenticator(&self, authenticator: Option<Authenticator>) {
        *self.authenticator.borrow_mut() = authenticator;
    }

    /// Where the socket's context keeps its authenticator.
    pub(crate) fn set_context_authenticator(&self, slot: Arc<AuthenticatorSlot>) {
        *self.context_authenticator.borrow_mut() = Some(slot);
    }

    /// bind and connect refuse security options that cannot work (a role
    /// without its keys); a PLAIN server without any authenticator is allowed
    /// (one may be installed later) but warned about, since it refuses every
    /// client until then.
    pub(crate) fn check_security_for_endpoint(&self) -> crate::error::Result<()> {
        let security = self.option(|o| o.security())?;
        if security == Security::PlainServer && self.authenticator().is_none() {
            tracing::warn!(
                "PLAIN server without an authenticator: every PLAIN client is refused until \
                 one is installed (set_authenticator on the socket, or on its Context)"
            );
        }
        Ok(())
    }

    /// Whether a connection with `security` pauses to authenticate its peer:
    /// PLAIN and CURVE servers always (a PLAIN server without authenticator
    /// refuses, a CURVE server accepts, and both record the peer's
    /// properties), NULL when a ZAP domain and an authenticator are set.
    pub(crate) fn authenticates(&self, security: &Security, options: &SocketOptions) -> bool {
        match security {
            Security::PlainServer | Security::CurveServer { .. } => true,
            Security::Null => options.zap_domain.is_some() && self.authenticator().is_some(),
            Security::PlainClient(_) | Security::CurveClient { .. } => false,
        }
    }

    /// The answer to a paused handshake.
    pub(crate) fn verdict(&self, request: &AuthRequest, address: Option<IpAddr>) -> Verdict {
        let Some(authenticator) = self.authenticator() else {
            return match request.mechanism {
                Mechanism::Plain => Verdict::Deny {
                    status: ZapStatus::InternalError,
                    reason: DisconnectReason::NoAuthenticator,
                },
                // CURVE: any client key, as libzmq without a ZAP handler. NULL:
                // its authenticator was removed since the connection started.
                Mechanism::Curve | Mechanism::Null => Verdict::Allow(AuthResult {
                    status: ZapStatus::Success,
                    user_id: Bytes::new(),
                    metadata: Metadata::new(),
                }),
            };
        };
        let (domain, identity) = self.option(|o| {
            (
                o.zap_domain.clone().unwrap_or_default(),
                o.routing_id.clone().unwrap_or_default(),
            )
        });
        let mut zap = ZapRequest::new(request.mechanism, request.credentials.clone());
        zap.request_id = authenticator.next_request_id();
        zap.domain = domain;
        zap.address = address;
        zap.identity = identity;
        zap.peer_routing_id = request.peer_routing_id.clone();
        let reply = authenticator.authenticate(&zap);
        if reply.is_allowed() {
            return Verdict::Allow(AuthResult {
                status: ZapStatus::Success,
                user_id: reply.user_id,
                metadata: reply.metadata,
            });
        }
        Verdict::Deny {
            status: reply.status,
            reason: DisconnectReason::Refused {
                status: reply.status,
                text: reply.status_text,
            },
        }
    }

    /// Records what the socket authenticated about `peer`; from now on every
    /// receive notes the sender's properties for `recv_with_peer`.
    pub(crate) fn set_peer_properties(&self, peer: PeerId, properties: Arc<PeerProperties>) {
        if let Some(p) = self.state.borrow().peers.get(peer) {
            p.inbox.set_properties(Some(properties));
            self.queue.track_peers();
        }
    }

    /// The properties of the peer whose message the last receive took (`None`
    /// when that peer was not authenticated by this socket).
    pub(crate) fn last_peer(&self) -> Option<Arc<PeerProperties>> {
        self.queue.last_peer()
    }

    /// True once some peer has properties (receives then note senders).
    #[inline]
    pub(crate) fn tracks_peers(&self) -> bool {
        self.queue.tracks_peers()
    }
}
