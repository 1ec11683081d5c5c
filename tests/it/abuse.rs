//! `serve` under abuse (issue 25): slow and idle connections, a lowered file-descriptor
//! limit, a stalled client at shutdown, hint-heavy and problem-heavy writes, and rate
//! limits that strangers cannot drain. Each test runs its own server on a loopback port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{ServerGuard, ServerOptions, json};

fn address(server: &ServerGuard) -> String {
    server.base.trim_start_matches("http://").to_string()
}

fn with_args(mut options: ServerOptions, args: &[&str]) -> ServerOptions {
    options.extra_args.extend(args.iter().map(ToString::to_string));
    options
}

/// Reads until the server closes the connection (or `limit` passes); returns what was
/// read and when it closed.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("a read timeout");
    let started = Instant::now();
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < limit {
        match stream.read(&mut buffer) {
            Ok(0) => return (String::from_utf8_lossy(&read).into_owned(), Some(Instant::now())),
            Ok(n) => read.extend_from_slice(&buffer[..n]),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (String::from_utf8_lossy(&read).into_owned(), Some(Instant::now())),
        }
    }
    (String::from_utf8_lossy(&read).into_owned(), None)
}

#[test]
fn a_slowloris_client_is_cut_after_the_header_timeout() {
    let server = ServerGuard::start(with_args(ServerOptions::default(), &["--header-timeout", "1s"]));
    let mut stream = TcpStream::connect(address(&server)).expect("a connection");
    let started = Instant::now();
    let head =
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut = None;
    // One byte every 100 ms: the head is never finished.
    for byte in head {
        if stream.write_all(&[*byte]).is_err() {
            cut = Some(Instant::now());
            break;
        }
        let (_, closed) = read_until_closed(&mut stream, Duration::from_millis(100));
        if closed.is_some() {
            cut = closed;
            break;
        }
    }
    let cut = cut.expect("the slow client was disconnected");
    let after = cut.duration_since(started);
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(4),
        "cut after {after:?}"
    );
    // Everyone else is still served.
    assert_eq!(server.get("/healthz").status().as_u16(), 200);
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let server = ServerGuard::start(with_args(ServerOptions::default(), &["--idle-timeout", "1s"]));
    let mut stream = TcpStream::connect(address(&server)).expect("a connection");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5));
    let after = closed
        .expect("the idle connection was closed")
        .duration_since(started);
    assert!(after >= Duration::from_millis(900), "closed after {after:?}");
}

#[test]
fn a_slow_body_is_answered_408_after_the_body_timeout() {
    let server = ServerGuard::start(with_args(ServerOptions::default(), &["--body-timeout", "1s"]));
    let mut stream = TcpStream::connect(address(&server)).expect("a connection");
    stream
        .write_all(
            b"POST /v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"changes\"",
        )
        .expect("the head is sent");
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5));
    assert!(closed.is_some(), "the connection was closed: {answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn a_thousand_idle_sockets_do_not_stop_healthz_at_a_low_descriptor_limit() {
    if std::process::Command::new("prlimit")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("PORTALCTL_REQUIRE_TOOLS").is_none(),
            "prlimit (util-linux) is required"
        );
        eprintln!("skipped: prlimit (util-linux) is not installed");
        return;
    }
    let options = ServerOptions {
        wrapper: vec!["prlimit".into(), "--nofile=256:256".into(), "--".into()],
        ..ServerOptions::default()
    };
    let server = ServerGuard::start(options);
    assert!(
        server
            .stderr()
            .contains("serving at most 192 connections at once"),
        "{}",
        server.stderr()
    );
    let mut idle = Vec::new();
    for _ in 0..1000 {
        if let Ok(stream) = TcpStream::connect(address(&server)) {
            idle.push(stream);
        }
    }
    assert!(idle.len() >= 900, "only {} sockets connected", idle.len());
    for _ in 0..3 {
        let response = server.get("/healthz");
        assert_eq!(response.status().as_u16(), 200);
    }
    // A connection that was closed for a newer one reads end of file: nothing is kept.
    let (_, closed) = read_until_closed(&mut idle[0], Duration::from_secs(2));
    assert!(closed.is_some(), "the oldest idle socket was closed");
    assert!(
        !server.stderr().contains("Too many open files"),
        "{}",
        server.stderr()
    );
}

