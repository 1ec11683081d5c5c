//! `portalctl drift`: snapshots of its report in text, markdown and JSON on the shipped
//! example after live and git part ways (members added, removed and changed, a share
//! removed, all "outside git" from git's side), and of an expired grant still live; drift
//! found, classified and attributed on both targets, its webhook notice (sent only on
//! drift, a failure exits 1 without the URL), and whole-second times.

use crate::support::{
    CONFIG, Kind, Setup, acme_behind_live, apply_to_live, both, committed_setup, example, transcript,
    transcript_on,
};

const TARGET: &str = "sqlite:live.db";

#[test]
fn reports_drift_in_every_format() {
    let dir = acme_behind_live();
    for format in ["text", "markdown", "json"] {
        insta::assert_snapshot!(
            format,
            transcript(
                dir.path(),
                &[&["drift", "config", "--target", TARGET, "--format", format]]
            )
        );
    }
}

#[test]
fn reports_drift_with_redacted_emails() {
    let dir = acme_behind_live();
    insta::assert_snapshot!(
        "redacted",
        transcript(
            dir.path(),
            &[&["drift", "config", "--target", TARGET, "--redact-emails"]]
        )
    );
}

#[test]
fn reports_an_expired_grant_still_live() {
    let dir = example("acme");
    apply_to_live(dir.path());
    insta::assert_snapshot!(
        "expired",
        transcript_on(
            dir.path(),
            "2027-07-01",
            &[
                &["drift", "config", "--target", TARGET],
                &["drift", "config", "--target", TARGET, "--format", "markdown"],
            ]
        )
    );
}

#[test]
fn drift_is_found_classified_and_attributed() {
    both(|kind| {
        let setup = Setup::new(kind);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        let (out, _) = setup.expect(&["drift", "config"], 0);
        assert!(out.contains("No drift"), "{out}");
        // Out of band: a different config adds a member, removes a share and recolours.
        let changed = CONFIG
            .replace("    color: \"#0F62FE\"", "    color: \"#000000\"")
            .replace(
                "      - email: bob@globex.com\n",
                "      - email: eve@globex.com\n        role: viewer\n      - email: bob@globex.com\n",
            )
            .replace(
                "    shares:\n      - portal: globex\n        access: view\n",
                "    description: nothing shared\n",
            );
        std::fs::create_dir_all(setup.path("elsewhere")).unwrap();
        std::fs::write(setup.path("elsewhere/portalctl.yaml"), changed).unwrap();
        setup.expect(&["apply", "elsewhere", "--auto-approve"], 0);
        let (out, _) = setup.expect(&["drift", "config"], 2);
        let added = out
            .find("Added outside git (grants access):")
            .expect("added section");
        let eve = out.find("+ member eve@globex.com in portal globex").expect("eve");
        let removed = out.find("Removed outside git:").expect("removed section");
        let share = out
            .find("- share /Partners/Enablement with portal:globex")
            .expect("share");
        let changed = out.find("Changed outside git:").expect("changed section");
        let color = out
            .find("color: \"#0F62FE\" (git) → \"#000000\" (live)")
            .expect("colour");
        assert!(
            added < eve && eve < removed && removed < share && share < changed && changed < color,
            "{out}"
        );
        assert!(out.contains("last written: revision 2 by `"), "{out}");
        assert!(out.contains("not from a git commit"), "{out}");
        assert!(
            out.contains("Drift: 4 differences (1 added, 1 removed, 2 changed outside git)."),
            "{out}"
        );
        let (json, _) = setup.expect(&["drift", "config", "--format", "json"], 2);
        let document: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(document["drift"], true);
        assert_eq!(document["items"][0]["class"], "added_outside_git");
        assert_eq!(document["items"][0]["grants_access"], true);
        assert_eq!(document["items"][0]["last_write"]["revision"], 2);
        let (markdown, _) = setup.expect(&["drift", "config", "--format", "markdown"], 2);
        assert!(
            markdown.contains("| + **grants access** | `member eve@globex.com in portal globex` |"),
            "{markdown}"
        );
    });
}

#[test]
fn drift_notifies_a_webhook_only_when_there_is_drift() {
    use std::io::{BufRead as _, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = std::sync::Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(1) {
            let mut stream = stream.unwrap();
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            sink.lock().unwrap().push(String::from_utf8(body).unwrap());
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .unwrap();
        }
    });
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.expect(&["drift", "config", "--notify", &url], 0);
    assert!(received.lock().unwrap().is_empty(), "no drift, no post");
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let (_, err) = setup.expect(&["drift", "config", "--notify", &url], 2);
    assert!(err.contains("posted the drift notice"), "{err}");
    let posted = received.lock().unwrap().clone();
    assert_eq!(posted.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&posted[0]).unwrap();
    assert!(
        body["text"].as_str().unwrap().contains("drift: 1 difference"),
        "{body}"
    );
    assert_eq!(body["drift"], true);
}

#[test]
fn a_failed_notice_after_drift_says_both_exits_1_and_hides_the_url() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let url = "http://127.0.0.1:1/services/T000/B000/SECRETPART?key=SECRETQUERY";
    let (out, err) = setup.expect(&["drift", "config", "--notify", url], 1);
    assert!(
        out.contains("Drift: 1 difference"),
        "the report is still printed: {out}"
    );
    assert!(
        err.contains("drift was found") && err.contains("notice failed"),
        "{err}"
    );
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(
        !err.contains("SECRETPART") && !err.contains("SECRETQUERY"),
        "{err}"
    );
}

#[test]
fn drift_timestamps_have_whole_seconds() {
    let setup = Setup::new(Kind::Sqlite);
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&CONFIG.replace("Globex\n", "Globex Renamed\n"));
    let (json, _) = setup.expect(&["drift", "config", "--format", "json"], 2);
    let document: serde_json::Value = serde_json::from_str(&json).unwrap();
    let time = document["items"][0]["last_write"]["time"]
        .as_str()
        .expect("a time");
    assert!(!time.contains('.'), "{time}");
    assert_eq!(document["summary"]["differences"], 1);
    assert_eq!(document["items"][0]["fields"][0]["type"], "value");
}

#[test]
fn drift_shows_what_live_grants_beyond_git_first() {
    let setup = committed_setup();
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    std::fs::create_dir_all(setup.path("oob")).unwrap();
    std::fs::write(
        setup.path("oob/portalctl.yaml"),
        CONFIG.replace(
            "members: [alice@globex.com]",
            "members: [alice@globex.com, bob@globex.com]",
        ),
    )
    .unwrap();
    setup.expect(&["apply", "oob", "--auto-approve"], 0);
    let (out, _) = setup.expect(&["drift", "config"], 2);
    let impact = out
        .find("+ bob@globex.com  view  /Partners/Finance  via group finance")
        .expect("impact");
    assert!(
        impact < out.find("Changed outside git").expect("changes"),
        "{out}"
    );
}
