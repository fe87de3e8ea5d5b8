//! czmq's CURVE certificates (zcert) on disk: reading the public key and the
//! metadata out of a certificate file, and loading a directory of them the way
//! czmq's `zcertstore` does, so a directory a czmq or pyzmq deployment already
//! keeps works as the allowed-keys list of an
//! [`Authenticator`](super::Authenticator).
//!
//! A certificate is a ZPL file (rfc.zeromq.org spec 4): sections by
//! indentation, `name = "value"` lines, `#` comments. czmq writes:
//!
//! ```text
//! #   ZeroMQ CURVE Public Certificate
//! metadata
//!     name = "alice"
//! curve
//!     public-key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
//! ```
//!
//! As in czmq, every regular file of the directory and its subdirectories is
//! read except those whose name ends in `_secret` (the secret half of a pair);
//! a file without a 40-character `curve/public-key` is skipped. A directory is
//! loaded again when its file count, total size or newest modification time
//! changes; it is looked at again at most once a second (czmq looks at every
//! handshake), so a flood of handshakes cannot turn into a flood of directory
//! scans.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use zeroring_zmtp::{CurvePublicKey, Metadata};

/// Largest certificate file read (czmq's are a few hundred bytes).
const MAX_CERT_FILE: u64 = 64 * 1024;
/// Subdirectory levels followed below a certificate directory.
const MAX_DEPTH: usize = 16;
/// Least time between two looks at a directory for changes.
const RECHECK: Duration = Duration::from_secs(1);

/// The public part of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cert {
    pub(crate) public_key: CurvePublicKey,
    /// The `metadata` section, handed to the application as ZAP metadata.
    pub(crate) metadata: Metadata,
}

/// Reads a certificate; `None` when it has no valid `curve/public-key`.
pub(crate) fn parse(text: &str) -> Option<Cert> {
    let mut section = String::new();
    let mut public_key = None;
    let mut metadata = Metadata::new();
    for raw in text.lines() {
        let depth = indentation(raw);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name.trim(), Some(unquote(value.trim()))),
            None => (line, None),
        };
        if depth == 0 {
            section = name.to_string();
            continue;
        }
        // czmq reads the direct children of `curve` and `metadata` only.
        let (1, Some(value)) = (depth, value) else {
            continue;
        };
        match section.as_str() {
            "curve" if name == "public-key" => {
                public_key = CurvePublicKey::from_slice(value.as_bytes()).ok()
            }
            "metadata" => add_metadata(&mut metadata, name, value),
            _ => {}
        }
    }
    let public_key = public_key?;
    Some(Cert {
        public_key,
        metadata,
    })
}

/// Adds a `metadata` property; a name ZMTP forbids is left out.
fn add_metadata(metadata: &mut Metadata, name: &str, value: &str) {
    if metadata.try_insert(name, value.to_string()).is_err() {
        tracing::debug!(name, "certificate metadata name ZMTP forbids: left out");
    }
}

/// Leading indentation in ZPL levels (four spaces, or a tab, each).
fn indentation(line: &str) -> usize {
    let mut columns = 0;
    for c in line.chars() {
        match c {
            ' ' => columns += 1,
            '\t' => columns += 4,
            _ => break,
        }
    }
    columns / 4
}

/// A value without its quotes (`"..."` or `'...'`); an unquoted value ends at
/// whitespace or a `#` comment.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(quote) {
            return rest.split(quote).next().unwrap_or(rest);
        }
    }
    value
        .split(|c: char| c.is_whitespace() || c == '#')
        .next()
        .unwrap_or("")
}

/// What decides whether a directory changed: file count, total size, newest
/// modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Stamp {
    files: usize,
    bytes: u64,
    newest: Option<SystemTime>,
}

/// One certificate directory and the keys it held when last read.
#[derive(Debug, Clone)]
pub(crate) struct CertDir {
    path: PathBuf,
    stamp: Stamp,
    /// When the directory was last looked at.
    checked: Instant,
    keys: HashMap<CurvePublicKey, Metadata>,
}

impl CertDir {
    /// Reads every certificate of `path` (see the module documentation).
    pub(crate) fn load(path: &Path) -> std::io::Result<CertDir> {
        let files = certificate_files(path)?;
        let stamp = stamp_of(&files);
        let keys = read_all(&files);
        Ok(CertDir {
            path: path.to_path_buf(),
            stamp,
            checked: Instant::now(),
            keys,
        })
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Number of certificates read.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Reads the directory again if it changed since the last read, looking at
    /// most once a second.
    pub(crate) fn refresh(&mut self) {
        if self.checked.elapsed() >= RECHECK {
            self.refresh_now();
        }
    }

    /// Reads the directory again if it changed since the last read. A directory
    /// that cannot be read keeps the keys it had.
    pub(crate) fn refresh_now(&mut self) {
        self.checked = Instant::now();
        let files = match certificate_files(&self.path) {
            Ok(files) => files,
            Err(e) => {
                tracing::warn!(dir = %self.path.display(), error = %e,
                    "CURVE certificate directory unreadable; keeping the keys read before");
                return;
            }
        };
        let stamp = stamp_of(&files);
        if stamp != self.stamp {
            self.keys = read_all(&files);
            self.stamp = stamp;
            tracing::debug!(dir = %self.path.display(), certificates = self.keys.len(),
                "CURVE certificate directory reloaded");
        }
    }

    /// The metadata of the certificate with this public key, if there is one.
    pub(crate) fn lookup(&self, key: &CurvePublicKey) -> Option<&Metadata> {
        self.keys.get(key)
    }
}

/// A regular file of a certificate directory, with what its stamp needs.
struct CertFile {
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
}

/// The regular files below `dir` whose names do not end in `_secret`
/// (symbolic links to files count; links to directories are not followed).
fn certificate_files(dir: &Path) -> std::io::Result<Vec<CertFile>> {
    let mut files = Vec::new();
    collect(dir, 0, &mut files)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn collect(dir: &Path, depth: usize, files: &mut Vec<CertFile>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                // A subdirectory that cannot be read is skipped, not fatal.
                if let Err(e) = collect(&path, depth + 1, files) {
                    tracing::debug!(dir = %path.display(), error = %e, "skipped");
                }
            }
            continue;
        }
        let secret = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("_secret"));
        if secret {
            continue;
        }
        // Follows a symbolic link to see whether it names a regular file.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_file() {
            files.push(CertFile {
                path,
                len: meta.len(),
                modified: meta.modified().ok(),
            });
        }
    }
    Ok(())
}

