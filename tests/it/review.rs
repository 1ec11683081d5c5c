//! Reviewing access changes from git alone: `diff --base`, `explain`, and commits on apply
//! (`history`, `--require-clean`), with real git repositories in temp dirs.

use std::path::Path;

use crate::reconcile::{CONFIG, Kind, Setup};

/// Stages everything under `dir` and commits it; returns the commit id.
fn commit_all(dir: &Path, message: &str) -> String {
    let repo = git2::Repository::open(dir).unwrap_or_else(|_| git2::Repository::init(dir).unwrap());
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.update_all(["*"].iter(), None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let signature = git2::Signature::now("Rita Reviewer", "rita@acme.io").unwrap();
    let parents: Vec<git2::Commit> = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .into_iter()
        .collect();
    let parents: Vec<&git2::Commit> = parents.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)
        .unwrap()
        .to_string()
}

/// A repository whose `config/` holds CONFIG, committed once.
fn repo() -> Setup {
    let setup = Setup::new(Kind::Sqlite);
    std::fs::write(setup.dir.path().join(".gitignore"), "*.db\n*.db-*\n*.json\n").unwrap();
    commit_all(setup.dir.path(), "initial access");
    setup
}

#[test]
fn diff_reports_a_group_member_gaining_each_shared_folder() {
    let setup = repo();
    setup.write_config(&CONFIG.replace(
        "members: [alice@globex.com]",
        "members: [alice@globex.com, bob@globex.com]",
    ));
    commit_all(setup.dir.path(), "bob joins finance");
    let (out, _) = setup.expect(&["diff", "--base", "HEAD~1", "--head", "HEAD", "config"], 2);
    assert!(out.contains("~ group finance"), "{out}");
    assert!(out.contains("+ \"bob@globex.com\""), "{out}");
    // The working tree equals HEAD: no difference.
    let (out, _) = setup.expect(&["diff", "--base", "HEAD", "config"], 0);
    assert!(out.contains("No changes."), "{out}");
    for format in ["json", "markdown"] {
        let (out, _) = setup.expect(
            &[
                "diff", "--base", "HEAD~1", "--head", "HEAD", "config", "--format", format,
            ],
            2,
        );
        assert!(out.contains("bob@globex.com"), "{format}: {out}");
    }
}

#[test]
fn diff_against_the_working_tree_and_invalid_revisions() {
    let setup = repo();
    setup.write_config(&CONFIG.replace(
        "      - email: bob@globex.com\n        role: editor\n        org: globex\n",
        "",
    ));
    let (out, _) = setup.expect(&["diff", "--base", "HEAD", "config"], 2);
    assert!(out.contains("- member bob@globex.com in portal globex"), "{out}");
    let (_, err) = setup.expect(&["diff", "--base", "no-such-rev", "config"], 1);
    assert!(err.contains("revision `no-such-rev` not found"), "{err}");
    setup.write_config(&CONFIG.replace("role: viewer", "role: viwer"));
    commit_all(setup.dir.path(), "a typo");
    let (_, err) = setup.expect(&["diff", "--base", "HEAD~1", "--head", "HEAD", "config"], 1);
    assert!(err.contains("the config at `HEAD` is invalid"), "{err}");
    assert!(err.contains("HEAD:portalctl.yaml:"), "{err}");
}

#[test]
fn explain_shows_every_path_that_grants_access() {
    let setup = repo();
    let config = CONFIG.replace(
        "  /Partners/Enablement:\n",
        "  /Partners/Finance/Q3:\n    description: inherits\n  /Partners/Board:\n    shares:\n      - user: alice@globex.com\n        access: edit\n  /Partners/Enablement:\n",
    );
    setup.write_config(&config);
    let (out, _) = setup.expect(&["explain", "Alice@Globex.com", "config"], 0);
    assert!(out.contains("alice@globex.com (config at config)"), "{out}");
    assert!(out.contains("portal globex: role viewer"), "{out}");
    assert!(out.contains("groups: finance"), "{out}");
    assert!(
        out.contains("contract_ref=(sensitive)") && out.contains("tenant_id=t-1"),
        "{out}"
    );
    assert!(
        out.contains("edit  /Partners/Board\n      edit via user share"),
        "{out}"
    );
    assert!(
        out.contains("view  /Partners/Enablement\n      view via portal globex"),
        "{out}"
    );
    assert!(
        out.contains("view  /Partners/Finance\n      view via group finance"),
        "{out}"
    );
    assert!(
        out.contains(
            "view  /Partners/Finance/Q3\n      view via group finance (shared on /Partners/Finance)"
        ),
        "{out}"
    );
    let (json, _) = setup.expect(&["explain", "alice@globex.com", "config", "--format", "json"], 0);
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["folders"].as_array().unwrap().len(), 4);
    let (_, err) = setup.expect(&["explain", "nobody@globex.com", "config"], 1);
    assert!(
        err.contains("`nobody@globex.com` is not a partner in the config at config"),
        "{err}"
    );
    // --live asks the target.
    setup.expect(&["explain", "alice@globex.com", "--live"], 1);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let (out, _) = setup.expect(&["explain", "alice@globex.com", "--live"], 0);
    assert!(
        out.contains("live on sqlite:") && out.contains("view via group finance"),
        "{out}"
    );
}

#[test]
fn apply_records_the_commit_and_history_shows_it() {
    let setup = repo();
    let head = git2::Repository::open(setup.dir.path())
        .unwrap()
        .head()
        .unwrap()
        .peel_to_commit()
        .unwrap()
        .id()
        .to_string();
    setup.expect(&["apply", "config", "--auto-approve", "--require-clean"], 0);
    let (out, _) = setup.expect(&["history"], 0);
    assert!(out.contains("revision 1  "), "{out}");
    assert!(out.contains(&format!("commit {}", &head[..12])), "{out}");
    assert!(out.contains("author Rita Reviewer <rita@acme.io>"), "{out}");
    let (json, _) = setup.expect(&["history", "--format", "json"], 0);
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["entries"][0]["meta"]["commit"], head);
    assert_eq!(document["entries"][0]["meta"]["dirty"], false);
    // A dirty tree is refused with --require-clean, and recorded as dirty without it.
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Partners\n"));
    let (_, err) = setup.expect(&["apply", "config", "--auto-approve", "--require-clean"], 1);
    assert!(
        err.contains("uncommitted changes") && err.contains("--require-clean"),
        "{err}"
    );
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let (out, _) = setup.expect(&["history", "--limit", "1"], 0);
    assert!(
        out.contains("revision 2") && out.contains("(dirty tree)") && !out.contains("revision 1"),
        "{out}"
    );
}
