//! `portalctl report`: who has access to what — every grant, from the config at a git
//! revision (or the working tree), or from the live target — as CSV, JSON or one
//! self-contained HTML file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::output::UserError;
use super::output::say;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_core::assurance::report::{self, Origin, Report, Scope};
use portalctl_core::assurance::{Assurance, Owners};
use portalctl_core::config::{ConfigSource, load};
use portalctl_core::model::{CalendarDate, State};
use portalctl_sources::DirSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// `# key: value` header lines, then one row per grant
    Csv,
    /// A versioned JSON document (`schemas/output/report.schema.json`)
    Json,
    /// One self-contained HTML file, sortable, with counts per org and portal
    Html,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The header names the source (git or live), the revision, the commit, the time, the day \
expiry was judged on (`today`, and `today_from`: `clock`, `commit date` or `--on`) and \
`rows_sha256`, the SHA-256 of the CSV column line and rows: `grep -v '^#' report.csv | sha256sum` \
gives it back, whatever the format.")]
pub struct ReportArgs {
    /// Config directory (every *.yaml/*.yml below it) or a single file; with --live, where
    /// the owners are read from
    #[arg(default_value = ".")]
    path: PathBuf,
    /// The config at this git revision (a commit, a tag, `HEAD~3`) instead of the working tree
    #[arg(long, value_name = "REV", conflicts_with = "live")]
    at: Option<String>,
    /// The live target's state instead of the config
    #[arg(long)]
    live: bool,
    /// Judge expiry on this day (YYYY-MM-DD): a grant counts when it is active then. By
    /// default the day the commit `--at` names was committed (UTC), else today
    #[arg(long, value_name = "YYYY-MM-DD")]
    on: Option<CalendarDate>,
    /// Only the grants of a portal's members, an org's partners or a folder and below:
    /// `portal:NAME`, `org:NAME`, `folder:/PATH`
    #[arg(long, value_name = "SCOPE")]
    scope: Option<Scope>,
    /// How to write the report
    #[arg(long, value_enum, default_value_t = ReportFormat::Csv)]
    format: ReportFormat,
    /// Write the report to FILE instead of stdout
    #[arg(long, short, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
}

/// The time now, RFC 3339 UTC, to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Loads a config from `source`; an invalid one is an error naming `side`.
pub fn load_assured(
    source: &dyn ConfigSource,
    side: &str,
    today: CalendarDate,
) -> anyhow::Result<(State, Assurance)> {
    let mut loaded = load(source, today).with_context(|| format!("cannot read the config at {side}"))?;
    context::refuse_invalid(&loaded, side, "`portalctl validate` shows the same problems")?;
    Ok((
        std::mem::take(&mut loaded.state),
        std::mem::take(&mut loaded.assurance),
    ))
}

