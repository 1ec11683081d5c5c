//! What several commands share: today's date and loading the config from a path.

use std::path::Path;

use anyhow::Context as _;

use crate::config::{DirSource, Loaded, load};
use crate::model::CalendarDate;

/// Today in UTC. `PORTALCTL_TODAY=YYYY-MM-DD` pins it (tests, and replaying an old plan).
pub fn today() -> anyhow::Result<CalendarDate> {
    match std::env::var("PORTALCTL_TODAY") {
        Ok(text) => text
            .parse()
            .map_err(|why: String| anyhow::anyhow!("PORTALCTL_TODAY: {why}")),
        Err(_) => Ok(CalendarDate::new(time::OffsetDateTime::now_utc().date())),
    }
}

/// Loads the config at `path` (a directory or a single file).
pub fn load_config(path: &Path) -> anyhow::Result<Loaded> {
    let today = today()?;
    load(&DirSource::new(path), today)
        .with_context(|| format!("cannot read the config at `{}`", path.display()))
}

/// Loads the config and, when it has errors, prints them as `validate` does and returns
/// `None`; warnings are printed and the config returned.
pub fn load_valid_config(path: &Path) -> anyhow::Result<Option<Loaded>> {
    let loaded = load_config(path)?;
    if !loaded.diagnostics.is_empty() {
        let text = crate::config::diagnostic::render_text(
            &loaded.diagnostics,
            super::output::stderr_color(),
            &|file, line| loaded.source_line(file, line),
        );
        eprint!("{text}");
    }
    if loaded.has_errors() {
        let errors = loaded.errors().count();
        eprintln!(
            "{} is invalid: {errors} error{}; nothing was planned",
            path.display(),
            if errors == 1 { "" } else { "s" }
        );
        return Ok(None);
    }
    Ok(Some(loaded))
}
