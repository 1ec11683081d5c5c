//! Field-level changes: what a person reads about one resource. This is the ONE place
//! where sensitive attribute values are recognised: a sensitive field becomes
//! [`FieldDelta::Sensitive`], whose values are [`Sensitive`] and mask themselves in
//! `Display`, `Debug` and `Serialize`, so no renderer can show one.
//!
//! **Architecture invariant:** no I/O; fields come out in a fixed order (the desired
//! value's fields by path, then the fields only the live value has, by path).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

pub use crate::model::SENSITIVE_MASK;
use crate::model::{Kind, ResourceValue, Sensitive};

/// One changed field, addressed by a dotted path: `color`, `attributes.region`, `members`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub path: String,
    pub delta: FieldDelta,
}

/// How a field changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldDelta {
    /// A plain value set, changed or removed (`None` = absent).
    Value {
        before: Option<Value>,
        after: Option<Value>,
    },
    /// A set (group members, domains, permissions): the elements added and removed,
    /// each sorted.
    Set { added: Vec<Value>, removed: Vec<Value> },
    /// A sensitive attribute: whether it was and is set; the values mask themselves.
    Sensitive {
        before: Option<Sensitive<Value>>,
        after: Option<Sensitive<Value>>,
    },
}

/// The field changes from `before` to `after` (either may be absent, not both).
/// `sensitive` holds the attribute keys whose values must be masked, in members and in
/// partner orgs alike (an org's values are inherited by its members).
pub(super) fn between(
    before: Option<&ResourceValue>,
    after: Option<&ResourceValue>,
    sensitive: &BTreeSet<String>,
) -> Vec<FieldChange> {
    let kind = before.or(after).map(ResourceValue::kind);
    let before_fields = before.map(flatten).unwrap_or_default();
    let after_fields = after.map(flatten).unwrap_or_default();
    let before_map: BTreeMap<&str, &Value> = before_fields.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let after_map: BTreeMap<&str, &Value> = after_fields.iter().map(|(k, v)| (k.as_str(), v)).collect();

    let paths = after_fields.iter().map(|(path, _)| path.as_str()).chain(
        before_fields
            .iter()
            .map(|(path, _)| path.as_str())
            .filter(|path| !after_map.contains_key(path)),
    );
    // A member's `pending` is left out when false: an approval reads `true → false`.
    static NOT_PENDING: Value = Value::Bool(false);
    let pending_default =
        (kind == Some(Kind::Member) && before.is_some() && after.is_some()).then_some(&NOT_PENDING);
    let mut out = Vec::new();
    for path in paths {
        let default = if path == "pending" { pending_default } else { None };
        let old = before_map.get(path).copied().or(default);
        let new = after_map.get(path).copied().or(default);
        if old == new {
            continue;
        }
        let masked = matches!(kind, Some(Kind::Member | Kind::PartnerOrg))
            && path
                .strip_prefix("attributes.")
                .is_some_and(|key| sensitive.contains(key));
        let delta = if masked {
            FieldDelta::Sensitive {
                before: old.cloned().map(Sensitive::new),
                after: new.cloned().map(Sensitive::new),
            }
        } else {
            match set_delta(old, new) {
                Some(delta) => delta,
                None => FieldDelta::Value {
                    before: old.cloned(),
                    after: new.cloned(),
                },
            }
        };
        if let FieldDelta::Set { added, removed } = &delta
            && added.is_empty()
            && removed.is_empty()
        {
            continue;
        }
        out.push(FieldChange {
            path: path.to_string(),
            delta,
        });
    }
    out
}

/// A set delta when both sides are arrays (or absent) and they differ as sets; `None`
/// when a value delta says it better (not arrays, or only the order changed).
fn set_delta(old: Option<&Value>, new: Option<&Value>) -> Option<FieldDelta> {
    fn as_array(value: Option<&Value>) -> Option<&[Value]> {
        match value {
            None => Some(&[]),
            Some(Value::Array(items)) => Some(items),
            Some(_) => None,
        }
    }
    let (old_items, new_items) = (as_array(old)?, as_array(new)?);
    let index = |items: &[Value]| -> BTreeMap<String, Value> {
        items
            .iter()
            .map(|item| (item.to_string(), item.clone()))
            .collect()
    };
    let (old_set, new_set) = (index(old_items), index(new_items));
    let added: Vec<Value> = new_set
        .iter()
        .filter(|(text, _)| !old_set.contains_key(*text))
        .map(|(_, value)| value.clone())
        .collect();
    let removed: Vec<Value> = old_set
        .iter()
        .filter(|(text, _)| !new_set.contains_key(*text))
        .map(|(_, value)| value.clone())
        .collect();
    if added.is_empty() && removed.is_empty() && old.is_some() && new.is_some() {
        // The same elements, in another order or repeated: a value delta shows it.
        return None;
    }
    Some(FieldDelta::Set { added, removed })
}

