//! Property tests of the diff: applying `diff(A, B)` to `A` gives `B` exactly, and
//! `diff(B, B)` is empty, for random small states.
//!
//! **Architecture invariant:** test-only, no I/O.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::select;

use super::diff;
use crate::model::{
    Access, Attribute, AttributeType, AttributeValue, CalendarDate, Dashboard, Folder, Group, MemberSource,
    Membership, OrgKind, PartnerOrg, Portal, Principal, Role, SelfRegistration, SessionTtl, Share, State,
    Workspace,
};

const PORTALS: &[&str] = &["globex", "initech", "umbrella"];
const EMAILS: &[&str] = &["ana@globex.com", "ben@initech.com", "chen@globex.com"];
const ORGS: &[&str] = &["globex", "initech"];
const ROLES: &[&str] = &["analyst", "auditor"];
const ATTRIBUTES: &[&str] = &["contract_ref", "region"];
const GROUPS: &[&str] = &["finance", "sales"];
const FOLDERS: &[&str] = &["/Partners", "/Partners/Finance", "/Shared"];
const DASHBOARDS: &[&str] = &["/Partners/Finance/Q3 Revenue", "/Shared/Pipeline"];
const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "a much longer description that goes on for a while\nwith a second line",
];

fn name(choices: &'static [&'static str]) -> impl Strategy<Value = String> {
    select(choices).prop_map(str::to_string)
}

fn day() -> impl Strategy<Value = Option<CalendarDate>> {
    proptest::option::of((1u8..=3).prop_map(|d| CalendarDate::from_ymd(2027, 3, d).expect("a real day")))
}

fn attribute() -> impl Strategy<Value = Attribute> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(required, sensitive, self_service)| Attribute {
        kind: AttributeType::String,
        values: Vec::new(),
        required,
        sensitive,
        self_service,
    })
}

fn role() -> impl Strategy<Value = Role> {
    (
        proptest::option::of(name(WORDS)),
        proptest::option::of(name(ROLES)),
        proptest::collection::btree_set(select(&["reports.view", "reports.edit", "data.export"][..]), 0..3),
    )
        .prop_map(|(description, extends, permissions)| Role {
            description,
            extends,
            permissions: permissions.into_iter().map(str::to_string).collect(),
        })
}

fn org() -> impl Strategy<Value = PartnerOrg> {
    (
        proptest::collection::btree_set(name(&["globex.com", "initech.com", "globex.de"]), 1..3),
        select(&[OrgKind::ChannelPartner, OrgKind::Customer][..]),
    )
        .prop_map(|(domains, kind)| PartnerOrg {
            domains,
            kind,
            max_members: None,
            attributes: Default::default(),
            self_management: None,
        })
}

fn portal() -> impl Strategy<Value = Portal> {
    (
        name(&["Globex", "Globex Partners"]),
        name(&["#0F62FE", "#FF0000"]),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(proptest::collection::btree_set(
            name(&["globex.com", "initech.com"]),
            1..3,
        )),
        any::<(bool, bool)>(),
    )
        .prop_map(
            |(name, color, require_2fa, protect, registration, (invitations, removal_notice))| Portal {
                name,
                color,
                logout_url: "https://example.com/bye".into(),
                home_cover: None,
                session_ttl: SessionTtl::from_minutes(90),
                require_2fa,
                self_registration: registration.map(|allowed_domains| {
                    Box::new(SelfRegistration {
                        enabled: true,
                        default_role: "viewer".into(),
                        allowed_domains,
                        groups: Default::default(),
                        approval: crate::model::Approval::None,
                    })
                }),
                protect,
                texts: Default::default(),
                max_members: None,
                invitations,
                removal_notice,
                template: None,
                from_template: Default::default(),
            },
        )
}

fn member(managed_only: bool) -> impl Strategy<Value = Membership> {
    (
        name(&["viewer", "editor", "analyst"]),
        proptest::option::of(name(ORGS)),
        proptest::collection::btree_map(
            name(ATTRIBUTES),
            name(&["emea", "apac", "C-1"]).prop_map(AttributeValue::String),
            0..3,
        ),
        day(),
        0u8..3,
    )
        .prop_map(move |(role, org, attributes, expires, registration)| Membership {
            role,
            org,
            attributes: attributes.into(),
            expires,
            source: if registration > 0 && !managed_only {
                MemberSource::SelfRegistration
            } else {
                MemberSource::Managed
            },
            // Only the live side has registrations awaiting approval.
            pending: registration > 1 && !managed_only,
        })
}

fn group() -> impl Strategy<Value = Group> {
    (
        proptest::option::of(name(WORDS)),
        proptest::collection::btree_set(name(EMAILS), 0..4),
    )
        .prop_map(|(description, members)| Group {
            description,
            members,
            joined_live: Default::default(),
        })
}

fn principal() -> impl Strategy<Value = Principal> {
    prop_oneof![
        name(GROUPS).prop_map(Principal::Group),
        name(PORTALS).prop_map(Principal::Portal),
        name(EMAILS).prop_map(Principal::User),
    ]
}

