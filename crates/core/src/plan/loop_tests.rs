//! Property test of the whole loop with what the live side owns (issue 21, acceptance 2):
//! rounds of "the config changes, partners self-register (joining groups, some awaiting
//! approval), admins approve some, the partner org's own admins (or its identity provider)
//! add and remove people under its `self_management`, `apply`"; after every round the plan of the unchanged
//! config is clean, drift finds nothing (the registrations are listed as expected live),
//! and `import` of the live state then `plan` is clean.
//!
//! Every plan reads the live side as a client does: masked (sensitive values of members
//! and of the partner org as digests, [`State::masked`]) with the config's values put back
//! where the digests match ([`State::restore_masked`]). `import` is checked both ways: with
//! the values (an admin token) it round-trips; from the masked state (a read token) it
//! writes placeholders, and the plan after it touches nothing but those sensitive fields.
//!
//! **Architecture invariant:** test-only, no I/O.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::plan;
use crate::config::{MemorySource, load};
use crate::model::{
    CalendarDate, Change, LiveKey, MemberSource, Membership, ResourceKey, ResourceValue, State,
};

const BASE: &str = "\
workspace: { name: Acme, owner_domains: [acme.io] }
attributes:
  contract_ref: { type: string, sensitive: true }
  tax_id: { type: string, sensitive: true }
partner_orgs:
  globex:
    domains: [globex.com]
    attributes: { tax_id: T-ORG-9 }
    self_management: { admins: [alice@globex.com], portals: [globex], max_role: editor, scim: true }
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    self_registration: { enabled: true, default_role: viewer, allowed_domains: [globex.com], groups: [finance] }
    members:
      - { email: alice@globex.com, role: viewer, org: globex, attributes: { contract_ref: K-1 } }
  initech:
    name: Initech
    color: \"#FF0000\"
    logout_url: https://acme.io/bye
    self_registration: { enabled: true, default_role: viewer, allowed_domains: [globex.com], groups: [finance, sales], approval: required }
groups:
  finance: { members: [alice@globex.com] }
  sales: { description: Sales }
folders:
  /Partners/Finance:
    shares: [{ group: finance, access: view }]
  /Partners/Sales:
    shares: [{ group: sales, access: view }]
";

const PORTALS: [&str; 2] = ["globex", "initech"];
const PARTNERS: [&str; 4] = [
    "r0@globex.com",
    "r1@globex.com",
    "r2@globex.com",
    "alice@globex.com",
];

fn today() -> CalendarDate {
    CalendarDate::from_ymd(2026, 12, 7).expect("a real day")
}

/// The config of a round: the base, changed in one of a few ways a team would.
fn config(variant: u8) -> String {
    match variant {
        // The registration model changes: who registered before is not moved.
        1 => BASE.replace("allowed_domains: [globex.com], groups: [finance] }", "allowed_domains: [globex.com], groups: [sales] }"),
        // A managed member is added, to a group a registration joins too.
        2 => BASE
            .replace(
                "      - { email: alice@globex.com",
                "      - { email: ben@globex.com, role: editor, org: globex }\n      - { email: alice@globex.com",
            )
            .replace("finance: { members: [alice@globex.com] }", "finance: { members: [alice@globex.com, ben@globex.com] }"),
        // A registered partner is adopted: git lists them, in the portal and the group.
        3 => BASE
            .replace(
                "      - { email: alice@globex.com",
                "      - { email: r0@globex.com, role: viewer, org: globex }\n      - { email: alice@globex.com",
            )
            .replace("finance: { members: [alice@globex.com] }", "finance: { members: [alice@globex.com, r0@globex.com] }"),
        // A declared entry leaves the group.
        4 => BASE.replace("finance: { members: [alice@globex.com] }", "finance: { description: Finance }"),
        // The org's roster is no longer delegated: the people it added go.
        5 => BASE.replace(
            "    self_management: { admins: [alice@globex.com], portals: [globex], max_role: editor, scim: true }\n",
            "",
        ),
        _ => BASE.to_string(),
    }
}

fn load_state(files: &[(&str, &str)]) -> State {
    let source = files
        .iter()
        .fold(MemorySource::default(), |source, (path, text)| {
            source.with(path, text)
        });
    let loaded = load(&source, today()).expect("loads");
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    loaded.state
}

