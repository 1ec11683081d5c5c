//! Partner organisations: the companies partners belong to.

use std::collections::BTreeSet;

use super::AttributeValues;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    ChannelPartner,
    Customer,
    Investor,
    LeadPartner,
    #[default]
    Other,
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ChannelPartner => "channel_partner",
            Self::Customer => "customer",
            Self::Investor => "investor",
            Self::LeadPartner => "lead_partner",
            Self::Other => "other",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerOrg {
    /// Email domains of the organisation; its partners must have an email in one of them.
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::DOMAIN_PATTERN }, "minItems" = 1))]
    pub domains: BTreeSet<String>,
    #[serde(default)]
    pub kind: OrgKind,
    /// At most this many of the organisation's partners across all portals; unlimited
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Attribute values every member of the org inherits: a member may omit them, and may
    /// not contradict them.
    #[serde(default, skip_serializing_if = "AttributeValues::is_empty")]
    pub attributes: AttributeValues,
}
