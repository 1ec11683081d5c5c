//! Groups: named sets of partners, the usual principal of a share.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Member emails (lowercase).
    #[serde(default)]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::EMAIL_PATTERN }))]
    pub members: BTreeSet<String>,
}
