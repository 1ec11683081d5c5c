//! `portalctl rules [NAME]`: the list, one rule explained, the JSON list, an unknown name,
//! and `docs/rules.md` generated from the table (regenerate with
//! `portalctl rules --format markdown > docs/rules.md`, or `UPDATE_DOCS=1 cargo test
//! --test it rules::`). That `validate` names the rules is in `validate.rs`.

use std::path::Path;

use crate::support::{portalctl, stderr, stdout};

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
