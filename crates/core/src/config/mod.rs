//! Loading configs: YAML and CSV files become a desired `State`, with a source map so
//! every problem names `file:line:col`.
//!
//! **Architecture invariant:** after the bytes are read (through a [`ConfigSource`]), this
//! module is pure: no clock (today is passed in), no environment, no network.

mod csv_roster;
pub mod diagnostic;
pub mod document;
#[cfg(test)]
mod fuzz_tests;
mod load;
mod merge;
mod parallel;
mod schema_check;
mod source;
pub mod source_map;
pub mod yaml;

pub use diagnostic::{Diagnostic, Location};
pub use load::{Loaded, Sha256Writer, SkippedChecks, hex, load, refuse_redaction_placeholders};
pub use source::{ConfigSource, MemorySource, Overlay, is_yaml, normalize};
pub use source_map::SourceMap;

/// The JSON Schema of config files, pretty-printed, as checked in under `schemas/`.
pub fn schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&document::schema()).expect("schemas serialize");
    text.push('\n');
    text
}
