//! `Sensitive<T>`: a value of a sensitive attribute, which masks itself.
//!
//! `Display`, `Debug` and `Serialize` all print [`MASK`], so a renderer, a log line or a
//! JSON document that is handed one cannot show the value by mistake; only
//! [`Sensitive::expose`], a call a reviewer can search for, reaches it.

use std::fmt;

use serde::{Serialize, Serializer};

/// What every format shows instead of a sensitive value.
pub const MASK: &str = "(sensitive)";

/// A value that must not be shown. There is deliberately no `Deserialize`: a sensitive
/// value enters from the config or the store as a plain value and is wrapped where it
/// is known to be sensitive.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself. Never pass it to output: this is the one way to reach it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl<T> Serialize for Sensitive<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_masks_the_value() {
        let secret = Sensitive::new(serde_json::json!("C-12345"));
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{:#?}", Some(&secret)),
            serde_json::to_string(&secret).unwrap(),
            serde_json::to_string(&[Some(secret.clone())]).unwrap(),
        ] {
            assert!(!shown.contains("C-12345"), "{shown}");
            assert!(shown.contains(MASK), "{shown}");
        }
        assert_eq!(secret.expose(), "C-12345");
    }
}

/// Sensitive values as readers of the live side see them: a digest in place of the value.
///
/// The service answers every reader with [`State::masked`] unless an `admin` token asks
/// for the values explicitly; `plan` and `drift` compare the desired values to the digests
/// ([`State::restore_masked`]), so they notice a sensitive value changed behind git's back
/// without seeing it. The digest is salted with the owner (partner email or org) and the
/// attribute, so equal values of two partners do not look equal; it is not encryption: a
/// reader holding a digest can test guesses of a short value.
pub mod masking {
    use std::borrow::Cow;
    use std::collections::BTreeSet;

    use sha2::{Digest as _, Sha256};

    use super::MASK;
    use crate::model::{AttributeValue, AttributeValues, State};

    /// `(sensitive) sha256:…` for `value` of `attribute` owned by `owner`.
    pub fn digest(owner: &str, attribute: &str, value: &AttributeValue) -> AttributeValue {
        let mut hash = Sha256::new();
        for part in [
            "portalctl sensitive value v1",
            owner,
            attribute,
            &serde_json::to_string(value).expect("a value serializes"),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        AttributeValue::String(format!("{MASK} sha256:{hex}"))
    }

    /// Whether `value` is a digest [`digest`] made.
    pub fn is_digest(value: &AttributeValue) -> bool {
        matches!(value, AttributeValue::String(text) if text.strip_prefix(MASK).is_some_and(|rest| rest.starts_with(" sha256:")))
    }

    fn sensitive_keys(state: &State) -> BTreeSet<&str> {
        state
            .attributes
            .iter()
            .filter(|(_, attribute)| attribute.sensitive)
            .map(|(key, _)| key.as_str())
            .collect()
    }

    fn mask(values: &mut AttributeValues, owner: &str, sensitive: &BTreeSet<&str>) {
        for (attribute, value) in values {
            if sensitive.contains(attribute.as_str()) && !is_digest(value) {
                *value = digest(owner, attribute, value);
            }
        }
    }

    impl State {
        /// The state with every sensitive attribute value (of members and partner orgs)
        /// replaced by its [`digest`]; borrowed when there is none.
        pub fn masked(&self) -> Cow<'_, State> {
            let sensitive = sensitive_keys(self);
            let holds = |values: &AttributeValues| {
                values
                    .into_iter()
                    .any(|(key, _)| sensitive.contains(key.as_str()))
            };
            if sensitive.is_empty()
                || !(self.members.values().any(|m| holds(&m.attributes))
                    || self.partner_orgs.values().any(|o| holds(&o.attributes)))
            {
                return Cow::Borrowed(self);
            }
            let mut masked = self.clone();
            for ((_, email), member) in &mut masked.members {
                mask(&mut member.attributes, email, &sensitive);
            }
            for (name, org) in &mut masked.partner_orgs {
                mask(&mut org.attributes, &format!("org:{name}"), &sensitive);
            }
            Cow::Owned(masked)
        }

        /// Puts back, in this (masked, live) state, the values of `desired` whose digest
        /// matches, so that a plan compares them equal; a digest that matches nothing stays
        /// and shows as a changed sensitive field. Returns how many digests remain.
        pub fn restore_masked(&mut self, desired: &State) -> usize {
            let mut remaining = 0;
            let mut restore =
                |values: &mut AttributeValues, owner: &str, wanted: Option<&AttributeValues>| {
                    for (attribute, value) in values {
                        if !is_digest(value) {
                            continue;
                        }
                        match wanted.and_then(|wanted| wanted.get(attribute.as_str())) {
                            Some(want) if digest(owner, attribute, want) == *value => *value = want.clone(),
                            _ => remaining += 1,
                        }
                    }
                };
            for (key, member) in &mut self.members {
                let wanted = desired.members.get(key).map(|m| &m.attributes);
                restore(&mut member.attributes, &key.1, wanted);
            }
            for (name, org) in &mut self.partner_orgs {
                let wanted = desired.partner_orgs.get(name).map(|o| &o.attributes);
                restore(&mut org.attributes, &format!("org:{name}"), wanted);
            }
            remaining
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::model::{Attribute, AttributeType, MemberSource, Membership};

        fn state(value: &str) -> State {
            let mut state = State::default();
            state.attributes.insert(
                "contract_ref".into(),
                Attribute {
                    kind: AttributeType::String,
                    values: Vec::new(),
                    required: false,
                    sensitive: true,
                    self_service: false,
                },
            );
            let mut attributes = AttributeValues::default();
            attributes.insert("contract_ref".into(), AttributeValue::String(value.into()));
            attributes.insert("region".into(), AttributeValue::String("emea".into()));
            state.members.insert(
                ("globex".into(), "alice@globex.com".into()),
                Membership {
                    role: "viewer".into(),
                    org: None,
                    attributes,
                    expires: None,
                    source: MemberSource::Managed,
                    pending: false,
                },
            );
            state
        }

        #[test]
        fn masked_states_hide_values_and_compare_by_digest() {
            let live = state("K-1");
            let masked = live.masked().into_owned();
            let json = serde_json::to_string(&masked).unwrap();
            assert!(
                !json.contains("K-1") && json.contains("(sensitive) sha256:") && json.contains("emea"),
                "{json}"
            );

            // The same value in the config: restored, so the plan sees no change.
            let mut restored = masked.clone();
            assert_eq!(restored.restore_masked(&state("K-1")), 0);
            assert_eq!(restored, live);
            assert!(crate::plan::diff(&restored, &state("K-1")).is_empty());

            // Changed behind git's back: the digest stays and the plan updates the value.
            let mut restored = masked;
            assert_eq!(restored.restore_masked(&state("K-2")), 1);
            let plan = crate::plan::diff(&restored, &state("K-2"));
            assert_eq!(plan.resources.len(), 1);
            let shown = format!("{:?}", plan.resources[0].fields());
            assert!(!shown.contains("K-2") && !shown.contains("K-1"), "{shown}");

            // Equal values of two partners do not look equal.
            assert_ne!(
                digest("a@x.com", "contract_ref", &AttributeValue::String("K-1".into())),
                digest("b@x.com", "contract_ref", &AttributeValue::String("K-1".into()))
            );
        }
    }
}
