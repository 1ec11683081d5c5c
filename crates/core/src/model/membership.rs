//! Memberships: one partner's entry in one portal's roster.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AttributeValues, CalendarDate};

/// (portal technical name, email)
pub type MemberKey = (String, String);

/// Who wrote a membership: the admin API / portalctl, the partner through self-registration,
/// or the partner org itself (its partner admins or its identity provider through SCIM) under
/// the org's `self_management`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberSource {
    #[default]
    Managed,
    SelfRegistration,
    // Added by the member's partner org (a partner admin, or SCIM): owned live and managed
    // by the org named in the membership's `org`. (A plain comment: a doc comment would
    // split the schema's enum into a `oneOf`.)
    PartnerManaged,
}

impl fmt::Display for MemberSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Managed => "managed",
            Self::SelfRegistration => "self_registration",
            Self::PartnerManaged => "partner_managed",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(default, skip_serializing_if = "AttributeValues::is_empty")]
    pub attributes: AttributeValues,
    /// Access ends after this day (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<CalendarDate>,
    #[serde(default)]
    pub source: MemberSource,
    /// A self-registration awaiting approval: grants nothing (no portal, group, org or
    /// direct share reaches it) until an admin approves it or the config lists the member.
    /// It counts toward seat limits. Configs never declare it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
}

impl Membership {
    /// Whether the membership grants access on `today`: not pending, and not past its
    /// `expires` day.
    pub fn grants_on(&self, today: CalendarDate) -> bool {
        !self.pending && self.expires.is_none_or(|day| day >= today)
    }
}

impl super::ResourceApi for Membership {
    const ITEM_PATH: &'static str = "/v1/portals/{technical_name}/members/{email}";
    const NOUN: &'static str = "portal member";
    const DESCRIPTION: &'static str = "The roster of one portal.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::PortalName, super::KeyPart::Email];

    fn attribute_owner(parts: &[String]) -> Option<String> {
        parts.get(1).cloned()
    }
}
