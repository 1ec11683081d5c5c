//! `portalctl validate`: one case per rule, each asserting the exit code and the exact
//! `FILE:LINE` of the value at fault; the rule each diagnostic names in text, JSON and
//! GitHub annotations; and snapshots of its text on the shipped examples, clean and with
//! three different mistakes.

use std::path::Path;

use crate::support::{Kind, Setup, example, expect_exit, portalctl, stderr, stdout};

/// A valid config; cases below break one line of it. Line numbers matter.
const BASE: &str = "\
workspace:
  name: Acme
  owner_domains: [acme.io]
attributes:
  tenant_id: { type: string, required: true }
  region: { type: enum, values: [emea, amer] }
  contract_ref: { type: string, sensitive: true }
roles:
  account-manager:
    extends: viewer
    permissions: [files.transfer]
partner_orgs:
  globex:
    domains: [globex.com]
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    session_ttl: 18h
    members:
      - email: alice@globex.com
        role: viewer
        org: globex
        attributes: { tenant_id: t-1, region: emea, contract_ref: K-SECRET-1 }
      - email: bob@initech.com
        role: account-manager
        attributes: { tenant_id: t-2 }
groups:
  finance:
    members: [alice@globex.com]
folders:
  /Partners/Finance:
    shares:
      - group: finance
        access: view
      - user: bob@initech.com
        access: edit
        expires: 2027-01-15
";

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn validate(files: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), files);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_portalctl"))
        .args(["validate", "."])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("PORTALCTL_TODAY", "2026-11-26")
        .output()
        .unwrap();
    (output.status.code(), stderr(&output))
}

/// Breaks BASE by replacing `from` with `to` and expects exit 1 with `expected`
/// (`FILE:LINE:COL` and a message fragment) in the output.
fn check(from: &str, to: &str, location: &str, message: &str) {
    assert!(BASE.contains(from), "the case's `from` is not in BASE: {from}");
    let broken = BASE.replacen(from, to, 1);
    let (code, output) = validate(&[("portalctl.yaml", &broken)]);
    assert_eq!(code, Some(1), "expected exit 1 for `{to}`:\n{output}");
    let wanted = format!("--> portalctl.yaml:{location}");
    assert!(
        output.contains(&wanted),
        "expected `{wanted}` for `{to}`:\n{output}"
    );
    assert!(
        output.contains(message),
        "expected `{message}` for `{to}`:\n{output}"
    );
    assert!(
        !output.contains("K-SECRET-1"),
        "a sensitive value leaked:\n{output}"
    );
}

#[test]
fn base_config_is_valid() {
    let (code, output) = validate(&[("portalctl.yaml", BASE)]);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("is valid: 1 portal, 2 members"), "{output}");
}

#[test]
fn yaml_syntax_errors() {
    // The parser notices the unclosed list where the next key starts.
    check(
        "    name: Globex\n",
        "    name: [Globex\n",
        "18:10",
        "invalid YAML",
    );
}

#[test]
fn unknown_keys_with_suggestion() {
    check(
        "    members:\n",
        "    membres:\n",
        "21:5",
        "unknown key `membres`",
    );
    check(
        "    members:\n",
        "    membres:\n",
        "21:5",
        "did you mean `members`?",
    );
    check(
        "      - email: alice@globex.com\n        role: viewer\n",
        "      - email: alice@globex.com\n        rol: viewer\n",
        "23:9",
        "unknown key `rol`",
    );
}

#[test]
fn wrong_types() {
    check(
        "    session_ttl: 18h\n",
        "    session_ttl: [18h]\n",
        "20:18",
        "`session_ttl` must be a string, found a list",
    );
    check(
        "    permissions: [files.transfer]\n",
        "    permissions: files.transfer\n",
        "11:18",
        "must be a list",
    );
}

#[test]
fn dns_label_color_url_and_ttl() {
    check(
        "  globex:\n    name: Globex",
        "  Globex:\n    name: Globex",
        "16:3",
        "not a DNS label",
    );
    check(
        "    color: \"#0F62FE\"",
        "    color: blue",
        "18:12",
        "not a colour",
    );
    check(
        "    logout_url: https://acme.io/bye",
        "    logout_url: http://acme.io/bye",
        "19:17",
        "not an absolute https:// URL",
    );
    check(
        "    session_ttl: 18h",
        "    session_ttl: 25h",
        "20:18",
        "outside 5m..24h",
    );
    check(
        "    session_ttl: 18h",
        "    session_ttl: 18x",
        "20:18",
        "not in the expected form",
    );
}

