//! `portalctl serve` over real HTTP: the real binary on port 0 with a temp database.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, client, json};

const SECRET: &str = "TAX-SECRET-9876";

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

fn delete(kind: &str, key: &[&str]) -> Value {
    json!({"op": "delete", "kind": kind, "key": key})
}

fn portal(name: &str, self_registration: Option<Value>, protect: bool) -> Value {
    let mut portal = json!({
        "name": name, "color": "#0F62FE", "logout_url": "https://acme.io/bye", "protect": protect
    });
    if let Some(registration) = self_registration {
        portal["self_registration"] = registration;
    }
    portal
}

fn member(org: &str) -> Value {
    json!({"role": "viewer", "org": org})
}

/// A small valid workspace: portals `globex` (self-registration for globex.com) and
/// `initech`; alice and bob at Globex, carol at Initech; group `finance` = {bob};
/// folders /Partners, /Partners/Finance, /Partners/Finance/Q3, /Internal.
fn base() -> Value {
    json!([
        put(
            "workspace",
            &[],
            json!({"name": "Acme", "owner_domains": ["acme.io"]})
        ),
        put(
            "attribute",
            &["tax_id"],
            json!({"type": "string", "sensitive": true})
        ),
        put(
            "partner_org",
            &["globex"],
            json!({"domains": ["globex.com"], "kind": "channel_partner"})
        ),
        put(
            "partner_org",
            &["initech"],
            json!({"domains": ["initech.com"], "kind": "customer"})
        ),
        put(
            "portal",
            &["globex"],
            portal(
                "Globex",
                Some(json!({
                    "enabled": true, "default_role": "viewer", "allowed_domains": ["globex.com"]
                })),
                false
            )
        ),
        put("portal", &["initech"], portal("Initech", None, false)),
        put(
            "member",
            &["globex", "alice@globex.com"],
            json!({"role": "viewer", "org": "globex", "attributes": {"tax_id": SECRET}})
        ),
        put("member", &["globex", "bob@globex.com"], member("globex")),
        put("member", &["initech", "carol@initech.com"], member("initech")),
        put("group", &["finance"], json!({"members": ["bob@globex.com"]})),
        put("folder", &["/Partners"], json!({})),
        put("folder", &["/Partners/Finance"], json!({})),
        put("folder", &["/Partners/Finance/Q3"], json!({})),
        put("folder", &["/Internal"], json!({})),
    ])
}

fn seeded() -> ServerGuard {
    let server = ServerGuard::start(ServerOptions::with_admin());
    let (status, body) = json(server.post_changes(Some(0), base()));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["revision"], 1);
    server
}

fn check(server: &ServerGuard, email: &str, folder: &str) -> Value {
    let (status, body) = json(server.get(&format!("/v1/access/{email}/check?folder={folder}")));
    assert_eq!(status, 200, "{body}");
    body["level"].clone()
}

fn assert_error(response: reqwest::blocking::Response, status: u16, code: &str) -> Value {
    let (got, body) = json(response);
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body
}

#[test]
fn health_is_open_and_v1_needs_a_valid_token() {
    let server = ServerGuard::start(ServerOptions::with_admin());
    let (status, body) = json(client().get(server.url("/healthz")).send().unwrap());
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let anonymous = client().get(server.url("/v1/state")).send().unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_error(anonymous, 401, "unauthorized");
    let wrong = client()
        .get(server.url("/v1/state"))
        .bearer_auth("nope")
        .send()
        .unwrap();
    assert_error(wrong, 401, "unauthorized");
    assert_eq!(server.get("/v1/state").status(), 200);
    assert!(
        !server.stderr().contains("test-admin-token"),
        "{}",
        server.stderr()
    );
}

#[test]
fn a_read_token_reads_but_cannot_write() {
    let server = ServerGuard::start(ServerOptions {
        tokens_file: Some("- {name: dashboard, token: read-only-token, scope: read}\n".into()),
        ..ServerOptions::with_admin()
    });
    let read = |method: Method, path: &str| {
        client()
            .request(method, server.url(path))
            .bearer_auth("read-only-token")
    };
    assert_eq!(read(Method::GET, "/v1/state").send().unwrap().status(), 200);
    let write = read(Method::POST, "/v1/changes")
        .json(&json!({"expected_revision": null, "changes": []}))
        .send()
        .unwrap();
    assert_error(write, 403, "forbidden");
    let write = read(Method::PUT, "/v1/roles/x").json(&json!({})).send().unwrap();
    assert_error(write, 403, "forbidden");
    assert!(!server.stderr().contains("read-only-token"));
}

