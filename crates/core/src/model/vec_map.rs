//! A partner's (or a partner org's) attribute values: a few entries per partner, millions
//! of partners.
//!
//! A `BTreeMap` allocates a whole leaf node (room for eleven entries, ~540 bytes here) for
//! its first entry, which made attribute maps the largest single consumer of a loaded
//! state. This map keeps its entries sorted by key in a vector sized to fit, and offers
//! the part of `BTreeMap`'s interface the model uses, with the same serialised form (a JSON
//! object in key order).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::AttributeValue;

/// Attribute values by attribute key, in key order.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AttributeValues {
    /// Sorted by key, keys unique.
    entries: Vec<(String, AttributeValue)>,
}

impl AttributeValues {
    pub const fn new() -> Self {
        Self { entries: Vec::new() }
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&AttributeValue> {
        self.position(key).ok().map(|at| &self.entries[at].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key`'s value, returning the value it replaces.
    pub fn insert(&mut self, key: String, value: AttributeValue) -> Option<AttributeValue> {
        match self.position(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<AttributeValue> {
        self.position(key).ok().map(|at| self.entries.remove(at).1)
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &AttributeValue)> + DoubleEndedIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> + DoubleEndedIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl ExactSizeIterator<Item = &AttributeValue> + DoubleEndedIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Drops spare capacity: maps are built once and then kept for the whole command.
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }
}

impl fmt::Debug for AttributeValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for AttributeValues {
    type Output = AttributeValue;

    fn index(&self, key: &str) -> &AttributeValue {
        self.get(key)
            .unwrap_or_else(|| panic!("no attribute value for key `{key}`"))
    }
}

impl FromIterator<(String, AttributeValue)> for AttributeValues {
    /// Later entries win over earlier ones with the same key, as with `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (String, AttributeValue)>>(iter: I) -> Self {
        let mut entries: Vec<(String, AttributeValue)> = iter.into_iter().collect();
        // Stable: equal keys keep their order, so the last of them is the one kept below.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut deduplicated: Vec<(String, AttributeValue)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match deduplicated.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => deduplicated.push(entry),
            }
        }
        deduplicated.shrink_to_fit();
        Self {
            entries: deduplicated,
        }
    }
}

impl Extend<(String, AttributeValue)> for AttributeValues {
    fn extend<I: IntoIterator<Item = (String, AttributeValue)>>(&mut self, iter: I) {
        for (key, value) in iter {
            self.insert(key, value);
        }
    }
}

impl From<BTreeMap<String, AttributeValue>> for AttributeValues {
    fn from(map: BTreeMap<String, AttributeValue>) -> Self {
        Self {
            entries: map.into_iter().collect(),
        }
    }
}

impl<const N: usize> From<[(String, AttributeValue); N]> for AttributeValues {
    fn from(entries: [(String, AttributeValue); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl IntoIterator for AttributeValues {
    type Item = (String, AttributeValue);
    type IntoIter = std::vec::IntoIter<(String, AttributeValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a AttributeValues {
    type Item = (&'a String, &'a AttributeValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, AttributeValue)>,
        fn(&'a (String, AttributeValue)) -> (&'a String, &'a AttributeValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<'a> IntoIterator for &'a mut AttributeValues {
    type Item = (&'a String, &'a mut AttributeValue);
    type IntoIter = std::iter::Map<
        std::slice::IterMut<'a, (String, AttributeValue)>,
        fn(&'a mut (String, AttributeValue)) -> (&'a String, &'a mut AttributeValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }
}

impl Serialize for AttributeValues {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AttributeValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor;

        impl<'de> Visitor<'de> for ValuesVisitor {
            type Value = AttributeValues;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of attribute values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<AttributeValues, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = access.next_entry::<String, AttributeValue>()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }

        deserializer.deserialize_map(ValuesVisitor)
    }
}

impl JsonSchema for AttributeValues {
    fn inline_schema() -> bool {
        <BTreeMap<String, AttributeValue>>::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        <BTreeMap<String, AttributeValue>>::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        <BTreeMap<String, AttributeValue>>::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<String, AttributeValue>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> AttributeValue {
        AttributeValue::String(value.to_owned())
    }

    #[test]
    fn behaves_like_a_sorted_map() {
        let mut values = AttributeValues::new();
        assert_eq!(values.insert("tier".into(), text("gold")), None);
        assert_eq!(values.insert("region".into(), text("emea")), None);
        assert_eq!(values.insert("seats".into(), AttributeValue::Integer(3)), None);
        assert_eq!(values.insert("tier".into(), text("silver")), Some(text("gold")));
        assert_eq!(values.keys().collect::<Vec<_>>(), ["region", "seats", "tier"]);
        assert_eq!(values.get("tier"), Some(&text("silver")));
        assert!(values.contains_key("seats") && !values.contains_key("nope"));
        assert_eq!(values.remove("seats"), Some(AttributeValue::Integer(3)));
        assert_eq!(values.len(), 2);
        assert_eq!(values["region"], text("emea"));
    }

    #[test]
    fn built_from_entries_keeps_the_last_of_equal_keys() {
        let values: AttributeValues = [
            ("b".to_owned(), text("1")),
            ("a".to_owned(), text("2")),
            ("b".to_owned(), text("3")),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            values.iter().collect::<Vec<_>>(),
            [(&"a".to_owned(), &text("2")), (&"b".to_owned(), &text("3"))]
        );
    }

    #[test]
    fn serialises_like_a_btree_map() {
        let map: BTreeMap<String, AttributeValue> = [
            ("zeta".to_owned(), AttributeValue::Boolean(true)),
            ("alpha".to_owned(), AttributeValue::Integer(7)),
        ]
        .into();
        let values = AttributeValues::from(map.clone());
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, serde_json::to_string(&map).unwrap());
        let back: AttributeValues = serde_json::from_str(r#"{"zeta": true, "alpha": 7}"#).unwrap();
        assert_eq!(back, values);
        assert_eq!(
            serde_json::to_value(schemars::schema_for!(AttributeValues)).unwrap(),
            serde_json::to_value(schemars::schema_for!(BTreeMap<String, AttributeValue>)).unwrap()
        );
    }
}
