//! The README's quickstart, its Security section's examples, and
//! `#[zeroring::main]` / `#[zeroring::test]` work in a crate whose only
//! dependency is zeroring (issue 10, item 5; issue 13).
//!
//! Both cases share one scratch binary crate under `target/readme-quickstart/crate`,
//! with a `[workspace]` table of its own, `zeroring = { path = <this repo> }` as its
//! only dependency and a copy of this repo's Cargo.lock (so nothing new is
//! resolved), built offline into `target/readme-quickstart/target` (not the
//! workspace's target dir, whose lock the outer `cargo test` holds). The first build
//! compiles compio and zeroring in debug (about a minute); later ones reuse it. A
//! file lock serializes the cases, whether they run as threads (`cargo test`) or as
//! processes (nextest).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

/// Second case: a builder argument passes through `#[zeroring::main]`, and
/// `#[zeroring::test]` makes a test.
const BUILDER_ARGS: &str = r#"
#[zeroring::main(event_interval = 8)]
async fn main() -> Result<(), zeroring::Error> {
    println!("{}", round_trip().await?);
    Ok(())
}

async fn round_trip() -> Result<String, zeroring::Error> {
    let pull = zeroring::PullSocket::new();
    let ep = pull.bind("tcp://127.0.0.1:0").await?;
    let push = zeroring::PushSocket::new();
    push.connect(&ep.to_string()).await?;
    push.send("through zeroring::main").await?;
    let m = pull.recv().await?;
    Ok(String::from_utf8_lossy(&m[0]).into_owned())
}

#[cfg(test)]
mod tests {
    #[zeroring::test]
    async fn round_trip_in_a_zeroring_test() {
        assert_eq!(super::round_trip().await.unwrap(), "through zeroring::main");
    }

    #[zeroring::test(event_interval = 8)]
    async fn test_takes_builder_arguments_too() {
        assert_eq!(super::round_trip().await.unwrap(), "through zeroring::main");
    }

    // A `with_proactor(..)` of the caller's replaces zeroring's settings.
    #[zeroring::test(with_proactor(capacity = 256))]
    async fn test_takes_its_own_proactor_settings() {
        assert_eq!(super::round_trip().await.unwrap(), "through zeroring::main");
    }
}
"#;

/// An argument that is no `RuntimeBuilder` method: it must reach compio (and fail
/// there), not be dropped on the way.
const UNKNOWN_ARG: &str = r#"
#[zeroring::main(no_such_builder_method = 1)]
async fn main() {}
"#;

/// The scratch crate's directory, locked for the caller's exclusive use; the lock
/// is released when the returned file is dropped.
fn scratch_crate() -> (PathBuf, File) {
    let base = Path::new(REPO).join("target/readme-quickstart");
    let dir = base.join("crate");
    fs::create_dir_all(dir.join("src/bin")).unwrap();
    let lock = File::create(base.join(".lock")).unwrap();
    lock.lock().unwrap();

    let manifest = format!(
        "[package]\n\
         name = \"readme-quickstart\"\n\
         version = \"0.0.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [workspace]\n\
         \n\
         [dependencies]\n\
         zeroring = {{ path = {REPO:?} }}\n"
    );
    write_if_changed(&dir.join("Cargo.toml"), &manifest);
    write_if_changed(&dir.join("src/main.rs"), &readme_first_rust_block());
    write_if_changed(&dir.join("src/bin/builder_args.rs"), BUILDER_ARGS);
    write_if_changed(&dir.join("src/bin/unknown_arg.rs"), UNKNOWN_ARG);
    for (i, block) in readme_section_rust_blocks("## Security").iter().enumerate() {
        write_if_changed(&dir.join(format!("src/bin/security_{i}.rs")), block);
    }
    // The repo's lock, every time: cargo prunes the copy to this crate's needs.
    fs::copy(Path::new(REPO).join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    (dir, lock)
}

/// Leaves an unchanged file alone, so its mtime does not force a rebuild.
fn write_if_changed(path: &Path, contents: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(contents) {
        fs::write(path, contents).unwrap();
    }
}

/// The first ```rust block of README.md, verbatim.
fn readme_first_rust_block() -> String {
    let readme = fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    let mut lines = readme.lines().skip_while(|l| l.trim_end() != "```rust");
    assert!(lines.next().is_some(), "README.md has no ```rust block");
    let mut code = String::new();
    for line in lines {
        if line.trim_end() == "```" {
            return code;
        }
        code.push_str(line);
        code.push('\n');
    }
    panic!("README.md's first ```rust block is not closed");
}

/// Every ```rust block of the README section that starts with `heading` (up to
/// the next `## ` heading), verbatim.
fn readme_section_rust_blocks(heading: &str) -> Vec<String> {
    let readme = fs::read_to_string(Path::new(REPO).join("README.md")).unwrap();
    let mut lines = readme.lines().skip_while(|l| l.trim_end() != heading);
    assert!(
        lines.next().is_some(),
        "README.md has no {heading:?} section"
    );
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in lines {
        match &mut current {
            None if line.starts_with("## ") => break,
            None if line.trim_end() == "```rust" => current = Some(String::new()),
            None => {}
            Some(code) if line.trim_end() == "```" => {
                blocks.push(std::mem::take(code));
                current = None;
            }
            Some(code) => {
                code.push_str(line);
                code.push('\n');
            }
        }
    }
    assert!(
        current.is_none(),
        "a ```rust block of {heading:?} is not closed"
    );
    blocks
}

fn cargo(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .args(args)
        .args(["--offline", "--quiet"])
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(REPO).join("target/readme-quickstart/target"),
        )
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_MANIFEST_PATH")
        .output()
        .expect("run cargo")
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn readme_quickstart_runs_in_a_crate_that_depends_only_on_zeroring() {
    let (dir, _lock) = scratch_crate();
    let out = cargo(&dir, &["run", "--bin", "readme-quickstart"]);
    assert_success("`cargo run` of README.md's quickstart", &out);
}

#[test]
fn zeroring_main_and_test_pass_arguments_through() {
    let (dir, _lock) = scratch_crate();

    let out = cargo(&dir, &["test", "--bin", "builder_args"]);
    assert_success("`cargo test` of #[zeroring::test]", &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("test result: ok. 3 passed"),
        "expected all three #[zeroring::test] tests to run:\n{stdout}"
    );

    let out = cargo(&dir, &["run", "--bin", "builder_args"]);
    assert_success("`cargo run` of #[zeroring::main(event_interval = 8)]", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "through zeroring::main\n"
    );

    let out = cargo(&dir, &["build", "--bin", "unknown_arg"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("no_such_builder_method"),
        "an unknown argument to #[zeroring::main] should reach compio's RuntimeBuilder \
         and fail to compile there:\n{stderr}"
    );
}

#[test]
fn readme_security_examples_run() {
    let (dir, _lock) = scratch_crate();
    let blocks = readme_section_rust_blocks("## Security");
    assert!(
        blocks.len() >= 2,
        "the Security section shows a CURVE and a ZAP example"
    );
    for i in 0..blocks.len() {
        let bin = format!("security_{i}");
        let out = cargo(&dir, &["run", "--bin", &bin]);
        assert_success(
            &format!("`cargo run` of README.md's Security example {i}"),
            &out,
        );
    }
}