#[test]
fn batches_commit_with_a_growing_revision_and_stale_ones_are_refused() {
    let server = seeded();
    let response = server.get("/v1/state");
    assert_eq!(response.headers()["etag"], "\"1\"");
    let (_, body) = json(response);
    assert_eq!(body["state"]["members"].as_array().unwrap().len(), 3);
    let stale = server.post_changes(Some(0), json!([put("folder", &["/New"], json!({}))]));
    let body = assert_error(stale, 409, "stale_revision");
    assert_eq!(body["current_revision"], 1);
    let (status, body) = json(server.post_changes(Some(1), json!([put("folder", &["/New"], json!({}))])));
    assert_eq!((status, body["revision"].as_u64()), (200, Some(2)));
}

#[test]
fn a_batch_with_one_bad_change_leaves_the_database_untouched() {
    let mut server = seeded();
    let batch = json!([
        put("folder", &["/Fresh"], json!({})),
        put(
            "member",
            &["globex", "dave@globex.com"],
            json!({"role": "nope", "org": "globex"})
        ),
        put("share", &["/Fresh", "group:ghosts"], json!({"access": "view"})),
    ]);
    // Both problems are references to what does not exist (a role, a group): a conflict
    // with the current state, listed as for an invalid batch.
    let body = assert_error(server.post_changes(Some(1), batch), 409, "conflicts_with_state");
    let problems = body["problems"].as_array().unwrap();
    let indices: Vec<u64> = problems.iter().filter_map(|p| p["index"].as_u64()).collect();
    assert_eq!(indices, [1, 2], "{body}");
    assert_eq!(problems[0]["field"], "/members/globex/dave@globex.com/role");
    assert!(server.stop());
    let server = ServerGuard::start_in(Arc::clone(&server.dir), ServerOptions::with_admin());
    let (state, revision) = server.state();
    assert_eq!(revision, 1);
    assert!(state["folders"].get("/Fresh").is_none());
    assert_eq!(state["members"].as_array().unwrap().len(), 3);
}

