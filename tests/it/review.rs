//! Reviewing access changes from git alone: `diff --base`, `explain`, and commits on apply
//! (`history`, `--require-clean`), with real git repositories in temp dirs.

use std::path::Path;

use crate::reconcile::{CONFIG, Kind, Setup};

/// Stages everything under `dir` and commits it; returns the commit id.
pub fn commit_all(dir: &Path, message: &str) -> String {
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
    // alice is a viewer: her edit share is capped, and she may only read.
    assert!(
        out.contains(
            "view  /Partners/Board\n      permissions: reports.view\n      view via user share (shared as edit, capped by role viewer)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "view  /Partners/Enablement\n      permissions: reports.view\n      view via portal globex"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "view  /Partners/Finance\n      permissions: reports.view\n      view via group finance"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "view  /Partners/Finance/Q3\n      permissions: reports.view\n      view via group finance (shared on /Partners/Finance)"
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

/// Commits CONFIG changed by `edit` on top of `repo()` and returns the diff output.
fn diff_after(edit: impl Fn(&str) -> String, format: &str) -> String {
    let setup = repo();
    setup.write_config(&edit(CONFIG));
    commit_all(setup.dir.path(), "the change under review");
    let (out, _) = setup.expect(
        &[
            "diff", "--base", "HEAD~1", "--head", "HEAD", "config", "--format", format,
        ],
        2,
    );
    out
}

#[test]
fn access_impact_of_a_group_member_joining() {
    let join =
        |c: &str| {
            c.replace("members: [alice@globex.com]", "members: [alice@globex.com, bob@globex.com]").replace(
            "  /Partners/Enablement:\n",
            "  /Partners/Finance/Q3:\n    description: a child of a shared folder\n  /Partners/Enablement:\n",
        )
        };
    let out = diff_after(join, "text");
    let impact = out
        .find("+ bob@globex.com  view  /Partners/Finance  via group finance")
        .expect("gain via group");
    let resources = out.find("~ group finance").expect("resource changes");
    assert!(impact < resources, "the access impact comes first:\n{out}");
    assert!(
        out.contains(
            "+ bob@globex.com  view  /Partners/Finance/Q3  via group finance (shared on /Partners/Finance)"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "+ alice@globex.com  view  /Partners/Finance/Q3  via group finance (shared on /Partners/Finance)"
        ),
        "{out}"
    );
    assert!(out.contains("2 partners gain access"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&diff_after(join, "json")).unwrap();
    let changes = json["access_impact"]["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["email"] == "bob@globex.com"
            && c["folder"] == "/Partners/Finance"
            && c["after"] == "view"
            && c["via"][0]["principal"] == "group:finance"),
        "{json}"
    );
    assert_eq!(json["access_impact"]["gaining"], 2);
    let markdown = diff_after(join, "markdown");
    let impact = markdown.find("bob@globex.com").expect("impact in markdown");
    assert!(
        impact < markdown.find("group finance").unwrap_or(usize::MAX) || markdown.contains("Access impact"),
        "{markdown}"
    );
    assert!(markdown.contains("Access impact"), "{markdown}");
    // Regression (issue 21): a diff rendered as markdown was headed "portalctl plan".
    assert!(markdown.starts_with("## portalctl diff\n"), "{markdown}");
}

#[test]
fn access_impact_of_a_removal_and_a_level_change() {
    let remove = |c: &str| {
        c.replace(
            "      - email: bob@globex.com\n        role: editor\n        org: globex\n",
            "",
        )
    };
    let out = diff_after(remove, "text");
    assert!(
        out.contains("- bob@globex.com  view  /Partners/Enablement  via portal globex"),
        "{out}"
    );
    assert!(
        out.contains("1 loses") || out.contains("1 partner loses"),
        "{out}"
    );
    // An edit share needs a role with reports.edit: alice becomes an editor too.
    let upgrade = |c: &str| {
        c.replace(
            "      - group: finance\n        access: view",
            "      - group: finance\n        access: edit",
        )
        .replace(
            "        role: viewer\n        org: globex\n        attributes",
            "        role: editor\n        org: globex\n        attributes",
        )
    };
    let out = diff_after(upgrade, "text");
    assert!(
        out.contains("~ alice@globex.com  view → edit  /Partners/Finance  via group finance"),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&diff_after(upgrade, "json")).unwrap();
    assert_eq!(json["access_impact"]["changes"][0]["before"], "view");
    assert_eq!(json["access_impact"]["changes"][0]["after"], "edit");
}

#[test]
fn redacted_emails_stay_distinguishable_and_raw_ones_never_show() {
    let setup = repo();
    setup.write_config(&CONFIG.replace(
        "members: [alice@globex.com]",
        "members: [alice@globex.com, bob@globex.com]",
    ));
    for format in ["text", "json", "markdown"] {
        let (out, _) = setup.expect(
            &[
                "diff",
                "--base",
                "HEAD",
                "config",
                "--redact-emails",
                "--format",
                format,
            ],
            2,
        );
        assert!(
            !out.contains("alice@globex.com") && !out.contains("bob@globex.com"),
            "{format}: {out}"
        );
        assert!(out.contains("b***@globex.com#"), "{format}: {out}");
    }
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(CONFIG);
    let (out, _) = setup.expect(&["plan", "config", "--redact-emails"], 2);
    assert!(
        !out.contains("bob@globex.com") && out.contains("b***@globex.com#"),
        "{out}"
    );
    let (out, _) = setup.expect(&["drift", "config", "--redact-emails"], 2);
    assert!(
        !out.contains("bob@globex.com") && out.contains("b***@globex.com#"),
        "{out}"
    );
}

#[test]
fn drift_shows_what_live_grants_beyond_git_first() {
    let setup = repo();
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    std::fs::create_dir_all(setup.path("oob")).unwrap();
    std::fs::write(
        setup.path("oob/portalctl.yaml"),
        CONFIG.replace(
            "members: [alice@globex.com]",
            "members: [alice@globex.com, bob@globex.com]",
        ),
    )
    .unwrap();
    setup.expect(&["apply", "oob", "--auto-approve"], 0);
    let (out, _) = setup.expect(&["drift", "config"], 2);
    let impact = out
        .find("+ bob@globex.com  view  /Partners/Finance  via group finance")
        .expect("impact");
    assert!(
        impact < out.find("Changed outside git").expect("changes"),
        "{out}"
    );
}

#[test]
fn diff_refuses_redaction_placeholders_as_every_command_does() {
    let setup = repo();
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["import", "--out", "redacted", "--redact-sensitive"], 0);
    commit_all(setup.dir.path(), "a redacted import");
    let (_, err) = setup.expect(&["diff", "--base", "HEAD", "redacted"], 1);
    assert!(err.contains("FILL-IN-SENSITIVE-VALUE"), "{err}");
    assert!(err.contains("placeholder"), "{err}");
}
