//! `/scim/v2` through a real `serve` with a `partner_org:` token: the lifecycle of a user
//! (filters, pagination, ETags, uniqueness, the error schema), the PATCH bodies and filters
//! Okta and Entra ID send, what such a token can never reach, seat limits under 8 clients
//! at once, the loop with git (plan and drift stay clean; withdrawing the delegation
//! removes the people it added), and the third-party conformance suites (`scim2 test`
//! from scim2-cli, `scim-sanity probe`) installed by `.ci/run` into `.ci/.venv`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Kind, ServerGuard, Setup, client};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:portalctl:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Globex delegates its roster in portal `globex` (8 seats) to its admins and its identity
/// provider; initech does not delegate. Alice is declared in git.
pub const CONFIG: &str = "\
workspace: { name: Acme, owner_domains: [acme.io] }
attributes:
  region: { type: enum, values: [emea, amer], self_service: true }
  tenant_id: { type: string }
partner_orgs:
  globex:
    domains: [globex.com]
    attributes: { tenant_id: g-1 }
    self_management: { admins: [alice@globex.com], portals: [globex], max_role: editor, default_role: viewer, scim: true }
  initech:
    domains: [initech.com]
    self_management: { portals: [initech], max_role: viewer, scim: true }
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    max_members: 8
    members:
      - { email: alice@globex.com, role: editor, org: globex }
  initech:
    name: Initech
    color: \"#FF0000\"
    logout_url: https://acme.io/bye
    members:
      - { email: ian@initech.com, role: viewer, org: initech }
groups:
  finance: { members: [alice@globex.com, ian@initech.com] }
folders:
  /Partners/Finance:
    shares: [{ group: finance, access: view }, { portal: globex, access: view }]
";

/// A served config with a SCIM token for each org.
pub struct Scim {
    pub setup: Setup,
    pub globex: String,
    pub initech: String,
}

impl Scim {
    pub fn start() -> Self {
        Self::start_with(CONFIG)
    }

    /// [`Scim::start`] on another config with the same orgs.
    pub fn start_with(config: &str) -> Self {
        let setup = Setup::new(Kind::Http);
        setup.write_config(config);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        let token = |name: &str, org: &str| {
            let (out, _) = setup.expect(
                &["token", "create", "--name", name, "--org", org, "--scope", "scim"],
                0,
            );
            out.trim().to_string()
        };
        let globex = token("globex-okta", "globex");
        let initech = token("initech-entra", "initech");
        Self {
            setup,
            globex,
            initech,
        }
    }

    pub fn server(&self) -> &ServerGuard {
        self.setup.server.as_ref().expect("an HTTP setup has a server")
    }

    pub fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        call(
            &self.server().url(&format!("/scim/v2{path}")),
            token,
            method,
            body,
            headers,
        )
    }
}

pub fn call(
    url: &str,
    token: &str,
    method: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
    let mut request = client().request(method, url).bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().expect("answered");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().expect("a body");
    if status != 204 {
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/scim+json"),
            "{status} {text}"
        );
    }
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"))
    };
    if status >= 400 {
        assert_eq!(value["schemas"], json!([ERROR]), "{value}");
        assert_eq!(value["status"], json!(status.to_string()), "{value}");
    }
    (status, value, headers)
}

fn new_user(email: &str) -> Value {
    json!({"schemas": [USER], "userName": email, "externalId": format!("ext-{email}"), "name": {"givenName": "G", "familyName": "F"}, "active": true})
}

