//! What the live side owns, end to end on `examples/acme` (issue 21, defects 1–3 and the
//! approval command): a partner who self-registers keeps the groups their registration
//! joined through the next `apply`, `drift` lists them as expected and exits 0, `import`
//! then `plan` is clean, and `portalctl approve` approves a pending registration.

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::json;

use crate::support::{ServerGuard, ServerOptions, cli_against, json};

/// A copy of `examples/acme` in a temp dir.
pub fn acme_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/acme"),
        dir.path(),
    );
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn allowed(server: &ServerGuard, email: &str, folder: &str) -> bool {
    let (status, body) = json(server.get(&format!("/v1/access/{email}/check?folder={folder}")));
    assert_eq!(status, 200, "{body}");
    body["allowed"].as_bool().unwrap()
}

/// Regression (issue 21, defects 1, 2 and 3).
#[test]
fn a_self_registration_survives_apply_is_not_drift_and_import_round_trips() {
    let dir = acme_copy();
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "gus@globex.com"}),
    ));
    assert_eq!(status, 201, "{body}");
    assert!(allowed(&server, "gus@globex.com", "/Partners/Finance"));

    // Defect 1: the next apply of the unchanged config keeps the registration's group.
    let out = cli_against(&server, dir.path(), &["plan"], 0);
    assert!(
        out.contains("1 group entry that registrations made is kept (owned live, not in git): gus@globex.com in group finance-partners"),
        "{out}"
    );
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    assert!(allowed(&server, "gus@globex.com", "/Partners/Finance"));

    // Defect 2: drift lists it as expected live and exits 0.
    let out = cli_against(&server, dir.path(), &["drift"], 0);
    assert!(
        out.contains("Expected live (owned by the live side, not drift): 1 self-registered member, 0 registrations awaiting approval, 1 group entry")
            && out.contains("? member gus@globex.com in portal globex")
            && out.contains("? gus@globex.com in group finance-partners")
            && out.contains("No drift"),
        "{out}"
    );
    assert!(!out.contains("grants access"), "{out}");

    // Defect 3: import then plan is clean; the registration is left out, and said so.
    let imported = tempfile::tempdir().unwrap();
    let out_dir = imported.path().join("imported");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["import", "--out", out_dir.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TARGET", &server.base)
        .env("PORTALCTL_TOKEN", server.token.as_deref().unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        err.contains("left out 1 self-registered member(s)")
            && err.contains("gus@globex.com in portal globex"),
        "{err}"
    );
    assert!(
        err.contains("3 portals, 8 members, 3 groups, 6 folders, 1 dashboard"),
        "{err}"
    );
    let out = cli_against(&server, &out_dir, &["plan"], 0);
    assert!(out.contains("No changes."), "{out}");
}

#[test]
fn portalctl_approve_approves_a_pending_registration_on_either_target() {
    let dir = acme_copy();
    let globex = dir.path().join("portals/globex.yaml");
    let text = std::fs::read_to_string(&globex).unwrap();
    std::fs::write(
        &globex,
        text.replace(
            "groups: [finance-partners]",
            "groups: [finance-partners]\n      approval: required",
        ),
    )
    .unwrap();
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "hal@globex.com"}),
    ));
    assert_eq!(status, 202, "{body}");
    let out = cli_against(&server, dir.path(), &["plan"], 0);
    assert!(
        out.contains("approve with `portalctl approve globex hal@globex.com`") && !out.contains("{portal}"),
        "{out}"
    );
    assert!(!allowed(&server, "hal@globex.com", "/Partners/Finance"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["approve", "globex", "hal@globex.com"])
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TARGET", &server.base)
        .env("PORTALCTL_TOKEN", server.token.as_deref().unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("approved hal@globex.com in portal globex"), "{err}");
    assert!(allowed(&server, "hal@globex.com", "/Partners/Finance"));
    cli_against(&server, dir.path(), &["drift"], 0);

    // Again: nothing to do. An unknown member: a clear error.
    let again = crate::support::portalctl(
        dir.path(),
        &[
            "approve",
            "globex",
            "nobody@globex.com",
            "--target",
            "sqlite:local.db",
        ],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("no portal `globex`"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}
