//! Every small write of the service, on every config shape (issue 26): what one member,
//! group entry, share, folder, portal, org, role, attribute or self-registration costs at
//! 100k partners, server-side (the store's commit: the batch applied, the rules it may
//! break, the access index, the durable SQLite transaction and its audit row) and over
//! HTTP from one client against `portalctl serve` on the same database (not a timed test:
//! it prints p50/p99, it does not assert them).
//!
//! `cargo bench --bench writes` (release). `PARTNERS=N` changes the size (default 100k),
//! `SHAPES=realistic,wide` the shapes (default all three: `portalctl_testdata::Layout`),
//! `WRITES=N` the writes per path (default 200 server-side, 100 over HTTP),
//! `ONLY=org,attribute` the paths whose names start with one of these (default all; a
//! path may rely on an earlier one's writes: `member DELETE` on `member PUT (new)`'s).
//! `cargo bench --bench writes -- --test` (CI's smoke mode) runs 2,000 partners and a few
//! writes per path, so the benchmark cannot rot.
//!
//! Targets (issue 26) at 100k on every shape: server-side p50 ≤ 1 ms, p99 ≤ 5 ms for
//! every path; over HTTP from one client, p50 ≤ 2 ms.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use portalctl_core::api::ChangeMeta;
use portalctl_core::config::{MemorySource, load};
use portalctl_core::model::{CalendarDate, Kind, State};
use portalctl_store::{CommitError, Store};
use portalctl_testdata::writes::{self, Edit, PATHS, Step, step};
use portalctl_testdata::{Layout, Shape, generate};
use serde_json::json;

/// The shipped binary's allocator (`src/main.rs`), so that what is measured in-process is
/// what `portalctl` and `serve` pay: under glibc's malloc a third of a large group's commit
/// was in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TOKEN: &str = "bench-token";

fn today() -> CalendarDate {
    portalctl_server::today()
}

/// The state of `shape`, prepared for the write paths.
fn loaded(shape: Shape) -> State {
    let mut source = MemorySource::default();
    for (path, text) in &generate(shape) {
        source = source.with(path, text);
    }
    let loaded = load(&source, today()).expect("the generated config loads");
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
    let mut state = loaded.state.without_expired(today()).into_owned();
    writes::prepare(&mut state);
    state
}

/// Commits `step` on the store the way the service's handler does: read the current
/// value, make the new one, commit it on exactly that state.
fn commit(store: &Store, step: &Step) -> Result<u64, CommitError> {
    store.commit_with(&ChangeMeta::default(), "bench", today(), |state, _| {
        Ok::<_, CommitError>(step.changes(state))
    })
}

/// The request the service gets for `step`.
fn send(client: &reqwest::blocking::Client, base: &str, step: &Step) -> reqwest::StatusCode {
    let path = |parts: &[String]| parts.join("/");
    let request = match (&step.kind, &step.edit) {
        (_, Edit::Register { portal, email }) => client
            .post(format!("{base}/v1/portals/{portal}/self-register"))
            .json(&json!({"email": email, "attributes": {"tenant_id": "t-self"}})),
        (Kind::Group, Edit::GroupAdd(email)) => {
            client.put(format!("{base}/v1/groups/{}/members/{email}", step.parts[0]))
        }
        (Kind::Group, Edit::GroupRemove(email)) => {
            client.delete(format!("{base}/v1/groups/{}/members/{email}", step.parts[0]))
        }
        (kind, edit) => {
            let url = match kind {
                Kind::Member => format!("{base}/v1/portals/{}/members/{}", step.parts[0], step.parts[1]),
                Kind::Share => format!("{base}/v1/shares/{}{}", step.parts[1], step.parts[0]),
                Kind::Folder => format!("{base}/v1/folders{}", step.parts[0]),
                Kind::Portal => format!("{base}/v1/portals/{}", path(&step.parts)),
                Kind::PartnerOrg => format!("{base}/v1/partner_orgs/{}", path(&step.parts)),
                Kind::Role => format!("{base}/v1/roles/{}", path(&step.parts)),
                Kind::Attribute => format!("{base}/v1/attributes/{}", path(&step.parts)),
                other => unreachable!("no write of {other:?} here"),
            };
            match edit {
                Edit::Put(body) => client.put(url).json(body),
                Edit::Patch(body) => client.patch(url).json(body),
                Edit::Delete => client.delete(url),
                Edit::GroupAdd(_) | Edit::GroupRemove(_) | Edit::Register { .. } => {
                    unreachable!("handled above")
                }
            }
        }
    };
    let response = request.bearer_auth(TOKEN).send().expect("answered");
    let status = response.status();
    let body = response.text().unwrap_or_default();
    assert!(status.is_success(), "{status}: {}", &body[..body.len().min(500)]);
    status
}

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

