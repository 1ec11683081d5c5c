//! What a commit computes incrementally equals a full recomputation, on every config
//! shape (issue 26): after any sequence of the service's small writes
//! (`portalctl_testdata::writes`), the errors a batch adds (`rules::added_errors`) are
//! those of `check(after)` minus `check(before)` (also when partners' memberships are
//! found through the store's `PartnerPortals`), the seat limits it passes are those a
//! full count finds, and the access index and the partners' portals (and orgs' seats)
//! updated change by change equal those built from scratch; also for attribute
//! declarations tightened and loosened, and orgs over their seat limits.

use std::collections::BTreeSet;

use portalctl_core::access::AccessIndex;
use portalctl_core::config::{MemorySource, load};
use portalctl_core::model::rules::{self, PartnerPortals, ProblemId, Severity, Violation};
use portalctl_core::model::{AttributeValue, CalendarDate, Change, Kind, ResourceKey, ResourceValue, State};
use portalctl_testdata::writes::{self, PATHS, step};
use portalctl_testdata::{Layout, Shape, generate};
use proptest::prelude::*;
use serde_json::json;

fn today() -> CalendarDate {
    CalendarDate::from_ymd(2026, 11, 26).expect("a real day")
}

fn shape(layout: Layout) -> Shape {
    Shape {
        layout,
        ..Shape::new(600)
    }
}

fn loaded(layout: Layout) -> State {
    let mut source = MemorySource::default();
    for (path, text) in &generate(shape(layout)) {
        source = source.with(path, text);
    }
    let loaded = load(&source, today()).expect("the generated config loads");
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
    let mut state = loaded.state.without_expired(today()).into_owned();
    writes::prepare(&mut state);
    state
}

fn errors(violations: &[Violation]) -> BTreeSet<ProblemId> {
    violations
        .iter()
        .filter(|violation| violation.severity == Severity::Error)
        .map(Violation::identity)
        .collect()
}

