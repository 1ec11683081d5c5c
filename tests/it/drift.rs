//! `portalctl drift`: snapshots of its report in text, markdown and JSON on the shipped
//! example after live and git part ways (members added, removed and changed, a share
//! removed, all "outside git" from git's side), and of an expired grant still live.

use crate::outputs::{apply_to_live, edit_config, example, transcript, transcript_on};

const TARGET: &str = "sqlite:live.db";

/// The acme example applied to `sqlite:live.db`, then its config changed behind live's
/// back: live now holds what git no longer says.
fn drifted() -> tempfile::TempDir {
    let dir = example("acme");
    apply_to_live(dir.path());
    let edit = |file: &str, from: &str, to: &str| edit_config(dir.path(), file, from, to);
    edit("rosters/globex.csv", "fay@globex.com,,t-042,amer,2\n", "");
    edit(
        "rosters/globex.csv",
        "eli@globex.com,editor,",
        "eli@globex.com,viewer,",
    );
    edit(
        "portals/contoso.yaml",
        "      - email: bob@initech.com",
        "      - email: cy@contoso.com\n        role: viewer\n        org: contoso\n      - email: bob@initech.com",
    );
    edit(
        "access.yaml",
        "      - group: contoso-finance\n        access: view\n",
        "",
    );
    dir
}

#[test]
fn reports_drift_in_every_format() {
    let dir = drifted();
    for format in ["text", "markdown", "json"] {
        insta::assert_snapshot!(
            format,
            transcript(
                dir.path(),
                &[&["drift", "config", "--target", TARGET, "--format", format]]
            )
        );
    }
}

#[test]
fn reports_drift_with_redacted_emails() {
    let dir = drifted();
    insta::assert_snapshot!(
        "redacted",
        transcript(
            dir.path(),
            &[&["drift", "config", "--target", TARGET, "--redact-emails"]]
        )
    );
}

#[test]
fn reports_an_expired_grant_still_live() {
    let dir = example("acme");
    apply_to_live(dir.path());
    insta::assert_snapshot!(
        "expired",
        transcript_on(
            dir.path(),
            "2027-07-01",
            &[
                &["drift", "config", "--target", TARGET],
                &["drift", "config", "--target", TARGET, "--format", "markdown"],
            ]
        )
    );
}
