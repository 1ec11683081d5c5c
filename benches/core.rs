//! Micro benchmarks of the pure core: loading and validating a generated config, diffing
//! two states, rendering a plan in each format, and access assurance (assertions against
//! the core of a no-op plan; the HTML report). `cargo bench --bench core`;
//! `PARTNERS=100000` adds the large size to loading and assurance (it takes a while).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use portalctl_core::config::{MemorySource, load};
use portalctl_core::model::{CalendarDate, State};
use portalctl_core::plan::{diff, plan};
use portalctl_core::render::{PlanReport, json, markdown, text};
use portalctl_testdata::{Shape, generate};

/// The shipped binary's allocator (`src/main.rs`), so that what is measured in-process is
/// what `portalctl` and `serve` pay: under glibc's malloc a third of a large group's commit
/// was in malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn today() -> CalendarDate {
    CalendarDate::from_ymd(2026, 11, 26).expect("a real day")
}

fn source(partners: usize) -> MemorySource {
    let mut source = MemorySource::default();
    for (path, text) in &generate(Shape {
        partners,
        seed: 1,
        dashboards: 0,
        layout: portalctl_testdata::Layout::Classic,
    }) {
        source = source.with(path, text);
    }
    source
}

fn state(partners: usize) -> State {
    let loaded = load(&source(partners), today()).expect("the generated config loads");
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
    loaded.state
}

/// The state with 1% of its members' roles changed and 1% of its shares removed.
fn changed(state: &State) -> State {
    let mut changed = state.clone();
    let step = 100;
    for (index, member) in changed.members.values_mut().enumerate() {
        if index % step == 0 {
            member.role = if member.role == "viewer" {
                "editor".into()
            } else {
                "viewer".into()
            };
        }
    }
    let doomed: Vec<_> = changed.shares.keys().step_by(step).cloned().collect();
    for key in doomed {
        changed.shares.remove(&key);
    }
    changed
}

/// `portalctl_testdata::assertions` for [`source`]'s config.
fn assertions(partners: usize) -> String {
    portalctl_testdata::assertions(&generate(Shape {
        partners,
        seed: 1,
        dashboards: 0,
        layout: portalctl_testdata::Layout::Classic,
    }))
}

fn sizes() -> Vec<usize> {
    let mut sizes = vec![1_000, 10_000];
    if let Some(extra) = std::env::var("PARTNERS").ok().and_then(|text| text.parse().ok()) {
        sizes.push(extra);
    }
    sizes
}

fn loading(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_and_validate");
    group.sample_size(10);
    for partners in sizes() {
        let files = source(partners);
        group.bench_with_input(BenchmarkId::from_parameter(partners), &files, |b, files| {
            b.iter(|| load(black_box(files), today()).expect("loads"));
        });
    }
    group.finish();
}

fn diffing(c: &mut Criterion) {
    let mut group = c.benchmark_group("diff");
    group.sample_size(10);
    for partners in [1_000, 10_000] {
        let live = state(partners);
        let desired = changed(&live);
        group.bench_with_input(BenchmarkId::new("identical", partners), &live, |b, live| {
            b.iter(|| diff(black_box(live), black_box(live)));
        });
        group.bench_with_input(
            BenchmarkId::new("one_percent", partners),
            &(&live, &desired),
            |b, (live, desired)| {
                b.iter(|| plan(black_box(live), black_box(desired), today()));
            },
        );
    }
    group.finish();
}

fn rendering(c: &mut Criterion) {
    let live = state(10_000);
    let desired = changed(&live);
    let the_plan = plan(&live, &desired, today());
    let impact = portalctl_core::access::impact(&live, &desired, &the_plan, today());
    let mut report = PlanReport::new(&the_plan, "sqlite:portalctl.db");
    report.access_impact = Some(&impact);
    let mut group = c.benchmark_group("render_10k_one_percent");
    group.sample_size(10);
    group.bench_function("text", |b| b.iter(|| text::render(black_box(&report), false)));
    group.bench_function("json", |b| b.iter(|| json::render(black_box(&report))));
    group.bench_function("markdown", |b| b.iter(|| markdown::render(black_box(&report))));
    group.finish();
}

