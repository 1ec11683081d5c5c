//! `portalctl plan`: what `apply` would change, and who would gain or lose access.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::context::Session;
use super::output::say;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_core::plan::file::{CREATED_BY, PlanFile, PlanFileHeader};
use portalctl_core::plan::safety::{self, Limits};
use portalctl_core::render::{self, PlanReport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-like `+ ~ -`, coloured on a terminal
    Text,
    /// A versioned JSON document
    Json,
    /// A pull-request comment
    Markdown,
}

/// Flags that bound what a plan may remove.
#[derive(Debug, Clone, Args)]
pub struct SafetyArgs {
    /// Refuse plans removing more than N members and shares [default: 25% of live, at least 10]
    #[arg(long, value_name = "N")]
    pub max_removals: Option<usize>,
    /// Allow a plan to remove any number of members and shares
    #[arg(long)]
    pub allow_mass_removal: bool,
}

impl SafetyArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            allow_mass_removal: self.allow_mass_removal,
            max_removals: self.max_removals,
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Config directory (every *.yaml/*.yml below it) or a single file
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Save the plan for `portalctl apply FILE`
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to print the plan
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Show partners as `a***@globex.com#1a2b` in the output
    #[arg(long)]
    pub redact_emails: bool,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub safety: SafetyArgs,
}

pub fn run(args: PlanArgs, session: &Session) -> anyhow::Result<ExitStatus> {
    let Some(planned) = context::plan_against_live(&args.path, &args.target, session)? else {
        return Ok(ExitStatus::Failure);
    };
    let today = session.today;
    let commit = portalctl_sources::git::commit_info(&args.path).ok().flatten();
    let desired = planned.loaded.state.without_expired(today);
    let after = planned.plan.state_after(&planned.live.state, &desired);
    let impact = portalctl_core::access::ImpactWalk::new(&planned.live.state, &after, &planned.plan, today);
    drop(after);
    drop(desired);
    let approvals = planned
        .loaded
        .assurance
        .owners
        .approvals(&planned.plan, Some(&impact));
    let mut report = PlanReport::new(&planned.plan, planned.provider.target());
    report.access_impact = Some(&impact);
    report.approvals = Some(&approvals);
    report.redact_emails = args.redact_emails;
    report.config_digest = Some(&planned.loaded.digest);
    report.git_commit = commit.as_ref().map(|c| c.id.as_str());
    planned.progress.clear();
    super::output::print_stdout_with(|out| render_plan_to(&report, args.format, out));
    if let Some(out) = &args.out {
        let file = PlanFile::new(
            PlanFileHeader {
                created_by: CREATED_BY.to_string(),
                target: planned.provider.target().to_string(),
                live_revision: Some(planned.live.revision),
                config_digest: planned.loaded.digest.clone(),
                git_commit: commit.as_ref().map(|c| c.id.clone()),
                git_author: commit.as_ref().map(|c| c.author.clone()),
                git_dirty: commit.as_ref().map(|c| c.dirty),
                // Kept only if the plan writes sensitive values: `apply` reads them back.
                config_path: std::fs::canonicalize(&args.path)
                    .ok()
                    .map(|path| path.display().to_string()),
            },
            &planned.plan,
        );
        std::fs::write(out, file.to_json())
            .with_context(|| format!("cannot write the plan to `{}`", out.display()))?;
        let sensitive = match &file.sensitive_values_from {
            Some(config) => format!(
                " (it holds only digests of its {}: `apply` reads them back from `{config}`)",
                super::validate::count(file.sensitive_values(), "sensitive value")
            ),
            None => String::new(),
        };
        say!(
            "saved the plan to {}: apply it with `portalctl apply {}`{sensitive}",
            out.display(),
            out.display()
        );
    }
    let refusals = safety::check(&planned.plan, &planned.live.state, &args.safety.limits());
    for refusal in &refusals {
        super::output::problem(
            &format!("apply would refuse this plan: {refusal}"),
            Some(&refusal.hint()),
        );
    }
    let status = if !refusals.is_empty() {
        ExitStatus::Failure
    } else if planned.plan.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Changes
    };
    // Freeing a large config costs more than exiting: leave it to the process exit.
    session.retain((planned, impact));
    Ok(status)
}

/// Writes a plan report in the chosen format to `out` as it renders (the access impact
/// change by change); text is coloured only when stdout is a terminal.
pub fn render_plan_to(
    report: &PlanReport<'_>,
    format: PlanFormat,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        PlanFormat::Text => render::text::render_to(report, super::output::stdout_color(), out),
        PlanFormat::Json => render::json::render_to(report, out),
        PlanFormat::Markdown => out.write_all(render::markdown::render(report).as_bytes()),
    }
}
