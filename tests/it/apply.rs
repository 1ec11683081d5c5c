//! `portalctl apply`: snapshots of its progress and summary text on the shipped examples
//! (times replaced by `<time>`), with `--show full`, and a second apply that finds nothing
//! to do; saved plans (applied from anywhere, refused when stale or changed, holding no
//! secret), the guards (protected portals, mass removals, no approval without a terminal),
//! and the commit an apply records. Scenarios run on `sqlite:` and on a real server alike.

use crate::support::{
    CONFIG, Kind, SECRET, Setup, assert_no_secret, both, committed_setup, example, stderr, transcript,
};

const TARGET: &str = "sqlite:live.db";

#[test]
fn applies_the_acme_example_then_finds_nothing_to_do() {
    let dir = example("acme");
    insta::assert_snapshot!(
        "acme",
        transcript(
            dir.path(),
            &[
                &["apply", "config", "--target", TARGET, "--auto-approve"],
                &["apply", "config", "--target", TARGET, "--auto-approve"],
            ]
        )
    );
}

#[test]
fn applies_the_quickstart_example_showing_everything() {
    let dir = example("quickstart");
    insta::assert_snapshot!(
        "quickstart_show_full",
        transcript(
            dir.path(),
            &[&[
                "apply",
                "config",
                "--target",
                TARGET,
                "--auto-approve",
                "--show",
                "full"
            ]]
        )
    );
}

#[test]
fn saved_plan_is_applied_and_holds_no_secret() {
    both(|kind| {
        let setup = Setup::new(kind);
        let (_, err) = setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        let config = std::fs::canonicalize(setup.config_dir()).unwrap();
        assert!(
            err.contains("apply it with `portalctl apply plan.json` (it holds only digests of its 1 sensitive value: `apply` reads them back from")
                && err.contains(&config.display().to_string()),
            "{err}"
        );
        assert_no_secret(&setup.path("plan.json"));
        // Regression (issue 21): a plan that writes a sensitive value needed `apply FILE
        // --config DIR`. It holds only the value's digest and names the config it was made
        // from, which `apply FILE` reads the value back from, from any directory.
        let elsewhere = tempfile::tempdir().unwrap();
        let plan = setup.path("plan.json");
        let output = setup.run_in(elsewhere.path(), &["apply", plan.to_str().unwrap()]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{kind:?}: {err}");
        assert!(err.contains("applied") && !err.contains(SECRET), "{err}");
        setup.expect(&["plan", "config"], 0);
        // The sensitive value reached the live side, restored from the config.
        let (out, _) = setup.expect(&["plan", "config", "--format", "json"], 0);
        assert!(!out.contains(SECRET));
    });
}

#[test]
fn a_saved_plan_is_refused_when_its_sensitive_value_changed_or_its_config_is_gone() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        // The config changed the value after the plan: refused, naming what, not the values.
        setup.write_config(&CONFIG.replace(SECRET, "K-OTHER-1"));
        let (_, err) = setup.expect(&["apply", "plan.json"], 1);
        assert!(
            err.contains(
                "the config's value of sensitive attribute `contract_ref` of member alice@globex.com in portal globex is not the one planned"
            ) && err.contains("the plan writes only the values it was made with; nothing was changed")
                && err.contains("`portalctl apply plan.json --config DIR`")
                && err.contains("run `portalctl plan --out …` again"),
            "{kind:?}: {err}"
        );
        assert!(!err.contains(SECRET) && !err.contains("K-OTHER-1"), "{err}");
        // Nothing was applied.
        setup.expect(&["plan", "config"], 2);
        // `--config` names another copy of the config the plan was made from.
        std::fs::create_dir_all(setup.path("original")).unwrap();
        std::fs::write(setup.path("original/portalctl.yaml"), CONFIG).unwrap();
        // Without the config the plan names, `apply FILE` says so.
        std::fs::rename(setup.config_dir(), setup.path("moved")).unwrap();
        let (_, err) = setup.expect(&["apply", "plan.json"], 1);
        assert!(
            err.contains("which does not exist here; nothing was changed")
                && err.contains("`portalctl apply plan.json --config DIR`"),
            "{kind:?}: {err}"
        );
        let (_, err) = setup.expect(&["apply", "plan.json", "--config", "original"], 0);
        assert!(err.contains("applied"), "{err}");
        setup.expect(&["plan", "original"], 0);
    });
}

