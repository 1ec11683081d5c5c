//! `portalctl history`: snapshots of the audit log in text and JSON on the shipped
//! example after batches that create, replace and delete (and a partner org's deletion
//! outside git, which causes more), filtered by partner and limited, and of the read
//! audit.

use crate::support::{CONFIG, Kind, Setup, apply_to_live, cli_against, edit_config, example, transcript};

const TARGET: &str = "sqlite:live.db";

/// The acme example applied, then changed and applied again twice, then changed outside
/// git.
fn with_history() -> tempfile::TempDir {
    let dir = example("acme");
    let edit = |file: &str, from: &str, to: &str| edit_config(dir.path(), file, from, to);
    apply_to_live(dir.path());
    edit("rosters/globex.csv", "fay@globex.com,,t-042,amer,2\n", "");
    edit(
        "rosters/globex.csv",
        "eli@globex.com,editor,",
        "eli@globex.com,viewer,",
    );
    edit(
        "access.yaml",
        "    members: [alice@globex.com, ana@contoso.com]",
        "    members: [alice@globex.com, ana@contoso.com, dana@globex.com]",
    );
    apply_to_live(dir.path());
    edit(
        "portals/contoso.yaml",
        "      - email: bob@initech.com\n        role: viewer\n        org: initech\n        attributes: { tenant_id: t-200 }\n",
        "",
    );
    edit(
        "access.yaml",
        "      - user: bob@initech.com\n        access: view\n        expires: 2027-01-15\n",
        "",
    );
    apply_to_live(dir.path());
    // Outside git: a partner org deleted from a dirty tree (its member and group entry go
    // with it, caused by the batch), then two reads of sensitive values in clear.
    let today = portalctl_core::model::CalendarDate::from_ymd(2027, 1, 4).unwrap();
    let store = portalctl_store::Store::open(&dir.path().join("live.db"), today).unwrap();
    store
        .commit(
            None,
            &[portalctl_core::model::Change::Delete {
                key: portalctl_core::model::ResourceKey::PartnerOrg("fabrikam".into()),
            }],
            &portalctl_store::ChangeMeta {
                commit: Some("3b18e512dba79e4c8300dd08aeb37f8e728b8dad".into()),
                author: Some("Nora Ops <nora@acme.io>".into()),
                dirty: Some(true),
                ..Default::default()
            },
            "ops-console",
            today,
        )
        .unwrap();
    for (read, revision) in [
        ("GET /v1/state?reveal=sensitive", 3),
        ("GET /v1/portals/globex/members?reveal=sensitive", 4),
    ] {
        store
            .record_reveal("ops", read, revision, time::OffsetDateTime::now_utc())
            .unwrap();
    }
    drop(store);
    dir
}

#[test]
fn shows_the_audit_log_as_text() {
    let dir = with_history();
    insta::assert_snapshot!(
        "text",
        transcript(
            dir.path(),
            &[
                &["history", "--target", TARGET],
                &["history", "--target", TARGET, "--limit", "1"],
                &["history", "--target", TARGET, "--email", "Dana@globex.com"],
                &["history", "--target", TARGET, "--email", "chen@fabrikam.com"],
                &["history", "--target", TARGET, "--email", "nobody@globex.com"],
            ]
        )
    );
}

#[test]
fn shows_the_audit_log_as_json() {
    let dir = with_history();
    insta::assert_snapshot!(
        "json",
        transcript(
            dir.path(),
            &[&["history", "--target", TARGET, "--limit", "3", "--format", "json"]]
        )
    );
}

#[test]
fn shows_the_read_audit() {
    let dir = with_history();
    insta::assert_snapshot!(
        "reveals",
        transcript(
            dir.path(),
            &[
                &["history", "--target", TARGET, "--reveals"],
                &["history", "--target", TARGET, "--reveals", "--format", "json"],
            ]
        )
    );
}

#[test]
fn an_empty_log_says_so() {
    let dir = example("quickstart");
    insta::assert_snapshot!(
        "empty",
        transcript(
            dir.path(),
            &[
                &["history", "--target", TARGET],
                &["history", "--target", TARGET, "--reveals"],
            ]
        )
    );
}

#[test]
fn history_shows_creates_as_plus() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let (out, _) = setup.expect(&["history"], 0);
    let newest = out.find("revision 2").expect("revision 2");
    let oldest = out.find("revision 1").expect("revision 1");
    assert!(out[oldest..].contains("portal +1"), "{out}");
    assert!(out[newest..oldest].contains("portal ~1"), "{out}");
}

#[test]
fn history_names_the_resources_changed_and_filters_by_email() {
    let (dir, server) = crate::support::acme_with_a_self_registration();
    let out = cli_against(&server, dir.path(), &["history", "--email", "gus@globex.com"], 0);
    assert!(
        out.contains("      + member gus@globex.com in portal globex")
            && out.contains("      ~ group finance-partners"),
        "{out}"
    );
    assert_eq!(
        out.matches("revision ").count(),
        1,
        "only the registration: {out}"
    );
    // Without the filter, a large batch lists its first changes and says how many more.
    let out = cli_against(&server, dir.path(), &["history"], 0);
    assert!(
        out.contains("… and ") && out.contains(" more (`--format json` lists them)"),
        "{out}"
    );
    let out = cli_against(
        &server,
        dir.path(),
        &["history", "--email", "nobody@globex.com"],
        0,
    );
    assert!(!out.contains("revision "), "{out}");
}