fn stamp_of(files: &[CertFile]) -> Stamp {
    Stamp {
        files: files.len(),
        bytes: files.iter().map(|f| f.len).sum(),
        newest: files.iter().filter_map(|f| f.modified).max(),
    }
}

fn read_all(files: &[CertFile]) -> HashMap<CurvePublicKey, Metadata> {
    let mut keys = HashMap::new();
    for file in files {
        match read_cert(&file.path) {
            Some(cert) => {
                keys.insert(cert.public_key, cert.metadata);
            }
            None => tracing::debug!(file = %file.path.display(),
                "not a CURVE certificate (no 40-character curve/public-key); skipped"),
        }
    }
    keys
}

fn read_cert(path: &Path) -> Option<Cert> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_CERT_FILE)
        .read_to_string(&mut text)
        .ok()?;
    parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A public certificate as czmq's `zcert_save_public` writes it (the key is
    /// libzmq's test client key; Z85 has `#` and `=` among its characters).
    const CZMQ_PUBLIC: &str = r#"#   ****  Generated on 2024-01-01 00:00:00 by CZMQ  ****
#   ZeroMQ CURVE Public Certificate
#   Exchange securely, or use a secure mechanism to verify the contents
#   of this file after exchange. Store public certificates in your home
#   directory, in the .curve subdirectory.

metadata
    name = "alice"
    Department = "ops"
curve
    public-key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
"#;

    #[test]
    fn czmq_public_certificate() {
        let cert = parse(CZMQ_PUBLIC).unwrap();
        assert_eq!(
            cert.public_key.to_z85(),
            "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
        );
        assert_eq!(cert.metadata.get("name").unwrap().as_ref(), b"alice");
        assert_eq!(cert.metadata.get("department").unwrap().as_ref(), b"ops");
    }

    #[test]
    fn keys_with_hash_and_equals_and_unquoted_values() {
        // "#" and "=" are Z85 characters: quoted, they are part of the key.
        let text = "curve\n    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n";
        assert!(parse(text).is_some());
        let key = "x?T*N/1Y{8goubv{Ts}#&#f}TXJ//DVe#D2HkoLU";
        let quoted = format!("curve\n    public-key = '{key}'\n");
        assert_eq!(parse(&quoted).unwrap().public_key.to_z85(), key);
        let plain = "curve\n    public-key = Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID # c\n";
        assert!(parse(plain).is_some());
    }

    #[test]
    fn files_without_a_valid_key_are_not_certificates() {
        assert!(parse("").is_none());
        assert!(parse("curve\n    public-key = \"short\"\n").is_none());
        // The key must sit in the curve section.
        assert!(parse("public-key = \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\n").is_none());
        assert!(
            parse("metadata\n    public-key = \"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\n")
                .is_none()
        );
        // Garbage is skipped, never a panic.
        assert!(parse("\u{0}\u{1}=\"\n    =\n\t\t= '").is_none());
    }

    #[test]
    fn bad_metadata_names_are_left_out() {
        let text = format!(
            "metadata\n    bad name = \"x\"\n{}",
            &CZMQ_PUBLIC[CZMQ_PUBLIC.find("\ncurve\n").unwrap()..]
        );
        let cert = parse(&text).unwrap();
        assert!(cert.metadata.is_empty());
    }

    #[test]
    fn directories_load_skip_secrets_and_reload_on_change() {
        let dir = std::env::temp_dir().join(format!("zr-zcert-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("alice.key"), CZMQ_PUBLIC).unwrap();
        // A secret file is never read as an allowed key.
        let secret = "curve\n    public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n";
        std::fs::write(dir.join("server.key_secret"), secret).unwrap();
        std::fs::write(dir.join("README"), "not a certificate").unwrap();
        let mut certs = CertDir::load(&dir).unwrap();
        assert_eq!(certs.len(), 1);
        let alice: CurvePublicKey = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID".parse().unwrap();
        assert!(certs.lookup(&alice).is_some());
        // A certificate added in a subdirectory is found after a refresh.
        let bob = "curve\n    public-key = \"x?T*N/1Y{8goubv{Ts}#&#f}TXJ//DVe#D2HkoLU\"\n";
        std::fs::write(dir.join("sub/bob.key"), bob).unwrap();
        certs.refresh();
        assert_eq!(certs.len(), 1, "looked at once a second at most");
        certs.refresh_now();
        assert_eq!(certs.len(), 2);
        std::fs::remove_file(dir.join("alice.key")).unwrap();
        certs.refresh_now();
        assert!(certs.lookup(&alice).is_none());
        let _ = std::fs::remove_dir_all(&dir);
        assert!(CertDir::load(&dir).is_err());
    }
}
