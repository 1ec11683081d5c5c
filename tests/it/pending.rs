//! Pending self-registrations end to end: a portal whose registration needs approval,
//! through a real `serve` and the real CLI: the registration is pending and grants
//! nothing, `plan` and `drift` list it, an admin approves it over HTTP (idempotently) or
//! the config adopts it; several clients approving and registering at once lose nothing.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, cli_against, json};

const CONFIG: &str = "\
workspace: { name: Acme, owner_domains: [acme.io] }
partner_orgs:
  globex: { domains: [globex.com] }
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    self_registration:
      enabled: true
      default_role: viewer
      allowed_domains: [globex.com]
      groups: [finance]
      approval: required
    members:
      - { email: alice@globex.com, role: viewer, org: globex }
groups:
  finance: { members: [alice@globex.com] }
folders:
  /Partners/Finance:
    shares:
      - { group: finance, access: view }
";

/// A config dir with [`CONFIG`] applied to a fresh server.
fn applied() -> (ServerGuard, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();
    let server = ServerGuard::start(ServerOptions {
        // The concurrency test registers more partners a minute than the default allows.
        extra_args: vec![
            "--self-register-per-client".into(),
            "1000".into(),
            "--self-register-per-portal".into(),
            "1000".into(),
        ],
        ..ServerOptions::with_admin()
    });
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    (server, dir)
}

fn register(server: &ServerGuard, email: &str) -> (u16, Value) {
    json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({ "email": email }),
    ))
}

fn approve(server: &ServerGuard, email: &str) -> (u16, Value) {
    json(
        server
            .request(
                Method::POST,
                &format!("/v1/portals/globex/members/{email}/approve"),
            )
            .send()
            .unwrap(),
    )
}

fn allowed(server: &ServerGuard, email: &str) -> bool {
    let (status, body) = json(server.get(&format!("/v1/access/{email}/check?folder=/Partners/Finance")));
    assert_eq!(status, 200, "{body}");
    body["allowed"].as_bool().unwrap()
}

