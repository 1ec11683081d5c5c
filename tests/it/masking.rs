//! Sensitive attribute values on the live side (issue 21, defect 4): every reader sees a
//! digest, except an `admin` token that asks (`?reveal=sensitive`, recorded in the read
//! audit, `GET /v1/audit/reveals`); `plan` and
//! `drift` still notice a value changed behind git's back, without showing it; `import`
//! with an admin token writes the values, with a read token placeholders.

use reqwest::Method;
use serde_json::json;

use crate::support::{
    ServerGuard, ServerOptions, acme_copy, cli_against, cli_with_token, client, json, stderr, stdout,
};

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

/// Issue 21, defect 4: a reveal is audited, not only logged. Each `reveal=sensitive` read
/// by an admin token is in the read audit (`GET /v1/audit/reveals`, `history --reveals`)
/// with the token, the request and the revision, before the values leave; a refused or a
/// masked read writes nothing; no entry holds a value. On SQLite and on PostgreSQL.
#[test]
fn every_reveal_is_in_the_read_audit_without_its_values_on_both_backends() {
    let database = portalctl_store::testing::TestDatabase::create();
    let mut backends: Vec<Option<String>> = vec![None];
    if let Some(database) = &database {
        backends.push(Some(database.url().expose().to_string()));
    }
    for db in backends {
        let backend = if db.is_some() { "postgres" } else { "sqlite" };
        let dir = acme_copy();
        let server = ServerGuard::start(ServerOptions {
            tokens_file: Some(format!(
                "- {{name: ci, token: test-admin-token, scope: admin}}\n- {{name: dashboard, token: {READ_TOKEN}, scope: read}}\n"
            )),
            db,
            ..ServerOptions::with_admin()
        });
        cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
        let admin = "test-admin-token";
        let (_, revision) = server.state();
        // Masked reads and a refused reveal record nothing.
        for (token, path) in [
            (admin, "/v1/state"),
            (READ_TOKEN, "/v1/portals/globex/members/alice@globex.com"),
            (READ_TOKEN, "/v1/state?reveal=sensitive"),
        ] {
            get_with(&server, token, path);
        }
        let (status, body) = get_with(&server, READ_TOKEN, "/v1/audit/reveals");
        assert_eq!(
            (status, body["entries"].as_array().map(Vec::len)),
            (200, Some(0)),
            "{backend}: {body}"
        );

        let reads = [
            "/v1/state?reveal=sensitive",
            "/v1/portals/globex/members?reveal=sensitive",
            "/v1/portals/globex/members/alice@globex.com?reveal=sensitive",
        ];
        for path in reads {
            let (status, body) = get_with(&server, admin, path);
            assert_eq!(status, 200, "{backend} {path}: {body}");
            assert!(body.to_string().contains("K-1"), "{backend} {path}: revealed");
        }
        // `import` with an admin token reads revealed values: audited too.
        let out_dir = tempfile::tempdir().unwrap();
        cli_with_token(
            &server,
            dir.path(),
            admin,
            &["import", "--out", out_dir.path().to_str().unwrap()],
            0,
        );

        let (status, body) = get_with(&server, READ_TOKEN, "/v1/audit/reveals");
        assert_eq!(status, 200, "{backend}: {body}");
        assert!(
            !body.to_string().contains("K-1"),
            "{backend}: no value in the read audit: {body}"
        );
        let entries = body["entries"].as_array().unwrap();
        let read: Vec<&str> = entries
            .iter()
            .map(|entry| entry["read"].as_str().unwrap())
            .collect();
        let mut expected: Vec<String> = reads.iter().map(|path| format!("GET {path}")).collect();
        expected.push("GET /v1/state?reveal=sensitive".into());
        assert_eq!(read, expected, "{backend}");
        for entry in entries {
            assert_eq!(entry["token"], "ci", "{backend}: {entry}");
            assert_eq!(entry["revision"], revision, "{backend}: {entry}");
        }
        let (_, after_first) = get_with(
            &server,
            admin,
            &format!("/v1/audit/reveals?after={}&limit=1", entries[0]["id"]),
        );
        assert_eq!(after_first["entries"][0], entries[1], "{backend}: paged by id");
        // Not a batch: the audit log of changes and the revision do not move.
        assert_eq!(server.state().1, revision, "{backend}");

        let out = cli_with_token(&server, dir.path(), READ_TOKEN, &["history", "--reveals"], 0);
        assert!(
            out.contains("Reads of sensitive values on")
                && out.contains("ci  GET /v1/portals/globex/members/alice@globex.com?reveal=sensitive")
                && !out.contains("K-1"),
            "{backend}: {out}"
        );
        let out = cli_with_token(
            &server,
            dir.path(),
            READ_TOKEN,
            &["history", "--reveals", "--format", "json", "--limit", "1"],
            0,
        );
        let document: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            document["reveals"][0]["read"], "GET /v1/state?reveal=sensitive",
            "{backend}: {out}"
        );
        assert_eq!(document["entries"], json!([]), "{out}");
    }
}