#[test]
fn sigterm_with_a_stalled_client_exits_within_the_shutdown_timeout() {
    let mut server = ServerGuard::start(with_args(
        ServerOptions::default(),
        &["--shutdown-timeout", "1s", "--body-timeout", "60s"],
    ));
    // A request in progress whose body never comes, and a half-sent head.
    let mut stalled = TcpStream::connect(address(&server)).expect("a connection");
    stalled
        .write_all(
            b"POST /v1/changes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .expect("the head is sent");
    let mut half = TcpStream::connect(address(&server)).expect("a connection");
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: 1")
        .expect("half a head");
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert!(server.stop(), "serve exits cleanly");
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    // The shutdown timeout, then at most the blocking pool's grace of 2 s.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(
        server.stderr().contains("after the shutdown timeout"),
        "{}",
        server.stderr()
    );
}

fn put(kind: &str, key: &[&str], value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

/// A portal `globex` open to self-registration from globex.com with `partners` members
/// `partner{n:06}@globex.com`.
fn seed(server: &ServerGuard, partners: usize) {
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
            json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
                   "self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": ["globex.com"]}}),
        ),
    ];
    changes.extend((0..partners).map(|n| {
        put(
            "member",
            &["globex", &format!("partner{n:06}@globex.com")],
            json!({"role": "viewer", "org": "globex"}),
        )
    }));
    let (status, body) = json(server.post_changes(Some(0), Value::Array(changes)));
    assert_eq!(status, 200, "{body}");
}

