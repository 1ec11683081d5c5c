//! The config schema is as strict as `validate` within one file: a third-party validator
//! (check-jsonschema, from PyPI) flags every single-file mistake in
//! `tests/data/schema-mistakes/`, and so does `portalctl validate`; and everything
//! `validate` accepts (the examples, generated configs) passes the schema.
//!
//! Each mistake file starts with `# mistake: …` (what is wrong) and `# validate says: …`
//! (a fragment of `validate`'s message). Without check-jsonschema on `PATH` the third-party
//! half prints "skipped" unless `PORTALCTL_REQUIRE_TOOLS=1` (set by `.ci/run`, which
//! installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::stderr;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn schema_file() -> PathBuf {
    Path::new(ROOT).join("schemas/portalctl.schema.json")
}

/// The mistake files with their `# validate says:` fragment.
fn mistakes() -> Vec<(PathBuf, String)> {
    let dir = Path::new(ROOT).join("tests/data/schema-mistakes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.lines().any(|line| line.starts_with("# mistake: ")),
                "{} needs a `# mistake:` line",
                path.display()
            );
            let says = text
                .lines()
                .find_map(|line| line.strip_prefix("# validate says: "))
                .unwrap_or_else(|| panic!("{} needs a `# validate says:` line", path.display()))
                .to_string();
            (path, says)
        })
        .collect()
}

/// `check-jsonschema` when it can run, or `None` after printing why the test skips.
fn check_jsonschema() -> Option<&'static str> {
    let found = Command::new("check-jsonschema")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("check-jsonschema");
    }
    assert!(
        std::env::var("PORTALCTL_REQUIRE_TOOLS").as_deref() != Ok("1"),
        "check-jsonschema is not on PATH and PORTALCTL_REQUIRE_TOOLS=1"
    );
    println!("skipped: install check-jsonschema (.ci/run does)");
    None
}

fn run_check_jsonschema(tool: &str, files: &[&Path]) -> std::process::Output {
    Command::new(tool)
        .arg("--schemafile")
        .arg(schema_file())
        .args(files)
        .output()
        .expect("check-jsonschema runs")
}

#[test]
fn the_corpus_holds_the_nine_known_mistakes() {
    // The mistakes the issue listed: an editor missed all of them.
    let names: Vec<String> = mistakes()
        .iter()
        .map(|(path, _)| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for wanted in [
        "color-not-hex",
        "logout-url-http",
        "session-ttl-empty",
        "email-invalid",
        "portal-key-not-dns-label",
        "folder-key-relative",
        "share-two-principals",
        "member-entry-empty",
        "permission-unknown",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "tests/data/schema-mistakes/{wanted}.yaml is missing"
        );
    }
}

#[test]
fn check_jsonschema_flags_every_mistake() {
    let Some(tool) = check_jsonschema() else { return };
    for (path, _) in mistakes() {
        let output = run_check_jsonschema(tool, &[&path]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "check-jsonschema did not flag {}:\n{}{}",
            path.display(),
            String::from_utf8_lossy(&output.stdout),
            stderr(&output)
        );
    }
}

#[test]
fn validate_flags_every_mistake_with_its_rule_message() {
    for (path, says) in mistakes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&path, dir.path().join("portalctl.yaml")).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_portalctl"))
            .args(["validate", "."])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env("PORTALCTL_TODAY", "2026-11-26")
            .output()
            .unwrap();
        let printed = stderr(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "validate accepted {}:\n{printed}",
            path.display()
        );
        assert!(
            printed.contains(&says),
            "validate on {} should say `{says}`:\n{printed}",
            path.display()
        );
        assert!(
            !printed.contains("breaks the schema"),
            "validate on {} fell back to a raw schema message:\n{printed}",
            path.display()
        );
    }
}

/// Every YAML file under `dir`.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn check_jsonschema_accepts_the_examples() {
    let Some(tool) = check_jsonschema() else { return };
    let files = yaml_files(&Path::new(ROOT).join("examples"));
    assert!(!files.is_empty());
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let output = run_check_jsonschema(tool, &paths);
    assert_eq!(
        output.status.code(),
        Some(0),
        "check-jsonschema refused an example:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
}

/// The schema never refuses what `validate` accepts: the examples and generated configs
/// (which `validate` accepts, see the benchmarks and round-trip tests) all pass it.
#[test]
fn the_schema_accepts_every_example_and_generated_config() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_file()).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut documents: Vec<(String, String)> = yaml_files(&Path::new(ROOT).join("examples"))
        .into_iter()
        .map(|path| {
            (
                path.display().to_string(),
                std::fs::read_to_string(&path).unwrap(),
            )
        })
        .collect();
    for (partners, seed) in [(200, 1), (2_000, 7)] {
        let shape = portalctl_testdata::Shape {
            partners,
            seed,
            dashboards: 0,
            layout: portalctl_testdata::Layout::Classic,
        };
        for (name, text) in portalctl_testdata::generate(shape) {
            if name.ends_with(".yaml") {
                documents.push((format!("generated({partners}, {seed})/{name}"), text));
            }
        }
    }
    for (name, text) in documents {
        let value: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name} breaks the schema: {errors:#?}");
    }
}
