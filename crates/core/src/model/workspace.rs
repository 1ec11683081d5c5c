//! The workspace: the company that owns the portals.

use std::collections::BTreeSet;

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
}
