//! Roles: named sets of permissions, possibly extending another role.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The permission vocabulary the portal understands.
pub const BUILTIN_PERMISSIONS: &[&str] = &[
    "reports.view",
    "reports.edit",
    "dashboards.create",
    "files.transfer",
    "comments.write",
    "tasks.complete",
    "data.export",
];

/// Roles every workspace has; they cannot be redefined.
pub const BUILTIN_ROLES: &[&str] = &["viewer", "editor"];

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A role whose permissions this one inherits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    #[serde(default)]
    pub permissions: BTreeSet<String>,
}

/// The definition of a built-in role, or `None` for any other name.
pub fn builtin_role(name: &str) -> Option<Role> {
    let permissions: &[&str] = match name {
        "viewer" => &["reports.view"],
        "editor" => &["reports.view", "reports.edit", "dashboards.create"],
        _ => return None,
    };
    Some(Role {
        description: Some(format!("built-in {name} role")),
        extends: None,
        permissions: permissions.iter().map(|p| (*p).to_string()).collect(),
    })
}
