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
    /// What the org manages itself: its people, through its own admins or its identity
    /// provider (SCIM). Absent: git manages the whole roster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_management: Option<SelfManagement>,
}

/// A partner org's delegated roster: who may add people, where, and with which roles.
/// Members they add are owned live (source `partner_managed`); everything else stays in
/// git. SCIM needs portals to put people in (the rules refuse it without).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    { "properties": { "scim": { "type": "boolean", "enum": [false] } } },
    { "properties": { "portals": { "minItems": 1 } }, "required": ["portals"] }
]))]
pub struct SelfManagement {
    /// Members of the org who manage its people (partner admins).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub admins: BTreeSet<String>,
    /// The portals (technical names) where they may add people.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub portals: BTreeSet<String>,
    /// The highest role they may give.
    pub max_role: String,
    /// The role of people the org's identity provider creates; `viewer` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_role: Option<String>,
    /// Whether the org's identity provider may provision people through SCIM.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scim: bool,
}

impl super::State {
    /// Whether `role` stays within `max`: it grants no permission `max` does not (what a
    /// partner admin may give is capped this way).
    #[must_use]
    pub fn role_within(&self, role: &str, max: &str) -> bool {
        let permissions = |name: &str| super::role_permissions(name, |custom| self.roles.get(custom));
        permissions(role).is_subset(&permissions(max))
    }
}

impl SelfManagement {
    /// The role SCIM gives the people it creates.
    #[must_use]
    pub fn default_role(&self) -> &str {
        self.default_role.as_deref().unwrap_or("viewer")
    }
}

impl super::ResourceApi for PartnerOrg {
    const ITEM_PATH: &'static str = "/v1/partner_orgs/{name}";
    const NOUN: &'static str = "partner org";
    const DESCRIPTION: &'static str = "Partner organisations and their email domains.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::Name];

    fn attribute_owner(parts: &[String]) -> Option<String> {
        parts.first().map(|name| format!("org:{name}"))
    }
}
