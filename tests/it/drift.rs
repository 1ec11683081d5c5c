//! `portalctl drift`: snapshots of its report in text, markdown and JSON on the shipped
//! example after live and git part ways (members added, removed and changed, a share
//! removed, all "outside git" from git's side), and of an expired grant still live.

use std::path::Path;

use crate::outputs::{example, run, transcript, transcript_on};

const TARGET: &str = "sqlite:live.db";

/// The acme example applied to `sqlite:live.db`, then its config changed behind live's
/// back: live now holds what git no longer says.
fn drifted() -> tempfile::TempDir {
    let dir = example("acme");
    let (code, _, err) = run(
        dir.path(),
        &["apply", "config", "--target", TARGET, "--auto-approve"],
    );
    assert_eq!(code, 0, "{err}");
    let edit = |file: &str, from: &str, to: &str| {
        let path = dir.path().join("config").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} holds {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
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

fn drift(dir: &Path, format: &str) -> String {
    transcript(
        dir,
        &[&["drift", "config", "--target", TARGET, "--format", format]],
    )
}

#[test]
fn reports_drift_as_text() {
    let dir = drifted();
    insta::assert_snapshot!("text", drift(dir.path(), "text"));
}

#[test]
fn reports_drift_as_markdown() {
    let dir = drifted();
    insta::assert_snapshot!("markdown", drift(dir.path(), "markdown"));
}

#[test]
fn reports_drift_as_json() {
    let dir = drifted();
    insta::assert_snapshot!("json", drift(dir.path(), "json"));
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
    let (code, _, err) = run(
        dir.path(),
        &["apply", "config", "--target", TARGET, "--auto-approve"],
    );
    assert_eq!(code, 0, "{err}");
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
