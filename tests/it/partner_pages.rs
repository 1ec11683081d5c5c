//! The partner pages (`/p/{portal}/`) through the real binary.
//!
//! - In a real browser: `tests/browser/partner_pages.mjs` drives Chromium (Debian's
//!   `chromium`) with playwright-core, checks accessibility with axe-core and computes TOTP
//!   codes with `oathtool`, against a `serve` on a loopback port with `examples/acme`
//!   applied (an expired link and a session past `session_ttl` are made by ageing their
//!   rows with `sqlite3`); screenshots land in `target/partner-pages/`. Without those tools the browser
//!   tests print "skipped" unless `PORTALCTL_REQUIRE_TOOLS=1` (set by `.ci/run`, which
//!   installs them). Two flows mail for real (`FLOW=smtp`, and `FLOW=replicas` on two
//!   PostgreSQL replicas): `serve --smtp` to aiosmtpd (`mail_harness.rs`), whose stored
//!   messages the script reads; the others read the outbox.
//! - Over plain HTTP, what a browser would hide (headers, cookies, the session row), live
//!   refusals, rate limits, https cookies and the portal host, and again the expired link
//!   and the session past `session_ttl`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use portalctl_store::testing::TestDatabase;
use serde_json::Value;

use crate::browser::{ROOT, copy_dir, copy_example, run_browser, tools};
use crate::mail_harness::SmtpSink;
use crate::support::{ServerGuard, ServerOptions, cli_against};

/// `examples/acme` copied to `dir`, and a copy without `dana@globex.com`.
fn configs(dir: &Path) -> (PathBuf, PathBuf) {
    let full = dir.join("full");
    let removed = dir.join("removed");
    copy_example(&full);
    copy_dir(&full, &removed);
    let roster = removed.join("rosters/globex.csv");
    let text = std::fs::read_to_string(&roster).unwrap();
    let kept: Vec<&str> = text.lines().filter(|line| !line.starts_with("dana@")).collect();
    assert_eq!(kept.len() + 1, text.lines().count(), "dana is in the roster");
    std::fs::write(&roster, kept.join("\n") + "\n").unwrap();
    (full, removed)
}

#[test]
fn partners_sign_in_use_2fa_sign_up_and_lose_access_in_a_browser() {
    let Some(tools) = tools() else {
        return;
    };
    let server = ServerGuard::start(ServerOptions::with_admin());
    let (full, removed) = configs(server.dir.path());
    cli_against(
        &server,
        server.dir.path(),
        &["apply", full.to_str().unwrap(), "--auto-approve"],
        0,
    );
    let checks = run_browser(
        &tools,
        "partner_pages.mjs",
        "partner-pages",
        "all",
        &[
            ("BASE", server.base.clone()),
            ("TOKEN", server.token.clone().unwrap()),
            ("CONFIG_REMOVED", removed.display().to_string()),
            ("DB", server.dir.path().join("portalctl.db").display().to_string()),
        ],
    );
    // Every flow ran (a check that never ran is a failure too).
    checks.assert_ran(&[
        "sign-in background of globex is the portal's colour",
        "sign-in background of contoso is the portal's colour",
        "sign-in background of fabrikam is the portal's colour",
        "a POST without the CSRF token is refused",
        "a non-member's sign-in answers the same page",
        "a non-member gets no mail",
        "a link for another portal is refused",
        "home lists exactly what GET /v1/access lists: globex",
        "home lists exactly what GET /v1/access lists: contoso",
        "home lists exactly what GET /v1/access lists: fabrikam",
        "a reused link is refused",
        "after apply removes the member, the next page load is refused",
        "an oathtool code signs in",
        "a recovery code works once",
        "sign-out goes to the portal's logout_url",
        "no seat exists before the address is verified",
        "following the verification link registers the partner",
        "a sign-up needing approval is pending",
        "once approved, the partner signs in",
        "a form posted without its CSRF cookie is refused",
        "a sign-up at a domain the portal does not take is refused on the form",
        // axe on every kind of page a partner can meet.
        "axe: globex sign-in",
        "axe: contoso sign-in",
        "axe: fabrikam sign-in",
        "axe: no such portal (404)",
        "axe: form expired (403)",
        "axe: check your email",
        "axe: link for another portal (400)",
        "axe: sign-in link's confirm page",
        "axe: 2fa enrolment",
        "axe: recovery codes",
        "axe: globex home",
        "axe: contoso home",
        "axe: fabrikam home",
        "axe: used link (410)",
        "axe: expired link (410)",
        "a session past session_ttl asks to sign in again",
        "an expired link is refused",
        "axe: no longer has access (403)",
        "axe: 2fa code",
        "axe: wrong code (401)",
        "axe: globex sign-up",
        "axe: sign-up refused",
        "axe: confirm your address (202)",
        "axe: awaiting approval (202)",
        // Under the pages' real Content-Security-Policy (no bypassCSP).
        "partner pages: the pages ran under their real CSP (a forbidden stylesheet is reported)",
        "partner pages: no page broke its Content-Security-Policy",
    ]);
    let shots = Path::new(ROOT).join("target/partner-pages");
    for portal in ["globex", "contoso", "fabrikam"] {
        for page in ["sign-in", "home"] {
            assert!(
                shots.join(format!("{portal}-{page}.png")).is_file(),
                "{portal}-{page}.png"
            );
        }
    }
    // Nothing of it reached the state or the audit log, and no token reached the log.
    let (state, _) = server.state();
    let text = state.to_string();
    assert!(!text.contains("token=") && !text.contains("otpauth"), "{text}");
    let log = server.stderr();
    let outbox: Value = server.get("/v1/outbox?limit=1000").json().unwrap();
    let messages = outbox["messages"].as_array().unwrap();
    assert!(messages.len() >= 10, "{outbox}");
    let mut links = 0;
    for message in messages {
        let text = message["text"].as_str().unwrap();
        // Invitations link to the sign-in page and carry no token; sign-in and
        // verification links do.
        let Some(at) = text.find("token=") else {
            continue;
        };
        links += 1;
        let token = &text[at + 6..][..43];
        assert!(!log.contains(token), "a link token reached the log");
        assert!(
            !state.to_string().contains(token),
            "a link token reached the state"
        );
    }
    assert!(links >= 5, "only {links} messages with a link token: {outbox}");
    assert!(!log.contains("otpauth") && !log.contains("secret="), "{log}");
}

