//! libzmq's column of `zeroring bench`'s CURVE cases (`curve-rr64`, `curve-push64`,
//! `curve-push16k`). Crate `zmq`'s vendored libzmq is built without CURVE (zmq-sys
//! configures it without libsodium), so these cases load the system libzmq
//! (`libzmq.so.5`, Debian's `libzmq5`, built with libsodium) at run time with
//! `libloading` and call its C API through the small safe wrapper below: [`Api`] (the
//! functions, loaded once and never unloaded), [`Ctx`] and [`Sock`] (closed on drop).
//!
//! Like the `libzmq` module: blocking sockets, each side on its own thread, one context
//! with one I/O thread per case, the bound side (REP, PULL) the CURVE server, and fresh
//! key pairs from `zmq_curve_keypair` per run. Without a loadable libzmq that has CURVE,
//! [`available`] says why and the cell reads "n/a: ..." rather than a number.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::case::{Case, Kind, Security, Transport};
use super::figure::{RunResult, latency_us, rate};

const WARMUP: usize = 100;

/// The shared object to load (the SONAME of libzmq 4.x), then a fallback name.
const LIBRARY_NAMES: [&str; 2] = ["libzmq.so.5", "libzmq.so"];

/// What the cell says when no libzmq with CURVE can be had.
const HOW_TO_GET_IT: &str = "apt-get install libzmq5";

// Constants of zmq.h (libzmq 4.3).
/// ZMQ_REQ.
const ZMQ_REQ: c_int = 3;
/// ZMQ_REP.
const ZMQ_REP: c_int = 4;
/// ZMQ_PULL.
const ZMQ_PULL: c_int = 7;
/// ZMQ_PUSH.
const ZMQ_PUSH: c_int = 8;
/// ZMQ_LINGER (int, ms).
const ZMQ_LINGER: c_int = 17;
/// ZMQ_LAST_ENDPOINT (string).
const ZMQ_LAST_ENDPOINT: c_int = 32;
/// ZMQ_CURVE_SERVER (int, 0 or 1).
const ZMQ_CURVE_SERVER: c_int = 47;
/// ZMQ_CURVE_PUBLICKEY (32 bytes or 40 characters of Z85).
const ZMQ_CURVE_PUBLICKEY: c_int = 48;
/// ZMQ_CURVE_SECRETKEY (32 bytes or 40 characters of Z85).
const ZMQ_CURVE_SECRETKEY: c_int = 49;
/// ZMQ_CURVE_SERVERKEY (32 bytes or 40 characters of Z85).
const ZMQ_CURVE_SERVERKEY: c_int = 50;
/// EINTR on Linux: a blocking call interrupted by a signal, to be retried.
const EINTR: c_int = 4;

/// Linger of every socket: long enough to deliver the last reply, bounded so that a
/// failed run cannot hang in `zmq_ctx_term`.
const LINGER_MS: c_int = 1_000;

/// The libzmq functions the bench calls, from the loaded library.
struct Api {
    zmq_ctx_new: unsafe extern "C" fn() -> *mut c_void,
    zmq_ctx_term: unsafe extern "C" fn(*mut c_void) -> c_int,
    zmq_socket: unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void,
    zmq_close: unsafe extern "C" fn(*mut c_void) -> c_int,
    zmq_setsockopt: unsafe extern "C" fn(*mut c_void, c_int, *const c_void, usize) -> c_int,
    zmq_getsockopt: unsafe extern "C" fn(*mut c_void, c_int, *mut c_void, *mut usize) -> c_int,
    zmq_bind: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    zmq_connect: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    zmq_send: unsafe extern "C" fn(*mut c_void, *const c_void, usize, c_int) -> c_int,
    zmq_recv: unsafe extern "C" fn(*mut c_void, *mut c_void, usize, c_int) -> c_int,
    zmq_curve_keypair: unsafe extern "C" fn(*mut c_char, *mut c_char) -> c_int,
    zmq_errno: unsafe extern "C" fn() -> c_int,
    zmq_strerror: unsafe extern "C" fn(c_int) -> *const c_char,
    /// Keeps the function pointers above valid: the `Api` lives in a static and is
    /// never dropped, so the library is never unloaded.
    _library: libloading::Library,
}