/// The members of portal `portal` in the live state, as (email, source), sorted.
pub fn members(scim: &Scim, portal: &str) -> Vec<(String, String)> {
    let (state, _) = scim.server().state();
    let mut out: Vec<(String, String)> = state["members"]
        .as_array()
        .expect("members are a list")
        .iter()
        .filter(|member| member["portal"] == portal)
        .map(|member| {
            (
                member["email"].as_str().unwrap_or_default().to_string(),
                member["source"].as_str().unwrap_or("managed").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every membership of `email` in the live state, as (portal, role, source), sorted.
pub fn memberships(scim: &Scim, email: &str) -> Vec<(String, String, String)> {
    let (state, _) = scim.server().state();
    let mut out: Vec<(String, String, String)> = state["members"]
        .as_array()
        .expect("members are a list")
        .iter()
        .filter(|member| member["email"] == email)
        .map(|member| {
            (
                member["portal"].as_str().unwrap_or_default().to_string(),
                member["role"].as_str().unwrap_or_default().to_string(),
                member["source"].as_str().unwrap_or("managed").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Globex delegates two portals: a user its identity provider creates joins both, with the
/// delegation's `default_role` (`viewer`, below `max_role: editor`), whatever `roles` the
/// body names; reactivated, it is back in both.
#[test]
fn a_scim_user_joins_every_delegated_portal_with_the_default_role() {
    let config = CONFIG
        .replace(
            "portals: [globex], max_role: editor",
            "portals: [globex, globex2], max_role: editor",
        )
        .replace(
            "  initech:\n    name: Initech",
            "  globex2:\n    name: Globex Two\n    color: \"#00AA00\"\n    logout_url: https://acme.io/bye\n  initech:\n    name: Initech",
        );
    assert!(config.contains("globex2:") && config.contains("[globex, globex2]"));
    let scim = Scim::start_with(&config);
    let mut body = new_user("pam@globex.com");
    body["roles"] = json!([{"value": "admin", "primary": true}, {"value": "editor"}]);
    let (status, created, _) = scim.call(&scim.globex, "POST", "/Users", Some(body), &[]);
    assert_eq!(status, 201, "{created}");
    let expected = vec![
        (
            "globex".to_string(),
            "viewer".to_string(),
            "partner_managed".to_string(),
        ),
        (
            "globex2".to_string(),
            "viewer".to_string(),
            "partner_managed".to_string(),
        ),
    ];
    assert_eq!(memberships(&scim, "pam@globex.com"), expected);
    let id = created["id"].as_str().unwrap();
    for active in [false, true] {
        let (status, body, _) = scim.call(
            &scim.globex,
            "PATCH",
            &format!("/Users/{id}"),
            Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": active}}]})),
            &[],
        );
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(memberships(&scim, "pam@globex.com"), expected);
}

/// `/Groups` lists the org's groups with only the org's own SCIM users in them: a group
/// declared in git naming pam (created by globex's identity provider), alice (declared in
/// git) and ivy (created by initech's) is, for globex, a group of pam; for initech, of ivy.
/// Read by id with an ETag, found by `displayName`, and absent for an org none of whose
/// people are in it.
#[test]
fn groups_list_only_the_org_s_people_with_etags_and_filters() {
    let scim = Scim::start();
    let (status, pam, _) = scim.call(
        &scim.globex,
        "POST",
        "/Users",
        Some(new_user("pam@globex.com")),
        &[],
    );
    assert_eq!(status, 201, "{pam}");
    let (status, ivy, _) = scim.call(
        &scim.initech,
        "POST",
        "/Users",
        Some(new_user("ivy@initech.com")),
        &[],
    );
    assert_eq!(status, 201, "{ivy}");
    // Git names the people the orgs manage in its groups (they are at the domain of an org
    // that delegates its roster, so the config is valid before and after they join).
    scim.setup.write_config(&CONFIG.replace(
        "finance: { members: [alice@globex.com, ian@initech.com] }",
        "finance: { members: [alice@globex.com, ian@initech.com, pam@globex.com, ivy@initech.com] }\n  ops: { members: [alice@globex.com] }",
    ));
    scim.setup.expect(&["apply", "config", "--auto-approve"], 0);
    scim.setup.expect(&["plan", "config"], 0);

    let (status, list, _) = scim.call(&scim.globex, "GET", "/Groups", None, &[]);
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        list["totalResults"], 1,
        "only finance has globex's SCIM users: {list}"
    );
    let group = &list["Resources"][0];
    assert_eq!(group["displayName"], "finance", "{list}");
    let members: Vec<&str> = group["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|member| member["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [pam["id"].as_str().unwrap()], "{group}");
    assert_eq!(group["members"][0]["display"], "pam@globex.com");
    let id = group["id"].as_str().unwrap();

    let (status, read, headers) = scim.call(&scim.globex, "GET", &format!("/Groups/{id}"), None, &[]);
    assert_eq!(status, 200, "{read}");
    let etag = headers.get("etag").expect("an ETag").to_str().unwrap();
    assert_eq!(read["meta"]["version"], json!(etag), "{read}");
    assert_eq!(read["members"], group["members"]);

    for (filter, expected) in [
        ("displayName eq \"FINANCE\"", 1),
        ("displayName eq \"ops\"", 0),
        ("displayName sw \"fin\" or displayName eq \"x\"", 1),
        ("displayName ne \"finance\"", 0),
    ] {
        let (status, found, _) = scim.call(
            &scim.globex,
            "GET",
            &format!("/Groups?filter={}", urlencode(filter)),
            None,
            &[],
        );
        assert_eq!(
            (status, found["totalResults"].clone()),
            (200, json!(expected)),
            "{filter}: {found}"
        );
    }
    let (status, found, _) = scim.call(
        &scim.globex,
        "POST",
        "/Groups/.search",
        Some(json!({"filter": "displayName eq \"finance\""})),
        &[],
    );
    assert_eq!(
        (status, found["totalResults"].clone()),
        (200, json!(1)),
        "{found}"
    );

    // Initech sees the same group with ivy alone; nothing of globex's.
    let (status, theirs, _) = scim.call(&scim.initech, "GET", &format!("/Groups/{id}"), None, &[]);
    assert_eq!(status, 200, "{theirs}");
    let values: Vec<&str> = theirs["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|member| member["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, [ivy["id"].as_str().unwrap()], "{theirs}");
    assert!(!theirs.to_string().contains("globex.com"), "{theirs}");
    let (status, body, _) = scim.call(&scim.globex, "GET", "/Groups/ops", None, &[]);
    assert_eq!(status, 404, "a group without globex's SCIM users: {body}");

    // Pam leaves: the group stays valid in git and empties for globex.
    let (status, _, _) = scim.call(
        &scim.globex,
        "DELETE",
        &format!("/Users/{}", pam["id"].as_str().unwrap()),
        None,
        &[],
    );
    assert_eq!(status, 204);
    let (_, list, _) = scim.call(&scim.globex, "GET", "/Groups", None, &[]);
    assert_eq!(list["totalResults"], 0, "{list}");
    scim.setup.expect(&["plan", "config"], 0);
}

#[test]
fn a_user_lives_through_create_filter_etag_patch_and_delete() {
    let scim = Scim::start();
    let token = scim.globex.clone();
    let (status, created, headers) =
        scim.call(&token, "POST", "/Users", Some(new_user("Pam@Globex.com")), &[]);
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["userName"], "pam@globex.com");
    assert_eq!(created["active"], true);
    let location = headers.get("location").unwrap().to_str().unwrap();
    assert!(location.ends_with(&format!("/scim/v2/Users/{id}")), "{location}");
    let etag = headers.get("etag").unwrap().to_str().unwrap().to_string();
    assert_eq!(created["meta"]["version"], json!(etag));
    assert!(members(&scim, "globex").contains(&("pam@globex.com".into(), "partner_managed".into())));

    // 409 uniqueness, case-insensitively; the declared member is taken too.
    for taken in ["pam@globex.com", "PAM@globex.com", "alice@globex.com"] {
        let (status, body, _) = scim.call(&token, "POST", "/Users", Some(new_user(taken)), &[]);
        assert_eq!(
            (status, body["scimType"].as_str()),
            (409, Some("uniqueness")),
            "{taken}: {body}"
        );
    }
    // Okta's and Entra ID's lookups: userName (any case) and externalId.
    for filter in [
        "userName eq \"PAM@globex.com\"",
        "externalId eq \"ext-Pam@Globex.com\"",
        "userName sw \"pam\" and active eq true",
        "name.givenName pr",
    ] {
        let (status, list, _) = scim.call(
            &token,
            "GET",
            &format!("/Users?filter={}", urlencode(filter)),
            None,
            &[],
        );
        assert_eq!(status, 200, "{filter}: {list}");
        assert_eq!(list["totalResults"], 1, "{filter}: {list}");
        assert_eq!(list["Resources"][0]["id"], json!(id));
    }
    let (status, body, _) = scim.call(&token, "GET", "/Users?filter=userName%20eq", None, &[]);
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("invalidFilter")),
        "{body}"
    );

    // A stale If-Match is 412 and changes nothing; the right one passes.
    let deactivate =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (status, body, _) = scim.call(
        &token,
        "PATCH",
        &format!("/Users/{id}"),
        Some(deactivate.clone()),
        &[("if-match", "W/\"0000\"")],
    );
    assert_eq!(status, 412, "{body}");
    assert!(
        members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "pam@globex.com")
    );
    let (status, body, _) = scim.call(
        &token,
        "PATCH",
        &format!("/Users/{id}"),
        Some(deactivate),
        &[("if-match", &etag)],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], false);
    // Deactivated: no access at once (the seat is freed), still readable.
    assert!(
        !members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "pam@globex.com")
    );
    let (status, body, _) = scim.call(&token, "GET", &format!("/Users/{id}"), None, &[]);
    assert_eq!((status, body["active"].clone()), (200, json!(false)));
    // Reactivated: back with the role it had.
    let (status, body, _) = scim.call(&token, "PATCH", &format!("/Users/{id}"), Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]})), &[]);
    assert_eq!((status, body["active"].clone()), (200, json!(true)), "{body}");
    assert!(
        members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "pam@globex.com")
    );

    // Pagination with integer totals.
    for n in 0..3 {
        let (status, _, _) = scim.call(
            &token,
            "POST",
            "/Users",
            Some(new_user(&format!("p{n}@globex.com"))),
            &[],
        );
        assert_eq!(status, 201);
    }
    let (_, page, _) = scim.call(&token, "GET", "/Users?startIndex=2&count=2", None, &[]);
    assert_eq!(
        (
            page["totalResults"].clone(),
            page["startIndex"].clone(),
            page["itemsPerPage"].clone()
        ),
        (json!(4), json!(2), json!(2)),
        "{page}"
    );

    // The same search in a body (RFC 7644 §3.4.3), `attributes` as a list; at the root,
    // across resource types, it is not supported (`501`).
    let search = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "userName sw \"p\"",
        "startIndex": 2,
        "count": 2,
        "attributes": ["userName"],
    });
    let (status, found, _) = scim.call(&token, "POST", "/Users/.search", Some(search.clone()), &[]);
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (
            found["totalResults"].clone(),
            found["startIndex"].clone(),
            found["itemsPerPage"].clone()
        ),
        (json!(4), json!(2), json!(2)),
        "{found}"
    );
    let first = &found["Resources"][0];
    assert!(
        first["userName"].is_string() && first.get("externalId").is_none(),
        "{found}"
    );
    let (status, body, _) = scim.call(&token, "POST", "/.search", Some(search), &[]);
    assert_eq!(status, 501, "{body}");

    // A stale If-Match is 412 for PUT and DELETE too, and changes nothing.
    let (_, current, _) = scim.call(&token, "GET", &format!("/Users/{id}"), None, &[]);
    let mut renamed = current.clone();
    renamed["displayName"] = json!("Pam Stale");
    let (status, body, _) = scim.call(
        &token,
        "PUT",
        &format!("/Users/{id}"),
        Some(renamed),
        &[("if-match", "W/\"0000\"")],
    );
    assert_eq!(status, 412, "{body}");
    let (status, body, _) = scim.call(
        &token,
        "DELETE",
        &format!("/Users/{id}"),
        None,
        &[("if-match", "W/\"0000\"")],
    );
    assert_eq!(status, 412, "{body}");
    let (_, after, _) = scim.call(&token, "GET", &format!("/Users/{id}"), None, &[]);
    assert_eq!(after, current, "a refused write changed the user");

    // The audit log names the token and the org.
    let (history, _) = scim.setup.expect(&["history", "--limit", "20"], 0);
    assert!(
        history.contains("by `globex-okta`") && history.contains("author scim:globex"),
        "{history}"
    );

    let (status, _, _) = scim.call(&token, "DELETE", &format!("/Users/{id}"), None, &[]);
    assert_eq!(status, 204);
    let (status, body, _) = scim.call(&token, "GET", &format!("/Users/{id}"), None, &[]);
    assert_eq!(status, 404, "{body}");
    assert!(
        !members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "pam@globex.com")
    );
    let (status, body, _) = scim.call(&token, "GET", "/Nothing", None, &[]);
    assert_eq!(status, 404, "{body}");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The bodies Okta and Entra ID send (from their SCIM provisioning guides), replayed.
