//! Exported configs load back to the state they were exported from, at benchmark shapes.

use std::collections::BTreeMap;

use portalctl_core::config::{MemorySource, load};
use portalctl_core::export::export;
use portalctl_core::model::{CalendarDate, State};
use portalctl_testdata::{Shape, generate};

fn round_trip(files: &BTreeMap<String, String>) -> State {
    let mut source = MemorySource::default();
    for (path, text) in files {
        source = source.with(path, text);
    }
    let loaded = load(&source, CalendarDate::from_ymd(2026, 11, 26).unwrap()).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    loaded.state
}

#[test]
fn exported_configs_load_back_to_the_same_state() {
    let original = round_trip(&generate(Shape {
        partners: 300,
        seed: 3,
        dashboards: 40,
        layout: portalctl_testdata::Layout::Classic,
    }));
    let exported = export(&original, false);
    assert!(
        exported.files.keys().any(|path| path.ends_with(".csv")),
        "large portals get CSV rosters"
    );
    assert_eq!(round_trip(&exported.files), original);
    assert!(!exported.sensitive.is_empty());
}

#[test]
fn redaction_leaves_placeholders() {
    let original = round_trip(&generate(Shape {
        partners: 120,
        seed: 3,
        dashboards: 0,
        layout: portalctl_testdata::Layout::Classic,
    }));
    let exported = export(&original, true);
    for text in exported.files.values() {
        assert!(
            !text.contains(",K-") && !text.contains(": K-"),
            "a sensitive value was written"
        );
    }
}