fn finance_members(server: &ServerGuard) -> Vec<String> {
    let (_, group) = json(server.get("/v1/groups/finance"));
    group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|email| email.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_pending_registration_grants_nothing_until_an_admin_approves_it() {
    let (server, dir) = applied();
    let (status, body) = register(&server, "bob@globex.com");
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["pending"], true, "{body}");
    let registered_at = body["revision"].as_u64().unwrap();
    // Stored, pending, in no group, granting nothing.
    let (_, member) = json(server.get("/v1/portals/globex/members/bob@globex.com"));
    assert_eq!(member["pending"], true, "{member}");
    assert_eq!(member["source"], "self_registration", "{member}");
    assert!(!finance_members(&server).contains(&"bob@globex.com".to_string()));
    assert!(!allowed(&server, "bob@globex.com"));
    let out = cli_against(&server, dir.path(), &["explain", "bob@globex.com", "--live"], 0);
    assert!(
        out.contains("pending approval: grants nothing") && out.contains("can see no folder"),
        "{out}"
    );
    // Registering again, pending or not, is `already_member`.
    let (status, body) = register(&server, "bob@globex.com");
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "already_member", "{body}");

    // plan: nothing to change (the registration is kept), but it is listed.
    let out = cli_against(&server, dir.path(), &["plan"], 0);
    assert!(
        out.contains("1 registration awaiting approval: bob@globex.com in portal globex")
            && out.contains("approve with `portalctl approve globex bob@globex.com` or adopt it in git"),
        "{out}"
    );
    let out = cli_against(&server, dir.path(), &["plan", "--format", "json"], 0);
    let plan: Value = serde_json::from_str(&out).unwrap();
    let notice = plan["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|notice| notice["type"] == "pending_registrations")
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(
        notice["registrations"],
        json!([{"portal": "globex", "email": "bob@globex.com"}])
    );
    // drift: not drift, but listed.
    let out = cli_against(&server, dir.path(), &["drift"], 0);
    assert!(
        out.contains(
            "awaiting approval, granting nothing (approve with `portalctl approve globex bob@globex.com`)"
        ) && out.contains("? member bob@globex.com in portal globex"),
        "{out}"
    );
    let out = cli_against(&server, dir.path(), &["drift", "--format", "json"], 0);
    let drift: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(drift["drift"], false, "{drift}");
    assert_eq!(
        drift["pending_registrations"],
        json!([{"portal": "globex", "email": "bob@globex.com"}])
    );

    // An admin approves: the member grants access and joins the registration's groups.
    let (status, body) = approve(&server, "bob@globex.com");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["approved"], true, "{body}");
    assert_eq!(body["revision"], registered_at + 1, "{body}");
    assert!(body["member"].get("pending").is_none(), "{body}");
    assert!(finance_members(&server).contains(&"bob@globex.com".to_string()));
    assert!(allowed(&server, "bob@globex.com"));
    // One audit entry, by the admin token, with the member and the group.
    let (_, page) = json(server.get(&format!("/v1/audit?after={registered_at}")));
    let entries = page["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{page}");
    let kinds: Vec<&str> = entries[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| change["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["member", "group"], "{page}");
    // Approving again (a retry) answers the member as it is and writes nothing.
    let (status, again) = approve(&server, "bob@globex.com");
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["approved"], false, "{again}");
    assert_eq!(again["revision"], body["revision"], "{again}");
    assert_eq!(again["member"], body["member"], "{again}");
    assert_eq!(server.state().1, registered_at + 1);
    // An approved registration is an ordinary self-registered member again, and the group
    // entry its approval made is owned live too: the unchanged config keeps both (issue 21:
    // the next apply used to take bob out of `finance`).
    let out = cli_against(&server, dir.path(), &["plan"], 0);
    assert!(
        out.contains("member bob@globex.com in portal globex is self-registered, not in git")
            && out.contains("bob@globex.com in group finance")
            && !out.contains("awaiting approval")
            && !out.contains("- member bob@globex.com"),
        "{out}"
    );
    // No such member, no such portal: 404, nothing written.
    for path in [
        "/v1/portals/globex/members/nobody@globex.com/approve",
        "/v1/portals/nowhere/members/bob@globex.com/approve",
    ] {
        let (status, body) = json(server.request(Method::POST, path).send().unwrap());
        assert_eq!(status, 404, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{body}");
    }
    assert_eq!(server.state().1, registered_at + 1);
}

#[test]
fn a_config_that_lists_a_pending_registration_approves_it() {
    let (server, dir) = applied();
    let (status, body) = register(&server, "carol@globex.com");
    assert_eq!(status, 202, "{body}");
    let config = CONFIG.replace(
        "      - { email: alice@globex.com, role: viewer, org: globex }\n",
        "      - { email: alice@globex.com, role: viewer, org: globex }\n      - { email: carol@globex.com, role: viewer, org: globex }\ngroups:\n  finance: { members: [alice@globex.com, carol@globex.com] }\n",
    )
    .replacen("groups:\n  finance: { members: [alice@globex.com] }\n", "", 1);
    std::fs::write(dir.path().join("portalctl.yaml"), &config).unwrap();
    let out = cli_against(&server, dir.path(), &["plan"], 2);
    assert!(
        out.contains("~ member carol@globex.com in portal globex  (approve pending registration)")
            && out.contains("pending: true → false")
            && out.contains("source: \"self_registration\" → \"managed\"")
            && !out.contains("awaiting approval"),
        "{out}"
    );
    // The access impact says what the approval grants.
    assert!(
        out.contains("carol@globex.com") && out.contains("/Partners/Finance"),
        "{out}"
    );
    let out = cli_against(&server, dir.path(), &["plan", "--format", "json"], 2);
    let plan: Value = serde_json::from_str(&out).unwrap();
    let change = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|change| change["kind"] == "member")
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(change["reason"], "approve pending registration", "{change}");
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (_, member) = json(server.get("/v1/portals/globex/members/carol@globex.com"));
    assert!(member.get("pending").is_none(), "{member}");
    assert_eq!(member["source"], "managed", "{member}");
    assert!(allowed(&server, "carol@globex.com"));
    cli_against(&server, dir.path(), &["plan"], 0);
    cli_against(&server, dir.path(), &["drift"], 0);
}