#[test]
fn okta_and_entra_id_patch_bodies_are_understood() {
    let scim = Scim::start();
    let token = scim.globex.clone();
    // Entra ID: creates with externalId and the enterprise extension, booleans as strings.
    let entra_create = json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@globex.com",
        "active": "True",
        "emails": [{"primary": true, "type": "work", "value": "Test_User_ab6490ee@globex.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
    });
    let (status, entra, _) = scim.call(&token, "POST", "/Users", Some(entra_create), &[]);
    assert_eq!(status, 201, "{entra}");
    let entra_id = entra["id"].as_str().unwrap().to_string();
    // Entra ID's lookup by externalId, then its PATCH: `Replace` in capitals, a filtered
    // email path, a self-service extension attribute, and deactivation as a string.
    let (_, found, _) = scim.call(
        &token,
        "GET",
        &format!(
            "/Users?filter={}",
            urlencode("externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"")
        ),
        None,
        &[],
    );
    assert_eq!(found["Resources"][0]["id"], json!(entra_id), "{found}");
    let entra_patch = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "test_user_ab6490ee@globex.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": format!("{EXTENSION}:region"), "value": "emea"},
        {"op": "Replace", "path": "active", "value": "False"},
    ]});
    let (status, patched, _) = scim.call(
        &token,
        "PATCH",
        &format!("/Users/{entra_id}"),
        Some(entra_patch),
        &[],
    );
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["name"]["familyName"], "updatedFamilyName");
    assert_eq!(patched["active"], false);
    assert_eq!(patched["emails"][0]["value"], "test_user_ab6490ee@globex.com");
    // The self-service extension reads back, deactivated and reactivated.
    assert_eq!(patched[EXTENSION]["region"], "emea", "{patched}");
    let reactivate =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]});
    let (status, back, _) = scim.call(
        &token,
        "PATCH",
        &format!("/Users/{entra_id}"),
        Some(reactivate),
        &[],
    );
    assert_eq!(status, 200, "{back}");
    let (_, read, _) = scim.call(&token, "GET", &format!("/Users/{entra_id}"), None, &[]);
    assert_eq!(
        (read["active"].clone(), read[EXTENSION]["region"].clone()),
        (json!(true), json!("emea")),
        "{read}"
    );
    assert!(
        read["schemas"].as_array().unwrap().contains(&json!(EXTENSION)),
        "{read}"
    );

    // Okta: lookup by userName, create, then deactivate with a path-less replace.
    let (_, none, _) = scim.call(
        &token,
        "GET",
        &format!(
            "/Users?filter={}&startIndex=1&count=100",
            urlencode("userName eq \"dwight@globex.com\"")
        ),
        None,
        &[],
    );
    assert_eq!(none["totalResults"], 0);
    let okta_create = json!({
        "schemas": [USER], "userName": "dwight@globex.com",
        "name": {"givenName": "Dwight", "familyName": "Schrute"},
        "emails": [{"primary": true, "value": "dwight@globex.com", "type": "work"}],
        "displayName": "Dwight Schrute", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [], "password": "1mPassw0rd", "active": true,
    });
    let (status, okta, _) = scim.call(&token, "POST", "/Users", Some(okta_create), &[]);
    assert_eq!(status, 201, "{okta}");
    let okta_id = okta["id"].as_str().unwrap().to_string();
    assert!(okta.get("password").is_none());
    let okta_deactivate =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (status, body, _) = scim.call(
        &token,
        "PATCH",
        &format!("/Users/{okta_id}"),
        Some(okta_deactivate),
        &[],
    );
    assert_eq!((status, body["active"].clone()), (200, json!(false)), "{body}");
    assert!(
        !members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "dwight@globex.com")
    );

    // Member removal by filter path on a group is a write to a group declared in git.
    let removal = json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": format!("members[value eq \"{okta_id}\"]")}]});
    let (status, body, _) = scim.call(&token, "PATCH", "/Groups/finance", Some(removal), &[]);
    assert_eq!(status, 403, "{body}");
    // A path naming a user's read-only groups, or an unknown attribute, is refused.
    let (status, body, _) = scim.call(
        &token,
        "PATCH",
        &format!("/Users/{okta_id}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "groups", "value": [{"value": "finance"}]}]})),
        &[],
    );
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("mutability")),
        "{body}"
    );
    let (status, body, _) = scim.call(
        &token,
        "PATCH",
        &format!("/Users/{okta_id}"),
        Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "nosuch"}]})),
        &[],
    );
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("invalidPath")),
        "{body}"
    );
}

