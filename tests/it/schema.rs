//! `portalctl schema` and the checked-in schema file.

use crate::support::{portalctl, stdout};

#[test]
fn checked_in_schema_is_current() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let printed = stdout(&output);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/portalctl.schema.json");
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(path, &printed).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == printed,
        "schemas/portalctl.schema.json is stale: run `UPDATE_SCHEMAS=1 cargo test --test it schema` to regenerate"
    );
}

#[test]
fn examples_point_editors_at_the_schema() {
    for entry in walk(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")) {
        if entry.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&entry).unwrap();
            assert!(
                text.starts_with("# yaml-language-server: $schema="),
                "{} should begin with the yaml-language-server comment",
                entry.display()
            );
        }
    }
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![std::path::PathBuf::from(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// `schema` prints a JSON Schema, and `schema --output NAME` one for each JSON output.
#[test]
fn schema_prints_the_config_schema_and_each_output_schema() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["schema"][..],
        &["schema", "--output", "plan"],
        &["schema", "--output", "drift"],
        &["schema", "--output", "report"],
    ] {
        let output = portalctl(dir.path(), args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert!(schema["$schema"].is_string(), "{args:?}: {schema}");
    }
}
