//! The People page of partner admins (`/p/{portal}/people`) through a real `serve`: an
//! admin of globex invites, changes roles and removes the people globex added, within
//! `max_role` and the seat limit, with the actor `partner:EMAIL` in the audit log; and
//! every page and form is refused for anything of another org or declared in git (BOLA),
//! for a member who is not an admin, and without the CSRF token.

use std::collections::HashMap;

use serde_json::Value;

use crate::scim::{CONFIG, Scim, members};
use crate::support::ServerGuard;

/// A client that keeps cookies and does not follow redirects.
struct Browser {
    client: reqwest::blocking::Client,
    jar: std::sync::Mutex<HashMap<String, String>>,
}

impl Browser {
    fn new() -> Self {
        Self {
            client: portalctl_client::http_client_builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder) -> (u16, String) {
        let cookie: Vec<String> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        let request = if cookie.is_empty() {
            request
        } else {
            request.header("cookie", cookie.join("; "))
        };
        let response = request.send().unwrap();
        for set in response.headers().get_all("set-cookie") {
            let text = set.to_str().unwrap();
            let (name, value) = text.split(';').next().unwrap().split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.jar.lock().unwrap().remove(name);
            } else {
                self.jar
                    .lock()
                    .unwrap()
                    .insert(name.to_string(), value.to_string());
            }
        }
        (response.status().as_u16(), response.text().unwrap())
    }

    fn get(&self, server: &ServerGuard, path: &str) -> (u16, String) {
        self.send(self.client.get(server.url(path)))
    }

    fn post(&self, server: &ServerGuard, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
        self.send(
            self.client
                .post(server.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(pairs)),
        )
    }

    /// Signs in to `portal` as `email` through the mailed link.
    fn sign_in(server: &ServerGuard, portal: &str, email: &str) -> (Self, String) {
        let browser = Self::new();
        let (_, page) = browser.get(server, &format!("/p/{portal}/sign-in"));
        let csrf = csrf_of(&page);
        let before = crate::support::newest_mail_id(server, email);
        let (status, _) = browser.post(
            server,
            &format!("/p/{portal}/sign-in"),
            &[("csrf", &csrf), ("email", email)],
        );
        assert_eq!(status, 200);
        let token = crate::support::mailed_link_token(server, email, before);
        let (status, _) = browser.post(
            server,
            &format!("/p/{portal}/link"),
            &[("csrf", &csrf), ("token", &token)],
        );
        assert_eq!(status, 303, "signed in");
        (browser, csrf)
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..start + 43].to_string()
}

/// Globex's delegation with bob declared in git (not an admin) and carol of initech in the
/// globex portal too.
fn config() -> String {
    CONFIG.replace(
        "      - { email: alice@globex.com, role: editor, org: globex }\n",
        "      - { email: alice@globex.com, role: editor, org: globex }\n      - { email: bob@globex.com, role: viewer, org: globex }\n      - { email: carol@initech.com, role: viewer, org: initech }\n",
    )
}

fn started() -> Scim {
    let scim = Scim::start();
    scim.setup.write_config(&config());
    scim.setup.expect(&["apply", "config", "--auto-approve"], 0);
    scim
}