/// Acceptance 3: a `partner_org:globex` token reaches nothing of initech or of git; other
/// scopes do not reach SCIM; a revoked token is refused at once.
#[test]
fn a_partner_org_token_reaches_only_its_own_people() {
    let scim = Scim::start();
    let (globex, initech) = (scim.globex.clone(), scim.initech.clone());
    let (status, ian, _) = scim.call(&initech, "POST", "/Users", Some(new_user("ivy@initech.com")), &[]);
    assert_eq!(status, 201, "{ian}");
    let ivy = ian["id"].as_str().unwrap().to_string();
    let (status, pam, _) = scim.call(&globex, "POST", "/Users", Some(new_user("pam@globex.com")), &[]);
    assert_eq!(status, 201);

    // Initech's user: invisible to globex, whatever the method or filter.
    let (_, list, _) = scim.call(&globex, "GET", "/Users", None, &[]);
    let names: Vec<&str> = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userName"].as_str())
        .collect();
    assert_eq!(
        names,
        ["pam@globex.com"],
        "declared members and other orgs' people are not listed"
    );
    let (_, none, _) = scim.call(
        &globex,
        "GET",
        &format!("/Users?filter={}", urlencode("userName eq \"ivy@initech.com\"")),
        None,
        &[],
    );
    assert_eq!(none["totalResults"], 0);
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        let body = match method {
            "PUT" => Some(new_user("ivy@initech.com")),
            "PATCH" => Some(
                json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
            ),
            _ => None,
        };
        let (status, body, _) = scim.call(&globex, method, &format!("/Users/{ivy}"), body, &[]);
        assert_eq!(status, 404, "{method}: {body}");
    }
    // Not at another org's domain, nor someone declared in git.
    let (status, body, _) = scim.call(&globex, "POST", "/Users", Some(new_user("eve@initech.com")), &[]);
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("invalidValue")),
        "{body}"
    );
    let (status, _, _) = scim.call(&globex, "POST", "/Users", Some(new_user("alice@globex.com")), &[]);
    assert_eq!(status, 409);
    // Not a non-self-service attribute (they drive row-level data and are declared in git).
    let mut tenant = new_user("mallory@globex.com");
    tenant[EXTENSION] = json!({"tenant_id": "initech"});
    let (status, body, _) = scim.call(&globex, "POST", "/Users", Some(tenant), &[]);
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("mutability")),
        "{body}"
    );
    let pam_id = pam["id"].as_str().unwrap();
    let (status, body, _) = scim.call(&globex, "PATCH", &format!("/Users/{pam_id}"), Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": format!("{EXTENSION}:tenant_id"), "value": "x"}]})), &[]);
    assert_eq!(status, 400, "{body}");
    // Nor rename someone into another address.
    let (status, body, _) = scim.call(&globex, "PATCH", &format!("/Users/{pam_id}"), Some(json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "userName", "value": "ian@initech.com"}]})), &[]);
    assert_eq!(
        (status, body["scimType"].as_str()),
        (400, Some("mutability")),
        "{body}"
    );
    // Groups are read-only, and list only globex's people.
    for (method, path) in [
        ("POST", "/Groups"),
        ("PUT", "/Groups/finance"),
        ("DELETE", "/Groups/finance"),
    ] {
        let (status, body, _) = scim.call(
            &globex,
            method,
            path,
            Some(json!({"displayName": "finance"})),
            &[],
        );
        assert_eq!(status, 403, "{method} {path}: {body}");
    }
    let (_, groups, _) = scim.call(&globex, "GET", "/Groups", None, &[]);
    assert_eq!(
        groups["totalResults"], 0,
        "no globex SCIM user is in a group: {groups}"
    );
    // The admin API is closed to a SCIM token, and SCIM to other scopes.
    let admin_api = client()
        .get(scim.server().url("/v1/state"))
        .bearer_auth(&globex)
        .send()
        .unwrap();
    assert_eq!(admin_api.status().as_u16(), 403);
    let (out, _) = scim
        .setup
        .expect(&["token", "create", "--name", "ci", "--scope", "apply"], 0);
    let apply = out.trim().to_string();
    let (status, body, _) = scim.call(&apply, "GET", "/Users", None, &[]);
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = scim.call(
        scim.server().token.as_deref().unwrap(),
        "GET",
        "/Users",
        None,
        &[],
    );
    assert_eq!(status, 403, "the bootstrap admin token is not a SCIM token");
    // Revoked: refused at once.
    scim.setup.expect(&["token", "revoke", "globex-okta"], 0);
    let (status, body, _) = scim.call(&globex, "GET", "/Users", None, &[]);
    assert_eq!(status, 401, "{body}");
    // Nothing of initech changed through all this.
    assert_eq!(
        members(&scim, "initech"),
        [
            ("ian@initech.com".to_string(), "managed".to_string()),
            ("ivy@initech.com".to_string(), "partner_managed".to_string())
        ]
    );
}

