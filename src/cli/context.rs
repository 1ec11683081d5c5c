//! What several commands share: the session (today's date, read once per command, and
//! what the command keeps alive until exit) and loading the config from a path.

use std::any::Any;
use std::cell::RefCell;
use std::path::Path;

use anyhow::Context as _;

use super::output::{UserError, say, say_raw};
use portalctl_core::config::{ConfigSource, Loaded, load};
use portalctl_core::model::CalendarDate;
use portalctl_sources::DirSource;

/// One command's view of the outside world that must not change while it runs.
pub struct Session {
    /// Today in UTC, read once: a run across midnight uses one day throughout.
    pub today: CalendarDate,
    /// Large values (loaded configs, states) kept until the process exits; see
    /// [`super::Finished`].
    retained: RefCell<Vec<Box<dyn Any>>>,
}

impl Session {
    /// Reads the clock once. `PORTALCTL_TODAY=YYYY-MM-DD` pins today (tests, and
    /// replaying an old plan).
    pub fn from_env() -> anyhow::Result<Self> {
        let today = match std::env::var("PORTALCTL_TODAY") {
            Ok(text) => text
                .parse()
                .map_err(|why: String| anyhow::anyhow!("`PORTALCTL_TODAY`: {why}"))?,
            Err(_) => CalendarDate::new(time::OffsetDateTime::now_utc().date()),
        };
        Ok(Self {
            today,
            retained: RefCell::new(Vec::new()),
        })
    }

    /// Keeps `value` alive until the session ends, so that freeing it is left to the
    /// process exit (or to whoever drops the session, in process).
    pub fn retain<T: 'static>(&self, value: T) {
        self.retained.borrow_mut().push(Box::new(value));
    }
}

/// Loads the config at `path` (a directory or a single file).
pub fn load_config(path: &Path, today: CalendarDate) -> anyhow::Result<Loaded> {
    let source = DirSource::new(path);
    // The source walks the directory once; the loader reuses what it found.
    if source.is_empty_dir().unwrap_or(false) {
        return Err(UserError::new(
            format!("no YAML files under `{}`", path.display()),
            "point `PATH` at a directory holding the config's `*.yaml` files",
        )
        .into());
    }
    load_source(&source, today).with_context(|| format!("cannot read the config at `{}`", path.display()))
}

/// Loads a config from any source and applies the checks every command applies to a
/// config it was given (the redaction placeholders of `import --redact-sensitive`).
///
/// # Errors
/// The source cannot be read.
pub fn load_source(source: &dyn ConfigSource, today: CalendarDate) -> std::io::Result<Loaded> {
    let mut loaded = load(source, today)?;
    portalctl_core::config::refuse_redaction_placeholders(&mut loaded);
    Ok(loaded)
}

/// Adds an error for each way the desired state breaks one of the config's assertions
/// (see [`portalctl_core::assurance::check_assertions`]).
pub fn check_assertions(loaded: &mut Loaded, today: CalendarDate) {
    portalctl_core::assurance::check_assertions(loaded, today);
}

/// When `loaded` (the config at `side`, e.g. a git revision) has errors, prints its
/// diagnostics and returns an error saying so, with `hint` as what to do next.
pub fn refuse_invalid(loaded: &Loaded, side: &str, hint: &str) -> anyhow::Result<()> {
    if !loaded.has_errors() {
        return Ok(());
    }
    let text = portalctl_core::config::diagnostic::render_text(
        &loaded.diagnostics,
        super::output::stderr_color(),
        &|file, line| loaded.source_line(file, line),
    );
    say_raw!("{text}");
    Err(UserError::new(
        format!(
            "the config at {side} is invalid: {} error(s)",
            loaded.errors().count()
        ),
        hint,
    )
    .into())
}

/// Loads the config and, when it has errors, prints them as `validate` does and returns
/// `None`; warnings are printed and the config returned.
pub fn load_valid_config(path: &Path, today: CalendarDate) -> anyhow::Result<Option<Loaded>> {
    let mut loaded = load_config(path, today)?;
    check_assertions(&mut loaded, today);
    say_raw!(
        "{}",
        portalctl_core::render::validate::diagnostics_text(&loaded, super::output::stderr_color())
    );
    if loaded.has_errors() {
        let errors = loaded.errors().count();
        say!(
            "{} is invalid: {errors} error{}; nothing was planned",
            path.display(),
            if errors == 1 { "" } else { "s" }
        );
        return Ok(None);
    }
    Ok(Some(loaded))
}

