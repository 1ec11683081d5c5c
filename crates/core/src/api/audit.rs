//! The audit log: one entry per committed batch, with who sent it, the meta it carried and
//! the changes themselves, sensitive attribute values masked before they are stored.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{AttributeValue, Change, ResourceValue, State, WireChange};

/// What the client says about a batch: where it comes from. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMeta {
    /// The git commit the desired state was read at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// Whether the working tree had uncommitted changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
}

/// One committed batch.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    pub revision: u64,
    /// RFC 3339, UTC.
    pub time: String,
    /// The name of the token that made the change.
    pub token: String,
    pub meta: ChangeMeta,
    /// How many changes the batch holds: those sent and those they caused.
    pub change_count: u64,
    /// The changes as sent, then the changes the batch caused (see `caused_count`),
    /// sensitive attribute values replaced by `"(sensitive)"`.
    pub changes: Vec<WireChange>,
    /// The last `caused_count` of `changes` were not sent but caused by the batch:
    /// partners, group entries and shares revoked with a deleted partner org. In kind
    /// order (member, group, share), each a put of the resource's new value or a delete.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub caused_count: u64,
    /// Whether `changes` holds only the first of `change_count` changes, because the whole
    /// batch would not fit in one page: `GET /v1/audit/{revision}/changes` pages the rest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub changes_truncated: bool,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `skip_serializing_if` passes a reference"
)]
fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl AuditEntry {
    /// How many of `change_count` were sent (the rest were caused by them).
    pub fn sent_count(&self) -> u64 {
        self.change_count.saturating_sub(self.caused_count)
    }
}

/// The placeholder written instead of a sensitive value.
pub const MASK: &str = "(sensitive)";

/// The changes in wire form with every value of an attribute declared sensitive (in
/// `before` or `after`) masked.
pub fn masked_changes(changes: &[Change], before: &State, after: &State) -> Vec<WireChange> {
    let sensitive = |key: &str| {
        [before, after].iter().any(|state| {
            state
                .attributes
                .get(key)
                .is_some_and(|attribute| attribute.sensitive)
        })
    };
    changes
        .iter()
        .map(|change| match change {
            Change::Put {
                key,
                value: ResourceValue::Member(member),
            } => {
                let mut member = member.clone();
                for (name, value) in &mut member.attributes {
                    if sensitive(name) {
                        *value = AttributeValue::String(MASK.into());
                    }
                }
                WireChange::from(Change::Put {
                    key: key.clone(),
                    value: ResourceValue::Member(member),
                })
            }
            other => WireChange::from(other.clone()),
        })
        .collect()
}
