//! Access model v2 end to end: roles that cap access and decide permissions, through
//! `portalctl serve` (real HTTP, temp database) and the CLI's plan and apply. (A saved plan
//! recognised by content is in `apply.rs`, dashboards written back by import in `import.rs`.)

use serde_json::{Value, json};

use crate::support::{CONFIG, Kind, ServerGuard, ServerOptions, Setup, json};

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

/// Portal `globex` with `vic` (viewer), `eve` (editor) and `aud` (custom `auditor`:
/// viewer + data.export); every one of them has an `edit` user share on /Reports.
fn seeded() -> ServerGuard {
    let server = ServerGuard::start(ServerOptions::with_admin());
    let portal = json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye"});
    let mut changes = vec![
        put(
            "workspace",
            &[],
            json!({"name": "Acme", "owner_domains": ["acme.io"]}),
        ),
        put("partner_org", &["globex"], json!({"domains": ["globex.com"]})),
        put("portal", &["globex"], portal),
        put(
            "role",
            &["auditor"],
            json!({"extends": "viewer", "permissions": ["data.export"]}),
        ),
        put("folder", &["/Reports"], json!({})),
        put("folder", &["/Reports/Q3"], json!({})),
    ];
    for (email, role) in [
        ("vic@globex.com", "viewer"),
        ("eve@globex.com", "editor"),
        ("aud@globex.com", "auditor"),
    ] {
        changes.push(put(
            "member",
            &["globex", email],
            json!({"role": role, "org": "globex"}),
        ));
        changes.push(put(
            "share",
            &["/Reports", &format!("user:{email}")],
            json!({"access": "edit"}),
        ));
    }
    let (status, body) = json(server.post_changes(Some(0), Value::Array(changes)));
    assert_eq!(status, 200, "{body}");
    server
}

fn check(server: &ServerGuard, email: &str, query: &str) -> Value {
    let (status, body) = json(server.get(&format!("/v1/access/{email}/check?{query}")));
    assert_eq!(status, 200, "{body}");
    body
}

#[test]
fn a_viewer_with_an_edit_share_gets_view() {
    let server = seeded();
    let vic = check(&server, "vic@globex.com", "folder=/Reports/Q3");
    assert_eq!(
        vic,
        json!({"allowed": true, "level": "view", "permissions": ["reports.view"], "known": true})
    );
    let eve = check(&server, "eve@globex.com", "folder=/Reports/Q3");
    assert_eq!(eve["level"], "edit");
    // `/v1/access/{email}` shows the cap and the permissions per folder.
    let (status, access) = json(server.get("/v1/access/vic@globex.com"));
    assert_eq!(status, 200, "{access}");
    let reports = &access["folders"][0];
    assert_eq!(reports["folder"], "/Reports");
    assert_eq!(reports["level"], "view");
    assert_eq!(reports["permissions"], json!(["reports.view"]));
    assert_eq!(reports["grants"][0]["shared_level"], "edit");
    assert_eq!(reports["grants"][0]["role"], "viewer");
}

#[test]
fn permission_answers_for_built_in_and_custom_roles() {
    let server = seeded();
    let allowed = |email: &str, permission: &str| {
        let body = check(
            &server,
            email,
            &format!("folder=/Reports/Q3&permission={permission}"),
        );
        assert_eq!(body["permission"], permission, "{body}");
        body["allowed"].as_bool().unwrap()
    };
    assert!(allowed("vic@globex.com", "reports.view"));
    assert!(!allowed("vic@globex.com", "reports.edit"));
    assert!(allowed("eve@globex.com", "reports.edit"));
    assert!(allowed("eve@globex.com", "dashboards.create"));
    assert!(!allowed("eve@globex.com", "data.export"));
    // auditor: viewer + data.export, but data.export is edit-type and auditor cannot edit.
    assert!(allowed("aud@globex.com", "reports.view"));
    assert!(!allowed("aud@globex.com", "data.export"));
    // Give the custom role reports.edit: the service's index follows the role change.
    let (status, body) = json(server.post_changes(
        None,
        json!([put(
            "role",
            &["auditor"],
            json!({"extends": "viewer", "permissions": ["data.export", "reports.edit"]}),
        )]),
    ));
    assert_eq!(status, 200, "{body}");
    assert!(allowed("aud@globex.com", "data.export"));
    assert_eq!(
        check(&server, "aud@globex.com", "folder=/Reports")["level"],
        "edit"
    );
    // No access: nothing is allowed.
    assert!(!allowed("nobody@globex.com", "reports.view"));
}

