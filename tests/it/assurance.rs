//! Access assurance through the real binary: assertions checked by `validate`, `plan`,
//! `diff` and `drift` (offline and against a live service), owners in the markdown plan
//! and in CODEOWNERS, and `report` in its three formats.

use serde_json::{Value, json};

use crate::support::json as response_json;
use crate::support::{Kind, Setup};

pub const CONFIG: &str = "\
workspace:
  name: Acme
  owner_domains: [acme.io]
roles:
  analyst:
    extends: editor
    permissions: [data.export]
partner_orgs:
  globex:
    domains: [globex.com]
    owners: [gina@acme.io]
  contoso:
    domains: [contoso.com]
  fabrikam:
    domains: [fabrikam.com]
    kind: investor
portals:
  partners:
    name: Partners
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    owners: [\"@acme/partner-ops\"]
    members:
      - email: ana@contoso.com
        role: editor
        org: contoso
      - email: alice@globex.com
        role: viewer
        org: globex
      - email: chen@fabrikam.com
        role: viewer
        org: fabrikam
groups:
  finance:
    members: [alice@globex.com]
folders:
  /Partners/Contoso:
    owners: [olga@acme.io]
    shares:
      - org: contoso
        access: view
  /Partners/Enablement/Drafts:
    shares:
      - user: ana@contoso.com
        access: edit
  /Partners/Finance:
    owners: [fred@acme.io]
    shares:
      - group: finance
        access: view
      - org: fabrikam
        access: edit
assertions:
  - name: only Contoso sees its room
    folder: /Partners/Contoso
    only: [org:contoso]
  - name: investors never export
    principals: [org:fabrikam]
    never: data.export
  - name: ana edits drafts
    user: ana@contoso.com
    can: edit
    folder: /Partners/Enablement/Drafts
";

/// The config with `from` replaced by `to` (which must occur).
fn changed(from: &str, to: &str) -> String {
    assert!(CONFIG.contains(from), "{from}");
    CONFIG.replacen(from, to, 1)
}

/// Adds `finance` to the Contoso room's shares: alice reaches it through the group.
fn group_on_the_contoso_room() -> String {
    changed(
        "      - org: contoso\n        access: view\n",
        "      - org: contoso\n        access: view\n      - group: finance\n        access: view\n",
    )
}

fn setup() -> Setup {
    let setup = Setup::new(Kind::Sqlite);
    setup.write_config(CONFIG);
    setup
}

#[test]
fn each_assertion_form_holds_and_breaks_offline() {
    let setup = setup();
    let (_, err) = setup.expect(&["validate", "config"], 0);
    assert!(err.contains("config is valid"), "{err}");
    for (config, assertion, breach) in [
        (
            group_on_the_contoso_room(),
            "only Contoso sees its room",
            "alice@globex.com has view on /Partners/Contoso and is not in org:contoso, via group finance (view)",
        ),
        (
            changed(
                "      - email: chen@fabrikam.com\n        role: viewer",
                "      - email: chen@fabrikam.com\n        role: analyst",
            ),
            "investors never export",
            "chen@fabrikam.com has data.export on /Partners/Finance, via org fabrikam (edit)",
        ),
        (
            changed(
                "      - email: ana@contoso.com\n        role: editor",
                "      - email: ana@contoso.com\n        role: viewer",
            ),
            "ana edits drafts",
            "ana@contoso.com has view on /Partners/Enablement/Drafts, not edit, via user ana@contoso.com (view)",
        ),
    ] {
        setup.write_config(&config);
        let (_, err) = setup.expect(&["validate", "config"], 1);
        assert!(
            err.contains(&format!("assertion `{assertion}` is broken: {breach}")),
            "{err}"
        );
        assert!(err.contains("--> config/portalctl.yaml:"), "{err}");
        let (json, _) = setup.expect(&["validate", "config", "--format", "json"], 1);
        let document: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(document["errors"], 1, "{json}");
    }
}

#[test]
fn a_plan_breaking_an_assertion_through_a_group_added_to_a_share_fails() {
    let setup = setup();
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&group_on_the_contoso_room());
    let (out, err) = setup.expect(&["plan", "config", "--out", "plan.json"], 1);
    assert!(out.is_empty(), "a refused plan prints no plan:\n{out}");
    assert!(!setup.path("plan.json").exists(), "a refused plan is not saved");
    assert!(
        err.contains("error[assertion-broken]: assertion `only Contoso sees its room` is broken: alice@globex.com has view on /Partners/Contoso"),
        "{err}"
    );
    // The grant, and the path that makes it: the share, and the group membership.
    assert!(
        err.contains("note: the share of /Partners/Contoso with group:finance at config/portalctl.yaml:42:9"),
        "{err}"
    );
    assert!(
        err.contains("note: alice@globex.com is in group finance at config/portalctl.yaml:35:15"),
        "{err}"
    );
    assert!(err.contains("nothing was planned"), "{err}");
    // apply plans the same way, and refuses the same way.
    let (_, err) = setup.expect(&["apply", "config", "--auto-approve"], 1);
    assert!(
        err.contains("assertion `only Contoso sees its room` is broken"),
        "{err}"
    );
}

