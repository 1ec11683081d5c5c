//! A whole access review in a real git repository: `review start`, two owners deciding in
//! two commits of their own, `review close` (refused while pending), the plan showing
//! exactly the revocations, apply, and the evidence naming both reviewers.

use std::path::Path;

use serde_json::Value;

use crate::assurance::CONFIG;
use crate::support::{Kind, Setup, commit_signed};

/// Sets the decision of the item of `partner` via `via` in the review file.
fn decide(file: &Path, partner: &str, via: &str, decision: &str, reason: Option<&str>) {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .windows(2)
        .position(|pair| {
            pair[0].ends_with(&format!("partner: \"{partner}\""))
                && pair[1].ends_with(&format!("via: \"{via}\""))
        })
        .unwrap_or_else(|| panic!("no item for {partner} via {via}:\n{text}"));
    let mut out = Vec::new();
    let mut done = false;
    for (index, line) in lines.iter().enumerate() {
        if !done && index > start && line.trim() == "decision: pending" {
            out.push(line.replace("pending", decision));
            if let Some(reason) = reason {
                out.push(format!("      reason: {reason}"));
            }
            done = true;
        } else {
            out.push((*line).to_string());
        }
    }
    assert!(done);
    std::fs::write(file, out.join("\n") + "\n").unwrap();
}

/// Sets the decision of the item of `partner` via `via` on `shared_on`.
fn decide_on(file: &Path, partner: &str, via: &str, shared_on: &str, decision: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let item = format!("partner: \"{partner}\"\n      via: \"{via}\"\n      shared_on: \"{shared_on}\"\n");
    let start = text
        .find(&item)
        .unwrap_or_else(|| panic!("no item for {partner} via {via} on {shared_on}:\n{text}"));
    let at = start + text[start..].find("decision: pending").unwrap();
    let updated = format!(
        "{}decision: {decision}{}",
        &text[..at],
        &text[at + "decision: pending".len()..]
    );
    std::fs::write(file, updated).unwrap();
}

/// A committed config in a git repository, applied, with the review `name` started on
/// `scope` and committed.
fn started(config: &str, name: &str, scope: &str) -> Setup {
    let setup = Setup::new(Kind::Sqlite);
    setup.write_config(config);
    std::fs::write(setup.path(".gitignore"), "*.db\n*.db-*\n").unwrap();
    commit_signed(setup.dir.path(), "Rita Admin", "rita@acme.io", "access config");
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["review", "start", name, "config", "--scope", scope], 0);
    commit_signed(setup.dir.path(), "Rita Admin", "rita@acme.io", "start");
    setup
}

