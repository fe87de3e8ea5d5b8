//! `zeroring curve keygen`: a fresh CURVE key pair, printed in Z85 or saved as czmq
//! certificate files.
//!
//! Without `--out` both keys are printed, one labelled line each. With `--out PATH`
//! the pair goes to two files in czmq's `zcert` format (what `zcert_save` writes and
//! `zcert_load`, pyzmq's `zmq.auth.load_certificate` and JeroMQ's `ZCert` read):
//!
//! - `PATH`, the public certificate, to hand to peers:
//!
//!   ```text
//!   #   ****  Generated on 2025-01-31 12:00:00 UTC by zeroring  ****
//!   #   ZeroMQ CURVE Public Certificate
//!   #   ...
//!
//!   metadata
//!   curve
//!       public-key = "<40 Z85 characters>"
//!   ```
//!
//! - `PATH_secret`, the secret certificate, created with mode 0600: the same with a
//!   `secret-key = "..."` line after the public key.
//!
//! Existing files are left alone unless `--force` is given; then they are removed
//! and created afresh (so the secret file never inherits looser permissions, and a
//! symlink in its place is replaced rather than followed). With `--out` the secret
//! key is written only to `PATH_secret`, never to the terminal.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use zeroring::zmtp::{CurveKeyPair, curve_keypair};

use clap::{Args, Subcommand};

use crate::CliError;

/// `zeroring curve keygen [--out PATH] [--force]`.
#[derive(Debug, Args)]
pub struct CurveArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: CurveCommand,
}

/// The `curve` subcommands.
#[derive(Debug, Subcommand)]
pub enum CurveCommand {
    /// Make a CURVE key pair: print both keys in Z85, or with --out write czmq
    /// certificates PATH (public) and PATH_secret (both keys, mode 0600).
    Keygen(KeygenArgs),
}

/// The flags of `curve keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write czmq certificates PATH and PATH_secret instead of printing the keys.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Replace existing certificate files.
    #[arg(long, requires = "out")]
    pub force: bool,
}

/// Runs `zeroring curve ...`, printing to stdout.
pub(crate) fn run(args: &CurveArgs) -> Result<(), CliError> {
    match &args.command {
        CurveCommand::Keygen(k) => keygen(k, &mut io::stdout().lock()),
    }
}

/// `curve keygen`, writing its report to `out` (stdout in the binary).
fn keygen(args: &KeygenArgs, out: &mut impl Write) -> Result<(), CliError> {
    let force = args.force;
    let path = args.out.clone();
    let keys =
        curve_keypair().map_err(|e| CliError(format!("cannot make a CURVE key pair: {e}")))?;
    let public = keys.public().to_z85();
    let printed = match path {
        None => {
            let secret = keys.secret().to_z85();
            writeln!(out, "public key: {public}")
                .and_then(|()| writeln!(out, "secret key: {}", secret.as_str()))
        }
        Some(path) => {
            let secret_path = save(&keys, &path, force, &generated_now())?;
            writeln!(out, "public key: {public}")
                .and_then(|()| writeln!(out, "public certificate: {}", path.display()))
                .and_then(|()| {
                    writeln!(
                        out,
                        "secret certificate: {} (mode 0600; the secret key is only there)",
                        secret_path.display()
                    )
                })
        }
    };
    printed.map_err(|e| CliError(format!("cannot print the keys: {e}")))
}

/// The secret certificate's path for a public certificate at `path`: czmq appends
/// `_secret` to the whole file name.
pub(crate) fn secret_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("_secret");
    PathBuf::from(name)
}

/// The comment lines at the top of both files (czmq's wording, zeroring as the
/// generator).
fn header(generated: &str) -> String {
    format!("#   ****  Generated on {generated} by zeroring  ****\n")
}

/// Writes the public certificate, laid out as czmq's `zcert_save_public` does.
pub(crate) fn write_public_certificate(
    w: &mut impl Write,
    keys: &CurveKeyPair,
    generated: &str,
) -> io::Result<()> {
    write!(
        w,
        "{}\
         #   ZeroMQ CURVE Public Certificate\n\
         #   Exchange securely, or use a secure mechanism to verify the contents\n\
         #   of this file after exchange. Store public certificates in your home\n\
         #   directory, in the .curve subdirectory.\n\
         \n\
         metadata\n\
         curve\n    \
             public-key = \"{}\"\n",
        header(generated),
        keys.public().to_z85()
    )
}