/// The leaves of a value as `(dotted path, value)`, sorted by path; objects are
/// descended into, arrays and scalars are leaves, nulls are skipped.
fn flatten(value: &ResourceValue) -> Vec<(String, Value)> {
    fn walk(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Null => {}
            Value::Object(map) => {
                for (key, child) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, child, out);
                }
            }
            leaf => out.push((prefix.to_string(), leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk("", &value.to_json(), &mut out);
    // Sorted here rather than trusting the JSON map's order, which a serde_json feature
    // enabled anywhere in the build could change.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttributeValue, Group, MemberSource, Membership};
    use serde_json::json;

    fn member(attributes: &[(&str, &str)]) -> ResourceValue {
        ResourceValue::Member(Membership {
            role: "viewer".into(),
            org: None,
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_string(), AttributeValue::String((*v).to_string())))
                .collect(),
            expires: None,
            source: MemberSource::Managed,
            pending: false,
        })
    }

    #[test]
    fn reports_nested_fields_by_dotted_path() {
        let fields = between(
            Some(&member(&[("region", "emea")])),
            Some(&member(&[("region", "apac")])),
            &BTreeSet::new(),
        );
        assert_eq!(
            fields,
            [FieldChange {
                path: "attributes.region".into(),
                delta: FieldDelta::Value {
                    before: Some(json!("emea")),
                    after: Some(json!("apac"))
                }
            }]
        );
    }

    #[test]
    fn masks_sensitive_attributes() {
        let sensitive = BTreeSet::from(["contract_ref".to_string()]);
        let fields = between(
            Some(&member(&[("contract_ref", "C-1")])),
            Some(&member(&[("contract_ref", "C-2")])),
            &sensitive,
        );
        assert!(matches!(
            &fields[0].delta,
            FieldDelta::Sensitive {
                before: Some(_),
                after: Some(_)
            }
        ));
        assert!(!format!("{fields:?}").contains("C-1"));
        assert!(!format!("{fields:?}").contains("C-2"));
    }

    /// Regression (issue 21 audit, gap 1): a partner org's sensitive value showed in clear
    /// in `plan`, `diff` and `drift`; it is masked as a member's is, set, changed or removed.
    #[test]
    fn masks_sensitive_attributes_of_partner_orgs() {
        let org = |value: Option<&str>| {
            ResourceValue::PartnerOrg(crate::model::PartnerOrg {
                domains: ["globex.com".to_string()].into(),
                attributes: value
                    .map(|v| ("contract_ref".to_string(), AttributeValue::String(v.into())))
                    .into_iter()
                    .chain([("region".to_string(), AttributeValue::String("emea".into()))])
                    .collect(),
                ..Default::default()
            })
        };
        let sensitive = BTreeSet::from(["contract_ref".to_string()]);
        for (before, after) in [
            (None, Some(org(Some("ORG-SECRET-1")))),
            (Some(org(Some("ORG-SECRET-1"))), Some(org(Some("ORG-SECRET-2")))),
            (Some(org(Some("ORG-SECRET-1"))), Some(org(None))),
        ] {
            let fields = between(before.as_ref(), after.as_ref(), &sensitive);
            let change = fields
                .iter()
                .find(|field| field.path == "attributes.contract_ref")
                .expect("the sensitive field is reported");
            assert!(matches!(change.delta, FieldDelta::Sensitive { .. }), "{fields:?}");
            let shown = format!("{fields:?}");
            assert!(!shown.contains("ORG-SECRET"), "{shown}");
        }
        // A value that is not sensitive still shows.
        let fields = between(None, Some(&org(None)), &sensitive);
        assert!(format!("{fields:?}").contains("emea"), "{fields:?}");
    }

    #[test]
    fn reports_set_elements_added_and_removed() {
        let group = |members: &[&str]| {
            ResourceValue::Group(Group {
                description: None,
                members: members.iter().map(|m| (*m).to_string()).collect(),
                joined_live: Default::default(),
            })
        };
        let fields = between(
            Some(&group(&["a@x.com", "b@x.com"])),
            Some(&group(&["b@x.com", "c@x.com"])),
            &BTreeSet::new(),
        );
        assert_eq!(
            fields,
            [FieldChange {
                path: "members".into(),
                delta: FieldDelta::Set {
                    added: vec![json!("c@x.com")],
                    removed: vec![json!("a@x.com")]
                }
            }]
        );
        let created = between(None, Some(&group(&[])), &BTreeSet::new());
        assert!(created.is_empty(), "{created:?}");
    }

    #[test]
    fn a_reordered_list_is_a_value_change() {
        let attribute = |values: &[&str]| {
            ResourceValue::Attribute(crate::model::Attribute {
                kind: crate::model::AttributeType::Enum,
                values: values.iter().map(|v| (*v).to_string()).collect(),
                required: false,
                sensitive: false,
                self_service: false,
            })
        };
        let fields = between(
            Some(&attribute(&["apac", "emea"])),
            Some(&attribute(&["emea", "apac"])),
            &BTreeSet::new(),
        );
        assert_eq!(
            fields,
            [FieldChange {
                path: "values".into(),
                delta: FieldDelta::Value {
                    before: Some(json!(["apac", "emea"])),
                    after: Some(json!(["emea", "apac"]))
                }
            }]
        );
    }
}