/// 8 SCIM clients at once create 24 people in an 8-seat portal (alice holds one): every
/// acknowledged creation is stored, no unacknowledged one is, and the limit holds.
#[test]
fn eight_clients_at_once_never_pass_the_seat_limit() {
    let scim = Scim::start();
    let url = scim.server().url("/scim/v2/Users");
    let acknowledged: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|client_index| {
                let (url, token) = (url.clone(), scim.globex.clone());
                scope.spawn(move || {
                    let mut ok = Vec::new();
                    for n in 0..3 {
                        let email = format!("c{client_index}-{n}@globex.com");
                        let (status, body, _) = call(&url, &token, "POST", Some(new_user(&email)), &[]);
                        match status {
                            201 => ok.push(email),
                            403 => assert!(
                                body["detail"].as_str().unwrap().contains("no seat left"),
                                "{body}"
                            ),
                            other => panic!("{other}: {body}"),
                        }
                    }
                    ok
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    let stored: Vec<String> = members(&scim, "globex")
        .into_iter()
        .filter(|(_, source)| source == "partner_managed")
        .map(|(email, _)| email)
        .collect();
    let mut acknowledged = acknowledged;
    acknowledged.sort();
    assert_eq!(acknowledged, stored, "acknowledged vs stored");
    assert_eq!(stored.len(), 7, "8 seats, alice holds one");
    // Deactivating frees a seat at once; reactivating takes one (refused while full).
    let (_, list, _) = scim.call(&scim.globex, "GET", "/Users?count=1", None, &[]);
    let id = list["Resources"][0]["id"].as_str().unwrap().to_string();
    let off = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]});
    assert_eq!(
        scim.call(&scim.globex, "PATCH", &format!("/Users/{id}"), Some(off), &[])
            .0,
        200
    );
    assert_eq!(
        scim.call(
            &scim.globex,
            "POST",
            "/Users",
            Some(new_user("late@globex.com")),
            &[]
        )
        .0,
        201
    );
    let on =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": true}]});
    let (status, body, _) = scim.call(&scim.globex, "PATCH", &format!("/Users/{id}"), Some(on), &[]);
    assert_eq!(status, 403, "{body}");
    let (_, still, _) = scim.call(&scim.globex, "GET", &format!("/Users/{id}"), None, &[]);
    assert_eq!(still["active"], false);
}

/// Acceptance 4: after SCIM adds and removes people, `plan` on the unchanged config has no
/// changes (listing them as managed by globex), `drift` exits 0, `import` leaves them out;
/// removing `self_management` shows who loses access, and `apply` removes them.
#[test]
fn the_loop_stays_clean_and_withdrawing_the_delegation_removes_the_people_it_added() {
    let scim = Scim::start();
    for email in ["pam@globex.com", "jim@globex.com", "gone@globex.com"] {
        assert_eq!(
            scim.call(&scim.globex, "POST", "/Users", Some(new_user(email)), &[])
                .0,
            201
        );
    }
    let (_, found, _) = scim.call(
        &scim.globex,
        "GET",
        &format!("/Users?filter={}", urlencode("userName eq \"gone@globex.com\"")),
        None,
        &[],
    );
    let gone = found["Resources"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        scim.call(&scim.globex, "DELETE", &format!("/Users/{gone}"), None, &[])
            .0,
        204
    );

    let (out, _) = scim.setup.expect(&["plan", "config"], 0);
    assert!(out.contains("No changes."), "{out}");
    assert!(out.contains("2 members managed by their partner org: jim@globex.com in portal globex (managed by globex), pam@globex.com in portal globex (managed by globex)"), "{out}");
    let (out, _) = scim.setup.expect(&["drift", "config"], 0);
    assert!(
        out.contains("? member pam@globex.com in portal globex (managed by globex)"),
        "{out}"
    );
    let imported = scim.setup.path("imported");
    let (_, err) = scim
        .setup
        .expect(&["import", "--out", imported.to_str().unwrap()], 0);
    assert!(
        err.contains("left out 2 members managed by their partner org"),
        "{err}"
    );
    let (out, _) = scim.setup.expect(&["plan", imported.to_str().unwrap()], 0);
    assert!(out.contains("No changes."), "{out}");

    scim.setup.write_config(&CONFIG.replace(
        "    self_management: { admins: [alice@globex.com], portals: [globex], max_role: editor, default_role: viewer, scim: true }\n",
        "",
    ));
    let (out, _) = scim.setup.expect(&["plan", "config"], 2);
    assert!(
        out.contains("- pam@globex.com  view  /Partners/Finance  via portal globex"),
        "{out}"
    );
    assert!(
        out.contains(
            "- member pam@globex.com in portal globex  (partner org globex no longer manages its people here)"
        ),
        "{out}"
    );
    scim.setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert_eq!(
        members(&scim, "globex"),
        [("alice@globex.com".to_string(), "managed".to_string())]
    );
    let (status, body, _) = scim.call(&scim.globex, "GET", "/Users", None, &[]);
    assert_eq!(
        status, 403,
        "the org no longer delegates to its identity provider: {body}"
    );
    scim.setup.expect(&["plan", "config"], 0);
    scim.setup.expect(&["drift", "config"], 0);
}

/// The Python tool `name` of `.ci/.venv` (or `PATH`), or `None` after saying why (failing
/// under `PORTALCTL_REQUIRE_TOOLS=1`).
fn tool(name: &str) -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".ci/.venv/bin")
        .join(name);
    let found = if venv.is_file() {
        Some(venv)
    } else {
        Command::new(name)
            .arg("--help")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from(name))
    };
    if found.is_none() {
        assert!(
            std::env::var("PORTALCTL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "`{name}` is required (PORTALCTL_REQUIRE_TOOLS=1): .ci/run installs it into .ci/.venv"
        );
        println!("skipped: `{name}` is not installed (.ci/run installs it into .ci/.venv)");
    }
    found
}

/// Results of `scim2 test` (scim2-tester 0.5.2) other than `SUCCESS` that are right for this
/// service provider, each `(status, check, fragment of its reason, why)`. Any other result
/// that is not `SUCCESS` fails the test, and each of these must still occur (an exception
/// that no longer happens is a stale one, to be removed).
const SCIM2_TESTER_EXCEPTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "SKIPPED",
        "search_with_attributes",
        "searching several resource types at once",
        "RFC 7644 §3.4.3: a client MAY search at the root; RFC 7644 §3.12: `501` for an operation \
         the provider does not support. `POST /Users/.search` and `/Groups/.search` are supported \
         (a_user_lives_through_create_filter_etag_patch_and_delete)",
    ),
    (
        "ERROR",
        "check_remove_attribute",
        "did not remove attribute 'active'",
        "RFC 7643 §4.1.1: the meaning of `active` is the provider's; here every user has a status \
         and removing `active` gives back the default, active, which reads back as `true`",
    ),
    // The org's groups are declared in git and read-only here: RFC 7644 §3.12 lists `403`
    // "operation is not permitted based on the supplied authorization", and RFC 7644 §3.2
    // lets a provider support a subset of operations per resource type. Each Group check
    // begins by creating a group.
    (
        "ERROR",
        "object_creation",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "object_query",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "object_query_without_id",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "object_query_with_attributes",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "object_list_with_attributes",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "search_with_attributes",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "object_replacement",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "object_deletion",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "check_add_attribute",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "check_remove_attribute",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
    (
        "ERROR",
        "check_replace_attribute",
        "groups are declared in git",
        "RFC 7644 §3.2, §3.12",
    ),
];

