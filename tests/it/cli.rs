//! The command line as a whole: help (exit codes, environment, every format flag, no
//! token shown), completions and the man page, and colour when asked for.

use std::process::Command;

use crate::support::{Kind, Setup, portalctl, stderr, stdout};

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
