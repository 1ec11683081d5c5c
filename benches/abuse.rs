//! `serve` under abuse (issue 25), over real HTTP against the release binary: figures,
//! not assertions (`tests/it/abuse.rs` holds the behaviour).
//!
//! Run with `cargo bench --bench abuse`. It measures, at `MEMBERS` partners (100k):
//! - `hint-heavy`: while one client loops group `PUT`s naming 600 unknown members (each
//!   refused 409 with "did you mean" hints), the latency of small member writes from
//!   another client: p50, p99 and max. Target: waits ≤ 50 ms.
//! - `refusal`: a group naming `PROBLEMS` (1M) unknown members: the time to the answer
//!   and its size. Target ≤ 1 s, a bounded body.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{TOKEN, millis, percentile, put};

fn main() {
    let smoke = support::smoke();
    let number = |name: &str, full: usize, small: usize| {
        std::env::var(name)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(if smoke { small } else { full })
    };
    let members = number("MEMBERS", 100_000, 1_000);
    let problems = number("PROBLEMS", 1_000_000, 10_000);
    let server = support::start(&["--max-body-bytes", "1073741824"]);
    let client = portalctl_client::http_client_builder()
        .timeout(Duration::from_secs(600))
        .build()
        .expect("a client");
    let send = |method: reqwest::Method, path: &str, body: &Value| {
        let response = client
            .request(method, format!("{}{path}", server.base))
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .expect("answered");
        let status = response.status().as_u16();
        (status, response.text().expect("a body"))
    };

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
    ];
    changes.extend((0..members).map(|n| {
        put(
            "member",
            &["globex", &format!("partner{n:07}@globex.com")],
            json!({"role": "viewer", "org": "globex"}),
        )
    }));
    let (status, text) = send(
        reqwest::Method::POST,
        "/v1/changes",
        &json!({"expected_revision": 0, "changes": changes}),
    );
    assert_eq!(status, 200, "{}", &text[..text.len().min(500)]);
    // The first write after a batch brings the spare copy up to date by replaying the
    // batch's rows (100k here, a few hundred ms): the seed's cost, paid before measuring.
    let (status, text) = send(
        reqwest::Method::PUT,
        "/v1/portals/globex/members/warm-up@globex.com",
        &json!({"role": "viewer", "org": "globex"}),
    );
    assert_eq!(status, 200, "{text}");

    // hint-heavy: small writes while another client loops hint-heavy refusals.
    let unknown: Vec<String> = (0..600).map(|n| format!("stranger{n:04}@globex.com")).collect();
    let heavy_body = json!({"members": unknown});
    let stop = Arc::new(AtomicBool::new(false));
    let heavy = {
        let (stop, base, body) = (Arc::clone(&stop), server.base.clone(), heavy_body.clone());
        std::thread::spawn(move || {
            let client = portalctl_client::http_client_builder().build().expect("a client");
            let mut refusals = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let response = client
                    .put(format!("{base}/v1/groups/heavy"))
                    .bearer_auth(TOKEN)
                    .json(&body)
                    .send()
                    .expect("answered");
                assert_eq!(response.status().as_u16(), 409);
                refusals += 1;
            }
            refusals
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let writes = if smoke { 20 } else { 300 };
    let mut took = Vec::with_capacity(writes);
    let started = Instant::now();
    for n in 0..writes {
        let write_started = Instant::now();
        let (status, text) = send(
            reqwest::Method::PUT,
            &format!("/v1/portals/globex/members/light{n:04}@globex.com"),
            &json!({"role": "viewer", "org": "globex"}),
        );
        assert_eq!(status, 200, "{text}");
        took.push(write_started.elapsed());
    }
    let span = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let refusals = heavy.join().expect("the heavy client");
    took.sort();
    println!(
        "hint-heavy at {members} partners: small writes p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {refusals} hint-heavy refusals ({:.0}/s) meanwhile",
        percentile(&took, 0.5),
        percentile(&took, 0.99),
        millis(took[took.len() - 1]),
        f64::from(refusals) / span.as_secs_f64()
    );

    // refusal: a group naming `problems` unknown members.
    let unknown: Vec<String> = (0..problems).map(|n| format!("u{n:07}@globex.com")).collect();
    // Serialised before the clock starts: the figure is the request's, not the client's
    // JSON encoder's.
    let body = serde_json::to_vec(&json!({"members": unknown})).expect("json");
    let size = body.len();
    let started = Instant::now();
    let response = client
        .put(format!("{}/v1/groups/huge", server.base))
        .bearer_auth(TOKEN)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .expect("answered");
    let status = response.status().as_u16();
    let text = response.text().expect("a body");
    let answered = started.elapsed();
    assert_eq!(status, 409, "{}", &text[..text.len().min(500)]);
    println!(
        "refusal: a group naming {problems} unknown members ({:.1} MiB): answered in {:.0} ms, {} bytes",
        size as f64 / 1048576.0,
        millis(answered),
        text.len()
    );
}
