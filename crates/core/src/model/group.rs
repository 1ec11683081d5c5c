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
    #[serde(default, deserialize_with = "sorted_set")]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::EMAIL_PATTERN }))]
    pub members: BTreeSet<String>,
    /// The entries of `members` that the live side added (a self-registration joining its
    /// portal's registration groups): owned live, so `apply` keeps them and `drift` does not
    /// report them (see `State::is_live_owned`). A config never declares them; a config that
    /// lists such an email in the group adopts the entry.
    #[serde(
        default,
        skip_serializing_if = "BTreeSet::is_empty",
        deserialize_with = "sorted_set"
    )]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::EMAIL_PATTERN }))]
    pub joined_live: BTreeSet<String>,
}

/// A set read as a list and built in one pass ([`BTreeSet::from_iter`] sorts, then builds
/// the tree bottom-up), not entry by entry: a group of a million entries is built in a
/// fraction of the time, and lists arrive sorted (they are written from sets).
fn sorted_set<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeSet<String>, D::Error> {
    Vec::<String>::deserialize(deserializer).map(BTreeSet::from_iter)
}

impl Group {
    /// Adds `email` as an entry owned live; nothing when the group already lists it.
    pub fn join_live(&mut self, email: &str) -> bool {
        if self.members.insert(email.to_string()) {
            self.joined_live.insert(email.to_string());
            true
        } else {
            false
        }
    }

    /// Removes `email` from the group, whatever its origin.
    pub fn remove_member(&mut self, email: &str) -> bool {
        self.joined_live.remove(email);
        self.members.remove(email)
    }
}

impl super::ResourceApi for Group {
    const ITEM_PATH: &'static str = "/v1/groups/{name}";
    const NOUN: &'static str = "group";
    const DESCRIPTION: &'static str = "Groups of partners.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::Name];

    fn attribute_owner(_: &[String]) -> Option<String> {
        None
    }
}
