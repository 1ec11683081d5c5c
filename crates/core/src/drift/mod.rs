//! Drift: how live state differs from git, seen from git's side — what was added, removed
//! or changed outside git, and who last wrote it and when (from the audit log).
//!
//! This module classifies; [`crate::render::drift`] turns a report into text, markdown or
//! JSON.
//!
//! **Architecture invariant:** pure: takes a plan and audit entries, returns a report.

use std::collections::HashMap;

use serde::Serialize;

use crate::api::AuditEntry;
use crate::model::{Kind, ResourceKey};
use crate::plan::{Action, ChangeReason, FieldChange, FieldDelta, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
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
    pub(crate) fn title(self) -> &'static str {
        match self {
            Self::AddedOutsideGit => "Added outside git",
            Self::RemovedOutsideGit => "Removed outside git",
            Self::ChangedOutsideGit => "Changed outside git",
            Self::ExpiredStillLive => "Expired in git, still live",
        }
    }

    pub(crate) fn sign(self) -> char {
        match self {
            Self::AddedOutsideGit => '+',
            Self::RemovedOutsideGit => '-',
            Self::ChangedOutsideGit => '~',
            Self::ExpiredStillLive => '!',
        }
    }
}

/// The last committed batch that touched a resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct LastWrite {
    pub revision: u64,
    pub time: String,
    /// The name of the token that wrote it.
    pub token: String,
    /// The git commit, when the write came from `portalctl apply`.
    pub commit: Option<String>,
}

impl LastWrite {
    pub(crate) fn describe(&self) -> String {
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
    /// Live registrations awaiting approval that git does not list, as `(portal, email)`:
    /// they grant nothing, so they are not drift; approve them or adopt them in git.
    pub pending_registrations: Vec<(String, String)>,
    /// Live members their partner org added (partner admins, SCIM) and git does not list:
    /// owned live ("managed by globex"), so not drift.
    pub partner_managed: Vec<crate::plan::ManagedByOrg>,
    /// The config's assertions the live state breaks (`crate::assurance`), reported first.
    #[serde(skip)]
    pub broken_assertions: Vec<crate::assurance::Violation>,
    /// Live group entries that registrations made and git does not declare, as
    /// `(group, email)`: owned live, so not drift.
    pub live_group_entries: Vec<(String, String)>,
}

impl DriftReport {
    /// Differences, or a live state breaking an assertion.
    pub fn has_drift(&self) -> bool {
        !self.items.is_empty() || !self.broken_assertions.is_empty()
    }

    /// Whether live holds state that the live side owns and git does not list (expected,
    /// never drift).
    pub fn has_expected_live(&self) -> bool {
        !self.self_registered_not_in_git.is_empty()
            || !self.pending_registrations.is_empty()
            || !self.partner_managed.is_empty()
            || !self.live_group_entries.is_empty()
    }

    /// `2 self-registered, 1 awaiting approval, 2 group entries`.
    pub fn expected_live_counts(&self) -> String {
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let managed = (!self.partner_managed.is_empty()).then(|| {
            plural(
                self.partner_managed.len(),
                "member managed by its partner org",
                "members managed by their partner org",
            )
        });
        [
            plural(
                self.self_registered_not_in_git.len(),
                "self-registered member",
                "self-registered members",
            ),
            plural(
                self.pending_registrations.len(),
                "registration awaiting approval",
                "registrations awaiting approval",
            ),
            plural(self.live_group_entries.len(), "group entry", "group entries"),
        ]
        .into_iter()
        .chain(managed)
        .collect::<Vec<_>>()
        .join(", ")
    }

    /// How many differences are of `class`.
    pub fn count(&self, class: DriftClass) -> usize {
        self.items.iter().filter(|item| item.class == class).count()
    }

    /// `3 differences (1 added, 1 removed, 1 changed outside git)` or `no drift`.
    pub fn summary(&self) -> String {
        let broken = self.broken_assertions.len();
        if broken > 0 {
            let names: std::collections::BTreeSet<&str> = self
                .broken_assertions
                .iter()
                .map(|v| v.assertion.as_str())
                .collect();
            let rest = if self.items.is_empty() {
                String::new()
            } else {
                format!("; {}", self.differences_summary())
            };
            return format!(
                "drift: live breaks {} assertion{} ({broken} violation{}){rest}",
                names.len(),
                if names.len() == 1 { "" } else { "s" },
                if broken == 1 { "" } else { "s" },
            );
        }
        if self.items.is_empty() {
            return "no drift: live matches git".to_string();
        }
        self.differences_summary()
    }

    fn differences_summary(&self) -> String {
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
///
/// Each difference names the last audit entry that wrote its resource, counting the
/// changes a batch caused as well as those it sent (see [`AuditEntry::caused_count`]): a
/// partner removed with their org is attributed to the org's deletion.
pub fn classify(plan: &Plan, audit: &[AuditEntry]) -> DriftReport {
    let mut last: HashMap<(Kind, Vec<String>), LastWrite> = HashMap::new();
    for entry in audit {
        for change in &entry.changes {
            last.insert(
                (change.kind, change.key.clone()),
                LastWrite {
                    revision: entry.revision,
                    time: crate::render::whole_seconds(&entry.time),
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
                (Action::Delete, Some(ChangeReason::Expired(_))) => DriftClass::ExpiredStillLive,
                (Action::Delete, _) => DriftClass::AddedOutsideGit,
                (Action::Create, _) => DriftClass::RemovedOutsideGit,
                (Action::Update, _) => DriftClass::ChangedOutsideGit,
            };
            let fields: Vec<FieldChange> = resource.fields().iter().map(from_git_side).collect();
            let access_kind = resource.key.access().is_grant();
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
        pending_registrations: plan.pending_registrations.clone(),
        partner_managed: plan.partner_managed.clone(),
        broken_assertions: Vec::new(),
        live_group_entries: plan.live_group_entries.clone(),
    }
}

#[cfg(test)]
mod tests;
