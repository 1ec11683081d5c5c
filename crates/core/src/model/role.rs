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
    #[schemars(extend("items" = { "type": "string", "enum": BUILTIN_PERMISSIONS }))]
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

/// Whether `permission` needs `edit` access on a folder to be used there by default:
/// every permission except the `*.view` ones (reading is the only thing `view` allows).
pub fn permission_needs_edit(permission: &str) -> bool {
    !permission.ends_with(".view")
}

/// Permissions whose level is fixed: reading needs `view`, editing needs `edit`.
pub const FIXED_LEVEL_PERMISSIONS: &[&str] = &["reports.view", "reports.edit"];

/// The level a grant must give for `permission` to apply: what the workspace declares
/// (`workspace.permissions`), else `view` for `*.view` and `edit` for the rest; the fixed
/// ones ([`FIXED_LEVEL_PERMISSIONS`]) keep theirs.
pub fn required_level(
    permission: &str,
    declared: &std::collections::BTreeMap<String, super::PermissionSpec>,
) -> super::Access {
    let default = if permission_needs_edit(permission) {
        super::Access::Edit
    } else {
        super::Access::View
    };
    if FIXED_LEVEL_PERMISSIONS.contains(&permission) {
        return default;
    }
    declared.get(permission).map_or(default, |spec| spec.requires)
}

/// Every permission of role `name`, following `extends` (built-in roles included);
/// empty for an unknown role. A cycle (which validation refuses) stops the walk.
pub fn role_permissions<'a>(name: &str, custom: impl Fn(&str) -> Option<&'a Role>) -> BTreeSet<String> {
    let mut permissions = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut next = Some(name.to_string());
    while let Some(current) = next.take() {
        if !seen.insert(current.clone()) {
            break;
        }
        if let Some(role) = builtin_role(&current) {
            permissions.extend(role.permissions);
        } else if let Some(role) = custom(&current) {
            permissions.extend(role.permissions.iter().cloned());
            next = role.extends.clone();
        }
    }
    permissions
}

impl super::ResourceApi for Role {
    const ITEM_PATH: &'static str = "/v1/roles/{name}";
    const NOUN: &'static str = "role";
    const DESCRIPTION: &'static str = "Roles: permission sets that cap access.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::RoleName];

    fn attribute_owner(_: &[String]) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_extends_and_built_ins() {
        let auditor = Role {
            description: None,
            extends: Some("viewer".into()),
            permissions: ["data.export".to_string()].into(),
        };
        let found = role_permissions("auditor", |name| (name == "auditor").then_some(&auditor));
        let expected: BTreeSet<String> = ["data.export", "reports.view"].map(String::from).into();
        assert_eq!(found, expected);
        assert!(role_permissions("nobody", |_| None).is_empty());
        assert!(permission_needs_edit("reports.edit"));
        assert!(!permission_needs_edit("reports.view"));
    }
}
