//! `portalctl explain`: snapshots of its text and JSON answers on the shipped examples,
//! from the config and from live, for partners whose access comes by every kind of path
//! (portal, group, org and user shares, a dashboard, a sensitive attribute, an expiring
//! share, an expired membership), and its answer for an unknown partner.

use crate::outputs::{apply_to_live, example, transcript, transcript_on};

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
