//! `portalctl history`: the service's audit log, newest first.

use std::fmt::Write as _;

use anyhow::Context as _;
use clap::Args;

use super::ExitStatus;
use super::explain::ExplainFormat;
use super::target::TargetArgs;
use portalctl_core::api::RevealEntry;
use portalctl_store::AuditEntry;

/// The version of the `history --format json` document.
pub const HISTORY_FORMAT_VERSION: u32 = 1;

/// `history --format json` (`schemas/output/history.schema.json`): the audit log, newest
/// first, times in whole seconds.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "portalctl history --format json", rename = "HistoryDocument")]
pub struct HistoryDocument {
    #[schemars(extend("const" = HISTORY_FORMAT_VERSION))]
    pub format_version: u32,
    /// The target as shown to users.
    pub target: String,
    /// Newest first; sensitive attribute values are `(sensitive)`. Empty with `--reveals`.
    pub entries: Vec<AuditEntry>,
    /// With `--reveals`: the read audit, newest first — each read of sensitive values in
    /// clear (`reveal=sensitive`), who made it, what it read, when; never the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reveals: Option<Vec<RevealEntry>>,
}

/// An RFC 3339 time in whole seconds (`2026-11-30T03:09:13Z`): the store keeps
/// nanoseconds, which a log for people has no use for. Text that is not RFC 3339 stays.
fn whole_seconds(time: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(time, &Rfc3339)
        .ok()
        .and_then(|parsed| parsed.replace_nanosecond(0).ok())
        .and_then(|parsed| parsed.format(&Rfc3339).ok())
        .unwrap_or_else(|| time.to_string())
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Show at most N entries
    #[arg(long, value_name = "N", default_value_t = 20)]
    limit: usize,
    /// Only the batches that changed this partner: their membership, a group entry or a
    /// `user:` share (and, in text, only those changes)
    #[arg(long, value_name = "EMAIL")]
    email: Option<String>,
    /// Show the read audit instead: each read of sensitive attribute values in clear
    /// (`reveal=sensitive`, e.g. by `import`), who made it, what it read and when
    #[arg(long, conflicts_with = "email")]
    reveals: bool,
    /// How to print the log
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
    #[command(flatten)]
    target: TargetArgs,
}

/// `member +2 ~1 -1` per kind, in kind order: `+` a resource the entry created (absent before it), `~`
/// one it replaced, `-` one it deleted. `created` tells, for each put, whether the
/// resource existed before this entry.
fn change_counts(
    changes: &[portalctl_core::model::WireChange],
    created: &dyn Fn(&portalctl_core::model::WireChange) -> bool,
) -> Vec<String> {
    // In kind order (workspace, attribute, role, partner_org, portal, member, group, folder,
    // share), as the plan's summary counts them.
    let mut kinds: std::collections::BTreeMap<portalctl_core::model::Kind, [usize; 3]> =
        std::collections::BTreeMap::new();
    for change in changes {
        let counts = kinds.entry(change.kind).or_default();
        match change.op {
            portalctl_core::model::Op::Put if created(change) => counts[0] += 1,
            portalctl_core::model::Op::Put => counts[1] += 1,
            portalctl_core::model::Op::Delete => counts[2] += 1,
        }
    }
    kinds
        .iter()
        .map(|(kind, counts)| {
            let parts: Vec<String> = counts
                .iter()
                .zip(['+', '~', '-'])
                .filter(|(n, _)| **n > 0)
                .map(|(n, sign)| format!("{sign}{n}"))
                .collect();
            format!("{kind} {}", parts.join(" "))
        })
        .collect()
}

/// Changes listed under a batch in text before `… and N more`.
const LISTED_CHANGES: usize = 10;

/// Whether `change` concerns the partner `email`: their membership, a `user:` share of
/// theirs, or a group that lists them.
fn mentions(change: &portalctl_core::model::WireChange, email: &str) -> bool {
    let user = format!("user:{email}");
    change.key.iter().any(|part| part == email || *part == user)
        || (change.kind == portalctl_core::model::Kind::Group
            && change
                .value
                .as_ref()
                .and_then(|value| value.get("members"))
                .and_then(serde_json::Value::as_array)
                .is_some_and(|members| members.iter().any(|member| member.as_str() == Some(email))))
}

/// `+ member ana@globex.com in portal globex`: what one change did to which resource.
fn change_line(
    change: &portalctl_core::model::WireChange,
    created: &dyn Fn(&portalctl_core::model::WireChange) -> bool,
) -> String {
    let sign = match change.op {
        portalctl_core::model::Op::Put if created(change) => '+',
        portalctl_core::model::Op::Put => '~',
        portalctl_core::model::Op::Delete => '-',
    };
    let address = portalctl_core::model::ResourceKey::from_parts(change.kind, &change.key).map_or_else(
        |_| format!("{} {}", change.kind, change.key.join(" ")),
        |key| key.to_string(),
    );
    format!("{sign} {address}")
}

