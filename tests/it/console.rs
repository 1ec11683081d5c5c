//! The staff console (`/console`) through the real binary over HTTP: who may open it
//! (a console sign-in — email link plus TOTP — or an admin token, never a partner's
//! session), roles on every page and action, CSRF on every form, actions audited with
//! the staff member, view-as read-only, and *try it*'s YAML accepted by `plan`.

use std::collections::HashMap;

use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, cli_against};

/// A client that does not follow redirects: where a page sends its visitor is checked.
fn client() -> reqwest::blocking::Client {
    portalctl_client::http_client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

const CONFIG: &str = "\
workspace:
  name: Acme
  owner_domains: [acme.io]
  console:
    groups: {support: [sam@acme.io]}
    viewers: [vic@acme.io, group:support]
    approvers: [ann@acme.io]
    admins: [ada@acme.io]
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
  /Partners/Finance/Q3:
    description: the Q3 pack
";

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

fn register(server: &ServerGuard, email: &str) {
    let response = server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({ "email": email }),
    );
    assert!(response.status().is_success(), "{:?}", response.text());
}

fn is_pending(server: &ServerGuard, email: &str) -> bool {
    let body: Value = server
        .get(&format!("/v1/portals/globex/members/{email}"))
        .json()
        .unwrap();
    body["pending"].as_bool().unwrap_or(false)
}

