//! Hostile requests against the real `portalctl serve` (issue 15, item 5): each is answered
//! with the stated status and the JSON error body, and nothing is written (the revision and
//! the state are the same afterwards).

use std::io::{Read, Write};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, client};

/// A little state: a role, an org, a self-registering portal, a folder.
fn seed(server: &ServerGuard) {
    let changes = json!([
        {"op": "put", "kind": "role", "key": ["analyst"], "value": {"description": "reads", "permissions": ["reports.view"]}},
        {"op": "put", "kind": "partner_org", "key": ["globex"], "value": {"domains": ["globex.com"]}},
        {"op": "put", "kind": "portal", "key": ["globex"], "value": {
            "name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
            "self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": ["globex.com"]}}},
        {"op": "put", "kind": "folder", "key": ["/Partners"], "value": {}}
    ]);
    let response = server.post_changes(None, changes);
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        response.text().unwrap_or_default()
    );
}

/// Sends `request`, asserts `status` and a JSON error body with `code`; returns the body.
fn refused(request: reqwest::blocking::RequestBuilder, status: u16, code: &str) -> Value {
    let response = request.send().expect("the request is answered");
    let got = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().unwrap_or_default();
    assert_eq!(got, status, "{text}");
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}: {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    assert_eq!(body["error"]["code"], code, "{text}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{text}"
    );
    body
}

/// Sends raw bytes over TCP (for requests reqwest will not build) and returns the status
/// line's code, the headers and the body.
fn raw(server: &ServerGuard, request: &[u8]) -> (u16, String, String) {
    let address = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connects");
    stream.write_all(request).expect("writes");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.get(9..12).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

#[test]
fn no_token_mode_refuses_foreign_hosts_origins_and_non_json_bodies() {
    let server = ServerGuard::start(ServerOptions::default());
    seed(&server);
    let before = server.state();
    let url = server.url("/v1/changes");
    let body = json!({"expected_revision": null, "changes": [
        {"op": "put", "kind": "role", "key": ["evil"], "value": {"permissions": []}}]})
    .to_string();
    // A cross-site form post: text/plain with a foreign Origin.
    let body_403 = refused(
        client()
            .post(&url)
            .header("content-type", "text/plain")
            .header("origin", "http://evil.example")
            .body(body.clone()),
        403,
        "not_loopback",
    );
    assert_eq!(body_403["error"]["field"], "Origin");
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, so Host is theirs.
    refused(
        client()
            .post(&url)
            .header("content-type", "text/plain")
            .header("host", "evil.example:7878")
            .body(body.clone()),
        403,
        "not_loopback",
    );
    refused(
        client()
            .post(&url)
            .header("content-type", "application/json")
            .header("host", "evil.example")
            .body(body.clone()),
        403,
        "not_loopback",
    );
    refused(
        client().get(server.url("/v1/state")).header("origin", "null"),
        403,
        "not_loopback",
    );
    // Even from a loopback page, a text/plain body is refused.
    refused(
        client()
            .post(&url)
            .header("content-type", "text/plain")
            .header("origin", "http://localhost:3000")
            .body(body.clone()),
        415,
        "unsupported_media_type",
    );
    // A loopback origin with JSON is served.
    let ok = client()
        .get(server.url("/v1/state"))
        .header("origin", "http://127.0.0.1:3000")
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(server.state(), before, "nothing was written");
}

#[test]
fn with_a_token_non_json_bodies_are_refused() {
    let server = ServerGuard::start(ServerOptions::with_admin());
    seed(&server);
    let before = server.state();
    let body = json!({"expected_revision": null, "changes": [
        {"op": "put", "kind": "role", "key": ["evil"], "value": {"permissions": []}}]})
    .to_string();
    for content_type in [
        "text/plain",
        "application/xml",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        refused(
            server
                .request(Method::POST, "/v1/changes")
                .header("content-type", content_type)
                .body(body.clone()),
            415,
            "unsupported_media_type",
        );
    }
    refused(
        server
            .request(Method::PUT, "/v1/roles/evil")
            .header("content-type", "application/xml")
            .body("<role><permissions/></role>"),
        415,
        "unsupported_media_type",
    );
    refused(
        server
            .request(Method::PUT, "/v1/roles/evil")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("permissions=reports.view"),
        415,
        "unsupported_media_type",
    );
    // A body without any content type is refused too.
    refused(
        server.request(Method::POST, "/v1/changes").body(body),
        415,
        "unsupported_media_type",
    );
    // With a token the Host rule does not apply (the token is the proof).
    let ok = server
        .request(Method::GET, "/v1/state")
        .header("host", "portal-admin.example")
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(server.state(), before, "nothing was written");
}

#[test]
fn bodies_must_be_objects_without_duplicate_keys_within_size_limits() {
    let server = ServerGuard::start(ServerOptions::default());
    seed(&server);
    let before = server.state();
    let put = |path: &str, body: String| {
        server
            .request(Method::PUT, path)
            .header("content-type", "application/json")
            .body(body)
    };
    let array = refused(put("/v1/roles/x", "[null,null]".into()), 422, "invalid_body");
    assert_eq!(array["error"]["field"], "");
    let duplicate = refused(
        put(
            "/v1/roles/analyst",
            r#"{"permissions": ["reports.view"], "permissions": ["reports.edit"]}"#.into(),
        ),
        422,
        "invalid_body",
    );
    assert_eq!(duplicate["error"]["field"], "/permissions");
    let nested = refused(
        put(
            "/v1/portals/globex",
            r##"{"name": "G", "color": "#000000", "logout_url": "https://a.io",
                 "self_registration": {"enabled": true, "enabled": false, "default_role": "viewer", "allowed_domains": []}}"##
                .into(),
        ),
        422,
        "invalid_body",
    );
    assert_eq!(nested["error"]["field"], "/self_registration/enabled");
    // A 30 MiB description: under the 32 MiB body limit, over the field's limit.
    let huge = format!(
        r#"{{"description": "{}", "permissions": []}}"#,
        "d".repeat(30 * 1024 * 1024)
    );
    let description = refused(put("/v1/roles/x", huge), 422, "invalid_body");
    assert_eq!(description["error"]["field"], "/description");
    // Over the body limit: 413.
    let over = format!(r#"{{"description": "{}"}}"#, "d".repeat(33 * 1024 * 1024));
    refused(put("/v1/roles/x", over), 413, "body_too_large");
    // A huge `meta.commit` on a batch.
    let meta = json!({"expected_revision": null, "changes": [
        {"op": "put", "kind": "role", "key": ["x"], "value": {"permissions": []}}],
        "meta": {"commit": "c".repeat(1024 * 1024)}});
    let commit = refused(
        server
            .request(Method::POST, "/v1/changes")
            .header("content-type", "application/json")
            .body(meta.to_string()),
        422,
        "invalid_body",
    );
    assert_eq!(commit["error"]["field"], "/meta/commit");
    // Duplicate keys inside a change of a batch.
    let batch = r#"{"expected_revision": null, "changes": [
        {"op": "put", "kind": "role", "key": ["x"], "value": {"permissions": [], "permissions": []}}]}"#;
    let in_batch = refused(
        server
            .request(Method::POST, "/v1/changes")
            .header("content-type", "application/json")
            .body(batch),
        422,
        "invalid_body",
    );
    assert_eq!(in_batch["error"]["field"], "/changes/0/value/permissions");
    // An email over 254 bytes.
    let email = format!("{}@globex.com", "a".repeat(250));
    let long_email = refused(
        server
            .request(Method::POST, "/v1/portals/globex/self-register")
            .json(&json!({"email": email})),
        422,
        "invalid_body",
    );
    assert_eq!(long_email["error"]["field"], "/email");
    assert_eq!(server.state(), before, "nothing was written");
}