/// What happens on the live side between two applies.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// A partner registers in a portal (as `POST /self-register` does).
    Register { portal: usize, partner: usize },
    /// An admin approves a registration (as `portalctl approve` does).
    Approve { portal: usize, partner: usize },
    /// The org's partner admin or SCIM adds a partner to a delegated portal.
    OrgAdds { partner: usize },
    /// The org's partner admin or SCIM removes a partner it added.
    OrgRemoves { partner: usize },
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (0..PORTALS.len(), 0..PARTNERS.len())
            .prop_map(|(portal, partner)| Event::Register { portal, partner }),
        (0..PORTALS.len(), 0..PARTNERS.len())
            .prop_map(|(portal, partner)| Event::Approve { portal, partner }),
        (0..PARTNERS.len()).prop_map(|partner| Event::OrgAdds { partner }),
        (0..PARTNERS.len()).prop_map(|partner| Event::OrgRemoves { partner }),
    ]
}

/// The changes of a partner org adding `email` to portal `globex` (as the People page and
/// SCIM do): only while the org delegates the portal, and only someone not there yet.
fn org_adds(live: &State, email: &str) -> Vec<Change> {
    let key = ("globex".to_string(), email.to_string());
    if !live.delegates("globex", "globex") || live.members.contains_key(&key) {
        return Vec::new();
    }
    vec![Change::Put {
        key: ResourceKey::Member {
            portal: key.0,
            email: key.1,
        },
        value: ResourceValue::Member(Membership {
            role: "viewer".into(),
            org: Some("globex".into()),
            attributes: Default::default(),
            expires: None,
            source: MemberSource::PartnerManaged,
            pending: false,
        }),
    }]
}

/// The changes of a partner org removing `email` from portal `globex`: only a member it added.
fn org_removes(live: &State, email: &str) -> Vec<Change> {
    let key = ("globex".to_string(), email.to_string());
    match live.members.get(&key) {
        Some(member) if member.managing_org() == Some("globex") => vec![Change::Delete {
            key: ResourceKey::Member {
                portal: key.0,
                email: key.1,
            },
        }],
        _ => Vec::new(),
    }
}

/// The changes of a self-registration, as the service makes them.
fn registration(live: &State, portal: &str, email: &str) -> Vec<Change> {
    let key = (portal.to_string(), email.to_string());
    let Some(registration) = live.portals[portal].self_registration.as_deref() else {
        return Vec::new();
    };
    if live.members.contains_key(&key) {
        return Vec::new();
    }
    let pending = registration.needs_approval();
    let mut changes = vec![Change::Put {
        key: ResourceKey::Member {
            portal: portal.to_string(),
            email: email.to_string(),
        },
        value: ResourceValue::Member(Membership {
            role: registration.default_role.clone(),
            org: Some("globex".into()),
            attributes: Default::default(),
            expires: None,
            source: MemberSource::SelfRegistration,
            pending,
        }),
    }];
    if !pending {
        changes.extend(live.join_live(&registration.groups, email));
    }
    changes
}

/// The live state as a client reads it from the service (sensitive values as digests),
/// with the config's values put back where the digests match, as `plan` and `drift` do.
/// Asserts that the masked read holds no sensitive value.
fn read_as_client(live: &State, desired: &State) -> Result<State, TestCaseError> {
    let masked = live.masked().into_owned();
    let json = serde_json::to_string(&masked).expect("a state serializes");
    for secret in ["K-1", "T-ORG-9"] {
        prop_assert!(!json.contains(secret), "the masked read shows {}", secret);
    }
    let mut read = masked;
    read.restore_masked(desired);
    Ok(read)
}

