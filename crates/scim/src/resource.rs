//! The SCIM resources this crate models: [`User`] (RFC 7643 §4.1, with the self-service
//! extension) and [`Group`] (§4.2), and how a request body becomes one.
//!
//! A body is first normalised against its [`ResourceSchema`] ([`normalize`]): attribute
//! names are matched ignoring case and rewritten to their canonical spelling, and
//! attributes the schema does not model are dropped (identity providers send many a
//! service does not keep: `title`, `phoneNumbers`, the enterprise extension). Booleans sent
//! as strings (`"False"`, as Entra ID does) are accepted.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::schema::{self, Attribute, ResourceSchema};
use crate::{Error, GROUP_SCHEMA, SELF_SERVICE_SCHEMA, USER_SCHEMA};

/// A SCIM User. `userName` is the partner's email address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub user_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub active: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupRef>,
    #[serde(
        rename = "urn:ietf:params:scim:schemas:extension:portalctl:2.0:User",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub self_service: Option<SelfService>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

fn yes() -> bool {
    true
}

/// The components of a user's name (RFC 7643 §4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
}

/// One email address of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub value: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Always written, `false` included: an address a client sent as `primary: false`
    /// reads back as it was sent (RFC 7643 §2.5 tells an unassigned value from `false`).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub primary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// A group a user belongs to (read-only on the user).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    pub value: String,
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The org's self-service attributes of a user, keyed by attribute: simple values only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SelfService(pub BTreeMap<String, Value>);

/// Resource metadata (RFC 7643 §3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A SCIM Group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(default)]
    pub schemas: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Member>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub value: String,
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A resource the PATCH engine and the evaluator work on: its JSON form and its schema.
pub trait Resource: Serialize + Sized {
    /// The attributes of this resource type.
    const SCHEMA: ResourceSchema;

    /// A resource from a normalised JSON object.
    ///
    /// # Errors
    /// `invalidValue` when a value does not fit its attribute (a string for `active`, a
    /// missing `userName`), naming the attribute.
    fn from_json(value: Value) -> Result<Self, Error>;

    /// The JSON form, with `schemas` listing what the resource carries.
    fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).expect("a resource serialises to JSON");
        let schemas = Self::schemas_of(&value);
        value["schemas"] = Value::from(schemas);
        value
    }

    /// The `schemas` a resource's JSON form carries.
    fn schemas_of(value: &Value) -> Vec<&'static str> {
        let mut schemas = vec![Self::SCHEMA.core];
        if let Some(extension) = Self::SCHEMA.extension
            && value.get(extension).is_some()
        {
            schemas.push(extension);
        }
        schemas
    }

    /// Parses a request body (POST or PUT): names normalised, unknown attributes dropped.
    ///
    /// # Errors
    /// `invalidSyntax` when the body is not a JSON object; `invalidValue` when a value does
    /// not fit its attribute.
    fn from_body(body: Value) -> Result<Self, Error> {
        Self::from_json(normalize(body, &Self::SCHEMA)?)
    }
}

impl Resource for User {
    const SCHEMA: ResourceSchema = schema::USER;

    fn from_json(value: Value) -> Result<Self, Error> {
        let mut user: Self = from_value(value, "User")?;
        if user.user_name.trim().is_empty() {
            return Err(Error::invalid_value("`userName` must not be empty"));
        }
        if let Some(extension) = &user.self_service {
            for (key, value) in &extension.0 {
                if value.is_array() || value.is_object() {
                    return Err(Error::invalid_value(format!(
                        "`{SELF_SERVICE_SCHEMA}:{key}` must be a string, number or boolean"
                    )));
                }
            }
            if extension.0.is_empty() {
                user.self_service = None;
            }
        }
        user.schemas = Self::schemas_of(&serde_json::to_value(&user).expect("serialises"))
            .into_iter()
            .map(str::to_owned)
            .collect();
        Ok(user)
    }
}

impl Resource for Group {
    const SCHEMA: ResourceSchema = schema::GROUP;

    fn from_json(value: Value) -> Result<Self, Error> {
        let mut group: Self = from_value(value, "Group")?;
        group.schemas = vec![GROUP_SCHEMA.to_owned()];
        Ok(group)
    }
}

impl User {
    /// A new active user with `userName` set and nothing else.
    #[must_use]
    pub fn new(user_name: impl Into<String>) -> Self {
        Self {
            schemas: vec![USER_SCHEMA.to_owned()],
            id: None,
            external_id: None,
            user_name: user_name.into(),
            name: None,
            display_name: None,
            active: true,
            emails: Vec::new(),
            groups: Vec::new(),
            self_service: None,
            meta: None,
        }
    }
}