/// Seat-limit problems by a full count: every portal and org over its limit after the
/// batch that has more members than before.
fn seat_problems_in_full(before: &State, after: &State) -> BTreeSet<String> {
    let over = |state: &State| {
        let mut counts = std::collections::BTreeMap::<String, BTreeSet<&str>>::new();
        for ((portal, email), member) in &state.members {
            counts
                .entry(format!("/portals/{portal}/max_members"))
                .or_default()
                .insert(email);
            if let Some(org) = &member.org {
                counts
                    .entry(format!("/partner_orgs/{org}/max_members"))
                    .or_default()
                    .insert(email);
            }
        }
        counts
            .into_iter()
            .map(|(pointer, emails)| (pointer, emails.len()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (counts_before, counts_after) = (over(before), over(after));
    let limit = |pointer: &str| -> Option<u32> {
        let mut parts = pointer.split('/').skip(1);
        match (parts.next(), parts.next()) {
            (Some("portals"), Some(name)) => after.portals.get(name)?.max_members,
            (Some("partner_orgs"), Some(name)) => after.partner_orgs.get(name)?.max_members,
            _ => None,
        }
    };
    counts_after
        .iter()
        .filter(|(pointer, count)| {
            limit(pointer).is_some_and(|limit| **count > limit as usize)
                && **count > counts_before.get(*pointer).copied().unwrap_or(0)
        })
        .map(|(pointer, _)| pointer.clone())
        .collect()
}

/// Attribute and org edits beyond the service's write paths, breaking and mending what the
/// partners' and orgs' values are checked against.
const EDITS: &[&str] = &[
    "region loses apac",
    "region gains latam",
    "region becomes a string",
    "seats becomes a string",
    "seats becomes required",
    "seats becomes optional",
    "contract_ref is deleted",
    "tier is declared",
    "tier is declared required",
    "org0 supplies a region",
    "org1 allows one partner",
];

fn edit(name: &str, state: &State) -> Vec<Change> {
    let attribute = |name: &str, json: serde_json::Value| Change::Put {
        key: ResourceKey::Attribute(name.into()),
        value: ResourceValue::from_json(Kind::Attribute, json).expect("an attribute"),
    };
    match name {
        "region loses apac" => vec![attribute(
            "region",
            json!({"type": "enum", "values": ["emea", "amer"]}),
        )],
        "region gains latam" => vec![attribute(
            "region",
            json!({"type": "enum", "values": ["emea", "amer", "apac", "latam"]}),
        )],
        "region becomes a string" => vec![attribute("region", json!({"type": "string"}))],
        "seats becomes a string" => vec![attribute("seats", json!({"type": "string"}))],
        "seats becomes required" => vec![attribute("seats", json!({"type": "integer", "required": true}))],
        "seats becomes optional" => vec![attribute("seats", json!({"type": "integer"}))],
        "contract_ref is deleted" => vec![Change::Delete {
            key: ResourceKey::Attribute("contract_ref".into()),
        }],
        "tier is declared" => vec![attribute("tier", json!({"type": "integer"}))],
        "tier is declared required" => vec![attribute("tier", json!({"type": "integer", "required": true}))],
        "org0 supplies a region" => {
            let mut org = state.partner_orgs["org0"].clone();
            org.attributes
                .insert("region".into(), AttributeValue::String("apac".into()));
            vec![Change::Put {
                key: ResourceKey::PartnerOrg("org0".into()),
                value: ResourceValue::PartnerOrg(org),
            }]
        }
        "org1 allows one partner" => {
            let mut org = state.partner_orgs["org1"].clone();
            org.max_members = Some(1);
            vec![Change::Put {
                key: ResourceKey::PartnerOrg("org1".into()),
                value: ResourceValue::PartnerOrg(org),
            }]
        }
        other => unreachable!("no edit {other}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn incremental_results_equal_a_full_recomputation_on_every_shape(
        picks in prop::collection::vec((0..PATHS.len() + EDITS.len(), 0usize..40), 1..25),
        tight in any::<bool>(),
    ) {
        for layout in Layout::ALL {
            let mut state = loaded(layout);
            if tight {
                // Seat limits at the current counts, so additions pass them.
                for (name, org) in &mut state.partner_orgs {
                    let count = state
                        .members
                        .iter()
                        .filter(|(_, member)| member.org.as_deref() == Some(name.as_str()))
                        .map(|((_, email), _)| email)
                        .collect::<BTreeSet<_>>()
                        .len();
                    org.max_members = Some(count as u32);
                }
                if let Some(portal) = state.portals.get_mut("p0") {
                    portal.max_members = Some(
                        state.members.keys().filter(|(portal, _)| portal == "p0").count() as u32,
                    );
                }
            }
            let mut index = AccessIndex::new(&state, today());
            let mut partners = PartnerPortals::new(&state);
            for &(path, n) in &picks {
                let (changes, path) = match PATHS.get(path) {
                    Some(name) => (step(name, n, shape(layout), &state).changes(&state), *name),
                    None => (edit(EDITS[path - PATHS.len()], &state), EDITS[path - PATHS.len()]),
                };
                let mut after = state.clone();
                if changes.is_empty() || after.apply(&changes).is_err() {
                    continue;
                }
                let full: BTreeSet<ProblemId> = errors(&rules::check(&after, today()))
                    .difference(&errors(&rules::check(&state, today())))
                    .cloned()
                    .collect();
                let incremental = errors(&rules::added_errors(&state, &after, &changes, today()));
                prop_assert_eq!(&incremental, &full, "{:?} {}", layout, path);
                // As the store judges it: memberships found through the kept portals.
                let with_partners = errors(&rules::added_errors_with(
                    &state, &after, &changes, today(), Some(&partners),
                ));
                prop_assert_eq!(&with_partners, &full, "{:?} {}", layout, path);
                // Listing one and counting the rest, as a refusal does, counts all of them
                // and says the same about whether they all concern other resources.
                let all = rules::added_errors_with(&state, &after, &changes, today(), Some(&partners));
                let listed = rules::added_errors_listed(&state, &after, &changes, today(), Some(&partners), 1);
                prop_assert_eq!(listed.total, all.len(), "{:?} {}", layout, path);
                prop_assert_eq!(listed.listed.len(), all.len().min(1));
                prop_assert!(listed.listed.iter().all(|violation| all.contains(violation)));
                prop_assert_eq!(
                    listed.all_depend_on_other_resources,
                    all.iter().all(|violation| violation.rule.depends_on_other_resources())
                );
                let seats: BTreeSet<String> = rules::seat_limit_errors_with(&state, &after, &changes, Some(&partners))
                    .iter()
                    .map(|violation| violation.at.to_string())
                    .collect();
                prop_assert_eq!(
                    &seats,
                    &seat_problems_in_full(&state, &after),
                    "{:?} {}", layout, path
                );
                for change in &changes {
                    let key = change.key();
                    index.update(key, state.get(key).as_ref(), after.get(key).as_ref(), today());
                    partners.update(key, state.get(key).as_ref(), after.get(key).as_ref());
                }
                prop_assert!(
                    partners == PartnerPortals::new(&after),
                    "{:?} {}: the kept portals differ from rebuilt ones", layout, path
                );
                prop_assert!(
                    index == AccessIndex::new(&after, today()),
                    "{:?} {}: the updated index differs from a rebuilt one", layout, path
                );
                state = after;
            }
        }
    }
}
