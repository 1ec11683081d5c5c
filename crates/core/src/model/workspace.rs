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
    #[schemars(extend("propertyNames" = { "enum": super::BUILTIN_PERMISSIONS }))]
    pub permissions: BTreeMap<String, PermissionSpec>,
    /// Who may use the staff console, and with which role.
    #[serde(default, skip_serializing_if = "super::Console::is_empty")]
    pub console: super::Console,
}

/// What a permission needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    /// The level a grant must give on a folder or dashboard for the permission to apply.
    pub requires: super::Access,
}
