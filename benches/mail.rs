//! A benchmark of the outbox's sender through a real SMTP server (aiosmtpd,
//! `tests/support/mail_sink.py`), against the real binary (it prints figures, and checks
//! only that nothing is lost and that duplicates stay within what was in flight).
//!
//! Run with `cargo bench --bench mail`; `MESSAGES=N` changes the burst (default 10,000);
//! `cargo bench -- --test` runs 200 once (smoke). Without aiosmtpd (`.ci/run` installs it
//! into `.ci/.venv`) it says it was skipped, unless `PORTALCTL_REQUIRE_TOOLS=1`. It measures:
//! - the apply of a batch adding N members to a portal with invitations (the commit that
//!   also enqueues N invitations in its transaction);
//! - the burst: from that commit until the SMTP server has accepted all N (messages/s);
//! - a `kill -9` of `serve` once half were accepted, and a restart on the same database:
//!   then every member has its invitation (nothing lost), and the messages sent twice are
//!   at most those in flight at the kill (sender threads × messages each claims).

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TOKEN: &str = "bench-token";
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// What the sender may hold in flight: 4 threads claiming 16 messages each.
const IN_FLIGHT: usize = 4 * 16;

struct Process {
    child: Child,
    /// What it announced: `http://ADDR` for serve, `ADDR` for the sink.
    address: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` and waits for it to print `listening on ADDR` on `stdout` or stderr.
fn start(mut command: Command, on_stderr: bool) -> Process {
    if on_stderr {
        command.stdout(Stdio::null()).stderr(Stdio::piped());
    } else {
        command.stdout(Stdio::piped()).stderr(Stdio::null());
    }
    let mut child = command.stdin(Stdio::null()).spawn().expect("the process starts");
    let pipe: Box<dyn std::io::Read + Send> = if on_stderr {
        Box::new(child.stderr.take().expect("piped"))
    } else {
        Box::new(child.stdout.take().expect("piped"))
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("listening on ") {
                let _ = sender.send(address.trim().to_string());
            }
        }
    });
    let address = receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the process announces its address");
    Process { child, address }
}

fn python() -> Option<PathBuf> {
    let candidates = std::env::var_os("PORTALCTL_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            Path::new(ROOT).join(".ci/.venv/bin/python"),
            PathBuf::from("python3"),
        ]);
    for candidate in candidates {
        let imports = Command::new(&candidate)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if imports {
            return Some(candidate);
        }
    }
    None
}

fn sink(python: &Path, dir: &Path) -> Process {
    let mut command = Command::new(python);
    command
        .arg(Path::new(ROOT).join("tests/support/mail_sink.py"))
        .arg(dir);
    start(command, false)
}

fn serve(db: &Path, smtp: &str) -> Process {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portalctl"));
    command
        .arg("serve")
        .arg("--db")
        .arg(db)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--smtp",
            smtp,
            "--mail-lease-secs",
            "5",
        ])
        .env("PORTALCTL_TOKEN", TOKEN)
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1");
    start(command, true)
}

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

/// Adds `messages` members to a new portal through one `POST /v1/changes`; returns how long
/// the commit took.
fn apply(server: &Process, messages: usize) -> Duration {
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
    changes.extend((0..messages).map(|n| {
        put(
            "member",
            &["globex", &format!("p{n}@globex.com")],
            json!({"role": "viewer", "org": "globex"}),
        )
    }));
    let body = json!({"expected_revision": null, "changes": changes});
    let started = Instant::now();
    let response = portalctl_client::http_client_builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("a client")
        .post(format!("{}/v1/changes", server.address))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .expect("answered");
    assert!(
        response.status().is_success(),
        "{}",
        response.text().unwrap_or_default()
    );
    started.elapsed()
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "json"))
            .count()
    })
}

fn wait_for(dir: &Path, at_least: usize, timeout: Duration) {
    let started = Instant::now();
    while count(dir) < at_least {
        assert!(
            started.elapsed() < timeout,
            "{} of {at_least} message(s) arrived in {timeout:?}",
            count(dir)
        );
        // Not faster: listing 10,000 files takes CPU from the sender and the SMTP server.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many messages each recipient received.
fn received(dir: &Path) -> BTreeMap<String, usize> {
    let mut by_recipient = BTreeMap::new();
    for entry in std::fs::read_dir(dir)
        .expect("the sink's directory")
        .filter_map(Result::ok)
    {
        if entry.path().extension().is_none_or(|ext| ext != "json") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("a stored message");
        let mail: Value = serde_json::from_str(&text).expect("JSON");
        for recipient in mail["rcpt_tos"].as_array().into_iter().flatten() {
            *by_recipient
                .entry(recipient.as_str().unwrap_or_default().to_string())
                .or_insert(0) += 1;
        }
    }
    by_recipient
}

fn main() {
    let smoke = std::env::args().any(|arg| arg == "--test");
    let messages: usize = if smoke {
        200
    } else {
        std::env::var("MESSAGES")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(10_000)
    };
    let Some(python) = python() else {
        assert!(
            std::env::var("PORTALCTL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "no Python with aiosmtpd and PORTALCTL_REQUIRE_TOOLS=1"
        );
        println!("mail: skipped: install aiosmtpd into .ci/.venv (.ci/run does)");
        return;
    };
    let timeout = Duration::from_secs(600);

    // The burst.
    let dir = tempfile::tempdir().expect("a temp dir");
    let inbox = dir.path().join("inbox");
    std::fs::create_dir(&inbox).expect("the inbox");
    let smtp = sink(&python, &inbox);
    let server = serve(&dir.path().join("burst.db"), &format!("smtp://{}", smtp.address));
    let applied = apply(&server, messages);
    let started = Instant::now();
    wait_for(&inbox, messages, timeout);
    let drained = started.elapsed();
    drop(server);
    println!(
        "mail burst: {messages} invitations; apply (commit + enqueue) {:.0} ms; drained in {:.2} s: {:.0} messages/s",
        applied.as_secs_f64() * 1000.0,
        drained.as_secs_f64(),
        messages as f64 / drained.as_secs_f64()
    );

    // kill -9 midway, then a restart on the same database.
    let inbox = dir.path().join("inbox-kill");
    std::fs::create_dir(&inbox).expect("the inbox");
    let smtp = sink(&python, &inbox);
    let url = format!("smtp://{}", smtp.address);
    let db = dir.path().join("kill.db");
    let mut server = serve(&db, &url);
    apply(&server, messages);
    wait_for(&inbox, messages / 2, timeout);
    let _ = server.child.kill();
    let _ = server.child.wait();
    let at_kill = count(&inbox);
    let restarted = Instant::now();
    let server = serve(&db, &url);
    let client = portalctl_client::http_client_builder().build().expect("a client");
    loop {
        let unsent: Value = client
            .get(format!("{}/v1/outbox?unsent=true&limit=1", server.address))
            .bearer_auth(TOKEN)
            .send()
            .and_then(reqwest::blocking::Response::json)
            .expect("the outbox");
        if unsent["messages"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(
            restarted.elapsed() < timeout,
            "the outbox did not drain after the restart"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let by_recipient = received(&inbox);
    let total: usize = by_recipient.values().sum();
    let lost = messages - by_recipient.len();
    let twice = total - by_recipient.len();
    println!(
        "mail kill -9: killed with {at_kill} of {messages} accepted; after the restart {} s: {} recipients, {lost} lost, {twice} sent twice (in flight at most {IN_FLIGHT})",
        restarted.elapsed().as_secs(),
        by_recipient.len()
    );
    assert_eq!(lost, 0, "invitations lost across a kill -9");
    assert!(twice <= IN_FLIGHT, "{twice} duplicates: more than were in flight");
    assert!(by_recipient.values().all(|count| *count <= 2));
}
