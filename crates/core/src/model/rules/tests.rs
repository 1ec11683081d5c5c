//! Tests of the rules: one table-driven case per rule (a valid base state plus one JSON
//! fragment, and the problems expected), and a property test holding the incremental
//! judgement of a batch to the full check.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::model::{ResourceKey, ResourceValue};

fn today() -> CalendarDate {
    CalendarDate::from_ymd(2026, 11, 30).expect("a valid date")
}

/// A state that breaks no rule.
fn base() -> Value {
    json!({
        "workspace": {"name": "Acme", "owner_domains": ["acme.com"]},
        "attributes": {"tier": {"type": "enum", "values": ["gold", "silver"]}},
        "roles": {"analyst": {"extends": "viewer", "permissions": ["reports.view"]}},
        "partner_orgs": {"globex": {"domains": ["globex.com"]}},
        "portals": {"globex": {"name": "Globex", "color": "#112233", "logout_url": "https://globex.com/out"}},
        "members": [{"portal": "globex", "email": "alice@globex.com", "role": "viewer", "org": "globex"}],
        "groups": {"finance": {"members": ["alice@globex.com"]}},
        "folders": {"/Partners": {}},
        "shares": [{"folder": "/Partners", "principal": "group:finance", "access": "view"}]
    })
}

/// Merges `patch` into `base`: objects merge key by key, arrays are appended to.
fn merge(base: &mut Value, patch: Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (Value::Array(base), Value::Array(patch)) => base.extend(patch),
        (base, patch) => *base = patch,
    }
}

