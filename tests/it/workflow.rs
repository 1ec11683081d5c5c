//! Tests that span commands, as a user chains them: a first session with each shipped
//! example (validate, plan, apply, plan, drift, explain, history) as reviewed snapshots;
//! plan, apply, then a no-op plan; no secret reaching the service's log, audit or history;
//! a redacted import refused by validate and plan; an org deletion that apply lists and
//! drift blames; a self-registration that survives apply, is not drift and round-trips
//! through import.

use std::path::Path;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{
    Kind, SECRET, ServerGuard, ServerOptions, Setup, acme_copy, allowed, both, cli_against, cli_with_token,
    example, json, transcript,
};

/// Each command of a first session with an example, in order, as the user sees it.
fn session(name: &str, email: &str) -> String {
    let dir = example(name);
    let dir = dir.path();
    let target = "sqlite:live.db";
    let steps: [&[&str]; 7] = [
        &["validate", "config"],
        &["plan", "config", "--target", target],
        &["apply", "config", "--target", target, "--auto-approve"],
        &["plan", "config", "--target", target],
        &["drift", "config", "--target", target],
        &["explain", email, "config"],
        &["history", "--target", target],
    ];
    transcript(dir, &steps)
}

#[test]
fn the_acme_example_session() {
    insta::assert_snapshot!("acme_session", session("acme", "dana@globex.com"));
}

#[test]
fn the_quickstart_example_session() {
    insta::assert_snapshot!("quickstart_session", session("quickstart", "alice@globex.com"));
}

#[test]
fn plan_apply_then_no_op_plan() {
    both(|kind| {
        let setup = Setup::new(kind);
        let (out, _) = setup.expect(&["plan", "config"], 2);
        assert!(
            out.contains(&format!("Target: {}", setup.target)),
            "{kind:?}: {out}"
        );
        assert!(
            out.contains("+ member alice@globex.com in portal globex"),
            "{out}"
        );
        assert!(out.contains("attributes.contract_ref = (sensitive)"), "{out}");
        let (_, err) = setup.expect(&["apply", "config"], 1);
        assert!(
            err.contains("stdin is not a terminal") && err.contains("--auto-approve"),
            "{err}"
        );
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 0);
        assert!(err.contains("now at revision 1"), "{err}");
        let (out, _) = setup.expect(&["plan", "config"], 0);
        assert!(out.contains("No changes."), "{out}");
        let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 0);
        assert!(err.contains("nothing to do"), "{err}");
    });
}

#[test]
fn no_secret_reaches_the_service_log_audit_or_history() {
    let setup = Setup::new(Kind::Http);
    setup.expect(&["plan", "config", "--out", "plan.json", "--format", "json"], 2);
    setup.expect(&["apply", "plan.json", "--config", "config"], 0);
    setup.expect(&["history", "--format", "json"], 0);
    setup.expect(&["drift", "config", "--format", "json"], 0);
    setup.expect(&["explain", "alice@globex.com", "--live", "--format", "json"], 0);
    let server = setup.server.as_ref().expect("an HTTP setup has a server");
    let log = server.stderr();
    assert!(log.contains("/v1/changes"), "the request log is there: {log}");
    assert!(!log.contains(SECRET), "a sensitive value reached the service log");
    assert!(
        !log.contains(setup.token.as_deref().unwrap()),
        "the token reached the service log"
    );
    let audit = crate::support::client()
        .get(server.url("/v1/audit?after=0"))
        .bearer_auth(setup.token.as_deref().unwrap())
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        audit.contains("(sensitive)") && !audit.contains(SECRET),
        "{audit}"
    );
}

#[test]
fn redaction_placeholders_are_refused_at_their_line() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["import", "--out", "redacted", "--redact-sensitive"], 0);
    let (_, err) = setup.expect(&["validate", "redacted"], 1);
    assert!(err.contains("FILL-IN-SENSITIVE-VALUE"), "{err}");
    assert!(err.contains("redacted/"), "the file is named: {err}");
    let (_, err) = setup.expect(&["plan", "redacted"], 1);
    assert!(err.contains("placeholder"), "{err}");
}

const CI_TOKEN: &str = "ci-token-0123456789abcdef";

const OPS_TOKEN: &str = "ops-token-0123456789abcdef";

/// Runs the binary with the CI token; the ops token, which only the audit log names, never
/// reaches its output either.
fn run_as_ci(server: &ServerGuard, dir: &Path, args: &[&str], code: i32) -> String {
    let out = cli_with_token(server, dir, CI_TOKEN, args, code);
    assert!(!out.contains(OPS_TOKEN), "{args:?} printed the ops token");
    out
}

const CASCADE_CONFIG: &str = "\
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