/// Every file under the config directory, by path, for "nothing was changed".
fn config_files(setup: &Setup) -> Vec<(std::path::PathBuf, String)> {
    let mut files = Vec::new();
    let mut pending = vec![setup.config_dir()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((path, text));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn close_refuses_a_revocation_that_breaks_an_assertion_and_writes_nothing() {
    let setup = started(CONFIG, "contoso", "org:contoso");
    let file = setup.path("config/reviews/contoso.yaml");
    decide(&file, "ana@contoso.com", "org:contoso", "keep", None);
    // `ana edits drafts` rests on this share.
    decide(&file, "ana@contoso.com", "user:ana@contoso.com", "revoke", None);
    commit_signed(setup.dir.path(), "Olga Owner", "olga@acme.io", "decide");
    let before = config_files(&setup);
    let (_, err) = setup.expect(&["review", "close", "contoso", "config"], 1);
    assert!(err.contains("ana edits drafts"), "{err}");
    assert!(
        err.contains("the review `contoso`'s revocations would leave the config invalid: 1 error(s) (above); nothing was changed"),
        "{err}"
    );
    assert_eq!(
        config_files(&setup),
        before,
        "no edit and no evidence were written"
    );
    assert!(!setup.path("config/reviews/contoso.evidence.json").exists());
    // Nothing was left half done: deciding again and closing works.
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("decision: revoke", "decision: keep")).unwrap();
    commit_signed(setup.dir.path(), "Olga Owner", "olga@acme.io", "keep the drafts");
    let (_, err) = setup.expect(&["review", "close", "contoso", "config"], 0);
    assert!(err.contains("2 kept, 0 revoked (0 file(s) edited)"), "{err}");
}

#[test]
fn close_refuses_to_take_grants_decided_keep_with_a_revoked_membership() {
    // ana is in `finance`, which is shared on the Finance room (Fred's) and on the drafts
    // (nobody's): leaving the group takes both.
    let config = CONFIG
        .replace(
            "  finance:\n    members: [alice@globex.com]",
            "  finance:\n    members: [alice@globex.com, ana@contoso.com]",
        )
        .replace(
            "      - user: ana@contoso.com\n        access: edit\n",
            "      - user: ana@contoso.com\n        access: edit\n      - group: finance\n        access: view\n",
        );
    let setup = started(&config, "contoso", "org:contoso");
    let file = setup.path("config/reviews/contoso.yaml");
    decide(&file, "ana@contoso.com", "org:contoso", "keep", None);
    commit_signed(setup.dir.path(), "Olga Owner", "olga@acme.io", "keep contoso");
    decide(&file, "ana@contoso.com", "user:ana@contoso.com", "keep", None);
    decide_on(
        &file,
        "ana@contoso.com",
        "group:finance",
        "/Partners/Enablement/Drafts",
        "keep",
    );
    decide_on(
        &file,
        "ana@contoso.com",
        "group:finance",
        "/Partners/Finance",
        "revoke",
    );
    commit_signed(setup.dir.path(), "Fred Finance", "fred@acme.io", "decide");
    let before = config_files(&setup);
    let (_, err) = setup.expect(&["review", "close", "contoso", "config"], 1);
    assert!(
        err.contains(
            "  ana@contoso.com via group:finance on /Partners/Enablement/Drafts (kept by (unowned))\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("revokes grants that take away 1 grant(s) decided `keep` (above); nothing was changed"),
        "{err}"
    );
    assert!(err.contains("`--allow-collateral`"), "{err}");
    assert_eq!(config_files(&setup), before, "nothing was written");

    let (_, err) = setup.expect(&["review", "close", "contoso", "config", "--allow-collateral"], 0);
    assert!(
        err.contains("3 kept, 1 revoked, 1 more taken with them (`collateral` in the evidence)"),
        "{err}"
    );
    let evidence = crate::output_schemas::assert_matches(
        "review",
        "review close",
        &std::fs::read_to_string(setup.path("config/reviews/contoso.evidence.json")).unwrap(),
    );
    assert_eq!(evidence["allowed_collateral"], true);
    let collateral = evidence["collateral"].as_array().unwrap();
    assert_eq!(collateral.len(), 1, "{collateral:?}");
    assert_eq!(collateral[0]["decision"], "keep");
    assert_eq!(collateral[0]["owner"], "(unowned)");
    assert_eq!(collateral[0]["grant"]["partner"], "ana@contoso.com");
    assert_eq!(collateral[0]["grant"]["via"], "group:finance");
    assert_eq!(collateral[0]["grant"]["shared_on"], "/Partners/Enablement/Drafts");
    let edited = std::fs::read_to_string(setup.path("config/portalctl.yaml")).unwrap();
    assert!(edited.contains("    members: [alice@globex.com]\n"), "{edited}");
}

#[test]
fn a_whole_review_revokes_what_owners_refuse_and_proves_it() {
    let setup = Setup::new(Kind::Sqlite);
    // A comment the edit must keep, and the drafts owned by Olga too.
    let config = CONFIG
        .replace(
            "  /Partners/Enablement/Drafts:\n",
            "  # Drafts are for lead partners only.\n  /Partners/Enablement/Drafts:\n    owners: [olga@acme.io]\n",
        )
        .replace(
            "  finance:\n    members: [alice@globex.com]",
            "  finance:\n    members: [alice@globex.com, ana@contoso.com] # finance contacts",
        );
    setup.write_config(&config);
    std::fs::write(setup.path(".gitignore"), "*.db\n*.db-*\nplan.json\n").unwrap();
    let dir = setup.dir.path();
    commit_signed(dir, "Rita Admin", "rita@acme.io", "access config");
    setup.expect(&["apply", "config", "--auto-approve"], 0);

    let (_, err) = setup.expect(
        &[
            "review",
            "start",
            "2026-q4",
            "config",
            "--scope",
            "portal:partners",
        ],
        0,
    );
    assert!(
        err.contains("wrote config/reviews/2026-q4.yaml: 5 grant(s) for 2 owner(s)"),
        "{err}"
    );
    let file = setup.path("config/reviews/2026-q4.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("  \"fred@acme.io\":\n    - partner: \"alice@globex.com\""),
        "{text}"
    );
    assert!(text.contains("  \"olga@acme.io\":\n"), "{text}");
    // The review file is not config: validate and plan read past it.
    setup.expect(&["validate", "config"], 0);
    setup.expect(&["plan", "config"], 0);
    commit_signed(
        dir,
        "Rita Admin",
        "rita@acme.io",
        "start the 2026-q4 access review",
    );

    // Nothing decided yet: close refuses and says who is pending.
    let (_, err) = setup.expect(&["review", "close", "2026-q4", "config"], 1);
    assert!(
        err.contains("5 pending decision(s): fred@acme.io (3), olga@acme.io (2)"),
        "{err}"
    );

    // Fred decides on his folder's grants in a commit of his own.
    decide(&file, "alice@globex.com", "group:finance", "keep", None);
    decide(
        &file,
        "ana@contoso.com",
        "group:finance",
        "revoke",
        Some("left the finance team"),
    );
    decide(
        &file,
        "chen@fabrikam.com",
        "org:fabrikam",
        "keep",
        Some("board observer"),
    );
    let (_, err) = setup.expect(&["review", "close", "2026-q4", "config"], 1);
    assert!(err.contains("uncommitted changes"), "{err}");
    let fred_commit = commit_signed(dir, "Fred Finance", "fred@acme.io", "2026-q4: finance decisions");
    let (_, err) = setup.expect(&["review", "close", "2026-q4", "config"], 1);
    assert!(err.contains("2 pending decision(s): olga@acme.io (2)"), "{err}");

    // Someone who owns nothing here may not decide for Olga.
    decide(&file, "ana@contoso.com", "org:contoso", "revoke", None);
    commit_signed(dir, "Mallory", "mallory@acme.io", "decide for olga");
    let (_, err) = setup.expect(&["validate", "config"], 1);
    assert!(
        err.contains("`mallory@acme.io` decided on the grant of ana@contoso.com on /Partners/Contoso, which only `olga@acme.io` may decide"),
        "{err}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("decision: revoke\n", "decision: pending\n", 2)
            .replacen(
                "decision: pending\n      reason: left the finance team",
                "decision: revoke\n      reason: left the finance team",
                1,
            ),
    )
    .unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.matches("decision: revoke").count(), 1, "{text}");
    commit_signed(dir, "Rita Admin", "rita@acme.io", "undo mallory's decision");

    // Olga decides on hers.
    decide(&file, "ana@contoso.com", "org:contoso", "keep", None);
    decide(
        &file,
        "ana@contoso.com",
        "user:ana@contoso.com",
        "keep",
        Some("lead partner"),
    );
    let olga_commit = commit_signed(dir, "Olga Owner", "olga@acme.io", "2026-q4: contoso decisions");
    setup.expect(&["validate", "config"], 0);

    let (_, err) = setup.expect(&["review", "close", "2026-q4", "config"], 0);
    assert!(err.contains("4 kept, 1 revoked (1 file(s) edited)"), "{err}");
    // The edit removed the list entry and nothing else: comments and layout stay.
    let edited = std::fs::read_to_string(setup.path("config/portalctl.yaml")).unwrap();
    assert_eq!(
        edited,
        config.replace(
            "[alice@globex.com, ana@contoso.com] # finance contacts",
            "[alice@globex.com] # finance contacts"
        )
    );

    // The plan shows exactly the revocation, with its access impact.
    let (json, _) = setup.expect(&["plan", "config", "--format", "json"], 2);
    let plan: Value = serde_json::from_str(&json).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{json}");
    assert_eq!(changes[0]["kind"], "group");
    assert_eq!(changes[0]["key"], serde_json::json!(["finance"]));
    let impact = &plan["access_impact"]["changes"];
    assert!(
        impact
            .as_array()
            .unwrap()
            .iter()
            .all(|change| change["email"] == "ana@contoso.com" && change["after"].is_null()),
        "{impact}"
    );
    assert!(!impact.as_array().unwrap().is_empty());
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["plan", "config"], 0);

    // The evidence: each decision with its reviewer and date, before and after.
    let evidence = crate::output_schemas::assert_matches(
        "review",
        "review close",
        &std::fs::read_to_string(setup.path("config/reviews/2026-q4.evidence.json")).unwrap(),
    );
    let decisions = evidence["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 5);
    // Each decision names the commit that set it and that commit's author time.
    let repo = git2::Repository::open(dir).unwrap();
    let authored = |commit: &str| {
        let seconds = repo
            .find_commit(git2::Oid::from_str(commit).unwrap())
            .unwrap()
            .author()
            .when()
            .seconds();
        time::OffsetDateTime::from_unix_timestamp(seconds)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let reviewer = |partner: &str, via: &str| {
        let found = decisions
            .iter()
            .find(|d| d["grant"]["partner"] == partner && d["grant"]["via"] == via)
            .unwrap();
        (
            found["decision"].as_str().unwrap().to_string(),
            found["reviewer"]["author"].as_str().unwrap().to_string(),
            found["reviewer"]["commit"].as_str().unwrap().to_string(),
            found["reviewer"]["date"].as_str().unwrap().to_string(),
        )
    };
    let fred = |decision: &str| {
        (
            decision.to_string(),
            "Fred Finance <fred@acme.io>".to_string(),
            fred_commit.clone(),
            authored(&fred_commit),
        )
    };
    let olga = |decision: &str| {
        (
            decision.to_string(),
            "Olga Owner <olga@acme.io>".to_string(),
            olga_commit.clone(),
            authored(&olga_commit),
        )
    };
    assert_eq!(reviewer("ana@contoso.com", "group:finance"), fred("revoke"));
    assert_eq!(reviewer("alice@globex.com", "group:finance"), fred("keep"));
    assert_eq!(reviewer("chen@fabrikam.com", "org:fabrikam"), fred("keep"));
    assert_eq!(reviewer("ana@contoso.com", "org:contoso"), olga("keep"));
    assert_eq!(reviewer("ana@contoso.com", "user:ana@contoso.com"), olga("keep"));
    let date = authored(&olga_commit);
    assert!(date.ends_with('Z') && date.len() == 20, "RFC 3339 in UTC: {date}");
    assert!(evidence["collateral"].as_array().unwrap().is_empty());
    let finance_ana = |report: &Value| {
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["partner"] == "ana@contoso.com" && row["via"] == "group:finance")
    };
    assert!(finance_ana(&evidence["before"]));
    assert!(
        !finance_ana(&evidence["after"]),
        "the after-report lacks the revoked grant"
    );
    assert_eq!(
        evidence["before"]["rows"].as_array().unwrap().len(),
        evidence["after"]["rows"].as_array().unwrap().len() + 1,
        "only the revoked grant is gone"
    );
    // A closed review is read, not checked against grants it revoked.
    setup.expect(&["validate", "config"], 0);
    let (_, err) = setup.expect(&["review", "close", "2026-q4", "config"], 1);
    assert!(err.contains("is closed already"), "{err}");
}