#[test]
fn a_partner_admin_invites_changes_roles_and_removes_their_orgs_people() {
    let scim = started();
    let server = scim.server();
    let (alice, csrf) = Browser::sign_in(server, "globex", "alice@globex.com");
    let (status, home) = alice.get(server, "/p/globex/");
    assert_eq!(status, 200);
    assert!(
        home.contains("/p/globex/people"),
        "the home links to People:\n{home}"
    );
    let (status, page) = alice.get(server, "/p/globex/people");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Nobody yet."), "{page}");
    // The org's members declared in git are listed read-only: role, where from, no form.
    for (email, role) in [("alice@globex.com", "editor"), ("bob@globex.com", "viewer")] {
        let row = format!(
            "<tr data-other=\"{email}\">\n<td>{email}</td>\n<td>{role}</td>\n<td>declared in git</td>\n</tr>"
        );
        assert!(page.contains(&row), "{email}: {page}");
        assert!(
            !page.contains(&format!("name=\"email\" value=\"{email}\"")),
            "a form for {email}: {page}"
        );
    }
    assert!(
        !page.contains("carol@initech.com"),
        "another org's member in the same portal is not shown"
    );

    // Invite: the org's domain, a role up to max_role, a self-service attribute; a
    // non-self-service one typed in the form is ignored (the org's value is inherited).
    let (status, page) = alice.post(
        server,
        "/p/globex/people/invite",
        &[
            ("csrf", &csrf),
            ("email", "Pam@globex.com"),
            ("role", "editor"),
            ("region", "emea"),
            ("tenant_id", "initech"),
        ],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Invited pam@globex.com as editor."), "{page}");
    let (state, _) = server.state();
    let pam = state["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "pam@globex.com")
        .unwrap()
        .clone();
    assert_eq!(
        (pam["source"].as_str(), pam["role"].as_str(), pam["org"].as_str()),
        (Some("partner_managed"), Some("editor"), Some("globex"))
    );
    assert_eq!(pam["attributes"]["region"], "emea");
    // The typed `tenant_id` is not self-service: ignored, and the org's value inherited.
    assert_eq!(pam["attributes"]["tenant_id"], "g-1", "{pam}");
    // An invitation was mailed.
    link_token_or_invitation(server, "pam@globex.com");

    let (status, page) = alice.post(
        server,
        "/p/globex/people/role",
        &[("csrf", &csrf), ("email", "pam@globex.com"), ("role", "viewer")],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("pam@globex.com is now viewer."), "{page}");

    let (history, _) = scim.setup.expect(&["history", "--limit", "5"], 0);
    assert!(history.contains("by `partner:alice@globex.com`"), "{history}");
    // The loop: plan on the unchanged config lists pam as managed by globex.
    let (out, _) = scim.setup.expect(&["plan", "config"], 0);
    assert!(
        out.contains("pam@globex.com in portal globex (managed by globex)"),
        "{out}"
    );

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
        err.contains("left out 1 member managed by their partner org"),
        "{err}"
    );
    let (out, _) = scim.setup.expect(&["plan", imported.to_str().unwrap()], 0);
    assert!(out.contains("No changes."), "{out}");

    let (status, page) = alice.post(
        server,
        "/p/globex/people/remove",
        &[("csrf", &csrf), ("email", "pam@globex.com")],
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        !members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "pam@globex.com")
    );
    // The removal is the newest entry of the audit log, with alice as its actor.
    let (history, _) = scim.setup.expect(&["history", "--limit", "1"], 0);
    assert!(
        history.contains("by `partner:alice@globex.com`") && history.contains("pam@globex.com"),
        "{history}"
    );
    let (out, _) = scim.setup.expect(&["plan", "config"], 0);
    assert!(out.contains("No changes."), "{out}");
    scim.setup.expect(&["drift", "config"], 0);
}

/// The invitation in the outbox for `email`.
fn link_token_or_invitation(server: &ServerGuard, email: &str) {
    let body: Value = server
        .get(&format!("/v1/outbox?recipient={email}&limit=5"))
        .json()
        .unwrap();
    assert!(
        !body["messages"].as_array().unwrap().is_empty(),
        "no invitation for {email}: {body}"
    );
}

