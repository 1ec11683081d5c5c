//! The document of `portalctl validate`: a loaded config's diagnostics (each with its
//! place and a source snippet), the checks that were skipped, and a closing line that
//! counts what the config declares or what is wrong with it; as text for people (the
//! CLI writes it to stderr), a versioned JSON document for tools, or GitHub Actions
//! annotations.
//!
//! **Architecture invariant:** pure: a loaded config in, a `String` out.

use std::fmt::Write as _;

use super::count;
use crate::config::Loaded;
use crate::config::diagnostic::{self, DiagnosticsReport};

/// The diagnostics with source snippets (coloured when `color`), then a `note:` paragraph
/// for each check that was skipped: what every command that loads a config prints first.
pub fn diagnostics_text(loaded: &Loaded, color: bool) -> String {
    let mut out = diagnostic::render_text(&loaded.diagnostics, color, &|file, line| {
        loaded.source_line(file, line)
    });
    for skipped in &loaded.skipped {
        let _ = writeln!(out, "note: {}\n", skipped.message());
    }
    out
}

/// [`diagnostics_text`], then `PATH is valid: 3 portals, …` or `PATH is invalid: 2
/// errors, 1 warning`.
pub fn render_text(loaded: &Loaded, path: &str, color: bool) -> String {
    let mut out = diagnostics_text(loaded, color);
    let errors = loaded.errors().count();
    let warnings = loaded.diagnostics.len() - errors;
    if loaded.has_errors() {
        let _ = writeln!(
            out,
            "{path} is invalid: {}{}",
            count(errors, "error"),
            if warnings > 0 {
                format!(", {}", count(warnings, "warning"))
            } else {
                String::new()
            }
        );
    } else {
        let state = &loaded.state;
        let _ = writeln!(
            out,
            "{path} is valid: {}, {}, {}, {}, {}{}{}",
            count(state.portals.len(), "portal"),
            count(state.members.len(), "member"),
            count(state.groups.len(), "group"),
            count(state.folders.len(), "folder"),
            if state.dashboards.is_empty() {
                String::new()
            } else {
                format!("{}, ", count(state.dashboards.len(), "dashboard"))
            },
            count(state.shares.len(), "share"),
            if warnings > 0 {
                format!(" ({})", count(warnings, "warning"))
            } else {
                String::new()
            }
        );
    }
    out
}

/// The [`DiagnosticsReport`] document, pretty-printed, with a final newline.
pub fn render_json(loaded: &Loaded) -> String {
    let mut text = serde_json::to_string_pretty(&DiagnosticsReport::new(&loaded.diagnostics))
        .expect("a diagnostics report serialises to JSON");
    text.push('\n');
    text
}

/// One GitHub Actions annotation per diagnostic.
pub fn render_github(loaded: &Loaded) -> String {
    diagnostic::render_github(&loaded.diagnostics)
}