/// How many times each check of `scim2 test` succeeds: discovery, and the whole User
/// lifecycle (create, read, list, projections, PUT, DELETE, PATCH add, remove and replace
/// of every writable attribute, the extension's as a whole and its `region`).
const SCIM2_TESTER_SUCCESSES: &[(&str, usize)] = &[
    ("service_provider_config_endpoint", 1),
    ("service_provider_config_endpoint_methods", 4),
    ("query_all_resource_types", 1),
    ("query_resource_type_by_id", 2),
    ("resource_types_schema_validation", 2),
    ("access_invalid_resource_type", 1),
    ("resource_types_endpoint_methods", 4),
    ("query_all_schemas", 1),
    ("access_schema_by_id", 3),
    ("access_invalid_schema", 1),
    ("schemas_endpoint_methods", 4),
    ("random_url", 1),
    ("object_creation", 1),
    ("object_query", 1),
    ("object_query_without_id", 1),
    ("object_query_with_attributes", 2),
    ("object_list_with_attributes", 2),
    ("object_replacement", 1),
    ("object_deletion", 1),
    ("check_add_attribute", 7),
    ("check_remove_attribute", 6),
    ("check_replace_attribute", 7),
];

/// `scim2 test` (scim2-tester through scim2-cli's entry point), with its random filler
/// giving `userName` and `emails[].value` addresses at globex.com
/// (`tests/support/scim2_email_filler.py`): scim2-tester fills `userName` with a bare UUID,
/// but here `userName` is the partner's email at one of the org's domains (RFC 7643 §4.1.1
/// leaves what a `userName` is to the provider), so without it no User check gets past its
/// first create. Every result is `SUCCESS` but the exceptions above, each of which occurs.
#[test]
fn scim2_tester_passes_every_check_but_the_listed_exceptions() {
    let Some(scim2) = tool("scim2") else { return };
    let python = scim2
        .parent()
        .map(|bin| bin.join("python"))
        .filter(|python| python.is_file())
        .unwrap_or_else(|| PathBuf::from("python3"));
    let filler = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/scim2_email_filler.py");
    let scim = Scim::start();
    let output = Command::new(python)
        .arg(filler)
        .args(["globex.com", "--url", &scim.server().url("/scim/v2"), "test"])
        .env(
            "SCIM_CLI_HEADERS",
            format!("Authorization: Bearer {}", scim.globex),
        )
        .output()
        .expect("scim2 runs");
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(
        !text.contains(&scim.globex),
        "the token leaked into the tool's output"
    );
    assert!(
        text.contains("Performing a SCIM compliance check"),
        "scim2 did not run:\n{text}"
    );
    // A result is a line `STATUS check` (any upper-case word), its reason on the next line.
    let lines: Vec<&str> = text.lines().collect();
    let mut successes: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    let mut seen = vec![false; SCIM2_TESTER_EXCEPTIONS.len()];
    let mut unexpected = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((status, check)) = line.split_once(' ') else {
            continue;
        };
        if status.is_empty() || !status.chars().all(|c| c.is_ascii_uppercase()) {
            continue;
        }
        let check = check.trim();
        if status == "SUCCESS" {
            *successes.entry(check).or_default() += 1;
            continue;
        }
        let reason = lines.get(index + 1).map_or("", |next| next.trim());
        match SCIM2_TESTER_EXCEPTIONS
            .iter()
            .position(|(s, c, fragment, _)| *s == status && *c == check && reason.contains(fragment))
        {
            Some(found) => seen[found] = true,
            None => unexpected.push(format!("{line}: {reason}")),
        }
    }
    assert!(
        unexpected.is_empty(),
        "results other than SUCCESS that are not listed:\n{}\n\nfull output:\n{text}",
        unexpected.join("\n")
    );
    let stale: Vec<String> = SCIM2_TESTER_EXCEPTIONS
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| !**seen)
        .map(|((status, check, fragment, _), _)| format!("{status} {check} ({fragment})"))
        .collect();
    assert!(
        stale.is_empty(),
        "listed exceptions that no longer occur (remove them):\n{}\n\nfull output:\n{text}",
        stale.join("\n")
    );
    let expected: std::collections::BTreeMap<&str, usize> = SCIM2_TESTER_SUCCESSES.iter().copied().collect();
    assert_eq!(successes, expected, "the checks that succeed:\n{text}");
    assert_eq!(
        output.status.code(),
        Some(1),
        "scim2 exits 1 when any result is not SUCCESS, and the exceptions are some:\n{text}"
    );
}

/// Results of `scim-sanity probe --resource User` other than `pass` that are right here,
/// each `(status, test, why)`; any other fails the test, and each must occur.
const SCIM_SANITY_EXCEPTIONS: &[(&str, &str, &str)] = &[
    (
        "skip",
        "Group CRUD Lifecycle",
        "`--resource User`: the Group lifecycle creates groups, which are declared in git and \
         read-only here (RFC 7644 §3.2: a provider supports a subset of operations per resource \
         type; RFC 7644 §3.12: `403` for an operation the authorization does not permit); the \
         reads of `/Groups` are tested in groups_list_only_the_org_s_people_with_etags_and_filters",
    ),
    (
        "skip",
        "Agent CRUD Lifecycle",
        "not a resource type here (draft-abbey-scim-agent-extension-00, not RFC 7643/7644)",
    ),
    (
        "skip",
        "AgenticApplication CRUD Lifecycle",
        "not a resource type here (draft-abbey-scim-agent-extension-00, not RFC 7643/7644)",
    ),
    (
        "skip",
        "Agent Rapid Lifecycle",
        "not a resource type here (draft-abbey-scim-agent-extension-00, not RFC 7643/7644)",
    ),
];

