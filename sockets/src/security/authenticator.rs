//! [`Authenticator`]: the ZAP handler (RFC 27) of a socket or of a
//! [`Context`](crate::Context), as a Rust value instead of a socket on
//! `inproc://zeromq.zap.01`: address allow and deny lists, a PLAIN password
//! table, allowed CURVE client keys (one by one, any key, or czmq certificate
//! directories) and a handler for everything else, decided the way czmq's
//! `zauth` and pyzmq's authenticators decide.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use zeroring_zmtp::{Credentials, CurvePublicKey, Mechanism, SecretBytes};

use super::zap::{ZapReply, ZapRequest};
use super::zcert::CertDir;
use crate::error::Result;

/// A handler for requests the built-in checks do not allow (see
/// [`Authenticator::set_handler`]).
pub type ZapHandler = dyn Fn(&ZapRequest) -> ZapReply + Send + Sync;

/// Decides who may connect to a PLAIN or CURVE server (or to a NULL socket
/// with a ZAP_DOMAIN): libzmq's ZAP handler, as a Rust value.
///
/// Install it on a native socket with
/// [`SocketBase::set_authenticator`](crate::SocketBase::set_authenticator), on
/// a thread-safe socket with [`Socket::set_authenticator`](crate::Socket::set_authenticator),
/// or for every socket of a context with
/// [`Context::set_authenticator`](crate::Context::set_authenticator) (libzmq
/// consults the ZAP handler of the context). A socket's own authenticator
/// wins over its context's. It is cheap to clone (clones share their
/// tables) and may be changed while sockets use it: each handshake reads the
/// tables as they are at that moment.
///
/// Each request goes through these steps:
///
/// 1. **Address**: a peer whose IP is denied ([`Authenticator::deny`]) is
///    refused; when an allow list exists ([`Authenticator::allow`]), a peer
///    not on it is refused (`ipc://` peers, which have no address, too). The
///    deny list wins over the allow list.
/// 2. **Credentials**: PLAIN: a user name and password in the table
///    ([`Authenticator::add_plain_user`]) are allowed, with the user name as
///    user id. CURVE: a client key that is allowed
///    ([`Authenticator::allow_curve_key`], [`Authenticator::allow_any_curve_key`],
///    or a certificate of [`Authenticator::load_curve_certificates`]) is allowed,
///    with its Z85 text as user id (pyzmq does the same) and a certificate's
///    metadata as ZAP metadata. NULL has nothing to check.
/// 3. **Handler**: whatever step 2 did not allow goes to the handler
///    ([`Authenticator::set_handler`]), whose [`ZapReply`] decides. Without a
///    handler, NULL peers are allowed and PLAIN and CURVE peers are refused
///    with 400.
///
/// ```
/// use zeroring_sockets::{Authenticator, Credentials, Mechanism, ZapReply, ZapRequest};
/// let auth = Authenticator::new();
/// auth.allow("127.0.0.1".parse().unwrap())
///     .add_plain_user("admin", "secret");
/// let mut request = ZapRequest::new(
///     Mechanism::Plain,
///     Credentials::Plain { username: "admin".into(), password: zeroring_sockets::SecretBytes::new("secret") },
/// );
/// request.address = Some("127.0.0.1".parse().unwrap());
/// assert!(auth.authenticate(&request).is_allowed());
/// request.address = Some("10.1.2.3".parse().unwrap());
/// assert!(!auth.authenticate(&request).is_allowed());
/// ```
#[derive(Clone, Default)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    policy: Mutex<Policy>,
    requests: AtomicU64,
}

#[derive(Default)]
struct Policy {
    allowed: HashSet<IpAddr>,
    denied: HashSet<IpAddr>,
    passwords: HashMap<Bytes, SecretBytes>,
    any_curve_key: bool,
    curve_keys: HashSet<CurvePublicKey>,
    cert_dirs: Vec<CertDir>,
    handler: Option<Arc<ZapHandler>>,
}

/// What the tables say about a request (before the handler).
enum Verdict {
    Allow(ZapReply),
    Deny(&'static str),
    /// Nothing in the tables decides: the handler, or the mechanism's default.
    Undecided,
}

impl Authenticator {
    /// An authenticator with empty tables: it allows NULL peers and refuses
    /// PLAIN and CURVE peers until told otherwise.
    pub fn new() -> Authenticator {
        Authenticator::default()
    }

