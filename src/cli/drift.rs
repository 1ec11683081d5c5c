//! `portalctl drift`: report where live state differs from git, and who changed it.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::context::Session;
use super::output::UserError;
use super::output::say;
use super::plan::PlanFormat;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_client::RetryPolicy;
use portalctl_client::notify::{self, Notice};
use portalctl_core::drift::classify;
use portalctl_core::render::drift::{item_lines, render_json, render_markdown, render_text};

#[derive(Debug, Args)]
#[command(after_help = "\
Webhook: with `--notify URL`, a JSON body (the drift document, plus a `text` line and Slack \
`blocks` with the access impact first) is POSTed when there is drift, retried like requests \
to the target. The URL is a secret: only its host is ever printed. If drift was found and the \
notice still fails, both are said and the exit code is 1 (not 2), so a schedule notices.")]
pub struct DriftArgs {
    /// Config directory (every *.yaml/*.yml below it) or a single file
    #[arg(default_value = ".")]
    path: PathBuf,
    /// How to print the report
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    /// POST a notice (JSON with `text` and Slack `blocks`) to this webhook when there is drift
    #[arg(long, value_name = "URL")]
    notify: Option<String>,
    /// Show partners as `a***@globex.com#1a2b` in the output (and the webhook notice)
    #[arg(long)]
    redact_emails: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: DriftArgs, session: &Session) -> anyhow::Result<ExitStatus> {
    let Some(planned) = context::plan_against_live(&args.path, &args.target, session)? else {
        return Ok(ExitStatus::Failure);
    };
    let today = session.today;
    let (live, plan) = (&planned.live, &planned.plan);
    let audit = if plan.is_empty() {
        Vec::new()
    } else {
        planned
            .progress
            .step(format!("reading the audit log of {}", planned.provider.target()));
        planned
            .provider
            .audit(0)
            .with_context(|| format!("cannot read the audit log of `{}`", planned.provider.target()))?
    };
    let mut report = classify(plan, &audit);
    // Assertions hold on live too: a change made behind git's back may break one.
    report.broken_assertions = portalctl_core::assurance::assertion::evaluate(
        &planned.loaded.assurance.assertions,
        &live.state,
        today,
    );
    // Seen from git: what live grants beyond the config is a gain, what it lacks a loss.
    report.access_impact = Some(portalctl_core::access::impact(
        &planned.loaded.state.without_expired(today),
        &live.state,
        plan,
        today,
    ));
    planned.progress.clear();
    let target = planned.provider.target();
    let rendered = match args.format {
        PlanFormat::Text => render_text(&report, target, live.revision),
        PlanFormat::Json => render_json(&report, target, live.revision),
        PlanFormat::Markdown => render_markdown(&report, target, live.revision),
    };
    let redact = |text: String| {
        if args.redact_emails {
            portalctl_core::render::redact_text(&text)
        } else {
            text
        }
    };
    super::output::print_stdout(&redact(rendered));
    let drift = report.has_drift();
    let status = if drift {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    };
    if drift && let Some(url) = &args.notify {
        let notice = Notice {
            headline: redact(format!(
                "portalctl: {} on {target} (revision {})",
                report.summary(),
                live.revision
            )),
            impact: report
                .access_impact
                .as_ref()
                .filter(|impact| !impact.is_empty())
                .map(|impact| {
                    bounded(portalctl_core::render::impact::section_lines(
                        impact,
                        args.redact_emails,
                    ))
                })
                .unwrap_or_default(),
            items: bounded(item_lines(&report).into_iter().map(&redact).collect()),
            report: serde_json::from_str(&redact(render_json(&report, target, live.revision)))?,
        };
        let retry = args
            .target
            .retry_for
            .map_or_else(RetryPolicy::default, RetryPolicy::retrying_for);
        match notify::post(url, &notice, retry) {
            Ok(host) => say!("posted the drift notice to {host}"),
            Err(error) => {
                session.retain((planned, report));
                return Err(UserError::new(
                    format!("drift was found, and the drift notice failed: {error}"),
                    "the report above is complete; check the webhook (exit code 1, not 2, so the schedule notices)",
                )
                .into());
            }
        }
    }
    session.retain((planned, report));
    Ok(status)
}

/// The first lines of a list for a chat notice, and how many were left out.
fn bounded(mut lines: Vec<String>) -> Vec<String> {
    const SHOWN: usize = 10;
    if lines.len() > SHOWN {
        let more = lines.len() - SHOWN;
        lines.truncate(SHOWN);
        lines.push(format!("… and {more} more"));
    }
    lines
}