fn serve(db: &std::path::Path) -> Server {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .arg("serve")
        .arg("--db")
        .arg(db)
        .args(["--listen", "127.0.0.1:0"])
        // Self-registrations are rate-limited (10 a minute per client by default): the
        // benchmark times them, one after another, from one address.
        .args([
            "--self-register-per-portal",
            "0",
            "--self-register-per-client",
            "0",
        ])
        .env("PORTALCTL_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
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
    Server { child, base }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

/// p50 and p99 in ms of `timings`.
fn summary(mut timings: Vec<Duration>) -> (f64, f64) {
    timings.sort();
    (percentile(&timings, 0.5), percentile(&timings, 0.99))
}

fn main() {
    let smoke = std::env::args().any(|arg| arg == "--test");
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(default)
    };
    let partners = number("PARTNERS", if smoke { 2_000 } else { 100_000 });
    let in_process = number("WRITES", if smoke { 4 } else { 200 });
    let over_http = number("WRITES", if smoke { 4 } else { 100 });
    let layouts: Vec<Layout> = match std::env::var("SHAPES") {
        Ok(names) => names
            .split(',')
            .map(|name| Layout::from_name(name.trim()).expect("classic, realistic or wide"))
            .collect(),
        Err(_) => Layout::ALL.to_vec(),
    };
    let only: Vec<String> = std::env::var("ONLY")
        .map(|names| names.split(',').map(|name| name.trim().to_string()).collect())
        .unwrap_or_default();
    let paths: Vec<&str> = PATHS
        .iter()
        .copied()
        .filter(|path| only.is_empty() || only.iter().any(|name| path.starts_with(name.as_str())))
        .collect();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "writes at {partners} partners; load average {}",
        load.split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    println!("| path | shape | server-side p50 / p99 (ms) | HTTP p50 / p99 (ms) |");
    println!("|---|---|--:|--:|");
    for layout in layouts {
        let shape = Shape {
            layout,
            ..Shape::new(partners)
        };
        let state = loaded(shape);
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = dir.path().join("writes.db");
        let mut rows = Vec::new();
        {
            let store = Store::open(&db, today()).expect("a store");
            let changes = portalctl_core::plan::diff(&State::default(), &state).into_changes();
            store
                .commit(None, &changes, &ChangeMeta::default(), "bench", today())
                .expect("the generated state commits");
            for &path in &paths {
                let timings: Vec<Duration> = (0..in_process)
                    .map(|n| {
                        let step = step(path, n, shape, &state);
                        let started = Instant::now();
                        commit(&store, &step).unwrap_or_else(|error| panic!("{path}: {error}"));
                        started.elapsed()
                    })
                    .collect();
                rows.push((path, summary(timings)));
            }
        }
        let server = serve(&db);
        let client = portalctl_client::http_client_builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a client");
        for (at, &path) in paths.iter().enumerate() {
            // Writes the in-process round has not made (new names, other partners).
            let timings: Vec<Duration> = (in_process..in_process + over_http)
                .map(|n| {
                    let step = step(path, n, shape, &state);
                    let started = Instant::now();
                    send(&client, &server.base, &step);
                    started.elapsed()
                })
                .collect();
            let (http50, http99) = summary(timings);
            let (path, (own50, own99)) = rows[at];
            println!(
                "| {path} | {} | {own50:.2} / {own99:.2} | {http50:.2} / {http99:.2} |",
                layout.name()
            );
        }
    }
}
