//! `portalctl rules [NAME]` and the rule names every diagnostic carries: in `validate`'s
//! text, JSON and GitHub outputs, the list, one rule explained, and `docs/rules.md`
//! generated from the table (regenerate with
//! `portalctl rules --format markdown > docs/rules.md`, or `UPDATE_DOCS=1 cargo test
//! --test it rules::`).

use std::path::Path;

use crate::support::{portalctl, stderr, stdout};

/// Three different mistakes: a colour, an unknown role, a portal over its seat limit.
const BROKEN: &str = "\
workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: blue
    logout_url: https://acme.io/bye
    max_members: 1
    members:
      - {email: alice@globex.com, role: viewer}
      - {email: bob@globex.com, role: viwer}
";

fn broken_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), BROKEN).unwrap();
    dir
}

#[test]
fn validate_names_the_rule_of_each_of_three_mistakes_in_text() {
    let dir = broken_dir();
    let output = portalctl(dir.path(), &["validate", "."]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    for expected in [
        "error[portal-color]: `blue` is not a colour",
        "error[seat-limit]: portal `globex` allows 1 member(s)",
        "error[unknown-role]: unknown role `viwer`",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
    assert!(text.contains("is invalid: 3 errors"), "{text}");
}

#[test]
fn validate_names_the_rules_in_json_and_github_annotations() {
    let dir = broken_dir();
    let output = portalctl(dir.path(), &["validate", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rules: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| {
            diagnostic["rule"]
                .as_str()
                .expect("every diagnostic names its rule")
        })
        .collect();
    assert_eq!(rules, ["portal-color", "seat-limit", "unknown-role"]);

    let output = portalctl(dir.path(), &["validate", ".", "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let annotations = stdout(&output);
    let titles: Vec<&str> = annotations
        .lines()
        .map(|line| {
            let properties = line.split("::").nth(1).unwrap();
            properties
                .split(',')
                .find_map(|property| property.strip_prefix("title="))
                .unwrap_or_else(|| panic!("no title in {line}"))
        })
        .collect();
    assert_eq!(
        titles,
        ["portal-color", "seat-limit", "unknown-role"],
        "{annotations}"
    );
}

#[test]
fn loader_problems_are_named_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "workspace: {name: Acme\n").unwrap();
    let output = portalctl(dir.path(), &["validate", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["diagnostics"][0]["rule"], "yaml-syntax", "{report}");
}

#[test]
fn rules_seat_limit_prints_its_summary_and_example() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["rules", "seat-limit"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("seat-limit: a portal has at most `max_members` members\n"),
        "{text}"
    );
    assert!(text.contains("    max_members: 1\n"), "the example: {text}");
    assert!(
        text.contains("error[seat-limit]: portal `globex` allows 1 member(s)"),
        "what validate says on the example: {text}"
    );
}

#[test]
fn an_unknown_rule_exits_1_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["rules", "seat-limt"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("no rule is named `seat-limt`"), "{text}");
    assert!(text.contains("did you mean `seat-limit`?"), "{text}");
    assert!(stdout(&output).is_empty());
}

#[test]
fn the_json_list_has_every_rule_with_its_example() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["rules", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    let document: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(document["format_version"], 1);
    let rules = document["rules"].as_array().unwrap();
    assert!(rules.len() > 50, "{}", rules.len());
    let csv = rules.iter().find(|rule| rule["name"] == "csv-shape").unwrap();
    assert_eq!(csv["judged"], "load");
    assert_eq!(csv["example"][1]["file"], "partners.csv");
}

#[test]
fn the_rule_list_is_as_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["rules"]);
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!("rules_list", stdout(&output));
}

#[test]
fn docs_rules_md_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["rules", "--format", "markdown"]);
    assert_eq!(output.status.code(), Some(0));
    let printed = stdout(&output);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &printed).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == printed,
        "docs/rules.md is stale: run `portalctl rules --format markdown > docs/rules.md` \
         (or `UPDATE_DOCS=1 cargo test --test it rules::`) to regenerate"
    );
}

#[test]
fn rules_seat_limit_is_as_reviewed() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["rules", "seat-limit"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    insta::assert_snapshot!("rules_seat_limit", stdout(&output));
}
