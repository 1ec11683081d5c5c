//! `portalctl explain`: snapshots of its text and JSON answers on the shipped examples,
//! from the config and from live, for partners whose access comes by every kind of path
//! (portal, group, org and user shares, a dashboard, a sensitive attribute, an expiring
//! share, an expired membership), and its answer for an unknown partner.

use crate::support::{
    CONFIG, acme_copy, apply_to_live, committed_setup, example, portalctl, stderr, transcript, transcript_on,
};

#[test]
fn explains_every_kind_of_grant_in_the_acme_example() {
    let dir = example("acme");
    let steps: Vec<[&str; 3]> = [
        "alice@globex.com",
        "ana@contoso.com",
        "ben@contoso.co.uk",
        "bob@initech.com",
        "chen@fabrikam.com",
        "Dana@Globex.com",
    ]
    .into_iter()
    .map(|email| ["explain", email, "config"])
    .collect();
    let steps: Vec<&[&str]> = steps.iter().map(|step| &step[..]).collect();
    insta::assert_snapshot!("acme_text", transcript(dir.path(), &steps));
}

#[test]
fn explains_as_json() {
    let dir = example("acme");
    insta::assert_snapshot!(
        "acme_json",
        transcript(
            dir.path(),
            &[
                &["explain", "alice@globex.com", "config", "--format", "json"],
                &["explain", "ben@contoso.co.uk", "config", "--format", "json"],
            ]
        )
    );
}

#[test]
fn an_expired_membership_grants_nothing() {
    let dir = example("acme");
    insta::assert_snapshot!(
        "expired",
        transcript_on(
            dir.path(),
            "2027-07-01",
            &[&["explain", "ben@contoso.co.uk", "config"]]
        )
    );
}

#[test]
fn explains_from_live_and_names_an_unknown_partner() {
    let dir = example("quickstart");
    apply_to_live(dir.path());
    insta::assert_snapshot!(
        "quickstart_live",
        transcript(
            dir.path(),
            &[
                &[
                    "explain",
                    "alice@globex.com",
                    "--live",
                    "--target",
                    "sqlite:live.db"
                ],
                &["explain", "bob@globex.com", "config"],
                &["explain", "alise@globex.com", "config"],
                &["explain", "zed@nowhere.org", "config"],
            ]
        )
    );
}

#[test]
fn explain_suggests_the_nearest_partner() {
    let dir = acme_copy();
    let output = portalctl(dir.path(), &["explain", "alise@globex.com", "."]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("`alise@globex.com` is not a partner")
            && err.contains("hint: did you mean `alice@globex.com`?"),
        "{err}"
    );
}

#[test]
fn explain_shows_every_path_that_grants_access() {
    let setup = committed_setup();
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
