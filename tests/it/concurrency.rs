//! `portalctl serve` under concurrent writers, over real HTTP: every read-then-write
//! endpoint is hit by several clients at once, and what was acknowledged is counted
//! against what is stored. Also: a `kill -9` in the middle of a large batch.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, json};

const CLIENTS: usize = 8;

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

fn member(portal: &str, email: &str) -> Value {
    put(
        "member",
        &[portal, email],
        json!({"role": "viewer", "org": "globex"}),
    )
}

/// A portal `globex` open to self-registration from globex.com, an empty group `team`, and
/// `partners` members `p{n}@globex.com`.
fn seed(server: &ServerGuard, partners: usize) {
    let mut changes = vec![
        put(
            "workspace",
            &[],
            json!({"name": "Acme", "owner_domains": ["acme.io"]}),
        ),
        put("partner_org", &["globex"], json!({"domains": ["globex.com"]})),
        put(
            "portal",
            &["globex"],
            json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
                   "self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": ["globex.com"]}}),
        ),
        put("group", &["team"], json!({"members": []})),
    ];
    changes.extend((0..partners).map(|n| member("globex", &format!("p{n}@globex.com"))));
    let (status, body) = json(server.post_changes(Some(0), Value::Array(changes)));
    assert_eq!(status, 200, "{body}");
}

fn audit_entries(server: &ServerGuard) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut after = 0;
    loop {
        let (status, page) = json(server.get(&format!("/v1/audit?after={after}&limit=1000")));
        assert_eq!(status, 200, "{page}");
        let batch = page["entries"].as_array().cloned().unwrap_or_default();
        let Some(last) = batch.last() else { break };
        after = last["revision"].as_u64().expect("a revision");
        entries.extend(batch);
    }
    entries
}

#[test]
fn concurrent_group_member_adds_without_if_match_all_land() {
    const ADDS: usize = 25;
    let server = Arc::new(ServerGuard::start(ServerOptions::with_admin()));
    seed(&server, CLIENTS * ADDS);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for add in 0..ADDS {
                    let email = format!("p{}@globex.com", client * ADDS + add);
                    let response = server
                        .request(Method::PUT, &format!("/v1/groups/team/members/{email}"))
                        .send()
                        .expect("the request is answered");
                    let (status, body) = json(response);
                    assert_eq!(status, 200, "{body}");
                    acknowledged.push(email);
                }
                acknowledged
            })
        })
        .collect();
    let acknowledged: Vec<String> = clients
        .into_iter()
        .flat_map(|client| client.join().expect("the client finishes"))
        .collect();
    assert_eq!(acknowledged.len(), CLIENTS * ADDS);
    let (status, group) = json(server.get("/v1/groups/team"));
    assert_eq!(status, 200, "{group}");
    let stored: std::collections::BTreeSet<&str> = group["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|email| !stored.contains(email.as_str()))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert_eq!(stored.len(), CLIENTS * ADDS);
    // One audit entry per add, after the seed.
    assert_eq!(audit_entries(&server).len(), 1 + CLIENTS * ADDS);
}

#[test]
fn concurrent_self_registrations_of_one_email_create_it_once() {
    let server = Arc::new(ServerGuard::start(ServerOptions::with_admin()));
    seed(&server, 0);
    let barrier = Arc::new(std::sync::Barrier::new(CLIENTS));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let server = Arc::clone(&server);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                json(server.send_json(
                    Method::POST,
                    "/v1/portals/globex/self-register",
                    &json!({"email": "newcomer@globex.com"}),
                ))
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = clients
        .into_iter()
        .map(|client| client.join().expect("the client finishes"))
        .collect();
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == 409)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created, 1, "{answers:?}");
    assert_eq!(refused.len(), CLIENTS - 1, "{answers:?}");
    for body in refused {
        assert_eq!(body["error"]["code"], "already_member", "{body}");
    }
    let registrations = audit_entries(&server)
        .into_iter()
        .filter(|entry| entry["meta"]["author"] == "newcomer@globex.com")
        .count();
    assert_eq!(registrations, 1);
    let (status, _) = json(server.get("/v1/portals/globex/members/newcomer@globex.com"));
    assert_eq!(status, 200);
}

/// Runs `request(n)` from `CLIENTS` threads released at once; the answers in client order.
fn all_at_once(
    server: &Arc<ServerGuard>,
    request: impl Fn(&ServerGuard, usize) -> (u16, Value) + Send + Sync + 'static,
) -> Vec<(u16, Value)> {
    let barrier = Arc::new(std::sync::Barrier::new(CLIENTS));
    let request = Arc::new(request);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (server, barrier, request) = (Arc::clone(server), Arc::clone(&barrier), Arc::clone(&request));
            std::thread::spawn(move || {
                barrier.wait();
                request(&server, n)
            })
        })
        .collect();
    clients
        .into_iter()
        .map(|client| client.join().expect("the client finishes"))
        .collect()
}