#[test]
fn assertions_that_do_not_make_sense_are_errors_at_their_lines() {
    let setup = setup();
    let broken = CONFIG
        .replace("only: [org:contoso]", "only: [org:contosso]")
        .replace("never: data.export", "never: data.exprot")
        .replace(
            "folder: /Partners/Enablement/Drafts\n",
            "folder: /Partners/Enablement/Draft\n",
        )
        + "  - name: two forms\n    folder: /Partners/Finance\n    only: [org:globex]\n    can: view\n";
    setup.write_config(&broken);
    let (_, err) = setup.expect(&["validate", "config"], 1);
    for expected in [
        "partner org `contosso` is not declared\n  --> config/portalctl.yaml:56:12",
        "hint: did you mean `contoso`?",
        "`data.exprot` is neither a level (`view`, `edit`) nor a permission\n  --> config/portalctl.yaml:59:12",
        "hint: did you mean `data.export`?",
        "names an unknown folder `/Partners/Enablement/Draft`\n  --> config/portalctl.yaml:63:13",
        "hint: did you mean `/Partners/Enablement/Drafts`?",
        "assertion `two forms` states `only` and `can`",
    ] {
        assert!(err.contains(expected), "missing {expected:?}:\n{err}");
    }
}

#[test]
fn diff_fails_on_a_change_that_breaks_an_assertion() {
    let setup = setup();
    std::fs::write(setup.path(".gitignore"), "*.db\n*.db-*\n").unwrap();
    crate::support::commit_signed(setup.dir.path(), "Rita Reviewer", "rita@acme.io", "initial");
    setup.write_config(&group_on_the_contoso_room());
    let (_, err) = setup.expect(&["diff", "--base", "HEAD", "config"], 1);
    assert!(
        err.contains("assertion `only Contoso sees its room` is broken"),
        "{err}"
    );
    // The base revision is not held to the head's assertions.
    setup.write_config(CONFIG);
    setup.expect(&["diff", "--base", "HEAD", "config"], 0);
}

fn put(kind: &str, key: Value, value: Value) -> Value {
    json!({"op": "put", "kind": kind, "key": key, "value": value})
}

#[test]
fn each_assertion_form_holds_and_breaks_live() {
    for (name, change, breach) in [
        (
            "only Contoso sees its room",
            put(
                "share",
                json!(["/Partners/Contoso", "group:finance"]),
                json!({"access": "view"}),
            ),
            "alice@globex.com has view on /Partners/Contoso and is not in org:contoso, via group finance (view)",
        ),
        (
            "investors never export",
            put(
                "member",
                json!(["partners", "chen@fabrikam.com"]),
                json!({"role": "analyst", "org": "fabrikam"}),
            ),
            "chen@fabrikam.com has data.export on /Partners/Finance",
        ),
        (
            "ana edits drafts",
            json!({"op": "delete", "kind": "share", "key": ["/Partners/Enablement/Drafts", "user:ana@contoso.com"]}),
            "ana@contoso.com has no access to /Partners/Enablement/Drafts, not edit",
        ),
    ] {
        let setup = Setup::new(Kind::Http);
        setup.write_config(CONFIG);
        setup.expect(&["apply", "config", "--auto-approve"], 0);
        setup.expect(&["drift", "config"], 0);
        let server = setup.server.as_ref().unwrap();
        let (_, revision) = server.state();
        let (status, body) = response_json(server.post_changes(Some(revision), json!([change])));
        assert_eq!(status, 200, "{body}");
        let (out, _) = setup.expect(&["drift", "config"], 2);
        let broken = out.find("Assertions broken on live:").expect(&out);
        let line = format!("  ! `{name}`: {breach}");
        assert!(out.contains(&line), "missing {line:?}:\n{out}");
        // Reported first: before the access impact and the differences.
        for later in ["Access impact", "outside git"] {
            if let Some(at) = out.find(later) {
                assert!(broken < at, "{out}");
            }
        }
        let (json, _) = setup.expect(&["drift", "config", "--format", "json"], 2);
        let document: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(document["broken_assertions"][0]["assertion"], name, "{json}");
    }
}

