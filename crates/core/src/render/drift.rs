//! Drift reports as text (a terminal or a log), markdown (an issue or a chat message) and
//! JSON (tools), from one classified [`DriftReport`].
//!
//! **Architecture invariant:** pure functions to a `String`; the JSON wire types are
//! private to this file, so the report can change without changing the contract.
//!
//! # JSON wire contract (`format_version` 2)
//! Shaped like the plan's document: fields are structured, counts are numbers.
//! ```json
//! {
//!   "access_impact": {"gaining": 1, "losing": 0, "changes": [{"email", "folder", "before", "after", "via": [...]}]},
//!   "format_version": 2,
//!   "target": "sqlite:portalctl.db",
//!   "revision": 7,
//!   "drift": true,
//!   "broken_assertions": [{"assertion", "email", "path", "kind", "message", "via": ["group:g"]}],
//!   "summary": {"differences": 3, "added": 1, "removed": 1, "changed": 1, "expired": 0},
//!   "items": [
//!     {
//!       "class": "added_outside_git" | "removed_outside_git" | "changed_outside_git" | "expired_still_live",
//!       "kind": "member", "key": ["globex", "ana@globex.com"],
//!       "address": "member ana@globex.com in portal globex",
//!       "grants_access": true,
//!       "fields": [{"type": "value" | "set" | "sensitive", "path", ...}],
//!       "last_write": {"revision", "time", "token", "commit"} | null
//!     }
//!   ],
//!   "self_registered_not_in_git": [{"portal", "email"}],
//!   "pending_registrations": [{"portal", "email"}],
//!   "live_group_entries": [{"group", "email"}],
//!   "partner_managed": [{"portal", "email", "org"}],
//!   "expected_live": {"self_registered": 1, "pending": 0, "group_entries": 1, "partner_managed": 0}
//! }
//! ```
//! `fields` read git → live (`before` is git's value, `after` live's), as in the plan's
//! `fields` (`{"type": "value", "path", "before", "after"}`, `{"type": "set", "path",
//! "added", "removed"}`, `{"type": "sensitive", "path", "before": "(sensitive)" | null,
//! "after": …}`); sensitive values never appear. `access_impact` is absent when the caller
//! computed none. `pending_registrations` lists live registrations awaiting approval
//! that git does not list (they grant nothing; not drift); `live_group_entries` the group
//! entries registrations made; `expected_live` counts what the live side owns (never drift). Version 1 had preformatted
//! strings in `fields` and `summary`.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::drift::{DriftClass, DriftReport, LastWrite};
use crate::model::Kind;
use crate::plan::{FieldChange, FieldDelta};
use crate::render::json;

/// The version of the JSON document.
pub const FORMAT_VERSION: u32 = 2;

/// The JSON Schema of the document [`render_json`] writes (`schemas/output/drift.schema.json`).
pub fn json_schema() -> serde_json::Value {
    crate::render::json::output_schema_for::<Document<'static>>()
}

fn show_value(value: Option<&Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), ToString::to_string)
}