#[test]
fn bad_input_gets_a_json_4xx_never_a_500() {
    let server = ServerGuard::start(ServerOptions {
        extra_args: vec!["--max-body-bytes".into(), "2048".into()],
        ..ServerOptions::with_admin()
    });
    let raw = |method: Method, path: &str, body: &str| {
        server
            .request(method, path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    };
    assert_error(
        raw(Method::POST, "/v1/changes", "{\"changes\": ["),
        400,
        "malformed_json",
    );
    assert_error(
        raw(Method::POST, "/v1/changes", "not json"),
        400,
        "malformed_json",
    );
    let body = assert_error(
        raw(
            Method::POST,
            "/v1/changes",
            r#"{"expected_revision": "one", "changes": []}"#,
        ),
        422,
        "invalid_body",
    );
    assert_eq!(body["error"]["field"], "/expected_revision");
    assert_error(
        raw(
            Method::POST,
            "/v1/changes",
            r#"{"expected_revision": 0, "changes": [], "extra": 1}"#,
        ),
        422,
        "invalid_body",
    );
    assert_error(
        raw(
            Method::POST,
            "/v1/changes",
            r#"{"expected_revision": 0, "changes": [{"op": "put", "kind": "nope"}]}"#,
        ),
        422,
        "invalid_body",
    );
    assert_error(
        raw(Method::PUT, "/v1/roles/r", r#"{"permissions": 3}"#),
        422,
        "invalid_body",
    );
    let big = format!(
        r#"{{"expected_revision": 0, "changes": [], "meta": {{"author": "{}"}}}}"#,
        "x".repeat(4096)
    );
    assert_error(raw(Method::POST, "/v1/changes", &big), 413, "body_too_large");
    assert_error(server.get("/v1/nope"), 404, "not_found");
    assert_error(server.get("/v1/shares/team:x/Partners"), 400, "bad_path");
    assert_error(server.get("/v1/audit?after=minus"), 400, "bad_query");
    assert_error(server.get("/v1/access/a@x.com/check"), 400, "bad_query");
    assert_error(
        server.request(Method::PATCH, "/v1/state").send().unwrap(),
        405,
        "method_not_allowed",
    );
    assert_error(
        server
            .request(Method::PUT, "/v1/roles/r")
            .header("if-match", "soon")
            .json(&json!({}))
            .send()
            .unwrap(),
        400,
        "bad_if_match",
    );
}

#[test]
fn resource_endpoints_list_get_put_and_delete() {
    let server = seeded();
    // Every collection lists in key order.
    for (path, count) in [
        ("/v1/attributes", 1),
        ("/v1/roles", 0),
        ("/v1/partner_orgs", 2),
        ("/v1/portals", 2),
        ("/v1/portals/globex/members", 2),
        ("/v1/groups", 1),
        ("/v1/groups/finance/members", 1),
        ("/v1/folders", 4),
        ("/v1/shares", 0),
    ] {
        let (status, body) = json(server.get(path));
        assert_eq!(status, 200, "{path}: {body}");
        assert_eq!(body["items"].as_array().unwrap().len(), count, "{path}: {body}");
    }
    // Pagination: stable order, a cursor per page, none after the last.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/folders?limit=1&cursor={cursor}"),
            None => "/v1/folders?limit=1".into(),
        };
        let (_, page) = json(server.get(&path));
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["key"][0].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            json!("/Internal"),
            json!("/Partners"),
            json!("/Partners/Finance"),
            json!("/Partners/Finance/Q3")
        ]
    );
    assert_error(server.get("/v1/folders?cursor=zz"), 400, "bad_cursor");
    // Workspace.
    let (_, workspace) = json(server.get("/v1/workspace"));
    assert_eq!(workspace["name"], "Acme");
    // PUT is an idempotent upsert.
    let role =
        json!({"description": "reads and exports", "extends": "viewer", "permissions": ["data.export"]});
    let (status, first) = json(server.send_json(Method::PUT, "/v1/roles/exporter", &role));
    assert_eq!((status, first["revision"].as_u64()), (200, Some(2)));
    let (_, again) = json(server.send_json(Method::PUT, "/v1/roles/exporter", &role));
    assert_eq!(again["revision"], 2);
    let response = server.get("/v1/roles/exporter");
    assert_eq!(response.headers()["etag"], "\"2\"");
    assert_eq!(json(response).1, role);
    // If-Match guards writes.
    let stale = server
        .request(Method::PUT, "/v1/roles/exporter")
        .header("if-match", "\"1\"")
        .json(&json!({"permissions": []}))
        .send()
        .unwrap();
    assert_eq!(
        assert_error(stale, 412, "precondition_failed")["current_revision"],
        2
    );
    let fresh = server
        .request(Method::DELETE, "/v1/roles/exporter")
        .header("if-match", "\"2\"")
        .send()
        .unwrap();
    assert_eq!(json(fresh).1["revision"], 3);
    assert_error(server.get("/v1/roles/exporter"), 404, "not_found");
    assert_error(
        server
            .request(Method::DELETE, "/v1/roles/exporter")
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    // Each collection's item endpoints.
    let items = [
        (
            "/v1/attributes/region",
            json!({"type": "enum", "values": ["emea", "amer"]}),
        ),
        (
            "/v1/partner_orgs/umbrella",
            json!({"domains": ["umbrella.com"], "kind": "investor"}),
        ),
        ("/v1/portals/umbrella", portal("Umbrella", None, false)),
        (
            "/v1/portals/umbrella/members/Eve@Umbrella.com",
            json!({"role": "viewer", "org": "umbrella"}),
        ),
        ("/v1/groups/investors", json!({"members": ["eve@umbrella.com"]})),
        (
            "/v1/folders/Investors/Reports",
            json!({"description": "quarterly"}),
        ),
        (
            "/v1/shares/group:investors/Investors/Reports",
            json!({"access": "view"}),
        ),
    ];
    for (path, value) in &items {
        let (status, body) = json(server.send_json(Method::PUT, path, value));
        assert_eq!(status, 200, "{path}: {body}");
        let (status, body) = json(server.get(path));
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, eve) = json(server.get("/v1/portals/umbrella/members/eve@umbrella.com"));
    assert_eq!(eve["source"], "managed");
    let (_, shares) = json(server.get("/v1/shares"));
    assert_eq!(
        shares["items"][0]["key"],
        json!(["/Investors/Reports", "group:investors"])
    );
    // Group members.
    let (status, _) = json(
        server
            .request(Method::PUT, "/v1/groups/finance/members/alice@globex.com")
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    let (_, members) = json(server.get("/v1/groups/finance/members"));
    assert_eq!(members["items"].as_array().unwrap().len(), 2);
    let (status, _) = json(
        server
            .request(Method::DELETE, "/v1/groups/finance/members/alice@globex.com")
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_error(
        server
            .request(Method::DELETE, "/v1/groups/finance/members/alice@globex.com")
            .send()
            .unwrap(),
        404,
        "not_found",
    );
    // Deleting children first, then parents.
    for (path, _) in items.iter().rev() {
        let (status, body) = json(server.request(Method::DELETE, path).send().unwrap());
        assert_eq!(status, 200, "{path}: {body}");
    }
    // A write that breaks a rule names the field: a missing role is a conflict with the
    // current state (409), a malformed colour an invalid value (422).
    let body = assert_error(
        server.send_json(
            Method::PUT,
            "/v1/portals/globex/members/zed@globex.com",
            &json!({"role": "ghost"}),
        ),
        409,
        "conflicts_with_state",
    );
    assert_eq!(body["error"]["field"], "/members/globex/zed@globex.com/role");
    let body = assert_error(
        server.send_json(
            Method::PUT,
            "/v1/portals/globex",
            &json!({"name": "Globex", "color": "blue", "logout_url": "https://globex.com/bye"}),
        ),
        422,
        "invalid_changes",
    );
    assert_eq!(body["error"]["field"], "/portals/globex/color");
}

#[test]
fn removing_a_partner_org_revokes_its_partners_at_once() {
    let server = seeded();
    let (status, _) = json(server.post_changes(
        None,
        json!([put(
            "share",
            &["/Partners", "portal:globex"],
            json!({"access": "view"})
        )]),
    ));
    assert_eq!(status, 200);
    assert_eq!(check(&server, "alice@globex.com", "/Partners"), "view");
    let (status, body) = json(server.post_changes(None, json!([delete("partner_org", &["globex"])])));
    assert_eq!(status, 200, "{body}");
    assert_eq!(check(&server, "alice@globex.com", "/Partners"), Value::Null);
    assert_eq!(check(&server, "bob@globex.com", "/Partners"), Value::Null);
    let (state, _) = server.state();
    assert_eq!(state["members"].as_array().unwrap().len(), 1);
    assert_eq!(state["groups"]["finance"]["members"], json!([]));
}

#[test]
fn a_protected_portal_is_kept_until_protect_is_lifted() {
    let server = seeded();
    let protect = json!([put("portal", &["initech"], portal("Initech", None, true))]);
    assert_eq!(server.post_changes(None, protect).status(), 200);
    let remove = json!([
        delete("member", &["initech", "carol@initech.com"]),
        delete("portal", &["initech"])
    ]);
    let body = assert_error(server.post_changes(None, remove.clone()), 409, "protected");
    assert!(body["error"]["message"].as_str().unwrap().contains("initech"));
    let lift = json!([put("portal", &["initech"], portal("Initech", None, false))]);
    assert_eq!(server.post_changes(None, lift).status(), 200);
    let (status, body) = json(server.post_changes(None, remove));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn data_survives_a_restart() {
    let mut server = seeded();
    assert!(server.stop(), "a clean exit on SIGTERM");
    // The stderr reader thread may lag the process exit by a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !server.stderr().contains("stopped") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(server.stderr().contains("stopped"), "{}", server.stderr());
    let server = ServerGuard::start_in(Arc::clone(&server.dir), ServerOptions::with_admin());
    let (state, revision) = server.state();
    assert_eq!(revision, 1);
    assert_eq!(state["workspace"]["name"], "Acme");
    let (_, audit) = json(server.get("/v1/audit?after=0"));
    assert_eq!(audit["entries"].as_array().unwrap().len(), 1);
}

#[test]
fn conflicting_concurrent_batches_commit_or_get_409() {
    let server = Arc::new(seeded());
    let threads: Vec<_> = (0..8)
        .map(|client_id| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                let mut committed = Vec::new();
                let mut refused = 0;
                for round in 0..5 {
                    let (_, revision) = server.state();
                    let folder = format!("/Partners/c{client_id}r{round}");
                    let response = server.post_changes(
                        Some(revision),
                        json!([put("folder", &[folder.as_str()], json!({}))]),
                    );
                    let (status, body) = json(response);
                    match status {
                        200 => committed.push((body["revision"].as_u64().unwrap(), folder)),
                        409 => refused += 1,
                        other => panic!("unexpected {other}: {body}"),
                    }
                }
                (committed, refused)
            })
        })
        .collect();
    let mut committed = Vec::new();
    let mut refused = 0;
    for thread in threads {
        let (mine, theirs) = thread.join().unwrap();
        assert!(
            mine.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "revisions grow for each client"
        );
        committed.extend(mine);
        refused += theirs;
    }
    assert_eq!(committed.len() + refused, 40);
    assert!(!committed.is_empty());
    committed.sort();
    let revisions: Vec<u64> = committed.iter().map(|(revision, _)| *revision).collect();
    let expected: Vec<u64> = (2..2 + committed.len() as u64).collect();
    assert_eq!(
        revisions, expected,
        "one revision per commit, none skipped or shared"
    );
    let (state, revision) = server.state();
    assert_eq!(revision, 1 + committed.len() as u64);
    for (_, folder) in &committed {
        assert!(state["folders"].get(folder).is_some(), "{folder} was lost");
    }
    let (_, audit) = json(server.get("/v1/audit?after=1&limit=1000"));
    let audited: Vec<u64> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["revision"].as_u64().unwrap())
        .collect();
    assert_eq!(audited, expected, "exactly one audit entry per committed batch");
}

