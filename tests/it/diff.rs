//! `portalctl diff`: snapshots of its text and markdown between two commits of the shipped
//! example in a real git repository, and between a commit and the working tree; the access
//! impact of each kind of change, redacted emails, invalid revisions and placeholders.

use crate::assurance::{CONFIG as ASSURED_CONFIG, assured_setup, group_on_the_contoso_room};
use crate::support::{CONFIG, commit_config, committed_setup, edit_config, example, transcript};

/// The acme example committed, then a second commit in which chen joins
/// `contoso-finance` and fay leaves the globex roster; the working tree then also turns
/// eli into a viewer.
fn repository() -> tempfile::TempDir {
    let dir = example("acme");
    commit_config(dir.path(), "acme");
    edit_config(
        dir.path(),
        "access.yaml",
        "members: [ana@contoso.com]",
        "members: [ana@contoso.com, chen@fabrikam.com]",
    );
    edit_config(
        dir.path(),
        "rosters/globex.csv",
        "fay@globex.com,,t-042,amer,2\n",
        "",
    );
    commit_config(dir.path(), "chen joins contoso-finance; fay leaves");
    edit_config(
        dir.path(),
        "rosters/globex.csv",
        "eli@globex.com,editor,",
        "eli@globex.com,viewer,",
    );
    dir
}

#[test]
fn diffs_two_commits_in_text_and_markdown() {
    let dir = repository();
    for format in ["text", "markdown"] {
        insta::assert_snapshot!(
            format!("commits_{format}"),
            transcript(
                dir.path(),
                &[&[
                    "diff", "config", "--base", "HEAD~1", "--head", "HEAD", "--format", format
                ]]
            )
        );
    }
}

#[test]
fn diffs_a_commit_and_the_working_tree() {
    let dir = repository();
    insta::assert_snapshot!(
        "working_tree",
        transcript(
            dir.path(),
            &[
                &["diff", "config", "--base", "HEAD"],
                &["diff", "config", "--base", "HEAD", "--head", "HEAD"],
            ]
        )
    );
}

#[test]
fn diff_reports_a_group_member_gaining_each_shared_folder() {
    let setup = committed_setup();
    setup.write_config(&CONFIG.replace(
        "members: [alice@globex.com]",
        "members: [alice@globex.com, bob@globex.com]",
    ));
    commit_config(setup.dir.path(), "bob joins finance");
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
    let setup = committed_setup();
    setup.write_config(&CONFIG.replace(
        "      - email: bob@globex.com\n        role: editor\n        org: globex\n",
        "",
    ));
    let (out, _) = setup.expect(&["diff", "--base", "HEAD", "config"], 2);
    assert!(out.contains("- member bob@globex.com in portal globex"), "{out}");
    let (_, err) = setup.expect(&["diff", "--base", "no-such-rev", "config"], 1);
    assert!(err.contains("revision `no-such-rev` not found"), "{err}");
    setup.write_config(&CONFIG.replace("role: viewer", "role: viwer"));
    commit_config(setup.dir.path(), "a typo");
    let (_, err) = setup.expect(&["diff", "--base", "HEAD~1", "--head", "HEAD", "config"], 1);
    assert!(err.contains("the config at `HEAD` is invalid"), "{err}");
    assert!(err.contains("HEAD:portalctl.yaml:"), "{err}");
}

/// Commits CONFIG changed by `edit` on top of [`committed_setup`] and returns the diff output.
fn diff_after(edit: impl Fn(&str) -> String, format: &str) -> String {
    let setup = committed_setup();
    setup.write_config(&edit(CONFIG));
    commit_config(setup.dir.path(), "the change under review");
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
    let setup = committed_setup();
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
fn diff_refuses_redaction_placeholders_as_every_command_does() {
    let setup = committed_setup();
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["import", "--out", "redacted", "--redact-sensitive"], 0);
    commit_config(setup.dir.path(), "a redacted import");
    let (_, err) = setup.expect(&["diff", "--base", "HEAD", "redacted"], 1);
    assert!(err.contains("FILL-IN-SENSITIVE-VALUE"), "{err}");
    assert!(err.contains("placeholder"), "{err}");
}

#[test]
fn diff_fails_on_a_change_that_breaks_an_assertion() {
    let setup = assured_setup();
    std::fs::write(setup.path(".gitignore"), "*.db\n*.db-*\n").unwrap();
    crate::support::commit_signed(setup.dir.path(), "Rita Reviewer", "rita@acme.io", "initial");
    setup.write_config(&group_on_the_contoso_room());
    let (_, err) = setup.expect(&["diff", "--base", "HEAD", "config"], 1);
    assert!(
        err.contains(
            "assertion `only Contoso sees its room` is broken: alice@globex.com has view on /Partners/Contoso"
        ),
        "{err}"
    );
    // The grant, and the path that makes it, as `plan` shows them.
    assert!(
        err.contains("note: the share of /Partners/Contoso with group:finance at config/portalctl.yaml:42:9"),
        "{err}"
    );
    assert!(
        err.contains("note: alice@globex.com is in group finance at config/portalctl.yaml:35:15"),
        "{err}"
    );
    // The base revision is not held to the head's assertions.
    setup.write_config(ASSURED_CONFIG);
    setup.expect(&["diff", "--base", "HEAD", "config"], 0);
}
