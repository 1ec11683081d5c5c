//! Shares: a folder or a dashboard made visible to a principal at a level.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{CalendarDate, FolderPath, Principal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    View,
    Edit,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::View => "view",
            Self::Edit => "edit",
        })
    }
}

/// (folder or dashboard path, principal)
pub type ShareKey = (FolderPath, Principal);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Share {
    pub access: Access,
    /// The share grants nothing after this day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<CalendarDate>,
}

impl super::ResourceApi for Share {
    const ITEM_PATH: &'static str = "/v1/shares/{principal}/{*folder}";
    const NOUN: &'static str = "share";
    const DESCRIPTION: &'static str =
        "Shares of folders and dashboards with groups, portals, orgs and users.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::FolderPath, super::KeyPart::Principal];

    fn attribute_owner(_: &[String]) -> Option<String> {
        None
    }
}
