//! How every command reaches its target, across commands: an unreachable or malformed
//! target, a missing or wrong token, a `sqlite:` path in a missing directory, and a burst
//! of 503 answers survived by retries; each a clear error within seconds.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{CONFIG, Kind, ServerOptions, Setup, acme_copy, portalctl, stderr};

#[test]
fn a_burst_of_503_is_survived_by_retries() {
    let options = ServerOptions {
        extra_args: vec!["--inject-503".into(), "3".into()],
        ..ServerOptions::with_admin()
    };
    let setup = Setup::with_server(Kind::Http, options);
    let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert!(err.contains("retrying in"), "{err}");
    assert!(err.contains("now at revision 1"), "{err}");
}

#[test]
fn a_wrong_token_fails_fast_with_the_servers_message() {
    let setup = Setup::new(Kind::Http);
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["plan", "config", "--target", &setup.target])
        .current_dir(setup.dir.path())
        .env("PORTALCTL_TOKEN", "wrong-token")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("refused the token"), "{err}");
    assert!(!err.contains("wrong-token"), "{err}");
}

#[test]
fn an_unreachable_target_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["plan", ".", "--target", "ftp://nowhere"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("is not a target"), "{}", stderr(&output));
}

#[test]
fn an_unreachable_target_fails_within_seconds() {
    let setup = Setup::new(Kind::Sqlite);
    let started = Instant::now();
    let (_, err) = setup.expect(&["plan", "config", "--target", "http://127.0.0.1:1"], 1);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(err.contains("cannot connect"), "{err}");
    assert!(
        err.lines().filter(|line| line.starts_with("retrying")).count() < 10,
        "{err}"
    );
}

#[test]
fn a_missing_token_names_the_ways_to_give_one() {
    let setup = Setup::new(Kind::Http);
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["plan", "config", "--target", &setup.target])
        .current_dir(setup.dir.path())
        .env_remove("PORTALCTL_TOKEN")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("PORTALCTL_TOKEN") && err.contains("--token-file"),
        "{err}"
    );
}

#[test]
fn a_sqlite_target_in_a_missing_directory_is_one_clear_line() {
    let setup = Setup::new(Kind::Sqlite);
    let (_, err) = setup.expect(&["plan", "config", "--target", "sqlite:nowhere/live.db"], 1);
    assert!(err.contains("the directory `nowhere` does not exist"), "{err}");
    assert_eq!(err.matches("unable to open").count(), 0, "{err}");
}

#[test]
fn an_unreachable_target_hints_at_starting_serve() {
    let dir = acme_copy();
    let output = portalctl(
        dir.path(),
        &["plan", ".", "--target", "http://127.0.0.1:1", "--retry-for", "0s"],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("hint: is `portalctl serve` running at http://127.0.0.1:1?"),
        "{err}"
    );
}