#[test]
fn access_decisions_follow_every_grant_path() {
    let server = seeded();
    let shares = json!([
        // An editor: the edit share below is not capped by the role.
        put(
            "member",
            &["globex", "bob@globex.com"],
            json!({"role": "editor", "org": "globex"})
        ),
        put(
            "share",
            &["/Partners/Finance", "user:alice@globex.com"],
            json!({"access": "view"})
        ),
        put(
            "share",
            &["/Partners", "group:finance"],
            json!({"access": "edit"})
        ),
        put(
            "share",
            &["/Partners/Finance", "portal:initech"],
            json!({"access": "view"})
        ),
        put(
            "share",
            &["/Partners/Finance", "portal:globex"],
            json!({"access": "view"})
        ),
        put(
            "share",
            &["/Internal", "user:carol@initech.com"],
            json!({"access": "edit", "expires": "2020-01-01"})
        ),
    ]);
    let (status, body) = json(server.post_changes(None, shares));
    assert_eq!(status, 200, "{body}");
    // Direct, portal, inherited (Q3 from /Partners/Finance), highest level wins.
    assert_eq!(check(&server, "alice@globex.com", "/Partners/Finance"), "view");
    assert_eq!(check(&server, "alice@globex.com", "/Partners"), Value::Null);
    assert_eq!(
        check(&server, "carol@initech.com", "/Partners/Finance/Q3"),
        "view"
    );
    assert_eq!(check(&server, "bob@globex.com", "/Partners/Finance/Q3"), "edit");
    assert_eq!(check(&server, "Bob@Globex.com", "/Partners"), "edit");
    // Expired share: nothing, even before any apply removes it.
    assert_eq!(check(&server, "carol@initech.com", "/Internal"), Value::Null);
    let (_, body) = json(server.get("/v1/access/bob@globex.com/check?folder=/Partners/Finance"));
    assert_eq!(
        body,
        json!({
            "allowed": true,
            "level": "edit",
            "permissions": ["dashboards.create", "reports.edit", "reports.view"],
            "known": true
        })
    );
    // Every path is listed.
    let (status, access) = json(server.get("/v1/access/bob@globex.com"));
    assert_eq!(status, 200);
    assert_eq!(access["active_partner"], true);
    let finance = access["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|folder| folder["folder"] == "/Partners/Finance")
        .unwrap()
        .clone();
    assert_eq!(finance["level"], "edit");
    let kinds: Vec<&str> = finance["grants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["group", "portal"]);
    // A removed member loses access at once.
    let (status, _) = json(
        server
            .request(Method::DELETE, "/v1/groups/finance/members/bob@globex.com")
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(check(&server, "bob@globex.com", "/Partners/Finance/Q3"), "view");
    let (status, _) =
        json(server.post_changes(None, json!([delete("member", &["globex", "bob@globex.com"])])));
    assert_eq!(status, 200);
    assert_eq!(
        check(&server, "bob@globex.com", "/Partners/Finance/Q3"),
        Value::Null
    );
    let (_, access) = json(server.get("/v1/access/bob@globex.com"));
    assert_eq!(access["folders"], json!([]));
    assert_eq!(access["active_partner"], false);
}

#[test]
fn self_registration_respects_the_portal_settings() {
    let server = seeded();
    let register = |portal: &str, email: &str| {
        server.send_json(
            Method::POST,
            &format!("/v1/portals/{portal}/self-register"),
            &json!({"email": email}),
        )
    };
    assert_error(
        register("initech", "zoe@initech.com"),
        403,
        "self_registration_disabled",
    );
    assert_error(register("globex", "zoe@initech.com"), 403, "domain_not_allowed");
    assert_error(register("nowhere", "zoe@globex.com"), 404, "not_found");
    let (status, body) = json(register("globex", "Zoe@Globex.com"));
    assert_eq!(status, 201, "{body}");
    assert_error(register("globex", "zoe@globex.com"), 409, "already_member");
    let (_, zoe) = json(server.get("/v1/portals/globex/members/zoe@globex.com"));
    assert_eq!(
        zoe,
        json!({"role": "viewer", "org": "globex", "source": "self_registration"})
    );
    let (_, audit) = json(server.get("/v1/audit?after=1"));
    assert_eq!(audit["entries"][0]["token"], "admin");
    assert_eq!(audit["entries"][0]["meta"]["author"], "zoe@globex.com");
}

#[test]
fn the_audit_log_names_the_token_and_masks_sensitive_values() {
    let server = ServerGuard::start(ServerOptions {
        tokens_file: Some("- {name: ci-pipeline, token: ci-token-123, scope: admin}\n".into()),
        ..ServerOptions::with_admin()
    });
    let body = json!({
        "expected_revision": 0,
        "changes": base(),
        "meta": {"commit": "abc123", "author": "ops@acme.io", "plan_id": "p-1", "tool_version": "0.1.0", "dirty": false}
    });
    let response = client()
        .post(server.url("/v1/changes"))
        .bearer_auth("ci-token-123")
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        server
            .post_changes(Some(1), json!([put("folder", &["/X"], json!({}))]))
            .status(),
        200
    );
    let (_, audit) = json(server.get("/v1/audit?after=0"));
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["token"], "ci-pipeline");
    assert_eq!(entries[0]["meta"], body["meta"]);
    assert_eq!(entries[0]["change_count"], 14);
    assert_eq!(entries[1]["token"], "admin");
    let text = audit.to_string();
    assert!(!text.contains(SECRET) && text.contains("(sensitive)"), "{text}");
    let (_, later) = json(server.get("/v1/audit?after=1"));
    assert_eq!(later["entries"].as_array().unwrap().len(), 1);
    let logs = server.stderr();
    assert!(!logs.contains(SECRET) && !logs.contains("ci-token-123") && !logs.contains("test-admin-token"));
    assert!(logs.contains("ci-pipeline"), "{logs}");
}

#[test]
fn inject_503_answers_the_first_requests_with_retry_after() {
    let server = ServerGuard::start(ServerOptions {
        extra_args: vec!["--inject-503".into(), "2".into()],
        ..ServerOptions::with_admin()
    });
    assert_eq!(client().get(server.url("/healthz")).send().unwrap().status(), 200);
    for _ in 0..2 {
        let response = server.get("/v1/state");
        assert_eq!(response.headers()["retry-after"], "0");
        assert_error(response, 503, "unavailable");
    }
    assert_eq!(server.get("/v1/state").status(), 200);
}

#[test]
fn without_a_token_only_loopback_is_served() {
    let server = ServerGuard::start(ServerOptions::default());
    assert!(
        server.stderr().contains("no token configured"),
        "{}",
        server.stderr()
    );
    assert_eq!(server.get("/v1/state").status(), 200);
    let refused = ServerGuard::try_start_in(
        Arc::new(tempfile::tempdir().unwrap()),
        ServerOptions {
            listen: Some("0.0.0.0:0".into()),
            ..ServerOptions::default()
        },
    );
    let stderr = refused.err().expect("the server refuses to start");
    assert!(stderr.contains("refusing to listen"), "{stderr}");
    // The hint is the error's field, printed once on its own line after a blank one.
    assert!(
        stderr.contains("\n\nhint: set `PORTALCTL_TOKEN` or pass `--token-file`"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("hint:").count(), 1, "{stderr}");
}

#[test]
fn an_apply_over_the_body_limit_says_which_flag_raises_it_and_changes_nothing() {
    let server = ServerGuard::start(ServerOptions {
        extra_args: vec!["--max-body-bytes".into(), "400".into()],
        ..ServerOptions::with_admin()
    });
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["apply", "--auto-approve"])
        .arg(&config)
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TARGET", &server.base)
        .env("PORTALCTL_TOKEN", server.token.as_deref().unwrap_or_default())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the portalctl binary runs");
    let err = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("over the service's request body limit"), "{err}");
    assert!(err.contains("--max-body-bytes"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(server.state().1, 0, "nothing was committed");
}
