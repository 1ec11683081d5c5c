//! The workspace: the company that owns the portals.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// Display name of the workspace; not blank.
    #[schemars(extend("pattern" = super::patterns::NOT_BLANK_PATTERN))]
    pub name: String,
    /// The company's own email domains; partners may not have an email in one of them.
    #[serde(default)]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::DOMAIN_PATTERN }))]
    pub owner_domains: BTreeSet<String>,
    /// The level a share must grant for a permission to apply there, where the config
    /// declares it (`files.transfer: {requires: view}`); see [`super::required_level`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "permissions_schema")]
    pub permissions: BTreeMap<String, PermissionSpec>,
    /// Who may use the staff console, and with which role.
    #[serde(default, skip_serializing_if = "super::Console::is_empty")]
    pub console: super::Console,
}

/// One optional property per built-in permission, and no others; a permission whose level
/// is fixed ([`super::FIXED_LEVEL_PERMISSIONS`]) admits only that level, so an editor, the
/// service's request check and the rules agree on what may be declared.
fn permissions_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let spec = generator.subschema_for::<PermissionSpec>().to_value();
    let properties: serde_json::Map<String, serde_json::Value> = super::BUILTIN_PERMISSIONS
        .iter()
        .map(|&permission| {
            let schema = if super::FIXED_LEVEL_PERMISSIONS.contains(&permission) {
                let level = super::required_level(permission, &BTreeMap::new()).to_string();
                serde_json::json!({
                    "description": format!("`{permission}` always requires `{level}`: its level cannot be changed."),
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["requires"],
                    "properties": {"requires": {"type": "string", "enum": [level]}}
                })
            } else {
                spec.clone()
            };
            (permission.to_string(), schema)
        })
        .collect();
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": false,
        "properties": properties
    })
}

/// What a permission needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    /// The level a grant must give on a folder or dashboard for the permission to apply.
    pub requires: super::Access,
}