/// Checks the base state with `patch` merged in and compares (pointer, rule) of every
/// problem with `expected`.
#[track_caller]
fn check_case(patch: Value, expected: &[(&str, RuleId)]) {
    let mut input = base();
    merge(&mut input, patch);
    let state: State = serde_json::from_value(input).expect("the case is a well-formed state");
    let found: Vec<(String, RuleId)> = check(&state, today())
        .into_iter()
        .map(|violation| (violation.at.to_string(), violation.rule))
        .collect();
    let expected: Vec<(String, RuleId)> = expected
        .iter()
        .map(|(at, rule)| ((*at).to_string(), *rule))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn the_base_state_is_valid() {
    check_case(json!({}), &[]);
}

#[test]
fn workspace_rules() {
    use RuleId::*;
    check_case(
        json!({"workspace": {"name": " "}}),
        &[("/workspace/name", WorkspaceName)],
    );
    check_case(
        json!({"workspace": {"owner_domains": ["not a domain"]}}),
        &[("/workspace/owner_domains/not a domain", OwnerDomainInvalid)],
    );
}

#[test]
fn attribute_rules() {
    use RuleId::*;
    check_case(
        json!({"attributes": {"x": {"type": "enum"}}}),
        &[("/attributes/x/type", EnumWithoutValues)],
    );
    check_case(
        json!({"attributes": {"x": {"type": "string", "values": ["a"]}}}),
        &[("/attributes/x/values", ValuesOnNonEnum)],
    );
    check_case(
        json!({"attributes": {"x": {"type": "enum", "values": ["a", "a"]}}}),
        &[("/attributes/x/values", EnumValueRepeated)],
    );
}

#[test]
fn role_rules() {
    use RuleId::*;
    check_case(
        json!({"roles": {"viewer": {}}}),
        &[("/roles/viewer", BuiltinRoleRedefined)],
    );
    check_case(
        json!({"roles": {"x": {"extends": "nobody"}}}),
        &[("/roles/x/extends", RoleExtendsUnknown)],
    );
    check_case(
        json!({"roles": {"x": {"permissions": ["reports.fly"]}}}),
        &[("/roles/x/permissions/reports.fly", UnknownPermission)],
    );
    check_case(
        json!({"roles": {"a": {"extends": "b"}, "b": {"extends": "a"}}}),
        &[("/roles/a/extends", RoleCycle)],
    );
}

#[test]
fn partner_org_rules() {
    use RuleId::*;
    check_case(
        json!({"partner_orgs": {"x": {"domains": []}}}),
        &[("/partner_orgs/x/domains", OrgWithoutDomains)],
    );
    check_case(
        json!({"partner_orgs": {"x": {"domains": ["no domain"]}}}),
        &[("/partner_orgs/x/domains/no domain", OrgDomainInvalid)],
    );
    check_case(
        json!({"partner_orgs": {"x": {"domains": ["eu.acme.com"]}}}),
        &[("/partner_orgs/x/domains/eu.acme.com", OrgDomainInOwnerDomain)],
    );
}

#[test]
fn portal_rules() {
    use RuleId::*;
    let portal = |patch: Value| {
        let mut value = json!({"name": "X", "color": "#000000", "logout_url": "https://x.com"});
        merge(&mut value, patch);
        json!({"portals": {"x": value}})
    };
    check_case(
        json!({"portals": {"Bad_Name": {"name": "X", "color": "#000000", "logout_url": "https://x.com"}}}),
        &[("/portals/Bad_Name", PortalNameNotDnsLabel)],
    );
    check_case(
        portal(json!({"name": ""})),
        &[("/portals/x/name", PortalDisplayName)],
    );
    check_case(
        portal(json!({"color": "red"})),
        &[("/portals/x/color", PortalColor)],
    );
    check_case(
        portal(json!({"logout_url": "http://x.com"})),
        &[("/portals/x/logout_url", PortalLogoutUrl)],
    );
    check_case(
        portal(json!({"home_cover": "x.png"})),
        &[("/portals/x/home_cover", PortalHomeCover)],
    );
    check_case(
        portal(json!({"session_ttl": "1m"})),
        &[("/portals/x/session_ttl", PortalSessionTtl)],
    );
    check_case(
        portal(
            json!({"self_registration": {"enabled": true, "default_role": "nobody", "allowed_domains": ["x.com"]}}),
        ),
        &[(
            "/portals/x/self_registration/default_role",
            RegistrationUnknownRole,
        )],
    );
    check_case(
        portal(
            json!({"self_registration": {"enabled": false, "default_role": "viewer", "allowed_domains": ["acme.com"]}}),
        ),
        &[(
            "/portals/x/self_registration/allowed_domains/acme.com",
            RegistrationOwnerDomain,
        )],
    );
    check_case(
        portal(
            json!({"self_registration": {"enabled": true, "default_role": "viewer", "allowed_domains": []}}),
        ),
        &[(
            "/portals/x/self_registration/allowed_domains",
            RegistrationNoDomains,
        )],
    );
}

#[test]
fn member_rules() {
    use RuleId::*;
    let member = |patch: Value| {
        let mut value = json!({"portal": "globex", "email": "bob@globex.com", "role": "viewer"});
        merge(&mut value, patch);
        json!({"members": [value]})
    };
    check_case(
        member(json!({"portal": "nowhere"})),
        &[("/members/nowhere/bob@globex.com", MemberUnknownPortal)],
    );
    check_case(
        member(json!({"email": "bob"})),
        &[("/members/globex/bob/email", MemberInvalidEmail)],
    );
    check_case(
        member(json!({"email": "bob@acme.com"})),
        &[("/members/globex/bob@acme.com/email", MemberInOwnerDomain)],
    );
    check_case(
        member(json!({"role": "boss"})),
        &[("/members/globex/bob@globex.com/role", MemberUnknownRole)],
    );
    check_case(
        member(json!({"org": "initech"})),
        &[("/members/globex/bob@globex.com/org", MemberUnknownOrg)],
    );
    check_case(
        member(json!({"email": "bob@other.com", "org": "globex"})),
        &[("/members/globex/bob@other.com", MemberOutsideOrgDomains)],
    );
    check_case(
        member(json!({"attributes": {"size": "x"}})),
        &[(
            "/members/globex/bob@globex.com/attributes/size",
            MemberAttributeUndeclared,
        )],
    );
    check_case(
        member(json!({"attributes": {"tier": "bronze"}})),
        &[(
            "/members/globex/bob@globex.com/attributes/tier",
            MemberAttributeInvalid,
        )],
    );
    check_case(
        json!({"attributes": {"region": {"type": "string", "required": true}}}),
        &[(
            "/members/globex/alice@globex.com/attributes",
            MemberAttributeMissing,
        )],
    );
    check_case(
        member(json!({"expires": "2026-01-01"})),
        &[("/members/globex/bob@globex.com/expires", MembershipExpired)],
    );
}

#[test]
fn one_email_is_one_partner() {
    use RuleId::*;
    let portal = json!({"name": "Y", "color": "#000000", "logout_url": "https://y.com"});
    check_case(
        json!({"portals": {"zeta": portal}, "members": [{"portal": "zeta", "email": "alice@globex.com", "role": "viewer"}]}),
        &[("/members/zeta/alice@globex.com/org", PartnerOrgDiffers)],
    );
    check_case(
        json!({"portals": {"zeta": portal}, "members": [{"portal": "zeta", "email": "alice@globex.com", "role": "viewer",
            "org": "globex", "attributes": {"tier": "gold"}}]}),
        &[(
            "/members/zeta/alice@globex.com/attributes",
            PartnerAttributesDiffer,
        )],
    );
}

#[test]
fn group_folder_and_share_rules() {
    use RuleId::*;
    check_case(
        json!({"groups": {"finance": {"members": ["ghost@globex.com"]}}}),
        &[("/groups/finance/members/ghost@globex.com", GroupMemberNotPartner)],
    );
    check_case(
        json!({"folders": {"Partners": {}}}),
        &[("/folders/Partners", FolderPathInvalid)],
    );
    check_case(
        json!({"shares": [{"folder": "/Nowhere", "principal": "group:finance", "access": "view"}]}),
        &[("/shares/~1Nowhere/group:finance", ShareUnknownFolder)],
    );
    check_case(
        json!({"shares": [{"folder": "/Partners", "principal": "group:nobody", "access": "view"}]}),
        &[("/shares/~1Partners/group:nobody/group", ShareUnknownGroup)],
    );
    check_case(
        json!({"shares": [{"folder": "/Partners", "principal": "portal:nowhere", "access": "view"}]}),
        &[("/shares/~1Partners/portal:nowhere/portal", ShareUnknownPortal)],
    );
    check_case(
        json!({"shares": [{"folder": "/Partners", "principal": "user:ghost@globex.com", "access": "view"}]}),
        &[("/shares/~1Partners/user:ghost@globex.com/user", ShareUnknownUser)],
    );
    check_case(
        json!({"shares": [{"folder": "/Partners", "principal": "portal:globex", "access": "view", "expires": "2026-01-01"}]}),
        &[("/shares/~1Partners/portal:globex/expires", ShareExpired)],
    );
}

#[test]
fn dashboard_rules() {
    use RuleId::*;
    // A dashboard in a declared folder, with a share of its own, is valid.
    check_case(
        json!({"dashboards": {"/Partners/Q3 Revenue": {"description": "Quarterly revenue"}},
               "shares": [{"folder": "/Partners/Q3 Revenue", "principal": "user:alice@globex.com", "access": "view"}]}),
        &[],
    );
    check_case(
        json!({"dashboards": {"Partners/Q3": {}}}),
        &[("/dashboards/Partners~1Q3", DashboardPathInvalid)],
    );
    check_case(
        json!({"dashboards": {"/Finance/Q3": {}}}),
        &[("/dashboards/~1Finance~1Q3", DashboardUnknownFolder)],
    );
    check_case(
        json!({"dashboards": {"/Top": {}}}),
        &[("/dashboards/~1Top", DashboardUnknownFolder)],
    );
    check_case(
        json!({"folders": {"/Partners/Q3": {}}, "dashboards": {"/Partners/Q3": {}}}),
        &[("/dashboards/~1Partners~1Q3", DashboardIsFolder)],
    );
    // Nothing lies below a dashboard: a folder, or a dashboard in that folder.
    check_case(
        json!({"folders": {"/Partners/Q3/Inner": {}},
               "dashboards": {"/Partners/Q3": {}, "/Partners/Q3/Inner/D": {}}}),
        &[
            ("/folders/~1Partners~1Q3~1Inner", InsideDashboard),
            ("/dashboards/~1Partners~1Q3~1Inner~1D", InsideDashboard),
        ],
    );
    check_case(
        json!({"dashboards": {"/Partners/Q3": {}, "/Partners/Q3/D": {}}}),
        &[
            ("/dashboards/~1Partners~1Q3~1D", DashboardUnknownFolder),
            ("/dashboards/~1Partners~1Q3~1D", InsideDashboard),
        ],
    );
    // A share on a path that is neither a folder nor a dashboard.
    check_case(
        json!({"shares": [{"folder": "/Partners/Q4", "principal": "group:finance", "access": "view"}]}),
        &[("/shares/~1Partners~1Q4/group:finance", ShareUnknownFolder)],
    );
}

#[test]
fn a_dashboard_in_a_misspelt_folder_gets_a_hint() {
    let mut input = base();
    merge(&mut input, json!({"dashboards": {"/Partner/Q3": {}}}));
    let state: State = serde_json::from_value(input).expect("a state");
    let problems = check(&state, today());
    assert_eq!(problems.len(), 1);
    assert_eq!(
        problems[0].message,
        "dashboard `/Partner/Q3` is in folder `/Partner`, which is not declared"
    );
    assert_eq!(problems[0].hint.as_deref(), Some("did you mean `/Partners`?"));
}

#[test]
fn deleting_a_folder_that_holds_dashboards_is_an_error() {
    let mut input = base();
    merge(&mut input, json!({"dashboards": {"/Partners/Q3": {}}}));
    let before: State = serde_json::from_value(input).expect("a state");
    let changes = vec![
        Change::Delete {
            key: ResourceKey::Share {
                folder: "/Partners".into(),
                principal: "group:finance".parse().expect("a principal"),
            },
        },
        Change::Delete {
            key: ResourceKey::Folder("/Partners".into()),
        },
    ];
    let mut after = before.clone();
    after.apply(&changes).expect("the batch applies");
    let added = added_errors(&before, &after, &changes, today());
    let found: Vec<(String, RuleId)> = added.iter().map(|v| (v.at.to_string(), v.rule)).collect();
    assert_eq!(
        found,
        [(
            "/dashboards/~1Partners~1Q3".to_string(),
            RuleId::DashboardUnknownFolder
        )]
    );
}

#[test]
fn self_management_rules() {
    let delegated = |delegation: Value| json!({"partner_orgs": {"globex": {"self_management": delegation}}});
    check_case(
        delegated(
            json!({"admins": ["alice@globex.com"], "portals": ["globex"], "max_role": "analyst", "scim": true}),
        ),
        &[],
    );
    check_case(
        delegated(json!({"admins": ["bob@globex.com"], "max_role": "viewer"})),
        &[(
            "/partner_orgs/globex/self_management/admins/bob@globex.com",
            RuleId::SelfManagementAdminNotMember,
        )],
    );
    check_case(
        delegated(json!({"max_role": "boss", "default_role": "analyst"})),
        &[(
            "/partner_orgs/globex/self_management/max_role",
            RuleId::SelfManagementUnknownRole,
        )],
    );
    check_case(
        delegated(json!({"max_role": "viewer", "default_role": "editor"})),
        &[(
            "/partner_orgs/globex/self_management/default_role",
            RuleId::SelfManagementDefaultAboveMax,
        )],
    );
    check_case(
        delegated(json!({"portals": ["initech"], "max_role": "viewer"})),
        &[(
            "/partner_orgs/globex/self_management/portals/initech",
            RuleId::SelfManagementUnknownPortal,
        )],
    );
    check_case(
        delegated(json!({"max_role": "editor", "scim": true})),
        &[(
            "/partner_orgs/globex/self_management/portals",
            RuleId::SelfManagementScimWithoutPortals,
        )],
    );
}

/// A group may name people at a domain of an org that manages its people: they may be
/// added live by its admins or identity provider. Withdrawing the delegation makes them
/// errors again, in the full check and in the batch's.
#[test]
fn a_group_may_name_the_people_of_an_org_that_manages_them() {
    let delegating = json!({
        "partner_orgs": {"globex": {"self_management": {"portals": ["globex"], "max_role": "viewer"}}},
        "groups": {"finance": {"members": ["alice@globex.com", "pam@globex.com", "pam@sub.globex.com"]}},
    });
    check_case(delegating.clone(), &[]);
    check_case(
        json!({"groups": {"finance": {"members": ["pam@globex.com"]}}}),
        &[(
            "/groups/finance/members/pam@globex.com",
            RuleId::GroupMemberNotPartner,
        )],
    );
    check_case(
        json!({"partner_orgs": {"globex": {"self_management": {"max_role": "viewer"}}},
               "groups": {"finance": {"members": ["pam@initech.com"]}}}),
        &[(
            "/groups/finance/members/pam@initech.com",
            RuleId::GroupMemberNotPartner,
        )],
    );
    let mut input = base();
    merge(&mut input, delegating);
    let before: State = serde_json::from_value(input).expect("a state");
    let mut org = before.partner_orgs["globex"].clone();
    org.self_management = None;
    let changes = vec![Change::Put {
        key: ResourceKey::PartnerOrg("globex".into()),
        value: crate::model::ResourceValue::PartnerOrg(org),
    }];
    let mut after = before.clone();
    after.apply(&changes).expect("the batch applies");
    let found: Vec<(String, RuleId)> = added_errors(&before, &after, &changes, today())
        .into_iter()
        .map(|v| (v.at.to_string(), v.rule))
        .collect();
    let expected: Vec<(String, RuleId)> = ["pam@globex.com", "pam@sub.globex.com"]
        .iter()
        .map(|email| {
            (
                format!("/groups/finance/members/{email}"),
                RuleId::GroupMemberNotPartner,
            )
        })
        .collect();
    assert_eq!(found, expected);
    assert_eq!(
        check(&after, today())
            .into_iter()
            .map(|v| (v.at.to_string(), v.rule))
            .collect::<Vec<_>>(),
        expected
    );
}

#[test]
fn removing_a_partner_admin_from_the_org_is_an_added_error() {
    let mut input = base();
    merge(
        &mut input,
        json!({"partner_orgs": {"globex": {"self_management": {"admins": ["alice@globex.com"], "max_role": "viewer"}}}}),
    );
    let before: State = serde_json::from_value(input).expect("a state");
    assert_eq!(check(&before, today()), Vec::new());
    let changes = vec![Change::Delete {
        key: ResourceKey::Member {
            portal: "globex".into(),
            email: "alice@globex.com".into(),
        },
    }];
    let mut after = before.clone();
    after.apply(&changes).expect("the batch applies");
    let rules: Vec<RuleId> = added_errors(&before, &after, &changes, today())
        .iter()
        .map(|v| v.rule)
        .collect();
    assert!(rules.contains(&RuleId::SelfManagementAdminNotMember), "{rules:?}");
}

#[test]
fn a_batch_adding_an_org_domain_is_judged_by_the_errors_it_adds() {
    let mut input = base();
    // Unrelated errors already in the state, one of which quotes the org's domains.
    merge(
        &mut input,
        json!({"members": [{"portal": "globex", "email": "eve@else.com", "role": "viewer", "org": "globex"}],
               "groups": {"ops": {"members": ["ghost@globex.com"]}}}),
    );
    let before: State = serde_json::from_value(input).expect("a state");
    assert!(!check(&before, today()).is_empty());
    let org: crate::model::PartnerOrg =
        serde_json::from_value(json!({"domains": ["globex.com", "globex.de"]})).expect("an org");
    let changes = vec![Change::Put {
        key: ResourceKey::PartnerOrg("globex".into()),
        value: ResourceValue::PartnerOrg(org),
    }];
    let mut after = before.clone();
    after.apply(&changes).expect("the batch applies");
    assert_eq!(added_errors(&before, &after, &changes, today()), Vec::new());
}

/// Every change the property test draws from: a small universe of keys, each with a few
/// values, valid and not, so random batches meet every rule.
fn universe() -> Vec<Change> {
    let value = |kind, json: Value| ResourceValue::from_json(kind, json).expect("a well-formed value");
    let put = |key: ResourceKey, value: ResourceValue| Change::Put { key, value };
    let delete = |key: ResourceKey| Change::Delete { key };
    let mut changes = Vec::new();
    use crate::model::Kind;
    for owners in [json!([]), json!(["acme.com"]), json!(["globex.com"])] {
        changes.push(put(
            ResourceKey::Workspace,
            value(Kind::Workspace, json!({"name": "W", "owner_domains": owners})),
        ));
    }
    let attribute = ResourceKey::Attribute("tier".into());
    changes.push(put(
        attribute.clone(),
        value(Kind::Attribute, json!({"type": "string", "required": true})),
    ));
    changes.push(put(
        attribute.clone(),
        value(Kind::Attribute, json!({"type": "enum", "values": ["gold"]})),
    ));
    changes.push(delete(attribute));
    for (name, other) in [("r1", "r2"), ("r2", "r1")] {
        let key = ResourceKey::Role(name.into());
        changes.push(put(key.clone(), value(Kind::Role, json!({"extends": other}))));
        changes.push(put(
            key.clone(),
            value(Kind::Role, json!({"permissions": ["bogus"]})),
        ));
        changes.push(put(key.clone(), value(Kind::Role, json!({"extends": "viewer"}))));
        changes.push(delete(key));
    }
    for (name, domains) in [
        ("ox", json!(["x.com"])),
        ("ox", json!(["y.com"])),
        ("oy", json!(["y.com", "acme.com"])),
    ] {
        let key = ResourceKey::PartnerOrg(name.into());
        changes.push(put(
            key.clone(),
            value(Kind::PartnerOrg, json!({"domains": domains})),
        ));
        changes.push(delete(key));
    }
    // Self-managed orgs naming a partner (an admin), portals and roles that come and go.
    for delegation in [
        json!({"admins": ["a@x.com"], "portals": ["p"], "max_role": "r1", "default_role": "viewer", "scim": true}),
        json!({"admins": ["a@x.com", "b@y.com"], "portals": ["q", "z"], "max_role": "viewer", "default_role": "r2"}),
    ] {
        changes.push(put(
            ResourceKey::PartnerOrg("ox".into()),
            value(
                Kind::PartnerOrg,
                json!({"domains": ["x.com"], "self_management": delegation}),
            ),
        ));
    }
    for name in ["p", "q"] {
        let key = ResourceKey::Portal(name.into());
        let portal = json!({"name": "P", "color": "#000000", "logout_url": "https://p.com"});
        changes.push(put(key.clone(), value(Kind::Portal, portal.clone())));
        let mut registering = portal;
        merge(
            &mut registering,
            json!({"self_registration": {"enabled": true, "default_role": "r1", "allowed_domains": ["x.com"]}}),
        );
        changes.push(put(key.clone(), value(Kind::Portal, registering)));
        changes.push(delete(key));
    }
    for portal in ["p", "q", "z"] {
        for email in ["a@x.com", "b@y.com", "c@acme.com"] {
            let key = ResourceKey::Member {
                portal: portal.into(),
                email: email.into(),
            };
            for member in [
                json!({"role": "viewer", "org": "ox"}),
                json!({"role": "r1"}),
                json!({"role": "viewer", "attributes": {"tier": "gold"}}),
                json!({"role": "r2", "org": "oy", "expires": "2020-01-01"}),
            ] {
                changes.push(put(key.clone(), value(Kind::Member, member)));
            }
            changes.push(delete(key));
        }
    }
    let group = ResourceKey::Group("g".into());
    changes.push(put(
        group.clone(),
        value(Kind::Group, json!({"members": ["a@x.com", "b@y.com"]})),
    ));
    changes.push(put(group.clone(), value(Kind::Group, json!({"members": []}))));
    changes.push(delete(group));
    for path in ["/A", "/A/B", "/A/D/F"] {
        let key = ResourceKey::Folder(path.into());
        changes.push(put(key.clone(), value(Kind::Folder, json!({}))));
        changes.push(delete(key));
    }
    // Dashboards in a folder, in a missing one, at a folder's path, below a dashboard.
    for path in ["/A/D", "/A/B", "/C/D", "/A/D/E", "/A/D/F/G"] {
        let key = ResourceKey::Dashboard(path.into());
        changes.push(put(key.clone(), value(Kind::Dashboard, json!({}))));
        changes.push(delete(key));
    }
    for (folder, principal) in [
        ("/A", "group:g"),
        ("/A", "user:a@x.com"),
        ("/A/B", "portal:p"),
        ("/C", "portal:q"),
        ("/A/D", "group:g"),
        ("/A/D/E", "user:a@x.com"),
    ] {
        let key = ResourceKey::Share {
            folder: folder.into(),
            principal: principal.parse().expect("a principal"),
        };
        changes.push(put(key.clone(), value(Kind::Share, json!({"access": "view"}))));
        changes.push(delete(key));
    }
    changes
}

fn error_ids(violations: &[Violation]) -> BTreeSet<ProblemId> {
    violations
        .iter()
        .filter(|violation| violation.severity == Severity::Error)
        .map(Violation::identity)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The incremental judgement of a batch equals `check(after) − check(before)`.
    #[test]
    fn incremental_validation_equals_the_full_check(
        setup in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        batch in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let universe = universe();
        let mut before = State::default();
        for pick in &setup {
            // Changes that do not apply (deleting what is absent) are skipped.
            let _ = before.apply(std::slice::from_ref(pick.get(&universe)));
        }
        // Keep the picks that apply after the ones before them: a batch is applied in order.
        let mut changes: Vec<Change> = Vec::new();
        let mut after = before.clone();
        for pick in &batch {
            let change = pick.get(&universe).clone();
            if after.apply(std::slice::from_ref(&change)).is_ok() {
                changes.push(change);
            }
        }
        let mut replayed = before.clone();
        prop_assert!(replayed.apply(&changes).is_ok());
        prop_assert_eq!(&replayed, &after);
        let full: BTreeSet<ProblemId> = error_ids(&check(&after, today()))
            .difference(&error_ids(&check(&before, today())))
            .cloned()
            .collect();
        let incremental = error_ids(&added_errors(&before, &after, &changes, today()));
        prop_assert_eq!(incremental, full);
    }
}

/// Which rules are about other resources (`409 conflicts_with_state` in the service) and
/// which hold of one resource (`422 invalid_changes`, stated by the OpenAPI document).
/// `depends_on_other_resources` matches every rule without a wildcard, so a new rule
/// needs a decision there; this table says why each is where it is.
#[test]
fn rules_about_other_resources_are_those_a_schema_cannot_state() {
    use RuleId as R;
    let single_resource = [
        R::WorkspaceName,         // name is not blank
        R::OwnerDomainInvalid,    // a pattern
        R::EnumWithoutValues,     // the attribute's own `values`
        R::ValuesOnNonEnum,       // ditto
        R::EnumValueRepeated,     // `uniqueItems`
        R::BuiltinRoleRedefined,  // the role's path name
        R::UnknownPermission,     // an enum of the built-in permissions
        R::OrgWithoutDomains,     // `minItems`
        R::OrgDomainInvalid,      // a pattern
        R::PortalNameNotDnsLabel, // the path name's pattern
        R::PortalDisplayName,     // not blank
        R::PortalColor,           // a pattern
        R::PortalLogoutUrl,       // a pattern
        R::PortalHomeCover,       // a pattern
        R::PortalSessionTtl,      // a pattern of the range
        R::RegistrationNoDomains, // enabled needs `allowed_domains`
        R::PortalText,            // `maxLength`
        R::PortalHelpUrl,         // a pattern
        R::MemberInvalidEmail,    // the path email's pattern
        R::FolderPathInvalid,     // the path's pattern
        R::DashboardPathInvalid,  // the path's pattern
        R::MembershipExpired,     // a warning about the date
        R::ShareExpired,          // a warning about the date
    ];
    let other_resources = [
        R::RoleExtendsUnknown,
        R::RoleCycle,
        R::OrgDomainInOwnerDomain,
        R::RegistrationUnknownRole,
        R::RegistrationOwnerDomain,
        R::RegistrationUnknownGroup,
        R::PortalSeatLimit,
        R::OrgSeatLimit,
        R::MemberUnknownPortal,
        R::MemberInOwnerDomain,
        R::MemberUnknownRole,
        R::MemberUnknownOrg,
        R::MemberOutsideOrgDomains,
        R::MemberAttributeUndeclared,
        R::MemberAttributeInvalid,
        R::MemberAttributeMissing,
        R::MemberAttributeContradictsOrg,
        R::OrgAttributeUndeclared,
        R::PartnerOrgDiffers,
        R::PartnerAttributesDiffer,
        R::GroupMemberNotPartner,
        R::ShareUnknownFolder,
        R::ShareUnknownGroup,
        R::ShareUnknownPortal,
        R::ShareUnknownOrg,
        R::ShareUnknownUser,
        R::DashboardUnknownFolder, // the folder is another resource
        R::DashboardIsFolder,      // ditto
        R::InsideDashboard,        // ditto
    ];
    for rule in single_resource {
        assert!(!rule.depends_on_other_resources(), "{rule:?}");
    }
    for rule in other_resources {
        assert!(rule.depends_on_other_resources(), "{rule:?}");
    }
    let listed: BTreeSet<RuleId> = single_resource.into_iter().chain(other_resources).collect();
    assert_eq!(listed.len(), single_resource.len() + other_resources.len());
}

/// `seat_limit_errors` counts an org's distinct partners across its portals, refuses a
/// batch that takes it past its limit, and lets through one that does not add a partner
/// (a second seat of a partner it has, or a batch on an org already over its limit that
/// does not grow it).
#[test]
fn org_seat_limits_count_partners_once_and_judge_only_growth() {
    let mut input = base();
    merge(
        &mut input,
        json!({
            "partner_orgs": {"globex": {"domains": ["globex.com"], "max_members": 2},
                             "initech": {"domains": ["initech.com"], "max_members": 1}},
            "portals": {"second": {"name": "Second", "color": "#112233", "logout_url": "https://globex.com/out"}},
            "members": [{"portal": "globex", "email": "bob@globex.com", "role": "viewer", "org": "globex"},
                        {"portal": "globex", "email": "ian@initech.com", "role": "viewer", "org": "initech"},
                        {"portal": "second", "email": "ivy@initech.com", "role": "viewer", "org": "initech"}]
        }),
    );
    let before: State = serde_json::from_value(input).expect("a well-formed state");
    let put = |portal: &str, email: &str, org: &str| Change::Put {
        key: ResourceKey::Member {
            portal: portal.into(),
            email: email.into(),
        },
        value: ResourceValue::Member(
            serde_json::from_value(json!({"role": "viewer", "org": org})).expect("a membership"),
        ),
    };
    let judged = |changes: &[Change]| {
        let mut after = before.clone();
        after.apply(changes).expect("the batch applies");
        seat_limit_errors(&before, &after, changes)
            .into_iter()
            .map(|violation| (violation.at.to_string(), violation.rule))
            .collect::<Vec<_>>()
    };
    // alice and bob already fill globex's two seats; alice in a second portal is no new seat.
    assert_eq!(judged(&[put("second", "alice@globex.com", "globex")]), []);
    assert_eq!(
        judged(&[put("second", "carol@globex.com", "globex")]),
        [(
            "/partner_orgs/globex/max_members".to_string(),
            RuleId::OrgSeatLimit
        )]
    );
    // initech is over its limit already (two partners for one seat): a write that does
    // not add a partner passes, one that adds another is refused.
    assert_eq!(judged(&[put("second", "ian@initech.com", "initech")]), []);
    assert_eq!(
        judged(&[put("second", "ike@initech.com", "initech")]),
        [(
            "/partner_orgs/initech/max_members".to_string(),
            RuleId::OrgSeatLimit
        )]
    );
}

/// A refusal lists a few of the errors a batch adds and counts all of them, whatever their
/// number; whether they all concern other resources is judged over all of them, listed or
/// not.
#[test]
fn added_errors_are_listed_up_to_a_bound_and_counted_in_full() {
    let before: State = serde_json::from_value(base()).expect("a state");
    let unknown: Vec<String> = (0..1_000).map(|n| format!("ghost{n:04}@globex.com")).collect();
    let group: crate::model::Group = serde_json::from_value(json!({"members": unknown})).expect("a group");
    let mut changes = vec![Change::Put {
        key: ResourceKey::Group("ghosts".into()),
        value: ResourceValue::Group(group),
    }];
    let mut after = before.clone();
    after.apply(&changes).expect("the batch applies");
    let all = added_errors(&before, &after, &changes, today());
    assert_eq!(all.len(), 1_000);
    let listed = added_errors_listed(&before, &after, &changes, today(), None, 10);
    assert_eq!(listed.total, 1_000);
    assert_eq!(listed.listed.len(), 10);
    assert!(listed.listed.iter().all(|violation| all.contains(violation)));
    assert!(
        listed.all_depend_on_other_resources,
        "unknown partners conflict with the state"
    );

    // One more error, of a rule about the portal alone, and none listed: the batch is
    // invalid on its own, though no listed problem says so.
    let mut portal = before.portals["globex"].clone();
    portal.color = "not a colour".into();
    changes.push(Change::Put {
        key: ResourceKey::Portal("zz-last".into()),
        value: ResourceValue::Portal(portal),
    });
    let mut after = before.clone();
    after.apply(&changes).expect("the batch applies");
    let listed = added_errors_listed(&before, &after, &changes, today(), None, 0);
    assert!(listed.listed.is_empty());
    assert_eq!(
        listed.total,
        added_errors(&before, &after, &changes, today()).len()
    );
    assert!(listed.total > 1_000);
    assert!(!listed.all_depend_on_other_resources);
}