/// `serve` options that send mail through `sink`.
fn with_smtp(sink: &SmtpSink, mut options: ServerOptions) -> ServerOptions {
    options.extra_args.extend([
        "--smtp".to_string(),
        sink.url.clone(),
        "--mail-retry-base-ms".into(),
        "100".into(),
    ]);
    options
}

/// Acceptance 1 of issue 22 with real mail: the CLI applies the config against `serve`, the
/// invitation arrives in aiosmtpd, the browser follows it, asks for a sign-in link, follows
/// the link from aiosmtpd, sees its home equal `GET /v1/access/{email}?portal=`, and the
/// next page load after `apply` removes the member is refused.
#[test]
fn an_invitation_through_smtp_leads_a_partner_home_until_apply_removes_them() {
    let Some(tools) = tools() else {
        return;
    };
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let server = ServerGuard::start(with_smtp(&sink, ServerOptions::with_admin()));
    let (full, removed) = configs(server.dir.path());
    let checks = run_browser(
        &tools,
        "partner_pages.mjs",
        "partner-pages",
        "smtp",
        &[
            ("BASE", server.base.clone()),
            ("TOKEN", server.token.clone().unwrap()),
            ("CONFIG_FULL", full.display().to_string()),
            ("CONFIG_REMOVED", removed.display().to_string()),
            ("MAIL_DIR", sink.dir().display().to_string()),
        ],
    );
    checks.assert_ran(&[
        "smtp: apply's invitation arrives through SMTP",
        "smtp: the invitation's link opens the sign-in page",
        "smtp: the sign-in link arrives through SMTP",
        "home lists exactly what GET /v1/access lists: smtp",
        "smtp: after apply removes the member, the next page load is refused",
    ]);
}

/// The same across two PostgreSQL replicas (both sending through one aiosmtpd): signed in
/// on the first, removed by `apply` through the second (and, in a second flow, by the API
/// through the second); then a session from one used on the other, a link asked for on one,
/// followed on the other and reused on the first, a sign-up on one verified on the other,
/// and a CSRF-less post and a non-member's sign-in against the second.
#[test]
fn a_sign_in_on_one_replica_is_refused_after_a_removal_through_the_other() {
    let Some(tools) = tools() else {
        return;
    };
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let start = || {
        ServerGuard::start(with_smtp(
            &sink,
            ServerOptions {
                db: Some(database.url().expose().to_string()),
                ..ServerOptions::with_admin()
            },
        ))
    };
    let first = start();
    let second = start();
    let (full, removed) = configs(first.dir.path());
    let checks = run_browser(
        &tools,
        "partner_pages.mjs",
        "partner-pages",
        "replicas",
        &[
            ("BASE", first.base.clone()),
            ("BASE_B", second.base.clone()),
            ("TOKEN", first.token.clone().unwrap()),
            ("CONFIG_FULL", full.display().to_string()),
            ("CONFIG_REMOVED", removed.display().to_string()),
            ("MAIL_DIR", sink.dir().display().to_string()),
        ],
    );
    checks.assert_ran(&[
        "smtp, replicas: apply's invitation arrives through SMTP",
        "home lists exactly what GET /v1/access lists: smtp, replicas",
        "smtp, replicas: after apply removes the member, the next page load is refused",
        "replicas: the next page load on replica A is refused",
        "replicas: the session started on A opens the home on B",
        "replicas: the ended session opens nothing on B",
        "replicas: the link followed on B signs in there",
        "replicas: the link reused on A is refused",
        "replicas: a sign-up on B waits for its verification",
        "replicas: the verification followed on A registers the partner",
        "replicas: B sees the registration made on A",
        "replicas: a POST without the CSRF token to B is refused",
        "replicas: a non-member's sign-in on B answers the same page",
        "replicas: the non-member is mailed nothing",
        "replicas: the CSRF-less POST mailed nothing",
        "replicas: no page broke its Content-Security-Policy",
    ]);
}

