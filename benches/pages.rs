//! A benchmark of the partner pages of `portalctl serve` at 100k partners, over real HTTP
//! against the real binary (it prints figures, it asserts none).
//!
//! Run with `cargo bench --bench pages` (release mode). It measures, on loopback (the
//! client-side time, an upper bound of the server's):
//! - `GET /p/{portal}/sign-in` p50/p99;
//! - `GET /p/{portal}/` (a signed-in partner's home: session lookup in the store, the live
//!   membership check, the access index's answer, rendering) p50/p99, over 20 partners.
//!
//! Target (issue 22): p99 ≤ 5 ms server-side for both. `MEMBERS=N` changes the roster.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TOKEN, percentile, put};

/// A cookie jar for one partner: the CSRF and session cookies.
fn cookies(response: &reqwest::blocking::Response, jar: &mut Vec<String>) {
    for set in response.headers().get_all("set-cookie") {
        let pair = set
            .to_str()
            .expect("ascii")
            .split(';')
            .next()
            .expect("a pair")
            .to_string();
        let name = pair.split('=').next().expect("a name").to_string();
        jar.retain(|kept| !kept.starts_with(&format!("{name}=")));
        jar.push(pair);
    }
}

fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[start..start + 43].to_string()
}

fn main() {
    let smoke = std::env::args().any(|arg| arg == "--test");
    let members: usize = std::env::var("MEMBERS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(if smoke { 1_000 } else { 100_000 });
    let samples = if smoke { 50 } else { 2_000 };
    let server = support::start(&[]);
    let client = portalctl_client::http_client_builder()
        .timeout(Duration::from_secs(600))
        .redirect(reqwest::redirect::Policy::none())
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

    // 10 portals and orgs, 100 folders, `members` partners, 50 groups of 1000 with shares.
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
            json!({"name": name, "color": "#0F62FE", "logout_url": "https://acme.io/bye",
                   "texts": {"help_url": "https://acme.io/help"}}),
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
    setup.extend((0..members).map(|i| {
        let p = i % 10;
        put(
            "member",
            &[&format!("portal{p}"), &format!("user{i}@org{p}.com")],
            json!({"role": "viewer", "org": format!("org{p}")}),
        )
    }));
    for g in 0..50 {
        let emails: Vec<String> = (0..1000)
            .map(|i| {
                let n = (g * 1000 + i) % members;
                format!("user{n}@org{}.com", n % 10)
            })
            .collect();
        setup.push(put("group", &[&format!("g{g}")], json!({"members": emails})));
        setup.push(put(
            "share",
            &[&format!("/F{}/S{}", g % 10, g % 9), &format!("group:g{g}")],
            json!({"access": "edit"}),
        ));
    }
    post(&json!({"expected_revision": 0, "changes": setup}));

    // The sign-in page.
    let get = |path: &str, jar: &[String]| {
        let mut request = client.get(format!("{}{path}", server.base));
        if !jar.is_empty() {
            request = request.header("cookie", jar.join("; "));
        }
        let started = Instant::now();
        let response = request.send().expect("answered");
        let status = response.status();
        let body = response.text().expect("a body");
        (started.elapsed(), status, body)
    };
    let mut timings: Vec<Duration> = (0..samples)
        .map(|n| {
            let (elapsed, status, _) = get(&format!("/p/portal{}/sign-in", n % 10), &[]);
            assert_eq!(status, 200);
            elapsed
        })
        .collect();
    timings.sort();
    println!(
        "GET /p/{{portal}}/sign-in at {members} partners: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&timings, 0.5),
        percentile(&timings, 0.99)
    );

    // 20 partners sign in (through the outbox's links), then their homes are loaded.
    let partners: Vec<usize> = (0..20).map(|n| (n * 4999) % members).collect();
    let mut jars = Vec::new();
    for &i in &partners {
        let portal = format!("portal{}", i % 10);
        let email = format!("user{i}@org{}.com", i % 10);
        let mut jar = Vec::new();
        let response = client
            .get(format!("{}/p/{portal}/sign-in", server.base))
            .send()
            .expect("answered");
        cookies(&response, &mut jar);
        let csrf = csrf_of(&response.text().expect("a body"));
        let response = client
            .post(format!("{}/p/{portal}/sign-in", server.base))
            .header("cookie", jar.join("; "))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&email={}", email.replace('@', "%40")))
            .send()
            .expect("answered");
        assert_eq!(response.status(), 200);
        let token = loop {
            let outbox: Value = client
                .get(format!("{}/v1/outbox?recipient={email}&limit=5", server.base))
                .bearer_auth(TOKEN)
                .send()
                .expect("answered")
                .json()
                .expect("json");
            // The newest sign-in link (an invitation may be there too, without a token).
            let link = outbox["messages"].as_array().and_then(|messages| {
                messages
                    .iter()
                    .find(|message| message["kind"] == "sign_in_link")
                    .and_then(|message| message["text"].as_str())
            });
            if let Some(text) = link {
                let at = text.find("token=").expect("a link") + 6;
                break text[at..at + 43].to_string();
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let response = client
            .post(format!("{}/p/{portal}/link", server.base))
            .header("cookie", jar.join("; "))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&token={token}"))
            .send()
            .expect("answered");
        assert_eq!(response.status(), 303, "signed in");
        cookies(&response, &mut jar);
        jars.push((portal, jar));
    }
    let mut timings: Vec<Duration> = (0..samples)
        .map(|n| {
            let (portal, jar) = &jars[n % jars.len()];
            let (elapsed, status, body) = get(&format!("/p/{portal}/"), jar);
            assert_eq!(status, 200);
            assert!(body.contains("data-path"), "the home lists folders");
            elapsed
        })
        .collect();
    timings.sort();
    println!(
        "GET /p/{{portal}}/ (home) at {members} partners: p50 {:.3} ms, p99 {:.3} ms",
        percentile(&timings, 0.5),
        percentile(&timings, 0.99)
    );
}
