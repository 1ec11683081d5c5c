//! The documents of `portalctl history`: the audit log (each committed batch, newest
//! first, with what it created, replaced and deleted, and what it caused) and, with
//! `--reveals`, the read audit (each read of sensitive values in clear); as text for
//! people and as a versioned JSON document (`schemas/output/history.schema.json`).
//!
//! **Architecture invariant:** pure: the log as the target gives it in, text out; times
//! are shown in whole seconds.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use crate::api::{AuditEntry, RevealEntry};
use crate::model::{Kind, Op, Principal, ResourceKey, WireChange, normalize_email};

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

/// Changes listed under a batch in text before `… and N more`.
const LISTED_CHANGES: usize = 10;

/// The audit log as `history` shows it: the newest entries first, only those that
/// concern a partner when asked, each knowing which of its puts created their resource.
#[derive(Debug)]
pub struct History {
    target: String,
    /// Newest first.
    entries: Vec<AuditEntry>,
    /// The puts that created their resource, as (revision, kind, key).
    created: HashSet<(u64, Kind, Vec<String>)>,
    /// Only the changes that concern this partner are listed in text.
    email: Option<String>,
}

impl History {
    /// The at most `limit` newest entries of `log` (oldest first, as the target gives
    /// it) on `target`; with `email`, only the entries that changed that partner.
    pub fn new(target: &str, mut log: Vec<AuditEntry>, email: Option<&str>, limit: usize) -> Self {
        // Which puts created their resource: replay the log oldest first, noting each
        // key's first put after which it was not deleted.
        let mut exists: HashSet<(Kind, Vec<String>)> = HashSet::new();
        let mut created: HashSet<(u64, Kind, Vec<String>)> = HashSet::new();
        for entry in &log {
            for change in &entry.changes {
                let key = (change.kind, change.key.clone());
                match change.op {
                    Op::Put => {
                        if exists.insert(key) {
                            created.insert((entry.revision, change.kind, change.key.clone()));
                        }
                    }
                    Op::Delete => {
                        exists.remove(&key);
                    }
                }
            }
        }
        log.reverse();
        let email = email.map(normalize_email);
        if let Some(email) = &email {
            log.retain(|entry| entry.changes.iter().any(|change| mentions(change, email)));
        }
        log.truncate(limit);
        Self {
            target: target.to_string(),
            entries: log,
            created,
            email,
        }
    }

    /// `History of TARGET (newest first):`, then each entry: who made it and from which
    /// commit, its counts per kind, and its first changes.
    pub fn render_text(&self) -> String {
        let mut out = format!("History of {} (newest first):\n", self.target);
        if self.entries.is_empty() {
            out.push_str("  no changes yet\n");
        }
        for entry in &self.entries {
            let created = |change: &WireChange| {
                self.created
                    .contains(&(entry.revision, change.kind, change.key.clone()))
            };
            out.push_str(&entry_text(entry, &created, self.email.as_deref()));
            out.push('\n');
        }
        out
    }

    /// The [`HistoryDocument`], pretty-printed, with a final newline.
    pub fn render_json(self) -> String {
        document_json(&HistoryDocument {
            format_version: HISTORY_FORMAT_VERSION,
            target: self.target,
            entries: self
                .entries
                .into_iter()
                .map(|entry| AuditEntry {
                    time: super::whole_seconds(&entry.time),
                    ..entry
                })
                .collect(),
            reveals: None,
        })
    }
}

/// The read audit as `history --reveals` shows it: the newest reads first.
#[derive(Debug)]
pub struct ReadAudit {
    target: String,
    /// Newest first.
    reveals: Vec<RevealEntry>,
}

impl ReadAudit {
    /// The at most `limit` newest of `reveals` (oldest first, as the target gives them).
    pub fn new(target: &str, mut reveals: Vec<RevealEntry>, limit: usize) -> Self {
        reveals.reverse();
        reveals.truncate(limit);
        Self {
            target: target.to_string(),
            reveals,
        }
    }

    /// `Reads of sensitive values on TARGET (newest first):`, then one line per read.
    pub fn render_text(&self) -> String {
        let mut out = format!("Reads of sensitive values on {} (newest first):\n", self.target);
        if self.reveals.is_empty() {
            out.push_str("  none yet\n");
        }
        for reveal in &self.reveals {
            let _ = writeln!(
                out,
                "  #{}  {}  {}  {}  (revision {})",
                reveal.id,
                super::whole_seconds(&reveal.time),
                reveal.token,
                reveal.read,
                reveal.revision
            );
        }
        out
    }

    /// The [`HistoryDocument`] with the reads and no entries, pretty-printed, with a
    /// final newline.
    pub fn render_json(self) -> String {
        document_json(&HistoryDocument {
            format_version: HISTORY_FORMAT_VERSION,
            target: self.target,
            entries: Vec::new(),
            reveals: Some(
                self.reveals
                    .into_iter()
                    .map(|reveal| RevealEntry {
                        time: super::whole_seconds(&reveal.time),
                        ..reveal
                    })
                    .collect(),
            ),
        })
    }
}

fn document_json(document: &HistoryDocument) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("a history document serialises to JSON");
    text.push('\n');
    text
}

/// `member +2 ~1 -1` per kind, in kind order: `+` a resource the entry created (absent
/// before it), `~` one it replaced, `-` one it deleted. `created` tells, for each put,
/// whether the resource existed before this entry.
fn change_counts(changes: &[WireChange], created: &dyn Fn(&WireChange) -> bool) -> Vec<String> {
    // In kind order (workspace, attribute, role, partner_org, portal, member, group, folder,
    // share), as the plan's summary counts them.
    let mut kinds: BTreeMap<Kind, [usize; 3]> = BTreeMap::new();
    for change in changes {
        let counts = kinds.entry(change.kind).or_default();
        match change.op {
            Op::Put if created(change) => counts[0] += 1,
            Op::Put => counts[1] += 1,
            Op::Delete => counts[2] += 1,
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

/// Whether `change` concerns the partner `email`: their membership, a `user:` share of
/// theirs, or a group that lists them.
fn mentions(change: &WireChange, email: &str) -> bool {
    let user = Principal::User(email.to_string()).to_string();
    change.key.iter().any(|part| part == email || *part == user)
        || (change.kind == Kind::Group
            && change
                .value
                .as_ref()
                .and_then(|value| value.get("members"))
                .and_then(serde_json::Value::as_array)
                .is_some_and(|members| members.iter().any(|member| member.as_str() == Some(email))))
}

/// `+ member ana@globex.com in portal globex`: what one change did to which resource.
fn change_line(change: &WireChange, created: &dyn Fn(&WireChange) -> bool) -> String {
    let sign = match change.op {
        Op::Put if created(change) => '+',
        Op::Put => '~',
        Op::Delete => '-',
    };
    let address = ResourceKey::from_parts(change.kind, &change.key).map_or_else(
        |_| format!("{} {}", change.kind, change.key.join(" ")),
        |key| key.to_string(),
    );
    format!("{sign} {address}")
}

/// One entry in text: `revision 3  TIME  by `TOKEN`  commit …  author …`, its counts of
/// changes sent and caused, then its first changes (only those concerning `email`).
fn entry_text(entry: &AuditEntry, created: &dyn Fn(&WireChange) -> bool, email: Option<&str>) -> String {
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
        super::count(
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
    let listed: Vec<&WireChange> = entry
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