#[test]
fn stale_saved_plan_is_refused_and_nothing_changes() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        // Someone applies something else first.
        let other = CONFIG.replace(
            "      - email: bob@globex.com\n        role: editor\n        org: globex\n",
            "",
        );
        std::fs::create_dir_all(setup.path("other")).unwrap();
        std::fs::write(setup.path("other/portalctl.yaml"), other).unwrap();
        setup.expect(&["apply", "other", "--auto-approve"], 0);
        let (_, err) = setup.expect(&["apply", "plan.json"], 1);
        assert!(
            err.contains("plan is stale") && err.contains("run `portalctl plan"),
            "{err}"
        );
        // Live is still what `other` made it.
        setup.expect(&["plan", "other"], 0);
    });
}

/// Regression (issue 21, defect 6): a saved plan recorded `config_path: "."`, so applied
/// from another directory it found no YAML, and from a parent it loaded every YAML below.
#[test]
fn a_saved_plan_applies_from_any_directory_without_its_config() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.write_config(
            &CONFIG
                .replace("K-SECRET-9931", "")
                .replace(", contract_ref:  }", " }"),
        );
        setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        let plan = std::fs::read_to_string(setup.path("plan.json")).unwrap();
        assert!(!plan.contains("config_path"), "{plan}");
        // Elsewhere: a directory with no config, under a parent with another project's
        // (invalid) YAML.
        let elsewhere = setup.path("elsewhere/deep");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(setup.path("elsewhere/broken.yaml"), "portals: [not: valid").unwrap();
        // The config changing after the plan was made does not matter: the plan is applied
        // as it was reviewed.
        setup.write_config("workspace: { name: Other }\n");
        let plan_path = setup.path("plan.json");
        let output = setup.run_in(&elsewhere, &["apply", plan_path.to_str().unwrap()]);
        let err = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{err}");
        assert!(err.contains("applied"), "{err}");
        assert!(!err.contains("YAML"), "{err}");
        setup.write_config(
            &CONFIG
                .replace("K-SECRET-9931", "")
                .replace(", contract_ref:  }", " }"),
        );
        setup.expect(&["plan", "config"], 0);
        // Applied again, it is stale.
        let output = setup.run_in(&elsewhere, &["apply", plan_path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1));
        assert!(stderr(&output).contains("plan is stale"), "{}", stderr(&output));
    });
}

/// Issue 21 audit, gap 2: a saved plan never holds a secret, so one that writes sensitive
/// values (a member's and a partner org's) takes them from the config at `apply`: the one
/// it names while it is still there, else `--config DIR`, each checked against the plan's
/// digest. Applied from an unrelated directory after the config moved, it names the values
/// it needs (owner and attribute, never a value) and the flag to pass; given a config whose
/// value differs it names that one; given the moved config it applies the real values.
#[test]
fn a_saved_plan_with_sensitive_values_takes_them_from_a_moved_config() {
    const ORG_SECRET: &str = "ORG-SECRET-5813";
    let config = CONFIG.replace(
        "partner_orgs:\n",
        &format!("partner_orgs:\n  initech:\n    domains: [initech.com]\n    attributes: {{ contract_ref: {ORG_SECRET} }}\n"),
    );
    both(|kind| {
        let setup = Setup::new(kind);
        setup.write_config(&config);
        let (_, err) = setup.expect(&["plan", "config", "--out", "plan.json"], 2);
        assert!(err.contains("digests of its 2 sensitive values"), "{err}");
        let saved = std::fs::read_to_string(setup.path("plan.json")).unwrap();
        assert!(!saved.contains(SECRET) && !saved.contains(ORG_SECRET), "{saved}");

        // The config moves; `apply` runs in an unrelated directory.
        std::fs::create_dir_all(setup.path("moved")).unwrap();
        std::fs::rename(setup.config_dir(), setup.path("moved/config")).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let plan = setup.path("plan.json");
        let plan = plan.to_str().unwrap();
        let run = |args: &[&str], code: i32| {
            let output = setup.run_in(elsewhere.path(), args);
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(code), "{kind:?} {args:?}: {err}");
            assert!(!err.contains(SECRET) && !err.contains(ORG_SECRET), "{err}");
            assert!(!crate::support::stdout(&output).contains(ORG_SECRET));
            err
        };
        let err = run(&["apply", plan], 1);
        assert!(
            err.contains(
                "the plan writes 2 sensitive values (`contract_ref` of member alice@globex.com in portal globex, `contract_ref` of partner org initech), which a plan file never holds; it reads them from the config it was made from"
            ) && err.contains("which does not exist here; nothing was changed")
                && err.contains(&format!("`portalctl apply {plan} --config DIR`")),
            "{kind:?}: {err}"
        );

        // A config whose org value is not the planned one: refused, naming it.
        std::fs::create_dir_all(elsewhere.path().join("other")).unwrap();
        std::fs::write(
            elsewhere.path().join("other/portalctl.yaml"),
            config.replace(ORG_SECRET, "ORG-OTHER-1"),
        )
        .unwrap();
        let err = run(&["apply", plan, "--config", "other"], 1);
        assert!(
            err.contains(
                "the config's value of sensitive attribute `contract_ref` of partner org initech is not the one planned (read from `other`)"
            ) && err.contains("--config DIR") && !err.contains("ORG-OTHER-1"),
            "{kind:?}: {err}"
        );

        // The moved config gives them back: applied, with the values themselves.
        let moved = setup.path("moved/config");
        let err = run(&["apply", plan, "--config", moved.to_str().unwrap()], 0);
        assert!(err.contains("applied"), "{err}");
        setup.expect(&["plan", "moved/config"], 0);
        setup.expect(&["import", "--out", "imported"], 0);
        let mut imported = String::new();
        for file in ["workspace.yaml", "portals/globex.yaml"] {
            imported
                .push_str(&std::fs::read_to_string(setup.path("imported").join(file)).unwrap_or_default());
        }
        assert!(
            imported.contains(SECRET) && imported.contains(ORG_SECRET),
            "{kind:?}: the values, not their digests, are live: {imported}"
        );
    });
}

