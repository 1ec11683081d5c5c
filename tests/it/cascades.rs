//! What a batch causes besides what it sends, end to end: deleting a partner org over
//! HTTP revokes its partners, their group entries and their shares; the audit entry lists
//! those caused changes, `history` shows them apart, and `drift` blames each partner's
//! removal on the deletion's revision and token, not on whoever created the partner.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, cli_with_token, json};

const CI_TOKEN: &str = "ci-token-0123456789abcdef";
const OPS_TOKEN: &str = "ops-token-0123456789abcdef";

/// Runs the binary with the CI token; the ops token, which only the audit log names, never
/// reaches its output either.
fn run(server: &ServerGuard, dir: &Path, args: &[&str], code: i32) -> String {
    let out = cli_with_token(server, dir, CI_TOKEN, args, code);
    assert!(!out.contains(OPS_TOKEN), "{args:?} printed the ops token");
    out
}

const CONFIG: &str = "\
workspace: { name: Acme, owner_domains: [acme.io] }
partner_orgs:
  globex: { domains: [globex.com] }
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - { email: alice@globex.com, role: viewer, org: globex }
      - { email: bob@globex.com, role: viewer, org: globex }
      - { email: carol@globex.com, role: viewer, org: globex }
      - { email: dana@initech.com, role: viewer }
groups:
  finance: { members: [alice@globex.com, bob@globex.com, dana@initech.com] }
folders:
  /Partners/Finance:
    shares:
      - { group: finance, access: view }
      - { user: alice@globex.com, access: view }
      - { org: globex, access: view }
";

#[test]
fn an_org_deletion_lists_what_it_revoked_and_drift_blames_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();
    let server = ServerGuard::start(ServerOptions {
        tokens_file: Some(format!(
            "- {{ name: ci, token: {CI_TOKEN}, scope: admin }}\n- {{ name: ops-console, token: {OPS_TOKEN}, scope: admin }}\n"
        )),
        ..ServerOptions::default()
    });
    run(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let applied = server_revision(&server);

    // Someone deletes the org behind git's back, with another token.
    let response = super::support::client()
        .request(Method::DELETE, server.url("/v1/partner_orgs/globex"))
        .bearer_auth(OPS_TOKEN)
        .send()
        .unwrap();
    let (status, body) = json(response);
    assert_eq!(status, 200, "{body}");
    let deleted = body["revision"].as_u64().unwrap();
    assert_eq!(deleted, applied + 1);

    // The audit entry: the change as sent, then what it caused.
    let (status, page) = json(
        super::support::client()
            .get(server.url(&format!("/v1/audit?after={applied}")))
            .bearer_auth(CI_TOKEN)
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{page}");
    let entry = &page["entries"][0];
    assert_eq!(entry["revision"], deleted, "{entry}");
    assert_eq!(entry["token"], "ops-console", "{entry}");
    assert_eq!(entry["caused_count"], 6, "{entry}");
    assert_eq!(entry["change_count"], 7, "{entry}");
    let changes: Vec<(String, String, Value)> = entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| {
            (
                change["op"].as_str().unwrap().to_string(),
                change["kind"].as_str().unwrap().to_string(),
                change["key"].clone(),
            )
        })
        .collect();
    let expected = [
        ("delete", "partner_org", json!(["globex"])),
        ("delete", "member", json!(["globex", "alice@globex.com"])),
        ("delete", "member", json!(["globex", "bob@globex.com"])),
        ("delete", "member", json!(["globex", "carol@globex.com"])),
        ("put", "group", json!(["finance"])),
        (
            "delete",
            "share",
            json!(["/Partners/Finance", "user:alice@globex.com"]),
        ),
        ("delete", "share", json!(["/Partners/Finance", "org:globex"])),
    ]
    .map(|(op, kind, key)| (op.to_string(), kind.to_string(), key));
    assert_eq!(changes, expected, "{entry}");
    assert_eq!(
        entry["changes"][4]["value"],
        json!({"members": ["dana@initech.com"]}),
        "{entry}"
    );
    // The slice endpoint pages the same list.
    let (_, slice) = json(
        super::support::client()
            .get(server.url(&format!("/v1/audit/{deleted}/changes?offset=1&limit=100")))
            .bearer_auth(CI_TOKEN)
            .send()
            .unwrap(),
    );
    assert_eq!(slice["changes"].as_array().unwrap().len(), 6, "{slice}");

    // drift: each partner removed with the org is attributed to the deletion.
    let out = run(&server, dir.path(), &["drift", "--format", "json"], 2);
    let report: Value = serde_json::from_str(&out).unwrap();
    let items = report["items"].as_array().unwrap();
    for email in ["alice@globex.com", "bob@globex.com", "carol@globex.com"] {
        let item = items
            .iter()
            .find(|item| item["kind"] == "member" && item["key"] == json!(["globex", email]))
            .unwrap_or_else(|| panic!("{email} is not drift: {report}"));
        assert_eq!(item["class"], "removed_outside_git", "{item}");
        assert_eq!(item["last_write"]["revision"], deleted, "{item}");
        assert_eq!(item["last_write"]["token"], "ops-console", "{item}");
        assert!(item["last_write"]["commit"].is_null(), "{item}");
    }
    for (kind, key) in [
        ("group", json!(["finance"])),
        ("share", json!(["/Partners/Finance", "user:alice@globex.com"])),
        ("share", json!(["/Partners/Finance", "org:globex"])),
        ("partner_org", json!(["globex"])),
    ] {
        let item = items
            .iter()
            .find(|item| item["kind"] == kind && item["key"] == key)
            .unwrap_or_else(|| panic!("{kind} {key} is not drift: {report}"));
        assert_eq!(item["last_write"]["revision"], deleted, "{item}");
        assert_eq!(item["last_write"]["token"], "ops-console", "{item}");
    }
    let out = run(&server, dir.path(), &["drift"], 2);
    let blamed = format!("last written: revision {deleted} by `ops-console`");
    let alice = out
        .split("  - member alice@globex.com in portal globex")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(alice.trim_start().starts_with(&blamed), "{out}");

    // history: the sent change, then what it caused, in text and JSON.
    let out = run(&server, dir.path(), &["history", "--limit", "1"], 0);
    assert!(
        out.contains(&format!("revision {deleted}"))
            && out.contains("by `ops-console`")
            && out.contains("1 change: partner_org -1; caused: member -3, group ~1, share -2"),
        "{out}"
    );
    let out = run(
        &server,
        dir.path(),
        &["history", "--limit", "2", "--format", "json"],
        0,
    );
    let history: Value = serde_json::from_str(&out).unwrap();
    let newest = &history["entries"][0];
    assert_eq!(
        (&newest["caused_count"], &newest["change_count"]),
        (&json!(6), &json!(7)),
        "{history}"
    );
    // An entry that caused nothing leaves the field out.
    assert!(history["entries"][1].get("caused_count").is_none(), "{history}");

    // Applying git again puts everything back, and history says so without a cause.
    run(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let out = run(&server, dir.path(), &["history", "--limit", "1"], 0);
    assert!(out.contains("member +3") && !out.contains("caused"), "{out}");
    run(&server, dir.path(), &["drift"], 0);
}

fn server_revision(server: &ServerGuard) -> u64 {
    let (_, body) = json(
        super::support::client()
            .get(server.url("/v1/state"))
            .bearer_auth(CI_TOKEN)
            .send()
            .unwrap(),
    );
    body["revision"].as_u64().unwrap()
}
