//! `portalctl report`: snapshots of the head of its CSV from git and from live on the
//! shipped example (times replaced by `<time>`), and of the whole CSV of one portal; the
//! CSV agreeing with the JSON, the HTML as one file, and reports of any revision or live.

use serde_json::Value;

use crate::assurance::{assured_setup, group_on_the_contoso_room};
use crate::support::{apply_to_live, example, transcript};

/// The first `count` lines of `text`.
fn head(text: &str, count: usize) -> String {
    text.lines().take(count).map(|line| format!("{line}\n")).collect()
}

#[test]
fn reports_the_acme_example_from_git_and_from_live() {
    let dir = example("acme");
    apply_to_live(dir.path());
    let git = transcript(dir.path(), &[&["report", "config"]]);
    let live = transcript(
        dir.path(),
        &[&["report", "config", "--live", "--target", "sqlite:live.db"]],
    );
    insta::assert_snapshot!("git_head", head(&git, 17));
    insta::assert_snapshot!("live_head", head(&live, 17));
}

#[test]
fn reports_one_portal_in_full() {
    let dir = example("acme");
    insta::assert_snapshot!(
        "portal_contoso",
        transcript(dir.path(), &[&["report", "config", "--scope", "portal:contoso"]])
    );
}

/// Parses the CSV report: the header comments as (key, value), the column line, the rows.
fn parse_csv(text: &str) -> (Vec<(String, String)>, Vec<Vec<String>>) {
    let header: Vec<(String, String)> = text
        .lines()
        .take_while(|line| line.starts_with('#'))
        .filter_map(|line| line.trim_start_matches("# ").split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let body: String = text
        .lines()
        .skip_while(|line| line.starts_with('#'))
        .map(|line| format!("{line}\n"))
        .collect();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let rows = reader
        .records()
        .map(|record| record.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn the_csv_report_matches_the_json_and_the_html_is_one_file() {
    let setup = assured_setup();
    let (csv_text, _) = setup.expect(&["report", "config", "--format", "csv"], 0);
    let (json_text, _) = setup.expect(&["report", "config", "--format", "json"], 0);
    let document = crate::output_schemas::assert_matches("report", "report", &json_text);
    let (header, rows) = parse_csv(&csv_text);
    let field = |key: &str| header.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    assert_eq!(
        field("rows_sha256").as_deref(),
        document["header"]["rows_sha256"].as_str()
    );
    assert_eq!(field("rows"), Some(document["header"]["rows"].to_string()));
    // The digest is that of the CSV's column line and rows.
    use sha2::Digest as _;
    let body: String = csv_text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let digest: String = sha2::Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(field("rows_sha256"), Some(format!("sha256:{digest}")));
    let json_rows = document["rows"].as_array().unwrap();
    assert_eq!(rows.len(), json_rows.len());
    assert!(!rows.is_empty());
    for (csv_row, json_row) in rows.iter().zip(json_rows) {
        let joined = |key: &str| {
            json_row[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let text = |key: &str| json_row[key].as_str().unwrap_or_default().to_string();
        let expected = vec![
            text("partner"),
            text("org"),
            text("portal"),
            text("role"),
            text("kind"),
            text("path"),
            text("level"),
            joined("permissions"),
            text("via"),
            text("shared_on"),
            text("expires"),
            joined("owners"),
        ];
        assert_eq!(csv_row, &expected);
    }
    // Every grant, with its path and owner.
    assert!(rows.iter().any(|row| row[0] == "alice@globex.com"
        && row[5] == "/Partners/Finance"
        && row[8] == "group:finance"
        && row[11] == "fred@acme.io"));
    assert_eq!(document["by_org"]["contoso"]["partners"], 1, "{json_text}");
    // One portal: its counts are every partner and every row.
    assert_eq!(
        document["by_portal"],
        serde_json::json!({"partners": {"partners": 3, "grants": rows.len()}}),
        "{json_text}"
    );
    let (html, _) = setup.expect(
        &["report", "config", "--format", "html", "--out", "report.html"],
        0,
    );
    assert!(html.is_empty());
    let html = std::fs::read_to_string(setup.path("report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    for forbidden in ["<link", "src=\"http", "href=\"http", "@import"] {
        assert!(!html.contains(forbidden), "the HTML loads {forbidden}");
    }
    assert!(html.contains(&format!("<dd>{}</dd>", field("rows_sha256").unwrap())));
    assert!(html.contains("<h2>Per partner org</h2>") && html.contains("<h2>Per portal</h2>"));
    assert_eq!(
        html.matches("<tr><td>alice@globex.com</td>").count(),
        rows.iter().filter(|r| r[0] == "alice@globex.com").count()
    );
}

#[test]
fn reports_come_from_any_revision_or_from_live() {
    let setup = assured_setup();
    std::fs::write(setup.path(".gitignore"), "*.db\n*.db-*\n").unwrap();
    let first = crate::support::commit_signed(setup.dir.path(), "Rita Reviewer", "rita@acme.io", "initial");
    setup.write_config(&group_on_the_contoso_room().replace(
        "  - name: only Contoso sees its room\n    folder: /Partners/Contoso\n    only: [org:contoso]\n",
        "",
    ));
    crate::support::commit_signed(setup.dir.path(), "Rita Reviewer", "rita@acme.io", "second");
    let report = |args: &[&str]| -> Value {
        let (out, _) = setup.expect(args, 0);
        serde_json::from_str(&out).unwrap()
    };
    let old = report(&["report", "config", "--at", &first, "--format", "json"]);
    assert_eq!(old["header"]["source"], "git");
    assert_eq!(old["header"]["commit"], first.as_str());
    let sees_room = |document: &Value| {
        document["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|row| row["partner"] == "alice@globex.com" && row["path"] == "/Partners/Contoso")
    };
    assert!(!sees_room(&old));
    let now = report(&["report", "config", "--format", "json"]);
    assert!(sees_room(&now));
    let scoped = report(&["report", "config", "--format", "json", "--scope", "org:fabrikam"]);
    assert!(
        scoped["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["partner"] == "chen@fabrikam.com")
    );
    assert_eq!(scoped["header"]["scope"], "org:fabrikam");
    let (_, err) = setup.expect(&["report", "config", "--scope", "org:fabrikan"], 1);
    assert!(err.contains("did you mean `fabrikam`?"), "{err}");
    // Live: what the target holds (nothing until applied), owners from the config.
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    let live = report(&["report", "config", "--live", "--format", "json"]);
    assert_eq!(live["header"]["source"], "live");
    assert_eq!(live["rows"], now["rows"]);
    // A config that does not load gives no owners, and says so.
    std::fs::write(setup.config_dir().join("broken.yaml"), "folders: [\n").unwrap();
    let (out, err) = setup.expect(&["report", "config", "--live", "--format", "json"], 0);
    assert!(
        err.contains("the config at `config` does not load, so the report names no owners"),
        "{err}"
    );
    let unowned: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        unowned["rows"].as_array().unwrap().len(),
        now["rows"].as_array().unwrap().len()
    );
    assert!(
        unowned["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["owners"] == serde_json::json!([]))
    );
}

/// Commits everything under `dir` as of `date` (noon UTC); returns the commit id.
fn commit_on(dir: &std::path::Path, date: &str, message: &str) -> String {
    let day = time::Date::parse(date, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
    let seconds = day.with_hms(12, 0, 0).unwrap().assume_utc().unix_timestamp();
    crate::support::commit_signed_at(dir, "Rita Reviewer", "rita@acme.io", message, Some(seconds))
}

#[test]
fn a_report_at_a_revision_judges_expiry_on_its_commit_date_or_on_a_given_day() {
    // alice's share on the Finance room ends on 15 October; the tests' today is 26 November.
    let setup = assured_setup();
    setup.write_config(&crate::assurance::changed(
        "      - group: finance\n        access: view\n",
        "      - group: finance\n        access: view\n        expires: 2026-10-15\n",
    ));
    std::fs::write(setup.path(".gitignore"), "*.db\n*.db-*\n").unwrap();
    let september = commit_on(setup.dir.path(), "2026-09-30", "the config on 30 September");
    let report = |args: &[&str]| -> Value {
        let (out, _) = setup.expect(args, 0);
        serde_json::from_str(&out).unwrap()
    };
    let alice_in_finance = |document: &Value| {
        document["rows"].as_array().unwrap().iter().any(|row| {
            row["partner"] == "alice@globex.com"
                && row["via"] == "group:finance"
                && row["expires"] == "2026-10-15"
        })
    };
    let at = report(&["report", "config", "--at", &september, "--format", "json"]);
    assert_eq!(at["header"]["today"], "2026-09-30");
    assert_eq!(at["header"]["today_from"], "commit date");
    assert!(alice_in_finance(&at), "active on the commit's date: {at}");
    let on = report(&[
        "report",
        "config",
        "--at",
        &september,
        "--on",
        "2026-10-16",
        "--format",
        "json",
    ]);
    assert_eq!(on["header"]["today"], "2026-10-16");
    assert_eq!(on["header"]["today_from"], "--on");
    assert!(!alice_in_finance(&on), "expired on the day asked for");
    let (csv, _) = setup.expect(&["report", "config", "--on", "2026-10-01"], 0);
    assert!(
        csv.contains("\n# today: 2026-10-01\n# today_from: --on\n"),
        "{csv}"
    );
    let now = report(&["report", "config", "--format", "json"]);
    assert_eq!(now["header"]["today"], "2026-11-26");
    assert_eq!(now["header"]["today_from"], "clock");
    assert!(!alice_in_finance(&now));
    let (_, err) = setup.expect(&["report", "config", "--on", "2026-13-01"], 1);
    assert!(err.contains("--on"), "{err}");
}

#[test]
fn the_html_report_sorts_in_a_browser() {
    let Some(tools) = crate::browser::tools() else {
        return;
    };
    let dir = example("acme");
    let (code, _, err) = crate::support::run(
        dir.path(),
        &["report", "config", "--format", "html", "--out", "report.html"],
    );
    assert_eq!(code, 0, "{err}");
    let run = crate::browser::run_browser(
        &tools,
        "report.mjs",
        "report",
        "report",
        &[("REPORT", dir.path().join("report.html").display().to_string())],
    );
    run.assert_ran(&[
        "the report opens from a file",
        "the grants have more than one partner to sort",
        "clicking `path` sorts the grants by path",
        "one click on `partner` sorts ascending",
        "the sorted column is marked ascending, and only it",
        "a second click sorts descending",
        "the sorted column is marked descending",
        "sorting moves whole rows",
        "the org counts have one- and two-digit numbers",
        "Enter on `grants` sorts the counts as numbers",
        "Space twice on `name` sorts the portals descending",
        "axe: the HTML report",
        "the report fetches nothing",
    ]);
}