impl Api {
    /// Loads libzmq and its functions; checks that it has CURVE.
    fn load() -> Result<Api, String> {
        for name in LIBRARY_NAMES {
            // SAFETY: loading libzmq runs its initialisers, which only set up libzmq's
            // own state; the library stays loaded for the life of the process.
            if let Ok(library) = unsafe { libloading::Library::new(name) } {
                return Api::from_library(library);
            }
        }
        Err(format!(
            "no libzmq with CURVE ({HOW_TO_GET_IT}): cannot load {}",
            LIBRARY_NAMES.join(" or ")
        ))
    }

    /// Looks up the functions in `library` and asks it for CURVE.
    fn from_library(library: libloading::Library) -> Result<Api, String> {
        /// Copies the function pointer named `name` out of `library`.
        ///
        /// # Safety
        /// `T` must be the function's C signature in zmq.h.
        unsafe fn symbol<T: Copy>(library: &libloading::Library, name: &str) -> Result<T, String> {
            // SAFETY: the caller gives the function's true type; the pointer is only
            // used while `library` stays loaded (for ever, see `Api::_library`).
            unsafe { library.get::<T>(name.as_bytes()) }
                .map(|f| *f)
                .map_err(|e| format!("no libzmq with CURVE ({HOW_TO_GET_IT}): no {name}: {e}"))
        }
        type HasFn = unsafe extern "C" fn(*const c_char) -> c_int;
        // SAFETY (all `symbol` calls): each type below is the function's prototype in
        // zmq.h of libzmq 4.3 (void* for sockets and contexts, size_t as usize).
        let zmq_has: HasFn = unsafe { symbol(&library, "zmq_has") }?;
        // SAFETY: a NUL-terminated capability name; zmq_has only reads it.
        if unsafe { zmq_has(c"curve".as_ptr()) } == 0 {
            return Err(format!(
                "no libzmq with CURVE ({HOW_TO_GET_IT}): the system libzmq was built without it"
            ));
        }
        // SAFETY: as for zmq_has above, every field's type is the prototype in zmq.h.
        unsafe {
            Ok(Api {
                zmq_ctx_new: symbol(&library, "zmq_ctx_new")?,
                zmq_ctx_term: symbol(&library, "zmq_ctx_term")?,
                zmq_socket: symbol(&library, "zmq_socket")?,
                zmq_close: symbol(&library, "zmq_close")?,
                zmq_setsockopt: symbol(&library, "zmq_setsockopt")?,
                zmq_getsockopt: symbol(&library, "zmq_getsockopt")?,
                zmq_bind: symbol(&library, "zmq_bind")?,
                zmq_connect: symbol(&library, "zmq_connect")?,
                zmq_send: symbol(&library, "zmq_send")?,
                zmq_recv: symbol(&library, "zmq_recv")?,
                zmq_curve_keypair: symbol(&library, "zmq_curve_keypair")?,
                zmq_errno: symbol(&library, "zmq_errno")?,
                zmq_strerror: symbol(&library, "zmq_strerror")?,
                _library: library,
            })
        }
    }

    /// The calling thread's last libzmq error number.
    fn errno(&self) -> c_int {
        // SAFETY: zmq_errno takes nothing and reads a thread-local.
        unsafe { (self.zmq_errno)() }
    }

    /// `what` failed: its text with zmq_strerror's words for the last error.
    fn error(&self, what: &str) -> String {
        let errno = self.errno();
        // SAFETY: zmq_strerror returns a pointer to a static NUL-terminated string.
        let text = unsafe { (self.zmq_strerror)(errno) };
        let text = if text.is_null() {
            format!("error {errno}")
        } else {
            // SAFETY: non-null, NUL-terminated and static (see above).
            unsafe { CStr::from_ptr(text) }
                .to_string_lossy()
                .into_owned()
        };
        format!("{what}: {text}")
    }

