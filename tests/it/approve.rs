//! `portalctl approve`: approves a pending self-registration on `examples/acme`, on
//! either target (a server, and `sqlite:` on the database a server left); the partner
//! gains access only then.

use reqwest::Method;
use serde_json::json;

use crate::support::{ServerGuard, ServerOptions, acme_copy, allowed, cli_against, json};

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

    // On `sqlite:` too: a registration awaiting approval in the embedded store (made by
    // a server on that database, then stopped) is approved by `approve --target sqlite:`.
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "ivy@globex.com"}),
    ));
    assert_eq!(status, 202, "{body}");
    let mut server = server;
    assert!(server.stop());
    let target = format!("sqlite:{}", server.dir.path().join("portalctl.db").display());
    let approve = |code: i32| {
        let output = crate::support::portalctl(
            dir.path(),
            &["approve", "globex", "ivy@globex.com", "--target", &target],
        );
        let err = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(output.status.code(), Some(code), "{err}");
        err
    };
    let err = approve(0);
    assert!(
        err.contains("approved ivy@globex.com in portal globex on sqlite:"),
        "{err}"
    );
    let err = approve(0);
    assert!(
        err.contains("is not awaiting approval") && err.contains("nothing to do"),
        "{err}"
    );
    let (out, _) = crate::support::expect_exit(dir.path(), &["drift", "--target", &target], 0);
    assert!(
        out.contains("2 self-registered members, 0 registrations awaiting approval, 2 group entries")
            && out.contains("? member ivy@globex.com in portal globex"),
        "{out}"
    );
    let server = ServerGuard::start_in(server.dir.clone(), ServerOptions::with_admin());
    assert!(allowed(&server, "ivy@globex.com", "/Partners/Finance"));
}
