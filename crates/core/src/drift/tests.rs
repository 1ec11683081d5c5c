//! Classification of a plan (live → git) as drift (git → live), table-driven over the
//! renderers' representative plan, plus the last-write lookup and the JSON contract.

use super::*;
use crate::api::ChangeMeta;
use crate::model::{Op, WireChange};
use crate::plan::Action;
use crate::render::drift::{FORMAT_VERSION, render_json, render_markdown, render_text};
use crate::render::fixture;

fn entry(revision: u64, time: &str, commit: Option<&str>, changes: Vec<WireChange>) -> AuditEntry {
    AuditEntry {
        revision,
        time: time.to_string(),
        token: "admin".to_string(),
        meta: ChangeMeta {
            commit: commit.map(str::to_string),
            ..ChangeMeta::default()
        },
        change_count: changes.len() as u64,
        changes,
        caused_count: 0,
        changes_truncated: false,
    }
}

fn delete(kind: Kind, key: &[String]) -> WireChange {
    WireChange {
        op: Op::Delete,
        kind,
        key: key.to_vec(),
        value: None,
    }
}

#[test]
fn each_action_maps_to_its_drift_class() {
    let plan = fixture::plan();
    let report = classify(&plan, &[]);
    assert_eq!(report.items.len(), plan.resources.len());
    for resource in &plan.resources {
        let item = report
            .items
            .iter()
            .find(|item| item.kind == resource.key.kind() && item.key == resource.key.parts())
            .expect("every planned change is a drift item");
        let expected = match (resource.action, &resource.reason) {
            (Action::Delete, Some(ChangeReason::Expired(_))) => DriftClass::ExpiredStillLive,
            (Action::Delete, _) => DriftClass::AddedOutsideGit,
            (Action::Create, _) => DriftClass::RemovedOutsideGit,
            (Action::Update, _) => DriftClass::ChangedOutsideGit,
        };
        assert_eq!(item.class, expected, "{}", item.address);
    }
    // The fixture has every class but the expired one's presence depends on its data.
    for class in [
        DriftClass::AddedOutsideGit,
        DriftClass::RemovedOutsideGit,
        DriftClass::ChangedOutsideGit,
    ] {
        assert!(report.count(class) > 0, "the fixture exercises {class:?}");
    }
}

#[test]
fn fields_read_from_git_to_live() {
    let plan = fixture::plan();
    let report = classify(&plan, &[]);
    for (resource, item) in plan.resources.iter().filter_map(|resource| {
        report
            .items
            .iter()
            .find(|item| item.kind == resource.key.kind() && item.key == resource.key.parts())
            .map(|item| (resource, item))
    }) {
        for (planned, drifted) in resource.fields().iter().zip(&item.fields) {
            assert_eq!(planned.path, drifted.path);
            match (&planned.delta, &drifted.delta) {
                (
                    FieldDelta::Value { before, after },
                    FieldDelta::Value {
                        before: git,
                        after: live,
                    },
                ) => {
                    assert_eq!((before, after), (live, git));
                }
                (FieldDelta::Set { added, removed }, FieldDelta::Set { added: a, removed: r }) => {
                    assert_eq!((added, removed), (r, a));
                }
                (FieldDelta::Sensitive { before, after }, FieldDelta::Sensitive { before: b, after: a }) => {
                    assert_eq!((before, after), (a, b));
                }
                other => panic!("field kinds differ: {other:?}"),
            }
        }
    }
}

#[test]
fn access_grants_come_first() {
    let report = classify(&fixture::plan(), &[]);
    let first_other = report.items.iter().position(|item| !item.grants_access);
    if let Some(first_other) = first_other {
        assert!(report.items[first_other..].iter().all(|item| !item.grants_access));
    }
    for item in report.items.iter().filter(|item| item.grants_access) {
        assert!(matches!(
            item.kind,
            Kind::Member | Kind::Share | Kind::Group | Kind::Portal
        ));
        assert!(matches!(
            item.class,
            DriftClass::AddedOutsideGit | DriftClass::ChangedOutsideGit
        ));
    }
}

#[test]
fn the_last_write_is_the_newest_entry_touching_the_key_without_nanoseconds() {
    let plan = fixture::plan();
    let target = plan
        .resources
        .iter()
        .find(|resource| resource.action == Action::Delete && resource.reason.is_none())
        .expect("the fixture deletes something");
    let key = target.key.parts();
    let kind = target.key.kind();
    let audit = vec![
        entry(
            3,
            "2026-11-01T10:00:00.123456789Z",
            Some("aaaa"),
            vec![delete(kind, &key)],
        ),
        entry(
            4,
            "2026-11-02T11:30:00Z",
            None,
            vec![delete(Kind::Folder, &["/Other".to_string()])],
        ),
        entry(5, "2026-11-03T12:00:00.5+00:00", None, vec![delete(kind, &key)]),
    ];
    let report = classify(&plan, &audit);
    let item = report
        .items
        .iter()
        .find(|item| item.kind == kind && item.key == key)
        .expect("the item");
    assert_eq!(
        item.last_write,
        Some(LastWrite {
            revision: 5,
            time: "2026-11-03T12:00:00+00:00".to_string(),
            token: "admin".to_string(),
            commit: None,
        })
    );
    let untouched = report
        .items
        .iter()
        .filter(|other| !(other.kind == kind && other.key == key));
    assert!(untouched.into_iter().all(|other| other.last_write.is_none()));
}