/// Whether opening `target` and reading it creates nothing: any `http(s)` target, and a
/// `sqlite:` file that exists.
fn reads_without_creating(target: &super::target::TargetArgs) -> bool {
    match target.target() {
        Ok(portalctl_client::Target::Sqlite(path)) => path.is_file(),
        Ok(_) => true,
        // The error is reported where the target is opened.
        Err(_) => false,
    }
}

/// Opens the target and reads its live state.
fn open_and_read(
    target: &super::target::TargetArgs,
    today: CalendarDate,
) -> anyhow::Result<(Box<dyn portalctl_client::Provider>, portalctl_client::Live)> {
    let provider = target.open(today)?;
    let live = read_live(provider.as_ref())?;
    Ok((provider, live))
}

/// Reads the live state, naming the target when that fails.
pub fn read_live(provider: &dyn portalctl_client::Provider) -> anyhow::Result<portalctl_client::Live> {
    provider
        .read()
        .with_context(|| format!("cannot read the live state from `{}`", provider.target()))
}

/// What planning keeps of a valid config: its state and the digest of its files. The
/// texts, source map and snippet indexes only serve diagnostics, which a valid config has
/// already printed.
pub struct ValidConfig {
    pub state: portalctl_core::model::State,
    /// `sha256:` of every file read, for saved plans.
    pub digest: String,
    /// The config's assertions and owners.
    pub assurance: portalctl_core::assurance::Assurance,
}

/// A valid config, the target, its live state, and the plan from live to the config.
pub struct Planned {
    pub loaded: ValidConfig,
    pub provider: Box<dyn portalctl_client::Provider>,
    pub live: portalctl_client::Live,
    pub plan: portalctl_core::plan::Plan,
    /// The progress line on a terminal, for the command's own steps (cleared before it
    /// prints).
    pub progress: super::progress::Progress,
}

/// What `plan`, `apply` and `drift` all start with, written once. `None` when the config
/// is invalid (its diagnostics are printed).
pub fn plan_against_live(
    path: &Path,
    target: &super::target::TargetArgs,
    session: &Session,
) -> anyhow::Result<Option<Planned>> {
    let today = session.today;
    let progress = super::progress::Progress::on_terminal();
    progress.step(format!("loading the config at {}", path.display()));
    // The live state is read while the config loads (the two take about as long), unless
    // opening the target would create something: a `sqlite:` file that does not exist
    // yet is created only once the config is known to be valid. An error reading it is
    // reported only for a valid config; an invalid one reports its own errors.
    let reading = reads_without_creating(target).then(|| {
        let target = target.clone();
        std::thread::spawn(move || open_and_read(&target, today))
    });
    let Some(mut loaded) = load_valid_config(path, today)? else {
        progress.clear();
        return Ok(None);
    };
    let config = ValidConfig {
        state: std::mem::take(&mut loaded.state),
        digest: std::mem::take(&mut loaded.digest),
        assurance: std::mem::take(&mut loaded.assurance),
    };
    // The rest (file texts, source map) is freed on a thread, while planning goes on.
    let release = std::thread::spawn(move || drop(loaded));
    if let Ok(shown) = target.target() {
        // Displayed without credentials.
        progress.step(format!("reading the live state of {shown}"));
    }
    let (provider, mut live) = match reading {
        Some(reading) => reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?,
        None => open_and_read(target, today)?,
    };
    // A service shows sensitive values as digests: the config's values stand in for those
    // that match, so only a value changed behind git's back shows (masked) in the plan.
    live.state.restore_masked(&config.state);
    progress.step("planning".to_string());
    let plan = portalctl_core::plan::plan(&live.state, &config.state, today);
    let _ = release.join();
    Ok(Some(Planned {
        loaded: config,
        provider,
        live,
        plan,
        progress,
    }))
}
