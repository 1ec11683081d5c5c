//! Mail through a real SMTP server (aiosmtpd, `mail_harness`): an applied config's
//! invitation arrives with both parts and a link that opens the portal; a server that
//! refuses and then recovers gets each message once; two PostgreSQL replicas deliver each
//! message once; the SMTP password never reaches a log or the outbox; STARTTLS and
//! implicit TLS with `--smtp-ca-file`; `PORTALCTL_SMTP` in place of `--smtp`; without
//! `--smtp` mail waits in the outbox, which `portalctl outbox` shows with its links.

use std::time::{Duration, Instant};

use portalctl_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::mail_harness::{SinkTls, SmtpSink};
use crate::support::{ServerGuard, ServerOptions, cli_against, json, portalctl, stderr, stdout};

const CONFIG: &str = "\
workspace:
  name: Acme
  owner_domains: [acme.io]
partner_orgs:
  globex:
    domains: [globex.com]
portals:
  globex:
    name: Globex Partners
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    texts:
      initiation: Welcome to the Globex partner portal.
    members:
      - email: alice@globex.com
        role: viewer
        org: globex
      - email: bob@globex.com
        role: editor
        org: globex
  quiet:
    name: Quiet
    color: \"#000000\"
    logout_url: https://acme.io/bye
    invitations: false
    members:
      - email: carol@globex.com
        role: viewer
        org: globex
";

const WAIT: Duration = Duration::from_secs(60);

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

/// A workspace, org `globex` and portal `globex`, then `members` members `p{n}@globex.com`.
fn seed(server: &ServerGuard, members: usize) {
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
            json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye"}),
        ),
    ];
    changes.extend((0..members).map(|n| {
        put(
            "member",
            &["globex", &format!("p{n}@globex.com")],
            json!({"role": "viewer", "org": "globex"}),
        )
    }));
    let (status, body) = json(server.post_changes(None, Value::Array(changes)));
    assert_eq!(status, 200, "{body}");
}

fn mail_server(sink: &SmtpSink, options: ServerOptions) -> ServerGuard {
    ServerGuard::start(with_smtp_args(sink, options))
}