/// An HTTP client that keeps cookies (as a browser would) and does not follow redirects.
struct Browser {
    client: reqwest::blocking::Client,
    jar: std::sync::Mutex<HashMap<String, String>>,
}

impl Browser {
    fn send(&self, request: reqwest::blocking::RequestBuilder) -> reqwest::blocking::Response {
        let cookie: Vec<String> = self
            .jar
            .lock()
            .unwrap()
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
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
        response
    }

    fn get(&self, url: impl reqwest::IntoUrl) -> reqwest::blocking::RequestBuilder {
        self.client.get(url)
    }

    fn post(&self, url: impl reqwest::IntoUrl) -> reqwest::blocking::RequestBuilder {
        self.client.post(url)
    }
}

fn browser_like() -> Browser {
    Browser {
        client: portalctl_client::http_client_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        jar: std::sync::Mutex::new(HashMap::new()),
    }
}

/// `pairs` as an `application/x-www-form-urlencoded` body.
fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| -> String {
        text.bytes()
            .map(|byte| {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
                    char::from(byte).to_string()
                } else {
                    format!("%{byte:02X}")
                }
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..start + 43].to_string()
}

/// The newest link mailed to `email` (the first one a test asks for).
fn link_token(server: &ServerGuard, email: &str) -> String {
    crate::support::mailed_link_token(server, email, 0)
}

/// Asks for a link for `email` on portal `contoso` (no 2FA); returns its token.
fn ask_link(server: &ServerGuard, client: &Browser, email: &str) -> (String, String) {
    ask_link_on(server, client, "contoso", email)
}

/// Asks for a link for `email` on `portal`; returns the CSRF token and the link's token.
fn ask_link_on(server: &ServerGuard, client: &Browser, portal: &str, email: &str) -> (String, String) {
    let page = client
        .send(client.get(server.url(&format!("/p/{portal}/sign-in"))))
        .text()
        .unwrap();
    let csrf = csrf_of(&page);
    let before = crate::support::newest_mail_id(server, email);
    let response = client.send(
        client
            .post(server.url(&format!("/p/{portal}/sign-in")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("email", email)])),
    );
    assert_eq!(response.status(), 200);
    (csrf, crate::support::mailed_link_token(server, email, before))
}

fn seeded() -> ServerGuard {
    seeded_with(ServerOptions::with_admin())
}

/// A server started with `options`, `examples/acme` applied.
fn seeded_with(options: ServerOptions) -> ServerGuard {
    let server = ServerGuard::start(options);
    let (full, _) = configs(server.dir.path());
    cli_against(
        &server,
        server.dir.path(),
        &["apply", full.to_str().unwrap(), "--auto-approve"],
        0,
    );
    server
}

fn sqlite(server: &ServerGuard) -> rusqlite::Connection {
    rusqlite::Connection::open(server.dir.path().join("portalctl.db")).unwrap()
}

