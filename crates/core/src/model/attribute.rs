//! User attributes: declared keys with a type, used e.g. for row-level access.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    String,
    Integer,
    Boolean,
    Enum,
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
            Self::Enum => "enum",
        })
    }
}

/// An enum attribute lists its distinct values; other types list none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {
        "properties": {
            "type": { "type": "string", "enum": ["enum"] },
            "values": { "minItems": 1, "uniqueItems": true }
        },
        "required": ["type", "values"]
    },
    {
        "properties": {
            "type": { "type": "string", "enum": ["string", "integer", "boolean"] },
            "values": { "maxItems": 0 }
        }
    }
]))]
pub struct Attribute {
    #[serde(rename = "type")]
    pub kind: AttributeType,
    /// Allowed values, for `type: enum` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Sensitive values are masked in every output.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
    /// A self-registering partner may set it. Any other attribute in a self-registration
    /// is refused: attributes drive row-level data, so a partner must not pick their own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub self_service: bool,
}

/// A partner's value for one attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum AttributeValue {
    Boolean(bool),
    Integer(i64),
    String(String),
}

/// By the JSON type of the value, as `#[serde(untagged)]` would, but without buffering
/// the value and building an error for each variant that does not match: stores and
/// clients read millions of these.
impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;

        impl serde::de::Visitor<'_> for ValueVisitor {
            type Value = AttributeValue;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a boolean, an integer or a string")
            }

            fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<AttributeValue, E> {
                Ok(AttributeValue::Boolean(value))
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<AttributeValue, E> {
                Ok(AttributeValue::Integer(value))
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<AttributeValue, E> {
                i64::try_from(value)
                    .map(AttributeValue::Integer)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<AttributeValue, E> {
                Ok(AttributeValue::String(value.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, value: String) -> Result<AttributeValue, E> {
                Ok(AttributeValue::String(value))
            }
        }

        deserializer.deserialize_any(ValueVisitor)
    }
}

impl AttributeValue {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Boolean(_) => "boolean",
            Self::Integer(_) => "integer",
            Self::String(_) => "string",
        }
    }

    /// Whether the value fits the declaration; `Err` says why not.
    pub fn check(&self, attribute: &Attribute) -> Result<(), String> {
        match (attribute.kind, self) {
            (AttributeType::String, Self::String(_))
            | (AttributeType::Integer, Self::Integer(_))
            | (AttributeType::Boolean, Self::Boolean(_)) => Ok(()),
            (AttributeType::Enum, Self::String(value)) => {
                if attribute.values.iter().any(|allowed| allowed == value) {
                    Ok(())
                } else {
                    Err(format!(
                        "`{value}` is not one of the allowed values: {}",
                        attribute.values.join(", ")
                    ))
                }
            }
            (expected, found) => Err(format!("expected {expected}, found {}", found.type_name())),
        }
    }

    /// Parses text (a CSV cell) into a value of the declared type.
    pub fn parse_as(text: &str, kind: AttributeType) -> Result<Self, String> {
        match kind {
            AttributeType::String | AttributeType::Enum => Ok(Self::String(text.to_string())),
            AttributeType::Integer => text
                .trim()
                .parse()
                .map(Self::Integer)
                .map_err(|_| format!("`{text}` is not an integer")),
            AttributeType::Boolean => match text.trim() {
                "true" => Ok(Self::Boolean(true)),
                "false" => Ok(Self::Boolean(false)),
                _ => Err(format!("`{text}` is not a boolean (true or false)")),
            },
        }
    }
}

impl fmt::Display for AttributeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Boolean(value) => write!(f, "{value}"),
            Self::Integer(value) => write!(f, "{value}"),
            Self::String(value) => f.write_str(value),
        }
    }
}

impl super::ResourceApi for Attribute {
    const ITEM_PATH: &'static str = "/v1/attributes/{key}";
    const NOUN: &'static str = "attribute";
    const DESCRIPTION: &'static str = "User attributes partners carry.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::Name];

    fn attribute_owner(_: &[String]) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::AttributeValue;

    #[test]
    fn values_are_read_by_their_json_type() {
        let read = |text: &str| serde_json::from_str::<AttributeValue>(text);
        assert_eq!(read("true").unwrap(), AttributeValue::Boolean(true));
        assert_eq!(read("42").unwrap(), AttributeValue::Integer(42));
        assert_eq!(read("-7").unwrap(), AttributeValue::Integer(-7));
        assert_eq!(read("\"emea\"").unwrap(), AttributeValue::String("emea".into()));
        assert_eq!(read("\"a\\nb\"").unwrap(), AttributeValue::String("a\nb".into()));
        for refused in ["1.5", "null", "[]", "{}", "18446744073709551615"] {
            let error = read(refused).unwrap_err().to_string();
            assert!(
                error.contains("a boolean, an integer or a string"),
                "{refused}: {error}"
            );
        }
        for value in [
            AttributeValue::Boolean(false),
            AttributeValue::Integer(3),
            AttributeValue::String("3".into()),
        ] {
            assert_eq!(read(&serde_json::to_string(&value).unwrap()).unwrap(), value);
        }
    }
}