fn field_line(field: &FieldChange) -> String {
    match &field.delta {
        FieldDelta::Value { before, after } => format!(
            "{}: {} (git) → {} (live)",
            field.path,
            show_value(before.as_ref()),
            show_value(after.as_ref())
        ),
        FieldDelta::Set { added, removed } => {
            let mut parts: Vec<String> = added.iter().map(|v| format!("+{v}")).collect();
            parts.extend(removed.iter().map(|v| format!("-{v}")));
            format!("{}: {} in live", field.path, parts.join(" "))
        }
        FieldDelta::Sensitive { .. } => format!("{}: (sensitive) differs", field.path),
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}

/// Plain text for a terminal or a log.
pub fn render_text(report: &DriftReport, target: &str, revision: u64) -> String {
    let mut out = format!("Drift on {target} (revision {revision}) against git:\n");
    if !report.broken_assertions.is_empty() {
        out.push_str("\nAssertions broken on live:\n");
        for violation in &report.broken_assertions {
            let _ = writeln!(out, "  ! `{}`: {}", violation.assertion, violation.describe());
        }
    }
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
                let _ = writeln!(out, "      {}", field_line(field));
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
    if report.has_expected_live() {
        let _ = writeln!(
            out,
            "\nExpected live (owned by the live side, not drift): {}",
            report.expected_live_counts()
        );
        if !report.self_registered_not_in_git.is_empty() {
            out.push_str("  self-registered, not in git (adopt them with `portalctl import` if git should own them):\n");
            for (portal, email) in &report.self_registered_not_in_git {
                let _ = writeln!(out, "    ? member {email} in portal {portal}");
            }
        }
        if !report.pending_registrations.is_empty() {
            let _ = writeln!(
                out,
                "  awaiting approval, granting nothing ({}):",
                crate::render::approve_hint(&report.pending_registrations)
            );
            for (portal, email) in &report.pending_registrations {
                let _ = writeln!(out, "    ? member {email} in portal {portal}");
            }
        }
        if !report.partner_managed.is_empty() {
            out.push_str("  added by their partner org (partner admins or SCIM):\n");
            for member in &report.partner_managed {
                let _ = writeln!(
                    out,
                    "    ? member {} in portal {} (managed by {})",
                    member.email, member.portal, member.org
                );
            }
        }
        if !report.live_group_entries.is_empty() {
            out.push_str("  group entries that registrations made:\n");
            for (group, email) in &report.live_group_entries {
                let _ = writeln!(out, "    ? {email} in group {group}");
            }
        }
    }
    let _ = write!(out, "\n{}.\n", capitalize(&report.summary()));
    out
}

/// Markdown for an issue or a chat message.
pub fn render_markdown(report: &DriftReport, target: &str, revision: u64) -> String {
    let mut out = format!(
        "### Drift on `{target}` (revision {revision})\n\n{}\n\n",
        capitalize(&report.summary())
    );
    if !report.broken_assertions.is_empty() {
        out.push_str("#### Assertions broken on live\n\n");
        for violation in &report.broken_assertions {
            let _ = writeln!(out, "- **{}**: {}", violation.assertion, violation.describe());
        }
        out.push('\n');
    }
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
                    .map(field_line)
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
    if report.has_expected_live() {
        let _ = writeln!(
            out,
            "\nExpected live (owned by the live side, not drift): {}.",
            report.expected_live_counts()
        );
    }
    if !report.pending_registrations.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            crate::render::pending_message(&report.pending_registrations)
        );
    }
    out
}

/// One line per difference, for a chat notice: `⚠ + member ana@… in portal globex`.
pub fn item_lines(report: &DriftReport) -> Vec<String> {
    report
        .items
        .iter()
        .map(|item| {
            format!(
                "{}{} {}",
                if item.grants_access { "⚠ " } else { "" },
                item.class.sign(),
                item.address
            )
        })
        .collect()
}