#[test]
fn a_backslash_folder_is_refused() {
    let server = ServerGuard::start(ServerOptions::default());
    seed(&server);
    let before = server.state();
    // In a URL the path is held to the document's pattern before anything else.
    let body = refused(
        server
            .request(Method::PUT, "/v1/folders/Partners%5C..%5Cx")
            .json(&json!({})),
        400,
        "bad_path",
    );
    assert_eq!(body["error"]["field"], "path", "{body}");
    let batch = server.post_changes(
        None,
        json!([{"op": "put", "kind": "folder", "key": ["/Partners\\..\\x"], "value": {}}]),
    );
    assert_eq!(batch.status().as_u16(), 422);
    assert_eq!(server.state(), before, "nothing was written");
}

#[test]
fn an_overlong_uri_is_a_json_414() {
    let server = ServerGuard::start(ServerOptions::default());
    seed(&server);
    let before = server.state();
    // Over our limit but under hyper's: answered by the guard.
    refused(
        server.request(Method::GET, &format!("/v1/roles?cursor={}", "a".repeat(20_000))),
        414,
        "uri_too_long",
    );
    // A 200 KB cursor: hyper answers before routing; the listener makes it JSON.
    let target = format!("/v1/roles?cursor={}", "a".repeat(200_000));
    let (status, head, body) = raw(
        &server,
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, 414, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(json["error"]["code"], "uri_too_long");
    // Headers over hyper's buffer: 431, JSON too.
    let (status, _, body) = raw(
        &server,
        format!(
            "GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
            "b".repeat(600_000)
        )
        .as_bytes(),
    );
    assert_eq!(status, 431);
    let json: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(json["error"]["code"], "headers_too_large");
    assert_eq!(server.state(), before, "nothing was written");
}

#[test]
fn self_registration_is_rate_limited_with_retry_after() {
    let server = ServerGuard::start(ServerOptions {
        extra_args: vec![
            "--self-register-per-client".into(),
            "3".into(),
            "--self-register-per-portal".into(),
            "100".into(),
        ],
        ..ServerOptions::default()
    });
    seed(&server);
    let register = |email: &str| {
        server
            .request(Method::POST, "/v1/portals/globex/self-register")
            .json(&json!({"email": email}))
    };
    for n in 0..3 {
        let response = register(&format!("p{n}@globex.com")).send().unwrap();
        assert_eq!(response.status().as_u16(), 201);
    }
    let (_, revision) = server.state();
    let response = register("p3@globex.com").send().unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a numeric Retry-After");
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    let (state, after) = server.state();
    assert_eq!(after, revision, "nothing was written");
    assert!(
        state["members"]
            .get("globex")
            .is_none_or(|members| members.get("p3@globex.com").is_none())
    );
}

#[test]
fn a_refused_write_logs_the_tokens_name_never_the_token() {
    let server = ServerGuard::start(ServerOptions {
        tokens_file: Some("- {name: dashboard, token: read-secret-4242, scope: read}\n".into()),
        ..ServerOptions::with_admin()
    });
    let response = client()
        .put(server.url("/v1/roles/x"))
        .bearer_auth("read-secret-4242")
        .json(&json!({"permissions": []}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let response = client()
        .put(server.url("/v1/roles/x"))
        .bearer_auth("wrong-secret-1717")
        .json(&json!({"permissions": []}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = server.stderr();
    assert!(log.contains("status=403 token=\"dashboard\""), "{log}");
    assert!(log.contains("status=401 token=\"(unknown)\""), "{log}");
    assert!(
        !log.contains("read-secret-4242") && !log.contains("wrong-secret-1717"),
        "{log}"
    );
}