/// What `scim-sanity probe --resource User` must pass: discovery, the whole User lifecycle,
/// search and errors.
const SCIM_SANITY_PASSES: &[&str] = &[
    "GET /ServiceProviderConfig",
    "GET /Schemas",
    "GET /ResourceTypes",
    "POST /Users",
    "GET /Users/{id}",
    "PUT /Users/{id}",
    "GET /Users/{id} after PUT",
    "PATCH /Users/{id}",
    "GET /Users/{id} after PATCH",
    "DELETE /Users/{id}",
    "GET /Users/{id} after DELETE (expect 404)",
    "GET /Users (ListResponse)",
    "GET /Users?filter (no match)",
    "GET /Users?startIndex=1&count=1",
    "GET /Users?count=0 (boundary)",
    "GET /Users/nonexistent (expect 404)",
    "POST /Users invalid body (expect 400)",
    "POST /Users missing userName (expect 400)",
];

/// `scim-sanity probe` (its JSON report): every result passes but the listed exceptions,
/// each of which occurs, and the passes are exactly the expected ones.
#[test]
fn scim_sanity_probe_finds_no_failure() {
    let Some(probe) = tool("scim-sanity") else { return };
    let scim = Scim::start();
    let output = Command::new(probe)
        .args([
            "probe",
            &scim.server().url("/scim/v2"),
            "--token",
            &scim.globex,
            "--i-accept-side-effects",
            "--json-output",
            "--resource",
            "User",
            "--extra-user-fields",
            "{\"userName\": \"scim-sanity-probe@globex.com\"}",
        ])
        .output()
        .expect("scim-sanity runs");
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(!text.contains(&scim.globex), "the token leaked");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{text}"));
    let mut passed = Vec::new();
    let mut seen = vec![false; SCIM_SANITY_EXCEPTIONS.len()];
    let mut unexpected = Vec::new();
    for result in report["results"].as_array().expect("results") {
        let (status, name) = (
            result["status"].as_str().unwrap_or_default(),
            result["name"].as_str().unwrap_or_default(),
        );
        if status == "pass" {
            passed.push(name);
            continue;
        }
        match SCIM_SANITY_EXCEPTIONS
            .iter()
            .position(|(s, n, _)| *s == status && *n == name)
        {
            Some(found) => seen[found] = true,
            None => unexpected.push(result.to_string()),
        }
    }
    assert!(
        unexpected.is_empty(),
        "unexpected results:\n{}",
        unexpected.join("\n")
    );
    assert!(
        seen.iter().all(|seen| *seen),
        "a listed exception no longer occurs: {seen:?}\n{text}"
    );
    assert_eq!(passed, SCIM_SANITY_PASSES, "{text}");
    assert_eq!(
        (
            report["summary"]["failed"].as_u64(),
            report["summary"]["errors"].as_u64()
        ),
        (Some(0), Some(0)),
        "{text}"
    );
}