fn outbox(server: &ServerGuard) -> Vec<Value> {
    let (status, body) = json(server.get("/v1/outbox?limit=1000"));
    assert_eq!(status, 200, "{body}");
    body["messages"].as_array().cloned().unwrap_or_default()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_applied_invitation_arrives_with_both_parts_and_a_link_to_the_portal() {
    let Some(sink) = SmtpSink::start() else { return };
    let server = mail_server(&sink, ServerOptions::with_admin());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();

    let plan = cli_against(&server, dir.path(), &["plan"], 2);
    assert!(plan.contains("Mail: apply sends 2 invitations."), "{plan}");
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);

    let mails = sink.wait_for(2, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    let mails = if sink.count() == mails.len() {
        mails
    } else {
        sink.messages()
    };
    let mut recipients: Vec<&str> = mails
        .iter()
        .flat_map(|mail| mail.rcpt_tos.iter().map(String::as_str))
        .collect();
    recipients.sort_unstable();
    // carol's portal says `invitations: false`.
    assert_eq!(recipients, ["alice@globex.com", "bob@globex.com"]);

    let alice = mails
        .iter()
        .find(|mail| mail.to.contains("alice@globex.com"))
        .unwrap();
    assert_eq!(alice.subject, "You are invited to Globex Partners");
    assert!(
        alice.from.starts_with("Globex Partners <no-reply@"),
        "{}",
        alice.from
    );
    assert!(alice.mail_from.starts_with("no-reply@"), "{}", alice.mail_from);
    let text = alice.text.as_deref().expect("a text part");
    let html = alice.html.as_deref().expect("an HTML part");
    assert!(text.contains("Welcome to the Globex partner portal."), "{text}");
    let link = alice.text_link().expect("a link in the text part");
    assert_eq!(link, format!("{}/p/globex/", server.base));
    assert!(html.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(html.contains("background:#0F62FE"), "{html}");

    // The link opens the portal's sign-in page.
    let page = crate::support::client().get(&link).send().unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().unwrap();
    assert!(body.contains("Globex Partners"), "{body}");

    // The outbox says they were sent, and `portalctl outbox` shows them with their links.
    wait_until("both invitations are marked sent", || {
        outbox(&server)
            .iter()
            .filter(|message| !message["sent_at"].is_null())
            .count()
            == 2
    });
    let listing = cli_against(&server, dir.path(), &["outbox"], 0);
    assert!(
        listing.contains("invitation  to alice@globex.com  portal globex  sent "),
        "{listing}"
    );
    assert!(listing.contains(&format!("link: {link}")), "{listing}");
    let document: Value = serde_json::from_str(&cli_against(
        &server,
        dir.path(),
        &["outbox", "--format", "json"],
        0,
    ))
    .unwrap();
    assert_eq!(document["format_version"], 1);
    assert_eq!(document["messages"][0]["links"][0], Value::String(link));

    // A second apply changes nothing and sends nothing.
    cli_against(&server, dir.path(), &["apply", "--auto-approve"], 0);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(sink.count(), 2);
}

#[test]
fn a_refusing_smtp_server_is_retried_and_each_message_delivered_once() {
    let Some(sink) = SmtpSink::start() else { return };
    sink.refuse(true);
    let server = mail_server(&sink, ServerOptions::with_admin());
    seed(&server, 5);
    wait_until("every message failed at least twice", || {
        let messages = outbox(&server);
        messages.len() == 5
            && messages
                .iter()
                .all(|message| message["attempts"].as_u64() >= Some(2) && !message["last_error"].is_null())
    });
    let error = outbox(&server)[0]["last_error"].as_str().unwrap().to_string();
    assert!(error.contains("451"), "{error}");
    assert_eq!(sink.count(), 0);

    sink.refuse(false);
    let mails = sink.wait_for(5, WAIT);
    wait_until("every message is marked sent", || {
        outbox(&server)
            .iter()
            .all(|message| !message["sent_at"].is_null())
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sink.count(), 5, "{:?}", sink.messages());
    let mut ids: Vec<&str> = mails.iter().map(|mail| mail.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    assert!(
        outbox(&server)
            .iter()
            .all(|message| message["last_error"].is_null())
    );
}

#[test]
fn two_postgres_replicas_deliver_each_message_once() {
    let Some(sink) = SmtpSink::start() else { return };
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let options = || ServerOptions {
        db: Some(database.url().expose().to_string()),
        ..ServerOptions::with_admin()
    };
    let first = mail_server(&sink, options());
    let second = mail_server(&sink, options());
    // Two batches, one through each replica, while both send.
    seed(&first, 150);
    let more: Vec<Value> = (150..300)
        .map(|n| {
            put(
                "member",
                &["globex", &format!("p{n}@globex.com")],
                json!({"role": "viewer", "org": "globex"}),
            )
        })
        .collect();
    let (status, body) = json(second.post_changes(None, Value::Array(more)));
    assert_eq!(status, 200, "{body}");

    sink.wait_for(300, WAIT);
    wait_until("every message is marked sent", || {
        let messages = outbox(&second);
        messages.len() == 300 && messages.iter().all(|message| !message["sent_at"].is_null())
    });
    std::thread::sleep(Duration::from_millis(500));
    let mails = sink.messages();
    let mut recipients: Vec<String> = mails.iter().flat_map(|mail| mail.rcpt_tos.clone()).collect();
    recipients.sort();
    let total = recipients.len();
    recipients.dedup();
    assert_eq!(
        (total, recipients.len()),
        (300, 300),
        "each member got exactly one invitation"
    );
}

#[test]
fn the_smtp_password_never_reaches_a_log_or_the_outbox() {
    const PASSWORD: &str = "sm7p-S3CRET-pw";
    let Some(sink) = SmtpSink::start_with(Some(("mailer", PASSWORD))) else {
        return;
    };
    let env = |password: &str| {
        vec![
            ("PORTALCTL_SMTP_USER".to_string(), "mailer".to_string()),
            ("PORTALCTL_SMTP_PASSWORD".to_string(), password.to_string()),
            ("RUST_LOG".to_string(), "trace".to_string()),
        ]
    };
    let right = mail_server(
        &sink,
        ServerOptions {
            env: env(PASSWORD),
            ..ServerOptions::with_admin()
        },
    );
    seed(&right, 1);
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(mails[0].login.as_deref(), Some("mailer"));

    // A wrong password is refused: the error is recorded, without the password.
    const WRONG: &str = "wrong-Pa55word-xyz";
    let wrong = mail_server(
        &sink,
        ServerOptions {
            env: env(WRONG),
            ..ServerOptions::with_admin()
        },
    );
    seed(&wrong, 1);
    wait_until("the refused login is recorded", || {
        outbox(&wrong)
            .first()
            .is_some_and(|message| !message["last_error"].is_null())
    });
    std::thread::sleep(Duration::from_millis(300));
    for (server, password) in [(&right, PASSWORD), (&wrong, WRONG)] {
        let log = server.stderr();
        assert!(log.contains("mail"), "{log}");
        assert!(!log.contains(password), "the log shows the SMTP password:\n{log}");
        let listing = server.get("/v1/outbox").text().unwrap();
        assert!(!listing.contains(password), "{listing}");
    }
    assert_eq!(sink.count(), 1);
}

#[test]
fn without_smtp_mail_waits_in_the_outbox_of_the_embedded_target() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), CONFIG).unwrap();
    let applied = portalctl(dir.path(), &["apply", "--auto-approve"]);
    assert_eq!(applied.status.code(), Some(0), "{}", stderr(&applied));
    let listed = portalctl(dir.path(), &["outbox", "--unsent"]);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(
        text.contains("invitation  to alice@globex.com  portal globex  unsent"),
        "{text}"
    );
    assert!(text.contains("link: http://127.0.0.1:7878/p/globex/"), "{text}");
    assert!(!text.contains("carol@globex.com"), "{text}");
}

#[test]
fn serve_refuses_to_mail_loopback_links_from_a_public_address() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let refused = ServerGuard::try_start_in(
        std::sync::Arc::clone(&dir),
        ServerOptions {
            listen: Some("0.0.0.0:0".into()),
            extra_args: vec!["--smtp".into(), "smtp://127.0.0.1:9".into()],
            ..ServerOptions::with_admin()
        },
    )
    .err()
    .expect("serve refuses to start");
    assert!(
        refused.contains("refusing to send mail with links to `http://0.0.0.0:0`"),
        "{refused}"
    );
    assert!(refused.contains("--public-url"), "{refused}");
    let refused = ServerGuard::try_start_in(
        dir,
        ServerOptions {
            listen: Some("0.0.0.0:0".into()),
            extra_args: vec![
                "--smtp".into(),
                "smtp://127.0.0.1:9".into(),
                "--public-url".into(),
                "http://localhost:7878".into(),
            ],
            ..ServerOptions::with_admin()
        },
    )
    .err()
    .expect("serve refuses to start");
    assert!(refused.contains("`http://localhost:7878`"), "{refused}");
}