    fn policy(&self) -> MutexGuard<'_, Policy> {
        self.inner.policy.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allows this IP address (czmq's `ALLOW`). Once any address is allowed,
    /// every other address is refused. PLAIN and CURVE peers from an allowed
    /// address must still present valid credentials.
    pub fn allow(&self, address: IpAddr) -> &Authenticator {
        self.policy().allowed.insert(address.to_canonical());
        self
    }

    /// Refuses this IP address (czmq's `DENY`), whatever else allows it.
    pub fn deny(&self, address: IpAddr) -> &Authenticator {
        self.policy().denied.insert(address.to_canonical());
        self
    }

    /// Takes an address off the allow and deny lists.
    pub fn forget_address(&self, address: IpAddr) -> &Authenticator {
        let address = address.to_canonical();
        let mut p = self.policy();
        p.allowed.remove(&address);
        p.denied.remove(&address);
        drop(p);
        self
    }

    /// Lets a PLAIN client in with this user name and password (replacing the
    /// user's previous password). Its user id is the user name.
    pub fn add_plain_user(
        &self,
        username: impl Into<Bytes>,
        password: impl Into<Vec<u8>>,
    ) -> &Authenticator {
        self.policy()
            .passwords
            .insert(username.into(), SecretBytes::new(password));
        self
    }

    /// Removes a PLAIN user.
    pub fn remove_plain_user(&self, username: &[u8]) -> &Authenticator {
        self.policy().passwords.remove(username);
        self
    }

    /// Lets a CURVE client with this long-term public key in.
    pub fn allow_curve_key(&self, key: CurvePublicKey) -> &Authenticator {
        self.policy().curve_keys.insert(key);
        self
    }

    /// Takes a key off the allowed CURVE keys (certificate directories are
    /// not changed).
    pub fn remove_curve_key(&self, key: &CurvePublicKey) -> &Authenticator {
        self.policy().curve_keys.remove(key);
        self
    }

    /// With `true`, any CURVE client key is allowed (czmq's
    /// `CURVE_ALLOW_ANY`): the connection is encrypted, the client is not
    /// identified beyond its key.
    pub fn allow_any_curve_key(&self, any: bool) -> &Authenticator {
        self.policy().any_curve_key = any;
        self
    }

    /// Allows the CURVE client keys of the czmq certificates (zcert files) in
    /// `dir` and its subdirectories; files named `*_secret` are skipped, as
    /// czmq does. The directory is read again when it changed (file count,
    /// total size or newest modification time), looked at during CURVE
    /// handshakes at most once a second.
    /// A certificate's `metadata` section becomes the ZAP metadata of its
    /// peer. Returns how many certificates were read.
    ///
    /// Fails when the directory cannot be read.
    pub fn load_curve_certificates(&self, dir: impl AsRef<Path>) -> Result<usize> {
        let certs = CertDir::load(dir.as_ref())?;
        let n = certs.len();
        let mut p = self.policy();
        p.cert_dirs.retain(|d| d.path() != certs.path());
        p.cert_dirs.push(certs);
        Ok(n)
    }

    /// Asks `handler` about every request the tables do not allow (see the
    /// type's documentation). It runs on the I/O thread of the connection,
    /// during the handshake: keep it quick (no blocking I/O). A handler that
    /// panics refuses the peer with 500.
    pub fn set_handler(
        &self,
        handler: impl Fn(&ZapRequest) -> ZapReply + Send + Sync + 'static,
    ) -> &Authenticator {
        self.policy().handler = Some(Arc::new(handler));
        self
    }

    /// Removes the handler.
    pub fn clear_handler(&self) -> &Authenticator {
        self.policy().handler = None;
        self
    }

    /// The next request id (unique per authenticator).
    pub(crate) fn next_request_id(&self) -> u64 {
        self.inner.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Decides one request (what a handshake asks; public so handlers and
    /// tables can be tested without a connection).
    pub fn authenticate(&self, request: &ZapRequest) -> ZapReply {
        let (verdict, handler) = {
            let mut p = self.policy();
            (p.decide(request), p.handler.clone())
        };
        let reply = match verdict {
            Verdict::Allow(reply) => reply,
            Verdict::Deny(why) => ZapReply::deny(why),
            Verdict::Undecided => match handler {
                Some(handler) => call_handler(&*handler, request),
                None if request.mechanism == Mechanism::Null => ZapReply::allow(Bytes::new()),
                None => ZapReply::deny(match request.mechanism {
                    Mechanism::Plain => "unknown user name or wrong password",
                    _ => "client key not allowed",
                }),
            },
        };
        tracing::debug!(
            mechanism = %request.mechanism,
            address = ?request.address,
            domain = %request.domain,
            status = %reply.status,
            text = %reply.status_text,
            "ZAP request decided"
        );
        reply
    }
}

impl Policy {
    fn decide(&mut self, request: &ZapRequest) -> Verdict {
        let address = request.address.map(|a| a.to_canonical());
        if let Some(a) = address
            && self.denied.contains(&a)
        {
            return Verdict::Deny("address denied");
        }
        if !self.allowed.is_empty() && !address.is_some_and(|a| self.allowed.contains(&a)) {
            return Verdict::Deny("address not allowed");
        }
        match &request.credentials {
            Credentials::Null => Verdict::Undecided,
            Credentials::Plain { username, password } => {
                match self.passwords.get(username.as_ref()) {
                    // SecretBytes compares in constant time.
                    Some(known) if known == password => {
                        Verdict::Allow(ZapReply::allow(username.clone()))
                    }
                    _ => Verdict::Undecided,
                }
            }
            Credentials::Curve { client_public_key } => self.decide_curve(client_public_key),
        }
    }

    fn decide_curve(&mut self, key: &CurvePublicKey) -> Verdict {
        let user_id = Bytes::from(key.to_z85());
        if self.any_curve_key || self.curve_keys.contains(key) {
            return Verdict::Allow(ZapReply::allow(user_id));
        }
        for dir in &mut self.cert_dirs {
            dir.refresh();
            if let Some(metadata) = dir.lookup(key) {
                let mut reply = ZapReply::allow(user_id);
                reply.metadata = metadata.clone();
                return Verdict::Allow(reply);
            }
        }
        Verdict::Undecided
    }
}

/// Runs the application's handler; a panic refuses the peer (500) instead of
/// taking the I/O thread down.
fn call_handler(handler: &ZapHandler, request: &ZapRequest) -> ZapReply {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(request))) {
        Ok(reply) => reply,
        Err(_) => {
            tracing::error!("the ZAP handler panicked; the peer is refused with 500");
            ZapReply::internal_error("the authenticator's handler panicked")
        }
    }
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.policy();
        f.debug_struct("Authenticator")
            .field("allowed", &p.allowed)
            .field("denied", &p.denied)
            .field("plain_users", &p.passwords.len())
            .field("any_curve_key", &p.any_curve_key)
            .field("curve_keys", &p.curve_keys.len())
            .field("certificate_dirs", &p.cert_dirs.len())
            .field("handler", &p.handler.is_some())
            .finish()
    }
}

/// Where a [`Context`](crate::Context)'s authenticator lives: shared with the
/// native sockets behind its handles, read at each handshake.
pub(crate) type AuthenticatorSlot = std::sync::RwLock<Option<Authenticator>>;

/// The authenticator in `slot` now.
pub(crate) fn read_slot(slot: &AuthenticatorSlot) -> Option<Authenticator> {
    slot.read().unwrap_or_else(|e| e.into_inner()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroring_zmtp::ZapStatus;

    fn plain(user: &str, password: &str) -> ZapRequest {
        let mut r = ZapRequest::new(
            Mechanism::Plain,
            Credentials::Plain {
                username: Bytes::copy_from_slice(user.as_bytes()),
                password: SecretBytes::new(password.as_bytes().to_vec()),
            },
        );
        r.address = Some("127.0.0.1".parse().unwrap());
        r
    }

    fn curve(key: CurvePublicKey) -> ZapRequest {
        let mut r = ZapRequest::new(
            Mechanism::Curve,
            Credentials::Curve {
                client_public_key: key,
            },
        );
        r.address = Some("127.0.0.1".parse().unwrap());
        r
    }

    #[test]
    fn plain_table() {
        let auth = Authenticator::new();
        assert_eq!(auth.authenticate(&plain("admin", "x")).status.code(), 400);
        auth.add_plain_user("admin", "secret");
        let ok = auth.authenticate(&plain("admin", "secret"));
        assert!(ok.is_allowed());
        assert_eq!(&ok.user_id[..], b"admin");
        assert!(!auth.authenticate(&plain("admin", "secreT")).is_allowed());
        assert!(!auth.authenticate(&plain("root", "secret")).is_allowed());
        auth.remove_plain_user(b"admin");
        assert!(!auth.authenticate(&plain("admin", "secret")).is_allowed());
    }

    #[test]
    fn addresses_deny_wins_and_allow_lists_exclude_others() {
        let auth = Authenticator::new();
        auth.add_plain_user("u", "p");
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        auth.allow(local);
        assert!(auth.authenticate(&plain("u", "p")).is_allowed());
        let mut other = plain("u", "p");
        other.address = Some("10.0.0.1".parse().unwrap());
        assert_eq!(auth.authenticate(&other).status_text, "address not allowed");
        let mut ipc = plain("u", "p");
        ipc.address = None;
        assert!(!auth.authenticate(&ipc).is_allowed());
        // An IPv4-mapped IPv6 address is the same address.
        let mut mapped = plain("u", "p");
        mapped.address = Some("::ffff:127.0.0.1".parse().unwrap());
        assert!(auth.authenticate(&mapped).is_allowed());
        auth.deny(local);
        assert_eq!(
            auth.authenticate(&plain("u", "p")).status_text,
            "address denied"
        );
        // No list left: the credentials alone decide.
        auth.forget_address(local);
        assert!(auth.authenticate(&plain("u", "p")).is_allowed());
    }

    #[test]
    fn curve_keys_any_and_handler() {
        let auth = Authenticator::new();
        let key = zeroring_zmtp::curve_keypair().unwrap().public().to_owned();
        assert!(!auth.authenticate(&curve(key)).is_allowed());
        auth.allow_curve_key(key);
        let ok = auth.authenticate(&curve(key));
        assert_eq!(ok.user_id, Bytes::from(key.to_z85()));
        auth.remove_curve_key(&key);
        auth.allow_any_curve_key(true);
        assert!(auth.authenticate(&curve(key)).is_allowed());
        auth.allow_any_curve_key(false);
        auth.set_handler(move |r| match &r.credentials {
            Credentials::Curve { client_public_key } if *client_public_key == key => {
                ZapReply::allow("by handler").with_metadata("Role", "admin")
            }
            _ => ZapReply::temporary_error("try later"),
        });
        let by_handler = auth.authenticate(&curve(key));
        assert_eq!(&by_handler.user_id[..], b"by handler");
        assert_eq!(by_handler.metadata.get("role").unwrap().as_ref(), b"admin");
        let other = zeroring_zmtp::curve_keypair().unwrap().public().to_owned();
        assert_eq!(
            auth.authenticate(&curve(other)).status,
            ZapStatus::TemporaryError
        );
        auth.clear_handler();
        assert!(!auth.authenticate(&curve(other)).is_allowed());
    }

    #[test]
    fn null_is_allowed_unless_the_address_or_handler_says_no() {
        let auth = Authenticator::new();
        let mut null = ZapRequest::new(Mechanism::Null, Credentials::Null);
        null.address = Some("192.168.1.9".parse().unwrap());
        assert!(auth.authenticate(&null).is_allowed());
        auth.set_handler(|r| {
            if r.domain == "internal" {
                ZapReply::allow("")
            } else {
                ZapReply::deny("wrong domain")
            }
        });
        assert!(!auth.authenticate(&null).is_allowed());
        null.domain = "internal".into();
        assert!(auth.authenticate(&null).is_allowed());
        auth.deny("192.168.1.9".parse().unwrap());
        assert!(!auth.authenticate(&null).is_allowed());
    }

    #[test]
    fn a_panicking_handler_refuses_with_500() {
        let auth = Authenticator::new();
        auth.set_handler(|_| panic!("boom"));
        let reply = auth.authenticate(&ZapRequest::new(Mechanism::Null, Credentials::Null));
        assert_eq!(reply.status, ZapStatus::InternalError);
    }

    #[test]
    fn request_ids_increase_and_debug_hides_secrets() {
        let auth = Authenticator::new();
        assert_eq!(auth.next_request_id(), 1);
        assert_eq!(auth.clone().next_request_id(), 2);
        auth.add_plain_user("admin", "hunter2");
        let text = format!("{auth:?}");
        assert!(
            !text.contains("hunter2") && text.contains("plain_users: 1"),
            "{text}"
        );
    }
}
