//! `portalctl diff --base REV`: what a change to the config does, from git alone — resource
//! changes and who gains or loses access — with no credentials and no target.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use portalctl_core::model::CalendarDate;

use super::plan::PlanFormat;
use super::{ExitStatus, context};
use portalctl_core::config::{ConfigSource, Loaded};
use portalctl_core::render::PlanReport;
use portalctl_sources::DirSource;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The revision to compare against, e.g. `origin/main` or `HEAD~1`
    #[arg(long, value_name = "REV")]
    base: String,
    /// The revision with the change [default: the working tree]
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    /// Config directory (or file) inside the repository
    #[arg(default_value = ".")]
    path: PathBuf,
    /// How to print the differences
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    /// Show partners as `a***@globex.com#1a2b` in the output
    #[arg(long)]
    redact_emails: bool,
}

/// Loads one side; an invalid side is reported with its diagnostics and revision.
/// The head side is also held to its assertions: a change breaking one fails.
fn load_side(
    source: &dyn ConfigSource,
    side: &str,
    today: CalendarDate,
    assertions: bool,
) -> anyhow::Result<Loaded> {
    let mut loaded =
        context::load_source(source, today).with_context(|| format!("cannot read the config at {side}"))?;
    if assertions {
        context::check_assertions(&mut loaded, today);
    }
    context::refuse_invalid(
        &loaded,
        side,
        "fix the config at that revision first; `portalctl validate` shows the same problems",
    )?;
    Ok(loaded)
}

pub fn run(args: DiffArgs, session: &context::Session) -> anyhow::Result<ExitStatus> {
    let today = session.today;
    let base_source = portalctl_sources::git::source_at(&args.path, &args.base)
        .with_context(|| format!("cannot read `{}`", args.base))?;
    let base = load_side(&base_source, &format!("`{}`", args.base), today, false)?;
    let (head, head_label) = match &args.head {
        Some(rev) => {
            let source = portalctl_sources::git::source_at(&args.path, rev)
                .with_context(|| format!("cannot read `{rev}`"))?;
            (load_side(&source, &format!("`{rev}`"), today, true)?, rev.clone())
        }
        None => (
            load_side(&DirSource::new(&args.path), "the working tree", today, true)?,
            "working tree".to_string(),
        ),
    };
    let before = base.state.without_expired(today).into_owned();
    let plan = portalctl_core::plan::plan(&before, &head.state, today);
    let label = format!("git diff {}..{head_label}", args.base);
    let impact =
        portalctl_core::access::ImpactWalk::new(&before, &head.state.without_expired(today), &plan, today);
    let approvals = head.assurance.owners.approvals(&plan, Some(&impact));
    let mut report = PlanReport::new(&plan, &label);
    report.command = "portalctl diff";
    report.access_impact = Some(&impact);
    report.approvals = Some(&approvals);
    report.redact_emails = args.redact_emails;
    super::output::print_stdout_with(|out| super::plan::render_plan_to(&report, args.format, out));
    let status = if plan.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    };
    session.retain((base, head, before, plan, impact));
    Ok(status)
}