/// A config of `portals` portals sharing one template (with `color` from it), one
/// member each.
fn templated_config(portals: usize, color: &str) -> MemorySource {
    use std::fmt::Write as _;
    let mut text = format!(
        "workspace: {{name: Acme, owner_domains: [acme.io]}}\nportal_templates:\n  partner-default:\n    color: \"{color}\"\n    logout_url: https://acme.io/bye\n    session_ttl: 12h\n    texts: {{help_url: https://acme.io/help}}\nportals:\n"
    );
    for n in 0..portals {
        let _ = write!(
            text,
            "  p{n}:\n    template: partner-default\n    name: Portal {n}\n    members:\n      - {{email: user{n}@partner{n}.com, role: viewer}}\n"
        );
    }
    MemorySource::default().with("config.yaml", &text)
}

/// 1,000 portals sharing one template: a plan after the template's colour changed (every
/// portal changes) against a no-op plan, both from loading the config to the markdown
/// comment.
fn template_change(c: &mut Criterion) {
    let portals = 1_000;
    let live = load(&templated_config(portals, "#0F62FE"), today()).expect("loads");
    assert!(!live.has_errors(), "{:?}", live.diagnostics.first());
    let live = live.state;
    let unchanged = templated_config(portals, "#0F62FE");
    let recoloured = templated_config(portals, "#112233");
    let mut group = c.benchmark_group("template_1000_portals");
    group.sample_size(20);
    for (name, files) in [("no_op", &unchanged), ("colour_changed", &recoloured)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let desired = load(black_box(files), today()).expect("loads").state;
                let the_plan = plan(&live, &desired, today());
                markdown::render(&PlanReport::new(&the_plan, "sqlite:portalctl.db"))
            });
        });
    }
    group.finish();
}

/// What assertions add to a no-op plan: the core of one (load and validate the config,
/// diff it against an identical live state) next to evaluating the assertions; and the
/// HTML report of every grant.
fn assurance(c: &mut Criterion) {
    use portalctl_core::assurance::{assertion, report};
    let mut group = c.benchmark_group("assurance");
    group.sample_size(10);
    for partners in sizes() {
        // Five assertions that hold, as scripts/bench-e2e times them end to end.
        let files = source(partners).with("assertions.yaml", &assertions(partners));
        let loaded = load(&files, today()).expect("loads");
        assert_eq!(
            loaded.assurance.assertions.len(),
            5,
            "{:?}",
            loaded.diagnostics.first()
        );
        let live = loaded.state.clone();
        group.bench_with_input(
            BenchmarkId::new("noop_plan_core", partners),
            &files,
            |b, files| {
                b.iter(|| {
                    let loaded = load(black_box(files), today()).expect("loads");
                    plan(black_box(&live), &loaded.state, today())
                });
            },
        );
        group.bench_with_input(BenchmarkId::new("assertions", partners), &loaded, |b, loaded| {
            b.iter(|| assertion::evaluate(&loaded.assurance.assertions, black_box(&loaded.state), today()));
        });
        group.bench_with_input(BenchmarkId::new("report_html", partners), &loaded, |b, loaded| {
            b.iter(|| {
                let grants =
                    report::Grants::new(black_box(&loaded.state), &loaded.assurance.owners, today(), None);
                let origin = report::Origin {
                    source: "git".into(),
                    revision: "HEAD".into(),
                    commit: None,
                    generated_at: "2026-11-26T00:00:00Z".into(),
                    today_from: "clock".into(),
                };
                let summary = report::summarize(&grants, origin, today(), None);
                let mut out = Vec::new();
                report::write_html(&mut out, &summary, &grants).expect("writes to memory");
                out.len()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, loading, diffing, rendering, template_change, assurance);
criterion_main!(benches);
