//! `portalctl drift`: report where live state differs from git, and who changed it.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::plan::PlanFormat;
use super::target::TargetArgs;
use super::{ExitStatus, context};
use portalctl_core::drift::{classify, render_json, render_markdown, render_text};

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Config directory (every *.yaml/*.yml below it) or a single file
    #[arg(default_value = ".")]
    path: PathBuf,
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,
    /// POST a JSON summary (with a `text` field, for Slack-style webhooks) when there is drift
    #[arg(long, value_name = "URL")]
    notify: Option<String>,
    /// Show partners as `a***@globex.com#1a2b` in the output (and the webhook notice)
    #[arg(long)]
    redact_emails: bool,
    #[command(flatten)]
    target: TargetArgs,
}

pub fn run(args: DriftArgs) -> anyhow::Result<ExitStatus> {
    let Some(context::Planned {
        loaded,
        provider,
        live,
        plan,
    }) = context::plan_against_live(&args.path, &args.target)?
    else {
        return Ok(ExitStatus::Failure);
    };
    let audit = if plan.is_empty() {
        Vec::new()
    } else {
        provider
            .audit(0)
            .with_context(|| format!("cannot read the audit log of `{}`", provider.target()))?
    };
    let today = context::today()?;
    let mut report = classify(&plan, &audit);
    // Seen from git: what live grants beyond the config is a gain, what it lacks a loss.
    report.access_impact = Some(portalctl_core::access::impact(
        &loaded.state.without_expired(today),
        &live.state,
        &plan,
        today,
    ));
    let target = provider.target();
    let rendered = match args.format {
        PlanFormat::Text => render_text(&report, target, live.revision),
        PlanFormat::Json => render_json(&report, target, live.revision),
        PlanFormat::Markdown => render_markdown(&report, target, live.revision),
    };
    let rendered = if args.redact_emails {
        portalctl_core::render::redact_text(&rendered)
    } else {
        rendered
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(rendered.as_bytes());
    let _ = stdout.flush();
    if report.has_drift()
        && let Some(url) = &args.notify
    {
        notify(url, &report, target, live.revision, args.redact_emails)?;
    }
    std::mem::forget(loaded);
    Ok(if report.has_drift() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// Posts the summary to a webhook; a failure is an error (the schedule should notice).
fn notify(
    url: &str,
    report: &portalctl_core::drift::DriftReport,
    target: &str,
    revision: u64,
    redact: bool,
) -> anyhow::Result<()> {
    let mut text = format!(
        "portalctl: {} on {target} (revision {revision})",
        report.summary()
    );
    for item in report.items.iter().take(10) {
        text.push_str(&format!(
            "\n{} {}",
            if item.grants_access { "⚠" } else { "•" },
            item.address
        ));
    }
    if report.items.len() > 10 {
        text.push_str(&format!("\n… and {} more", report.items.len() - 10));
    }
    let json = render_json(report, target, revision);
    let json = if redact {
        portalctl_core::render::redact_text(&json)
    } else {
        json
    };
    let text = if redact {
        portalctl_core::render::redact_text(&text)
    } else {
        text
    };
    let mut body: serde_json::Value = serde_json::from_str(&json)?;
    body["text"] = serde_json::Value::String(text);
    let response = reqwest::blocking::Client::new()
        .post(url)
        .json(&body)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .with_context(|| {
            format!(
                "cannot post the drift notice to `{}`",
                portalctl_core::plan::without_credentials(url)
            )
        })?;
    anyhow::ensure!(
        response.status().is_success(),
        "the drift notice was refused: {} answered {}",
        portalctl_core::plan::without_credentials(url),
        response.status()
    );
    eprintln!(
        "posted the drift notice to {}",
        portalctl_core::plan::without_credentials(url)
    );
    Ok(())
}
