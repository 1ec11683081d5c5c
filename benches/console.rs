//! A benchmark of the staff console (`/console`) at 100k partners, over real HTTP against
//! the real binary (it prints figures, it asserts none).
//!
//! Run with `cargo bench --bench console` (release mode). The client is local and keeps
//! one connection alive, so each figure is the server's time plus one loopback round trip
//! (an upper bound of the server-side time). It measures, each request with an admin
//! token (what opens the console for scripts):
//! - roster search `GET /console/roster?…` (an email substring over all portals, an
//!   attribute `region=emea` in one portal and over all portals, a value, a source in one
//!   portal and over all portals) p50/p99;
//! - who can open a folder `GET /console/folders?path=…` (folders shared with a portal and
//!   with a group of 2,000, and `/All`, which every partner can open: shared with all 100
//!   portals and with an org) p50/p99;
//! - the partner page `GET /console/partners/{email}` (seats, access with its grants,
//!   sessions, console actions, revisions about the partner) p50/p99.
//!
//! Targets (issue 23): roster search p99 ≤ 50 ms, who can open p99 ≤ 100 ms, partner page
//! p99 ≤ 20 ms. `MEMBERS=N` changes the roster; `cargo bench -- --test` runs 1,000 once.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TOKEN, millis, percentile, put};

/// Portals (and orgs): 1,000 partners each at 100k.
const PORTALS: usize = 100;
/// Groups of 2,000 partners (together, every partner once), each shared on a folder.
const GROUPS: usize = 50;
/// Small writes after the seed, so that the audit log has history about partners.
const HISTORY: usize = 300;