#[test]
fn a_portal_without_approval_still_answers_201_and_joins_the_groups() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("portalctl.yaml"),
        CONFIG.replace("      approval: required\n", ""),
    )
    .unwrap();
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (status, body) = register(&server, "dan@globex.com");
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["pending"], false, "{body}");
    assert!(allowed(&server, "dan@globex.com"));
    // Approving a member that was never pending is a no-op.
    let (status, body) = approve(&server, "dan@globex.com");
    assert_eq!((status, &body["approved"]), (200, &json!(false)), "{body}");
}

/// Eight clients approve eight pending members while eight more register, all at once:
/// every acknowledged write is stored, once.
#[test]
fn concurrent_approvals_and_registrations_lose_nothing() {
    const CLIENTS: usize = 8;
    let (server, _dir) = applied();
    let server = Arc::new(server);
    let waiting: Vec<String> = (0..CLIENTS).map(|n| format!("w{n}@globex.com")).collect();
    for email in &waiting {
        let (status, body) = register(&server, email);
        assert_eq!(status, 202, "{body}");
    }
    let before = server.state().1;
    let barrier = Arc::new(std::sync::Barrier::new(2 * CLIENTS));
    let clients: Vec<_> = (0..2 * CLIENTS)
        .map(|n| {
            let server = Arc::clone(&server);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                if n < CLIENTS {
                    approve(&server, &format!("w{n}@globex.com"))
                } else {
                    register(&server, &format!("n{}@globex.com", n - CLIENTS))
                }
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    for (n, (status, body)) in answers.iter().enumerate() {
        if n < CLIENTS {
            assert_eq!(*status, 200, "{body}");
            assert_eq!(body["approved"], true, "{body}");
        } else {
            assert_eq!(*status, 202, "{body}");
        }
    }
    // One revision per write, no more, no less.
    assert_eq!(server.state().1, before + 2 * CLIENTS as u64);
    let (state, _) = server.state();
    // On the wire, members are a list of entries.
    let members = state["members"].as_array().unwrap();
    let member = |email: &str| {
        members
            .iter()
            .find(|entry| entry["portal"] == "globex" && entry["email"] == email)
            .unwrap_or_else(|| panic!("{email} is not stored"))
    };
    for email in &waiting {
        assert!(member(email).get("pending").is_none(), "{email}: {state}");
    }
    for n in 0..CLIENTS {
        let email = format!("n{n}@globex.com");
        assert_eq!(member(&email)["pending"], true, "{email}: {state}");
    }
    let finance = finance_members(&server);
    for email in &waiting {
        assert!(finance.contains(email), "{email} not in {finance:?}");
    }
    assert_eq!(finance.len(), 1 + CLIENTS, "{finance:?}");
}

/// An admin `PUT` of a pending member that leaves `pending` out edits it and keeps it
/// pending; only an explicit `"pending": false` (or the approve endpoint) lets it in.
#[test]
fn a_put_without_pending_keeps_a_registration_pending() {
    let (server, _dir) = applied();
    let (status, body) = register(&server, "erin@globex.com");
    assert_eq!(status, 202, "{body}");
    let path = "/v1/portals/globex/members/erin@globex.com";
    let (status, body) = json(server.send_json(
        Method::PUT,
        path,
        &json!({ "role": "viewer", "org": "globex", "attributes": {} }),
    ));
    assert_eq!(status, 200, "{body}");
    let (_, member) = json(server.get(path));
    assert_eq!(member["pending"], true, "{member}");
    assert!(
        !allowed(&server, "erin@globex.com"),
        "still pending: grants nothing"
    );

    let (status, body) = json(server.send_json(
        Method::PUT,
        path,
        &json!({ "role": "viewer", "org": "globex", "pending": false }),
    ));
    assert_eq!(status, 200, "{body}");
    let (_, member) = json(server.get(path));
    assert!(
        member.get("pending").is_none_or(|pending| pending == false),
        "{member}"
    );
}
