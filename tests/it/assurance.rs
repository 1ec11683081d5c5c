//! Access assurance through the real binary: assertions checked by `validate`, `plan`,
//! `diff` and `drift` (offline and against a live service). Its config ([`CONFIG`],
//! [`assured_setup`]) also serves the owner tests in `plan.rs` and `codeowners.rs`, the
//! reports in `report.rs` and the review in `review.rs`.

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
pub fn changed(from: &str, to: &str) -> String {
    assert!(CONFIG.contains(from), "{from}");
    CONFIG.replacen(from, to, 1)
}

/// Adds `finance` to the Contoso room's shares: alice reaches it through the group.
pub fn group_on_the_contoso_room() -> String {
    changed(
        "      - org: contoso\n        access: view\n",
        "      - org: contoso\n        access: view\n      - group: finance\n        access: view\n",
    )
}

/// A `sqlite:` setup holding [`CONFIG`].
pub fn assured_setup() -> Setup {
    let setup = Setup::new(Kind::Sqlite);
    setup.write_config(CONFIG);
    setup
}

#[test]
fn each_assertion_form_holds_and_breaks_offline() {
    let setup = assured_setup();
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
        // `plan` refuses every form the same way.
        let (out, err) = setup.expect(&["plan", "config"], 1);
        assert!(out.is_empty(), "{out}");
        assert!(
            err.contains(&format!("assertion `{assertion}` is broken: {breach}"))
                && err.contains("nothing was planned"),
            "{err}"
        );
    }
}

#[test]
fn a_plan_breaking_an_assertion_through_a_group_added_to_a_share_fails() {
    let setup = assured_setup();
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
    let setup = assured_setup();
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
        let document = crate::output_schemas::assert_matches("drift", "drift --format json", &json);
        assert_eq!(document["broken_assertions"][0]["assertion"], name, "{json}");
    }
}