#[test]
fn revoke_pending_removes_what_nobody_vouched_for() {
    let setup = Setup::new(Kind::Sqlite);
    setup.write_config(CONFIG);
    std::fs::write(setup.path(".gitignore"), "*.db\n*.db-*\n").unwrap();
    let dir = setup.dir.path();
    commit_signed(dir, "Rita Admin", "rita@acme.io", "access config");
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(
        &["review", "start", "fabrikam", "config", "--scope", "org:fabrikam"],
        0,
    );
    commit_signed(dir, "Rita Admin", "rita@acme.io", "start");
    setup.expect(&["review", "close", "fabrikam", "config"], 1);
    let (_, err) = setup.expect(&["review", "close", "fabrikam", "config", "--revoke-pending"], 0);
    assert!(err.contains("0 kept, 1 revoked"), "{err}");
    // chen's grant came from his org's share: his membership goes.
    let edited = std::fs::read_to_string(setup.path("config/portalctl.yaml")).unwrap();
    assert!(!edited.contains("chen@fabrikam.com"), "{edited}");
    assert!(edited.contains("      - email: alice@globex.com\n        role: viewer\n        org: globex\n"));
    let (json, _) = setup.expect(&["plan", "config", "--format", "json"], 2);
    let plan: Value = serde_json::from_str(&json).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{json}");
    assert_eq!(changes[0]["action"], "delete");
    let evidence: Value = serde_json::from_str(
        &std::fs::read_to_string(setup.path("config/reviews/fabrikam.evidence.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(evidence["revoked_pending"], true);
    assert!(evidence["decisions"][0]["reviewer"].is_null());
    assert!(evidence["after"]["rows"].as_array().unwrap().is_empty());
}

#[test]
fn decisions_git_cannot_attribute_are_named_and_left_to_codeowners() {
    // The Contoso room belongs to a team: git cannot tell who is in it.
    let config = CONFIG.replace(
        "  /Partners/Contoso:\n    owners: [olga@acme.io]",
        "  /Partners/Contoso:\n    owners: [\"@acme/contoso-team\"]",
    );
    let setup = started(&config, "contoso", "org:contoso");
    let file = setup.path("config/reviews/contoso.yaml");
    decide(&file, "ana@contoso.com", "org:contoso", "keep", None);
    decide(&file, "ana@contoso.com", "user:ana@contoso.com", "keep", None);
    commit_signed(setup.dir.path(), "Mallory", "mallory@acme.io", "decide");
    let text = std::fs::read_to_string(&file).unwrap();
    let line_of = |via: &str| {
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|line| line.ends_with(&format!("via: \"{via}\"")))
            .unwrap();
        at + lines[at..]
            .iter()
            .position(|line| line.contains("decision:"))
            .unwrap()
            + 1
    };
    // Valid (portalctl cannot say Mallory is not in the team), but each such decision is named.
    let (_, err) = setup.expect(&["validate", "config"], 0);
    assert!(
        err.contains(&format!(
            "warning[review-file]: 1 decision(s) (line(s) {}) of `@acme/contoso-team` cannot be checked against their authors: git names people, not teams",
            line_of("org:contoso")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "warning[review-file]: 1 decision(s) (line(s) {}) are on grants nobody owns: any author's decision is accepted",
            line_of("user:ana@contoso.com")
        )),
        "{err}"
    );
    // The code host enforces the team: the review file gets its owners' line.
    let (out, _) = setup.expect(&["codeowners", "config"], 0);
    assert!(
        out.contains("\n/config/reviews/contoso.yaml @acme/contoso-team\n"),
        "{out}"
    );
    // The room changes hands: its items are now listed under someone who does not own it.
    let config_file = setup.path("config/portalctl.yaml");
    let edited = std::fs::read_to_string(&config_file)
        .unwrap()
        .replace("[\"@acme/contoso-team\"]", "[olga@acme.io]");
    std::fs::write(&config_file, edited).unwrap();
    let (_, err) = setup.expect(&["validate", "config"], 1);
    assert!(
        err.contains("error[review-file]: the grant of ana@contoso.com on /Partners/Contoso is listed under `@acme/contoso-team`, who does not own /Partners/Contoso\n"),
        "{err}"
    );
    assert!(err.contains("hint: its owners are olga@acme.io"), "{err}");
}

#[test]
fn validate_checks_review_files_end_to_end() {
    let setup = crate::assurance::assured_setup();
    setup.expect(
        &["review", "start", "contoso", "config", "--scope", "org:contoso"],
        0,
    );
    let file = setup.path("config/reviews/contoso.yaml");
    let started = std::fs::read_to_string(&file).unwrap();
    setup.expect(&["validate", "config"], 0);

    // A typo in a decision, placed at its line and column, with a hint.
    decide(&file, "ana@contoso.com", "org:contoso", "revok", None);
    let text = std::fs::read_to_string(&file).unwrap();
    let line = text
        .lines()
        .position(|line| line.ends_with("decision: revok"))
        .unwrap()
        + 1;
    let (_, err) = setup.expect(&["validate", "config"], 1);
    assert!(
        err.contains(&format!(
            "error[review-file]: `revok` is not a decision\n  --> config/reviews/contoso.yaml:{line}:17\n"
        )),
        "{err}"
    );
    assert!(err.contains("hint: did you mean `revoke`?"), "{err}");

    // The config changed since the review started: the grant it lists is gone.
    std::fs::write(&file, &started).unwrap();
    let config = CONFIG
        .replace(
            "    shares:\n      - user: ana@contoso.com\n        access: edit\n",
            "    shares: []\n",
        )
        .replace(
            "  - name: ana edits drafts\n    user: ana@contoso.com\n    can: edit\n    folder: /Partners/Enablement/Drafts\n",
            "",
        );
    setup.write_config(&config);
    let (_, err) = setup.expect(&["validate", "config"], 1);
    assert!(
        err.contains(
            "error[review-file]: ana@contoso.com no longer has a grant via user:ana@contoso.com on /Partners/Enablement/Drafts\n"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint: the config changed since the review started"),
        "{err}"
    );
    assert!(err.contains("is invalid: 1 error"), "{err}");
}