/// Writes the secret certificate, laid out as czmq's `zcert_save_secret` does. The
/// secret key goes straight from its wiped-on-drop Z85 form to `w`, with no copy in
/// between.
pub(crate) fn write_secret_certificate(
    w: &mut impl Write,
    keys: &CurveKeyPair,
    generated: &str,
) -> io::Result<()> {
    write!(
        w,
        "{}\
         #   ZeroMQ CURVE **Secret** Certificate\n\
         #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\
         \n\
         metadata\n\
         curve\n    \
             public-key = \"{}\"\n    \
             secret-key = \"",
        header(generated),
        keys.public().to_z85()
    )?;
    w.write_all(keys.secret().to_z85().as_bytes())?;
    w.write_all(b"\"\n")
}

/// Writes `keys` to `path` (public) and `path_secret` (mode 0600) and returns the
/// secret file's path. Without `force` an existing file at either path is an error
/// and nothing is written; with it, existing files are replaced.
pub(crate) fn save(
    keys: &CurveKeyPair,
    path: &Path,
    force: bool,
    generated: &str,
) -> Result<PathBuf, CliError> {
    let secret_path = secret_path(path);
    for p in [path, secret_path.as_path()] {
        // symlink_metadata: a dangling symlink counts as existing too.
        if fs::symlink_metadata(p).is_ok() {
            if !force {
                return Err(CliError(format!(
                    "{} already exists; not overwriting it (use --force to replace it)",
                    p.display()
                )));
            }
            fs::remove_file(p)
                .map_err(|e| CliError(format!("cannot remove {}: {e}", p.display())))?;
        }
    }
    write_new(&secret_path, 0o600, |f| {
        write_secret_certificate(f, keys, generated)
    })?;
    if let Err(e) = write_new(path, 0o644, |f| {
        write_public_certificate(f, keys, generated)
    }) {
        // Leave no half-written pair behind.
        let _ = fs::remove_file(&secret_path);
        return Err(e);
    }
    Ok(secret_path)
}

/// Creates `path` (it must not exist) with `mode` (before the umask) and fills it
/// with `write`; a partly written file is removed.
fn write_new(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), CliError> {
    let fail = |e: io::Error| CliError(format!("cannot write {}: {e}", path.display()));
    let mut file = create_new(path, mode).map_err(fail)?;
    if let Err(e) = write(&mut file).and_then(|()| file.sync_all()) {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(fail(e));
    }
    Ok(())
}

#[cfg(unix)]
fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn create_new(path: &Path, _mode: u32) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

/// The current time as czmq prints it in the header (`YYYY-MM-DD HH:MM:SS`), in UTC.
fn generated_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_timestamp(secs)
}