/// The state and owners a report is made from, where they came from, and the day
/// expiry is judged on: `on` when given, else the commit date for `--at`, else `today`.
pub fn source_of_rows(
    path: &Path,
    at: Option<&str>,
    live: Option<&TargetArgs>,
    on: Option<CalendarDate>,
    today: CalendarDate,
) -> anyhow::Result<(State, Owners, Origin, CalendarDate)> {
    let generated_at = now_rfc3339();
    let (day, today_from) = match on {
        Some(day) => (day, "--on"),
        None => (today, "clock"),
    };
    if let Some(target) = live {
        let provider = target.open(today)?;
        let live = context::read_live(provider.as_ref())?;
        // Owners live in git: read them from the config when there is one.
        let owners = if path.exists() {
            match load(&DirSource::new(path), day) {
                Ok(loaded) if !loaded.has_errors() => loaded.assurance.owners,
                Ok(_) | Err(_) => {
                    super::output::warning(&format!(
                        "the config at `{}` does not load, so the report names no owners; `portalctl validate` shows why",
                        path.display()
                    ));
                    Owners::default()
                }
            }
        } else {
            Owners::default()
        };
        return Ok((
            live.state,
            owners,
            Origin {
                source: "live".into(),
                revision: provider.target().to_string(),
                commit: Some(live.revision.to_string()),
                generated_at,
                today_from: today_from.into(),
            },
            day,
        ));
    }
    if let Some(rev) = at {
        let source =
            portalctl_sources::git::source_at(path, rev).with_context(|| format!("cannot read `{rev}`"))?;
        let commit = portalctl_sources::git::commit_id(path, rev)?;
        let (day, today_from) = match on {
            Some(day) => (day, "--on"),
            None => {
                let seconds = portalctl_sources::git::commit_time(path, rev)?;
                let date = time::OffsetDateTime::from_unix_timestamp(seconds)
                    .with_context(|| format!("the commit date of `{rev}` is out of range"))?
                    .date();
                (CalendarDate::new(date), "commit date")
            }
        };
        let (state, assurance) = load_assured(&source, &format!("`{rev}`"), day)?;
        return Ok((
            state,
            assurance.owners,
            Origin {
                source: "git".into(),
                revision: rev.to_string(),
                commit: Some(commit),
                generated_at,
                today_from: today_from.into(),
            },
            day,
        ));
    }
    let (state, assurance) = load_assured(&DirSource::new(path), "the working tree", day)?;
    let commit = portalctl_sources::git::commit_info(path).ok().flatten();
    let revision = match &commit {
        Some(info) if info.dirty => "working tree (uncommitted changes)".to_string(),
        Some(_) => "working tree (clean)".to_string(),
        None => "working tree (not in git)".to_string(),
    };
    Ok((
        state,
        assurance.owners,
        Origin {
            source: "git".into(),
            revision,
            commit: commit.map(|info| info.id),
            generated_at,
            today_from: today_from.into(),
        },
        day,
    ))
}

/// Writes the report of `summary` (from [`report::summarize`]) in a format, its rows
/// walked again from `grants`.
fn write_report(
    out: &mut impl std::io::Write,
    summary: &Report,
    grants: &report::Grants<'_>,
    format: ReportFormat,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Csv => report::write_csv(out, summary, grants),
        ReportFormat::Json => report::write_json(out, summary, grants),
        ReportFormat::Html => report::write_html(out, summary, grants),
    }?;
    out.flush()
}

pub fn run(args: ReportArgs, session: &context::Session) -> anyhow::Result<ExitStatus> {
    let (state, owners, origin, today) = source_of_rows(
        &args.path,
        args.at.as_deref(),
        args.live.then_some(&args.target),
        args.on,
        session.today,
    )?;
    if let Some(scope) = &args.scope {
        scope.check(&state).map_err(|why| {
            UserError::new(why, "`--scope` takes `portal:NAME`, `org:NAME` or `folder:/PATH`")
        })?;
    }
    // Two passes over the grants, one partner's rows at a time: the first finds the
    // header's count and SHA-256, the second writes the rows after it.
    let grants = report::Grants::new(&state, &owners, today, args.scope.as_ref());
    let summary = report::summarize(&grants, origin, today, args.scope.clone());
    match &args.out {
        Some(out) => {
            let written = std::fs::File::create(out).and_then(|file| {
                write_report(&mut std::io::BufWriter::new(file), &summary, &grants, args.format)
            });
            if let Err(error) = written {
                let _ = std::fs::remove_file(out);
                return Err(error).with_context(|| format!("cannot write the report to `{}`", out.display()));
            }
            say!(
                "wrote {} grant(s) to {} ({})",
                summary.header.rows,
                out.display(),
                summary.header.rows_sha256
            );
        }
        None => {
            let stdout = std::io::stdout().lock();
            match write_report(
                &mut std::io::BufWriter::new(stdout),
                &summary,
                &grants,
                args.format,
            ) {
                // A reader that stopped early (`| head`) wants no more.
                Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(error).context("cannot write the report");
                }
                _ => {}
            }
        }
    }
    drop(grants);
    session.retain((state, summary));
    Ok(ExitStatus::Success)
}
