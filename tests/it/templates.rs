//! Configs at programme scale, end to end: portal templates, texts, seat limits,
//! self-registration groups, through the real binary and a real server. (Their loader
//! errors, at the template's line and at a YAML anchor, are in `validate.rs`.)

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, cli_against, example, expect_exit, json};

#[test]
fn a_template_change_is_planned_once_and_texts_reach_the_live_state() {
    let dir = example("acme");
    let target = format!("sqlite:{}", dir.path().join("live.db").display());
    expect_exit(dir.path(), &["validate", "config"], 0);
    expect_exit(
        dir.path(),
        &["apply", "config", "--auto-approve", "--target", &target],
        0,
    );
    let (out, _) = expect_exit(dir.path(), &["plan", "config", "--target", &target], 0);
    assert!(out.contains("No changes"), "{out}");
    // import writes the template back, never losing a value: a plan on it is a no-op
    expect_exit(
        dir.path(),
        &["import", "--target", &target, "--out", "imported"],
        0,
    );
    let imported = std::fs::read_to_string(dir.path().join("imported/workspace.yaml")).unwrap();
    assert!(
        imported.contains("portal_templates:") && imported.contains("partner-default"),
        "{imported}"
    );
    assert!(imported.contains("https://acme.io/partners/help"), "{imported}");
    let (out, _) = expect_exit(dir.path(), &["plan", "imported", "--target", &target], 0);
    assert!(out.contains("No changes"), "{out}");
    // change the template's help link: one summary line for both portals using it
    let workspace = dir.path().join("config/workspace.yaml");
    let text = std::fs::read_to_string(&workspace).unwrap();
    std::fs::write(
        &workspace,
        text.replace("https://acme.io/partners/help", "https://acme.io/help/v2"),
    )
    .unwrap();
    let (out, _) = expect_exit(dir.path(), &["plan", "config", "--target", &target], 2);
    assert!(
        out.contains("template partner-default: texts.help_url on 2 portals"),
        "{out}"
    );
    assert!(
        !out.contains("~ portal globex\n"),
        "the portal blocks are folded: {out}"
    );
    let (md, _) = expect_exit(
        dir.path(),
        &["plan", "config", "--target", &target, "--format", "markdown"],
        2,
    );
    let summary = md.find("template partner-default").expect("the summary line");
    assert!(summary < md.find("<details>").expect("folded details"), "{md}");
}

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

fn seeded_with_limits() -> ServerGuard {
    let server = ServerGuard::start(ServerOptions::with_admin());
    let changes = json!([
        put(
            "workspace",
            &[],
            json!({"name": "Acme", "owner_domains": ["acme.io"]})
        ),
        put(
            "partner_org",
            &["globex"],
            json!({"domains": ["globex.com"], "max_members": 3})
        ),
        put(
            "portal",
            &["globex"],
            json!({
                "name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
                "max_members": 2,
                "texts": {"initiation": "Welcome", "help_url": "https://acme.io/help"},
                "self_registration": {"enabled": true, "default_role": "viewer",
                    "allowed_domains": ["globex.com"], "groups": ["finance"]}
            })
        ),
        put(
            "member",
            &["globex", "alice@globex.com"],
            json!({"role": "viewer", "org": "globex"})
        ),
        put("group", &["finance"], json!({"members": ["alice@globex.com"]})),
    ]);
    let (status, body) = json(server.post_changes(Some(0), changes));
    assert_eq!(status, 200, "{body}");
    server
}

#[test]
fn the_service_refuses_writes_and_registrations_past_a_seat_limit() {
    let server = seeded_with_limits();
    let (_, portal) = json(server.get("/v1/portals/globex"));
    assert_eq!(portal["texts"]["help_url"], "https://acme.io/help", "{portal}");
    // self-registration joins the model's groups
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "zoe@globex.com"}),
    ));
    assert_eq!(status, 201, "{body}");
    let (_, group) = json(server.get("/v1/groups/finance"));
    assert!(group.to_string().contains("zoe@globex.com"), "{group}");
    // the portal is full (2 of 2): a write and a registration are refused with 409
    let (status, body) = json(server.post_changes(
        None,
        json!([put(
            "member",
            &["globex", "bob@globex.com"],
            json!({"role": "viewer", "org": "globex"})
        )]),
    ));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "seat_limit", "{body}");
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "yan@globex.com"}),
    ));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "seat_limit", "{body}");
    // a text too long is refused as invalid input, not a server error
    let (status, body) = json(server.post_changes(
        None,
        json!([put(
            "portal",
            &["other"],
            json!({
                "name": "Other", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
                "texts": {"first_login": "x".repeat(2001)}
            })
        )]),
    ));
    assert_eq!(status, 422, "{body}");
}

#[test]
fn a_self_registered_partner_sees_the_models_folders_and_text_drift_is_reported() {
    let dir = example("acme");
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "config", "--auto-approve"], 0);
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "zoe@globex.com", "attributes": {"department": "finance"}}),
    ));
    assert_eq!(status, 201, "{body}");
    // the registration model's group gives zoe the finance folder, visible live
    let out = cli_against(&server, dir.path(), &["explain", "zoe@globex.com", "--live"], 0);
    assert!(
        out.contains("finance-partners") && out.contains("/Partners/Finance"),
        "{out}"
    );
    // changing the model reaches later registrations only: the plan says zoe is not moved
    let globex = dir.path().join("config/portals/globex.yaml");
    let text = std::fs::read_to_string(&globex).unwrap();
    std::fs::write(
        &globex,
        text.replace(
            "groups: [finance-partners]",
            "groups: [finance-partners, investors]",
        ),
    )
    .unwrap();
    let out = cli_against(&server, dir.path(), &["plan", "config"], 2);
    assert!(
        out.contains("self-registration in portal globex now joins investors")
            && out.contains("zoe@globex.com registered before and is not moved"),
        "{out}"
    );
    assert!(
        !out.contains("~ group investors"),
        "not applied retroactively: {out}"
    );
    std::fs::write(&globex, text).unwrap();
    // the API says which template a portal follows and which values came from it
    let (_, portal) = json(server.get("/v1/portals/globex"));
    assert_eq!(portal["template"], "partner-default", "{portal}");
    assert!(
        portal["from_template"].to_string().contains("texts.help_url"),
        "{portal}"
    );
    // a text changed on the live side is drift
    let mut changed = portal.clone();
    changed["texts"]["initiation"] = json!("Hello from the console");
    let (status, body) = json(server.send_json(Method::PUT, "/v1/portals/globex", &changed));
    assert!(status < 300, "{status} {body}");
    let out = cli_against(&server, dir.path(), &["drift", "config"], 2);
    assert!(out.contains("Hello from the console"), "{out}");
}