/// One round's checks, on the live state after `apply`.
fn check_round(live: &State, desired: &State) -> Result<(), TestCaseError> {
    // The plan of the unchanged config is clean, read as a client reads it: every digest
    // matches a value of the config.
    let mut read = live.masked().into_owned();
    prop_assert_eq!(read.restore_masked(desired), 0);
    prop_assert_eq!(&read, live);
    let read = read_as_client(live, desired)?;
    let again = plan(&read, desired, today());
    prop_assert!(again.is_empty(), "{:?}", again.resources);
    // Drift finds nothing; what the live side owns is listed as expected.
    let report = crate::drift::classify(&again, &[]);
    prop_assert!(!report.has_drift());
    // Owned live: a live-owned member, or a group entry a registration made that git does
    // not declare (it stays live-owned when git later declares the member itself).
    let owned_live = live.members.values().any(|member| member.live_origin().is_some())
        || live.groups.iter().any(|(name, group)| {
            group.joined_live.iter().any(|email| {
                !desired
                    .groups
                    .get(name)
                    .is_some_and(|declared| declared.members.contains(email))
            })
        });
    prop_assert_eq!(
        report.has_expected_live(),
        owned_live,
        "{:?} {:?} {:?} {:?}",
        report.self_registered_not_in_git,
        report.pending_registrations,
        report.partner_managed,
        report.live_group_entries
    );
    // `import` (with the values, as an admin token reads them) then `plan` is clean.
    let imported = load_export(&crate::export::export(live, false));
    let after_import = plan(&read, &imported, today());
    prop_assert!(after_import.is_empty(), "{:?}", after_import.resources);
    // `import` from the masked state (a read token): no value and no digest is written,
    // each is a placeholder, and the plan after it changes only those sensitive fields.
    let masked = live.masked();
    let export = crate::export::export(&masked, false);
    prop_assert!(export.redacted);
    for text in export.files.values() {
        for shown in ["K-1", "T-ORG-9", "sha256:"] {
            prop_assert!(!text.contains(shown), "import wrote {}: {}", shown, text);
        }
    }
    let placeholders = export
        .files
        .values()
        .map(|text| text.matches(crate::export::SENSITIVE_PLACEHOLDER).count())
        .sum::<usize>();
    prop_assert_eq!(placeholders, export.sensitive.len());
    let from_masked = load_export(&export);
    let mut read = masked.into_owned();
    read.restore_masked(&from_masked);
    let after_import = plan(&read, &from_masked, today());
    for change in &after_import.resources {
        prop_assert_eq!(change.action, super::Action::Update, "{:?}", change);
        for field in change.fields() {
            prop_assert!(
                matches!(field.delta, super::FieldDelta::Sensitive { .. }),
                "{:?}",
                change
            );
        }
    }
    prop_assert_eq!(after_import.resources.is_empty(), export.sensitive.is_empty());
    Ok(())
}

/// The state an `import`'s files load as.
fn load_export(export: &crate::export::Export) -> State {
    let files: Vec<(&str, &str)> = export
        .files
        .iter()
        .filter(|(path, _)| crate::config::is_yaml(std::path::Path::new(path.as_str())))
        .map(|(path, text)| (path.as_str(), text.as_str()))
        .collect();
    load_state(&files)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_loop_with_registrations_stays_clean(
        rounds in proptest::collection::vec((0u8..6, proptest::collection::vec(event(), 0..5)), 1..6)
    ) {
        let mut live = State::default();
        for (variant, events) in rounds {
            for event in events {
                let changes = match event {
                    Event::Register { portal, partner } if live.portals.contains_key(PORTALS[portal]) => {
                        registration(&live, PORTALS[portal], PARTNERS[partner])
                    }
                    Event::Approve { portal, partner } => live
                        .approval(PORTALS[portal], PARTNERS[partner])
                        .map(|(changes, _)| changes)
                        .unwrap_or_default(),
                    Event::Register { .. } => Vec::new(),
                    Event::OrgAdds { partner } => org_adds(&live, PARTNERS[partner]),
                    Event::OrgRemoves { partner } => org_removes(&live, PARTNERS[partner]),
                };
                live.apply(&changes).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            }
            // Group entries a registration made, as (group, email).
            let owned_live: BTreeSet<(String, String)> = live
                .groups
                .iter()
                .flat_map(|(group, value)| value.joined_live.iter().map(move |email| (group.clone(), email.clone())))
                .collect();
            let desired = load_state(&[("portalctl.yaml", &config(variant))]);
            let round = plan(&read_as_client(&live, &desired)?, &desired, today());
            live.apply(&round.changes()).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            // Every such entry the config does not declare stays, owned live, while its
            // member does.
            for (group, email) in &owned_live {
                let member = PORTALS.iter().any(|portal| live.members.contains_key(&(portal.to_string(), email.clone())));
                if member && !desired.groups[group].members.contains(email) {
                    prop_assert!(
                        live.is_live_owned(LiveKey::GroupEntry { group, email }),
                        "{email} left {group}"
                    );
                }
            }
            // Without the delegation, nobody the org added is left.
            if !desired.delegates("globex", "globex") {
                prop_assert!(live.members.values().all(|member| member.managing_org().is_none()));
            }
            check_round(&live, &desired)?;
        }
    }
}