#[test]
fn a_bad_smtp_url_is_refused_at_start_without_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(
        dir.path(),
        &[
            "serve",
            "--smtp",
            "smtp://mailer:hunter2@mail.acme.io",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("PORTALCTL_SMTP_PASSWORD"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn an_approval_and_a_refusal_each_mail_the_registrant_once() {
    let Some(sink) = SmtpSink::start() else { return };
    let server = mail_server(&sink, ServerOptions::with_admin());
    seed(&server, 0);
    let registration = json!({
        "name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
        "removal_notice": true,
        "self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": ["globex.com"], "approval": "required"}
    });
    let (status, body) = json(server.post_changes(None, json!([put("portal", &["globex"], registration)])));
    assert_eq!(status, 200, "{body}");
    for email in ["yes@globex.com", "no@globex.com"] {
        let (status, body) = json(server.send_json(
            reqwest::Method::POST,
            "/v1/portals/globex/self-register",
            &json!({"email": email}),
        ));
        assert_eq!(status, 202, "{body}");
    }
    let (status, body) = json(server.send_json(
        reqwest::Method::POST,
        "/v1/portals/globex/members/yes@globex.com/approve",
        &json!({}),
    ));
    assert_eq!(status, 200, "{body}");
    let response = server
        .request(
            reqwest::Method::DELETE,
            "/v1/portals/globex/members/no@globex.com",
        )
        .send()
        .unwrap();
    assert!(
        response.status().is_success(),
        "{}",
        response.text().unwrap_or_default()
    );

    let mails = sink.wait_for(2, WAIT);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(sink.count(), 2, "{:?}", sink.messages());
    let approved = mails
        .iter()
        .find(|mail| mail.to.contains("yes@globex.com"))
        .expect("the approval");
    assert_eq!(approved.subject, "Your access to Globex is approved");
    assert_eq!(approved.text_link(), Some(format!("{}/p/globex/", server.base)));
    let refused = mails
        .iter()
        .find(|mail| mail.to.contains("no@globex.com"))
        .expect("the refusal");
    assert_eq!(refused.subject, "Your registration for Globex was not approved");
    assert!(refused.text_link().is_none());

    // A granting member removed from a portal with `removal_notice: true` is told.
    let response = server
        .request(
            reqwest::Method::DELETE,
            "/v1/portals/globex/members/yes@globex.com",
        )
        .send()
        .unwrap();
    assert!(response.status().is_success());
    let mails = sink.wait_for(3, WAIT);
    assert!(
        mails
            .iter()
            .any(|mail| mail.subject == "Your access to Globex has ended")
    );
}

/// Acceptance 3 of issue 22, the kill half: `serve` killed with SIGKILL in the middle of a
/// burst, then restarted on the same database, loses nothing, and sends twice at most what
/// its sender threads had claimed (4 threads × 16 messages).
#[test]
fn a_sender_killed_midway_loses_nothing_and_resends_at_most_what_was_in_flight() {
    const MESSAGES: usize = 600;
    const IN_FLIGHT: usize = 4 * 16;
    let Some(sink) = SmtpSink::start() else { return };
    let options = || {
        let mut options = ServerOptions::with_admin();
        // The killed process's claims come back after 2 s instead of 120.
        options
            .extra_args
            .extend(["--mail-lease-secs".to_string(), "2".into()]);
        options
    };
    let mut server = mail_server(&sink, options());
    seed(&server, MESSAGES);
    wait_until("a tenth of the burst was accepted", || {
        sink.count() >= MESSAGES / 10
    });
    server.kill();
    let at_kill = sink.count();
    assert!(
        at_kill < MESSAGES,
        "the burst ended before the kill: nothing was in flight"
    );

    let server = ServerGuard::start_in(
        std::sync::Arc::clone(&server.dir),
        with_smtp_args(&sink, options()),
    );
    wait_until("every message is marked sent", || {
        let messages = outbox(&server);
        messages.len() == MESSAGES && messages.iter().all(|message| !message["sent_at"].is_null())
    });
    let mut received: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for mail in sink.messages() {
        for to in mail.rcpt_tos {
            *received.entry(to).or_default() += 1;
        }
    }
    let lost: Vec<String> = (0..MESSAGES)
        .map(|n| format!("p{n}@globex.com"))
        .filter(|email| !received.contains_key(email))
        .collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    let twice: usize = received.values().map(|count| count - 1).sum();
    assert!(
        twice <= IN_FLIGHT,
        "{twice} sent twice, more than the {IN_FLIGHT} in flight (killed at {at_kill} accepted)"
    );
    assert_eq!(received.len(), MESSAGES);
}

/// `options` with the sink's `--smtp` and a short retry base, as [`mail_server`] sets.
fn with_smtp_args(sink: &SmtpSink, mut options: ServerOptions) -> ServerOptions {
    options.extra_args.extend([
        "--smtp".to_string(),
        sink.url.clone(),
        "--mail-retry-base-ms".into(),
        "100".into(),
    ]);
    options
}

/// STARTTLS (`smtp+starttls://`) and implicit TLS (`smtps://`) to a server whose
/// certificate only `--smtp-ca-file` vouches for, with AUTH; without the CA file the
/// certificate is refused, and the error is recorded on the message.
#[test]
fn mail_goes_over_starttls_and_implicit_tls_trusting_the_ca_file() {
    for tls in [SinkTls::StartTls, SinkTls::Implicit] {
        let Some(sink) = SmtpSink::start_with_tls(Some(("mailer", "tls-Pa55")), Some(tls)) else {
            return;
        };
        let options = |ca_file: bool| {
            let mut args = vec![
                "--smtp".to_string(),
                sink.url.clone(),
                "--mail-retry-base-ms".into(),
                "100".into(),
            ];
            if ca_file {
                args.extend(["--smtp-ca-file".to_string(), sink.ca_file().display().to_string()]);
            }
            ServerOptions {
                extra_args: args,
                env: vec![
                    ("PORTALCTL_SMTP_USER".to_string(), "mailer".to_string()),
                    ("PORTALCTL_SMTP_PASSWORD".to_string(), "tls-Pa55".to_string()),
                ],
                ..ServerOptions::with_admin()
            }
        };
        let untrusted = ServerGuard::start(options(false));
        seed(&untrusted, 1);
        wait_until("the untrusted certificate is recorded", || {
            outbox(&untrusted)
                .first()
                .is_some_and(|message| !message["last_error"].is_null())
        });
        let error = outbox(&untrusted)[0]["last_error"].as_str().unwrap().to_string();
        assert!(error.to_lowercase().contains("certificate"), "{tls:?}: {error}");
        assert!(!error.contains("tls-Pa55"), "{error}");
        assert_eq!(
            sink.count(),
            0,
            "{tls:?}: nothing delivered to an untrusted server"
        );

        let server = ServerGuard::start(options(true));
        seed(&server, 2);
        let mails = sink.wait_for(2, WAIT);
        assert!(sink.url.starts_with(match tls {
            SinkTls::StartTls => "smtp+starttls://",
            SinkTls::Implicit => "smtps://",
        }));
        let mut recipients: Vec<&str> = mails.iter().map(|mail| mail.rcpt_tos[0].as_str()).collect();
        recipients.sort_unstable();
        assert_eq!(recipients, ["p0@globex.com", "p1@globex.com"], "{tls:?}");
        assert!(
            mails.iter().all(|mail| mail.login.as_deref() == Some("mailer")),
            "{tls:?}: AUTH over TLS"
        );
        wait_until("both messages are marked sent", || {
            outbox(&server)
                .iter()
                .all(|message| !message["sent_at"].is_null())
        });
    }
}

/// `smtp+starttls://` requires STARTTLS: a server that does not offer it gets no message
/// (nothing goes in clear), and the message records why.
#[test]
fn a_server_without_starttls_is_refused_when_the_url_requires_it() {
    let Some(sink) = SmtpSink::start() else { return };
    let url = sink.url.replace("smtp://", "smtp+starttls://");
    let server = ServerGuard::start(ServerOptions {
        extra_args: vec!["--smtp".into(), url, "--mail-retry-base-ms".into(), "100".into()],
        ..ServerOptions::with_admin()
    });
    seed(&server, 1);
    wait_until("the refusal is recorded", || {
        outbox(&server).first().is_some_and(|message| {
            message["attempts"].as_u64() >= Some(2) && !message["last_error"].is_null()
        })
    });
    let message = &outbox(&server)[0];
    assert!(message["sent_at"].is_null(), "{message}");
    let error = message["last_error"].as_str().unwrap().to_lowercase();
    assert!(error.contains("tls"), "{error}");
    assert_eq!(sink.count(), 0);
}

/// `PORTALCTL_SMTP` stands for `--smtp`.
#[test]
fn portalctl_smtp_in_the_environment_sends_like_the_flag() {
    let Some(sink) = SmtpSink::start() else { return };
    let server = ServerGuard::start(ServerOptions {
        env: vec![("PORTALCTL_SMTP".to_string(), sink.url.clone())],
        extra_args: vec!["--mail-retry-base-ms".into(), "100".into()],
        ..ServerOptions::with_admin()
    });
    seed(&server, 1);
    let mails = sink.wait_for(1, WAIT);
    assert_eq!(mails[0].rcpt_tos, ["p0@globex.com"]);
}