#[test]
fn nothing_outside_the_org_or_declared_in_git_is_reachable_from_the_people_page() {
    let scim = started();
    let server = scim.server();
    let (alice, csrf) = Browser::sign_in(server, "globex", "alice@globex.com");
    let before = members(&scim, "globex");
    let refused = |path: &str, pairs: &[(&str, &str)], why: &str| {
        let (status, page) = alice.post(server, path, pairs);
        assert_eq!(status, 422, "{why}: {page}");
        assert!(page.contains("role=\"alert\""), "{why}: {page}");
    };
    // Other orgs and git: neither changed nor removed.
    for email in [
        "carol@initech.com",
        "bob@globex.com",
        "alice@globex.com",
        "ian@initech.com",
    ] {
        refused(
            "/p/globex/people/role",
            &[("csrf", &csrf), ("email", email), ("role", "viewer")],
            email,
        );
        refused(
            "/p/globex/people/remove",
            &[("csrf", &csrf), ("email", email)],
            email,
        );
    }
    refused(
        "/p/globex/people/invite",
        &[("csrf", &csrf), ("email", "eve@initech.com"), ("role", "viewer")],
        "another org's domain",
    );
    refused(
        "/p/globex/people/invite",
        &[("csrf", &csrf), ("email", "bob@globex.com"), ("role", "viewer")],
        "already declared",
    );
    refused(
        "/p/globex/people/invite",
        &[("csrf", &csrf), ("email", "max@globex.com"), ("role", "admin")],
        "no such role",
    );
    assert_eq!(members(&scim, "globex"), before, "nothing changed");

    // Above max_role: a stricter delegation.
    scim.setup.write_config(&config().replace(
        "max_role: editor, default_role: viewer",
        "max_role: viewer, default_role: viewer",
    ));
    scim.setup.expect(&["apply", "config", "--auto-approve"], 0);
    refused(
        "/p/globex/people/invite",
        &[("csrf", &csrf), ("email", "max@globex.com"), ("role", "editor")],
        "above max_role",
    );
    let (status, page) = alice.post(
        server,
        "/p/globex/people/invite",
        &[("csrf", &csrf), ("email", "max@globex.com"), ("role", "viewer")],
    );
    assert_eq!(status, 200, "{page}");
    refused(
        "/p/globex/people/role",
        &[("csrf", &csrf), ("email", "max@globex.com"), ("role", "editor")],
        "role above max_role",
    );

    // Without the CSRF token: refused before anything is read.
    let (status, _) = alice.post(server, "/p/globex/people/remove", &[("email", "max@globex.com")]);
    assert_eq!(status, 403);
    // A member who is not an admin, and a portal the org does not delegate: no such page.
    // Every form, for each of them: bob (globex, not an admin) gets no such page; ian
    // (initech, no session in globex) is sent to sign in.
    let (bob, bob_csrf) = Browser::sign_in(server, "globex", "bob@globex.com");
    assert_eq!(bob.get(server, "/p/globex/people").0, 404);
    let (ian, ian_csrf) = Browser::sign_in(server, "initech", "ian@initech.com");
    assert_eq!(ian.get(server, "/p/initech/people").0, 404);
    for (who, browser, csrf, expected) in [("bob", &bob, &bob_csrf, 404), ("ian", &ian, &ian_csrf, 303)] {
        for (form, pairs) in [
            (
                "invite",
                vec![
                    ("csrf", csrf.as_str()),
                    ("email", "zed@globex.com"),
                    ("role", "viewer"),
                ],
            ),
            (
                "role",
                vec![
                    ("csrf", csrf.as_str()),
                    ("email", "max@globex.com"),
                    ("role", "viewer"),
                ],
            ),
            (
                "remove",
                vec![("csrf", csrf.as_str()), ("email", "max@globex.com")],
            ),
        ] {
            let (status, page) = browser.post(server, &format!("/p/globex/people/{form}"), &pairs);
            assert_eq!(status, expected, "{who} {form}: {page}");
        }
    }
    assert!(
        !members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "zed@globex.com")
    );
    // Alice's session is for globex only.
    assert_eq!(alice.get(server, "/p/initech/people").0, 303);
    assert!(
        members(&scim, "globex")
            .iter()
            .any(|(email, _)| email == "max@globex.com")
    );
}

