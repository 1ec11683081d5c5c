//! `portalctl import`: a snapshot of what it says and of the files it writes from the
//! shipped example applied to `sqlite:live.db`, and the plan on them that finds nothing to
//! do, on both targets, with no secret in the files.

use std::path::Path;

use crate::access_model::dashboard_config;
use crate::support::{CONFIG, Kind, SECRET, Setup, apply_to_live, both, example, transcript};

/// Every file below `dir`, sorted, each under a `== PATH` line.
fn files(dir: &Path) -> String {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths);
    paths.sort();
    let mut text = String::new();
    for path in paths {
        let name = path.strip_prefix(dir).unwrap().display().to_string();
        // The schema is the one `schema` prints, checked by its own test.
        let body = if name.ends_with(".schema.json") {
            "(the config schema)\n".to_string()
        } else {
            std::fs::read_to_string(&path).unwrap()
        };
        text.push_str(&format!("== {name}\n{body}"));
    }
    text
}

#[test]
fn imports_the_acme_example_into_files_that_plan_as_no_change() {
    let dir = example("acme");
    apply_to_live(dir.path());
    insta::assert_snapshot!(
        "acme",
        transcript(
            dir.path(),
            &[
                &["import", "--target", "sqlite:live.db", "--out", "imported"],
                &["plan", "imported", "--target", "sqlite:live.db"],
            ]
        )
    );
    insta::assert_snapshot!("acme_files", files(&dir.path().join("imported")));
}

#[test]
fn import_round_trips_to_a_no_op_plan() {
    both(|kind| {
        let setup = Setup::new(kind);
        let mut members = String::new();
        for i in 0..60 {
            members.push_str(&format!("      - email: p{i}@globex.com\n        role: viewer\n        attributes: {{ contract_ref: K-SECRET-9931 }}\n"));
        }
        let config = CONFIG.replace("    members:\n", &format!("    members:\n{members}"));
        setup.write_config(&config);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        let (_, err) = setup.expect(&["import", "--out", "imported"], 0);
        assert!(err.contains("hold sensitive attribute values"), "{err}");
        assert!(
            setup.path("imported/rosters/globex.csv").exists(),
            "a 62-member portal gets a CSV roster"
        );
        setup.expect(&["validate", "imported"], 0);
        let (out, _) = setup.expect(&["plan", "imported"], 0);
        assert!(out.contains("No changes."), "{out}");
        // A second import into the same directory is refused.
        setup.expect(&["import", "--out", "imported"], 1);
        let (_, err) = setup.expect(&["import", "--out", "redacted", "--redact-sensitive"], 0);
        assert!(err.contains("fill them in"), "{err}");
        let roster = std::fs::read_to_string(setup.path("redacted/rosters/globex.csv")).unwrap();
        assert!(
            !roster.contains(SECRET) && roster.contains("FILL-IN-SENSITIVE-VALUE"),
            "{roster}"
        );
    });
}

#[test]
fn import_writes_dashboards_back_with_their_shares() {
    let setup = Setup::new(Kind::Http);
    setup.write_config(&dashboard_config());
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let (_, err) = setup.expect(&["import", "--out", "imported"], 0);
    assert!(err.contains("1 dashboard"), "{err}");
    // Regression (issue 21): "1 dashboards", "1 portals".
    assert!(
        err.contains("1 portal, ") && !err.contains("1 dashboards"),
        "{err}"
    );
    let dashboards = std::fs::read_to_string(setup.path("imported/dashboards.yaml")).unwrap();
    assert!(
        dashboards.contains("/Partners/Finance/Q3 Revenue:") && dashboards.contains("user: bob@globex.com"),
        "{dashboards}"
    );
    let folders = std::fs::read_to_string(setup.path("imported/folders.yaml")).unwrap();
    assert!(!folders.contains("bob@globex.com"), "{folders}");
    setup.expect(&["validate", "imported"], 0);
    let (out, _) = setup.expect(&["plan", "imported"], 0);
    assert!(out.contains("No changes."), "{out}");
}