/// Regression (issue 25, finding 1): a write naming 600 unknown members computed a "did
/// you mean" for each against every partner while holding the writer lock; every other
/// write waited for it (23.6 s at 20k partners). Hints are now looked for after the lock
/// is released, for at most a few problems.
#[test]
fn a_hint_heavy_write_does_not_hold_other_writers() {
    let server = ServerGuard::start(ServerOptions::with_admin());
    seed(&server, 20_000);
    let unknown: Vec<String> = (0..600).map(|n| format!("stranger{n:04}@globex.com")).collect();
    let body = json!({"members": unknown});
    let (status, refusal) = json(server.send_json(Method::PUT, "/v1/groups/heavy", &body));
    assert_eq!(status, 409, "{refusal}");
    assert_eq!(refusal["problem_count"], 600);
    let problems = refusal["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 100);
    let hinted = problems
        .iter()
        .filter(|problem| problem.get("hint").is_some())
        .count();
    assert!((1..=5).contains(&hinted), "{hinted} hints");

    let stop = Arc::new(AtomicBool::new(false));
    let heavy = {
        let (stop, base, body) = (Arc::clone(&stop), server.base.clone(), body.clone());
        std::thread::spawn(move || {
            let client = crate::support::client();
            let mut sent = 0;
            while !stop.load(Ordering::Relaxed) {
                let response = client
                    .put(format!("{base}/v1/groups/heavy"))
                    .bearer_auth("test-admin-token")
                    .json(&body)
                    .send()
                    .expect("answered");
                assert_eq!(response.status().as_u16(), 409);
                sent += 1;
            }
            sent
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let mut slowest = Duration::ZERO;
    for n in 0..10 {
        let started = Instant::now();
        let response = server.send_json(
            Method::PUT,
            &format!("/v1/portals/globex/members/light{n}@globex.com"),
            &json!({"role": "viewer", "org": "globex"}),
        );
        let status = response.status();
        assert!(
            status.is_success(),
            "{status}: {}",
            response.text().unwrap_or_default()
        );
        slowest = slowest.max(started.elapsed());
    }
    stop.store(true, Ordering::Relaxed);
    let sent = heavy.join().expect("the heavy writer");
    assert!(sent >= 1);
    // Generous for a debug build on a shared machine: before the fix each small write
    // waited for whole hint-heavy refusals (seconds each).
    assert!(slowest < Duration::from_secs(2), "a small write took {slowest:?}");
}

/// Issue 25, item 1: a write waits behind other writes for at most `--write-wait`, then
/// is refused with `503 busy` and `Retry-After`, having changed nothing; every write
/// acknowledged meanwhile is stored.
#[test]
fn a_write_queued_behind_a_long_commit_is_refused_busy_and_changes_nothing() {
    let server = ServerGuard::start(with_args(ServerOptions::with_admin(), &["--write-wait", "100ms"]));
    seed(&server, 10);
    // A commit of 10,000 members holds the writers' turn for far longer than 100 ms.
    let big: Vec<Value> = (0..10_000)
        .map(|n| {
            put(
                "member",
                &["globex", &format!("bulk{n:06}@globex.com")],
                json!({"role": "viewer", "org": "globex"}),
            )
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let bulk = {
        let (done, base) = (Arc::clone(&done), server.base.clone());
        std::thread::spawn(move || {
            let response = reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .expect("a client")
                .post(format!("{base}/v1/changes"))
                .bearer_auth("test-admin-token")
                .json(&json!({"changes": big}))
                .send()
                .expect("answered");
            done.store(true, Ordering::Relaxed);
            response.status().as_u16()
        })
    };
    let mut outcomes = Vec::new();
    let mut n = 0;
    while !done.load(Ordering::Relaxed) || outcomes.is_empty() {
        let email = format!("small{n:04}@globex.com");
        let response = server.send_json(
            Method::PUT,
            &format!("/v1/portals/globex/members/{email}"),
            &json!({"role": "viewer", "org": "globex"}),
        );
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").is_some();
        let (_, body) = json(response);
        if status == 503 {
            assert_eq!(body["error"]["code"], "busy", "{body}");
            assert!(retry_after, "a busy refusal says when to retry");
        } else {
            assert_eq!(status, 200, "{body}");
        }
        outcomes.push((email, status));
        n += 1;
    }
    assert_eq!(bulk.join().expect("the bulk writer"), 200);
    assert!(
        outcomes.iter().any(|(_, status)| *status == 503),
        "no write waited past --write-wait behind a 10,000-member commit: {outcomes:?}"
    );
    for (email, status) in &outcomes {
        let stored = server
            .get(&format!("/v1/portals/globex/members/{email}"))
            .status()
            .as_u16();
        let expected = if *status == 200 { 200 } else { 404 };
        assert_eq!(stored, expected, "{email}: answered {status}, stored {stored}");
    }
}

/// Regression (issue 25, finding 2): a group naming a million unknown members answered
/// with a million problems (13.9 s, 1.1 GB). The answer lists 100 and counts them all.
/// (Timing: `cargo bench --bench abuse`, the `refusal` line.)
#[test]
fn a_million_problem_batch_answers_with_a_bounded_body() {
    let server = ServerGuard::start(ServerOptions::with_admin());
    seed(&server, 10);
    let unknown: Vec<String> = (0..1_000_000).map(|n| format!("u{n:07}@globex.com")).collect();
    let started = Instant::now();
    // A patient client: the suite runs many servers at once on a debug build.
    let response = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()
        .expect("a client")
        .put(server.url("/v1/groups/huge"))
        .bearer_auth("test-admin-token")
        .json(&json!({"members": unknown}))
        .send()
        .expect("answered");
    let took = started.elapsed();
    let status = response.status().as_u16();
    let text = response.text().expect("a body");
    assert_eq!(status, 409, "{}", &text[..text.len().min(500)]);
    assert!(text.len() < 64 * 1024, "the refusal is {} bytes", text.len());
    let refusal: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(refusal["problem_count"], 1_000_000);
    assert_eq!(refusal["problems"].as_array().map(Vec::len), Some(100));
    assert_eq!(
        refusal["problems"][0]["field"],
        "/groups/huge/members/u0000000@globex.com"
    );
    assert!(
        refusal["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("1000000 problem(s), the first 100 listed")),
        "{refusal}"
    );
    // Generous: a debug build parses, checks and refuses 25 MB here, alongside the rest of
    // the suite; the one-second target is for a release build.
    assert!(took < Duration::from_secs(600), "took {took:?}");
}

/// Regression (issue 25, finding 3): the limiter ran before the token check, so refused,
/// unauthenticated requests drained the buckets and an admin's registration got 429.
#[test]
fn anonymous_traffic_cannot_make_an_admin_registration_get_429() {
    let server = ServerGuard::start(with_args(
        ServerOptions::with_admin(),
        &[
            "--self-register-per-portal",
            "3",
            "--self-register-per-client",
            "3",
        ],
    ));
    seed(&server, 1);
    let client = crate::support::client();
    for n in 0..30 {
        for path in ["globex", "%67lobex", "GLOBEX"] {
            let request = client
                .post(server.url(&format!("/v1/portals/{path}/self-register")))
                .json(&json!({"email": format!("anon{n}@globex.com")}));
            // Without a token it is a public sign-up (202, verification mailed) until the
            // anonymous buckets run dry (429); with a wrong token it is refused (401).
            // `%67lobex` is decoded to `globex` and counted as it.
            // Neither draws from the admin token's buckets.
            if n % 2 == 0 {
                let status = request.send().expect("answered").status().as_u16();
                // `GLOBEX` breaks the path's pattern: 400 once counted (as `globex`), or 429.
                let expected: &[u16] = if path == "GLOBEX" {
                    &[400, 429]
                } else {
                    &[202, 429]
                };
                assert!(
                    expected.contains(&status),
                    "anonymous sign-up to {path} answered {status}"
                );
            } else {
                let status = request
                    .bearer_auth("wrong-token")
                    .send()
                    .expect("answered")
                    .status();
                assert_eq!(status.as_u16(), 401);
            }
        }
    }
    for n in 0..3 {
        let (status, body) = json(server.send_json(
            Method::POST,
            "/v1/portals/globex/self-register",
            &json!({"email": format!("vouched{n}@globex.com")}),
        ));
        assert_eq!(status, 201, "{body}");
    }
    // The admin token's own bucket is used up now; nobody else's is touched.
    let (status, body) = json(server.send_json(
        Method::POST,
        "/v1/portals/globex/self-register",
        &json!({"email": "vouched3@globex.com"}),
    ));
    assert_eq!(status, 429, "{body}");
}

/// Regression (issue 25, finding 3): a percent-encoded portal name escaped its portal's
/// bucket.
#[test]
fn a_percent_encoded_portal_name_counts_against_its_portal() {
    let server = ServerGuard::start(with_args(
        ServerOptions::default(),
        &[
            "--self-register-per-portal",
            "2",
            "--self-register-per-client",
            "100",
        ],
    ));
    seed(&server, 1);
    for (n, path) in ["globex", "%67lobex", "%67%6C%6F%62%65%78"].iter().enumerate() {
        let (status, body) = json(server.send_json(
            Method::POST,
            &format!("/v1/portals/{path}/self-register"),
            &json!({"email": format!("new{n}@globex.com")}),
        ));
        let expected = if n < 2 { 201 } else { 429 };
        assert_eq!(status, expected, "{path}: {body}");
    }
}

fn status_and_code(response: reqwest::blocking::Response) -> (u16, String) {
    let (status, body) = json(response);
    (
        status,
        body["error"]["code"].as_str().unwrap_or_default().to_string(),
    )
}

/// Regression (issue 25, finding 5): requests looser than the OpenAPI document were
/// accepted, and `If-Match` was judged before the request (412 where 422 was due).
#[test]
fn requests_are_held_to_the_document_before_if_match() {
    let server = ServerGuard::start(ServerOptions::with_admin());
    seed(&server, 1);
    let (_, revision) = server.state();
    let portal = json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye"});
    let long_name = "r".repeat(257);
    let cases: Vec<(reqwest::blocking::RequestBuilder, u16, &str)> = vec![
        // A name over the documented 256 bytes, in a path.
        (
            server
                .request(Method::PUT, &format!("/v1/roles/{long_name}"))
                .json(&json!({})),
            400,
            "bad_path",
        ),
        // A URL with a NUL.
        (
            server
                .request(Method::PUT, "/v1/portals/globex")
                .json(&json!({"name": "G", "color": "#0F62FE", "logout_url": "https://acme.io/\u{0}"})),
            422,
            "invalid_changes",
        ),
        // An array where an object is expected.
        (
            server.request(Method::PUT, "/v1/portals/globex").json(&json!({
                "name": "G", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
                "self_registration": [true, "viewer", ["x.io"]]})),
            422,
            "invalid_changes",
        ),
        // A merge patch key naming no field.
        (
            server
                .request(Method::PATCH, "/v1/portals/globex")
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"": null}"#),
            422,
            "invalid_body",
        ),
        // A list repeating an item.
        (
            server
                .request(Method::PUT, "/v1/partner_orgs/globex")
                .json(&json!({"domains": ["globex.com", "globex.com"]})),
            422,
            "invalid_changes",
        ),
        // Above the schema's maximum.
        (
            server.request(Method::GET, "/v1/audit?after=9223372036854775808"),
            400,
            "bad_query",
        ),
        // A stale `If-Match` on an invalid request: the request is judged first.
        (
            server
                .request(Method::PUT, "/v1/portals/globex")
                .header("if-match", "\"999\"")
                .json(&json!({"name": "G", "color": "blue", "logout_url": "https://acme.io/bye"})),
            422,
            "invalid_changes",
        ),
        (
            server
                .request(Method::PATCH, "/v1/portals/globex")
                .header("if-match", "\"999\"")
                .header("content-type", "application/merge-patch+json")
                .body(r#"{"color": "blue"}"#),
            422,
            "invalid_body",
        ),
        // An `If-Match` outside the document's pattern (over 19 digits).
        (
            server
                .request(Method::DELETE, "/v1/portals/globex")
                .header("if-match", "0000000000000000000000000"),
            400,
            "bad_if_match",
        ),
        // A `permission` over its `maxLength`.
        (
            server.request(
                Method::GET,
                &format!(
                    "/v1/access/x@globex.com/check?folder=/F&permission={}",
                    "p".repeat(4097)
                ),
            ),
            400,
            "bad_query",
        ),
        // A valid one with a stale `If-Match` is still 412.
        (
            server
                .request(Method::PUT, "/v1/portals/globex")
                .header("if-match", "\"999\"")
                .json(&portal),
            412,
            "precondition_failed",
        ),
    ];
    for (request, status, code) in cases {
        let request = request.build().expect("a request");
        let shown = format!("{} {}", request.method(), request.url());
        let response = crate::support::client().execute(request).expect("answered");
        assert_eq!(status_and_code(response), (status, code.to_string()), "{shown}");
    }
    assert_eq!(server.state().1, revision, "nothing was written");
}

/// Regression (issue 25, finding 5): `allowed_domains` admitted subdomains without saying
/// so. It is exact; `*.example.com` admits subdomains.
#[test]
fn allowed_domains_are_exact_unless_they_start_with_a_wildcard() {
    let server = ServerGuard::start(ServerOptions::with_admin());
    seed(&server, 1);
    let register = |email: &str| {
        status_and_code(server.send_json(
            Method::POST,
            "/v1/portals/globex/self-register",
            &json!({"email": email}),
        ))
    };
    assert_eq!(register("x@sub.globex.com"), (403, "domain_not_allowed".into()));
    assert_eq!(register("x@globex.com").0, 201);
    let portal = json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
        "self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": ["*.globex.com"]}});
    let (status, body) = json(server.send_json(Method::PUT, "/v1/portals/globex", &portal));
    assert_eq!(status, 200, "{body}");
    assert_eq!(register("y@sub.globex.com").0, 201);
    assert_eq!(register("y@globex.com"), (403, "domain_not_allowed".into()));
    let bad = json!({"name": "Globex", "color": "#0F62FE", "logout_url": "https://acme.io/bye",
        "self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": ["*globex.com"]}});
    assert_eq!(
        status_and_code(server.send_json(Method::PUT, "/v1/portals/globex", &bad)),
        (422, "invalid_changes".into())
    );
}
