//! Drift: how live state differs from git, seen from git's side — what was added, removed
//! or changed outside git, and who last wrote it and when (from the audit log).
//!
//! **Architecture invariant:** pure: takes a plan and audit entries, returns a report
//! and its renderings.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::api::AuditEntry;
use crate::model::{Kind, ResourceKey};
use crate::plan::{Action, DeleteReason, FieldChange, FieldDelta, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// Live has it, git does not.
    AddedOutsideGit,
    /// Git has it, live does not.
    RemovedOutsideGit,
    /// Both have it, with different fields.
    ChangedOutsideGit,
    /// Git lets it lapse (`expires` is past) and live still has it.
    ExpiredStillLive,
}

impl DriftClass {
    fn title(self) -> &'static str {
        match self {
            Self::AddedOutsideGit => "Added outside git",
            Self::RemovedOutsideGit => "Removed outside git",
            Self::ChangedOutsideGit => "Changed outside git",
            Self::ExpiredStillLive => "Expired in git, still live",
        }
    }

    fn sign(self) -> char {
        match self {
            Self::AddedOutsideGit => '+',
            Self::RemovedOutsideGit => '-',
            Self::ChangedOutsideGit => '~',
            Self::ExpiredStillLive => '!',
        }
    }
}

/// The last committed batch that touched a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastWrite {
    pub revision: u64,
    pub time: String,
    /// The name of the token that wrote it.
    pub token: String,
    /// The git commit, when the write came from `portalctl apply`.
    pub commit: Option<String>,
}