/// A browser without script: keeps cookies, reads the CSRF token from the last page.
pub(crate) struct Browser<'a> {
    server: &'a ServerGuard,
    cookies: HashMap<String, String>,
    csrf: String,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(server: &'a ServerGuard) -> Self {
        Self {
            server,
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, response: &Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    fn read(&mut self, response: Response) -> (u16, String, String) {
        self.keep(&response);
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|value| value.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response.text().unwrap();
        if let Some(at) = body.find("name=\"csrf\" value=\"") {
            self.csrf = body[at + 19..].split('"').next().unwrap().to_string();
        }
        (
            status,
            if location.is_empty() { body } else { location },
            String::new(),
        )
    }

    pub(crate) fn get(&mut self, path: &str) -> (u16, String) {
        let response = client()
            .get(self.server.url(path))
            .header("cookie", self.cookie_header())
            .send()
            .unwrap();
        let (status, body, _) = self.read(response);
        (status, body)
    }

    pub(crate) fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let body = form
            .iter()
            .map(|(name, value)| format!("{name}={}", form_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let response = client()
            .post(self.server.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .unwrap();
        let (status, body, _) = self.read(response);
        (status, body)
    }
}

fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// The newest link a mail to `email` carries.
fn mailed_link(server: &ServerGuard, email: &str) -> String {
    for _ in 0..200 {
        let outbox: Value = server
            .get(&format!("/v1/outbox?recipient={email}&limit=10"))
            .json()
            .unwrap();
        if let Some(text) = outbox["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|message| message["text"].as_str())
            .find(|text| text.contains("token="))
        {
            let at = text.find("token=").unwrap();
            return text[at + 6..].split_whitespace().next().unwrap().to_string();
        }
        // The link is stored off the request's path: wait for it.
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("no link mailed to {email}");
}

fn totp_now(secret: &str) -> String {
    use portalctl_server::pages::totp;
    let key = totp::decode_secret(secret).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    totp::hotp(&key, u64::try_from(totp::step_at(now)).unwrap())
}

/// A link mailed to `email` that is not in `seen` (the outbox keeps the used ones).
fn new_link(server: &ServerGuard, email: &str, seen: &[String]) -> String {
    for _ in 0..200 {
        let outbox: Value = server
            .get(&format!("/v1/outbox?recipient={email}&limit=100"))
            .json()
            .unwrap();
        if let Some(token) = outbox["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|message| message["text"].as_str())
            .filter_map(|text| {
                let at = text.find("token=")?;
                Some(text[at + 6..].split_whitespace().next()?.to_string())
            })
            .find(|token| !seen.contains(token))
        {
            return token;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("no new link mailed to {email}");
}

/// A staff member signed in with the link and a freshly enrolled TOTP.
fn signed_in<'a>(server: &'a ServerGuard, email: &str) -> Browser<'a> {
    enrolled(server, email).0
}

/// [`signed_in`], with the TOTP key and the recovery codes shown at enrolment.
fn enrolled<'a>(server: &'a ServerGuard, email: &str) -> (Browser<'a>, String, Vec<String>) {
    let mut browser = Browser::new(server);
    let (status, _) = browser.get("/console/sign-in");
    assert_eq!(status, 200);
    let (status, body) = browser.post("/console/sign-in", &[("email", email)]);
    assert_eq!(status, 200, "{body}");
    let token = mailed_link(server, email);
    let (status, _) = browser.get(&format!("/console/link?token={token}"));
    assert_eq!(status, 200);
    let (status, location) = browser.post("/console/link", &[("token", &token)]);
    assert_eq!((status, location.as_str()), (303, "/console/2fa"));
    // Nothing opens before the second factor.
    assert_eq!(browser.get("/console/").1, "/console/2fa");
    let (status, body) = browser.get("/console/2fa/enrol");
    assert_eq!(status, 200, "{body}");
    let at = body.find("secret=").expect("the otpauth URI names the key");
    let secret: String = body[at + 7..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let (status, body) = browser.post("/console/2fa/enrol", &[("code", &totp_now(&secret))]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("recovery-codes"), "{body}");
    let list = &body[body.find("id=\"recovery-codes\"").unwrap()..];
    let codes = list[..list.find("</ul>").unwrap()]
        .split("<li>")
        .skip(1)
        .map(|item| item.split('<').next().unwrap().to_string())
        .collect();
    (browser, secret, codes)
}

const PAGES: &[&str] = &[
    "/console/",
    "/console/roster",
    "/console/roster?portal=globex&q=alice",
    "/console/partners/alice@globex.com",
    "/console/partners/alice@globex.com/view-as/globex",
    "/console/portals/globex",
    "/console/preview/globex/home",
    "/console/preview/globex/sign-in",
    "/console/folders",
    "/console/folders?path=/Partners/Finance/Q3",
    "/console/audit",
    "/console/audit/1",
    "/console/tokens",
];

const ACTIONS: &[&str] = &[
    "approve",
    "refuse",
    "resend-invitation",
    "end-sessions",
    "create-token",
    "revoke-token",
];

#[test]
fn no_console_page_or_action_without_a_console_sign_in_or_an_admin_token() {
    let (server, _dir) = applied();
    register(&server, "pat@globex.com");
    for path in PAGES {
        let response = client().get(server.url(path)).send().unwrap();
        assert_eq!(response.status().as_u16(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/console/sign-in", "{path}");
        // A read token is not an admin token.
        let with_admin = server.get(path);
        assert_eq!(
            with_admin.status().as_u16(),
            200,
            "{path}: {:?}",
            with_admin.text()
        );
    }
    for action in ACTIONS {
        let response = client()
            .post(server.url(&format!("/console/actions/{action}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("portal=globex&email=pat%40globex.com&confirm=yes&name=x&scope=admin")
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 303, "{action}");
    }
    assert!(is_pending(&server, "pat@globex.com"), "nothing was approved");
    assert!(!server.stderr().contains("pctl_"), "no token reached the log");
}

#[test]
fn staff_sign_in_roles_csrf_and_an_audited_approval() {
    let (server, _dir) = applied();
    register(&server, "pat@globex.com");
    register(&server, "quinn@globex.com");

    // A viewer sees the pending registration, without the button, and cannot approve.
    let mut viewer = signed_in(&server, "vic@acme.io");
    let (status, overview) = viewer.get("/console/");
    assert_eq!(status, 200);
    assert!(
        overview.contains("pat@globex.com") && overview.contains("vic@acme.io (viewer)"),
        "{overview}"
    );
    assert!(
        !overview.contains("data-action=\"approve\""),
        "a viewer sees no approve button"
    );
    let (status, _) = viewer.post(
        "/console/actions/approve",
        &[
            ("portal", "globex"),
            ("email", "pat@globex.com"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(status, 403);
    assert!(is_pending(&server, "pat@globex.com"));
    // A group member is a viewer too.
    let mut sam = signed_in(&server, "sam@acme.io");
    assert!(sam.get("/console/").1.contains("sam@acme.io (viewer)"));

    // An approver: a confirmation first, then the approval, audited with the staff actor.
    let mut approver = signed_in(&server, "ann@acme.io");
    let (_, overview) = approver.get("/console/");
    assert!(overview.contains("data-action=\"approve\""), "{overview}");
    let (status, confirm) = approver.post(
        "/console/actions/approve",
        &[("portal", "globex"), ("email", "pat@globex.com")],
    );
    assert_eq!(status, 200);
    assert!(confirm.contains("data-action=\"confirm-approve\""), "{confirm}");
    assert!(
        is_pending(&server, "pat@globex.com"),
        "not before the confirmation"
    );
    // Without its CSRF token the form is refused.
    let saved = std::mem::take(&mut approver.csrf);
    let (status, _) = approver.post(
        "/console/actions/approve",
        &[
            ("portal", "globex"),
            ("email", "pat@globex.com"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(status, 403);
    approver.csrf = saved;
    let (status, done) = approver.post(
        "/console/actions/approve",
        &[
            ("portal", "globex"),
            ("email", "pat@globex.com"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(status, 200, "{done}");
    assert!(!is_pending(&server, "pat@globex.com"));
    let audit: Value = server.get("/v1/audit?limit=100").json().unwrap();
    let last = audit["entries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["token"], "staff:ann@acme.io", "{last}");
    // An approver cannot create tokens; an admin can, and the token is audited.
    let (status, _) = approver.post(
        "/console/actions/create-token",
        &[("name", "ci"), ("scope", "read"), ("confirm", "yes")],
    );
    assert_eq!(status, 403);
    let mut admin = signed_in(&server, "ada@acme.io");
    admin.get("/console/tokens");
    let (status, created) = admin.post(
        "/console/actions/create-token",
        &[("name", "ci"), ("scope", "read"), ("confirm", "yes")],
    );
    assert_eq!(status, 200, "{created}");
    assert!(created.contains("pctl_"), "the new token is shown once");
    let (_, audit_page) = admin.get("/console/audit");
    assert!(
        audit_page.contains("staff:ada@acme.io") && audit_page.contains("create-token"),
        "{audit_page}"
    );
    assert!(!audit_page.contains("pctl_"), "the token is not in the log");

    // Ending sessions is audited too; signing out ends the console session.
    let (status, _) = approver.post(
        "/console/actions/end-sessions",
        &[
            ("portal", "globex"),
            ("email", "alice@globex.com"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(status, 200);
    let (status, _) = approver.post("/console/sign-out", &[]);
    assert_eq!(status, 303);
    assert_eq!(approver.get("/console/").1, "/console/sign-in");
    // A link does not open the console for someone git does not name.
    let mut stranger = Browser::new(&server);
    stranger.get("/console/sign-in");
    let (status, _) = stranger.post("/console/sign-in", &[("email", "eve@acme.io")]);
    assert_eq!(status, 200, "the same answer for anyone");
}

#[test]
fn a_partner_session_never_opens_the_console_and_view_as_cannot_act() {
    let (server, _dir) = applied();
    // Alice signs in to her portal.
    let mut alice = Browser::new(&server);
    alice.get("/p/globex/sign-in");
    alice.post("/p/globex/sign-in", &[("email", "alice@globex.com")]);
    let token = mailed_link(&server, "alice@globex.com");
    alice.get(&format!("/p/globex/link?token={token}"));
    let (status, _) = alice.post("/p/globex/link", &[("token", &token)]);
    assert_eq!(status, 303);
    let (status, home) = alice.get("/p/globex/");
    assert_eq!(status, 200, "{home}");
    // Her session cookie, under the console's name, opens nothing.
    let session = alice
        .cookies
        .iter()
        .find(|(name, _)| name.contains("session-globex"))
        .unwrap()
        .1
        .clone();
    alice.cookies.insert("portalctl-console".into(), session);
    assert_eq!(alice.get("/console/").1, "/console/sign-in");
    // Her own link, followed on the console, is not a console link.
    alice.get("/console/sign-in");
    let (status, _) = alice.post("/console/link", &[("token", "not-a-console-link")]);
    assert_eq!(status, 404);

    // View-as shows exactly her home's table, and is logged; its forms lead nowhere.
    let view: String = server
        .get("/console/partners/alice@globex.com/view-as/globex")
        .text()
        .unwrap();
    let rows = |html: &str| -> Vec<String> {
        html.split("<tr data-path=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(rows(&view), rows(&home));
    assert_eq!(rows(&view), ["/Partners/Finance", "/Partners/Finance/Q3"]);
    assert!(view.contains("name=\"csrf\" value=\"\""), "no usable token");
    let response = client()
        .post(server.url("/console/preview/sign-out"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=")
        .send()
        .unwrap();
    assert!(
        matches!(response.status().as_u16(), 404 | 405),
        "{}",
        response.status()
    );
    assert_eq!(alice.get("/p/globex/").0, 200, "her session is untouched");
    let audit = server.get("/console/audit").text().unwrap();
    assert!(
        audit.contains("view-as") && audit.contains("globex/alice@globex.com"),
        "{audit}"
    );

    // Who can open the Q3 pack: alice, through the finance group's share on its parent.
    let folder = server
        .get("/console/folders?path=/Partners/Finance/Q3")
        .text()
        .unwrap();
    assert!(
        folder.contains("Who can open it: 1 partners") && folder.contains("alice@globex.com"),
        "{folder}"
    );
}

#[test]
fn the_try_it_yaml_makes_plan_report_exactly_that_change() {
    let (server, dir) = applied();
    let page = server
        .get("/console/portals/globex?color=%23ff0000")
        .text()
        .unwrap();
    let code = |name: &str| -> String {
        let at = page
            .find(&format!("data-code=\"{name}\""))
            .unwrap_or_else(|| panic!("{page}"));
        let text = &page[at..];
        let text = &text[text.find('>').unwrap() + 1..text.find("</pre>").unwrap()];
        text.replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#35;", "#")
            .replace("&#x23;", "#")
    };
    assert_eq!(code("yaml"), "portals:\n  globex:\n    color: \"#FF0000\"\n");
    assert!(
        page.contains("/console/preview/globex/home?color=%23FF0000"),
        "the preview follows the colour"
    );
    let preview = server
        .get("/console/preview/globex/home?color=%23FF0000")
        .text()
        .unwrap();
    assert!(
        preview.contains("/console/preview/theme.css?v=ff0000"),
        "{preview}"
    );
    let css = server.get("/console/preview/theme.css?v=ff0000").text().unwrap();
    assert!(css.contains("--brand: #ff0000"), "{css}");
    // Apply the diff to the config: each `-` line becomes its `+` line.
    let diff = code("diff");
    let config_path = dir.path().join("portalctl.yaml");
    let mut config = std::fs::read_to_string(&config_path).unwrap();
    let removed: Vec<&str> = diff
        .lines()
        .filter(|line| line.starts_with('-') && !line.starts_with("---"))
        .collect();
    let added: Vec<&str> = diff
        .lines()
        .filter(|line| line.starts_with('+') && !line.starts_with("+++"))
        .collect();
    assert_eq!(removed.len(), 1);
    for (old, new) in removed.iter().zip(&added) {
        let old = &old[1..];
        assert!(config.contains(old), "{old:?} is in the config");
        config = config.replacen(old, &new[1..], 1);
    }
    std::fs::write(&config_path, config).unwrap();
    let plan = cli_against(&server, dir.path(), &["plan", "--format", "json"], 2);
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let text = plan.to_string();
    assert!(text.contains("#FF0000"), "{text}");
    let changes = plan["changes"]
        .as_array()
        .or_else(|| plan["data"]["changes"].as_array())
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(changes.len(), 1, "{plan}");
}

#[test]
fn approvals_from_several_clients_at_once_are_each_stored() {
    let (server, _dir) = applied();
    let emails: Vec<String> = (0..12).map(|n| format!("p{n}@globex.com")).collect();
    for email in &emails {
        register(&server, email);
    }
    let acknowledged: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = emails
            .iter()
            .map(|email| {
                let server = &server;
                scope.spawn(move || {
                    let response = server
                        .request(Method::POST, "/console/actions/approve")
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(format!(
                            "portal=globex&email={}&confirm=yes",
                            email.replace('@', "%40")
                        ))
                        .send()
                        .unwrap();
                    usize::from(response.status().as_u16() == 200)
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).sum()
    });
    let stored = emails.iter().filter(|email| !is_pending(&server, email)).count();
    assert_eq!((acknowledged, stored), (emails.len(), emails.len()));
}

/// `examples/acme` in `dir` with staff declared (vic viewer, ann approver, ada admin) and
/// globex's sign-ups awaiting approval.
fn example_with_staff(dir: &std::path::Path) {
    crate::browser::copy_example(dir);
    let workspace = dir.join("workspace.yaml");
    let text = std::fs::read_to_string(&workspace).unwrap();
    let text = text.replacen(
        "  owner_domains: [acme.io]\n",
        "  owner_domains: [acme.io]\n  console:\n    viewers: [vic@acme.io]\n    approvers: [ann@acme.io]\n    admins: [ada@acme.io]\n",
        1,
    );
    std::fs::write(&workspace, text).unwrap();
    let globex = dir.join("portals/globex.yaml");
    let text = std::fs::read_to_string(&globex).unwrap();
    let text = text.replacen(
        "      allowed_domains: [globex.com]\n",
        "      allowed_domains: [globex.com]\n      approval: required\n",
        1,
    );
    std::fs::write(&globex, text).unwrap();
}

/// Pastes a YAML snippet of mappings into `file`: each leaf `key: value` of the snippet
/// replaces the line of the file at the same path (as a person merging it by hand would).
fn paste_snippet(file: &str, snippet: &str) -> String {
    fn path_of(stack: &mut Vec<(usize, String)>, line: &str) -> Option<(Vec<String>, bool)> {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            return None;
        }
        let indent = line.len() - trimmed.len();
        let (key, value) = trimmed.split_once(':')?;
        while stack.last().is_some_and(|(at, _)| *at >= indent) {
            stack.pop();
        }
        stack.push((indent, key.trim().to_string()));
        let leaf = !value.split('#').next().unwrap_or_default().trim().is_empty();
        Some((stack.iter().map(|(_, key)| key.clone()).collect(), leaf))
    }
    let mut lines: Vec<String> = file.lines().map(str::to_string).collect();
    let mut snippet_stack = Vec::new();
    for new_line in snippet.lines() {
        let Some((path, true)) = path_of(&mut snippet_stack, new_line) else {
            continue;
        };
        let mut file_stack = Vec::new();
        let at = lines
            .iter()
            .position(|line| path_of(&mut file_stack, line).is_some_and(|(found, _)| found == path))
            .unwrap_or_else(|| panic!("{path:?} is not in the file"));
        let indent = lines[at].len() - lines[at].trim_start().len();
        lines[at] = format!("{}{}", " ".repeat(indent), new_line.trim_start());
    }
    lines.join("\n") + "\n"
}

#[test]
fn pasting_a_snippet_replaces_the_keys_it_names() {
    let file = "portals:\n  globex:\n    name: G # the name\n    color: \"#0F62FE\"\n    texts:\n      help_url: https://a\n";
    let pasted = paste_snippet(
        file,
        "portals:\n  globex:\n    color: \"#FF0000\"\n    texts:\n      help_url: \"https://b\"\n",
    );
    assert_eq!(
        pasted,
        "portals:\n  globex:\n    name: G # the name\n    color: \"#FF0000\"\n    texts:\n      help_url: \"https://b\"\n"
    );
}

/// The screenshots docs/console.md shows (`docs/console/NAME.png`).
const DOC_SCREENSHOTS: [&str; 6] = [
    "overview",
    "try-it",
    "view-as",
    "roster-search",
    "folder",
    "audit",
];

#[test]
fn staff_sign_in_approve_view_as_and_try_it_in_a_browser() {
    let Some(tools) = crate::browser::tools() else {
        return;
    };
    let server = ServerGuard::start(ServerOptions::with_admin());
    let config = server.dir.path().join("config");
    example_with_staff(&config);
    cli_against(
        &server,
        server.dir.path(),
        &["apply", config.to_str().unwrap(), "--auto-approve"],
        0,
    );
    let run = crate::browser::run_browser(
        &tools,
        "console.mjs",
        "console",
        "console",
        &[
            ("BASE", server.base.clone()),
            ("TOKEN", server.token.clone().unwrap()),
        ],
    );
    run.assert_ran(&[
        "staff sign-in (link + oathtool TOTP) opens the console: vic",
        "a viewer sees the pending registration without an approve button",
        "a viewer's approve POST is refused",
        "an approver approves a pending registration",
        "the approval is audited with the staff member",
        "once approved, the partner signs in",
        "view-as shows exactly the partner's home",
        "the preview's background follows the colour typed into try it",
        "an admin creates a token, shown once",
        "keyboard: approve",
        "keyboard: refuse",
        "keyboard: resend an invitation",
        "keyboard: end sessions",
        "keyboard: create a token",
        "keyboard: revoke a token",
        "keyboard: try it",
        "keyboard: view as",
        "keyboard: sign out",
        "signing out ends the console session",
        "a returning staff member is asked for a code, not an enrolment",
        "a returning staff member signs in with an oathtool code",
        "view-as of no seat is 404",
        "a viewer's approve form leads to a page saying so",
        "a form without its token leads to a page saying so",
        "axe: console 2fa",
        "axe: console check your email",
        "axe: console done",
        "axe: console token created",
        "axe: console not allowed",
        "axe: console form expired",
        "axe: console not found",
    ]);
    for (name, _) in run
        .checks
        .iter()
        .filter(|(name, _)| name.starts_with("viewer opens "))
    {
        let page = name.trim_start_matches("viewer opens ");
        run.assert_ran(&[&format!("axe: console {page}")]);
    }
    assert!(
        run.checks
            .keys()
            .filter(|name| name.starts_with("axe: console"))
            .count()
            >= 25,
        "axe ran on every console page: {:?}",
        run.checks.keys().collect::<Vec<_>>()
    );
    // The snippet, pasted into the example config, makes `plan` report exactly that change.
    let snippet = run.values["yaml"].as_str().expect("the try-it snippet");
    assert_eq!(snippet, "portals:\n  globex:\n    color: \"#C0FFEE\"\n");
    let file = config.join("portals/globex.yaml");
    let pasted = paste_snippet(&std::fs::read_to_string(&file).unwrap(), snippet);
    std::fs::write(&file, pasted).unwrap();
    let plan = cli_against(
        &server,
        server.dir.path(),
        &["plan", config.to_str().unwrap(), "--format", "json"],
        2,
    );
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let changes = plan["changes"].as_array().unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(changes.len(), 1, "{plan}");
    let change = changes[0].to_string();
    assert!(
        change.contains("globex") && change.contains("#C0FFEE") && change.contains("#0F62FE"),
        "{change}"
    );
    // Screenshots for docs/console.md: `UPDATE_DOCS=1` copies them into `docs/console/`.
    let root = std::path::Path::new(crate::browser::ROOT);
    let shots = root.join("target/console");
    for name in DOC_SCREENSHOTS {
        let shot = shots.join(format!("console-{name}.png"));
        assert!(shot.is_file(), "{name}.png");
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::copy(&shot, root.join(format!("docs/console/{name}.png"))).unwrap();
        }
        assert!(
            root.join(format!("docs/console/{name}.png")).is_file(),
            "docs/console/{name}.png: run `UPDATE_DOCS=1 cargo test --test it console::staff_sign_in` to copy it"
        );
    }
}

#[test]
fn the_audit_page_filters_the_whole_log_by_resource_and_actor_a_page_at_a_time() {
    let (server, _dir) = applied();
    // Revision 2: bo's seat; then 160 revisions about alice (more than a page of 50: the
    // filter reads the store's index of the whole log, never a tail of it).
    let seat = |email: &str, role: &str| {
        json!([{"op": "put", "kind": "member", "key": ["globex", email],
                "value": {"role": role, "org": "globex"}}])
    };
    assert_eq!(
        server
            .post_changes(None, seat("bo@globex.com", "viewer"))
            .status(),
        200
    );
    for n in 0..160 {
        let role = if n % 2 == 0 { "editor" } else { "viewer" };
        let response = server.post_changes(None, seat("alice@globex.com", role));
        assert_eq!(response.status(), 200);
    }
    let revisions = |html: &str| -> Vec<u64> {
        html.split("<a href=\"/console/audit/")
            .skip(1)
            .filter_map(|rest| rest.split('"').next()?.parse().ok())
            .collect()
    };
    // bo, 160 revisions back, is found.
    let page = server
        .get("/console/audit?resource=bo%40globex.com")
        .text()
        .unwrap();
    assert_eq!(revisions(&page), [2], "{page}");
    // and on his partner page.
    let partner = server.get("/console/partners/bo@globex.com").text().unwrap();
    assert_eq!(revisions(&partner), [2], "{partner}");
    // alice's revisions, 50 a page, newest first, then the older ones by the link.
    let first = server
        .get("/console/audit?resource=alice%40globex.com")
        .text()
        .unwrap();
    let first_revisions = revisions(&first);
    assert_eq!(first_revisions.len(), 50);
    assert_eq!(first_revisions[0], 162);
    let older = format!("before={}", first_revisions[49]);
    assert!(first.contains(&older), "{first}");
    let second = server
        .get(&format!(
            "/console/audit?resource=alice%40globex.com&actor=&{older}"
        ))
        .text()
        .unwrap();
    assert_eq!(revisions(&second)[0], first_revisions[49] - 1);
    // By actor: the admin token's name; nobody else wrote.
    let by_staff = server
        .get("/console/audit?actor=staff%3Aann%40acme.io")
        .text()
        .unwrap();
    assert!(revisions(&by_staff).is_empty(), "{by_staff}");
    let token_name = server.get("/v1/audit?after=1&limit=1").json::<Value>().unwrap()["entries"][0]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let by_token = server
        .get(&format!(
            "/console/audit?actor={token_name}&resource=bo%40globex.com"
        ))
        .text()
        .unwrap();
    assert_eq!(revisions(&by_token), [2]);
}

#[test]
fn with_the_config_repo_try_it_diffs_the_portal_file_at_the_applied_commit() {
    let repo = tempfile::tempdir().unwrap();
    let config = repo.path().join("config");
    example_with_staff(&config);
    crate::support::commit_config(repo.path(), "the portals");
    let server = ServerGuard::start(ServerOptions {
        extra_args: vec!["--config-repo".into(), config.display().to_string()],
        ..ServerOptions::with_admin()
    });
    // Before any apply recorded a commit, the page says why there is only a snippet.
    let unapplied = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&unapplied, repo.path(), &["apply", "config", "--auto-approve"], 0);
    let page = unapplied
        .get("/console/portals/globex?color=%23c0ffee")
        .text()
        .unwrap();
    assert!(
        page.contains("started without `--config-repo`") && page.contains("data-code=\"yaml\""),
        "{page}"
    );
    cli_against(&server, repo.path(), &["apply", "config", "--auto-approve"], 0);
    let page = server
        .get("/console/portals/globex?color=%23c0ffee")
        .text()
        .unwrap();
    assert!(
        page.contains("Unified diff of portals/globex.yaml (commit "),
        "{page}"
    );
    let at = page.find("data-code=\"diff\"").unwrap();
    let diff = &page[at..];
    let diff = diff[diff.find('>').unwrap() + 1..diff.find("</pre>").unwrap()]
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#35;", "#")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    assert!(
        diff.starts_with("--- a/portals/globex.yaml\n+++ b/portals/globex.yaml\n@@"),
        "{diff}"
    );
    assert!(
        diff.contains("-    color: \"#0F62FE\"\n+    color: \"#C0FFEE\"\n"),
        "{diff}"
    );
    // The diff applies to the file with `patch`, and `plan` reports exactly that change.
    if std::process::Command::new("patch")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var("PORTALCTL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "this test needs `patch` and PORTALCTL_REQUIRE_TOOLS=1"
        );
        println!("skipped: applying the diff needs `patch`");
        return;
    }
    let mut patch = std::process::Command::new("patch")
        .args(["-p1", "-d"])
        .arg(&config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("patch runs");
    std::io::Write::write_all(patch.stdin.as_mut().unwrap(), diff.as_bytes()).unwrap();
    let output = patch.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let plan = cli_against(&server, repo.path(), &["plan", "config", "--format", "json"], 2);
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{plan}");
    assert!(changes[0].to_string().contains("#C0FFEE"), "{plan}");
}

/// Two portals, each with a `portal:` share of its own; dual is seated in both, mgr
/// manages globex's people in globex.
const TWO_PORTALS: &str = "\
workspace:
  name: Acme
  owner_domains: [acme.io]
  console:
    viewers: [vic@acme.io]
attributes:
  region: { type: enum, values: [emea, apac] }
  contract_ref: { type: string, sensitive: true }
partner_orgs:
  globex:
    domains: [globex.com]
    self_management: { admins: [mgr@globex.com], portals: [globex], max_role: viewer, default_role: viewer }
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - { email: dual@globex.com, role: viewer, org: globex, attributes: { region: emea, contract_ref: K-SECRET-1 } }
      - { email: mgr@globex.com, role: viewer, org: globex }
  initech:
    name: Initech
    color: \"#24A148\"
    logout_url: https://acme.io/bye
    members:
      - { email: dual@globex.com, role: viewer, org: globex, attributes: { region: emea, contract_ref: K-SECRET-1 } }
folders:
  /Globex:
    shares: [{ portal: globex, access: view }]
  /Initech:
    shares: [{ portal: initech, access: view }]
";

fn applied_with(config: &str) -> (ServerGuard, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), config).unwrap();
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    (server, dir)
}

/// `email`'s own home in `portal`, signed in through the partner pages.
fn partner_home(server: &ServerGuard, portal: &str, email: &str) -> String {
    let mut partner = Browser::new(server);
    partner.get(&format!("/p/{portal}/sign-in"));
    partner.post(&format!("/p/{portal}/sign-in"), &[("email", email)]);
    let token = mailed_link(server, email);
    partner.get(&format!("/p/{portal}/link?token={token}"));
    let (status, location) = partner.post(&format!("/p/{portal}/link"), &[("token", &token)]);
    assert_eq!(status, 303, "{location}");
    let (status, home) = partner.get(&format!("/p/{portal}/"));
    assert_eq!(status, 200, "{home}");
    home
}

/// The `<main>` of a partner page, with the theme's base path (`/p/PORTAL` on the real
/// page, `/console/preview` on a console copy) written as `BASE`.
fn main_of(html: &str, base: &str) -> String {
    let start = html.find("<main").unwrap_or_else(|| panic!("{html}"));
    let end = html.find("</main>").unwrap_or_else(|| panic!("{html}"));
    html[start..end].replace(base, "BASE")
}

#[test]
fn view_as_and_the_preview_show_exactly_the_partners_home_in_that_portal() {
    let (server, _dir) = applied_with(TWO_PORTALS);
    let rows = |html: &str| -> Vec<String> {
        html.split("<tr data-path=\"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap().to_string())
            .collect()
    };
    // dual, seated in two portals: each portal's home lists that portal's share only.
    for (portal, expected) in [("globex", "/Globex"), ("initech", "/Initech")] {
        let home = partner_home(&server, portal, "dual@globex.com");
        assert_eq!(rows(&home), [expected], "{home}");
        let view = server
            .get(&format!("/console/partners/dual@globex.com/view-as/{portal}"))
            .text()
            .unwrap();
        assert_eq!(rows(&view), rows(&home), "{portal}: {view}");
        assert_eq!(
            main_of(&view, "/console/preview"),
            main_of(&home, &format!("/p/{portal}")),
            "{portal}: the whole page body is the partner's"
        );
    }
    // The sensitive attribute is on neither; the region is.
    let view = server
        .get("/console/partners/dual@globex.com/view-as/globex")
        .text()
        .unwrap();
    assert!(view.contains("emea") && !view.contains("K-SECRET-1"), "{view}");

    // mgr manages globex's people: the People link is on the home and on view-as.
    let home = partner_home(&server, "globex", "mgr@globex.com");
    assert!(home.contains("/p/globex/people"), "{home}");
    let view = server
        .get("/console/partners/mgr@globex.com/view-as/globex")
        .text()
        .unwrap();
    assert_eq!(main_of(&view, "/console/preview"), main_of(&home, "/p/globex"));
    assert!(view.contains("/console/preview/people"), "{view}");

    // The preview of initech's home is its first member's (dual's) home there.
    let preview = server.get("/console/preview/initech/home").text().unwrap();
    assert_eq!(rows(&preview), ["/Initech"], "{preview}");
    // dual sorts before mgr: the preview of globex's home is dual's.
    let preview = server.get("/console/preview/globex/home").text().unwrap();
    assert_eq!(rows(&preview), ["/Globex"], "{preview}");
}

/// A roster of every source: managed alice, bob (org tyrell, an editor) and mgr; pat
/// awaiting approval, reg self-registered and approved, pm added by globex itself, and
/// 55 more managed members (`m00`…`m54`, region apac), so the roster has two pages.
const ROSTER: &str = "\
workspace:
  name: Acme
  owner_domains: [acme.io]
attributes:
  region: { type: enum, values: [emea, apac] }
  contract_ref: { type: string, sensitive: true }
partner_orgs:
  globex:
    domains: [globex.com]
    self_management: { admins: [mgr@globex.com], portals: [globex], max_role: viewer, default_role: viewer }
  tyrell:
    domains: [initech.com]
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    self_registration:
      enabled: true
      default_role: viewer
      allowed_domains: [globex.com]
      approval: required
    members:
      - { email: alice@globex.com, role: viewer, org: globex, attributes: { region: emea, contract_ref: K-SECRET-1 } }
      - { email: bob@initech.com, role: editor, org: tyrell, attributes: { region: apac } }
      - { email: mgr@globex.com, role: viewer, org: globex }
groups:
  finance: { members: [alice@globex.com] }
folders:
  /Partners:
    shares: [{ portal: globex, access: view }]
  /Partners/Finance:
    shares: [{ group: finance, access: edit }]
";

fn roster_applied() -> (ServerGuard, tempfile::TempDir) {
    let (server, dir) = applied_with(ROSTER);
    register(&server, "pat@globex.com");
    register(&server, "reg@globex.com");
    let response = server
        .request(Method::POST, "/console/actions/approve")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("portal=globex&email=reg%40globex.com&confirm=yes")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut changes = vec![
        json!({"op": "put", "kind": "member", "key": ["globex", "pm@globex.com"],
        "value": {"role": "viewer", "org": "globex", "source": "partner_managed"}}),
    ];
    changes.extend((0..55).map(|n| {
        json!({"op": "put", "kind": "member", "key": ["globex", format!("m{n:02}@globex.com")],
               "value": {"role": "viewer", "org": "globex", "attributes": {"region": "apac"}}})
    }));
    let response = server.post_changes(None, Value::Array(changes));
    assert_eq!(response.status(), 200, "{:?}", response.text());
    (server, dir)
}

/// The emails a roster page lists, and its caption's count.
fn roster(server: &ServerGuard, query: &str) -> (usize, Vec<String>) {
    let page = server.get(&format!("/console/roster?{query}")).text().unwrap();
    let table = &page[page.find("<table").unwrap_or_else(|| panic!("{page}"))..];
    let caption = &table[table.find("<caption>").unwrap() + 9..];
    let total = caption
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{caption}"));
    let emails = table
        .split("<tr><td><a href=\"/console/partners/")
        .skip(1)
        .map(|row| row.split('"').next().unwrap().replace("%40", "@"))
        .collect();
    (total, emails)
}

#[test]
fn the_roster_lists_exactly_the_members_each_filter_names_a_page_at_a_time() {
    let (server, _dir) = roster_applied();
    let one = |email: &str| (1, vec![email.to_string()]);
    // Each source, in the portal and over every portal (the revision's search text).
    for portal in ["globex", ""] {
        let at = |rest: &str| format!("portal={portal}&{rest}");
        assert_eq!(roster(&server, &at("source=pending")), one("pat@globex.com"));
        assert_eq!(
            roster(&server, &at("source=self-registered")),
            one("reg@globex.com")
        );
        assert_eq!(
            roster(&server, &at("source=partner-managed")),
            one("pm@globex.com")
        );
        // The same filter with a substring (the all-portal path reads the search text).
        assert_eq!(
            roster(&server, &at("q=globex&source=partner-managed")),
            one("pm@globex.com")
        );
        assert_eq!(roster(&server, &at("q=p&source=pending")), one("pat@globex.com"));
        // The org (bob's email does not contain it), the role, an attribute.
        assert_eq!(roster(&server, &at("q=tyrell")), one("bob@initech.com"));
        assert_eq!(roster(&server, &at("q=editor")), one("bob@initech.com"));
        assert_eq!(roster(&server, &at("q=region%3Demea")), one("alice@globex.com"));
        assert_eq!(roster(&server, &at("q=region%3Dapac")).0, 56);
        // A sensitive value is never searched, by value or by name=value.
        assert_eq!(roster(&server, &at("q=contract_ref%3Dk-secret-1")), (0, vec![]));
        assert_eq!(roster(&server, &at("q=k-secret")), (0, vec![]));
    }
    // Managed: alice, bob, mgr and m00…m54 (58), sorted by email: page 2 holds the last 8.
    let managed: Vec<String> = ["alice@globex.com", "bob@initech.com"]
        .into_iter()
        .map(str::to_string)
        .chain((0..55).map(|n| format!("m{n:02}@globex.com")))
        .chain(["mgr@globex.com".to_string()])
        .collect();
    let (total, first) = roster(&server, "portal=globex&source=managed");
    assert_eq!((total, first.as_slice()), (58, &managed[..50]));
    let (total, second) = roster(&server, "portal=globex&source=managed&page=2");
    assert_eq!((total, second.as_slice()), (58, &managed[50..]));
    let page = unescape(
        &server
            .get("/console/roster?portal=globex&source=managed")
            .text()
            .unwrap(),
    );
    assert!(page.contains("58 members; page 1 of 2"), "{page}");
    assert!(
        page.contains("/console/roster?portal=globex&q=&source=managed&page=2"),
        "{page}"
    );
    // Everyone: 61, the third page is past the end.
    assert_eq!(roster(&server, "portal=globex").0, 61);
    assert_eq!(roster(&server, "portal=globex&page=3"), (61, vec![]));
}

/// HTML text as written: the entities askama writes, read back.
fn unescape(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_partner_page_says_where_each_seat_comes_from_masks_secrets_and_grants_as_explain() {
    let (server, dir) = roster_applied();
    let partner = |email: &str| unescape(&server.get(&format!("/console/partners/{email}")).text().unwrap());
    // Only a managed seat is said to be declared in git.
    let alice = partner("alice@globex.com");
    assert!(
        alice.contains("Managed: declared in git at portals.globex.members (alice@globex.com)"),
        "{alice}"
    );
    for (email, says) in [
        (
            "pat@globex.com",
            "Self-registered, awaiting approval: live, not in git",
        ),
        ("reg@globex.com", "Self-registered: live, not in git"),
        (
            "pm@globex.com",
            "Added by globex (its partner managers on the People page or its SCIM client) under partner_orgs.globex.self_management",
        ),
    ] {
        let page = partner(email);
        assert!(page.contains(says), "{email}: {page}");
        assert!(
            !page.to_lowercase().contains("declared in git at portals."),
            "{email}: {page}"
        );
    }
    // The sensitive attribute is masked; the other one is shown.
    assert!(
        alice.contains("Attribute contract_ref</th><td>(sensitive)</td>"),
        "{alice}"
    );
    assert!(alice.contains("Attribute region</th><td>emea</td>"), "{alice}");
    assert!(!alice.contains("K-SECRET-1"), "{alice}");
    // What she can open, with what grants it: what `explain --live` answers.
    let explain = cli_against(
        &server,
        dir.path(),
        &["explain", "alice@globex.com", "--live", "--format", "json"],
        0,
    );
    let explain: Value = serde_json::from_str(&explain).unwrap();
    let folders = explain["folders"].as_array().unwrap();
    assert_eq!(folders.len(), 2, "{explain}");
    assert!(
        alice.contains(&format!("What alice@globex.com can open ({})", folders.len())),
        "{alice}"
    );
    for folder in folders {
        let granted_by = folder["grants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|grant| {
                format!(
                    "{} share on {} ({}, capped by role {})",
                    grant["principal"].as_str().unwrap(),
                    grant["shared_folder"].as_str().unwrap(),
                    grant["shared_level"].as_str().unwrap(),
                    grant["role"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
        let row = format!(
            "{}</a></td><td>{}</td><td>{}</td><td>{granted_by}</td></tr>",
            folder["folder"].as_str().unwrap(),
            folder["kind"].as_str().unwrap(),
            folder["level"].as_str().unwrap(),
        );
        assert!(alice.contains(&row), "{row} in {alice}");
    }
}

/// The code of `secret` `steps` periods from now.
fn totp_at(secret: &str, steps: i64) -> String {
    use portalctl_server::pages::totp;
    let key = totp::decode_secret(secret).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    totp::hotp(&key, u64::try_from(totp::step_at(now) + steps).unwrap())
}

/// A second sign-in: a new link, followed, leaves the session at `/console/2fa`.
fn link_again(browser: &mut Browser<'_>, email: &str, seen: &mut Vec<String>) {
    browser.get("/console/sign-in");
    let (status, body) = browser.post("/console/sign-in", &[("email", email)]);
    assert_eq!(status, 200, "{body}");
    let token = new_link(browser.server, email, seen);
    seen.push(token.clone());
    browser.get(&format!("/console/link?token={token}"));
    let (status, location) = browser.post("/console/link", &[("token", &token)]);
    assert_eq!((status, location.as_str()), (303, "/console/2fa"));
    assert_eq!(
        browser.get("/console/").1,
        "/console/2fa",
        "nothing before the code"
    );
    let (status, form) = browser.get("/console/2fa");
    assert_eq!(status, 200, "the code form, not the enrolment: {form}");
    assert!(!form.contains("otpauth://"), "{form}");
}

#[test]
fn a_returning_staff_member_signs_in_with_a_code_or_a_recovery_code_used_once() {
    let (server, _dir) = applied();
    let (mut vic, secret, codes) = enrolled(&server, "vic@acme.io");
    assert_eq!(
        codes.len(),
        portalctl_server::pages::two_factor::RECOVERY_CODES,
        "{codes:?}"
    );
    let mut seen = vec![mailed_link(&server, "vic@acme.io")];
    let sign_out = |browser: &mut Browser<'_>| {
        browser.get("/console/");
        assert_eq!(browser.post("/console/sign-out", &[]).0, 303);
        assert_eq!(browser.get("/console/").1, "/console/sign-in");
    };
    sign_out(&mut vic);

    // The link again, then the app's code (the next period's: the enrolment used this one).
    link_again(&mut vic, "vic@acme.io", &mut seen);
    let valid: Vec<String> = (-1..=1).map(|steps| totp_at(&secret, steps)).collect();
    let wrong = (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|code| !valid.contains(code))
        .unwrap();
    assert_eq!(vic.post("/console/2fa", &[("code", &wrong)]).0, 401);
    assert_eq!(
        vic.get("/console/").1,
        "/console/2fa",
        "a wrong code opens nothing"
    );
    let (status, location) = vic.post("/console/2fa", &[("code", &totp_at(&secret, 1))]);
    assert_eq!((status, location.as_str()), (303, "/console/"));
    let (status, overview) = vic.get("/console/");
    assert_eq!(status, 200);
    assert!(overview.contains("vic@acme.io (viewer)"), "{overview}");
    sign_out(&mut vic);

    // A recovery code works once: the second time it is refused, another one works.
    link_again(&mut vic, "vic@acme.io", &mut seen);
    assert_eq!(vic.post("/console/2fa", &[("code", &codes[0])]).1, "/console/");
    assert_eq!(vic.get("/console/").0, 200);
    sign_out(&mut vic);
    link_again(&mut vic, "vic@acme.io", &mut seen);
    assert_eq!(vic.post("/console/2fa", &[("code", &codes[0])]).0, 401);
    assert_eq!(vic.get("/console/").1, "/console/2fa");
    assert_eq!(vic.post("/console/2fa", &[("code", &codes[1])]).1, "/console/");
    assert_eq!(vic.get("/console/").0, 200);
}

#[test]
fn no_other_token_a_partner_session_or_a_removed_staff_member_opens_the_console_and_every_form_needs_its_csrf_token()
 {
    let (server, dir) = applied();
    register(&server, "pat@globex.com");
    // (a) Read, apply and org tokens are not admin tokens: every page and action sends
    // them to the sign-in.
    let token = |args: &[&str]| {
        let mut all = vec!["token", "create"];
        all.extend_from_slice(args);
        cli_against(&server, dir.path(), &all, 0).trim().to_string()
    };
    let tokens = [
        token(&["--name", "reader", "--scope", "read"]),
        token(&["--name", "ci", "--scope", "apply"]),
        token(&["--name", "globex-idp", "--org", "globex", "--scope", "scim"]),
    ];
    for token in &tokens {
        assert!(token.starts_with("pctl_"), "{token}");
        for path in PAGES {
            let response = client().get(server.url(path)).bearer_auth(token).send().unwrap();
            assert_eq!(response.status().as_u16(), 303, "{path}");
            assert_eq!(response.headers()["location"], "/console/sign-in", "{path}");
        }
        for action in ACTIONS {
            let response = client()
                .post(server.url(&format!("/console/actions/{action}")))
                .bearer_auth(token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body("portal=globex&email=pat%40globex.com&confirm=yes&name=x&scope=admin")
                .send()
                .unwrap();
            assert_eq!(response.status().as_u16(), 303, "{action}");
        }
    }
    assert!(is_pending(&server, "pat@globex.com"), "nothing was approved");

    // (b) Without its CSRF token every form is refused, signed in or not.
    let mut ada = signed_in(&server, "ada@acme.io");
    assert_eq!(ada.get("/console/tokens").0, 200);
    let saved = std::mem::take(&mut ada.csrf);
    for action in ACTIONS {
        let (status, _) = ada.post(
            &format!("/console/actions/{action}"),
            &[
                ("portal", "globex"),
                ("email", "pat@globex.com"),
                ("name", "x"),
                ("scope", "admin"),
                ("confirm", "yes"),
            ],
        );
        assert_eq!(status, 403, "{action}");
    }
    assert_eq!(ada.post("/console/sign-out", &[]).0, 403);
    ada.csrf = saved;
    assert_eq!(ada.get("/console/").0, 200, "still signed in");
    assert!(is_pending(&server, "pat@globex.com"), "nothing was approved");
    let mut stranger = Browser::new(&server);
    stranger.get("/console/sign-in");
    stranger.csrf.clear();
    for (path, field) in [
        ("/console/sign-in", ("email", "ada@acme.io")),
        ("/console/link", ("token", "x")),
        ("/console/2fa", ("code", "123456")),
        ("/console/2fa/enrol", ("code", "123456")),
    ] {
        assert_eq!(stranger.post(path, &[field]).0, 403, "{path}");
    }

    // (c) Alice's real partner link, posted to the console, is not a console link and is
    // not used up: it still signs her in to her portal.
    let mut alice = Browser::new(&server);
    alice.get("/p/globex/sign-in");
    alice.post("/p/globex/sign-in", &[("email", "alice@globex.com")]);
    let link = mailed_link(&server, "alice@globex.com");
    alice.get("/console/sign-in");
    let (status, _) = alice.post("/console/link", &[("token", &link)]);
    assert_eq!(status, 404);
    alice.get(&format!("/p/globex/link?token={link}"));
    let (status, location) = alice.post("/p/globex/link", &[("token", &link)]);
    assert_eq!((status, location.as_str()), (303, "/p/globex/"));
    assert_eq!(alice.get("/p/globex/").0, 200);
    // (d) Her session under the console's cookie name acts on nothing.
    let session = alice
        .cookies
        .iter()
        .find(|(name, _)| name.contains("session-globex"))
        .unwrap()
        .1
        .clone();
    alice.cookies.insert("portalctl-console".into(), session);
    alice.get("/console/sign-in");
    for action in ACTIONS {
        let (status, location) = alice.post(
            &format!("/console/actions/{action}"),
            &[
                ("portal", "globex"),
                ("email", "pat@globex.com"),
                ("name", "x"),
                ("scope", "admin"),
                ("confirm", "yes"),
            ],
        );
        assert_eq!((status, location.as_str()), (303, "/console/sign-in"), "{action}");
    }
    assert!(is_pending(&server, "pat@globex.com"), "nothing was approved");

    // (e) Once git no longer names ann, her next page sends her to the sign-in and her
    // session is gone: naming her again does not bring it back.
    let mut ann = signed_in(&server, "ann@acme.io");
    assert_eq!(ann.get("/console/").0, 200);
    let without = CONFIG.replace("    approvers: [ann@acme.io]\n", "");
    assert_ne!(without, CONFIG);
    std::fs::write(dir.path().join("portalctl.yaml"), &without).unwrap();
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    assert_eq!(ann.get("/console/").1, "/console/sign-in");
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    let (status, location) = ann.post(
        "/console/actions/approve",
        &[
            ("portal", "globex"),
            ("email", "pat@globex.com"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!((status, location.as_str()), (303, "/console/sign-in"));
    assert_eq!(ann.get("/console/").1, "/console/sign-in");
    assert!(is_pending(&server, "pat@globex.com"));
}

/// The cells of each row of the table captioned `caption` (its text up to the first `<`
/// of the caption), links reduced to their text.
fn table_rows(html: &str, caption: &str) -> Vec<Vec<String>> {
    let at = html
        .find(&format!("<caption>{caption}"))
        .unwrap_or_else(|| panic!("no table `{caption}` in {html}"));
    let table = &html[at..at + html[at..].find("</table>").unwrap()];
    table
        .split("<tr>")
        .skip(1)
        .filter(|row| row.contains("<td>"))
        .map(|row| {
            row.split("<td>")
                .skip(1)
                .map(|cell| {
                    let cell = cell.split("</td>").next().unwrap();
                    match cell.find("\">") {
                        Some(at) if cell.starts_with("<a ") => {
                            cell[at + 2..].trim_end_matches("</a>").to_string()
                        }
                        _ => cell.to_string(),
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn the_overview_and_the_folder_page_count_what_they_say() {
    let day = |days: i64| (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string();
    let config = format!(
        "\
workspace: {{ name: Acme, owner_domains: [acme.io] }}
partner_orgs:
  globex: {{ domains: [globex.com] }}
  tyrell: {{ domains: [initech.com] }}
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    max_members: 5
    members:
      - {{ email: alice@globex.com, role: viewer, org: globex, expires: {soon} }}
      - {{ email: bob@initech.com, role: viewer, org: tyrell, expires: {later} }}
  initech:
    name: Initech
    color: \"#24A148\"
    logout_url: https://acme.io/bye
    members:
      - {{ email: bob@initech.com, role: viewer, org: tyrell }}
      - {{ email: carl@initech.com, role: viewer, org: tyrell }}
folders:
  /Shared:
    shares: [{{ portal: globex, access: view }}, {{ portal: initech, access: view }}]
  /Tyrell:
    shares: [{{ org: tyrell, access: edit }}]
",
        soon = day(10),
        later = day(40),
    );
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join("config")).unwrap();
    std::fs::write(repo.path().join("config/portalctl.yaml"), config).unwrap();
    let commit = crate::support::commit_config(repo.path(), "the portals");
    let server = ServerGuard::start(ServerOptions::with_admin());
    cli_against(&server, repo.path(), &["apply", "config", "--auto-approve"], 0);
    // Without `--smtp` mail waits in the outbox: the four seats' invitations, then a
    // sign-in link.
    let outbox_line = |count: usize| format!("{count} waiting to be sent, 0 of them after a failed attempt");
    let overview = server.get("/console/").text().unwrap();
    assert!(overview.contains(&outbox_line(4)), "{overview}");
    let mut alice = Browser::new(&server);
    alice.get("/p/globex/sign-in");
    alice.post("/p/globex/sign-in", &[("email", "alice@globex.com")]);
    mailed_link(&server, "alice@globex.com");

    let overview = unescape(&server.get("/console/").text().unwrap());
    assert!(
        overview.contains(&format!("commit {commit} by Rita Reviewer <rita@acme.io>")),
        "{overview}"
    );
    assert_eq!(
        table_rows(&overview, "Portals"),
        [
            ["globex", "Globex", "2", "5"],
            ["initech", "Initech", "2", "unlimited"]
        ]
    );
    assert_eq!(
        table_rows(&overview, "Members expiring in the next 30 days (1)"),
        [["alice@globex.com".to_string(), "globex".into(), day(10)]]
    );
    assert!(overview.contains(&outbox_line(5)), "{overview}");

    // Who can open: counts per org and per portal.
    let shared = server.get("/console/folders?path=/Shared").text().unwrap();
    assert_eq!(
        table_rows(&shared, "Who can open it: 3 partners, per org"),
        [["globex", "1"], ["tyrell", "2"]]
    );
    assert_eq!(
        table_rows(&shared, "Per portal"),
        [["globex", "2"], ["initech", "2"]]
    );
    let tyrell = server.get("/console/folders?path=/Tyrell").text().unwrap();
    assert_eq!(
        table_rows(&tyrell, "Who can open it: 2 partners, per org"),
        [["tyrell", "2"]]
    );
    assert_eq!(
        table_rows(&tyrell, "Per portal"),
        [["globex", "1"], ["initech", "2"]]
    );
}

#[test]
fn try_it_proposes_the_invitation_and_first_sign_in_texts_and_settings_name_their_template() {
    let server = ServerGuard::start(ServerOptions::with_admin());
    let config = server.dir.path().join("config");
    example_with_staff(&config);
    cli_against(
        &server,
        server.dir.path(),
        &["apply", config.to_str().unwrap(), "--auto-approve"],
        0,
    );
    let page = unescape(&server.get("/console/portals/globex").text().unwrap());
    for (field, value) in [
        ("texts.initiation", "Welcome to the Acme partner programme"),
        ("texts.first_login", "Start with the Enablement folder"),
    ] {
        assert!(
            page.contains(&format!(
                "{value} — from the template `partner-default` (declared in git at portal_templates.partner-default.{field})"
            )),
            "{field}: {page}"
        );
    }
    assert!(
        page.contains("<th scope=\"row\">self_registration</th><td>enabled, default role"),
        "{page}"
    );
    assert!(page.contains("<textarea id=\"try-it-first_login\""), "{page}");

    // Both texts tried at once (a textarea posts CRLF): the snippet sets exactly them.
    let query = "initiation=Hello%20Globex&first_login=Read%20the%20Q3%20pack%0D%0Afirst";
    let page = unescape(
        &server
            .get(&format!("/console/portals/globex?{query}"))
            .text()
            .unwrap(),
    );
    let at = page
        .find("data-code=\"yaml\"")
        .unwrap_or_else(|| panic!("{page}"));
    let snippet = &page[at..];
    let snippet = &snippet[snippet.find('>').unwrap() + 1..snippet.find("</pre>").unwrap()];
    assert_eq!(
        snippet,
        "portals:\n  globex:\n    texts:\n      initiation: \"Hello Globex\"\n      first_login: \"Read the Q3 pack\\nfirst\"\n"
    );
    // The home preview shows the first sign-in text as a partner would see it.
    assert!(page.contains("/console/preview/globex/home?"), "{page}");
    let preview = server
        .get(&format!("/console/preview/globex/home?{query}"))
        .text()
        .unwrap();
    assert!(
        preview.contains("First time here") && preview.contains("Read the Q3 pack"),
        "{preview}"
    );
    // Pasted under the portal (the file has no `texts:` of its own), `plan` reports
    // exactly that change.
    let file = config.join("portals/globex.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let body = snippet.strip_prefix("portals:\n  globex:\n").unwrap();
    let pasted = text.replacen(
        "    template: partner-default\n",
        &format!("    template: partner-default\n{body}"),
        1,
    );
    assert_ne!(pasted, text);
    std::fs::write(&file, pasted).unwrap();
    let plan = cli_against(
        &server,
        server.dir.path(),
        &["plan", config.to_str().unwrap(), "--format", "json"],
        2,
    );
    let plan: Value = serde_json::from_str(&plan).unwrap();
    let changes = plan["changes"].as_array().unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(changes.len(), 1, "{plan}");
    let change = changes[0].to_string();
    assert!(
        change.contains("Hello Globex") && change.contains("Read the Q3 pack\\nfirst"),
        "{change}"
    );
}
