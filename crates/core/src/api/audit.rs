//! The audit log: one entry per committed batch, with who sent it, the meta it carried and
//! the changes themselves, sensitive attribute values masked before they are stored.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{AttributeValue, Change, Op, ResourceValue, State, WireChange};

/// A batch's `plan_id` in the audit log: the first 8 bytes, in hex, of the SHA-256 of its
/// changes as JSON, hashed as they are serialised (a large batch's JSON is never held whole).
pub fn plan_id(changes: &[Change]) -> String {
    use sha2::Digest as _;
    let mut hasher = crate::config::Sha256Writer(sha2::Sha256::new());
    let _ = serde_json::to_writer(&mut hasher, changes);
    crate::config::hex(&hasher.0.finalize()[..8])
}

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

/// One read of sensitive attribute values in clear (`?reveal=sensitive` with an `admin`
/// token): who read what, when, from which revision. It holds no value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealEntry {
    /// Grows with each reveal.
    pub id: u64,
    /// RFC 3339, UTC.
    pub time: String,
    /// The name of the token that asked.
    pub token: String,
    /// What was read: the request, such as `GET /v1/portals/globex/members/alice@globex.com`.
    pub read: String,
    /// The revision of the state the values were read from.
    pub revision: u64,
}

/// `GET /v1/audit/reveals`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealPage {
    /// Oldest first, after the `after` of the request.
    pub entries: Vec<RevealEntry>,
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
pub const MASK: &str = crate::model::SENSITIVE_MASK;

/// The changes as the audit log stores them: a JSON array of wire changes (as
/// [`WireChange`] reads them back), every value of an attribute declared sensitive (in
/// `before` or `after`) masked.
///
/// Written straight from the model values: a batch of 100k members never exists as a
/// tree of JSON values next to the state it came from.
///
/// # Errors
/// Only if a model value cannot be serialised, which the model types rule out.
pub fn masked_changes_json<'a>(
    changes: impl IntoIterator<Item = &'a Change>,
    before: &State,
    after: &State,
) -> Result<String, serde_json::Error> {
    let sensitive = |key: &str| {
        [before, after].iter().any(|state| {
            state
                .attributes
                .get(key)
                .is_some_and(|attribute| attribute.sensitive)
        })
    };
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    serde::Serializer::collect_seq(
        &mut serializer,
        changes.into_iter().map(|change| MaskedChange {
            change,
            sensitive: &sensitive,
        }),
    )?;
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// One change as `WireChange` has it, with sensitive attributes of members and partner
/// orgs masked.
struct MaskedChange<'a> {
    change: &'a Change,
    sensitive: &'a dyn Fn(&str) -> bool,
}

impl MaskedChange<'_> {
    fn mask(&self, values: &mut crate::model::AttributeValues) {
        for (name, value) in values {
            if (self.sensitive)(name) {
                *value = AttributeValue::String(MASK.into());
            }
        }
    }
}

impl Serialize for MaskedChange<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let key = self.change.key();
        let value = match self.change {
            Change::Put { value, .. } => Some(value),
            Change::Delete { .. } => None,
        };
        let mut out = serializer.serialize_struct("WireChange", if value.is_some() { 4 } else { 3 })?;
        out.serialize_field("op", &if value.is_some() { Op::Put } else { Op::Delete })?;
        out.serialize_field("kind", &key.kind())?;
        out.serialize_field("key", &key.parts())?;
        match value {
            Some(ResourceValue::Member(member))
                if member.attributes.keys().any(|name| (self.sensitive)(name)) =>
            {
                let mut member = member.clone();
                self.mask(&mut member.attributes);
                out.serialize_field("value", &member)?;
            }
            Some(ResourceValue::PartnerOrg(org))
                if org.attributes.keys().any(|name| (self.sensitive)(name)) =>
            {
                let mut org = org.clone();
                self.mask(&mut org.attributes);
                out.serialize_field("value", &org)?;
            }
            Some(value) => out.serialize_field("value", value)?,
            None => {}
        }
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attribute, AttributeType, Membership, ResourceKey};

    #[test]
    fn a_plan_id_is_the_first_8_bytes_of_the_sha256_of_the_batch_as_json() {
        use sha2::Digest as _;
        let changes = vec![Change::Delete {
            key: ResourceKey::Group("finance".into()),
        }];
        let whole = sha2::Sha256::digest(serde_json::to_vec(&changes).unwrap());
        let id = plan_id(&changes);
        assert_eq!(id, crate::config::hex(&whole[..8]));
        assert_eq!(id.len(), 16);
        assert_ne!(id, plan_id(&[]));
    }

    #[test]
    fn stored_changes_read_back_as_wire_changes_with_sensitive_values_masked() {
        let mut state = State::default();
        state.attributes.insert(
            "tax_id".into(),
            Attribute {
                kind: AttributeType::String,
                values: Vec::new(),
                required: false,
                sensitive: true,
                self_service: false,
            },
        );
        let mut member: Membership = serde_json::from_value(serde_json::json!({
            "role": "viewer",
            "attributes": {"tax_id": "DE-123", "region": "emea"}
        }))
        .unwrap();
        member.org = None;
        let org: crate::model::PartnerOrg = serde_json::from_value(serde_json::json!({
            "domains": ["globex.com"],
            "attributes": {"tax_id": "ORG-456", "region": "emea"}
        }))
        .unwrap();
        let changes = vec![
            Change::Put {
                key: ResourceKey::Member {
                    portal: "globex".into(),
                    email: "a@globex.com".into(),
                },
                value: ResourceValue::Member(member.clone()),
            },
            Change::Delete {
                key: ResourceKey::Group("finance".into()),
            },
            Change::Put {
                key: ResourceKey::PartnerOrg("globex".into()),
                value: ResourceValue::PartnerOrg(org.clone()),
            },
        ];
        let json = masked_changes_json(&changes, &state, &state).unwrap();
        assert!(!json.contains("DE-123") && !json.contains("ORG-456"), "{json}");
        let read: Vec<WireChange> = serde_json::from_str(&json).unwrap();
        let mut masked = member;
        masked
            .attributes
            .insert("tax_id".into(), AttributeValue::String(MASK.into()));
        let expected = [
            WireChange::from(Change::Put {
                key: changes[0].key().clone(),
                value: ResourceValue::Member(masked),
            }),
            WireChange::from(changes[1].clone()),
            WireChange::from(Change::Put {
                key: changes[2].key().clone(),
                value: ResourceValue::PartnerOrg(crate::model::PartnerOrg {
                    attributes: [
                        ("tax_id".to_string(), AttributeValue::String(MASK.into())),
                        ("region".to_string(), AttributeValue::String("emea".into())),
                    ]
                    .into(),
                    ..org
                }),
            }),
        ];
        assert_eq!(
            serde_json::to_value(&read).unwrap(),
            serde_json::to_value(expected).unwrap()
        );
    }
}