fn main() {
    let smoke = support::smoke();
    let members: usize = std::env::var("MEMBERS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(if smoke { 1_000 } else { 100_000 });
    let samples = if smoke { 20 } else { 1_000 };
    let server = support::start(&["--max-body-bytes", "1073741824"]);
    let client = portalctl_client::http_client_builder()
        .timeout(Duration::from_secs(600))
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
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
    let email = |i: usize| format!("user{i}@org{}.com", i % PORTALS);

    let started = Instant::now();
    let mut setup = vec![
        put(
            "workspace",
            &[],
            json!({"name": "Acme", "owner_domains": ["acme.io"]}),
        ),
        put(
            "attribute",
            &["region"],
            json!({"type": "enum", "values": ["emea", "amer", "apac"]}),
        ),
    ];
    for p in 0..PORTALS {
        let name = format!("portal{p}");
        setup.push(put(
            "partner_org",
            &[&format!("org{p}")],
            json!({"domains": [format!("org{p}.com")]}),
        ));
        setup.push(put(
            "portal",
            &[&name],
            json!({"name": name, "color": "#0F62FE", "logout_url": "https://acme.io/bye"}),
        ));
        setup.push(put("folder", &[&format!("/F{p}")], json!({})));
        for child in 0..9 {
            setup.push(put("folder", &[&format!("/F{p}/S{child}")], json!({})));
        }
        setup.push(put(
            "share",
            &[&format!("/F{p}"), &format!("portal:{name}")],
            json!({"access": "view"}),
        ));
    }
    // A folder every partner can open: every portal's share, and one org's on top.
    setup.push(put("folder", &["/All"], json!({})));
    for p in 0..PORTALS {
        setup.push(put(
            "share",
            &["/All", &format!("portal:portal{p}")],
            json!({"access": "view"}),
        ));
    }
    setup.push(put("share", &["/All", "org:org0"], json!({"access": "edit"})));
    let regions = ["emea", "amer", "apac"];
    setup.extend((0..members).map(|i| {
        put(
            "member",
            &[&format!("portal{}", i % PORTALS), &email(i)],
            json!({"role": "viewer", "org": format!("org{}", i % PORTALS),
                   "attributes": {"region": regions[i % 3]}}),
        )
    }));
    let per_group = members.div_ceil(GROUPS);
    for g in 0..GROUPS {
        let emails: Vec<String> = (g * per_group..((g + 1) * per_group).min(members))
            .map(email)
            .collect();
        setup.push(put("group", &[&format!("g{g}")], json!({"members": emails})));
        setup.push(put(
            "share",
            &[&format!("/F{}/S{}", g % PORTALS, g % 9), &format!("group:g{g}")],
            json!({"access": "edit"}),
        ));
    }
    post(&json!({"expected_revision": 0, "changes": setup}));
    // History: role changes of partners 0..HISTORY (one batch each).
    for i in 0..HISTORY.min(members) {
        post(&json!({"changes": [put(
            "member",
            &[&format!("portal{}", i % PORTALS), &email(i)],
            json!({"role": "editor", "org": format!("org{}", i % PORTALS),
                   "attributes": {"region": regions[i % 3]}}),
        )]}));
    }
    println!(
        "seeded {members} partners in {PORTALS} portals, {GROUPS} groups, {} revisions in {:.1} s",
        HISTORY.min(members) + 1,
        started.elapsed().as_secs_f64()
    );

    let get = |path: &str| {
        let started = Instant::now();
        let response = client
            .get(format!("{}{path}", server.base))
            .bearer_auth(TOKEN)
            .send()
            .expect("answered");
        let status = response.status();
        let body = response.text().expect("a body");
        assert_eq!(status, 200, "{path}: {}", &body[..body.len().min(500)]);
        (started.elapsed(), body)
    };
    let measure = |label: &str, paths: &dyn Fn(usize) -> String| {
        // The first requests build what is cached (the access index, the audit subjects).
        for n in 0..3 {
            get(&paths(n));
        }
        let mut timings: Vec<Duration> = (0..samples).map(|n| get(&paths(n)).0).collect();
        timings.sort();
        println!(
            "{label} at {members} partners: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({samples} requests)",
            percentile(&timings, 0.5),
            percentile(&timings, 0.99),
            percentile(&timings, 1.0),
        );
    };
    // What the first request after a commit pays once: the roster's search text of the
    // revision, and (first partner page) indexing the audit log's new revisions.
    let (first_search, _) = get("/console/roster?q=user1");
    let (first_partner, _) = get(&format!("/console/partners/{}", email(0)));
    println!(
        "first requests after the seed at {members} partners: roster search {:.1} ms (builds the search text), \
         partner page {:.1} ms (indexes {} revisions of the audit log)",
        millis(first_search),
        millis(first_partner),
        HISTORY.min(members) + 1,
    );
    measure("roster search: an email substring, all portals", &|n| {
        format!("/console/roster?q=user{}", (n * 7919) % members)
    });
    measure("roster search: an attribute (region=emea), one portal", &|n| {
        format!("/console/roster?portal=portal{}&q=region%3Demea", n % PORTALS)
    });
    measure("roster search: an attribute value (apac), all portals", &|n| {
        format!("/console/roster?q=apac&page={}", 1 + n % 5)
    });
    measure(
        "roster search: an attribute (region=emea), all portals, pages 1-5",
        &|n| format!("/console/roster?q=region%3Demea&page={}", 1 + n % 5),
    );
    measure(
        "roster search: a source (managed), all portals, pages 1-5",
        &|n| format!("/console/roster?source=managed&page={}", 1 + n % 5),
    );
    measure(
        "roster search: a source no one has (pending), all portals",
        &|_| "/console/roster?source=pending".to_string(),
    );
    measure("roster search: a source, one portal, page 2", &|n| {
        format!(
            "/console/roster?portal=portal{}&source=managed&page=2",
            n % PORTALS
        )
    });
    let (_, body) = get(&format!("/console/folders?path=/F{}/S{}", 1, 1));
    assert!(body.contains("Who can open it"), "the folder page answers");
    measure("who can open a folder (portal + group shares)", &|n| {
        format!(
            "/console/folders?path=/F{}/S{}",
            n % GROUPS % PORTALS,
            n % GROUPS % 9
        )
    });
    measure("who can open a folder (portal share only)", &|n| {
        format!("/console/folders?path=/F{}", (n * 13) % PORTALS)
    });
    let (_, body) = get("/console/folders?path=/All");
    assert!(
        body.contains(&format!("Who can open it: {members} partners")),
        "every partner can open /All: {}",
        &body[..body.len().min(2000)]
    );
    measure(
        "who can open a folder every partner can open (100 portal shares + an org share)",
        &|_| "/console/folders?path=/All".to_string(),
    );
    let (_, body) = get(&format!("/console/partners/{}", email(1)));
    assert!(
        body.contains("Revisions that changed this partner"),
        "the partner page answers"
    );
    measure("partner page (with history)", &|n| {
        format!("/console/partners/{}", email(n % HISTORY.min(members)))
    });
    measure("partner page (no history)", &|n| {
        format!(
            "/console/partners/{}",
            email(members - 1 - (n * 31) % (members / 2))
        )
    });
}
