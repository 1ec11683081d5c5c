//! What several commands share: today's date and loading the config from a path.

use std::path::Path;

use anyhow::Context as _;

use portalctl_core::config::{Loaded, load};
use portalctl_core::model::CalendarDate;
use portalctl_sources::DirSource;

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
        let text = portalctl_core::config::diagnostic::render_text(
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

/// Reads the live state, naming the target when that fails.
pub fn read_live(provider: &dyn portalctl_client::Provider) -> anyhow::Result<portalctl_client::Live> {
    provider
        .read()
        .with_context(|| format!("cannot read the live state from `{}`", provider.target()))
}

/// A valid config, the target, its live state, and the plan from live to the config.
pub struct Planned {
    pub loaded: Loaded,
    pub provider: Box<dyn portalctl_client::Provider>,
    pub live: portalctl_client::Live,
    pub plan: portalctl_core::plan::Plan,
}

/// What `plan`, `apply` and `drift` all start with. `None` when the config is invalid
/// (its diagnostics are printed).
pub fn plan_against_live(path: &Path, target: &super::target::TargetArgs) -> anyhow::Result<Option<Planned>> {
    let today = today()?;
    let Some(loaded) = load_valid_config(path)? else {
        return Ok(None);
    };
    let provider = target.open()?;
    let live = read_live(provider.as_ref())?;
    let plan = portalctl_core::plan::plan(&live.state, &loaded.state, today);
    Ok(Some(Planned {
        loaded,
        provider,
        live,
        plan,
    }))
}