/// What a batch causes besides what it sends, end to end: deleting a partner org over
/// HTTP revokes its partners, their group entries and their shares; the audit entry lists
/// those caused changes, `history` shows them apart, and `drift` blames each partner's
/// removal on the deletion's revision and token, not on whoever created the partner.
#[test]
fn an_org_deletion_lists_what_it_revoked_and_drift_blames_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CASCADE_CONFIG).unwrap();
    let server = ServerGuard::start(ServerOptions {
        tokens_file: Some(format!(
            "- {{ name: ci, token: {CI_TOKEN}, scope: admin }}\n- {{ name: ops-console, token: {OPS_TOKEN}, scope: admin }}\n"
        )),
        ..ServerOptions::default()
    });
    run_as_ci(&server, dir.path(), &["apply", "--auto-approve"], 0);
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
    let out = run_as_ci(&server, dir.path(), &["drift", "--format", "json"], 2);
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
    let out = run_as_ci(&server, dir.path(), &["drift"], 2);
    let blamed = format!("last written: revision {deleted} by `ops-console`");
    let alice = out
        .split("  - member alice@globex.com in portal globex")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(alice.trim_start().starts_with(&blamed), "{out}");

    // history: the sent change, then what it caused, in text and JSON.
    let out = run_as_ci(&server, dir.path(), &["history", "--limit", "1"], 0);
    assert!(
        out.contains(&format!("revision {deleted}"))
            && out.contains("by `ops-console`")
            && out.contains("1 change: partner_org -1; caused: member -3, group ~1, share -2"),
        "{out}"
    );
    let out = run_as_ci(
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
    run_as_ci(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let out = run_as_ci(&server, dir.path(), &["history", "--limit", "1"], 0);
    assert!(out.contains("member +3") && !out.contains("caused"), "{out}");
    run_as_ci(&server, dir.path(), &["drift"], 0);
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

/// Regression (issue 21, defects 1, 2 and 3).
/// What the live side owns, end to end on `examples/acme`: a partner who self-registers
/// keeps the groups their registration joined through the next `apply`, `drift` lists them
/// as expected and exits 0, and `import` then `plan` is clean.
#[test]
fn a_self_registration_survives_apply_is_not_drift_and_import_round_trips() {
    let (dir, server) = crate::support::acme_with_a_self_registration();
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

    // A change in git that opens and closes nothing (the portal's colour) shows no access
    // impact: the registration the plan keeps is not shown as losing its access.
    let globex = dir.path().join("portals/globex.yaml");
    let text = std::fs::read_to_string(&globex).unwrap();
    assert!(text.contains("color: \"#0F62FE\""), "{text}");
    std::fs::write(&globex, text.replace("color: \"#0F62FE\"", "color: \"#0F62FF\"")).unwrap();
    let out = cli_against(&server, dir.path(), &["plan", "--format", "json"], 2);
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["access_impact"]["changes"], json!([]), "{out}");
    let out = cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    assert!(!out.contains("gus@globex.com"), "{out}");
    assert!(allowed(&server, "gus@globex.com", "/Partners/Finance"));
}

/// Issue 21 audit, gap 7: expected-live entries and real drift at once. The
/// self-registration is still listed as expected (with its counts) and is not called
/// drift, while a change made behind git's back is: `drift` exits 2, in text and JSON.
#[test]
fn drift_lists_expected_live_entries_next_to_real_drift() {
    let dir = acme_copy();
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "gus@globex.com"}),
    ));
    assert_eq!(status, 201, "{body}");
    // Behind git's back: dana's region changes.
    let (status, body) = json(server.send_json(
        Method::PATCH,
        "/v1/portals/globex/members/dana@globex.com",
        &json!({"attributes": {"region": "apac"}}),
    ));
    assert!(status < 300, "{body}");

    let out = cli_against(&server, dir.path(), &["drift"], 2);
    assert!(
        out.contains("Expected live (owned by the live side, not drift): 1 self-registered member, 0 registrations awaiting approval, 1 group entry")
            && out.contains("? member gus@globex.com in portal globex")
            && out.contains("? gus@globex.com in group finance-partners"),
        "{out}"
    );
    assert!(
        out.contains("member dana@globex.com in portal globex") && out.contains("apac"),
        "{out}"
    );
    assert!(
        !out.contains("No drift") && !out.contains("grants access"),
        "{out}"
    );
    let document: serde_json::Value = serde_json::from_str(&cli_against(
        &server,
        dir.path(),
        &["drift", "--format", "json"],
        2,
    ))
    .unwrap();
    assert_eq!(document["drift"], true, "{document}");
    assert_eq!(
        document["expected_live"],
        json!({"group_entries": 1, "partner_managed": 0, "pending": 0, "self_registered": 1}),
        "{document}"
    );
    let drifted: Vec<&str> = document["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["address"].as_str().unwrap())
        .collect();
    assert_eq!(drifted, ["member dana@globex.com in portal globex"], "{document}");
}