    /// A fresh CURVE key pair, (public, secret), each 40 characters of Z85.
    fn curve_keypair(&self) -> Result<(String, String), String> {
        let (mut public, mut secret) = ([0 as c_char; 41], [0 as c_char; 41]);
        // SAFETY: both buffers hold the 40 characters plus the NUL that libzmq writes.
        let rc = unsafe { (self.zmq_curve_keypair)(public.as_mut_ptr(), secret.as_mut_ptr()) };
        if rc != 0 {
            return Err(self.error("zmq_curve_keypair"));
        }
        let text = |key: &[c_char; 41]| {
            // SAFETY: libzmq NUL-terminated the key (rc == 0), within the buffer.
            unsafe { CStr::from_ptr(key.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        };
        Ok((text(&public), text(&secret)))
    }
}

/// The loaded library, or why there is none (tried once per process).
fn api() -> Result<&'static Api, String> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(Api::load).as_ref().map_err(Clone::clone)
}

/// `Ok` when a libzmq with CURVE is loadable; otherwise what the cell should say.
pub(super) fn available() -> Result<(), String> {
    api().map(|_| ())
}

/// A libzmq context; terminated when the last [`Sock`] made from it and the `Ctx`
/// itself are gone (every socket holds it).
struct CtxInner {
    api: &'static Api,
    raw: *mut c_void,
}

// SAFETY: libzmq contexts are thread-safe (zmq_socket and zmq_ctx_term may be called
// from any thread).
unsafe impl Send for CtxInner {}
// SAFETY: as above.
unsafe impl Sync for CtxInner {}

impl Drop for CtxInner {
    fn drop(&mut self) {
        // SAFETY: `raw` came from zmq_ctx_new and every socket of it is closed (each
        // holds this context until its own drop has closed it).
        unsafe { (self.api.zmq_ctx_term)(self.raw) };
    }
}

/// A libzmq context with one I/O thread (the default).
#[derive(Clone)]
struct Ctx(Arc<CtxInner>);

impl Ctx {
    /// A new context.
    fn new(api: &'static Api) -> Result<Ctx, String> {
        // SAFETY: zmq_ctx_new takes nothing; a null result is an error.
        let raw = unsafe { (api.zmq_ctx_new)() };
        if raw.is_null() {
            return Err(api.error("zmq_ctx_new"));
        }
        Ok(Ctx(Arc::new(CtxInner { api, raw })))
    }

    /// A socket of type `ty` (ZMQ_REQ, ...) with a bounded linger.
    fn socket(&self, ty: c_int) -> Result<Sock, String> {
        let api = self.0.api;
        // SAFETY: the context is live (held by `self`); a null result is an error.
        let raw = unsafe { (api.zmq_socket)(self.0.raw, ty) };
        if raw.is_null() {
            return Err(api.error("zmq_socket"));
        }
        let sock = Sock {
            raw,
            ctx: self.clone(),
        };
        sock.set_int(ZMQ_LINGER, LINGER_MS, "ZMQ_LINGER")?;
        Ok(sock)
    }
}

/// A libzmq socket, closed on drop. Used by one thread at a time.
struct Sock {
    raw: *mut c_void,
    /// Keeps the context alive until this socket is closed.
    ctx: Ctx,
}

// SAFETY: a libzmq socket may move to another thread when the move is a full memory
// barrier (thread::spawn and join are); `Sock` is not `Sync`, so only one thread uses
// it at a time.
unsafe impl Send for Sock {}

impl Drop for Sock {
    fn drop(&mut self) {
        // SAFETY: `raw` is an open socket, closed exactly once, here.
        unsafe { (self.api().zmq_close)(self.raw) };
    }
}

impl Sock {
    /// The library this socket belongs to.
    fn api(&self) -> &'static Api {
        self.ctx.0.api
    }