#[test]
fn the_markdown_plan_names_the_owners_whose_approval_it_needs() {
    let setup = setup();
    setup.expect(&["apply", "config", "--auto-approve"], 0);
    setup.write_config(&changed(
        "  finance:\n    members: [alice@globex.com]",
        "  finance:\n    members: [alice@globex.com, ana@contoso.com]",
    ));
    let (out, _) = setup.expect(&["plan", "config", "--format", "markdown"], 2);
    let section = out.find("### Approvals needed").expect(&out);
    assert!(section > out.find("### Access impact").unwrap(), "{out}");
    assert!(
        out.contains("| fred@acme.io | folder /Partners/Finance |"),
        "the folder's owner approves a group change that reaches it:\n{out}"
    );
    assert!(!out.contains("olga@acme.io"), "nothing of Olga's changes:\n{out}");
    // A member change needs its portal's and its org's owners.
    setup.write_config(&changed(
        "      - email: alice@globex.com\n        role: viewer",
        "      - email: alice@globex.com\n        role: editor",
    ));
    let (out, _) = setup.expect(&["plan", "config", "--format", "markdown"], 2);
    assert!(out.contains("| @acme/partner-ops | portal partners |"), "{out}");
    assert!(out.contains("| gina@acme.io | partner org globex |"), "{out}");
}

#[test]
fn codeowners_maps_each_file_to_the_owners_of_what_it_declares() {
    let setup = setup();
    let dir = setup.config_dir();
    // Split the config: portals in one file, folders and the rest in another.
    let (head, folders) = CONFIG.split_at(CONFIG.find("groups:").unwrap());
    std::fs::write(dir.join("portalctl.yaml"), head).unwrap();
    std::fs::write(dir.join("folders.yaml"), folders).unwrap();
    let (out, _) = setup.expect(&["codeowners", "config"], 0);
    // Outside git, paths are relative to the current directory.
    assert_eq!(
        out,
        "# BEGIN portalctl codeowners (generated by `portalctl codeowners`; do not edit)\n\
         /config/folders.yaml fred@acme.io olga@acme.io\n\
         /config/portalctl.yaml @acme/partner-ops gina@acme.io\n\
         # END portalctl codeowners\n"
    );
    std::fs::write(setup.path("CODEOWNERS"), "* @acme/admins\n").unwrap();
    let (_, err) = setup.expect(&["validate", "config", "--codeowners", "CODEOWNERS"], 1);
    assert!(
        err.contains("`CODEOWNERS` has no portalctl codeowners block"),
        "{err}"
    );
    assert!(
        err.contains("hint: run `portalctl codeowners config --write CODEOWNERS`"),
        "{err}"
    );
    setup.expect(&["codeowners", "config", "--write", "CODEOWNERS"], 0);
    let written = std::fs::read_to_string(setup.path("CODEOWNERS")).unwrap();
    assert!(
        written.starts_with("* @acme/admins\n# BEGIN portalctl codeowners"),
        "{written}"
    );
    setup.expect(&["validate", "config", "--codeowners", "CODEOWNERS"], 0);
    // A new owner makes the block stale.
    let folders = folders.replace("owners: [olga@acme.io]", "owners: [olga@acme.io, oscar@acme.io]");
    std::fs::write(dir.join("folders.yaml"), folders).unwrap();
    let (_, err) = setup.expect(&["validate", "config", "--codeowners", "CODEOWNERS"], 1);
    assert!(err.contains("block of `CODEOWNERS` is stale"), "{err}");
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
    let setup = setup();
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
    let setup = setup();
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
}
