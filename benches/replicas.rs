//! A benchmark of two `portalctl serve` replicas on one PostgreSQL database at 100k
//! members, over real HTTP against the real binary (it prints figures, it asserts none).
//!
//! Run with `PORTALCTL_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test cargo bench
//! --bench replicas`; without the variable it says it was skipped. It creates a database
//! with a random name and drops it after. It measures:
//! - `apply` from empty: `POST /v1/changes` with the whole roster in one batch;
//! - replica start-up on the 100k database (until it listens);
//! - one small write (`PUT` of one member) p50/p99, one writer;
//! - writes/s with 8 writers, four on each replica, their p50/p99 and how many were
//!   answered `503 contended` (issue 26: ≥ 1,500 writes/s, none contended, p99 ≤ 20 ms);
//! - catch-up delay: a write on A until an access check on B sees it (p50/max);
//! - access check latency on B (p50/p99), served from memory.
//!
//! `MEMBERS=N` changes the roster size; `cargo bench -- --test` runs 1,000 once (smoke).

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use portalctl_store::testing::TestDatabase;
use serde_json::{Value, json};

const TOKEN: &str = "bench-token";

struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A replica on `url`, and how long it took to listen.
fn start(url: &str) -> (Server, Duration) {
    use std::io::BufRead;
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["serve", "--db", url, "--listen", "127.0.0.1:0"])
        .env("PORTALCTL_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("portalctl starts");
    let stderr = child.stderr.take().expect("piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("listening on ") {
                let _ = sender.send(address.trim().to_string());
            }
        }
    });
    let base = receiver
        .recv_timeout(Duration::from_secs(120))
        .expect("the server announces its address");
    (Server { child, base }, started.elapsed())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    millis(sorted[at])
}

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

fn client() -> reqwest::blocking::Client {
    portalctl_client::http_client_builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("a client")
}

/// `PUT`s one member as a client of the service should: a `503 contended` (other writers
/// kept committing first; nothing was stored) is retried after a short pause, and counted.
/// Returns the time until the write was stored.
fn put_member(client: &reqwest::blocking::Client, server: &Server, email: &str) -> Duration {
    let started = Instant::now();
    for attempt in 1..=20u64 {
        let response = client
            .put(format!("{}/v1/portals/globex/members/{email}", server.base))
            .bearer_auth(TOKEN)
            .json(&json!({"role": "viewer", "org": "globex"}))
            .send()
            .expect("answered");
        let status = response.status();
        if status.is_success() {
            return started.elapsed();
        }
        let body = response.text().unwrap_or_default();
        assert!(
            status == reqwest::StatusCode::SERVICE_UNAVAILABLE && body.contains("\"contended\""),
            "{status}: {body}"
        );
        CONTENDED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(5 * attempt));
    }
    panic!("{email}: still contended after 20 attempts");
}

/// How many writes were answered `503 contended` and retried.
static CONTENDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn allowed(client: &reqwest::blocking::Client, server: &Server, email: &str) -> bool {
    let body: Value = client
        .get(format!(
            "{}/v1/access/{email}/check?folder=/Partners/Team",
            server.base
        ))
        .bearer_auth(TOKEN)
        .send()
        .expect("answered")
        .json()
        .expect("json");
    body["allowed"].as_bool().unwrap_or(false)
}

fn main() {
    let smoke = std::env::args().any(|arg| arg == "--test");
    let Some(database) = TestDatabase::create() else {
        return;
    };
    let members: usize = std::env::var("MEMBERS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(if smoke { 1_000 } else { 100_000 });
    let url = database.url().expose().to_string();
    let (a, _) = start(&url);
    let client = client();
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
            json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye", "invitations": false}),
        ),
        put("folder", &["/Partners/Team"], json!({})),
    ];
    changes.extend((0..members).map(|n| {
        put(
            "member",
            &["globex", &format!("p{n}@globex.com")],
            json!({"role": "viewer", "org": "globex"}),
        )
    }));
    let started = Instant::now();
    let response = client
        .post(format!("{}/v1/changes", a.base))
        .bearer_auth(TOKEN)
        .json(&json!({"expected_revision": 0, "changes": changes}))
        .send()
        .expect("answered");
    assert!(response.status().is_success(), "{}", response.status());
    println!(
        "apply from empty ({members} members): {:.0} ms",
        millis(started.elapsed())
    );
    let (b, startup) = start(&url);
    println!("replica start-up on {members} members: {:.0} ms", millis(startup));
    let b = Arc::new(b);
    let a = Arc::new(a);

    let sequential = if smoke { 40 } else { 200 };
    let mut latencies: Vec<Duration> = (0..sequential)
        .map(|n| put_member(&client, &a, &format!("seq{n}@globex.com")))
        .collect();
    latencies.sort();
    println!(
        "small write, one writer ({sequential}): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );

    let total = if smoke { 80 } else { 2000 };
    let started = Instant::now();
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let server = Arc::clone(if writer % 2 == 0 { &a } else { &b });
            std::thread::spawn(move || {
                let client = client_for_thread();
                (0..total / 8)
                    .map(|n| put_member(&client, &server, &format!("w{writer}-{n}@globex.com")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    for writer in writers {
        latencies.extend(writer.join().expect("a writer"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    // Issue 26's targets: ≥ 1,500 writes/s, no 503 `contended` in a quiet run, p99 ≤ 20 ms.
    println!(
        "8 writers across two replicas ({total} writes): {:.0} writes/s, p50 {:.2} ms, p99 {:.2} ms ({} answered 503 contended and retried); load average {}",
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        CONTENDED.load(std::sync::atomic::Ordering::Relaxed),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split(' ')
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    let rounds = if smoke { 5 } else { 30 };
    let mut delays = Vec::new();
    for round in 0..rounds {
        let email = format!("seq{round}@globex.com");
        let share = put(
            "share",
            &["/Partners/Team", &format!("user:{email}")],
            json!({"access": "view"}),
        );
        let written = Instant::now();
        let response = client
            .post(format!("{}/v1/changes", a.base))
            .bearer_auth(TOKEN)
            .json(&json!({"changes": [share]}))
            .send()
            .expect("answered");
        assert!(response.status().is_success(), "{}", response.status());
        let after_write = written.elapsed();
        while !allowed(&client, &b, &email) {
            assert!(written.elapsed() < Duration::from_secs(5), "B never caught up");
            std::thread::sleep(Duration::from_millis(1));
        }
        delays.push(written.elapsed().saturating_sub(after_write));
    }
    delays.sort();
    println!(
        "catch-up delay A -> B ({rounds} writes): p50 {:.1} ms, max {:.1} ms",
        percentile(&delays, 0.5),
        millis(*delays.last().expect("a delay"))
    );

    let checks = if smoke { 100 } else { 2000 };
    let mut latencies: Vec<Duration> = (0..checks)
        .map(|n| {
            let started = Instant::now();
            let _ = allowed(&client, &b, &format!("p{}@globex.com", n % members));
            started.elapsed()
        })
        .collect();
    latencies.sort();
    println!(
        "access check on B ({checks}): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99)
    );
}

fn client_for_thread() -> reqwest::blocking::Client {
    client()
}
