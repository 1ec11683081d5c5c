//! Principals: who a folder is shared with — a group, every member of a portal, every
//! member of a partner org, or one user.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Written `group:<name>`, `portal:<technical_name>`, `org:<partner_org>` or `user:<email>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    Group(String),
    Portal(String),
    User(String),
    /// Every member of the partner org, in any portal.
    Org(String),
}

/// The kinds of principal, as written before the `:` and as the share fields of a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrincipalKind {
    Group,
    Portal,
    User,
    Org,
}

impl PrincipalKind {
    pub const ALL: [PrincipalKind; 4] = [Self::Group, Self::Portal, Self::User, Self::Org];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Group => "group",
            Self::Portal => "portal",
            Self::User => "user",
            Self::Org => "org",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Principal {
    /// The least principal in key order. Only a range bound (see `State::shares_on`):
    /// no share names it, since a principal's name is never empty.
    pub(super) const LEAST: Principal = Principal::Group(String::new());

    /// A principal of `kind`; a user's email is normalised.
    pub fn new(kind: PrincipalKind, name: &str) -> Self {
        match kind {
            PrincipalKind::Group => Self::Group(name.to_string()),
            PrincipalKind::Portal => Self::Portal(name.to_string()),
            PrincipalKind::User => Self::User(super::normalize_email(name)),
            PrincipalKind::Org => Self::Org(name.to_string()),
        }
    }

    pub fn kind(&self) -> PrincipalKind {
        match self {
            Self::Group(_) => PrincipalKind::Group,
            Self::Portal(_) => PrincipalKind::Portal,
            Self::User(_) => PrincipalKind::User,
            Self::Org(_) => PrincipalKind::Org,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Group(name) | Self::Portal(name) | Self::User(name) | Self::Org(name) => name,
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
            format!("`{text}` is not a principal: expected `group:NAME`, `portal:NAME`, `org:NAME` or `user:EMAIL`")
        })?;
        if name.is_empty() {
            return Err(format!("`{text}` names no {kind}"));
        }
        let Some(kind) = PrincipalKind::ALL
            .into_iter()
            .find(|known| known.as_str() == kind)
        else {
            return Err(format!(
                "`{kind}` is not a principal kind: expected `group`, `portal`, `org` or `user`"
            ));
        };
        Ok(Self::new(kind, name))
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
            "pattern": "^(group|portal|org|user):.+$",
            "description": "group:NAME, portal:TECHNICAL_NAME, org:PARTNER_ORG or user:EMAIL"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        for text in [
            "group:finance",
            "portal:globex",
            "org:contoso",
            "user:alice@globex.com",
        ] {
            assert_eq!(text.parse::<Principal>().unwrap().to_string(), text);
        }
        assert!("team:x".parse::<Principal>().is_err());
        assert!("group:".parse::<Principal>().is_err());
    }
}
