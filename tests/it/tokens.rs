//! `portalctl token create|list|revoke` and `/v1/tokens` through the real binary and a real
//! server: tokens are shown once, stored as a hash, scoped (an `apply` token can plan and
//! apply but do nothing else), named in the audit log, refused at once when revoked or
//! expired — on every replica of a PostgreSQL deployment.

use std::time::Duration;

use portalctl_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::support::{CONFIG, Kind, ServerGuard, ServerOptions, Setup, client, json};

/// Runs `token create` through `setup` and returns the token it printed.
fn create(setup: &Setup, args: &[&str]) -> String {
    let mut full = vec!["token", "create"];
    full.extend_from_slice(args);
    let (out, err) = setup.expect(&full, 0);
    assert!(err.contains("it is shown once"), "{err}");
    let token = out.trim().to_string();
    assert!(
        token.starts_with("pctl_") && token.len() == 69 && !token.contains('\n'),
        "{out}"
    );
    token
}

/// `setup`'s commands, run with another token.
fn as_token(setup: &Setup, token: &str) -> Setup {
    Setup {
        dir: tempfile::tempdir().unwrap(),
        target: setup.target.clone(),
        token: Some(token.to_string()),
        server: None,
    }
}

fn status(
    server: &ServerGuard,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client().request(method, server.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().expect("answered");
    let code = response.status().as_u16();
    if code == 204 {
        return (code, Value::Null);
    }
    json(response)
}

#[test]
fn scoped_tokens_are_shown_once_named_in_the_audit_log_and_refused_once_revoked() {
    let setup = Setup::new(Kind::Http);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let ci = create(&setup, &["--name", "ci", "--scope", "apply", "--expires", "90d"]);
    let reader = create(&setup, &["--name", "reader", "--scope", "read"]);
    let okta = create(
        &setup,
        &["--name", "globex-okta", "--scope", "scim", "--org", "globex"],
    );
    let server = setup.server.as_ref().unwrap();

    // The apply scope: plan and apply, nothing else.
    let ci_setup = as_token(&setup, &ci);
    ci_setup.write_config(CONFIG);
    ci_setup.expect(&["plan", "config"], 0);
    ci_setup.write_config(&CONFIG.replace(
        "      - email: bob@globex.com\n",
        "      - email: carol@globex.com\n        role: viewer\n        org: globex\n      - email: bob@globex.com\n",
    ));
    ci_setup.expect(&["apply", "config", "--auto-approve"], 0);
    let (_, err) = ci_setup.expect(&["token", "create", "--name", "mine", "--scope", "admin"], 1);
    assert!(err.contains("`apply` scope"), "{err}");
    let (_, err) = ci_setup.expect(&["history"], 1);
    assert!(err.contains("`apply` scope"), "{err}");
    assert_eq!(
        status(
            server,
            &ci,
            reqwest::Method::GET,
            "/v1/access/alice@globex.com",
            None
        )
        .0,
        403
    );
    assert_eq!(
        status(server, &ci, reqwest::Method::GET, "/v1/tokens", None).0,
        403
    );
    // The audit log names the token, never its secret.
    let (code, audit) = status(
        server,
        &setup.token.clone().unwrap(),
        reqwest::Method::GET,
        "/v1/audit?after=1",
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(audit["entries"][0]["token"], "ci", "{audit}");

    // The read scope reads only; a partner_org token has no business with the admin API.
    assert_eq!(
        status(server, &reader, reqwest::Method::GET, "/v1/state", None).0,
        200
    );
    let (code, body) = status(
        server,
        &reader,
        reqwest::Method::POST,
        "/v1/changes",
        Some(json!({"changes": []})),
    );
    assert_eq!(code, 403, "{body}");
    let (code, body) = status(server, &okta, reqwest::Method::GET, "/v1/state", None);
    assert_eq!(code, 403, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("partner_org:globex"),
        "{body}"
    );

    // Listed with scope, creation, last use and expiry; never a token or a hash.
    let (out, _) = setup.expect(&["token", "list", "--format", "json"], 0);
    let listed = crate::output_schemas::assert_matches("token", "token list --format json", &out);
    let names: Vec<&str> = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ci", "globex-okta", "reader"]);
    assert_eq!(listed["tokens"][0]["scope"], "apply");
    assert_eq!(listed["tokens"][1]["scope"], "partner_org:globex");
    assert_eq!(listed["tokens"][0]["created_by"], "admin");
    assert!(listed["tokens"][0]["last_used_at"].is_string(), "{listed}");
    assert!(listed["tokens"][0]["expires_at"].is_string(), "{listed}");
    assert!(listed["tokens"][2]["expires_at"].is_null(), "{listed}");
    let (text, _) = setup.expect(&["token", "list"], 0);
    assert!(
        text.contains("  ci  apply  created ") && text.contains("last used"),
        "{text}"
    );
    let hash = portalctl_store::tokens::token_hash(&ci);
    for secret in [&ci, &reader, &okta, &hash] {
        assert!(!out.contains(secret.as_str()) && !text.contains(secret.as_str()));
        let (_, state) = status(server, &reader, reqwest::Method::GET, "/v1/state", None);
        assert!(!state.to_string().contains(secret.as_str()));
        assert!(!audit.to_string().contains(secret.as_str()));
        assert!(
            !server.stderr().contains(secret.as_str()),
            "the server logged a token"
        );
    }

    // Revoked: refused on the next request.
    setup.expect(&["token", "revoke", "ci"], 0);
    let (_, err) = ci_setup.expect(&["plan", "config"], 1);
    assert!(err.contains("unknown, revoked or expired token"), "{err}");
    let (_, err) = setup.expect(&["token", "revoke", "ci"], 1);
    assert!(
        err.contains("no unrevoked token is named `ci`") && err.contains("hint:"),
        "{err}"
    );
    let (out, _) = setup.expect(&["token", "list", "--format", "json"], 0);
    let listed = crate::output_schemas::assert_matches("token", "token list --format json", &out);
    assert!(listed["tokens"][0]["revoked_at"].is_string());
    let (out, _) = setup.expect(
        &[
            "token", "create", "--name", "once", "--scope", "read", "--format", "json",
        ],
        0,
    );
    let created = crate::output_schemas::assert_matches("token", "token create --format json", &out);
    assert!(
        created["token"]
            .as_str()
            .is_some_and(|token| token.starts_with("pctl_"))
            && created["created"]["name"] == "once",
        "{created}"
    );
    // Revoked names stay taken; the tokens file's names are taken too.
    let (_, err) = setup.expect(&["token", "create", "--name", "ci", "--scope", "read"], 1);
    assert!(err.contains("exists"), "{err}");
    let (_, err) = setup.expect(&["token", "create", "--name", "admin", "--scope", "read"], 1);
    assert!(err.contains("tokens file"), "{err}");
}

#[test]
fn bad_token_requests_are_refused_with_what_to_fix() {
    let setup = Setup::new(Kind::Http);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    for (args, needle) in [
        (&["--name", "x", "--scope", "scim"][..], "add `--org ORG`"),
        (
            &["--name", "x", "--scope", "read", "--org", "globex"][..],
            "`--org` goes with `--scope scim`",
        ),
        (
            &["--name", "x", "--scope", "scim", "--org", "initech"][..],
            "no partner org `initech`",
        ),
        (&["--name", "a b", "--scope", "read"][..], "not a token name"),
        (
            &["--name", "x", "--scope", "read", "--expires", "90"][..],
            "needs a unit",
        ),
        (&["--name", "x", "--scope", "root"][..], "invalid value 'root'"),
    ] {
        let mut full = vec!["token", "create"];
        full.extend_from_slice(args);
        let (_, err) = setup.expect(&full, 1);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    let server = setup.server.as_ref().unwrap();
    let admin = setup.token.clone().unwrap();
    for body in [
        json!({"name": "x", "scope": "partner_org:"}),
        json!({"name": "x", "scope": "read", "expires_in_seconds": 0}),
        json!({"name": "x", "scope": "read", "extra": 1}),
        json!({"name": "x"}),
    ] {
        let (code, answer) = status(
            server,
            &admin,
            reqwest::Method::POST,
            "/v1/tokens",
            Some(body.clone()),
        );
        assert!(code == 400 || code == 422, "{body}: {code} {answer}");
    }
    let (_, tokens) = status(server, &admin, reqwest::Method::GET, "/v1/tokens", None);
    assert_eq!(tokens["tokens"], json!([]), "nothing was created");
}

#[test]
fn an_expired_token_is_refused() {
    let setup = Setup::new(Kind::Http);
    let server = setup.server.as_ref().unwrap();
    let admin = setup.token.clone().unwrap();
    let (code, created) = status(
        server,
        &admin,
        reqwest::Method::POST,
        "/v1/tokens",
        Some(json!({"name": "brief", "scope": "read", "expires_in_seconds": 1})),
    );
    assert_eq!(code, 201, "{created}");
    let token = created["token"].as_str().unwrap();
    assert_eq!(
        status(server, token, reqwest::Method::GET, "/v1/state", None).0,
        200
    );
    std::thread::sleep(Duration::from_millis(1200));
    let (code, body) = status(server, token, reqwest::Method::GET, "/v1/state", None);
    assert_eq!(code, 401, "{body}");
}

#[test]
fn a_token_created_in_the_sqlite_store_before_serve_starts_works_once_it_does() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db = dir.path().join("portalctl.db");
    let setup = Setup {
        dir: tempfile::tempdir().unwrap(),
        target: format!("sqlite:{}", db.display()),
        token: None,
        server: None,
    };
    let boot = create(&setup, &["--name", "boot", "--scope", "admin"]);
    let (text, _) = setup.expect(&["token", "list"], 0);
    assert!(
        text.contains("  boot  admin  created ") && text.contains("by `local`"),
        "{text}"
    );
    let server = ServerGuard::start_in(
        dir,
        ServerOptions {
            db: Some(db.display().to_string()),
            ..ServerOptions::with_admin()
        },
    );
    let (code, body) = status(&server, &boot, reqwest::Method::GET, "/v1/tokens", None);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["tokens"][0]["name"], "boot");
    let (code, _) = status(&server, &boot, reqwest::Method::DELETE, "/v1/tokens/boot", None);
    assert_eq!(code, 204);
    assert_eq!(
        status(&server, &boot, reqwest::Method::GET, "/v1/tokens", None).0,
        401
    );
}

#[test]
fn a_revocation_through_one_replica_holds_at_once_on_the_other() {
    let Some(database) = TestDatabase::create() else {
        eprintln!("skipped: PORTALCTL_TEST_POSTGRES is not set");
        return;
    };
    let replica = || {
        ServerGuard::start(ServerOptions {
            db: Some(database.url().expose().to_string()),
            ..ServerOptions::with_admin()
        })
    };
    let (a, b) = (replica(), replica());
    let admin = a.token.clone().unwrap();
    let (code, created) = status(
        &a,
        &admin,
        reqwest::Method::POST,
        "/v1/tokens",
        Some(json!({"name": "shared", "scope": "read"})),
    );
    assert_eq!(code, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    for _ in 0..3 {
        assert_eq!(status(&a, &token, reqwest::Method::GET, "/v1/state", None).0, 200);
        assert_eq!(status(&b, &token, reqwest::Method::GET, "/v1/state", None).0, 200);
    }
    // Revoked through b: the very next request through a is refused, with no wait.
    let (code, _) = status(&b, &admin, reqwest::Method::DELETE, "/v1/tokens/shared", None);
    assert_eq!(code, 204);
    assert_eq!(status(&a, &token, reqwest::Method::GET, "/v1/state", None).0, 401);
    assert_eq!(status(&b, &token, reqwest::Method::GET, "/v1/state", None).0, 401);
    // Both replicas list the same tokens.
    let (_, on_a) = status(&a, &admin, reqwest::Method::GET, "/v1/tokens", None);
    let (_, on_b) = status(&b, &admin, reqwest::Method::GET, "/v1/tokens", None);
    assert_eq!(on_a, on_b);
    assert!(on_a["tokens"][0]["revoked_at"].is_string());
}

/// `token create` and `token list` on `sqlite:`, offline: the list as a user reads it
/// (times replaced by `<time>`), with the created token's value nowhere in it.
#[test]
fn token_list_on_sqlite_is_as_reviewed() {
    let dir = crate::support::example("acme");
    let (code, token, err) = crate::support::run(
        dir.path(),
        &[
            "token",
            "create",
            "--target",
            "sqlite:live.db",
            "--name",
            "ci",
            "--scope",
            "apply",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let listed = crate::support::transcript(dir.path(), &[&["token", "list", "--target", "sqlite:live.db"]]);
    assert!(!listed.contains(token.trim()), "{listed}");
    insta::assert_snapshot!("token_list", listed);
}

/// Every operation of `schemas/openapi.json` (but the public probes), as (method, path)
/// with its parameters filled with names the served config has.
fn every_operation() -> Vec<(reqwest::Method, String)> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/openapi.json"))
        .expect("the checked-in OpenAPI document");
    let document: Value = serde_json::from_str(&text).expect("JSON");
    let mut out = Vec::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            let Ok(method) = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            if operation["security"] == json!([]) {
                continue;
            }
            let filled = path
                .replace("{email}", "alice%40globex.com")
                .replace("{key}", "region")
                .replace("{path}", "Partners%2FFinance")
                .replace("{folder}", "Partners%2FFinance")
                .replace("{principal}", "portal%3Aglobex")
                .replace("{technical_name}", "globex")
                .replace("{revision}", "1")
                .replace("{name}", "finance");
            assert!(!filled.contains('{'), "a parameter is left in {filled}");
            out.push((method, filled));
        }
    }
    assert!(out.len() > 50, "{} operations", out.len());
    out
}

/// The authorization sweep: a `partner_org:globex` token is refused (`403`) on every
/// operation of the admin API, and on the staff console; an `apply` token is refused on
/// every one but `GET /v1/state` and `POST /v1/changes`. Nothing changes.
#[test]
fn partner_org_and_apply_tokens_are_refused_on_every_operation_they_do_not_need() {
    let scim = crate::scim::Scim::start();
    let server = scim.server();
    let apply = create(&scim.setup, &["--name", "ci", "--scope", "apply"]);
    let (_, before) = server.state();
    let body = || json!({});
    let mut wrong = Vec::new();
    for (method, path) in every_operation() {
        let writes = !matches!(method, reqwest::Method::GET);
        for (who, token) in [
            ("partner_org:globex", scim.globex.as_str()),
            ("apply", apply.as_str()),
        ] {
            let mut request = client()
                .request(method.clone(), server.url(&path))
                .bearer_auth(token);
            if writes {
                request = request.json(&body());
            }
            let code = request.send().expect("answered").status().as_u16();
            let needed = who == "apply"
                && matches!(
                    (method.as_str(), path.as_str()),
                    ("GET", "/v1/state") | ("POST", "/v1/changes")
                );
            let refused = code == 403;
            if needed == refused || (needed && !(200..500).contains(&code)) {
                wrong.push(format!("{who}: {method} {path} -> {code}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The staff console, with the token as a bearer: refused, never a page.
    for path in [
        "/console/",
        "/console/roster",
        "/console/portals/globex",
        "/console/partners/alice%40globex.com",
    ] {
        let response = client()
            .get(server.url(path))
            .bearer_auth(&scim.globex)
            .send()
            .expect("answered");
        let code = response.status().as_u16();
        let landed = response.url().path().to_string();
        let text = response.text().unwrap_or_default();
        // As without a token: sent to the staff sign-in (the bearer is not an admin's).
        assert!(
            matches!(code, 401 | 403) || landed == "/console/sign-in",
            "{path}: {code} at {landed}"
        );
        assert!(!text.contains("alice@globex.com"), "{path}: {text}");
    }
    let (_, after) = server.state();
    assert_eq!(after, before, "a refused request changed the state");
}
