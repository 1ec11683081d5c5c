//! Sensitive attribute values on the live side (issue 21, defect 4): every reader sees a
//! digest, except an `admin` token that asks (`?reveal=sensitive`, logged); `plan` and
//! `drift` still notice a value changed behind git's back, without showing it; `import`
//! with an admin token writes the values, with a read token placeholders.

use reqwest::Method;
use serde_json::json;

use crate::live_owned::acme_copy;
use crate::support::{ServerGuard, ServerOptions, cli_against, cli_with_token, client, json};

const READ_TOKEN: &str = "read-token-5521";

fn get_with(server: &ServerGuard, token: &str, path: &str) -> (u16, serde_json::Value) {
    json(client().get(server.url(path)).bearer_auth(token).send().unwrap())
}

/// Regression (issue 21, defect 4): a read token read `contract_ref: "K-1"` in clear.
#[test]
fn sensitive_values_are_masked_for_every_reader_but_an_admin_who_asks() {
    let dir = acme_copy();
    let server = ServerGuard::start(ServerOptions {
        tokens_file: Some(format!(
            "- {{name: ci, token: test-admin-token, scope: admin}}\n- {{name: dashboard, token: {READ_TOKEN}, scope: read}}\n"
        )),
        ..ServerOptions::with_admin()
    });
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let admin = "test-admin-token";
    for token in [READ_TOKEN, admin] {
        for path in [
            "/v1/portals/globex/members",
            "/v1/portals/globex/members/alice@globex.com",
            "/v1/state",
        ] {
            let (status, body) = get_with(&server, token, path);
            assert_eq!(status, 200, "{path}: {body}");
            let text = body.to_string();
            assert!(!text.contains("K-1"), "{token} {path}: {text}");
            assert!(text.contains("(sensitive) sha256:"), "{path}: {text}");
            assert!(text.contains("t-042"), "other values stay: {text}");
        }
        let (status, body) = get_with(&server, token, "/v1/portals/globex/members?reveal=sensitive");
        if token == admin {
            assert_eq!(status, 200, "{body}");
            assert!(body.to_string().contains("K-1"), "{body}");
        } else {
            assert_eq!(status, 403, "{body}");
            assert_eq!(body["error"]["code"], "reveal_forbidden", "{body}");
        }
    }
    let (status, body) = get_with(&server, admin, "/v1/state?reveal=sensitive");
    assert_eq!(status, 200);
    assert!(body.to_string().contains("K-1"));
    assert!(
        server.stderr().contains("sensitive attribute values revealed"),
        "the reveal is logged: {}",
        server.stderr()
    );

    // plan (reading digests) sees no change; a value changed behind git's back is drift,
    // shown masked.
    let out = cli_with_token(&server, dir.path(), READ_TOKEN, &["plan"], 0);
    assert!(out.contains("No changes."), "{out}");
    let (status, body) = json(server.send_json(
        Method::PATCH,
        "/v1/portals/globex/members/alice@globex.com",
        &json!({"attributes": {"contract_ref": "K-CHANGED"}}),
    ));
    assert!(status < 300, "{body}");
    let out = cli_with_token(&server, dir.path(), READ_TOKEN, &["drift"], 2);
    assert!(
        out.contains("member alice@globex.com in portal globex")
            && out.contains("attributes.contract_ref: (sensitive) differs"),
        "{out}"
    );
    assert!(!out.contains("K-CHANGED") && !out.contains("K-1"), "{out}");

    // import: an admin writes the value, a read token placeholders.
    let imported = tempfile::tempdir().unwrap();
    cli_against(&server, imported.path(), &["import", "--out", "admin"], 0);
    let globex = std::fs::read_to_string(imported.path().join("admin/portals/globex.yaml")).unwrap();
    assert!(globex.contains("contract_ref: K-CHANGED"), "{globex}");
    cli_with_token(
        &server,
        imported.path(),
        READ_TOKEN,
        &["import", "--out", "read"],
        0,
    );
    let globex = std::fs::read_to_string(imported.path().join("read/portals/globex.yaml")).unwrap();
    assert!(
        !globex.contains("K-CHANGED") && globex.contains("FILL-IN-SENSITIVE-VALUE"),
        "{globex}"
    );
}