fn line(
    entry: &AuditEntry,
    created: &dyn Fn(&portalctl_core::model::WireChange) -> bool,
    email: Option<&str>,
) -> String {
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
    // The changes as sent, then those the batch caused (members, group entries and shares
    // revoked with a deleted partner org).
    let caused = usize::try_from(entry.caused_count)
        .unwrap_or(usize::MAX)
        .min(entry.changes.len());
    let (sent, caused_changes) = entry.changes.split_at(entry.changes.len() - caused);
    let _ = write!(
        text,
        "\n    {}: {}",
        super::validate::count(
            usize::try_from(entry.sent_count()).unwrap_or(usize::MAX),
            "change"
        ),
        change_counts(sent, created).join(", ")
    );
    if !caused_changes.is_empty() {
        let _ = write!(
            text,
            "; caused: {}",
            change_counts(caused_changes, created).join(", ")
        );
    }
    let listed: Vec<&portalctl_core::model::WireChange> = entry
        .changes
        .iter()
        .filter(|change| email.is_none_or(|email| mentions(change, email)))
        .collect();
    for change in listed.iter().take(LISTED_CHANGES) {
        let _ = write!(text, "\n      {}", change_line(change, created));
    }
    if listed.len() > LISTED_CHANGES {
        let _ = write!(
            text,
            "\n      … and {} more (`--format json` lists them)",
            listed.len() - LISTED_CHANGES
        );
    }
    text
}

pub fn run(args: HistoryArgs, session: &super::context::Session) -> anyhow::Result<ExitStatus> {
    let provider = args.target.open(session.today)?;
    if args.reveals {
        let mut reveals = provider
            .reveals(0)
            .with_context(|| format!("cannot read the read audit of `{}`", provider.target()))?;
        reveals.reverse();
        reveals.truncate(args.limit);
        match args.format {
            ExplainFormat::Text => {
                println!(
                    "Reads of sensitive values on {} (newest first):",
                    provider.target()
                );
                if reveals.is_empty() {
                    println!("  none yet");
                }
                for reveal in &reveals {
                    println!(
                        "  #{}  {}  {}  {}  (revision {})",
                        reveal.id,
                        whole_seconds(&reveal.time),
                        reveal.token,
                        reveal.read,
                        reveal.revision
                    );
                }
            }
            ExplainFormat::Json => {
                let document = HistoryDocument {
                    format_version: HISTORY_FORMAT_VERSION,
                    target: provider.target().to_string(),
                    entries: Vec::new(),
                    reveals: Some(
                        reveals
                            .into_iter()
                            .map(|reveal| RevealEntry {
                                time: whole_seconds(&reveal.time),
                                ..reveal
                            })
                            .collect(),
                    ),
                };
                println!("{}", serde_json::to_string_pretty(&document)?);
            }
        }
        return Ok(ExitStatus::Success);
    }
    let mut entries = provider
        .audit(0)
        .with_context(|| format!("cannot read the audit log of `{}`", provider.target()))?;
    // Which puts created their resource: replay the log oldest first, noting each key's
    // first put after which it was not deleted.
    let mut exists: std::collections::HashSet<(portalctl_core::model::Kind, Vec<String>)> =
        std::collections::HashSet::new();
    let mut created_at: std::collections::HashSet<(u64, portalctl_core::model::Kind, Vec<String>)> =
        std::collections::HashSet::new();
    for entry in &entries {
        for change in &entry.changes {
            let key = (change.kind, change.key.clone());
            match change.op {
                portalctl_core::model::Op::Put => {
                    if exists.insert(key) {
                        created_at.insert((entry.revision, change.kind, change.key.clone()));
                    }
                }
                portalctl_core::model::Op::Delete => {
                    exists.remove(&key);
                }
            }
        }
    }
    entries.reverse();
    let email = args.email.as_deref().map(portalctl_core::model::normalize_email);
    if let Some(email) = &email {
        entries.retain(|entry| entry.changes.iter().any(|change| mentions(change, email)));
    }
    entries.truncate(args.limit);
    match args.format {
        ExplainFormat::Text => {
            println!("History of {} (newest first):", provider.target());
            if entries.is_empty() {
                println!("  no changes yet");
            }
            for entry in &entries {
                let created = |change: &portalctl_core::model::WireChange| {
                    created_at.contains(&(entry.revision, change.kind, change.key.clone()))
                };
                println!("{}", line(entry, &created, email.as_deref()));
            }
        }
        ExplainFormat::Json => {
            let document = HistoryDocument {
                format_version: HISTORY_FORMAT_VERSION,
                target: provider.target().to_string(),
                entries: entries
                    .into_iter()
                    .map(|entry| AuditEntry {
                        time: whole_seconds(&entry.time),
                        ..entry
                    })
                    .collect(),
                reveals: None,
            };
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(ExitStatus::Success)
}
