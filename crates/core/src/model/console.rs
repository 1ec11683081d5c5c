//! Who may use the staff console (`/console` of `portalctl serve`), declared in git as
//! `workspace.console`: `viewers` see everything, `approvers` may also approve or refuse
//! pending registrations, resend invitations and end a partner's sessions, `admins` may
//! also create and revoke tokens. Each list names staff emails (in the workspace's owner
//! domains) or `group:NAME`, a group of staff declared under `console.groups`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The prefix of an entry naming a console group.
pub const CONSOLE_GROUP_PREFIX: &str = "group:";

/// The console's roles, as declared.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Console {
    /// Groups of staff, by name: `partner-managers: [ana@acme.io, bo@acme.io]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("additionalProperties" = { "type": "array", "items": { "type": "string", "pattern": super::patterns::EMAIL_PATTERN } }))]
    pub groups: BTreeMap<String, BTreeSet<String>>,
    /// Staff who see every console page: emails or `group:NAME`.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::STAFF_ENTRY_PATTERN }))]
    pub viewers: BTreeSet<String>,
    /// Staff who may also approve or refuse registrations, resend invitations and end a
    /// partner's sessions.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::STAFF_ENTRY_PATTERN }))]
    pub approvers: BTreeSet<String>,
    /// Staff who may also create and revoke tokens.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::STAFF_ENTRY_PATTERN }))]
    pub admins: BTreeSet<String>,
}

/// What a staff member may do in the console; each role may do what the one before may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StaffRole {
    Viewer,
    Approver,
    Admin,
}

impl StaffRole {
    pub const ALL: [Self; 3] = [Self::Viewer, Self::Approver, Self::Admin];

    /// The role's name, as the config's list is named in the singular.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Approver => "approver",
            Self::Admin => "admin",
        }
    }

    /// The key of the role's list under `workspace.console`.
    pub fn list_key(self) -> &'static str {
        match self {
            Self::Viewer => "viewers",
            Self::Approver => "approvers",
            Self::Admin => "admins",
        }
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Console {
    /// Whether nothing is declared (the console then opens only with an admin token).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
            && self.viewers.is_empty()
            && self.approvers.is_empty()
            && self.admins.is_empty()
    }

    /// The list of one role.
    pub fn list(&self, role: StaffRole) -> &BTreeSet<String> {
        match role {
            StaffRole::Viewer => &self.viewers,
            StaffRole::Approver => &self.approvers,
            StaffRole::Admin => &self.admins,
        }
    }

    /// The highest role `email` (normalised) has, directly or through a group.
    pub fn role_of(&self, email: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().rev().find(|role| {
            self.list(*role)
                .iter()
                .any(|entry| match entry.strip_prefix(CONSOLE_GROUP_PREFIX) {
                    Some(group) => self
                        .groups
                        .get(group)
                        .is_some_and(|members| members.contains(email)),
                    None => entry == email,
                })
        })
    }

    /// Lowercases and trims every email (group names are kept as written).
    #[must_use]
    pub fn normalized(self) -> Self {
        let entry = |entry: String| match entry.strip_prefix(CONSOLE_GROUP_PREFIX) {
            Some(group) => format!("{CONSOLE_GROUP_PREFIX}{}", group.trim()),
            None => super::normalize_email(entry.trim()),
        };
        Self {
            groups: self
                .groups
                .into_iter()
                .map(|(name, members)| {
                    (
                        name,
                        members
                            .into_iter()
                            .map(|email| super::normalize_email(email.trim()))
                            .collect(),
                    )
                })
                .collect(),
            viewers: self.viewers.into_iter().map(entry).collect(),
            approvers: self.approvers.into_iter().map(entry).collect(),
            admins: self.admins.into_iter().map(entry).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console() -> Console {
        serde_json::from_value(serde_json::json!({
            "groups": {"support": ["sam@acme.io"]},
            "viewers": ["group:support", "vic@acme.io"],
            "approvers": ["ann@acme.io"],
            "admins": ["ada@acme.io", "group:support-leads"],
        }))
        .unwrap()
    }

    #[test]
    fn the_highest_role_wins_directly_or_through_a_group() {
        let console = console();
        for (email, role) in [
            ("sam@acme.io", Some(StaffRole::Viewer)),
            ("vic@acme.io", Some(StaffRole::Viewer)),
            ("ann@acme.io", Some(StaffRole::Approver)),
            ("ada@acme.io", Some(StaffRole::Admin)),
            ("eve@acme.io", None),
            ("group:support", None),
        ] {
            assert_eq!(console.role_of(email), role, "{email}");
        }
        assert!(StaffRole::Admin > StaffRole::Approver && StaffRole::Approver > StaffRole::Viewer);
        assert!(Console::default().is_empty() && !console.is_empty());
    }

    #[test]
    fn emails_are_normalised_group_names_kept() {
        let console = Console {
            viewers: ["  Vic@ACME.io ".to_string(), "group:Support".to_string()].into(),
            ..Console::default()
        }
        .normalized();
        assert_eq!(
            console.viewers.into_iter().collect::<Vec<_>>(),
            ["group:Support", "vic@acme.io"]
        );
    }
}