const ORG_SECRET: &str = "ORG-K-7731";

/// Runs the binary in `dir` against `server` with `token`, asserts its exit code and that
/// neither stream holds `secret`; returns (stdout, stdout and stderr together).
fn run_hiding(
    server: &ServerGuard,
    dir: &std::path::Path,
    token: &str,
    args: &[&str],
    code: i32,
    secret: &str,
) -> (String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TARGET", &server.base)
        .env("PORTALCTL_TOKEN", token)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the portalctl binary runs");
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(code), "{args:?}: {text}");
    assert!(
        !text.contains(secret),
        "{args:?} showed a sensitive value: {text}"
    );
    (stdout(&output), text)
}

/// Regression (issue 21 audit, gap 1): a partner org's sensitive attribute value showed in
/// clear in `plan` (every format), in the saved plan, in `drift` and in `diff`. It is masked as a
/// member's is (digest salted with `org:{name}`), restored from the config at `apply`, and
/// a read token sees only its digest.
#[test]
fn a_sensitive_org_attribute_is_never_shown() {
    let dir = acme_copy();
    let workspace = dir.path().join("workspace.yaml");
    let text = std::fs::read_to_string(&workspace).unwrap();
    let fabrikam = "    owners: [cfo@acme.io]\n";
    assert_eq!(text.matches(fabrikam).count(), 1, "{text}");
    std::fs::write(
        &workspace,
        text.replace(
            fabrikam,
            &format!("{fabrikam}    attributes: {{ contract_ref: {ORG_SECRET} }}\n"),
        ),
    )
    .unwrap();
    let server = ServerGuard::start(ServerOptions {
        tokens_file: Some(format!(
            "- {{name: ci, token: test-admin-token, scope: admin}}\n- {{name: dashboard, token: {READ_TOKEN}, scope: read}}\n"
        )),
        ..ServerOptions::with_admin()
    });
    let admin = "test-admin-token";
    let run = |token: &str, args: &[&str], code: i32| {
        run_hiding(&server, dir.path(), token, args, code, ORG_SECRET).1
    };
    let json_of = |token: &str, args: &[&str], code: i32| -> serde_json::Value {
        let (out, _) = run_hiding(&server, dir.path(), token, args, code, ORG_SECRET);
        serde_json::from_str(&out).unwrap_or_else(|error| panic!("{args:?}: {error}: {out}"))
    };

    // Every plan format, and the saved plan.
    let out = run(admin, &["plan"], 2);
    assert!(
        out.contains("partner_org fabrikam") && out.contains("attributes.contract_ref"),
        "{out}"
    );
    let document = json_of(admin, &["plan", "--format", "json"], 2);
    let field = document["changes"]
        .as_array()
        .and_then(|changes| {
            changes
                .iter()
                .find(|change| change["address"] == "partner_org fabrikam")
        })
        .and_then(|change| change["fields"].as_array())
        .and_then(|fields| {
            fields
                .iter()
                .find(|field| field["path"] == "attributes.contract_ref")
        })
        .expect("the org's sensitive field is listed")
        .clone();
    assert_eq!(
        field,
        json!({"path": "attributes.contract_ref", "type": "sensitive", "before": null, "after": "(sensitive)"})
    );
    let out = run(admin, &["plan", "--format", "markdown"], 2);
    assert!(out.contains("fabrikam"), "{out}");
    run(admin, &["plan", "--out", "plan.json"], 2);
    let saved = std::fs::read_to_string(dir.path().join("plan.json")).unwrap();
    assert!(!saved.contains(ORG_SECRET), "{saved}");

    // Applied from the saved plan: the value itself reached the live side, not its digest.
    run(admin, &["apply", "plan.json"], 0);
    let (status, body) = get_with(&server, admin, "/v1/partner_orgs/fabrikam?reveal=sensitive");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["attributes"]["contract_ref"], ORG_SECRET, "{body}");
    for path in ["/v1/partner_orgs/fabrikam", "/v1/partner_orgs", "/v1/state"] {
        let (status, body) = get_with(&server, READ_TOKEN, path);
        assert_eq!(status, 200, "{path}: {body}");
        let text = body.to_string();
        assert!(
            !text.contains(ORG_SECRET) && text.contains("(sensitive) sha256:"),
            "{path}: {text}"
        );
    }
    // `import`: a read token writes a placeholder (not the digest, which would be applied
    // as the value), an admin token the value.
    let out = run(READ_TOKEN, &["import", "--out", "read"], 0);
    assert!(
        out.contains("partner org fabrikam, attribute `contract_ref`"),
        "{out}"
    );
    let read = std::fs::read_to_string(dir.path().join("read/workspace.yaml")).unwrap();
    assert!(
        read.contains("contract_ref: FILL-IN-SENSITIVE-VALUE") && !read.contains("sha256:"),
        "{read}"
    );
    run(admin, &["import", "--out", "admin"], 0);
    let written = std::fs::read_to_string(dir.path().join("admin/workspace.yaml")).unwrap();
    assert!(
        written.contains(&format!("contract_ref: {ORG_SECRET}")),
        "{written}"
    );
    std::fs::remove_dir_all(dir.path().join("admin")).unwrap();
    std::fs::remove_dir_all(dir.path().join("read")).unwrap();
    // Compared by digest: no change, for a read token too; nothing in the audit log.
    let out = run(READ_TOKEN, &["plan"], 0);
    assert!(out.contains("No changes."), "{out}");
    run(READ_TOKEN, &["drift"], 0);
    run(READ_TOKEN, &["history"], 0);

    // Changed behind git's back: drift, shown masked, in text and JSON.
    // (The org's members inherit the value, so it changes with theirs: another config
    // applied from elsewhere.)
    let other = acme_copy();
    std::fs::write(
        other.path().join("workspace.yaml"),
        std::fs::read_to_string(&workspace)
            .unwrap()
            .replace(ORG_SECRET, "ORG-CHANGED-2"),
    )
    .unwrap();
    run_hiding(
        &server,
        other.path(),
        admin,
        &["apply", "--auto-approve"],
        0,
        "ORG-CHANGED-2",
    );
    for token in [READ_TOKEN, admin] {
        let out = run(token, &["drift"], 2);
        assert!(
            out.contains("partner_org fabrikam")
                && out.contains("attributes.contract_ref: (sensitive) differs"),
            "{out}"
        );
        assert!(!out.contains("ORG-CHANGED-2"), "{out}");
        let document = json_of(token, &["drift", "--format", "json"], 2);
        let text = document.to_string();
        assert!(
            text.contains("fabrikam") && !text.contains("ORG-CHANGED-2"),
            "{text}"
        );
        let out = run(token, &["plan", "--format", "markdown"], 2);
        assert!(
            out.contains("fabrikam") && !out.contains("ORG-CHANGED-2"),
            "{out}"
        );
    }

    // `diff` between git revisions (offline): the org's value changes, shown masked.
    crate::support::commit_config(dir.path(), "fabrikam's contract");
    std::fs::write(
        &workspace,
        std::fs::read_to_string(&workspace)
            .unwrap()
            .replace(ORG_SECRET, "ORG-CHANGED-3"),
    )
    .unwrap();
    for format in ["text", "json", "markdown"] {
        let output =
            crate::support::portalctl(dir.path(), &["diff", "--base", "HEAD", ".", "--format", format]);
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert_eq!(output.status.code(), Some(2), "{format}: {text}");
        assert!(
            text.contains("partner_org fabrikam") && text.contains("(sensitive)"),
            "{format}: {text}"
        );
        assert!(
            !text.contains(ORG_SECRET) && !text.contains("ORG-CHANGED-3"),
            "{format}: {text}"
        );
    }
}