    /// zmq_setsockopt with the bytes of `value`.
    fn set_bytes(&self, option: c_int, value: &[u8], name: &str) -> Result<(), String> {
        // SAFETY: the socket is open; libzmq copies `value.len()` bytes from `value`.
        let rc = unsafe {
            (self.api().zmq_setsockopt)(self.raw, option, value.as_ptr().cast(), value.len())
        };
        if rc != 0 {
            return Err(self.api().error(&format!("zmq_setsockopt({name})")));
        }
        Ok(())
    }

    /// zmq_setsockopt of an int option.
    fn set_int(&self, option: c_int, value: c_int, name: &str) -> Result<(), String> {
        self.set_bytes(option, &value.to_ne_bytes(), name)
    }

    /// Makes this socket the CURVE server with this secret key (Z85).
    fn curve_server(&self, secret: &str) -> Result<(), String> {
        self.set_int(ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER")?;
        self.set_bytes(
            ZMQ_CURVE_SECRETKEY,
            secret.as_bytes(),
            "ZMQ_CURVE_SECRETKEY",
        )
    }

    /// Makes this socket a CURVE client of `server` with its own pair (all Z85).
    fn curve_client(&self, server: &str, public: &str, secret: &str) -> Result<(), String> {
        self.set_bytes(
            ZMQ_CURVE_SERVERKEY,
            server.as_bytes(),
            "ZMQ_CURVE_SERVERKEY",
        )?;
        self.set_bytes(
            ZMQ_CURVE_PUBLICKEY,
            public.as_bytes(),
            "ZMQ_CURVE_PUBLICKEY",
        )?;
        self.set_bytes(
            ZMQ_CURVE_SECRETKEY,
            secret.as_bytes(),
            "ZMQ_CURVE_SECRETKEY",
        )
    }

    /// Binds to `addr` and returns the endpoint bound (ZMQ_LAST_ENDPOINT).
    fn bind(&self, addr: &str) -> Result<String, String> {
        let c_addr = CString::new(addr).map_err(|_| "address with a NUL".to_string())?;
        // SAFETY: the socket is open; `c_addr` is NUL-terminated and outlives the call.
        if unsafe { (self.api().zmq_bind)(self.raw, c_addr.as_ptr()) } != 0 {
            return Err(self.api().error(&format!("zmq_bind({addr})")));
        }
        let mut buf = [0u8; 256];
        let mut len = buf.len();
        // SAFETY: libzmq writes at most `len` bytes into `buf` and stores the length.
        let rc = unsafe {
            (self.api().zmq_getsockopt)(
                self.raw,
                ZMQ_LAST_ENDPOINT,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc != 0 {
            return Err(self.api().error("zmq_getsockopt(ZMQ_LAST_ENDPOINT)"));
        }
        let text = CStr::from_bytes_until_nul(&buf[..len.min(buf.len())])
            .map_err(|_| "ZMQ_LAST_ENDPOINT without a NUL".to_string())?;
        Ok(text.to_string_lossy().into_owned())
    }

    /// Connects to `addr` (in the background, as libzmq does).
    fn connect(&self, addr: &str) -> Result<(), String> {
        let c_addr = CString::new(addr).map_err(|_| "address with a NUL".to_string())?;
        // SAFETY: the socket is open; `c_addr` is NUL-terminated and outlives the call.
        if unsafe { (self.api().zmq_connect)(self.raw, c_addr.as_ptr()) } != 0 {
            return Err(self.api().error(&format!("zmq_connect({addr})")));
        }
        Ok(())
    }

    /// Sends `body` as a one-frame message, blocking; retried on EINTR.
    fn send(&self, body: &[u8]) -> Result<(), String> {
        loop {
            // SAFETY: the socket is open; libzmq copies `body.len()` bytes from `body`.
            let rc =
                unsafe { (self.api().zmq_send)(self.raw, body.as_ptr().cast(), body.len(), 0) };
            if rc >= 0 {
                return Ok(());
            }
            if self.api().errno() != EINTR {
                return Err(self.api().error("zmq_send"));
            }
        }
    }

    /// Receives one frame into `buf`, blocking; returns the frame's full length (more
    /// than `buf.len()` when it was truncated). Retried on EINTR.
    fn recv(&self, buf: &mut [u8]) -> Result<usize, String> {
        loop {
            // SAFETY: the socket is open; libzmq writes at most `buf.len()` bytes.
            let rc =
                unsafe { (self.api().zmq_recv)(self.raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
            if let Ok(n) = usize::try_from(rc) {
                return Ok(n);
            }
            if self.api().errno() != EINTR {
                return Err(self.api().error("zmq_recv"));
            }
        }
    }
}

/// The key pairs of one run, Z85: the server's (public, secret), the client's.
struct Keys {
    server: (String, String),
    client: (String, String),
}

impl Keys {
    /// Fresh pairs from libzmq.
    fn new(api: &Api) -> Result<Keys, String> {
        Ok(Keys {
            server: api.curve_keypair()?,
            client: api.curve_keypair()?,
        })
    }

    /// Sets up `server` (the bound side) and `client`.
    fn apply(&self, server: &Sock, client: &Sock) -> Result<(), String> {
        server.curve_server(&self.server.1)?;
        client.curve_client(&self.server.0, &self.client.0, &self.client.1)
    }
}

/// Runs one CURVE case; `Ok(None)` for anything else.
pub(super) fn run(case: Case) -> RunResult {
    match case.kind {
        Kind::ReqRep(Transport::Tcp, Security::Curve) => req_rep(case.size, case.count),
        Kind::PushPull(Transport::Tcp, Security::Curve) => push_pull(case.size, case.count),
        _ => Ok(None),
    }
}

fn req_rep(size: usize, count: usize) -> RunResult {
    let api = api()?;
    let ctx = Ctx::new(api)?;
    let rep = ctx.socket(ZMQ_REP)?;
    let req = ctx.socket(ZMQ_REQ)?;
    Keys::new(api)?.apply(&rep, &req)?;
    let ep = rep.bind("tcp://127.0.0.1:*")?;
    let server = thread::spawn(move || -> Result<(), String> {
        let mut buf = vec![0u8; size];
        for _ in 0..count + WARMUP {
            let n = rep.recv(&mut buf)?;
            rep.send(&buf[..n.min(size)])?;
        }
        Ok(())
    });
    req.connect(&ep)?;
    let body = vec![7u8; size];
    let mut reply = vec![0u8; size];
    let mut samples = Vec::with_capacity(count);
    for i in 0..count + WARMUP {
        let t = Instant::now();
        req.send(&body)?;
        let n = req.recv(&mut reply)?;
        if i >= WARMUP {
            samples.push(t.elapsed());
        }
        if n != size {
            return Err("reply of the wrong size".into());
        }
    }
    server.join().map_err(|_| "REP thread panicked")??;
    Ok(Some(latency_us(samples)))
}

fn push_pull(size: usize, count: usize) -> RunResult {
    let api = api()?;
    let ctx = Ctx::new(api)?;
    let pull = ctx.socket(ZMQ_PULL)?;
    let push = ctx.socket(ZMQ_PUSH)?;
    Keys::new(api)?.apply(&pull, &push)?;
    let ep = pull.bind("tcp://127.0.0.1:*")?;
    let receiver = thread::spawn(move || -> Result<Duration, String> {
        let mut buf = vec![0u8; size];
        pull.recv(&mut buf)?;
        let start = Instant::now();
        for _ in 1..count {
            if pull.recv(&mut buf)? != size {
                return Err("message of the wrong size".into());
            }
        }
        Ok(start.elapsed())
    });
    push.connect(&ep)?;
    let body = vec![7u8; size];
    for _ in 0..count {
        push.send(&body)?;
    }
    let elapsed = receiver.join().map_err(|_| "PULL thread panicked")??;
    Ok(Some(rate(count - 1, elapsed)))
}
