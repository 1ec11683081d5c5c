//! `portalctl import`: a snapshot of what it says and of the files it writes from the
//! shipped example applied to `sqlite:live.db`, and the plan on them that finds nothing to do.

use std::path::Path;

use crate::outputs::{apply_to_live, example, transcript};

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
