//! Property tests: no input makes the loader panic or hang. Random bytes, truncated
//! files and mutated valid configs all end in diagnostics or a valid state.

use proptest::prelude::*;

use super::{MemorySource, load};
use crate::model::CalendarDate;

const VALID: &str = include_str!("../../../../examples/acme/access.yaml");
const WORKSPACE: &str = include_str!("../../../../examples/acme/workspace.yaml");
const PORTAL: &str = include_str!("../../../../examples/acme/portals/globex.yaml");
const ROSTER: &str = include_str!("../../../../examples/acme/rosters/globex.csv");

fn load_files(files: &[(&str, &str)]) {
    let mut source = MemorySource::default();
    for (path, text) in files {
        source = source.with(path, text);
    }
    let today = CalendarDate::from_ymd(2026, 11, 26).expect("a real date");
    let loaded = load(&source, today).expect("memory sources always list");
    // Every diagnostic renders, and every located one names a file we gave.
    for diagnostic in &loaded.diagnostics {
        if let Some(location) = &diagnostic.location {
            assert!(location.line >= 1, "{diagnostic:?}");
        }
    }
}

fn config_with(portal: &str, roster: &str) -> Vec<(&'static str, String)> {
    vec![
        ("workspace.yaml", WORKSPACE.to_string()),
        ("access.yaml", VALID.to_string()),
        ("portals/globex.yaml", portal.to_string()),
        ("rosters/globex.csv", roster.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        load_files(&[("a.yaml", &text)]);
    }

    #[test]
    fn truncated_configs_never_panic(cut in 0usize..PORTAL.len(), roster_cut in 0usize..ROSTER.len()) {
        let portal: String = PORTAL.chars().take(cut).collect();
        let roster: String = ROSTER.chars().take(roster_cut).collect();
        let files = config_with(&portal, &roster);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        load_files(&files);
    }

    #[test]
    fn mutated_configs_never_panic(
        at in 0usize..PORTAL.len(),
        insert in prop::sample::select(vec![
            ":", "-", "[", "]", "{", "}", "\"", "'", "&a", "*a", "!!str", "\t", "\n", "  ", "#",
            "~", "null", "0x1", "1e999", "\u{feff}", "é", ",", "|", ">", "? ", "%YAML 1.2\n", "---\n",
        ]),
        delete in 0usize..4,
    ) {
        let mut portal: Vec<char> = PORTAL.chars().collect();
        let at = at.min(portal.len());
        let end = (at + delete).min(portal.len());
        portal.splice(at..end, insert.chars());
        let portal: String = portal.into_iter().collect();
        let files = config_with(&portal, ROSTER);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        load_files(&files);
    }

    #[test]
    fn mutated_rosters_never_panic(
        at in 0usize..ROSTER.len(),
        insert in prop::sample::select(vec![",", "\"", "\n", "\r\n", ",,,,", "\u{0}", "attributes.", "é"]),
    ) {
        let mut roster: Vec<char> = ROSTER.chars().collect();
        roster.insert(at.min(roster.len()), insert.chars().next().unwrap_or(','));
        let roster: String = roster.into_iter().collect();
        let files = config_with(PORTAL, &roster);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        load_files(&files);
    }
}

#[test]
fn pathological_inputs_end_quickly() {
    let deep = "a:\n".to_string() + &"  ".repeat(10) + &"[".repeat(10_000);
    load_files(&[("deep.yaml", &deep)]);
    load_files(&[("long.yaml", &"x".repeat(1_000_000))]);
    load_files(&[(
        "keys.yaml",
        &(0..10_000).map(|i| format!("k{i}: 1\n")).collect::<String>(),
    )]);
    load_files(&[("bom.yaml", "\u{feff}workspace: {name: A}\n")]);
}