#[test]
fn invalid_emails_and_owner_domains() {
    check(
        "      - email: alice@globex.com",
        "      - email: alice.globex.com",
        "22:16",
        "not a valid email",
    );
    check(
        "      - email: bob@initech.com",
        "      - email: bob@acme.io",
        "26:16",
        "owner domain `acme.io`",
    );
}

#[test]
fn member_org_domain_must_match() {
    check(
        "      - email: bob@initech.com\n",
        "      - email: carl@initech.com\n        role: viewer\n        org: globex\n        attributes: { tenant_id: t-3 }\n      - email: bob@initech.com\n",
        "26:16",
        "not in a domain of partner org `globex`",
    );
    // Regression (issue 21): the error pointed at the `org:` line and suggested nothing
    // for a near domain.
    check(
        "      - email: bob@initech.com\n",
        "      - email: carl@globex.co\n        role: viewer\n        org: globex\n        attributes: { tenant_id: t-3 }\n      - email: bob@initech.com\n",
        "26:16",
        "did you mean `carl@globex.com`?",
    );
}

#[test]
fn unknown_references_with_suggestions() {
    check(
        "        role: viewer\n        org",
        "        role: viwer\n        org",
        "23:15",
        "did you mean `viewer`?",
    );
    check(
        "        org: globex",
        "        org: globx",
        "24:14",
        "did you mean `globex`?",
    );
    check(
        "      - group: finance",
        "      - group: finanse",
        "35:16",
        "did you mean `finance`?",
    );
    check(
        "    extends: viewer",
        "    extends: veiwer",
        "10:14",
        "unknown role `veiwer`",
    );
    check(
        "    members: [alice@globex.com]",
        "    members: [alice@globex.co]",
        "31:15",
        "not a member of any portal",
    );
    check(
        "      - user: bob@initech.com",
        "      - user: bob@initech.org",
        "37:15",
        "not a member of any portal",
    );
}

#[test]
fn attribute_values_are_typed_declared_and_required() {
    check(
        "region: emea,",
        "region: mars,",
        "25:47",
        "not one of the allowed values",
    );
    check(
        "attributes: { tenant_id: t-2 }",
        "attributes: { tenant_id: t-2, colour: red }",
        "28:47",
        "undeclared attribute `colour`",
    );
    check(
        "attributes: { tenant_id: t-2 }",
        "attributes: { region: emea }",
        "28:21",
        "required attribute `tenant_id` is missing",
    );
    check(
        "contract_ref: K-SECRET-1",
        "contract_ref: 42",
        "25:67",
        "attribute `contract_ref`: value does not fit: expected string",
    );
}

#[test]
fn one_email_is_one_partner_across_portals() {
    let second = "portals:\n  initech:\n    name: Initech\n    color: \"#000000\"\n    logout_url: https://acme.io/bye\n    members:\n      - email: ALICE@globex.com\n        role: viewer\n        attributes: { tenant_id: t-9 }\n";
    let (code, output) = validate(&[("portalctl.yaml", BASE), ("z-second.yaml", second)]);
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("--> z-second.yaml:7:16"), "{output}");
    assert!(
        output.contains("has org (none) in portal `initech` but `globex` in portal `globex`"),
        "{output}"
    );
    assert!(
        output.contains("first set here at portalctl.yaml:24:14"),
        "{output}"
    );
    assert!(output.contains("different attributes"), "{output}");
    assert!(!output.contains("K-SECRET-1"), "{output}");
}

#[test]
fn role_cycles_name_every_role() {
    check(
        "    extends: viewer\n",
        "    extends: auditor\n  auditor:\n    extends: reviewer\n  reviewer:\n    extends: account-manager\n",
        "10:14",
        "account-manager → auditor → reviewer → account-manager",
    );
    check(
        "[files.transfer]",
        "[files.transfer, files.delete]",
        "11:35",
        "unknown permission `files.delete`",
    );
    check(
        "roles:\n  account-manager:",
        "roles:\n  viewer: {}\n  account-manager:",
        "9:3",
        "built-in role",
    );
}