#[test]
fn concurrent_patches_of_one_portal_each_keep_their_field() {
    let server = Arc::new(ServerGuard::start(ServerOptions::with_admin()));
    seed(&server, 0);
    // Eight clients, eight different fields of one portal, no If-Match: a merge patch is
    // applied to the value it is committed on, so every acknowledged field is stored.
    let patches = [
        json!({"color": "#112233"}),
        json!({"home_cover": "https://acme.io/cover.png"}),
        json!({"session_ttl": "12h"}),
        json!({"require_2fa": true}),
        json!({"max_members": 500}),
        json!({"texts": {"initiation": "Welcome"}}),
        json!({"texts": {"first_login": "Start here"}}),
        json!({"texts": {"help_url": "https://acme.io/help"}}),
    ];
    let sent = patches.clone();
    let answers = all_at_once(&server, move |server, n| {
        json(
            server
                .request(Method::PATCH, "/v1/portals/globex")
                .header("Content-Type", "application/merge-patch+json")
                .body(sent[n].to_string())
                .send()
                .expect("the request is answered"),
        )
    });
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    let (status, portal) = json(server.get("/v1/portals/globex"));
    assert_eq!(status, 200, "{portal}");
    let stored = if portal.get("value").is_some() {
        &portal["value"]
    } else {
        &portal
    };
    assert_eq!(stored["color"], "#112233", "{stored}");
    assert_eq!(stored["home_cover"], "https://acme.io/cover.png", "{stored}");
    assert_eq!(stored["session_ttl"], "12h", "{stored}");
    assert_eq!(stored["require_2fa"], true, "{stored}");
    assert_eq!(stored["max_members"], 500, "{stored}");
    assert_eq!(stored["texts"]["initiation"], "Welcome", "{stored}");
    assert_eq!(stored["texts"]["first_login"], "Start here", "{stored}");
    assert_eq!(stored["texts"]["help_url"], "https://acme.io/help", "{stored}");
    // and the self-registration settings nobody patched are still there
    assert_eq!(stored["self_registration"]["enabled"], true, "{stored}");
}

#[test]
fn concurrent_self_registrations_never_pass_a_seat_limit() {
    const SEATS: usize = 3;
    let server = Arc::new(ServerGuard::start(ServerOptions::with_admin()));
    seed(&server, 0);
    let (status, body) = json(
        server
            .request(Method::PATCH, "/v1/portals/globex")
            .header("Content-Type", "application/merge-patch+json")
            .body(json!({"max_members": SEATS}).to_string())
            .send()
            .expect("the request is answered"),
    );
    assert_eq!(status, 200, "{body}");
    let answers = all_at_once(&server, |server, n| {
        json(server.send_json(
            Method::POST,
            "/v1/portals/globex/self-register",
            &json!({"email": format!("seat{n}@globex.com")}),
        ))
    });
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    let refused = answers
        .iter()
        .filter(|(status, body)| *status == 409 && body["error"]["code"] == "seat_limit")
        .count();
    assert_eq!(created, SEATS, "{answers:?}");
    assert_eq!(refused, CLIENTS - SEATS, "{answers:?}");
    let (state, _) = server.state();
    let members = state["members"].as_array().map_or(0, Vec::len);
    assert_eq!(members, SEATS, "acknowledged {created}, stored {members}");
}

#[test]
fn kill_9_during_a_100k_change_batch_leaves_the_old_or_the_whole_new_state() {
    const BATCH: usize = 100_000;
    let mut server = ServerGuard::start(ServerOptions::with_admin());
    seed(&server, 10);
    let changes: Vec<Value> = (0..BATCH)
        .map(|n| member("globex", &format!("bulk{n}@globex.com")))
        .collect();
    let body = json!({"expected_revision": 1, "changes": changes, "meta": {}});
    let url = server.url("/v1/changes");
    let token = server.token.clone().expect("a token");
    let sender = std::thread::spawn(move || {
        // The answer does not matter: the server dies under it.
        let _ = crate::support::client()
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send();
    });
    // Let the batch reach the server and be in the middle of its commit.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    server.kill();
    let _ = sender.join();
    let server = ServerGuard::start_in(Arc::clone(&server.dir), ServerOptions::with_admin());
    let (state, revision) = server.state();
    let members = state["members"].as_array().expect("members").len();
    match revision {
        1 => assert_eq!(members, 10),
        2 => assert_eq!(members, 10 + BATCH),
        other => panic!("unexpected revision {other} with {members} members"),
    }
    // A commit after the restart survives the next restart.
    let (status, body) =
        json(server.post_changes(Some(revision), json!([member("globex", "after@globex.com")])));
    assert_eq!(status, 200, "{body}");
    let mut server = server;
    server.kill();
    let server = ServerGuard::start_in(Arc::clone(&server.dir), ServerOptions::with_admin());
    let (state, after) = server.state();
    assert_eq!(after, revision + 1);
    assert!(
        state["members"]
            .as_array()
            .expect("members")
            .iter()
            .any(|entry| entry["email"] == "after@globex.com")
    );
}