#[test]
fn an_empty_plan_is_no_drift() {
    let report = classify(&crate::plan::Plan::default(), &[]);
    assert!(!report.has_drift());
    assert_eq!(report.summary(), "no drift: live matches git");
}

#[test]
fn summary_counts_each_class_and_pluralizes() {
    let report = classify(&fixture::plan(), &[]);
    let summary = report.summary();
    assert!(
        summary.starts_with(&format!("drift: {} differences", report.items.len())),
        "{summary}"
    );
    assert!(summary.contains(&format!("{} added", report.count(DriftClass::AddedOutsideGit))));
}

#[test]
fn json_is_structured_like_the_plan() {
    let mut report = classify(&fixture::plan(), &[]);
    report.access_impact = Some(fixture::impact());
    let text = render_json(&report, "sqlite:x.db", 7);
    let document: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(document["format_version"], FORMAT_VERSION);
    assert_eq!(document["summary"]["differences"], report.items.len());
    for item in document["items"].as_array().expect("items") {
        for field in item["fields"].as_array().expect("fields") {
            let kind = field["type"].as_str().expect("a typed field");
            assert!(["value", "set", "sensitive"].contains(&kind), "{field}");
            assert!(field["path"].is_string());
        }
    }
    fixture::assert_no_secret(&text);
    fixture::assert_no_secret(&render_text(&report, "sqlite:x.db", 7));
    fixture::assert_no_secret(&render_markdown(&report, "sqlite:x.db", 7));
}

#[test]
fn pending_registrations_are_listed_not_drift() {
    let plan = fixture::plan();
    assert!(!plan.pending_registrations.is_empty(), "the fixture has one");
    let report = classify(&plan, &[]);
    assert_eq!(report.pending_registrations, plan.pending_registrations);
    for (portal, email) in &report.pending_registrations {
        assert!(
            !report
                .items
                .iter()
                .any(|item| item.kind == Kind::Member && item.key == [portal.clone(), email.clone()]),
            "{email} is not drift"
        );
    }
    let text = render_text(&report, "sqlite:x.db", 7);
    assert!(
        text.contains("Expected live (owned by the live side, not drift): 1 self-registered member, 1 registration awaiting approval, 0 group entries")
            && text.contains("awaiting approval, granting nothing (approve with `portalctl approve globex wait@globex.com`)")
            && text.contains("    ? member wait@globex.com in portal globex"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&render_json(&report, "sqlite:x.db", 7)).unwrap();
    assert_eq!(
        json["pending_registrations"],
        serde_json::json!([{"portal": "globex", "email": "wait@globex.com"}])
    );
    assert_eq!(
        json["expected_live"],
        serde_json::json!({"self_registered": 1, "pending": 1, "group_entries": 0, "partner_managed": 0})
    );
    assert!(render_markdown(&report, "sqlite:x.db", 7).contains("1 registration awaiting approval"));
}

#[test]
fn a_member_removed_with_its_org_is_attributed_to_the_org_deletion() {
    let plan = fixture::plan();
    // The fixture's config lists ana@globex.com and live lacks her: removed outside git.
    let ana = vec!["globex".to_string(), "ana@globex.com".to_string()];
    let put = WireChange {
        op: Op::Put,
        kind: Kind::Member,
        key: ana.clone(),
        value: Some(serde_json::json!({"role": "editor", "org": "globex"})),
    };
    let created = entry(2, "2026-11-01T10:00:00Z", Some("aaaa"), vec![put]);
    let mut deletion = entry(
        3,
        "2026-11-02T11:30:00Z",
        None,
        vec![
            delete(Kind::PartnerOrg, &["globex".to_string()]),
            delete(Kind::Member, &ana),
        ],
    );
    deletion.token = "ops-console".into();
    deletion.caused_count = 1;
    let report = classify(&plan, &[created.clone(), deletion]);
    let item = report
        .items
        .iter()
        .find(|item| item.kind == Kind::Member && item.key == ana)
        .expect("ana is drift");
    assert_eq!(item.class, DriftClass::RemovedOutsideGit);
    assert_eq!(
        item.last_write,
        Some(LastWrite {
            revision: 3,
            time: "2026-11-02T11:30:00Z".to_string(),
            token: "ops-console".to_string(),
            commit: None,
        })
    );
    // Without the caused change the same removal would be blamed on her creator.
    let report = classify(&plan, &[created]);
    let item = report
        .items
        .iter()
        .find(|item| item.kind == Kind::Member && item.key == ana)
        .expect("ana is drift");
    assert_eq!(item.last_write.as_ref().map(|write| write.revision), Some(2));
}
