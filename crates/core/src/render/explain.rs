//! The document of `portalctl explain EMAIL`: one partner's identity (org, memberships,
//! groups, attributes with sensitive values masked) and everything they can see, with
//! every path that grants it; as text for people and as a versioned JSON document
//! (`schemas/output/explain.schema.json`).
//!
//! **Architecture invariant:** pure: a state and a day in, a document out; the renderers
//! read the document only.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::access::{AccessIndex, ContentKind, FolderAccess, Grant};
use crate::model::{CalendarDate, SENSITIVE_MASK, State, normalize_email};

/// One partner's identity and access, as `explain --format json` shows it
/// (`schemas/output/explain.schema.json`).
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[schemars(title = "portalctl explain --format json", rename = "ExplainDocument")]
pub struct Explanation {
    #[schemars(extend("const" = 1))]
    pub format_version: u32,
    pub email: String,
    pub source: String,
    pub memberships: Vec<MembershipView>,
    pub org: Option<String>,
    /// Sensitive values are `(sensitive)`.
    pub attributes: BTreeMap<String, String>,
    pub groups: Vec<String>,
    pub folders: Vec<FolderAccess>,
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct MembershipView {
    pub portal: String,
    pub role: String,
    pub expires: Option<String>,
    /// Whether the membership grants access today: not expired, not pending.
    pub active: bool,
    /// A self-registration awaiting approval: it grants nothing until approved.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    pub source: String,
}

/// What `state` says of the partner `email` on `today`; `source` names the state (`config
/// at DIR`, `live on TARGET at revision N`). `None` when no portal lists them.
pub fn explain(state: &State, email: &str, today: CalendarDate, source: String) -> Option<Explanation> {
    let email = normalize_email(email);
    let memberships: Vec<MembershipView> = state
        .memberships_of(&email)
        .map(|(portal, member)| MembershipView {
            portal: portal.to_string(),
            role: member.role.clone(),
            expires: member.expires.map(|d| d.to_string()),
            active: member.grants_on(today),
            pending: member.pending,
            source: member.source.to_string(),
        })
        .collect();
    let first = state.memberships_of(&email).next().map(|(_, m)| m)?;
    let attributes = first
        .attributes
        .iter()
        .map(|(key, value)| {
            let sensitive = state.attributes.get(key).is_some_and(|a| a.sensitive);
            (
                key.clone(),
                if sensitive {
                    SENSITIVE_MASK.to_string()
                } else {
                    value.to_string()
                },
            )
        })
        .collect();
    let groups = state
        .groups
        .iter()
        .filter(|(_, g)| g.members.contains(&email))
        .map(|(n, _)| n.clone())
        .collect();
    let folders = AccessIndex::new(state, today).partner_access(&email);
    Some(Explanation {
        format_version: 1,
        org: first.org.clone(),
        email,
        source,
        memberships,
        attributes,
        groups,
        folders,
    })
}

/// `view via group finance (shared on /Partners), expires 2027-01-15`.
fn grant_text(grant: &Grant, folder: &str) -> String {
    let mut text = format!("{} via {}", grant.level, super::impact::grant_via(grant, folder));
    if grant.level < grant.shared_level {
        let _ = write!(
            text,
            " (shared as {}, capped by role {})",
            grant.shared_level, grant.role
        );
    }
    if let Some(day) = grant.expires {
        let _ = write!(text, ", expires {day}");
    }
    text
}

/// The explanation for people: who the partner is, then each folder and dashboard they
/// can see with the grants that give it.
pub fn render_text(explanation: &Explanation) -> String {
    let mut out = format!("{} ({})\n", explanation.email, explanation.source);
    let _ = writeln!(out, "  org: {}", explanation.org.as_deref().unwrap_or("(none)"));
    for membership in &explanation.memberships {
        let _ = writeln!(
            out,
            "  portal {}: role {}{}{}",
            membership.portal,
            membership.role,
            membership
                .expires
                .as_deref()
                .map(|d| format!(", expires {d}"))
                .unwrap_or_default(),
            if membership.active {
                ""
            } else if membership.pending {
                " (pending approval: grants nothing)"
            } else {
                " (expired: grants nothing)"
            }
        );
    }
    if !explanation.groups.is_empty() {
        let _ = writeln!(out, "  groups: {}", explanation.groups.join(", "));
    }
    if !explanation.attributes.is_empty() {
        let shown: Vec<String> = explanation
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "  attributes: {}", shown.join(", "));
    }
    if explanation.folders.is_empty() {
        out.push_str("\ncan see no folder\n");
    } else {
        let dashboards = explanation
            .folders
            .iter()
            .filter(|access| access.kind == ContentKind::Dashboard)
            .count();
        let folders = explanation.folders.len() - dashboards;
        let count = super::count;
        if dashboards == 0 {
            let _ = writeln!(out, "\ncan see {}:", count(folders, "folder"));
        } else {
            let _ = writeln!(
                out,
                "\ncan see {} and {}:",
                count(folders, "folder"),
                count(dashboards, "dashboard")
            );
        }
        for folder in &explanation.folders {
            let _ = writeln!(
                out,
                "  {}  {}",
                folder.level,
                super::impact::content(folder.kind, &folder.folder)
            );
            if !folder.permissions.is_empty() {
                let shown: Vec<&str> = folder.permissions.iter().map(String::as_str).collect();
                let _ = writeln!(out, "      permissions: {}", shown.join(", "));
            }
            for grant in &folder.grants {
                let _ = writeln!(out, "      {}", grant_text(grant, &folder.folder));
            }
        }
    }
    out
}

/// The explanation as its JSON document, pretty-printed, with a final newline.
pub fn render_json(explanation: &Explanation) -> String {
    let mut text = serde_json::to_string_pretty(explanation).expect("an explanation serialises to JSON");
    text.push('\n');
    text
}