#[test]
fn protected_portals_are_not_deleted() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.write_config(&CONFIG.replace(
            "    logout_url: https://acme.io/bye\n",
            "    logout_url: https://acme.io/bye\n    protect: true\n",
        ));
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        let without_portal = "workspace:\n  name: Acme\n  owner_domains: [acme.io]\n";
        setup.write_config(without_portal);
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve", "--allow-mass-removal"], 1);
        assert!(err.contains("globex") && err.contains("protect"), "{err}");
        assert!(err.contains("nothing was changed"), "{err}");
        let (out, _) = setup.expect(&["plan", "config", "--allow-mass-removal"], 1);
        assert!(out.contains("- portal globex"), "{out}");
    });
}

#[test]
fn mass_removals_are_refused_unless_allowed() {
    both(|kind| {
        let setup = Setup::new(kind);
        let mut members = String::new();
        for i in 0..20 {
            members.push_str(&format!("      - email: p{i}@globex.com\n        role: viewer\n"));
        }
        let big = CONFIG.replace("    members:\n", &format!("    members:\n{members}"));
        setup.write_config(&big);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        setup.write_config(CONFIG);
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 1);
        assert!(
            err.contains("20") && err.contains("--allow-mass-removal"),
            "{err}"
        );
        setup.expect(&["plan", "config", "--max-removals", "20"], 2);
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve", "--max-removals", "20"], 0);
        assert!(err.contains("applied 20 changes"), "{err}");
    });
}

#[test]
fn a_refused_apply_leaves_no_empty_database() {
    let setup = Setup::new(Kind::Sqlite);
    // stdin is not a terminal and there is no `--auto-approve`: refused.
    setup.expect(&["apply", "config"], 1);
    assert!(
        !setup.path("live.db").exists(),
        "the refused apply created the store"
    );
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert!(setup.path("live.db").exists());
}

#[test]
fn apply_prints_a_summary_when_not_on_a_terminal_and_everything_with_show_full() {
    let setup = Setup::new(Kind::Sqlite);
    let (_, summary) = setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert!(summary.contains("Access impact:"), "{summary}");
    assert!(summary.contains("to add"), "{summary}");
    assert!(
        !summary.contains("portalctl will make these changes"),
        "{summary}"
    );
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let (_, full) = setup.expect(&["apply", "config", "--auto-approve", "--show", "full"], 0);
    assert!(full.contains("portalctl will make these changes"), "{full}");
}

#[test]
fn apply_records_the_commit_and_history_shows_it() {
    let setup = committed_setup();
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

#[test]
fn apply_recognises_a_saved_plan_by_its_content() {
    let setup = Setup::new(Kind::Sqlite);
    for name in ["tfplan", "plan.out"] {
        setup.expect(&["plan", "config", "--out", name], 2);
        let (_, err) = setup.expect(&["apply", name, "--config", "config"], 0);
        assert!(!err.contains("error"), "{err}");
        let (out, _) = setup.expect(&["plan", "config"], 0);
        assert!(out.contains("No changes"), "{out}");
        // Change something, so the next name has a plan to save.
        let config = CONFIG.replace("name: Globex", &format!("name: Globex {name}"));
        setup.write_config(&config);
    }
    // A config file is still a config, whatever its name.
    let (_, err) = setup.expect(&["apply", "config/portalctl.yaml", "--auto-approve"], 0);
    assert!(!err.contains("error"), "{err}");
}
