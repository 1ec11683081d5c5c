//! The command line as a newcomer meets it: help, completions, man page, error messages
//! for common mistakes, webhook failures, and the 10k-partner PR comment's size.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::reconcile::{CONFIG, Kind, Setup};
use crate::support::{portalctl, stderr, stdout};

#[test]
fn help_lists_exit_codes_and_environment_variables() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["--help"]);
    let out = stdout(&output);
    for needle in [
        "Exit codes:",
        "PORTALCTL_TARGET",
        "PORTALCTL_TOKEN",
        "PORTALCTL_DB",
        "PORTALCTL_TODAY",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR_FORCE",
        "RUST_LOG",
        "completions",
    ] {
        assert!(out.contains(needle), "`--help` lacks {needle}:\n{out}");
    }
    for command in ["plan", "drift"] {
        let out = stdout(&portalctl(dir.path(), &[command, "--help"]));
        assert!(
            out.contains("Exit codes:") && out.contains("PORTALCTL_TODAY"),
            "{command}:\n{out}"
        );
    }
}

#[test]
fn every_format_flag_has_a_help_line_and_no_internal_type_names() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["validate", "plan", "drift", "diff", "explain", "history"] {
        let output = portalctl(dir.path(), &[command, "--help"]);
        let out = stdout(&output);
        let line = out
            .lines()
            .find(|line| line.trim_start().starts_with("--format"))
            .unwrap_or_else(|| panic!("`{command} --help` has no --format:\n{out}"));
        let index = out.find(line).unwrap();
        // clap puts the help text on the flag's line or on the next one.
        let next = out[index + line.len()..].lines().nth(1).unwrap_or("");
        assert!(
            line.split("  ").filter(|part| !part.trim().is_empty()).count() > 1
                || !next.trim().starts_with('['),
            "`{command} --format` has no help line:\n{out}"
        );
        assert!(!out.contains("DiagnosticsReport"), "{out}");
    }
}

#[test]
fn the_token_value_from_the_environment_is_never_shown_in_help() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["plan", "--help"])
        .current_dir(dir.path())
        .env("PORTALCTL_TOKEN", "SECRET-TOKEN-VALUE")
        .output()
        .unwrap();
    assert!(!stdout(&output).contains("SECRET-TOKEN-VALUE"));
}

#[test]
fn completions_and_man_page_are_generated() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let output = portalctl(dir.path(), &["completions", shell]);
        assert_eq!(output.status.code(), Some(0), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        assert!(
            script.contains("portalctl") && script.contains("drift"),
            "{shell}"
        );
    }
    let output = portalctl(dir.path(), &["man"]);
    assert_eq!(output.status.code(), Some(0));
    let page = stdout(&output);
    assert!(
        page.starts_with(".ie") || page.contains(".TH portalctl"),
        "{page}"
    );
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
fn an_empty_directory_says_there_are_no_yaml_files() {
    let setup = Setup::new(Kind::Sqlite);
    std::fs::create_dir_all(setup.path("empty")).unwrap();
    let (_, err) = setup.expect(&["validate", "empty"], 1);
    assert!(err.contains("no YAML files under `empty`"), "{err}");
}

#[test]
fn a_sqlite_target_in_a_missing_directory_is_one_clear_line() {
    let setup = Setup::new(Kind::Sqlite);
    let (_, err) = setup.expect(&["plan", "config", "--target", "sqlite:nowhere/live.db"], 1);
    assert!(err.contains("the directory `nowhere` does not exist"), "{err}");
    assert_eq!(err.matches("unable to open").count(), 0, "{err}");
}

#[test]
fn a_refused_apply_leaves_no_empty_database() {
    let setup = Setup::new(Kind::Sqlite);
    // stdin is not a terminal and there is no `--auto-approve`: refused.
    setup.expect(&["apply", "config"], 1);
    assert!(
        !setup.path("live.db").exists(),
        "the refused apply created the store"
    );
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert!(setup.path("live.db").exists());
}