/// The JSON document of `drift --format json` (see the module's wire contract).
pub fn render_json(report: &DriftReport, target: &str, revision: u64) -> String {
    let document = Document {
        access_impact: report
            .access_impact
            .as_ref()
            .map(|impact| json::access_impact(impact)),
        format_version: FORMAT_VERSION,
        target,
        revision,
        drift: report.has_drift(),
        broken_assertions: report
            .broken_assertions
            .iter()
            .map(|violation| BrokenAssertion {
                assertion: &violation.assertion,
                email: &violation.email,
                path: &violation.path,
                kind: violation.kind,
                message: violation.describe(),
                via: violation.grants.iter().map(|grant| &grant.principal).collect(),
            })
            .collect(),
        summary: Summary {
            differences: report.items.len(),
            added: report.count(DriftClass::AddedOutsideGit),
            removed: report.count(DriftClass::RemovedOutsideGit),
            changed: report.count(DriftClass::ChangedOutsideGit),
            expired: report.count(DriftClass::ExpiredStillLive),
        },
        items: report
            .items
            .iter()
            .map(|item| Item {
                class: item.class,
                kind: item.kind,
                key: &item.key,
                address: &item.address,
                grants_access: item.grants_access,
                fields: item.fields.iter().map(json::field).collect(),
                last_write: item.last_write.as_ref(),
            })
            .collect(),
        self_registered_not_in_git: report
            .self_registered_not_in_git
            .iter()
            .map(|(portal, email)| SelfRegistered { portal, email })
            .collect(),
        pending_registrations: report
            .pending_registrations
            .iter()
            .map(|(portal, email)| SelfRegistered { portal, email })
            .collect(),
        live_group_entries: report
            .live_group_entries
            .iter()
            .map(|(group, email)| GroupEntry { group, email })
            .collect(),
        partner_managed: report
            .partner_managed
            .iter()
            .map(|member| Managed {
                portal: &member.portal,
                email: &member.email,
                org: &member.org,
            })
            .collect(),
        expected_live: ExpectedLive {
            partner_managed: report.partner_managed.len(),
            self_registered: report.self_registered_not_in_git.len(),
            pending: report.pending_registrations.len(),
            group_entries: report.live_group_entries.len(),
        },
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the drift document serializes to JSON");
    text.push('\n');
    text
}

#[derive(Serialize, JsonSchema)]
#[schemars(title = "portalctl drift --format json", rename = "DriftDocument")]
struct Document<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    access_impact: Option<json::Impact<'a>>,
    #[schemars(extend("const" = FORMAT_VERSION))]
    format_version: u32,
    target: &'a str,
    revision: u64,
    drift: bool,
    /// The config's assertions the live state breaks, one entry per partner and assertion.
    broken_assertions: Vec<BrokenAssertion<'a>>,
    summary: Summary,
    items: Vec<Item<'a>>,
    self_registered_not_in_git: Vec<SelfRegistered<'a>>,
    /// Live registrations awaiting approval that git does not list: not drift.
    pending_registrations: Vec<SelfRegistered<'a>>,
    /// Live group entries that registrations made and git does not declare: not drift.
    live_group_entries: Vec<GroupEntry<'a>>,
    /// Live members their partner org added and git does not list: not drift.
    partner_managed: Vec<Managed<'a>>,
    /// How much of live is owned by the live side (the three lists above): not drift.
    expected_live: ExpectedLive,
}

#[derive(Serialize, JsonSchema)]
struct GroupEntry<'a> {
    group: &'a str,
    email: &'a str,
}

#[derive(Serialize, JsonSchema)]
struct Managed<'a> {
    portal: &'a str,
    email: &'a str,
    /// The partner org managing the member.
    org: &'a str,
}

#[derive(Serialize, JsonSchema)]
struct ExpectedLive {
    partner_managed: usize,
    self_registered: usize,
    pending: usize,
    group_entries: usize,
}

#[derive(Serialize, JsonSchema)]
struct BrokenAssertion<'a> {
    /// The assertion's name.
    assertion: &'a str,
    /// The partner breaking it.
    email: &'a str,
    /// The folder or dashboard where it breaks.
    path: &'a str,
    kind: crate::access::ContentKind,
    /// What is wrong, in words.
    message: String,
    /// The principals of the shares that grant the access.
    #[schemars(with = "Vec<String>")]
    via: Vec<&'a crate::model::Principal>,
}

#[derive(Serialize, JsonSchema)]
struct Summary {
    differences: usize,
    added: usize,
    removed: usize,
    changed: usize,
    expired: usize,
}

#[derive(Serialize, JsonSchema)]
struct Item<'a> {
    class: DriftClass,
    kind: Kind,
    key: &'a [String],
    address: &'a str,
    grants_access: bool,
    fields: Vec<json::Field>,
    last_write: Option<&'a LastWrite>,
}

#[derive(Serialize, JsonSchema)]
struct SelfRegistered<'a> {
    portal: &'a str,
    email: &'a str,
}
