//! Property tests: no input makes the loader panic or hang. Random bytes, truncated
//! files and mutated valid configs all end in diagnostics or a valid state, and every
//! diagnostic points into a file that was given, at a line that exists.

use proptest::prelude::*;

use super::{MemorySource, load};
use crate::model::CalendarDate;

const VALID: &str = include_str!("../../../../examples/acme/access.yaml");
const WORKSPACE: &str = include_str!("../../../../examples/acme/workspace.yaml");
const PORTAL: &str = include_str!("../../../../examples/acme/portals/globex.yaml");
const ROSTER: &str = include_str!("../../../../examples/acme/rosters/globex.csv");

use std::sync::mpsc;
use std::time::Duration;

use super::Location;

fn load_files(files: &[(&str, &str)]) {
    let mut source = MemorySource::default();
    for (path, text) in files {
        source = source.with(path, text);
    }
    let today = CalendarDate::from_ymd(2026, 11, 26).expect("a real date");
    let loaded = load(&source, today).expect("memory sources always list");
    // Every diagnostic renders, and every located one names a file we gave, at a line
    // that file has (the last line may be empty: "unexpected end of file"). Line counts
    // are taken once per file: a file can have thousands of diagnostics.
    let line_counts: Vec<(&str, u32)> = files
        .iter()
        .map(|(path, text)| (*path, line_count(text)))
        .collect();
    for diagnostic in &loaded.diagnostics {
        let related = diagnostic.related.iter().map(|related| &related.location);
        for location in diagnostic.location.iter().chain(related) {
            assert_points_into(&line_counts, location, &format!("{diagnostic:?}"));
        }
    }
}

/// How many lines YAML sees in `text`: it breaks lines at `\n`, `\r\n` and a lone `\r`.
fn line_count(text: &str) -> u32 {
    let breaks = text.replace("\r\n", "\n").matches(['\n', '\r']).count();
    u32::try_from(breaks).unwrap_or(u32::MAX).saturating_add(1)
}

fn assert_points_into(line_counts: &[(&str, u32)], location: &Location, diagnostic: &str) {
    let Some(&(_, lines)) = line_counts.iter().find(|(path, _)| *path == location.file) else {
        panic!("`{}` is not a file we gave: {diagnostic}", location.file);
    };
    // The parser reports the end of input on the line after the last one.
    assert!(
        location.line >= 1 && location.line <= lines.saturating_add(1),
        "line {} of a {lines}-line file: {diagnostic}",
        location.line
    );
}

/// `load_files`, failing (instead of hanging the suite) when one input takes longer than
/// `bound`. The bound is far above the expected time: it catches hangs and blow-ups, not
/// slowness, which `cargo bench` measures.
fn load_within(bound: Duration, name: &'static str, text: String) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        load_files(&[(name, &text)]);
        // The receiver is gone only if the bound already failed the test.
        let _ = done.send(());
    });
    match finished.recv_timeout(bound) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("loading {name} took longer than {bound:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("loading {name} panicked"),
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
        let at = at.min(roster.len());
        roster.splice(at..at, insert.chars());
        let roster: String = roster.into_iter().collect();
        let files = config_with(PORTAL, &roster);
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        load_files(&files);
    }
}

#[test]
fn pathological_inputs_end_quickly() {
    let bound = Duration::from_secs(120);
    let deep = "a:\n".to_string() + &"  ".repeat(10) + &"[".repeat(10_000);
    load_within(bound, "deep.yaml", deep);
    load_within(bound, "long.yaml", "x".repeat(1_000_000));
    load_within(
        bound,
        "keys.yaml",
        (0..10_000).map(|i| format!("k{i}: 1\n")).collect(),
    );
    load_within(bound, "bom.yaml", "\u{feff}workspace: {name: A}\n".to_string());
}

#[test]
fn the_location_check_rejects_a_file_we_did_not_give() {
    let files = [("a.yaml", line_count("x: 1\n"))];
    let elsewhere = Location {
        file: "b.yaml".into(),
        line: 1,
        column: 1,
    };
    let caught = std::panic::catch_unwind(|| assert_points_into(&files, &elsewhere, "d"));
    assert!(caught.is_err());
    let past_the_end = Location {
        file: "a.yaml".into(),
        line: 9,
        column: 1,
    };
    let caught = std::panic::catch_unwind(|| assert_points_into(&files, &past_the_end, "d"));
    assert!(caught.is_err());
}