#[test]
fn expires_is_a_date_and_past_dates_warn() {
    check(
        "expires: 2027-01-15",
        "expires: 2027-02-30",
        "39:18",
        "is not a date",
    );
    check(
        "expires: 2027-01-15",
        "expires: 15.01.2027",
        "39:18",
        "not in the expected form",
    );
    let past = BASE.replace("expires: 2027-01-15", "expires: 2026-01-15");
    let (code, output) = validate(&[("portalctl.yaml", &past)]);
    assert_eq!(code, Some(0), "a past date is a warning, not an error:\n{output}");
    assert!(
        output.contains(
            "warning[share-expired]: share of `/Partners/Finance` with user:bob@initech.com expired on 2026-01-15"
        ),
        "{output}"
    );
    assert!(output.contains("--> portalctl.yaml:39:18"), "{output}");
}

#[test]
fn dashboards_lie_in_declared_folders() {
    // In a folder that is not declared: at the dashboard's key, with a did-you-mean.
    check(
        "folders:\n",
        "dashboards:\n  /Partners/Financ/Q3 Revenue:\n    description: Quarterly revenue\nfolders:\n",
        "33:3",
        "dashboard `/Partners/Financ/Q3 Revenue` is in folder `/Partners/Financ`, which is not declared",
    );
    check(
        "folders:\n",
        "dashboards:\n  /Partners/Financ/Q3 Revenue: {}\nfolders:\n",
        "33:3",
        "did you mean `/Partners/Finance`?",
    );
    // A dashboard's share names a partner, like a folder's.
    check(
        "folders:\n",
        "dashboards:\n  /Partners/Finance/Q3 Revenue:\n    shares:\n      - user: carl@globex.com\n        access: view\nfolders:\n",
        "35:15",
        "`carl@globex.com` is not a member of any portal",
    );
    // A path is a folder or a dashboard, not both; and a dashboard holds nothing.
    check(
        "folders:\n",
        "dashboards:\n  /Partners/Finance: {}\nfolders:\n",
        "33:3",
        "declared both as a folder and as a dashboard",
    );
    check(
        "folders:\n",
        "dashboards:\n  /Partners/Finance/Q3: {}\nfolders:\n  /Partners/Finance/Q3/Inner: {}\n",
        "35:3",
        "folder `/Partners/Finance/Q3/Inner` lies inside dashboard `/Partners/Finance/Q3`",
    );
    // Declared twice across files, like a folder.
    let dashboard = "dashboards:\n  /Partners/Finance/Q3 Revenue: {}\n";
    let (code, output) = validate(&[
        ("portalctl.yaml", BASE),
        ("a.yaml", dashboard),
        ("b.yaml", dashboard),
    ]);
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("--> b.yaml:2:3"), "{output}");
    assert!(
        output.contains("dashboard `/Partners/Finance/Q3 Revenue` is defined twice"),
        "{output}"
    );
    // And a valid one is counted.
    let (code, output) = validate(&[("portalctl.yaml", BASE), ("a.yaml", dashboard)]);
    assert_eq!(code, Some(0), "{output}");
    assert!(output.contains("1 folder, 1 dashboard, 2 shares"), "{output}");
}

#[test]
fn duplicate_keys_anywhere() {
    check(
        "  tenant_id: { type: string, required: true }\n",
        "  tenant_id: { type: string, required: true }\n  tenant_id: { type: string }\n",
        "6:3",
        "duplicate key `tenant_id`",
    );
    check(
        "      - email: bob@initech.com\n",
        "      - email: Bob@Initech.com\n        role: viewer\n        attributes: { tenant_id: t-2 }\n      - email: bob@initech.com\n",
        "29:16",
        "member `bob@initech.com` of portal `globex` is defined twice",
    );
    let again =
        "portals:\n  globex:\n    name: Again\n    color: \"#000000\"\n    logout_url: https://acme.io/bye\n";
    let (code, output) = validate(&[("portalctl.yaml", BASE), ("more/again.yaml", again)]);
    assert_eq!(code, Some(1), "{output}");
    // Files merge in sorted path order, so `more/again.yaml` defines it first.
    assert!(output.contains("--> portalctl.yaml:16:3"), "{output}");
    assert!(output.contains("portal `globex` is defined twice"), "{output}");
    assert!(
        output.contains("first defined here at more/again.yaml:2:3"),
        "{output}"
    );
}