#[test]
fn a_role_change_shows_in_the_access_impact_of_plan_and_apply() {
    let setup = Setup::new(Kind::Sqlite);
    let config = CONFIG.replace(
        "      - group: finance\n        access: view",
        "      - group: finance\n        access: edit",
    );
    setup.write_config(&config);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    // alice (viewer) holds an edit share through `finance`: view. Make her an editor.
    let promoted = config.replace(
        "        role: viewer\n        org: globex\n        attributes",
        "        role: editor\n        org: globex\n        attributes",
    );
    assert_ne!(promoted, config);
    setup.write_config(&promoted);
    let (out, _) = setup.expect(&["plan", "config"], 2);
    assert!(
        out.contains("~ alice@globex.com  view → edit  /Partners/Finance  via group finance"),
        "{out}"
    );
    let (out, err) = setup.expect(&["apply", "config", "--auto-approve"], 0);
    let both = format!("{out}{err}");
    assert!(both.contains("view → edit"), "{both}");
    let (explain, _) = setup.expect(&["explain", "alice@globex.com", "--live"], 0);
    assert!(
        explain.contains(
            "edit  /Partners/Finance\n      permissions: dashboards.create, reports.edit, reports.view"
        ),
        "{explain}"
    );
}

#[test]
fn an_org_share_grants_every_member_and_goes_with_the_org() {
    let server = seeded();
    let (status, body) = json(server.post_changes(
        None,
        json!([
            put("folder", &["/Orgwide"], json!({})),
            put(
                "share",
                &["/Orgwide", "org:globex"],
                json!({"access": "view", "expires": "2099-01-01"})
            ),
        ]),
    ));
    assert_eq!(status, 200, "{body}");
    for email in ["vic@globex.com", "eve@globex.com", "aud@globex.com"] {
        assert_eq!(
            check(&server, email, "folder=/Orgwide")["level"],
            "view",
            "{email}"
        );
    }
    let (_, access) = json(server.get("/v1/access/eve@globex.com"));
    let orgwide = access["folders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|folder| folder["folder"] == "/Orgwide")
        .unwrap()
        .clone();
    assert_eq!(orgwide["grants"][0]["kind"], "org");
    assert_eq!(orgwide["grants"][0]["expires"], "2099-01-01");
    // An unknown org is refused: a reference the current state cannot satisfy.
    let (status, body) = json(server.post_changes(
        None,
        json!([put(
            "share",
            &["/Orgwide", "org:nowhere"],
            json!({"access": "view"})
        )]),
    ));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "conflicts_with_state", "{body}");
    // Removing the org revokes its members and its shares at once.
    let (status, body) = json(server.post_changes(
        None,
        json!([{"op": "delete", "kind": "partner_org", "key": ["globex"]}]),
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        check(&server, "eve@globex.com", "folder=/Orgwide")["allowed"],
        false
    );
    let (state, _) = server.state();
    assert!(!state.to_string().contains("org:globex"), "{state}");
}

#[test]
fn org_shares_in_yaml_show_in_plan_and_explain() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let config = CONFIG.replace(
        "      - portal: globex\n        access: view",
        "      - org: globex\n        access: view",
    );
    setup.write_config(&config);
    // Same people, another path: the level is unchanged, so no access change.
    let (out, _) = setup.expect(&["plan", "config"], 2);
    assert!(
        out.contains("share /Partners/Enablement with org:globex"),
        "{out}"
    );
    let (out, _) = setup.expect(&["explain", "alice@globex.com", "config"], 0);
    assert!(
        out.contains(
            "view  /Partners/Enablement\n      permissions: reports.view\n      view via org globex"
        ),
        "{out}"
    );
    // A member leaving the org loses the folder.
    let moved = config.replace(
        "      - email: bob@globex.com\n        role: editor\n        org: globex\n",
        "      - email: bob@globex.com\n        role: editor\n",
    );
    assert_ne!(moved, config);
    setup.write_config(&moved);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&config);
    let (out, _) = setup.expect(&["plan", "config"], 2);
    assert!(
        out.contains("+ bob@globex.com  view  /Partners/Enablement  via org globex"),
        "{out}"
    );
}

