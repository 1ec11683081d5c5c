//! Benchmarks of effective access at 100k partners: building the full `AccessIndex`,
//! and the access impact of a one-member change (one partner added to a group that has
//! shares) on a generated config of 100k partners and 5k folders.
//!
//! Run with `cargo bench --bench access`. Loading the config and diffing the plan happen
//! once, outside the measured closures: the impact figure is the cost a reviewer pays on
//! top of `plan`. Target: under 50 ms for the one-member change.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portalctl_core::access::{AccessIndex, impact};
use portalctl_core::config::{MemorySource, load};
use portalctl_core::model::{CalendarDate, Principal, State};
use portalctl_core::plan::diff;
use portalctl_testdata::{Shape, generate, partner_email};

const PARTNERS: usize = 100_000;

fn today() -> CalendarDate {
    CalendarDate::from_ymd(2026, 11, 26).expect("a real day")
}

fn generated() -> State {
    let shape = Shape {
        partners: PARTNERS,
        seed: 1,
    };
    let mut source = MemorySource::default();
    for (path, text) in &generate(shape) {
        source = source.with(path, text);
    }
    let loaded = load(&source, today()).expect("the generated config loads");
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
    loaded.state.without_expired(today()).into_owned()
}

fn bench(c: &mut Criterion) {
    let before = generated();
    assert_eq!(before.folders.len(), PARTNERS / 20);

    let mut group = c.benchmark_group("access");
    group.sample_size(10);
    group.bench_function("index_new_100k_partners", |b| {
        b.iter(|| AccessIndex::new(black_box(&before), today()));
    });

    // One partner joins a group that has shares.
    let shared_group = before
        .shares
        .keys()
        .find_map(|(_, principal)| match principal {
            Principal::Group(name) => Some(name.clone()),
            _ => None,
        })
        .expect("the generated config shares folders with groups");
    let shape = Shape {
        partners: PARTNERS,
        seed: 1,
    };
    let newcomer = (0..PARTNERS)
        .map(|index| partner_email(shape, index))
        .find(|email| !before.groups[&shared_group].members.contains(email))
        .expect("someone is not in the group yet");
    let mut after = before.clone();
    after
        .groups
        .get_mut(&shared_group)
        .expect("the group exists")
        .members
        .insert(newcomer.clone());
    let plan = diff(&before, &after);
    let result = impact(&before, &after, &plan, today());
    assert!(
        result.partners_gaining() == 1,
        "{newcomer} gains access via {shared_group}"
    );
    eprintln!(
        "one-member change: {newcomer} joins {shared_group}: {} folder changes",
        result.changes.len()
    );
    group.bench_function("impact_one_member_100k_partners_5k_folders", |b| {
        b.iter(|| impact(black_box(&before), black_box(&after), black_box(&plan), today()));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