/// Two replicas on one PostgreSQL database: a user created through one is read through the
/// other (access and profile), and a revocation through one holds on the other's next
/// request.
#[test]
fn replicas_share_scim_users_and_a_revocation_holds_at_once() {
    let Some(database) = portalctl_store::testing::TestDatabase::create() else {
        eprintln!("skipped: PORTALCTL_TEST_POSTGRES is not set");
        return;
    };
    let replica = || {
        ServerGuard::start(crate::support::ServerOptions {
            db: Some(database.url().expose().to_string()),
            ..crate::support::ServerOptions::with_admin()
        })
    };
    let (a, b) = (replica(), replica());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();
    crate::support::cli_against(&a, dir.path(), &["apply", "portalctl.yaml", "--auto-approve"], 0);
    let admin = a.token.clone().unwrap();
    let created: Value = client()
        .post(a.url("/v1/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"name": "globex-okta", "scope": "partner_org:globex"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let (status, user, _) = call(
        &b.url("/scim/v2/Users"),
        &token,
        "POST",
        Some(new_user("pam@globex.com")),
        &[],
    );
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap();
    let (status, read, _) = call(&a.url(&format!("/scim/v2/Users/{id}")), &token, "GET", None, &[]);
    assert_eq!(
        (status, read["externalId"].clone(), read["active"].clone()),
        (200, json!("ext-pam@globex.com"), json!(true)),
        "{read}"
    );
    let revoked = client()
        .delete(b.url("/v1/tokens/globex-okta"))
        .bearer_auth(&admin)
        .send()
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    let (status, body, _) = call(&a.url("/scim/v2/Users"), &token, "GET", None, &[]);
    assert_eq!(status, 401, "{body}");

    // An expired token is refused on both replicas at once, with no revocation.
    let created: Value = client()
        .post(a.url("/v1/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"name": "globex-brief", "scope": "partner_org:globex", "expires_in_seconds": 2}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let brief = created["token"].as_str().expect("a token").to_string();
    for replica in [&a, &b] {
        let (status, body, _) = call(&replica.url("/scim/v2/Users"), &brief, "GET", None, &[]);
        assert_eq!(status, 200, "before it expires: {body}");
    }
    std::thread::sleep(std::time::Duration::from_millis(2500));
    for replica in [&a, &b] {
        let (status, body, _) = call(&replica.url("/scim/v2/Users"), &brief, "GET", None, &[]);
        assert_eq!(status, 401, "after it expired: {body}");
    }
}

/// Bad input is a 4xx in the SCIM error schema naming what is wrong, never a 5xx, and
/// changes nothing.
#[test]
fn bad_input_gets_scim_errors_and_changes_nothing() {
    let scim = Scim::start();
    let before = members(&scim, "globex");
    let url = scim.server().url("/scim/v2/Users");
    let raw = |content_type: &str, body: &str| {
        let response = client()
            .post(&url)
            .bearer_auth(&scim.globex)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let value: Value = response.json().unwrap();
        assert_eq!(value["schemas"], json!([ERROR]), "{value}");
        (status, value)
    };
    for (content_type, body, expected, scim_type) in [
        ("application/scim+json", "{not json", 400, Some("invalidSyntax")),
        ("application/scim+json", "[1, 2]", 400, Some("invalidSyntax")),
        (
            "application/scim+json",
            "{\"userName\": \"a@globex.com\", \"active\": \"maybe\"}",
            400,
            Some("invalidValue"),
        ),
        (
            "application/scim+json",
            "{\"userName\": 7}",
            400,
            Some("invalidValue"),
        ),
        (
            "application/scim+json",
            "{\"userName\": \"not an email\"}",
            400,
            Some("invalidValue"),
        ),
        (
            "application/scim+json",
            "{\"active\": true}",
            400,
            Some("invalidValue"),
        ),
        ("text/plain", "{\"userName\": \"a@globex.com\"}", 415, None),
    ] {
        let (status, value) = raw(content_type, body);
        assert_eq!(
            (status, value["scimType"].as_str()),
            (expected, scim_type),
            "{body}: {value}"
        );
    }
    for query in [
        "filter=userName%20eq",
        "filter=(((",
        "filter=nosuch%20eq%201",
        "startIndex=abc",
        "count=1e9",
    ] {
        let (status, value, _) = scim.call(&scim.globex, "GET", &format!("/Users?{query}"), None, &[]);
        assert_eq!(status, 400, "{query}: {value}");
    }
    let (status, _, _) = scim.call(&scim.globex, "GET", "/Users?count=-5&startIndex=-3", None, &[]);
    assert_eq!(
        status, 200,
        "RFC 7644 §3.4.2.4: a negative count is 0, a startIndex below 1 is 1"
    );
    let (status, value, _) = scim.call(
        &scim.globex,
        "PATCH",
        "/Users/nosuch",
        Some(json!({"Operations": []})),
        &[],
    );
    assert_eq!(status, 400, "{value}");
    assert_eq!(members(&scim, "globex"), before);
}

/// Regression (found by scim2-tester in CI): a write to `/Groups` was refused without its
/// body being read, so the connection was closed after the answer, and the tester's next
/// request on it (kept alive) met a server that hung up. The connection stays usable.
#[test]
fn a_refused_group_write_leaves_its_connection_usable() {
    use std::io::{BufRead, BufReader, Read, Write};
    let scim = Scim::start();
    let url = reqwest::Url::parse(&scim.server().url("/")).expect("a URL");
    let address = format!(
        "{}:{}",
        url.host_str().expect("a host"),
        url.port().expect("a port")
    );
    let stream = std::net::TcpStream::connect(&address).expect("connects");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("a timeout");
    let mut writer = stream.try_clone().expect("a second handle");
    let mut reader = BufReader::new(stream);
    // Reads one answer; its status and whether the server says it closes.
    let mut answer = || -> (u16, bool) {
        let mut status = String::new();
        reader.read_line(&mut status).expect("a status line");
        let code = status.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let (mut length, mut closes) = (0usize, false);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a header");
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("content-length:") {
                length = value.trim().parse().unwrap_or(0);
            }
            closes |= line == "connection: close";
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("the body");
        (code, closes)
    };
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"}).to_string();
    // The head first and the body a moment later, as a client writing them separately
    // does: the answer must not come before the body is read.
    write!(
        writer,
        "POST /scim/v2/Groups HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n",
        scim.globex,
        body.len()
    )
    .expect("sent");
    writer.flush().expect("flushed");
    std::thread::sleep(std::time::Duration::from_millis(200));
    writer.write_all(body.as_bytes()).expect("sent");
    let (status, closes) = answer();
    assert_eq!(status, 403);
    assert!(!closes, "the refusal closes the connection");
    write!(
        writer,
        "GET /scim/v2/Groups HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\r\n",
        scim.globex
    )
    .expect("sent");
    assert_eq!(answer().0, 200, "the next request on the connection is answered");
}

/// A SCIM user holds the org's attribute values (as a declared member does); when git
/// changes the org's value, `plan` moves theirs along (else the org's change would be
/// refused: `member-attribute-contradicts-org`), `apply` does it, and the loop is clean.
#[test]
fn a_scim_user_follows_the_org_s_attribute_values_when_git_changes_them() {
    let scim = Scim::start();
    let (status, body, _) = scim.call(
        &scim.globex,
        "POST",
        "/Users",
        Some(new_user("pam@globex.com")),
        &[],
    );
    assert_eq!(status, 201, "{body}");
    let tenant = |scim: &Scim| {
        let (state, _) = scim.server().state();
        state["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|member| member["email"] == "pam@globex.com")
            .map(|member| member["attributes"]["tenant_id"].clone())
    };
    assert_eq!(tenant(&scim), Some(json!("g-1")));
    scim.setup
        .write_config(&CONFIG.replace("attributes: { tenant_id: g-1 }", "attributes: { tenant_id: g-2 }"));
    let (out, _) = scim.setup.expect(&["plan", "config"], 2);
    assert!(
        out.contains(
            "~ member pam@globex.com in portal globex\n      ~ attributes.tenant_id: \"g-1\" → \"g-2\""
        ),
        "{out}"
    );
    scim.setup.expect(&["apply", "config", "--auto-approve"], 0);
    assert_eq!(tenant(&scim), Some(json!("g-2")));
    scim.setup.expect(&["plan", "config"], 0);
    scim.setup.expect(&["drift", "config"], 0);
}

/// Retention of SCIM profiles: a person removed another way than SCIM (by a partner admin,
/// or by the vendor through the admin API, or by git) is gone from `/scim/v2` with their
/// profile (name, emails, externalId), not kept as an inactive user; created again, they
/// start afresh. A user deactivated through SCIM keeps theirs.
#[test]
fn a_profile_goes_with_its_person_unless_deactivated_through_scim() {
    let scim = Scim::start();
    let mut body = new_user("pam@globex.com");
    body["name"] = json!({"givenName": "Pamela"});
    let (status, pam, _) = scim.call(&scim.globex, "POST", "/Users", Some(body), &[]);
    assert_eq!(status, 201, "{pam}");
    let (status, kim, _) = scim.call(
        &scim.globex,
        "POST",
        "/Users",
        Some(new_user("kim@globex.com")),
        &[],
    );
    assert_eq!(status, 201, "{kim}");
    let deactivate =
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let kim_path = format!("/Users/{}", kim["id"].as_str().unwrap());
    assert_eq!(
        scim.call(&scim.globex, "PATCH", &kim_path, Some(deactivate), &[])
            .0,
        200
    );

    let removed = scim
        .server()
        .request(
            reqwest::Method::DELETE,
            "/v1/portals/globex/members/pam%40globex.com",
        )
        .send()
        .expect("answered");
    assert_eq!(removed.status().as_u16(), 200);
    let pam_path = format!("/Users/{}", pam["id"].as_str().unwrap());
    let (status, body, _) = scim.call(&scim.globex, "GET", &pam_path, None, &[]);
    assert_eq!(status, 404, "the removed person lingers as a user: {body}");
    let (_, list, _) = scim.call(&scim.globex, "GET", "/Users", None, &[]);
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["userName"], "kim@globex.com");
    assert_eq!(list["Resources"][0]["active"], false);
    assert!(
        scim.server().stderr().contains("SCIM profile purged"),
        "{}",
        scim.server().stderr()
    );
    let (status, again, _) = scim.call(
        &scim.globex,
        "POST",
        "/Users",
        Some(new_user("pam@globex.com")),
        &[],
    );
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        again["name"]["givenName"], "G",
        "the old profile came back: {again}"
    );
}