impl LastWrite {
    fn describe(&self) -> String {
        let origin = match &self.commit {
            Some(commit) => format!("commit {}", &commit[..commit.len().min(12)]),
            None => "not from a git commit".to_string(),
        };
        format!(
            "revision {} by `{}` at {}, {origin}",
            self.revision, self.token, self.time
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftItem {
    pub class: DriftClass,
    pub kind: Kind,
    pub key: Vec<String>,
    /// `member alice@globex.com in portal globex`
    pub address: String,
    /// Whether this difference grants access git does not (listed first).
    pub grants_access: bool,
    /// Fields as git has them (`before`) and as live has them (`after`); sensitive masked.
    #[serde(skip)]
    pub fields: Vec<FieldChange>,
    pub last_write: Option<LastWrite>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DriftReport {
    pub items: Vec<DriftItem>,
    /// Who can see what in live that git does not grant (and the reverse): git → live.
    #[serde(skip)]
    pub access_impact: Option<crate::access::AccessImpact>,
    /// Live members who registered themselves and that git does not list: not drift, but
    /// worth adopting with `portalctl import`.
    pub self_registered_not_in_git: Vec<(String, String)>,
}

impl DriftReport {
    pub fn has_drift(&self) -> bool {
        !self.items.is_empty()
    }

    fn count(&self, class: DriftClass) -> usize {
        self.items.iter().filter(|item| item.class == class).count()
    }

    /// `3 differences (1 added, 1 removed, 1 changed outside git)` or `no drift`.
    pub fn summary(&self) -> String {
        if self.items.is_empty() {
            return "no drift: live matches git".to_string();
        }
        let mut parts = vec![
            format!("{} added", self.count(DriftClass::AddedOutsideGit)),
            format!("{} removed", self.count(DriftClass::RemovedOutsideGit)),
            format!(
                "{} changed outside git",
                self.count(DriftClass::ChangedOutsideGit)
            ),
        ];
        let expired = self.count(DriftClass::ExpiredStillLive);
        if expired > 0 {
            parts.push(format!("{expired} expired but still live"));
        }
        let n = self.items.len();
        format!(
            "drift: {n} difference{} ({})",
            if n == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }
}

/// Swaps a field change so it reads git → live.
fn from_git_side(field: &FieldChange) -> FieldChange {
    let delta = match &field.delta {
        FieldDelta::Value { before, after } => FieldDelta::Value {
            before: after.clone(),
            after: before.clone(),
        },
        FieldDelta::Set { added, removed } => FieldDelta::Set {
            added: removed.clone(),
            removed: added.clone(),
        },
        FieldDelta::Sensitive { before, after } => FieldDelta::Sensitive {
            before: after.clone(),
            after: before.clone(),
        },
    };
    FieldChange {
        path: field.path.clone(),
        delta,
    }
}

fn address(key: &ResourceKey) -> String {
    key.to_string()
}

/// Classifies the differences of `plan` (live → git) as drift (git → live).
pub fn classify(plan: &Plan, audit: &[AuditEntry]) -> DriftReport {
    let mut last: HashMap<(Kind, Vec<String>), LastWrite> = HashMap::new();
    for entry in audit {
        for change in &entry.changes {
            last.insert(
                (change.kind, change.key.clone()),
                LastWrite {
                    revision: entry.revision,
                    time: entry.time.clone(),
                    token: entry.token.clone(),
                    commit: entry.meta.commit.clone(),
                },
            );
        }
    }
    let mut items: Vec<DriftItem> = plan
        .resources
        .iter()
        .map(|resource| {
            let class = match (resource.action, &resource.reason) {
                (Action::Delete, Some(DeleteReason::Expired(_))) => DriftClass::ExpiredStillLive,
                (Action::Delete, _) => DriftClass::AddedOutsideGit,
                (Action::Create, _) => DriftClass::RemovedOutsideGit,
                (Action::Update, _) => DriftClass::ChangedOutsideGit,
            };
            let fields: Vec<FieldChange> = resource.fields.iter().map(from_git_side).collect();
            let access_kind = matches!(
                resource.key.kind(),
                Kind::Member | Kind::Share | Kind::Group | Kind::Portal
            );
            let widens = fields.iter().any(|field| match &field.delta {
                FieldDelta::Set { added, .. } => !added.is_empty(),
                FieldDelta::Value { .. } => field.path == "access",
                FieldDelta::Sensitive { .. } => false,
            });
            let grants_access = access_kind
                && (class == DriftClass::AddedOutsideGit
                    || (class == DriftClass::ChangedOutsideGit && widens));
            let parts = resource.key.parts();
            DriftItem {
                class,
                kind: resource.key.kind(),
                address: address(&resource.key),
                grants_access,
                last_write: last.get(&(resource.key.kind(), parts.clone())).cloned(),
                key: parts,
                fields,
            }
        })
        .collect();
    // Out-of-band grants matter most, then removals, then everything cosmetic.
    items.sort_by(|a, b| {
        (!a.grants_access, a.class, a.kind, &a.key).cmp(&(!b.grants_access, b.class, b.kind, &b.key))
    });
    DriftReport {
        items,
        access_impact: None,
        self_registered_not_in_git: plan.self_registered_not_in_git.clone(),
    }
}

fn show_value(value: Option<&serde_json::Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), ToString::to_string)
}

fn field_lines(field: &FieldChange) -> String {
    match &field.delta {
        FieldDelta::Value { before, after } => {
            format!(
                "{}: {} (git) → {} (live)",
                field.path,
                show_value(before.as_ref()),
                show_value(after.as_ref())
            )
        }
        FieldDelta::Set { added, removed } => {
            let mut parts: Vec<String> = added.iter().map(|v| format!("+{v}")).collect();
            parts.extend(removed.iter().map(|v| format!("-{v}")));
            format!("{}: {} in live", field.path, parts.join(" "))
        }
        FieldDelta::Sensitive { .. } => format!("{}: (sensitive) differs", field.path),
    }
}

/// Plain text for a terminal or a log.
pub fn render_text(report: &DriftReport, target: &str, revision: u64) -> String {
    let mut out = format!("Drift on {target} (revision {revision}) against git:\n");
    if let Some(impact) = &report.access_impact {
        out.push_str("\nAccess impact (what live grants beyond git, and what it withholds):\n");
        for line in crate::render::impact::section_lines(impact, false) {
            let _ = writeln!(out, "  {line}");
        }
    }
    let mut current: Option<(bool, DriftClass)> = None;
    for item in &report.items {
        let group = (item.grants_access, item.class);
        if current != Some(group) {
            let title = if item.grants_access {
                format!("{} (grants access)", item.class.title())
            } else {
                item.class.title().to_string()
            };
            let _ = write!(out, "\n{title}:\n");
            current = Some(group);
        }
        let _ = writeln!(out, "  {} {}", item.class.sign(), item.address);
        if item.class == DriftClass::ChangedOutsideGit {
            for field in &item.fields {
                let _ = writeln!(out, "      {}", field_lines(field));
            }
        }
        match &item.last_write {
            Some(write) => {
                let _ = writeln!(out, "      last written: {}", write.describe());
            }
            None if item.class != DriftClass::RemovedOutsideGit => {
                let _ = writeln!(out, "      last written: not in the audit log");
            }
            None => {}
        }
    }
    if !report.self_registered_not_in_git.is_empty() {
        out.push_str("\nSelf-registered, not in git (adopt with `portalctl import`):\n");
        for (portal, email) in &report.self_registered_not_in_git {
            let _ = writeln!(out, "  ? member {email} in portal {portal}");
        }
    }
    let _ = write!(out, "\n{}.\n", capitalize(&report.summary()));
    out
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// The JSON document of `drift --format json`.
///
/// `{"format_version": 1, "target", "revision", "drift": bool, "summary": "...",
///   "items": [{"class", "kind", "key", "address", "grants_access", "fields", "last_write"}],
///   "self_registered_not_in_git": [{"portal", "email"}]}`
pub fn render_json(report: &DriftReport, target: &str, revision: u64) -> String {
    let items: Vec<serde_json::Value> = report
        .items
        .iter()
        .map(|item| {
            let mut value = serde_json::to_value(item).expect("drift items serialize");
            value["fields"] = serde_json::Value::Array(
                item.fields
                    .iter()
                    .map(|f| serde_json::Value::String(field_lines(f)))
                    .collect(),
            );
            value
        })
        .collect();
    let impact = report.access_impact.as_ref().map(|impact| {
        serde_json::json!({
            "gaining": impact.partners_gaining(),
            "losing": impact.partners_losing(),
            "changes": impact.changes.iter().map(|change| serde_json::json!({
                "email": change.email,
                "folder": change.folder,
                "before": change.before,
                "after": change.after,
                "via": change.via,
            })).collect::<Vec<_>>(),
        })
    });
    let document = serde_json::json!({
        "access_impact": impact,
        "format_version": 1,
        "target": target,
        "revision": revision,
        "drift": report.has_drift(),
        "summary": report.summary(),
        "items": items,
        "self_registered_not_in_git": report.self_registered_not_in_git.iter()
            .map(|(portal, email)| serde_json::json!({"portal": portal, "email": email}))
            .collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&document).expect("drift serializes");
    text.push('\n');
    text
}

/// Markdown for an issue or a chat message.
pub fn render_markdown(report: &DriftReport, target: &str, revision: u64) -> String {
    let mut out = format!(
        "### Drift on `{target}` (revision {revision})\n\n{}\n\n",
        capitalize(&report.summary())
    );
    if let Some(impact) = &report.access_impact {
        out.push_str("#### Access impact (git → live)\n\n```diff\n");
        for line in crate::render::impact::section_lines(impact, false) {
            let _ = writeln!(out, "{line}");
        }
        out.push_str("```\n\n");
    }
    if report.has_drift() {
        out.push_str("| | resource | what | last written |\n|---|---|---|---|\n");
        for item in &report.items {
            let what = if item.class == DriftClass::ChangedOutsideGit {
                item.fields
                    .iter()
                    .map(field_lines)
                    .collect::<Vec<_>>()
                    .join("<br>")
            } else {
                item.class.title().to_lowercase()
            };
            let written = item
                .last_write
                .as_ref()
                .map_or_else(|| "—".to_string(), LastWrite::describe);
            let _ = writeln!(
                out,
                "| {}{} | `{}` | {} | {} |",
                item.class.sign(),
                if item.grants_access {
                    " **grants access**"
                } else {
                    ""
                },
                item.address,
                what.replace('|', "\\|"),
                written
            );
        }
    }
    out
}
