//! `portalctl history`: the service's audit log, newest first.

use std::fmt::Write as _;

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;
use super::explain::ExplainFormat;
use super::target::TargetArgs;
use portalctl_store::AuditEntry;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Show at most N entries
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

fn line(entry: &AuditEntry) -> String {
    let mut text = format!(
        "revision {}  {}  by `{}`",
        entry.revision, entry.time, entry.token
    );
    match &entry.meta.commit {
        Some(commit) => {
            let _ = write!(text, "  commit {}", &commit[..commit.len().min(12)]);
            if entry.meta.dirty == Some(true) {
                text.push_str(" (dirty tree)");
            }
        }
        None => text.push_str("  no commit"),
    }
    if let Some(author) = &entry.meta.author {
        let _ = write!(text, "  author {author}");
    }
    let mut kinds: std::collections::BTreeMap<String, (usize, usize)> = std::collections::BTreeMap::new();
    for change in &entry.changes {
        let counts = kinds.entry(change.kind.to_string()).or_default();
        match change.op {
            portalctl_core::model::Op::Put => counts.0 += 1,
            portalctl_core::model::Op::Delete => counts.1 += 1,
        }
    }
    let counts: Vec<String> = kinds
        .iter()
        .map(|(kind, (puts, deletes))| match (puts, deletes) {
            (p, 0) => format!("{kind} ~{p}"),
            (0, d) => format!("{kind} -{d}"),
            (p, d) => format!("{kind} ~{p} -{d}"),
        })
        .collect();
    let _ = write!(
        text,
        "\n    {} change(s): {}",
        entry.change_count,
        counts.join(", ")
    );
    text
}

pub fn run(args: HistoryArgs) -> anyhow::Result<ExitStatus> {
    let provider = args.target.open()?;
    let mut entries = provider
        .audit(0)
        .with_context(|| format!("cannot read the audit log of `{}`", provider.target()))?;
    entries.reverse();
    entries.truncate(args.limit);
    match args.format {
        ExplainFormat::Text => {
            println!("History of {} (newest first):", provider.target());
            if entries.is_empty() {
                println!("  no changes yet");
            }
            for entry in &entries {
                println!("{}", line(entry));
            }
        }
        ExplainFormat::Json => {
            let document =
                serde_json::json!({"format_version": 1, "target": provider.target(), "entries": entries});
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(ExitStatus::Success)
}