#[test]
fn redaction_placeholders_are_refused_at_their_line() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["import", "--out", "redacted", "--redact-sensitive"], 0);
    let (_, err) = setup.expect(&["validate", "redacted"], 1);
    assert!(err.contains("FILL-IN-SENSITIVE-VALUE"), "{err}");
    assert!(err.contains("redacted/"), "the file is named: {err}");
    let (_, err) = setup.expect(&["plan", "redacted"], 1);
    assert!(err.contains("placeholder"), "{err}");
}

#[test]
fn apply_prints_a_summary_when_not_on_a_terminal_and_everything_with_show_full() {
    let setup = Setup::new(Kind::Sqlite);
    let (_, summary) = setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert!(summary.contains("Access impact:"), "{summary}");
    assert!(summary.contains("to add"), "{summary}");
    assert!(
        !summary.contains("portalctl will make these changes"),
        "{summary}"
    );
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let (_, full) = setup.expect(&["apply", "config", "--auto-approve", "--show", "full"], 0);
    assert!(full.contains("portalctl will make these changes"), "{full}");
}

#[test]
fn history_shows_creates_as_plus() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let (out, _) = setup.expect(&["history"], 0);
    let newest = out.find("revision 2").expect("revision 2");
    let oldest = out.find("revision 1").expect("revision 1");
    assert!(out[oldest..].contains("portal +1"), "{out}");
    assert!(out[newest..oldest].contains("portal ~1"), "{out}");
}

#[test]
fn a_failed_notice_after_drift_says_both_exits_1_and_hides_the_url() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let url = "http://127.0.0.1:1/services/T000/B000/SECRETPART?key=SECRETQUERY";
    let (out, err) = setup.expect(&["drift", "config", "--notify", url], 1);
    assert!(
        out.contains("Drift: 1 difference"),
        "the report is still printed: {out}"
    );
    assert!(
        err.contains("drift was found") && err.contains("notice failed"),
        "{err}"
    );
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(
        !err.contains("SECRETPART") && !err.contains("SECRETQUERY"),
        "{err}"
    );
}

#[test]
fn drift_timestamps_have_whole_seconds() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let (json, _) = setup.expect(&["drift", "config", "--format", "json"], 2);
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    let time = document["items"][0]["last_write"]["time"]
        .as_str()
        .expect("a time");
    assert!(!time.contains('.'), "{time}");
    assert_eq!(document["summary"]["differences"], 1);
    assert_eq!(document["items"][0]["fields"][0]["type"], "value");
}

#[test]
fn force_color_colours_output_that_is_not_a_terminal() {
    let setup = Setup::new(Kind::Sqlite);
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["validate", "nothing-here.yaml"])
        .current_dir(setup.dir.path())
        .env_remove("NO_COLOR")
        .env("FORCE_COLOR", "1")
        .output()
        .unwrap();
    assert!(stderr(&output).contains("\x1b["), "{}", stderr(&output));
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["validate", "nothing-here.yaml"])
        .current_dir(setup.dir.path())
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stderr(&output).contains("\x1b["), "NO_COLOR wins");
}

#[test]
fn a_markdown_comment_for_10k_partners_fits_a_github_comment() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let shape = portalctl_testdata::Shape {
        partners: 10_000,
        seed: 7,
        dashboards: 0,
        layout: portalctl_testdata::Layout::Classic,
    };
    for (relative, text) in portalctl_testdata::generate(shape) {
        let path = config.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args([
            "plan",
            "config",
            "--format",
            "markdown",
            "--target",
            "sqlite:live.db",
        ])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TODAY", "2026-11-26")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let markdown = stdout(&output);
    assert!(markdown.len() < 65_536, "{} characters", markdown.chars().count());
    assert!(
        markdown.contains("Access impact") || markdown.contains("access"),
        "{}",
        &markdown[..500.min(markdown.len())]
    );
}