/// Globex with self-registration, `tenant_id` (drives row-level data, org-supplied) and
/// `department` (self-service).
fn registration_server() -> ServerGuard {
    let server = ServerGuard::start(ServerOptions::with_admin());
    let changes = json!([
        put(
            "workspace",
            &[],
            json!({"name": "Acme", "owner_domains": ["acme.io"]})
        ),
        put("attribute", &["tenant_id"], json!({"type": "string"})),
        put(
            "attribute",
            &["department"],
            json!({"type": "string", "self_service": true})
        ),
        put(
            "partner_org",
            &["globex"],
            json!({"domains": ["globex.com"], "attributes": {"tenant_id": "g-001"}}),
        ),
        put(
            "portal",
            &["globex"],
            json!({
                "name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
                "self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": ["globex.com"]}
            }),
        ),
    ]);
    let (status, body) = json(server.post_changes(Some(0), changes));
    assert_eq!(status, 200, "{body}");
    server
}

fn register(server: &ServerGuard, body: Value) -> (u16, Value) {
    json(server.send_json(reqwest::Method::POST, "/v1/portals/globex/self-register", &body))
}

#[test]
fn a_self_registration_cannot_set_a_non_self_service_attribute() {
    let server = registration_server();
    let before = server.state();
    let (status, body) = register(
        &server,
        json!({"email": "mal@globex.com", "attributes": {"tenant_id": "t-100", "department": "ops"}}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "attribute_not_self_service", "{body}");
    assert_eq!(body["error"]["field"], "attributes.tenant_id", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("tenant_id"),
        "{body}"
    );
    // An undeclared attribute is refused the same way.
    let (status, body) = register(
        &server,
        json!({"email": "mal@globex.com", "attributes": {"is_admin": true}}),
    );
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("attribute_not_self_service"))
    );
    // Nothing was written.
    assert_eq!(server.state(), before);
}