fn from_value<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, Error> {
    serde_json::from_value(value)
        .map_err(|error| Error::invalid_value(format!("not a valid {what}: {error}")))
}

/// Accepts `true`/`false` and, as Entra ID sends them, `"True"`/`"False"`.
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Bool(value) => Ok(value),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "expected a boolean, found {other}"
        ))),
    }
}

/// Rewrites a resource's attribute names to their canonical spelling (matching ignores
/// case) and drops the attributes `schema` does not model. The extension's object is kept
/// under its canonical URN, its keys as sent.
///
/// # Errors
/// `invalidSyntax` when `body` is not a JSON object.
pub fn normalize(body: Value, schema: &ResourceSchema) -> Result<Value, Error> {
    let Value::Object(object) = body else {
        return Err(Error::invalid_syntax(format!(
            "a {} must be a JSON object",
            schema.name
        )));
    };
    let mut out = Map::new();
    for (key, value) in object {
        if key.eq_ignore_ascii_case("schemas") {
            out.insert("schemas".to_owned(), value);
        } else if let Some(attribute) = schema.attribute(&key) {
            out.insert(attribute.name.to_owned(), normalize_value(value, attribute));
        } else if let Some(extension) = schema.extension.filter(|e| e.eq_ignore_ascii_case(&key)) {
            out.insert(extension.to_owned(), value);
        }
    }
    Ok(Value::Object(out))
}

/// Canonical sub-attribute names inside a complex value (or each element of a multi-valued
/// one); other values as they are.
pub(crate) fn normalize_value(value: Value, attribute: &Attribute) -> Value {
    if attribute.sub_attributes.is_empty() {
        return value;
    }
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| normalize_value(item, attribute))
                .collect(),
        ),
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter_map(|(key, value)| {
                    attribute
                        .sub_attribute(&key)
                        .map(|sub| (sub.name.to_owned(), value))
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_body_is_read_ignoring_the_case_of_names_and_dropping_unknown_attributes() {
        let user = User::from_body(json!({
            "schemas": [USER_SCHEMA],
            "USERNAME": "alice@globex.com",
            "Active": "False",
            "title": "CFO",
            "Emails": [{"Value": "alice@globex.com", "TYPE": "work", "primary": "true"}],
            "name": {"givenName": "Alice", "FamilyName": "Ng"},
            "urn:ietf:params:scim:schemas:extension:PORTALCTL:2.0:User": {"region": "emea"},
        }))
        .expect("parses");
        assert_eq!(user.user_name, "alice@globex.com");
        assert!(!user.active);
        assert_eq!(user.emails[0].kind.as_deref(), Some("work"));
        assert!(user.emails[0].primary);
        assert_eq!(
            user.name.as_ref().and_then(|n| n.family_name.as_deref()),
            Some("Ng")
        );
        assert_eq!(
            user.self_service.as_ref().map(|s| s.0["region"].clone()),
            Some(json!("emea"))
        );
        assert_eq!(user.schemas, vec![USER_SCHEMA, SELF_SERVICE_SCHEMA]);
    }

    #[test]
    fn bad_bodies_are_refused_with_the_rfc_keyword() {
        let check = |body: Value, expected: crate::ScimType| {
            let error = User::from_body(body).expect_err("refused");
            assert_eq!(error.scim_type, Some(expected), "{error}");
        };
        check(json!([]), crate::ScimType::InvalidSyntax);
        check(json!({"active": true}), crate::ScimType::InvalidValue);
        check(json!({"userName": " "}), crate::ScimType::InvalidValue);
        check(
            json!({"userName": "a@b.c", "active": "maybe"}),
            crate::ScimType::InvalidValue,
        );
        check(
            json!({"userName": "a@b.c", SELF_SERVICE_SCHEMA: {"region": ["a"]}}),
            crate::ScimType::InvalidValue,
        );
    }

    #[test]
    fn to_json_lists_the_extension_only_when_present() {
        let mut user = User::new("bob@globex.com");
        assert_eq!(user.to_json()["schemas"], json!([USER_SCHEMA]));
        user.self_service = Some(SelfService(BTreeMap::from([("tier".to_owned(), json!(2))])));
        assert_eq!(
            user.to_json()["schemas"],
            json!([USER_SCHEMA, SELF_SERVICE_SCHEMA])
        );
    }
}
