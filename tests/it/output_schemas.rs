//! The JSON Schemas of portalctl's JSON outputs (`schemas/output/`): checked in, current
//! (regenerate with `UPDATE_SCHEMAS=1 cargo test --test it output_schemas`), and matched
//! by what the real binary writes: plan, the saved plan, validate, drift, explain,
//! history, report and a closed review's evidence (checked in `assurance.rs` and
//! `review.rs`), each with a format version.

use std::path::Path;

use crate::support::{CONFIG, Kind, Setup, portalctl, stdout};

const DOCUMENTS: &[&str] = &[
    "plan",
    "plan-file",
    "validate",
    "drift",
    "explain",
    "history",
    "report",
    "review",
    "outbox",
    "token",
];

fn schema_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("schemas/output/{name}.schema.json"))
}

#[test]
fn checked_in_output_schemas_are_current() {
    let dir = tempfile::tempdir().unwrap();
    let mut stale = Vec::new();
    for name in DOCUMENTS {
        let output = portalctl(dir.path(), &["schema", "--output", name]);
        assert_eq!(output.status.code(), Some(0), "schema --output {name}");
        let printed = stdout(&output);
        let path = schema_path(name);
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &printed).unwrap();
        }
        if std::fs::read_to_string(&path).unwrap_or_default() != printed {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale output schemas {stale:?}: run `UPDATE_SCHEMAS=1 cargo test --test it output_schemas` to regenerate"
    );
}

/// Validates `json` (the stdout of `what`) against the checked-in schema `name`, and
/// checks it names its format version.
pub fn assert_matches(name: &str, what: &str, json: &str) -> serde_json::Value {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path(name)).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let document: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("`{what}` did not print JSON ({e}):\n{json}"));
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "`{what}` breaks schemas/output/{name}.schema.json: {errors:#?}\n{json}"
    );
    assert!(
        document["format_version"].is_u64(),
        "`{what}` has no format_version:\n{json}"
    );
    document
}

#[test]
fn real_outputs_match_their_schemas() {
    let setup = Setup::new(Kind::Sqlite);

    let (json, _) = setup.expect(&["validate", "config", "--format", "json"], 0);
    assert_matches("validate", "validate", &json);
    setup.write_config(&CONFIG.replace("role: viewer", "role: viwer"));
    let (json, _) = setup.expect(&["validate", "config", "--format", "json"], 1);
    let document = assert_matches("validate", "validate (invalid)", &json);
    assert_eq!(document["valid"], false);
    setup.write_config(CONFIG);

    let output = setup.run(&["plan", "config", "--format", "json"]);
    let document = assert_matches("plan", "plan", &stdout(&output));
    assert!(
        !document["changes"].as_array().unwrap().is_empty(),
        "a first plan creates everything"
    );

    let output = setup.run(&["plan", "config", "--out", "saved.plan"]);
    assert!(
        output.status.code().is_some_and(|c| c == 0 || c == 2),
        "{output:?}"
    );
    let saved = std::fs::read_to_string(setup.path("saved.plan")).unwrap();
    assert_matches("plan-file", "plan --out", &saved);

    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let (json, _) = setup.expect(&["drift", "config", "--format", "json"], 2);
    let document = assert_matches("drift", "drift", &json);
    assert_eq!(document["drift"], true);

    let (json, _) = setup.expect(&["explain", "alice@globex.com", "--live", "--format", "json"], 0);
    let document = assert_matches("explain", "explain", &json);
    assert_eq!(document["attributes"]["contract_ref"], "(sensitive)");

    let (json, _) = setup.expect(&["history", "--format", "json"], 0);
    let document = assert_matches("history", "history", &json);
    let time = document["entries"][0]["time"].as_str().expect("a time");
    assert!(
        !time.contains('.') && time.ends_with('Z'),
        "history times have whole seconds: {time}"
    );

    let (json, _) = setup.expect(&["outbox", "--format", "json"], 0);
    let document = assert_matches("outbox", "outbox", &json);
    assert!(document["messages"].is_array());
}