#[test]
fn csv_rosters_are_cited_by_row() {
    let config = BASE.replace(
        "      - email: bob@initech.com",
        "      - from_csv: rosters/globex.csv\n        org: globex\n      - email: bob@initech.com",
    );
    let csv = "email,role,attributes.tenant_id,attributes.region\ndana@globex.com,viewer,t-1,emea\neli@globex.com,viwer,t-1,emea\nfay@globex.com,viewer,t-1,mars\nalice@globex.com,viewer,t-1,emea\n";
    let (code, output) = validate(&[("portalctl.yaml", &config), ("rosters/globex.csv", csv)]);
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("--> rosters/globex.csv:3:16"), "{output}");
    assert!(output.contains("unknown role `viwer`"), "{output}");
    assert!(output.contains("--> rosters/globex.csv:4:"), "{output}");
    assert!(output.contains("--> rosters/globex.csv:5:1"), "{output}");
    assert!(
        output.contains("member `alice@globex.com` of portal `globex` is defined twice"),
        "{output}"
    );
    let missing = BASE.replace(
        "      - email: bob@initech.com",
        "      - from_csv: nowhere.csv\n      - email: bob@initech.com",
    );
    let (code, output) = validate(&[("portalctl.yaml", &missing)]);
    assert_eq!(code, Some(1));
    assert!(
        output.contains("--> portalctl.yaml:26:19") && output.contains("cannot read roster `nowhere.csv`"),
        "{output}"
    );
}

#[test]
fn every_problem_is_reported_sorted_by_file_and_line() {
    let broken = BASE
        .replace("color: \"#0F62FE\"", "color: blue")
        .replace("role: viewer", "role: viwer");
    let (code, output) = validate(&[("b.yaml", &broken)]);
    assert_eq!(code, Some(1));
    let color = output.find("b.yaml:18:").expect("colour error");
    let role = output.find("b.yaml:23:").expect("role error");
    assert!(color < role, "{output}");
    assert!(output.contains("is invalid: 2 errors"), "{output}");
}

