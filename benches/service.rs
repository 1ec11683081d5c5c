//! A benchmark of `portalctl serve` at 100k members, over real HTTP against the real
//! binary (not a timed test: it prints figures, it does not assert them).
//!
//! Run with `cargo bench --bench service` (release mode). It measures:
//! - `POST /v1/changes` with 100k member creates in one batch;
//! - `GET /v1/state` latency (first render and cached) and body size;
//! - `GET /v1/access/{email}/check` latency (first call builds the index; then p50/p99);
//! - `GET /v1/access/{email}` latency;
//! - one small write (`PUT` of one member) p50/p99, one writer;
//! - writes/s with 8 concurrent writers, and meanwhile access-check and `/v1/audit` p99;
//! - the server's RSS idle (state loaded) and after 1,000 writes.
//!
//! Targets (issue 15): write p50 ≤ 5 ms, p99 ≤ 25 ms; ≥ 300 writes/s with 8 writers;
//! check p99 ≤ 2 ms during writes; RSS after 1,000 writes ≤ 1.3× idle.
//!
//! `MEMBERS=N` changes the roster size.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TOKEN, millis, percentile, put};

/// The resident set of a process, in MiB (Linux), or 0 where `/proc` is absent.
/// How long the server is left alone before its RSS is read.
const SETTLE: Duration = Duration::from_millis(1500);

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() {
    // `cargo bench -- --test` (CI's smoke mode) runs a small roster once, so it cannot rot.
    let smoke = std::env::args().any(|arg| arg == "--test");
    let members: usize = std::env::var("MEMBERS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(if smoke { 1_000 } else { 100_000 });
    let server = support::start(&[]);
    let client = portalctl_client::http_client_builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("a client");
    let post = |body: &Value| {
        let response = client
            .post(format!("{}/v1/changes", server.base))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .expect("answered");
        let status = response.status();
        let text = response.text().expect("a body");
        assert!(status.is_success(), "{status}: {}", &text[..text.len().min(2000)]);
    };

    // The workspace: 10 portals, 10 orgs, 100 folders under 10 parents, 50 groups.
    let mut setup = vec![put(
        "workspace",
        &[],
        json!({"name": "Acme", "owner_domains": ["acme.io"]}),
    )];
    for p in 0..10 {
        let name = format!("portal{p}");
        setup.push(put(
            "partner_org",
            &[&format!("org{p}")],
            json!({"domains": [format!("org{p}.com")]}),
        ));
        setup.push(put(
            "portal",
            &[&name],
            json!({"name": name, "color": "#0F62FE", "logout_url": "https://acme.io/bye", "invitations": false}),
        ));
        setup.push(put("folder", &[&format!("/F{p}")], json!({})));
        for child in 0..9 {
            setup.push(put("folder", &[&format!("/F{p}/S{child}")], json!({})));
        }
    }
    post(&json!({"expected_revision": 0, "changes": setup}));

    // 100k member creates in one batch.
    let batch: Vec<Value> = (0..members)
        .map(|i| {
            let p = i % 10;
            put(
                "member",
                &[&format!("portal{p}"), &format!("user{i}@org{p}.com")],
                json!({"role": "viewer", "org": format!("org{p}")}),
            )
        })
        .collect();
    let body = json!({"expected_revision": 1, "changes": batch});
    let size = serde_json::to_vec(&body).expect("json").len();
    let started = Instant::now();
    post(&body);
    let creates = started.elapsed();
    println!(
        "POST /v1/changes, {members} member creates ({:.1} MiB): {:.0} ms",
        size as f64 / 1048576.0,
        millis(creates)
    );

    // Grants: groups of 1000, portal shares, direct shares.
    let mut grants = Vec::new();
    for g in 0..50 {
        let emails: Vec<String> = (0..1000)
            .map(|i| {
                let n = (g * 1000 + i) % members;
                format!("user{n}@org{}.com", n % 10)
            })
            .collect();
        grants.push(put("group", &[&format!("g{g}")], json!({"members": emails})));
        grants.push(put(
            "share",
            &[&format!("/F{}", g % 10), &format!("group:g{g}")],
            json!({"access": "edit"}),
        ));
    }
    for p in 0..10 {
        grants.push(put(
            "share",
            &[&format!("/F{p}"), &format!("portal:portal{p}")],
            json!({"access": "view"}),
        ));
    }
    for i in 0..1000.min(members) {
        grants.push(put(
            "share",
            &[
                &format!("/F{}/S{}", i % 10, i % 9),
                &format!("user:user{i}@org{}.com", i % 10),
            ],
            json!({"access": "view"}),
        ));
    }
    post(&json!({"expected_revision": 2, "changes": grants}));

    // GET /v1/state.
    let mut timings = Vec::new();
    let mut bytes = 0;
    for _ in 0..21 {
        let started = Instant::now();
        let response = client
            .get(format!("{}/v1/state", server.base))
            .bearer_auth(TOKEN)
            .send()
            .expect("answered");
        bytes = response.bytes().expect("a body").len();
        timings.push(started.elapsed());
    }
    let first = timings.remove(0);
    timings.sort();
    println!(
        "GET /v1/state ({:.1} MiB): first {:.0} ms, then p50 {:.0} ms, max {:.0} ms",
        bytes as f64 / 1048576.0,
        millis(first),
        percentile(&timings, 0.5),
        percentile(&timings, 1.0)
    );

    // Access checks.
    let check_with = |client: &reqwest::blocking::Client, i: usize| {
        let url = format!(
            "{}/v1/access/user{i}@org{}.com/check?folder=/F{}/S{}",
            server.base,
            i % 10,
            i % 10,
            i % 9
        );
        let started = Instant::now();
        let response = client.get(url).bearer_auth(TOKEN).send().expect("answered");
        let body: Value = response.json().expect("json");
        assert!(body["allowed"].is_boolean());
        started.elapsed()
    };
    let check = |i: usize| check_with(&client, i);
    let first = check(0);
    let mut timings: Vec<Duration> = (0..2000).map(|n| check((n * 7919) % members)).collect();
    timings.sort();
    println!(
        "GET /v1/access/{{email}}/check: first (builds the index) {:.1} ms, then p50 {:.3} ms, p99 {:.3} ms",
        millis(first),
        percentile(&timings, 0.5),
        percentile(&timings, 0.99)
    );
    let mut timings: Vec<Duration> = (0..500)
        .map(|n| {
            let i = (n * 7919) % members;
            let started = Instant::now();
            let response = client
                .get(format!("{}/v1/access/user{i}@org{}.com", server.base, i % 10))
                .bearer_auth(TOKEN)
                .send()
                .expect("answered");
            let _ = response.bytes();
            started.elapsed()
        })
        .collect();
    timings.sort();
    println!(
        "GET /v1/access/{{email}}: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&timings, 0.5),
        percentile(&timings, 0.99)
    );

    // Writes. `PUT` of one member, as an admin screen does.
    let write = |client: &reqwest::blocking::Client, n: usize| {
        let p = n % 10;
        let url = format!(
            "{}/v1/portals/portal{p}/members/writer{n}@org{p}.com",
            server.base
        );
        let started = Instant::now();
        let response = client
            .put(url)
            .bearer_auth(TOKEN)
            .json(&json!({"role": "viewer", "org": format!("org{p}")}))
            .send()
            .expect("answered");
        let status = response.status();
        let _ = response.bytes();
        assert!(status.is_success(), "a write failed: {status}");
        started.elapsed()
    };
    // Both readings wait out the allocator's purge delay (mimalloc returns freed pages to
    // the OS after one second), so they count memory in use, not pages about to be freed.
    std::thread::sleep(SETTLE);
    let idle = rss_mib(server.child.id());
    let sequential = if smoke { 40 } else { 200 };
    let mut timings: Vec<Duration> = (0..sequential).map(|n| write(&client, n)).collect();
    timings.sort();
    println!(
        "PUT one member, one writer ({sequential} writes): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&timings, 0.5),
        percentile(&timings, 0.99)
    );

    // 8 writers at once, while one client checks access and another reads the audit log.
    let writers = 8;
    let total = if smoke { 80 } else { 1000 };
    let done = std::sync::atomic::AtomicBool::new(false);
    let (elapsed, checks, audits) = std::thread::scope(|scope| {
        let checker = scope.spawn(|| {
            // A client of its own: a reqwest blocking client runs one connection thread,
            // and sharing the auditor's would time the auditor's 1 MiB pages arriving.
            let client = reqwest::blocking::Client::new();
            let mut timings = Vec::new();
            let mut n = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                timings.push(check_with(&client, (n * 7919) % members));
                n += 1;
            }
            timings
        });
        let auditor = scope.spawn(|| {
            let mut timings = Vec::new();
            let mut after = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let response = client
                    .get(format!("{}/v1/audit?after={after}&limit=100", server.base))
                    .bearer_auth(TOKEN)
                    .send()
                    .expect("answered");
                let _ = response.bytes();
                timings.push(started.elapsed());
                after = (after + 7) % 50;
            }
            timings
        });
        let started = Instant::now();
        let handles: Vec<_> = (0..writers)
            .map(|w| {
                let write = &write;
                scope.spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    for n in (0..total).filter(|n| n % writers == w) {
                        write(&client, sequential + n);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("a writer finishes");
        }
        let elapsed = started.elapsed();
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        (
            elapsed,
            checker.join().expect("the checker finishes"),
            auditor.join().expect("the auditor finishes"),
        )
    });
    println!(
        "{writers} writers, {total} writes: {:.0} writes/s",
        total as f64 / elapsed.as_secs_f64()
    );
    let mut checks = checks;
    checks.sort();
    let mut audits = audits;
    audits.sort();
    if !checks.is_empty() && !audits.is_empty() {
        println!(
            "during the writes: access check p50 {:.3} ms, p99 {:.3} ms ({} checks); GET /v1/audit p50 {:.2} ms, p99 {:.2} ms ({} pages)",
            percentile(&checks, 0.5),
            percentile(&checks, 0.99),
            checks.len(),
            percentile(&audits, 0.5),
            percentile(&audits, 0.99),
            audits.len()
        );
    }
    std::thread::sleep(SETTLE);
    let after = rss_mib(server.child.id());
    println!(
        "server RSS: idle {idle:.0} MiB, after {} writes {after:.0} MiB ({:.2}x)",
        sequential + total,
        after / idle.max(1.0)
    );
}