fn share() -> impl Strategy<Value = Share> {
    (select(&[Access::View, Access::Edit][..]), day()).prop_map(|(access, expires)| Share { access, expires })
}

/// A small state. Members name only orgs the state has, as the rules require.
fn state(managed_only: bool) -> impl Strategy<Value = State> {
    (
        (
            name(&["Acme", "Acme Corp"]),
            proptest::collection::btree_set(name(&["acme.com", "acme.io"]), 0..3),
        ),
        proptest::collection::btree_map(name(ATTRIBUTES), attribute(), 0..3),
        proptest::collection::btree_map(name(ROLES), role(), 0..3),
        proptest::collection::btree_map(name(ORGS), org(), 0..3),
        proptest::collection::btree_map(name(PORTALS), portal(), 0..4),
        proptest::collection::btree_map((name(PORTALS), name(EMAILS)), member(managed_only), 0..6),
        proptest::collection::btree_map(name(GROUPS), group(), 0..3),
        (
            proptest::collection::btree_map(name(FOLDERS), proptest::option::of(name(WORDS)), 0..4),
            proptest::collection::btree_map(name(DASHBOARDS), proptest::option::of(name(WORDS)), 0..3),
        ),
        proptest::collection::btree_map(
            (prop_oneof![name(FOLDERS), name(DASHBOARDS)], principal()),
            share(),
            0..5,
        ),
    )
        .prop_map(
            |(
                (workspace, owner_domains),
                attributes,
                roles,
                partner_orgs,
                portals,
                mut members,
                groups,
                (folders, dashboards),
                shares,
            )| {
                for member in members.values_mut() {
                    if member
                        .org
                        .as_ref()
                        .is_some_and(|org| !partner_orgs.contains_key(org))
                    {
                        member.org = None;
                    }
                }
                State {
                    workspace: Workspace {
                        name: workspace,
                        owner_domains,
                        permissions: Default::default(),
                        console: Default::default(),
                    },
                    attributes,
                    roles,
                    partner_orgs,
                    portals,
                    members,
                    groups,
                    folders: folders
                        .into_iter()
                        .map(|(path, description)| (path, Folder { description }))
                        .collect(),
                    dashboards: dashboards
                        .into_iter()
                        .map(|(path, description)| (path, Dashboard { description }))
                        .collect(),
                    shares,
                }
            },
        )
}

/// What applying `diff(live, desired)` must give: `desired` plus the self-registered
/// live members it does not list, as long as their portal and org stay.
fn expected(live: &State, desired: &State) -> State {
    expected_with_raw(live, desired, desired)
}

/// As [`expected`], where `raw` is the config before expired grants were dropped: a
/// self-registered member it lists (even expired) is not kept.
fn expected_with_raw(live: &State, desired: &State, raw: &State) -> State {
    let mut expected = desired.clone();
    let kept: BTreeMap<_, _> = live
        .members
        .iter()
        .filter(|(key, member)| {
            (member.source == MemberSource::SelfRegistration || member.pending)
                && !raw.members.contains_key(*key)
                && desired.portals.contains_key(&key.0)
                && member
                    .org
                    .as_ref()
                    .is_none_or(|org| desired.partner_orgs.contains_key(org))
        })
        .map(|(key, member)| (key.clone(), member.clone()))
        .collect();
    expected.members.extend(kept);
    expected
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn applying_the_plan_gives_the_desired_state(a in state(true), b in state(true)) {
        let mut applied = a.clone();
        applied.apply(&diff(&a, &b).changes()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(applied, b);
    }

    #[test]
    fn self_registered_members_are_kept(a in state(false), b in state(true)) {
        let plan = diff(&a, &b);
        let mut applied = a.clone();
        applied.apply(&plan.changes()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(&applied, &expected(&a, &b));
        // Running the plan again changes nothing.
        prop_assert!(diff(&applied, &b).is_empty());
    }

    #[test]
    fn expired_grants_are_removed(a in state(false), raw in state(true)) {
        let today = CalendarDate::from_ymd(2027, 3, 2).expect("a real day");
        let desired = raw.without_expired(today);
        let plan = super::plan(&a, &raw, today);
        let mut applied = a.clone();
        applied.apply(&plan.changes()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(&applied, &expected_with_raw(&a, &desired, &raw));
        for change in &plan.resources {
            if let Some(expired) = plan.expired.iter().find(|e| e.key == change.key) {
                prop_assert_eq!(change.reason.clone(), Some(expired.reason()));
            }
        }
    }

    #[test]
    fn a_state_has_no_diff_with_itself(b in state(false)) {
        let plan = diff(&b, &b);
        prop_assert!(plan.is_empty());
        prop_assert!(plan.self_registered_not_in_git.is_empty());
        prop_assert!(plan.pending_registrations.is_empty());
    }

    #[test]
    fn the_plan_is_deterministic(a in state(false), b in state(true)) {
        prop_assert_eq!(diff(&a, &b), diff(&a, &b));
        let changes = diff(&a, &b).changes();
        let json = serde_json::to_string(&changes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Vec<crate::model::Change> =
            serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, changes);
    }
}
