//! `portalctl plan`: snapshots of its text and markdown on the shipped examples, first
//! against an empty target, then after an apply and an edit of every kind (a member added,
//! one changed, one removed, a share removed).

use std::process::Command;

use crate::assurance::{assured_setup, changed};
use crate::support::{acme_behind_live, example, stderr, stdout, transcript};

const TARGET: &str = "sqlite:live.db";

#[test]
fn plans_the_acme_example_in_text_and_markdown() {
    let dir = example("acme");
    for format in ["text", "markdown"] {
        insta::assert_snapshot!(
            format!("acme_{format}"),
            transcript(
                dir.path(),
                &[&["plan", "config", "--target", TARGET, "--format", format]]
            )
        );
    }
}

#[test]
fn plans_the_quickstart_example() {
    let dir = example("quickstart");
    insta::assert_snapshot!(
        "quickstart_text",
        transcript(dir.path(), &[&["plan", "config", "--target", TARGET]])
    );
}

#[test]
fn plans_additions_changes_and_removals_in_text_and_markdown() {
    let dir = acme_behind_live();
    for format in ["text", "markdown"] {
        insta::assert_snapshot!(
            format!("edited_{format}"),
            transcript(
                dir.path(),
                &[&["plan", "config", "--target", TARGET, "--format", format]]
            )
        );
    }
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

#[test]
fn the_markdown_plan_names_the_owners_whose_approval_it_needs() {
    let setup = assured_setup();
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&changed(
        "  finance:\n    members: [alice@globex.com]",
        "  finance:\n    members: [alice@globex.com, ana@contoso.com]",
    ));
    let (out, _) = setup.expect(&["plan", "config", "--format", "markdown"], 2);
    let section = out.find("### Approvals needed").expect(&out);
    assert!(section > out.find("### Access impact").unwrap(), "{out}");
    assert!(
        out.contains("| fred@acme.io | folder /Partners/Finance |"),
        "the folder's owner approves a group change that reaches it:\n{out}"
    );
    assert!(!out.contains("olga@acme.io"), "nothing of Olga's changes:\n{out}");
    // A member change needs its portal's and its org's owners.
    setup.write_config(&changed(
        "      - email: alice@globex.com\n        role: viewer",
        "      - email: alice@globex.com\n        role: editor",
    ));
    let (out, _) = setup.expect(&["plan", "config", "--format", "markdown"], 2);
    assert!(out.contains("| @acme/partner-ops | portal partners |"), "{out}");
    assert!(out.contains("| gina@acme.io | partner org globex |"), "{out}");
}