/// `secs` since the Unix epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc_timestamp(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    use super::*;
    use zeroring::zmtp::{CurveSecretKey, z85};

    /// libzmq's CURVE test server pair (tests/testutil_security.cpp).
    const PUBLIC: &str = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    const SECRET: &str = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";

    fn test_keys() -> CurveKeyPair {
        CurveKeyPair::from_secret(SECRET.parse::<CurveSecretKey>().unwrap())
    }

    /// `curve keygen` as clap parses it.
    #[derive(Debug, clap::Parser)]
    struct Keygen {
        #[command(flatten)]
        args: KeygenArgs,
    }

    fn parse(list: &[&str]) -> Result<KeygenArgs, String> {
        use clap::Parser;
        Keygen::try_parse_from(std::iter::once("keygen").chain(list.iter().copied()))
            .map(|k| k.args)
            .map_err(|e| e.to_string())
    }

    /// Runs `curve keygen ARGS` and returns what it printed.
    fn keygen_output(list: &[&str]) -> Result<String, CliError> {
        let mut out = Vec::new();
        keygen(&parse(list).map_err(CliError)?, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// The value after `label: ` on its line of `text`.
    fn labelled<'a>(text: &'a str, label: &str) -> &'a str {
        text.lines()
            .find_map(|l| l.strip_prefix(label)?.strip_prefix(": "))
            .unwrap_or_else(|| panic!("no {label:?} line in {text:?}"))
    }

    /// Reads a zcert file strictly: `#` comment lines first, then a blank line,
    /// then sections (no indent) holding `name = "value"` lines indented by 4
    /// spaces. Returns (comments, [(section, [(name, value)])]).
    #[allow(clippy::type_complexity)]
    fn read_zcert(text: &str) -> (Vec<&str>, Vec<(&str, Vec<(&str, &str)>)>) {
        let mut lines = text.lines();
        let mut comments = Vec::new();
        for line in lines.by_ref() {
            match line.strip_prefix('#') {
                Some(c) => comments.push(c),
                None => {
                    assert_eq!(line, "", "a blank line ends the comments");
                    break;
                }
            }
        }
        let mut sections: Vec<(&str, Vec<(&str, &str)>)> = Vec::new();
        for line in lines {
            if let Some(item) = line.strip_prefix("    ") {
                let (name, value) = item.split_once(" = ").expect("name = value");
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .expect("a quoted value");
                sections
                    .last_mut()
                    .expect("an item inside a section")
                    .1
                    .push((name, value));
            } else {
                assert!(!line.is_empty() && !line.starts_with(' '), "{line:?}");
                sections.push((line, Vec::new()));
            }
        }
        (comments, sections)
    }

    /// The keys of the `curve` section of a zcert file.
    fn curve_keys(path: &Path) -> (String, Option<String>) {
        let text = fs::read_to_string(path).unwrap();
        let (comments, sections) = read_zcert(&text);
        assert!(
            comments[0].starts_with("   ****  Generated on "),
            "{comments:?}"
        );
        let names: Vec<&str> = sections.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["metadata", "curve"]);
        assert!(sections[0].1.is_empty(), "no metadata items");
        let curve = &sections[1].1;
        let get = |name: &str| {
            curve
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let public = get("public-key").expect("a public key");
        assert_eq!(public.len(), 40);
        (public, get("secret-key"))
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A key's 32 bytes, decoded from Z85.
    fn decode_key(text: &str) -> Vec<u8> {
        let bytes = z85::decode(text).unwrap();
        assert_eq!(bytes.len(), 32, "{text}");
        bytes
    }

    #[test]
    fn prints_a_fresh_pair_in_z85() {
        let first = keygen_output(&[]).unwrap();
        assert_eq!(first.lines().count(), 2, "{first}");
        let public = labelled(&first, "public key");
        let secret = labelled(&first, "secret key");
        let public_bytes = decode_key(public);
        decode_key(secret);
        // The secret key derives the printed public key.
        let pair = CurveKeyPair::from_secret(secret.parse::<CurveSecretKey>().unwrap());
        assert_eq!(pair.public().to_z85(), public);
        assert_eq!(pair.public().as_bytes()[..], public_bytes[..]);
        // Fresh every time.
        let second = keygen_output(&[]).unwrap();
        assert_ne!(labelled(&second, "secret key"), secret);
        assert_ne!(labelled(&second, "public key"), public);
    }

    #[test]
    fn certificates_are_laid_out_like_czmq() {
        let keys = test_keys();
        let when = "2025-01-31 12:00:00 UTC";
        let mut public = Vec::new();
        write_public_certificate(&mut public, &keys, when).unwrap();
        assert_eq!(
            String::from_utf8(public).unwrap(),
            format!(
                "#   ****  Generated on {when} by zeroring  ****\n\
                 #   ZeroMQ CURVE Public Certificate\n\
                 #   Exchange securely, or use a secure mechanism to verify the contents\n\
                 #   of this file after exchange. Store public certificates in your home\n\
                 #   directory, in the .curve subdirectory.\n\
                 \n\
                 metadata\n\
                 curve\n\
                 \x20   public-key = \"{PUBLIC}\"\n"
            )
        );
        let mut secret = Vec::new();
        write_secret_certificate(&mut secret, &keys, when).unwrap();
        assert_eq!(
            String::from_utf8(secret).unwrap(),
            format!(
                "#   ****  Generated on {when} by zeroring  ****\n\
                 #   ZeroMQ CURVE **Secret** Certificate\n\
                 #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\
                 \n\
                 metadata\n\
                 curve\n\
                 \x20   public-key = \"{PUBLIC}\"\n\
                 \x20   secret-key = \"{SECRET}\"\n"
            )
        );
    }

    #[test]
    fn writes_a_public_and_a_private_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        let path_text = path.to_str().unwrap();
        let printed = keygen_output(&["--out", path_text]).unwrap();
        let secret_file = dir.path().join("server.key_secret");
        assert_eq!(labelled(&printed, "public certificate"), path_text);
        assert!(
            labelled(&printed, "secret certificate").starts_with(secret_file.to_str().unwrap())
        );

        let (public, none) = curve_keys(&path);
        assert_eq!(none, None, "the public certificate holds no secret key");
        let (public_again, secret) = curve_keys(&secret_file);
        let secret = secret.expect("the secret certificate holds the secret key");
        assert_eq!(public_again, public);
        assert_eq!(labelled(&printed, "public key"), public);
        assert!(!printed.contains(&secret), "the secret key is not printed");
        decode_key(&public);
        decode_key(&secret);
        let pair = CurveKeyPair::from_secret(secret.parse::<CurveSecretKey>().unwrap());
        assert_eq!(pair.public().to_z85(), public);
        assert_eq!(mode(&secret_file), 0o600);
        assert_eq!(
            mode(&path) & 0o022,
            0,
            "nobody else may change the public key"
        );
    }

    #[test]
    fn refuses_to_overwrite_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client");
        let path_text = path.to_str().unwrap();
        let secret_file = secret_path(&path);
        keygen_output(&["--out", path_text]).unwrap();
        let before = (fs::read(&path).unwrap(), fs::read(&secret_file).unwrap());

        let e = keygen_output(&["--out", path_text]).unwrap_err();
        assert!(
            e.0.contains("already exists") && e.0.contains("--force"),
            "{e}"
        );
        assert_eq!(before.0, fs::read(&path).unwrap());
        assert_eq!(before.1, fs::read(&secret_file).unwrap());

        // Either file alone is enough to refuse, and nothing is written then.
        fs::remove_file(&path).unwrap();
        let e = keygen_output(&["--out", path_text]).unwrap_err();
        assert!(e.0.contains("client_secret"), "{e}");
        assert!(!path.exists());

        // --force replaces both, and a loosened secret file comes back as 0600.
        fs::set_permissions(&secret_file, fs::Permissions::from_mode(0o644)).unwrap();
        keygen_output(&["--out", path_text, "--force"]).unwrap();
        assert_ne!(before.1, fs::read(&secret_file).unwrap());
        assert_eq!(mode(&secret_file), 0o600);
        let (public, secret) = curve_keys(&secret_file);
        assert_eq!(curve_keys(&path).0, public);
        let pair = CurveKeyPair::from_secret(secret.unwrap().parse::<CurveSecretKey>().unwrap());
        assert_eq!(pair.public().to_z85(), public);
    }

    #[test]
    fn a_symlink_is_refused_and_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        fs::write(&target, "untouched").unwrap();
        let path = dir.path().join("cert");
        std::os::unix::fs::symlink(&target, secret_path(&path)).unwrap();
        let path_text = path.to_str().unwrap();
        assert!(keygen_output(&["--out", path_text]).is_err());
        keygen_output(&["--out", path_text, "--force"]).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "untouched");
        assert!(curve_keys(&secret_path(&path)).1.is_some());
    }

    #[test]
    fn bad_arguments_are_explained() {
        for (list, needle) in [
            (&["--out"][..], "a value is required for '--out <PATH>'"),
            (&["--force"], "required arguments were not provided"),
            (&["--bogus"], "unexpected argument '--bogus'"),
            (&["extra"], "unexpected argument 'extra'"),
        ] {
            let e = keygen_output(list).unwrap_err();
            assert!(e.0.contains(needle), "{list:?}: {e}");
        }
        let e = keygen_output(&["--out", "/nonexistent-dir/x/cert"]).unwrap_err();
        assert!(
            e.0.contains("cannot write /nonexistent-dir/x/cert_secret"),
            "{e}"
        );
    }

    /// pyzmq (libzmq 4.3) reads the files with `zmq.auth.load_certificate`,
    /// derives the same public key from the secret with `zmq.curve_public`, and
    /// completes a CURVE handshake with the pair as a server's keys. Needs
    /// `python3` with pyzmq (`scripts/test` installs it); skipped, with a note,
    /// without it.
    #[test]
    fn pyzmq_loads_the_certificates_and_handshakes() {
        let has_pyzmq = Command::new("python3")
            .args(["-c", "import zmq, zmq.auth; assert zmq.has('curve')"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_pyzmq {
            eprintln!("skipped: python3 with pyzmq (and CURVE) not found");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server");
        keygen_output(&["--out", path.to_str().unwrap()]).unwrap();
        let script = r#"
import sys, zmq, zmq.auth
public, none = zmq.auth.load_certificate(sys.argv[1])
assert none is None, "public certificate holds a secret"
public2, secret = zmq.auth.load_certificate(sys.argv[1] + "_secret")
assert public2 == public and len(public) == 40 and len(secret) == 40
assert zmq.curve_public(secret) == public, "libzmq derives another public key"
ctx = zmq.Context()
server = ctx.socket(zmq.REP)
server.curve_secretkey = secret
server.curve_publickey = public
server.curve_server = True
server.rcvtimeo = 5000
port = server.bind_to_random_port("tcp://127.0.0.1")
client = ctx.socket(zmq.REQ)
client.curve_serverkey = public
client.curve_publickey, client.curve_secretkey = zmq.curve_keypair()
client.rcvtimeo = 5000
client.connect("tcp://127.0.0.1:%d" % port)
client.send(b"hello")
server.send(server.recv())
assert client.recv() == b"hello"
ctx.destroy(linger=0)
print("ok")
"#;
        let out = Command::new("python3")
            .args(["-c", script, path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    }

    #[test]
    fn secret_path_appends_to_the_file_name() {
        assert_eq!(
            secret_path(Path::new("certs/server.key")),
            PathBuf::from("certs/server.key_secret")
        );
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(
            utc_timestamp(1_738_324_800 + 3_661),
            "2025-01-31 13:01:01 UTC"
        );
        assert_eq!(utc_timestamp(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }
}