#[test]
fn json_and_github_formats_carry_the_same_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[("portalctl.yaml", &BASE.replace("role: viewer", "role: viwer"))],
    );
    let output = portalctl(dir.path(), &["validate", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 1);
    // BASE's account-manager also draws a `permission-unreachable` warning.
    let first = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|diagnostic| diagnostic["severity"] == "error")
        .expect("an error");
    assert_eq!(
        first["location"],
        serde_json::json!({"file": "portalctl.yaml", "line": 23, "column": 15})
    );
    assert_eq!(first["hint"], "did you mean `viewer`?");
    let output = portalctl(dir.path(), &["validate", ".", "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let annotations = stdout(&output);
    assert!(
        annotations
            .lines()
            .any(|line| line == "::error file=portalctl.yaml,line=23,col=15,title=unknown-role::unknown role `viwer` (hint: did you mean `viewer`?)"),
        "{annotations}"
    );
    assert_eq!(annotations.matches("::error ").count(), 1, "{annotations}");
}

#[test]
fn a_missing_path_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = portalctl(dir.path(), &["validate", "no/such/dir"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("cannot read the config at `no/such/dir`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn examples_validate() {
    for example in ["examples/quickstart", "examples/acme"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(example);
        let output = portalctl(&path, &["validate", "."]);
        assert_eq!(output.status.code(), Some(0), "{example}: {}", stderr(&output));
    }
}

/// `validate`'s text on the shipped examples as they are, and on the acme example with
/// three different mistakes (a colour, an unknown role, a portal over its seat limit):
/// the output names each rule.
#[test]
fn validate_text_on_the_examples_is_as_reviewed() {
    use crate::support::{edit_config, transcript};
    for name in ["acme", "quickstart"] {
        let dir = example(name);
        insta::assert_snapshot!(
            format!("{name}_clean"),
            transcript(dir.path(), &[&["validate", "config"]])
        );
    }
    let dir = example("acme");
    let edit = |from: &str, to: &str| edit_config(dir.path(), "portals/globex.yaml", from, to);
    edit("color: \"#0F62FE\"", "color: blue");
    edit("role: account-manager", "role: acount-manager");
    edit("max_members: 20", "max_members: 1");
    let text = transcript(dir.path(), &[&["validate", "config"]]);
    for rule in ["portal-color", "unknown-role", "seat-limit"] {
        assert!(text.contains(&format!("[{rule}]")), "no {rule} in:\n{text}");
    }
    insta::assert_snapshot!("acme_three_mistakes", text);
}

#[test]
fn an_empty_directory_says_there_are_no_yaml_files() {
    let setup = Setup::new(Kind::Sqlite);
    std::fs::create_dir_all(setup.path("empty")).unwrap();
    let (_, err) = setup.expect(&["validate", "empty"], 1);
    assert!(err.contains("no YAML files under `empty`"), "{err}");
}

/// Three different mistakes: a colour, an unknown role, a portal over its seat limit.
const BROKEN: &str = "\
workspace: {name: Acme, owner_domains: [acme.io]}
portals:
  globex:
    name: Globex
    color: blue
    logout_url: https://acme.io/bye
    max_members: 1
    members:
      - {email: alice@globex.com, role: viewer}
      - {email: bob@globex.com, role: viwer}
";

fn broken_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("portalctl.yaml"), BROKEN).unwrap();
    dir
}

#[test]
fn validate_names_the_rule_of_each_of_three_mistakes_in_text() {
    let dir = broken_dir();
    let output = portalctl(dir.path(), &["validate", "."]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    for expected in [
        "error[portal-color]: `blue` is not a colour",
        "error[seat-limit]: portal `globex` allows 1 member(s)",
        "error[unknown-role]: unknown role `viwer`",
    ] {
        assert!(text.contains(expected), "no `{expected}` in:\n{text}");
    }
    assert!(text.contains("is invalid: 3 errors"), "{text}");
}

#[test]
fn validate_names_the_rules_in_json_and_github_annotations() {
    let dir = broken_dir();
    let output = portalctl(dir.path(), &["validate", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let rules: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|diagnostic| {
            diagnostic["rule"]
                .as_str()
                .expect("every diagnostic names its rule")
        })
        .collect();
    assert_eq!(rules, ["portal-color", "seat-limit", "unknown-role"]);

    let output = portalctl(dir.path(), &["validate", ".", "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let annotations = stdout(&output);
    let titles: Vec<&str> = annotations
        .lines()
        .map(|line| {
            let properties = line.split("::").nth(1).unwrap();
            properties
                .split(',')
                .find_map(|property| property.strip_prefix("title="))
                .unwrap_or_else(|| panic!("no title in {line}"))
        })
        .collect();
    assert_eq!(
        titles,
        ["portal-color", "seat-limit", "unknown-role"],
        "{annotations}"
    );
}

#[test]
fn loader_problems_are_named_too() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), "workspace: {name: Acme\n").unwrap();
    let output = portalctl(dir.path(), &["validate", ".", "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["diagnostics"][0]["rule"], "yaml-syntax", "{report}");
}

#[test]
fn a_template_error_stands_at_the_template_line() {
    let dir = example("acme");
    let workspace = dir.path().join("config/workspace.yaml");
    let text = std::fs::read_to_string(&workspace).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("help_url: https://acme.io/partners/help"))
        .unwrap()
        + 1;
    std::fs::write(
        &workspace,
        text.replace("help_url: https://", "help_url: http://"),
    )
    .unwrap();
    let (_, err) = expect_exit(dir.path(), &["validate", "config"], 1);
    assert!(err.contains(&format!("workspace.yaml:{line}:")), "{err}");
    assert!(
        err.contains("partner-default") && err.contains("used by portal"),
        "{err}"
    );
}

#[test]
fn merge_keys_and_x_keys_load_with_diagnostics_at_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let config = "workspace: {name: Acme}\nx-defaults: &portal_defaults\n  color: \"#0F62FE\"\n  logout_url: https://acme.io/bye\n  session_ttl: 12h\nportals:\n  globex:\n    <<: *portal_defaults\n    name: Globex\n  initech:\n    <<: [*portal_defaults]\n    name: Initech\n    color: \"#112233\"\n";
    std::fs::write(dir.path().join("c.yaml"), config).unwrap();
    expect_exit(dir.path(), &["validate", "c.yaml"], 0);
    std::fs::write(
        dir.path().join("c.yaml"),
        config.replace("session_ttl: 12h", "session_ttl: 99h"),
    )
    .unwrap();
    let (_, err) = expect_exit(dir.path(), &["validate", "c.yaml"], 1);
    assert!(err.contains("c.yaml:5:"), "{err}");
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} holds `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Regression (issue 21, defect 8), through `validate`: on acme, a YAML syntax error in
/// `access.yaml` hid a bad colour and a role typo in the portal files, and said "1 error"
/// with libyaml's message alone. All three are reported, the syntax error with a hint
/// about indentation, and a note says which checks could not run.
#[test]
fn a_syntax_error_in_acme_hides_no_other_problem() {
    let dir = crate::support::acme_copy();
    edit(
        &dir.path().join("access.yaml"),
        "    description: Partners who see the monthly finance packs\n",
        "   description: Partners: who see the monthly finance packs\n",
    );
    edit(
        &dir.path().join("portals/contoso.yaml"),
        "color: \"#107C10\"",
        "color: \"#107C1\"",
    );
    edit(
        &dir.path().join("portals/globex.yaml"),
        "role: account-manager",
        "role: account-manger",
    );
    let (_, err) = expect_exit(dir.path(), &["validate", "."], 1);
    assert!(err.contains("error[yaml-syntax]"), "{err}");
    assert!(err.contains("access.yaml:4:25"), "{err}");
    assert!(err.contains("indent"), "the syntax error has a hint: {err}");
    assert!(
        err.contains("error[portal-color]") && err.contains("portals/contoso.yaml:6:"),
        "{err}"
    );
    assert!(
        err.contains("error[unknown-role]")
            && err.contains("portals/globex.yaml:18:15")
            && err.contains("did you mean `account-manager`?"),
        "{err}"
    );
    assert!(
        err.contains(
            "note: checks across files that read `assertions`, `dashboards`, `folders`, `groups` were skipped: access.yaml could not be loaded"
        ),
        "{err}"
    );
    assert_eq!(err.matches("error[").count(), 3, "{err}");
    assert!(err.contains(". is invalid: 3 errors"), "{err}");
}

/// Regression (issue 21, defect 9), through `validate`: a portal split across two files
/// gave "missing required key `name`" and a misleading did-you-mean. It is named as one
/// portal declared in two files, with both places.
#[test]
fn a_portal_split_across_two_files_is_named_with_both_places() {
    let dir = crate::support::acme_copy();
    std::fs::write(
        dir.path().join("portals/globex-more.yaml"),
        "portals:\n  globex:\n    members:\n      - email: zed@globex.com\n        role: viewer\n        org: globex\n",
    )
    .unwrap();
    let (_, err) = expect_exit(dir.path(), &["validate", "."], 1);
    assert!(err.contains("portal `globex` is declared in two files"), "{err}");
    assert!(
        err.contains("portals/globex-more.yaml:2:") && err.contains("portals/globex.yaml:3:"),
        "both places: {err}"
    );
    assert!(
        !err.contains("missing required key") && !err.contains("did you mean"),
        "{err}"
    );
    assert!(err.contains("is invalid: 1 error"), "{err}");
}

/// Regression: one roster row with the wrong number of cells used to drop every other
/// row of its roster, and with them their own problems (a role typo on the next row).
#[test]
fn a_ragged_roster_row_hides_no_other_row() {
    let dir = crate::support::acme_copy();
    edit(
        &dir.path().join("rosters/globex.csv"),
        "eli@globex.com,editor,t-042,emea,\nfay@globex.com,,t-042,amer,2\n",
        "eli@globex.com,editor,t-042,emea,,extra\nfay@globex.com,edtor,t-042,amer,2\n",
    );
    let (_, err) = expect_exit(dir.path(), &["validate", "."], 1);
    assert!(
        err.contains("rosters/globex.csv:3:1") && err.contains("the row has 6 cells but the header has 5"),
        "{err}"
    );
    assert!(
        err.contains("error[unknown-role]")
            && err.contains("rosters/globex.csv:4:")
            && err.contains("did you mean `editor`?"),
        "{err}"
    );
}