#[test]
fn the_seat_limit_holds_for_invitations_sent_at_once() {
    let scim = started();
    let server = scim.server();
    let (alice, csrf) = Browser::sign_in(server, "globex", "alice@globex.com");
    // 8 seats: alice, bob and carol hold three; 6 tabs at once invite 12 people.
    let acknowledged: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|tab| {
                let (alice, csrf) = (&alice, &csrf);
                scope.spawn(move || {
                    let mut ok = Vec::new();
                    for n in 0..2 {
                        let email = format!("t{tab}-{n}@globex.com");
                        let (status, page) = alice.post(
                            server,
                            "/p/globex/people/invite",
                            &[("csrf", csrf), ("email", &email), ("role", "viewer")],
                        );
                        match status {
                            200 => ok.push(email),
                            422 => assert!(page.contains("No seat is left"), "{page}"),
                            other => panic!("{other}: {page}"),
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
    let mut acknowledged = acknowledged;
    acknowledged.sort();
    let stored: Vec<String> = members(&scim, "globex")
        .into_iter()
        .filter(|(_, source)| source == "partner_managed")
        .map(|(email, _)| email)
        .collect();
    assert_eq!(acknowledged, stored, "acknowledged vs stored");
    assert_eq!(stored.len(), 5);
    assert_eq!(members(&scim, "globex").len(), 8);
}

/// The org's own seat limit (`partner_orgs.globex.max_members`) holds for the People
/// page and for SCIM alike: alice and bob hold two of globex's three seats.
#[test]
fn the_org_seat_limit_holds_for_the_people_page_and_scim() {
    let scim = Scim::start();
    scim.setup.write_config(&config().replace(
        "    domains: [globex.com]\n",
        "    domains: [globex.com]\n    max_members: 3\n",
    ));
    scim.setup.expect(&["apply", "config", "--auto-approve"], 0);
    let server = scim.server();
    let (alice, csrf) = Browser::sign_in(server, "globex", "alice@globex.com");
    let (status, page) = alice.post(
        server,
        "/p/globex/people/invite",
        &[("csrf", &csrf), ("email", "pam@globex.com"), ("role", "viewer")],
    );
    assert_eq!(status, 200, "{page}");
    let (status, page) = alice.post(
        server,
        "/p/globex/people/invite",
        &[("csrf", &csrf), ("email", "quinn@globex.com"), ("role", "viewer")],
    );
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("No seat is left"), "{page}");
    let (status, body, _) = scim.call(
        &scim.globex,
        "POST",
        "/Users",
        Some(serde_json::json!({"userName": "rita@globex.com"})),
        &[],
    );
    assert_eq!(status, 403, "{body}");
    let globex: Vec<String> = members(&scim, "globex")
        .into_iter()
        .map(|(email, _)| email)
        .filter(|email| email.ends_with("@globex.com"))
        .collect();
    assert_eq!(globex, ["alice@globex.com", "bob@globex.com", "pam@globex.com"]);
    // Freed by a removal, the seat is taken through SCIM.
    let (status, _) = alice.post(
        server,
        "/p/globex/people/remove",
        &[("csrf", &csrf), ("email", "pam@globex.com")],
    );
    assert_eq!(status, 200);
    let (status, body, _) = scim.call(
        &scim.globex,
        "POST",
        "/Users",
        Some(serde_json::json!({"userName": "rita@globex.com"})),
        &[],
    );
    assert_eq!(status, 201, "{body}");
}

fn which(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// The People page in Chromium: reached from the home, keyboard-operable, no serious
/// axe-core violation (empty, with a person, with an error), a screenshot in
/// `target/partner-pages/people.png`.
#[test]
fn the_people_page_works_with_the_keyboard_and_passes_axe_in_a_browser() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = root.join(".ci/node_modules");
    let (node, chromium) = (
        which("node"),
        which("chromium").or_else(|| which("chromium-browser")),
    );
    let ready = modules.join("playwright-core").is_dir() && modules.join("axe-core").is_dir();
    let (Some(node), Some(chromium), true) = (node, chromium, ready) else {
        assert!(
            std::env::var("PORTALCTL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "the browser test needs node, chromium, playwright-core and axe-core (PORTALCTL_REQUIRE_TOOLS=1)"
        );
        println!(
            "skipped: the browser test needs node, chromium, playwright-core and axe-core (.ci/run installs them)"
        );
        return;
    };
    let scim = started();
    let server = scim.server();
    let output = std::process::Command::new(node)
        .arg(root.join("tests/browser/people.mjs"))
        .env("NODE_MODULES", &modules)
        .env("CHROMIUM", chromium)
        .env("OUT_DIR", root.join("target/partner-pages"))
        .env("BASE", &server.base)
        .env("TOKEN", server.token.as_deref().unwrap_or_default())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    assert!(
        lines.iter().any(|line| line["done"] == true),
        "the script did not finish\n{stdout}\n{stderr}"
    );
    let failed: Vec<&Value> = lines.iter().filter(|line| line["ok"] == false).collect();
    assert!(failed.is_empty(), "failed checks: {failed:#?}");
    let checks = lines.iter().filter(|line| line["ok"] == true).count();
    assert!(checks >= 9, "{stdout}");
}