#[test]
fn a_self_registered_member_gets_their_orgs_values() {
    let server = registration_server();
    let (status, body) = register(
        &server,
        json!({"email": "ann@globex.com", "attributes": {"department": "ops"}}),
    );
    assert_eq!(status, 201, "{body}");
    let (state, _) = server.state();
    let ann = state["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|member| member["email"] == "ann@globex.com")
        .cloned()
        .unwrap_or_else(|| panic!("no ann in {state}"));
    assert_eq!(
        ann["attributes"],
        json!({"department": "ops", "tenant_id": "g-001"}),
        "{ann}"
    );
    // A self-service value the org does not supply is the partner's to set.
    let (status, body) = register(
        &server,
        json!({"email": "bo@globex.com", "attributes": {"department": "x"}}),
    );
    assert_eq!(status, 201, "{body}");
}

#[test]
fn members_inherit_their_orgs_attributes_in_yaml() {
    let setup = Setup::new(Kind::Sqlite);
    let required = CONFIG.replace(
        "  tenant_id: { type: string }",
        "  tenant_id: { type: string, required: true }",
    );
    // bob omits tenant_id: his org supplies it.
    let inherited = required.replace(
        "    domains: [globex.com]\n",
        "    domains: [globex.com]\n    attributes: { tenant_id: t-1 }\n",
    );
    assert_ne!(inherited, required);
    setup.write_config(&inherited);
    setup.expect(&["validate", "config"], 0);
    let (out, _) = setup.expect(&["explain", "bob@globex.com", "config"], 0);
    assert!(out.contains("tenant_id=t-1"), "{out}");
    // alice states t-1 (agrees); make it contradict: an error at her line.
    let contradicting = inherited.replace("tenant_id: t-1, contract_ref", "tenant_id: t-2, contract_ref");
    setup.write_config(&contradicting);
    let (out, err) = setup.expect(&["validate", "config"], 1);
    let both = format!("{out}{err}");
    let line = contradicting
        .lines()
        .position(|line| line.contains("tenant_id: t-2"))
        .unwrap()
        + 1;
    assert!(
        both.contains(&format!("portalctl.yaml:{line}:")),
        "line {line}: {both}"
    );
    assert!(both.contains("partner org supplies `t-1`"), "{both}");
}

#[test]
fn a_put_without_protect_keeps_it_and_patch_merges() {
    let server = seeded();
    let portal = |extra: Value| {
        let mut body = json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let put = |body: Value| json(server.send_json(reqwest::Method::PUT, "/v1/portals/globex", &body));
    let get = || json(server.get("/v1/portals/globex")).1;
    assert_eq!(put(portal(json!({"protect": true}))).0, 200);
    // Only the colour changes; protect is omitted and kept.
    assert_eq!(put(portal(json!({"color": "#FF0000"}))).0, 200);
    assert_eq!(
        (get()["protect"].clone(), get()["color"].clone()),
        (json!(true), json!("#FF0000"))
    );
    let (status, body) = json(server.post_changes(
        None,
        json!([{"op": "delete", "kind": "portal", "key": ["globex"]}]),
    ));
    assert_eq!(status, 409, "{body}");
    // PATCH: a JSON merge patch, either content type.
    let patch = |body: Value, content_type: &str| {
        let response = server
            .request(reqwest::Method::PATCH, "/v1/portals/globex")
            .header("Content-Type", content_type)
            .body(body.to_string())
            .send()
            .unwrap();
        json(response)
    };
    let (status, body) = patch(json!({"name": "Globex Partners"}), "application/merge-patch+json");
    assert_eq!(status, 200, "{body}");
    let after = get();
    assert_eq!(after["name"], "Globex Partners");
    assert_eq!(
        (after["protect"].clone(), after["color"].clone()),
        (json!(true), json!("#FF0000"))
    );
    let (status, body) = patch(json!({"protect": false}), "application/json");
    assert_eq!(status, 200, "{body}");
    assert_eq!(get()["protect"], false);
    // A member: change the role only; a patch making the value invalid is refused.
    let (status, body) = patch_member(&server, json!({"role": "editor"}));
    assert_eq!(status, 200, "{body}");
    let (_, member) = json(server.get("/v1/portals/globex/members/vic@globex.com"));
    assert_eq!(
        (member["role"].clone(), member["org"].clone()),
        (json!("editor"), json!("globex"))
    );
    assert_eq!(patch_member(&server, json!({"role": 7})).0, 422);
    // A role that does not exist: a reference to a missing resource, not a bad body.
    assert_eq!(patch_member(&server, json!({"role": "nobody"})).0, 409);
    // Absent: 404.
    let response = server
        .request(reqwest::Method::PATCH, "/v1/portals/nowhere")
        .json(&json!({"name": "x"}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// Regression (schemathesis): a `null` inside a nested object removes that field
/// (RFC 7396), and a patch the document refuses (`schemas/openapi.json`, `…Patch`) is
/// refused with 422 before anything is read or written.
#[test]
fn nested_merge_patches_do_what_the_document_says() {
    let server = seeded();
    let patch = |path: &str, body: Value| {
        json(
            server
                .request(reqwest::Method::PATCH, path)
                .json(&body)
                .send()
                .unwrap(),
        )
    };
    let (status, body) = patch(
        "/v1/workspace",
        json!({"permissions": {"files.transfer": {"requires": "view"}, "data.export": {"requires": "view"}}}),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = patch("/v1/workspace", json!({"permissions": {"files.transfer": null}}));
    assert_eq!(status, 200, "{body}");
    let (_, workspace) = json(server.get("/v1/workspace"));
    assert_eq!(
        workspace["permissions"],
        json!({"data.export": {"requires": "view"}}),
        "{workspace}"
    );
    // A fixed level is refused by the document, so by the request check, with its field.
    let (status, body) = patch(
        "/v1/workspace",
        json!({"permissions": {"reports.view": {"requires": "edit"}}}),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["error"]["field"], "/permissions/reports.view/requires",
        "{body}"
    );
    // Self-registration: a nested object names its required fields; `groups: null` drops them.
    let registration = json!({"enabled": true, "default_role": "viewer",
        "allowed_domains": ["globex.com"], "groups": ["finance"]});
    let (status, body) = json(server.post_changes(
        None,
        json!([
            put("group", &["finance"], json!({})),
            put(
                "portal",
                &["globex"],
                json!({"name": "Globex", "color": "#0F62FE",
                   "logout_url": "https://acme.io/bye", "self_registration": registration})
            )
        ]),
    ));
    assert_eq!(status, 200, "{body}");
    let (status, body) = patch(
        "/v1/portals/globex",
        json!({"self_registration": {"enabled": true, "default_role": "viewer",
            "allowed_domains": ["globex.com"], "groups": null}}),
    );
    assert_eq!(status, 200, "{body}");
    let (_, portal) = json(server.get("/v1/portals/globex"));
    assert!(portal["self_registration"].get("groups").is_none(), "{portal}");
    assert_eq!(portal["self_registration"]["enabled"], true, "{portal}");
    let (status, body) = patch(
        "/v1/portals/globex",
        json!({"self_registration": {"enabled": false}}),
    );
    assert_eq!(status, 422, "{body}");
    // An enum attribute's `type` and `values` go together, whatever is stored.
    let (status, body) = json(server.post_changes(
        None,
        json!([put(
            "attribute",
            &["tier"],
            json!({"type": "enum", "values": ["gold", "silver"]})
        )]),
    ));
    assert_eq!(status, 200, "{body}");
    let (status, body) = patch("/v1/attributes/tier", json!({"type": "enum"}));
    assert_eq!(status, 422, "{body}");
    let (status, body) = patch("/v1/attributes/tier", json!({"type": "enum", "values": ["gold"]}));
    assert_eq!(status, 200, "{body}");
    // A partner org: SCIM without portals is refused by the document.
    let (status, body) = patch(
        "/v1/partner_orgs/globex",
        json!({"self_management": {"max_role": "viewer", "scim": true, "portals": []}}),
    );
    assert_eq!(status, 422, "{body}");
}

/// Regression (schemathesis): an outbox id past `i64::MAX` is refused, not read as "all".
#[test]
fn an_outbox_cursor_past_the_largest_id_is_refused() {
    let server = seeded();
    let (status, body) = json(server.get("/v1/outbox?before=9223372036854775808"));
    assert_eq!(status, 400, "{body}");
    let (status, body) = json(server.get("/v1/outbox?before=9223372036854775807"));
    assert_eq!(status, 200, "{body}");
}

fn patch_member(server: &ServerGuard, body: Value) -> (u16, Value) {
    json(
        server
            .request(
                reqwest::Method::PATCH,
                "/v1/portals/globex/members/vic@globex.com",
            )
            .json(&body)
            .send()
            .unwrap(),
    )
}

/// CONFIG with carol (a viewer, in no group) and a dashboard in `/Partners/Finance` (shared
/// with group `finance`: alice) with a share of its own for bob.
pub fn dashboard_config() -> String {
    let config = CONFIG.replace(
        "      - email: bob@globex.com\n",
        "      - email: carol@globex.com\n        role: viewer\n        org: globex\n      - email: bob@globex.com\n",
    );
    assert_ne!(config, CONFIG);
    format!(
        "{config}dashboards:\n  /Partners/Finance/Q3 Revenue:\n    description: Quarterly revenue by partner\n    shares:\n      - user: bob@globex.com\n        access: view\n"
    )
}

#[test]
fn dashboards_inherit_their_folders_shares_and_add_their_own_through_serve() {
    let setup = Setup::new(Kind::Http);
    setup.write_config(&dashboard_config());
    let (out, _) = setup.expect(&["plan", "config"], 2);
    assert!(out.contains("+ dashboard /Partners/Finance/Q3 Revenue"), "{out}");
    assert!(
        out.contains(
            "+ alice@globex.com  view  dashboard /Partners/Finance/Q3 Revenue  via group finance (shared on /Partners/Finance)"
        ),
        "{out}"
    );
    assert!(
        out.contains("+ bob@globex.com  view  dashboard /Partners/Finance/Q3 Revenue  via user share"),
        "{out}"
    );
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let server = setup.server.as_ref().expect("an HTTP setup has a server");
    let dashboard = "dashboard=/Partners/Finance/Q3%20Revenue";
    // alice through the folder's group share, bob through the dashboard's own share.
    for email in ["alice@globex.com", "bob@globex.com"] {
        assert_eq!(
            check(server, email, dashboard),
            json!({"allowed": true, "level": "view", "permissions": ["reports.view"], "known": true}),
            "{email}"
        );
    }
    // carol sees neither; bob's dashboard share does not reach up to the folder.
    assert_eq!(check(server, "carol@globex.com", dashboard)["allowed"], false);
    assert_eq!(
        check(server, "bob@globex.com", "folder=/Partners/Finance")["allowed"],
        false
    );
    assert_eq!(
        check(
            server,
            "bob@globex.com",
            &format!("{dashboard}&permission=reports.view")
        )["allowed"],
        true
    );
    // A path asked as the other kind, or an undeclared dashboard, answers no.
    assert_eq!(
        check(server, "alice@globex.com", "dashboard=/Partners/Finance")["allowed"],
        false
    );
    assert_eq!(
        check(server, "alice@globex.com", "dashboard=/Partners/Finance/Other")["allowed"],
        false
    );
    // Regression (issue 21): an unknown folder or dashboard says so; an unknown
    // permission is a 422 naming the known ones, not `allowed: false`.
    let other = check(server, "alice@globex.com", "dashboard=/Partners/Finance/Other");
    assert_eq!(other["known"], false, "{other}");
    assert_eq!(
        other["note"],
        "no dashboard `/Partners/Finance/Other` is declared: nobody can open it"
    );
    assert_eq!(
        check(server, "alice@globex.com", "folder=/Partners")["known"],
        true
    );
    assert_eq!(
        check(server, "alice@globex.com", "folder=/Nowhere")["known"],
        false
    );
    let (status, body) = json(
        server.get("/v1/access/alice@globex.com/check?folder=/Partners/Finance&permission=reports.write"),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "unknown_permission", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`reports.write` is not a permission") && message.contains("reports.edit"),
        "{message}"
    );
    // Exactly one of `folder` and `dashboard`.
    for query in [
        format!("{dashboard}&folder=/Partners/Finance"),
        "permission=reports.view".to_string(),
        "dashboard=Partners".to_string(),
    ] {
        let (status, body) = json(server.get(&format!("/v1/access/bob@globex.com/check?{query}")));
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_query", "{body}");
    }
    // The collection and `/v1/access/{email}` know the dashboard.
    let (status, list) = json(server.get("/v1/dashboards"));
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["items"][0]["key"], json!(["/Partners/Finance/Q3 Revenue"]));
    let (status, one) = json(server.get("/v1/dashboards/Partners/Finance/Q3%20Revenue"));
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["description"], "Quarterly revenue by partner");
    let (_, access) = json(server.get("/v1/access/bob@globex.com"));
    let seen: Vec<(String, String)> = access["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|folder| {
            (
                folder["folder"].as_str().unwrap().to_string(),
                folder["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("/Partners/Enablement".to_string(), "folder".to_string()),
            (
                "/Partners/Finance/Q3 Revenue".to_string(),
                "dashboard".to_string()
            ),
        ]
    );
    // explain, from the YAML and from the service.
    for args in [
        &["explain", "bob@globex.com", "config"][..],
        &["explain", "bob@globex.com", "--live"][..],
    ] {
        let (out, _) = setup.expect(args, 0);
        // Regression (issue 21): "1 folder(s)", "1 dashboard(s)".
        assert!(out.contains("can see 1 folder and 1 dashboard:"), "{out}");
        assert!(
            out.contains("view  dashboard /Partners/Finance/Q3 Revenue\n      permissions: reports.view\n      view via user share"),
            "{out}"
        );
    }
    let (out, _) = setup.expect(&["explain", "alice@globex.com", "config"], 0);
    assert!(
        out.contains("view via group finance (shared on /Partners/Finance)"),
        "{out}"
    );
}

#[test]
fn a_dashboard_share_shows_in_the_access_impact_and_deleting_its_folder_is_refused() {
    let setup = Setup::new(Kind::Sqlite);
    let config = dashboard_config();
    setup.write_config(&config);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let shared = config.replace(
        "      - user: bob@globex.com\n        access: view\n",
        "      - user: bob@globex.com\n        access: view\n      - user: carol@globex.com\n        access: view\n",
    );
    assert_ne!(shared, config);
    setup.write_config(&shared);
    let (out, _) = setup.expect(&["plan", "config"], 2);
    assert!(
        out.contains("+ share /Partners/Finance/Q3 Revenue with user:carol@globex.com"),
        "{out}"
    );
    assert!(
        out.contains("+ carol@globex.com  view  dashboard /Partners/Finance/Q3 Revenue  via user share"),
        "{out}"
    );
    assert!(out.contains("1 partner gains access, 0 lose"), "{out}");
    let (out, _) = setup.expect(&["plan", "config", "--format", "json"], 2);
    let plan: Value = serde_json::from_str(&out).unwrap();
    let change = &plan["access_impact"]["changes"][0];
    assert_eq!(change["folder"], "/Partners/Finance/Q3 Revenue", "{plan}");
    assert_eq!(change["kind"], "dashboard", "{plan}");
    // A folder that still holds a dashboard cannot go.
    let without_folder = shared.replace(
        "  /Partners/Finance:\n    shares:\n      - group: finance\n        access: view\n",
        "",
    );
    assert_ne!(without_folder, shared);
    setup.write_config(&without_folder);
    let (_, err) = setup.expect(&["validate", "config"], 1);
    assert!(
        err.contains("is in folder `/Partners/Finance`, which is not declared"),
        "{err}"
    );
}

/// Regression (issue 21, defect 5): acme's `account-manager` (`extends: viewer`,
/// `files.transfer`, `comments.write`) could never use either permission, and `validate`
/// said nothing. A permission declares the level it requires; `validate` warns about one
/// no grant can reach; `check?permission=` and `explain` follow.
#[test]
fn a_permission_applies_where_a_grant_reaches_its_required_level() {
    let dir = crate::support::acme_copy();
    let workspace = dir.path().join("workspace.yaml");
    let declared = std::fs::read_to_string(&workspace).unwrap();
    assert!(declared.contains("files.transfer: { requires: view }"));
    // Without the declaration: a warning at the role's permission, naming the way out.
    let undeclared = declared
        .replace("    files.transfer: { requires: view }\n", "")
        .replace("    comments.write: { requires: view }\n", "")
        .replace("  permissions:\n", "");
    std::fs::write(&workspace, &undeclared).unwrap();
    let output = crate::support::portalctl(dir.path(), &["validate", "."]);
    let err = crate::support::stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "warning[permission-unreachable]: role `account-manager` can never use `files.transfer`"
        ) && err.contains("requires: view"),
        "{err}"
    );
    // With it: alice (account-manager in globex) can transfer files where she can view.
    std::fs::write(&workspace, &declared).unwrap();
    let output = crate::support::portalctl(dir.path(), &["validate", "."]);
    let err = crate::support::stderr(&output);
    assert!(!err.contains("permission-unreachable"), "{err}");
    let server = ServerGuard::start(ServerOptions::with_admin());
    crate::support::cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let allowed = |email: &str, query: &str| {
        let (status, body) = json(server.get(&format!("/v1/access/{email}/check?{query}")));
        assert_eq!(status, 200, "{body}");
        body["allowed"].as_bool().unwrap()
    };
    assert!(allowed(
        "alice@globex.com",
        "folder=/Partners/Enablement&permission=files.transfer"
    ));
    assert!(allowed(
        "alice@globex.com",
        "folder=/Partners/Enablement&permission=comments.write"
    ));
    assert!(!allowed(
        "alice@globex.com",
        "folder=/Partners/Enablement&permission=reports.edit"
    ));
    // A viewer does not hold the permission at all.
    assert!(!allowed(
        "dana@globex.com",
        "folder=/Partners/Enablement&permission=files.transfer"
    ));
    let out = crate::support::cli_against(
        &server,
        dir.path(),
        &["explain", "alice@globex.com", ".", "--format", "json"],
        0,
    );
    // Per folder: the role's permissions whose required level that folder's grant reaches.
    let document: serde_json::Value = serde_json::from_str(&out).unwrap();
    let permissions_on = |folder: &str| -> Vec<String> {
        document["folders"]
            .as_array()
            .and_then(|folders| folders.iter().find(|entry| entry["folder"] == folder))
            .unwrap_or_else(|| panic!("explain lists {folder}: {out}"))["permissions"]
            .as_array()
            .expect("a folder lists its permissions")
            .iter()
            .map(|permission| permission.as_str().unwrap().to_string())
            .collect()
    };
    for folder in ["/Partners/Enablement", "/Partners/Finance"] {
        assert_eq!(
            permissions_on(folder),
            ["comments.write", "files.transfer", "reports.view"],
            "{folder} (view): {out}"
        );
    }
    // The same partner without the declarations: on a view folder, viewing only.
    std::fs::write(&workspace, &undeclared).unwrap();
    let out = crate::support::portalctl(
        dir.path(),
        &["explain", "alice@globex.com", ".", "--format", "json"],
    );
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let enablement = document["folders"]
        .as_array()
        .and_then(|folders| {
            folders
                .iter()
                .find(|entry| entry["folder"] == "/Partners/Enablement")
        })
        .expect("explain lists the folder");
    assert_eq!(
        enablement["permissions"],
        serde_json::json!(["reports.view"]),
        "{document}"
    );
}