#[test]
fn an_expired_link_is_refused_and_a_session_ends_after_session_ttl() {
    let server = seeded();
    let client = browser_like();
    // The link: aged past its 15 minutes in the database, then followed.
    let (csrf, token) = ask_link(&server, &client, "ana@contoso.com");
    sqlite(&server)
        .execute(
            "UPDATE link_tokens SET expires_at = expires_at - 16 * 60 * 1000",
            [],
        )
        .unwrap();
    let expired = client.send(
        client
            .post(server.url("/p/contoso/link"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
    );
    assert_eq!(expired.status(), 410);
    assert!(expired.text().unwrap().contains("This link has expired"));
    // A fresh link signs in; the cookie is HttpOnly, SameSite=Lax, not Secure on http.
    let (csrf, token) = ask_link(&server, &client, "ana@contoso.com");
    let signed_in = client.send(
        client
            .post(server.url("/p/contoso/link"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
    );
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/p/contoso/");
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("portalctl-session-contoso="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"));
    // contoso's session_ttl is 18h.
    assert!(cookie.contains(&format!("Max-Age={}", 18 * 3600)), "{cookie}");
    // The session row holds the token's hash only.
    let conn = sqlite(&server);
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let (hash, lasts): (String, i64) = conn
        .query_row("SELECT hash, expires_at - created_at FROM sessions", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_ne!(hash, value);
    assert_eq!(hash.len(), 64);
    assert_eq!(lasts, 18 * 3600 * 1000);
    let home = client.send(client.get(server.url("/p/contoso/")));
    assert_eq!(home.status(), 200);
    // Past session_ttl (the row aged), the home sends to sign-in.
    conn.execute(
        "UPDATE sessions SET expires_at = created_at, created_at = created_at - 18 * 3600 * 1000",
        [],
    )
    .unwrap();
    let after = client.send(client.get(server.url("/p/contoso/")));
    assert_eq!(after.status(), 303);
    assert_eq!(after.headers()["location"], "/p/contoso/sign-in");
}

#[test]
fn pages_send_security_headers_and_nothing_reaches_the_state_or_audit() {
    let server = seeded();
    let client = browser_like();
    let page = client.send(client.get(server.url("/p/globex/sign-in")));
    let headers = page.headers().clone();
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"));
    assert!(
        !policy.contains("script-src") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    let html = page.text().unwrap();
    assert!(!html.contains("<script"), "{html}");
    // The stylesheet is cached for a year under its content-hashed name.
    let href_start = html.find("/assets/portal-").unwrap();
    let href = &html[href_start..href_start + html[href_start..].find('"').unwrap()];
    let sheet = client.send(client.get(server.url(href)));
    assert_eq!(sheet.status(), 200);
    assert!(
        sheet.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert_eq!(
        client
            .send(client.get(server.url("/assets/portal-0.css")))
            .status(),
        404
    );
    // Unknown portal, a form that is not one, a CSRF-less sign-out.
    assert_eq!(
        client.send(client.get(server.url("/p/nope/sign-in"))).status(),
        404
    );
    let not_form = client.send(
        client
            .post(server.url("/p/globex/sign-in"))
            .header("content-type", "text/plain")
            .body("email=alice@globex.com"),
    );
    assert_eq!(not_form.status(), 403);
    assert_eq!(
        client
            .send(client.post(server.url("/p/globex/sign-out")))
            .status(),
        403
    );
    // A sign-in, a link followed: the state and audit log hold none of it.
    let (csrf, token) = ask_link(&server, &client, "ana@contoso.com");
    client.send(
        client
            .post(server.url("/p/contoso/link"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
    );
    let (state, revision) = server.state();
    assert_eq!(revision, 1, "a sign-in commits nothing");
    let audit = server.get("/v1/audit").text().unwrap();
    for text in [state.to_string(), audit] {
        assert!(!text.contains(&token) && !text.contains("sign_in_link"), "{text}");
    }
    // The outbox is for admin tokens only.
    let read_only = ServerGuard::start(ServerOptions {
        tokens_file: Some(
            "- {name: ro, token: read-token, scope: read}\n- {name: ad, token: admin-token, scope: admin}\n"
                .into(),
        ),
        ..ServerOptions::default()
    });
    let refused = crate::support::client()
        .get(read_only.url("/v1/outbox"))
        .bearer_auth("read-token")
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    let listed = crate::support::client()
        .get(read_only.url("/v1/outbox"))
        .bearer_auth("admin-token")
        .send()
        .unwrap();
    assert_eq!(listed.status(), 200);
}

#[test]
fn the_portal_host_suffix_serves_a_portal_at_its_own_host() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let server = ServerGuard::start_in(
        dir,
        ServerOptions {
            extra_args: vec!["--portal-host-suffix".into(), "portals.localhost".into()],
            ..ServerOptions::with_admin()
        },
    );
    let (full, _) = configs(server.dir.path());
    cli_against(
        &server,
        server.dir.path(),
        &["apply", full.to_str().unwrap(), "--auto-approve"],
        0,
    );
    let client = browser_like();
    let port = server.base.rsplit(':').next().unwrap();
    let page = client.send(
        client
            .get(format!("http://127.0.0.1:{port}/sign-in"))
            .header("host", format!("globex.portals.localhost:{port}")),
    );
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(html.contains("Sign in to Globex Partner Portal"), "{html}");
    // Its forms post to the portal's own host.
    assert!(html.contains("action=\"/sign-in\""), "{html}");

    // A whole sign-in at a portal's host (contoso: no 2FA): the form, the mailed link at
    // that host, the link followed there, the home at `/`.
    let host = format!("contoso.portals.localhost:{port}");
    let at_host = |request: reqwest::blocking::RequestBuilder| client.send(request.header("host", &host));
    let page = at_host(client.get(format!("http://127.0.0.1:{port}/sign-in")));
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text().unwrap());
    let asked = at_host(
        client
            .post(format!("http://127.0.0.1:{port}/sign-in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("email", "ana@contoso.com")])),
    );
    assert_eq!(asked.status(), 200);
    assert!(asked.text().unwrap().contains("Check your email"));
    let token = link_token(&server, "ana@contoso.com");
    let outbox: Value = server
        .get("/v1/outbox?recipient=ana@contoso.com&limit=1")
        .json()
        .unwrap();
    let text = outbox["messages"][0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("http://{host}/link?token={token}")),
        "the link is at the portal's host: {text}"
    );
    let confirm = at_host(client.get(format!("http://127.0.0.1:{port}/link?token={token}")));
    assert_eq!(confirm.status(), 200);
    let confirm = confirm.text().unwrap();
    assert!(confirm.contains("action=\"/link\""), "{confirm}");
    let followed = at_host(
        client
            .post(format!("http://127.0.0.1:{port}/link"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
    );
    assert_eq!(followed.status(), 303);
    assert_eq!(followed.headers()["location"], "/");
    let home = at_host(client.get(format!("http://127.0.0.1:{port}/")));
    assert_eq!(home.status(), 200);
    let home = home.text().unwrap();
    assert!(home.contains("Welcome, ana@contoso.com"), "{home}");
    assert!(home.contains("action=\"/sign-out\""), "{home}");
    // The same session is no key to another portal's host.
    let other = client.send(
        client
            .get(format!("http://127.0.0.1:{port}/"))
            .header("host", format!("globex.portals.localhost:{port}")),
    );
    assert_eq!(other.status(), 303);
    assert_eq!(other.headers()["location"], "/sign-in");
}

#[test]
fn a_public_json_sign_up_verifies_the_address_first_and_an_admin_registers_at_once() {
    let server = seeded();
    let anonymous = crate::support::client();
    let response = anonymous
        .post(server.url("/v1/portals/globex/self-register"))
        .json(&serde_json::json!({"email": "Newcomer@Globex.com", "attributes": {"department": "sales"}}))
        .send()
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().unwrap();
    assert_eq!(body["verification_pending"], Value::Bool(true), "{body}");
    assert_eq!(body["pending"], Value::Bool(false));
    assert_eq!(
        server
            .get("/v1/portals/globex/members/newcomer@globex.com")
            .status(),
        404
    );
    // Refusals are answered at once, as with a token.
    let refused = anonymous
        .post(server.url("/v1/portals/globex/self-register"))
        .json(&serde_json::json!({"email": "x@initech.com"}))
        .send()
        .unwrap();
    assert_eq!(refused.status(), 403);
    // Other endpoints still take a token.
    assert_eq!(
        anonymous.get(server.url("/v1/state")).send().unwrap().status(),
        401
    );
    // Following the mailed link registers the partner (globex asks for 2FA next).
    let token = link_token(&server, "newcomer@globex.com");
    let client = browser_like();
    let page = client.send(client.get(server.url(&format!("/p/globex/link?token={token}"))));
    let csrf = csrf_of(&page.text().unwrap());
    let followed = client.send(
        client
            .post(server.url("/p/globex/link"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
    );
    assert_eq!(followed.status(), 303);
    assert_eq!(followed.headers()["location"], "/p/globex/2fa");
    let member: Value = server
        .get("/v1/portals/globex/members/newcomer@globex.com")
        .json()
        .unwrap();
    assert_eq!(member["source"], "self_registration", "{member}");
    assert_eq!(member["attributes"]["department"], "sales", "{member}");
    assert_eq!(
        member["attributes"]["tenant_id"], "t-042",
        "the org's value: {member}"
    );
    // An admin token vouches for the address: registered at once.
    let (status, body) = crate::support::json(server.send_json(
        reqwest::Method::POST,
        "/v1/portals/globex/self-register",
        &serde_json::json!({"email": "direct@globex.com"}),
    ));
    assert_eq!(status, 201, "{body}");
    assert!(body.get("verification_pending").is_none(), "{body}");
}

#[test]
fn portalctl_outbox_lists_messages_with_their_links() {
    let server = seeded();
    let client = browser_like();
    let (_, token) = ask_link(&server, &client, "ana@contoso.com");
    let out = cli_against(&server, server.dir.path(), &["outbox", "--limit", "5"], 0);
    assert!(
        out.contains("sign_in_link  to ana@contoso.com  portal contoso  unsent"),
        "{out}"
    );
    assert!(
        out.contains(&format!("link: {}/p/contoso/link?token={token}", server.base)),
        "{out}"
    );
    let json = cli_against(
        &server,
        server.dir.path(),
        &["outbox", "--unsent", "--format", "json"],
        0,
    );
    let document: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(document["messages"][0]["kind"], "sign_in_link", "{document}");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("schemas/output/outbox.schema.json")).unwrap(),
    )
    .unwrap();
    assert!(
        jsonschema::validator_for(&schema).unwrap().is_valid(&document),
        "{document}"
    );
    // The embedded target reads the same table.
    let mut server = server;
    assert!(server.stop());
    let target = format!("sqlite:{}", server.dir.path().join("portalctl.db").display());
    let output = crate::support::portalctl(server.dir.path(), &["outbox", "--target", &target]);
    let text = crate::support::stdout(&output);
    assert!(text.contains("to ana@contoso.com"), "{text}");
}

/// The rows of a home page: path, kind, level and permissions of each `tr[data-path]`.
fn home_rows(html: &str) -> Vec<[String; 4]> {
    let unescape = |text: &str| {
        text.replace("&#47;", "/")
            .replace("&#x2f;", "/")
            .replace("&#39;", "'")
            .replace("&#34;", "\"")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    };
    html.split("<tr data-path=\"")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").expect("a closed row")];
            let cells: Vec<String> = row
                .split("<td>")
                .skip(1)
                .map(|cell| unescape(&cell[..cell.find("</td>").expect("a closed cell")]))
                .collect();
            cells.try_into().expect("four cells")
        })
        .collect()
}

/// What `GET /v1/access/{email}?portal=` lists, as home rows.
fn api_rows(server: &ServerGuard, email: &str, portal: &str) -> Vec<[String; 4]> {
    let response = server.get(&format!("/v1/access/{email}?portal={portal}"));
    assert_eq!(response.status(), 200);
    let body: Value = response.json().unwrap();
    assert_eq!(body["active_partner"], true, "{body}");
    body["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|folder| {
            let permissions: Vec<&str> = folder["permissions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|permission| permission.as_str().unwrap())
                .collect();
            [
                folder["folder"].as_str().unwrap().to_string(),
                folder["kind"].as_str().unwrap().to_string(),
                folder["level"].as_str().unwrap().to_string(),
                permissions.join(", "),
            ]
        })
        .collect()
}

/// Regression (issue 22): the home listed what every portal's `portal:` shares grant. A
/// partner in two portals sees on each home only what that portal opens, which is what
/// `GET /v1/access/{email}?portal=` answers.
#[test]
fn a_partner_in_two_portals_sees_on_each_home_only_what_that_portal_opens() {
    let server = seeded();
    let email = "ana@contoso.com";
    let (status, contoso) = crate::support::json(server.get("/v1/portals/contoso"));
    assert_eq!(status, 200, "{contoso}");
    let mut northwind = contoso.clone();
    let portal = northwind.as_object_mut().unwrap();
    for field in ["template", "from_template", "self_registration", "texts"] {
        portal.remove(field);
    }
    portal.insert("name".into(), Value::from("Northwind Partner Portal"));
    portal.insert("require_2fa".into(), Value::from(false));
    // One email is one partner: the same attributes and org in both portals.
    let (status, ana) = crate::support::json(server.get(&format!("/v1/portals/contoso/members/{email}")));
    assert_eq!(status, 200, "{ana}");
    let put = |kind: &str, key: &[&str], value: Value| serde_json::json!({"op": "put", "kind": kind, "key": key, "value": value});
    let (status, body) = crate::support::json(server.post_changes(
        None,
        serde_json::json!([
            put("portal", &["northwind"], northwind),
            put("member", &["northwind", email], ana),
            put("folder", &["/Northwind"], serde_json::json!({})),
            put(
                "share",
                &["/Northwind", "portal:northwind"],
                serde_json::json!({"access": "view"})
            ),
        ]),
    ));
    assert_eq!(status, 200, "{body}");
    let everything = server
        .get(&format!("/v1/access/{email}"))
        .json::<Value>()
        .unwrap();
    let all: Vec<&str> = everything["folders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|folder| folder["folder"].as_str().unwrap())
        .collect();
    assert!(
        all.contains(&"/Northwind") && all.contains(&"/Partners/Enablement"),
        "{all:?}"
    );

    for (portal, sees, not) in [
        ("contoso", "/Partners/Enablement", "/Northwind"),
        ("northwind", "/Northwind", "/Partners/Enablement"),
    ] {
        let client = browser_like();
        let (csrf, token) = ask_link_on(&server, &client, portal, email);
        let signed_in = client.send(
            client
                .post(server.url(&format!("/p/{portal}/link")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
        );
        assert_eq!(signed_in.status(), 303, "{portal}");
        let home = client.send(client.get(server.url(&format!("/p/{portal}/"))));
        assert_eq!(home.status(), 200, "{portal}");
        let rows = home_rows(&home.text().unwrap());
        let expected = api_rows(&server, email, portal);
        assert_eq!(rows, expected, "{portal}: the home lists what the API lists");
        let paths: Vec<&str> = rows.iter().map(|row| row[0].as_str()).collect();
        assert!(paths.contains(&sees), "{portal}: {paths:?}");
        assert!(!paths.contains(&not), "{portal}: {paths:?}");
        // Shares with the partner, their groups and their org reach them in both portals.
        for everywhere in [
            "/Partners/Finance",
            "/Partners/Contoso",
            "/Partners/Enablement/Drafts",
        ] {
            assert!(paths.contains(&everywhere), "{portal}: {everywhere} in {paths:?}");
        }
    }
    // Another portal's name, or none the partner is in, lists nothing; an unknown one is 404.
    let (status, body) = crate::support::json(server.get(&format!("/v1/access/{email}?portal=globex")));
    assert_eq!(status, 200);
    assert_eq!(body["active_partner"], false);
    assert_eq!(body["folders"], serde_json::json!([]));
    assert_eq!(
        server.get(&format!("/v1/access/{email}?portal=nowhere")).status(),
        404
    );
}

/// Posts the sign-in form of `portal` (at `base`, such as `/p/contoso`) for `email` with
/// the client's CSRF cookie; returns the response.
fn post_sign_in(
    server: &ServerGuard,
    client: &Browser,
    base: &str,
    email: &str,
) -> reqwest::blocking::Response {
    let page = client
        .send(client.get(server.url(&format!("{base}/sign-in"))))
        .text()
        .unwrap();
    let csrf = csrf_of(&page);
    client.send(
        client
            .post(server.url(&format!("{base}/sign-in")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("email", email)])),
    )
}

/// Signs `email` in to `portal` (one without 2FA) through a mailed link; the home opens.
fn sign_in(server: &ServerGuard, client: &Browser, portal: &str, email: &str) {
    let (csrf, token) = ask_link_on(server, client, portal, email);
    let followed = client.send(
        client
            .post(server.url(&format!("/p/{portal}/link")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
    );
    assert_eq!(followed.status(), 303, "{email} follows the link");
    let home = client.send(client.get(server.url(&format!("/p/{portal}/"))));
    assert_eq!(home.status(), 200, "{email} opens the home");
}

/// How many sign-in links the outbox holds for `email`, after the requests that may still
/// be storing one (links are stored off the request's path) had the time to.
fn sign_in_links(server: &ServerGuard, email: &str) -> usize {
    std::thread::sleep(std::time::Duration::from_millis(700));
    let outbox: Value = server
        .get(&format!("/v1/outbox?recipient={email}&limit=1000"))
        .json()
        .unwrap();
    outbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["kind"] == "sign_in_link")
        .count()
}

/// The session rows of `email` on `portal`.
fn sessions_of(server: &ServerGuard, portal: &str, email: &str) -> i64 {
    sqlite(server)
        .query_row(
            "SELECT count(*) FROM sessions WHERE portal = ?1 AND email = ?2",
            [portal, email],
            |row| row.get(0),
        )
        .unwrap()
}

/// Access is decided live on every page, not only for a removed member: a member whose
/// `expires` has passed or who is made pending (both through the API) cannot open the next
/// page, their session ends, and a new sign-in mails them nothing.
#[test]
fn a_member_expired_or_made_pending_cannot_open_the_next_page() {
    let server = seeded();
    let ana = "ana@contoso.com";
    let client = browser_like();
    sign_in(&server, &client, "contoso", ana);
    assert_eq!(sessions_of(&server, "contoso", ana), 1);
    // Its `expires` set in the past through the API (`apply` of such a config removes
    // the member, which the browser flows cover).
    let patched = server.send_json(
        reqwest::Method::PATCH,
        &format!("/v1/portals/contoso/members/{ana}"),
        &serde_json::json!({"expires": "2020-01-31"}),
    );
    assert_eq!(patched.status(), 200, "{}", patched.text().unwrap());
    let member: Value = server
        .get(&format!("/v1/portals/contoso/members/{ana}"))
        .json()
        .unwrap();
    assert_eq!(member["expires"], "2020-01-31", "{member}");
    let refused = client.send(client.get(server.url("/p/contoso/")));
    assert_eq!(refused.status(), 403, "an expired member is refused");
    assert!(refused.text().unwrap().contains("no longer"));
    assert_eq!(sessions_of(&server, "contoso", ana), 0, "the session ended");
    let again = client.send(client.get(server.url("/p/contoso/")));
    assert_eq!(again.status(), 303, "the ended session stays ended");
    // Asking for a link: the same answer as anyone, and no link.
    let before = sign_in_links(&server, ana);
    let answer = post_sign_in(&server, &client, "/p/contoso", ana);
    assert_eq!(answer.status(), 200);
    assert!(answer.text().unwrap().contains("Check your email"));
    assert_eq!(
        sign_in_links(&server, ana),
        before,
        "no link for an expired member"
    );

    // Made pending through the API (a merge patch).
    let bob = "bob@initech.com";
    let client = browser_like();
    sign_in(&server, &client, "contoso", bob);
    assert_eq!(sessions_of(&server, "contoso", bob), 1);
    let patched = server.send_json(
        reqwest::Method::PATCH,
        &format!("/v1/portals/contoso/members/{bob}"),
        &serde_json::json!({"pending": true}),
    );
    assert_eq!(patched.status(), 200, "{}", patched.text().unwrap());
    let refused = client.send(client.get(server.url("/p/contoso/")));
    assert_eq!(refused.status(), 403, "a pending member is refused");
    assert_eq!(sessions_of(&server, "contoso", bob), 0, "the session ended");
    let before = sign_in_links(&server, bob);
    assert_eq!(post_sign_in(&server, &client, "/p/contoso", bob).status(), 200);
    assert_eq!(
        sign_in_links(&server, bob),
        before,
        "no link for a pending member"
    );
}

/// With an https public URL every cookie is `Secure` and `__Host-` prefixed (no sibling
/// host can set it), and a cookie of the same name without the prefix is not honoured.
#[test]
fn cookies_are_secure_and_host_prefixed_with_an_https_public_url() {
    let server = seeded_with(ServerOptions {
        extra_args: vec!["--public-url".into(), "https://portals.example.test".into()],
        ..ServerOptions::with_admin()
    });
    let client = browser_like();
    let page = client.send(client.get(server.url("/p/contoso/sign-in")));
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(csrf_cookie.starts_with("__Host-portalctl-csrf="), "{csrf_cookie}");
    for part in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(csrf_cookie.contains(part), "{part} in {csrf_cookie}");
    }
    assert!(!csrf_cookie.contains("Domain="), "{csrf_cookie}");
    // The link is mailed at the public URL.
    let (csrf, token) = ask_link(&server, &client, "ana@contoso.com");
    let outbox: Value = server
        .get("/v1/outbox?recipient=ana@contoso.com&limit=1")
        .json()
        .unwrap();
    let text = outbox["messages"][0]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "https://portals.example.test/p/contoso/link?token={token}"
        )),
        "{text}"
    );
    let signed_in = client.send(
        client
            .post(server.url("/p/contoso/link"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("token", token.as_str())])),
    );
    assert_eq!(signed_in.status(), 303);
    let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.starts_with("__Host-portalctl-session-contoso="),
        "{cookie}"
    );
    for part in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    assert_eq!(client.send(client.get(server.url("/p/contoso/"))).status(), 200);
    // The same values without the prefix: no session, and no CSRF token.
    let session = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
    let fresh = browser_like();
    let unprefixed = fresh.send(fresh.get(server.url("/p/contoso/")).header(
        "cookie",
        format!("portalctl-session-contoso={session}; portalctl-csrf={csrf}"),
    ));
    assert_eq!(unprefixed.status(), 303, "an unprefixed session is not honoured");
    assert_eq!(unprefixed.headers()["location"], "/p/contoso/sign-in");
    let posted = fresh.send(
        fresh
            .post(server.url("/p/contoso/sign-in"))
            .header("cookie", format!("portalctl-csrf={csrf}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[("csrf", csrf.as_str()), ("email", "ana@contoso.com")])),
    );
    assert_eq!(posted.status(), 403, "an unprefixed CSRF cookie is not honoured");
}

/// The home shows a partner's non-sensitive attributes and the portal's help link, and
/// never the value of a sensitive attribute.
#[test]
fn the_home_shows_non_sensitive_attributes_and_the_help_link_but_no_sensitive_value() {
    let server = seeded();
    let ana = "ana@contoso.com";
    let patched = server.send_json(
        reqwest::Method::PATCH,
        &format!("/v1/portals/contoso/members/{ana}"),
        &serde_json::json!({"attributes": {"contract_ref": "K-SECRET-7"}}),
    );
    assert_eq!(patched.status(), 200, "{}", patched.text().unwrap());
    let client = browser_like();
    sign_in(&server, &client, "contoso", ana);
    let html = client.send(client.get(server.url("/p/contoso/"))).text().unwrap();
    assert!(
        !html.contains("K-SECRET-7"),
        "a sensitive value on the home: {html}"
    );
    assert!(!html.contains("contract_ref"), "{html}");
    for shown in [
        "<th scope=\"row\">region</th><td>amer</td>",
        "<th scope=\"row\">department</th><td>finance</td>",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    let help = html.find(">Help</a>").expect("a help link");
    let anchor = &html[html[..help].rfind("<a ").unwrap()..help];
    let href = anchor
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#58;", ":");
    assert!(
        href.contains("href=\"https://acme.io/partners/help\""),
        "{anchor}"
    );
}

/// Sign-in requests are limited per address (5 a minute) and per client (30 a minute), over
/// HTTP; a member and a non-member meet the same limit and the same answer, and a refused
/// request mails nothing.
#[test]
fn sign_in_requests_are_limited_per_address_and_per_client_alike_for_members_and_others() {
    let server = seeded();
    let client = browser_like();
    let mut refusals = Vec::new();
    for email in ["ana@contoso.com", "nobody@contoso.com"] {
        for attempt in 1..=5 {
            let answer = post_sign_in(&server, &client, "/p/contoso", email);
            assert_eq!(answer.status(), 200, "{email}: request {attempt}");
        }
        let refused = post_sign_in(&server, &client, "/p/contoso", email);
        assert_eq!(refused.status(), 429, "{email}: the sixth request");
        let wait: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "Retry-After: {wait}");
        refusals.push(refused.text().unwrap());
    }
    assert_eq!(refusals[0], refusals[1], "the refusal tells a member from no one");
    assert!(refusals[0].contains("Too many sign-in requests"));
    assert_eq!(
        sign_in_links(&server, "ana@contoso.com"),
        5,
        "one link per admitted request"
    );
    // Ten admitted from this client so far: about twenty other addresses more, then 429
    // whatever the address (the bucket refills one every two seconds).
    let mut admitted = 0;
    let refused = loop {
        let answer = post_sign_in(
            &server,
            &client,
            "/p/contoso",
            &format!("x{admitted}@contoso.com"),
        );
        if answer.status() != 200 {
            break answer;
        }
        admitted += 1;
        assert!(admitted <= 25, "no per-client limit after {admitted} addresses");
    };
    assert_eq!(refused.status(), 429);
    assert!((20..=25).contains(&admitted), "{admitted} admitted");
    assert!(refused.headers().contains_key("retry-after"));
}
