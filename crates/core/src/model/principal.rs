//! Principals: who a folder is shared with — a group, every member of a portal, or one user.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Written `group:<name>`, `portal:<technical_name>` or `user:<email>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    Group(String),
    Portal(String),
    User(String),
}

impl Principal {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Group(_) => "group",
            Self::Portal(_) => "portal",
            Self::User(_) => "user",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Group(name) | Self::Portal(name) | Self::User(name) => name,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.name())
    }
}

impl FromStr for Principal {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (kind, name) = text.split_once(':').ok_or_else(|| {
            format!("`{text}` is not a principal: expected `group:NAME`, `portal:NAME` or `user:EMAIL`")
        })?;
        if name.is_empty() {
            return Err(format!("`{text}` names no {kind}"));
        }
        match kind {
            "group" => Ok(Self::Group(name.to_string())),
            "portal" => Ok(Self::Portal(name.to_string())),
            "user" => Ok(Self::User(super::normalize_email(name))),
            _ => Err(format!(
                "`{kind}` is not a principal kind: expected `group`, `portal` or `user`"
            )),
        }
    }
}

impl Serialize for Principal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Principal {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Principal".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(group|portal|user):.+$",
            "description": "group:NAME, portal:TECHNICAL_NAME or user:EMAIL"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        for text in ["group:finance", "portal:globex", "user:alice@globex.com"] {
            assert_eq!(text.parse::<Principal>().unwrap().to_string(), text);
        }
        assert!("team:x".parse::<Principal>().is_err());
        assert!("group:".parse::<Principal>().is_err());
    }
}
