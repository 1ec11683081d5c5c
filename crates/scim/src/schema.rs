//! What a resource's attributes are (RFC 7643 §2 and §7): names, types, plurality,
//! mutability and case-exactness. The filter evaluator and the PATCH engine read these
//! tables to resolve case-insensitive names, compare strings and refuse read-only changes;
//! [`crate::discovery`] renders them as `/Schemas` documents.

use crate::{GROUP_SCHEMA, SELF_SERVICE_SCHEMA, USER_SCHEMA};

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
}

impl Kind {
    /// The name `/Schemas` documents use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// An attribute's mutability (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    /// The name `/Schemas` documents use.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// One attribute of a schema.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    /// The canonical spelling.
    pub name: &'static str,
    pub kind: Kind,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    /// `server` for ids a service provider assigns, `none` otherwise (RFC 7643 §2.4).
    pub uniqueness: &'static str,
    pub description: &'static str,
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    const fn new(name: &'static str, kind: Kind, description: &'static str) -> Self {
        Self {
            name,
            kind,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            uniqueness: "none",
            description,
            sub_attributes: &[],
        }
    }
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self
    }
    const fn immutable(mut self) -> Self {
        self.mutability = Mutability::Immutable;
        self
    }
    const fn unique(mut self, uniqueness: &'static str) -> Self {
        self.uniqueness = uniqueness;
        self
    }
    const fn subs(mut self, sub_attributes: &'static [Attribute]) -> Self {
        self.sub_attributes = sub_attributes;
        self
    }

    /// The sub-attribute named `name`, ignoring case.
    #[must_use]
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// The attributes of a resource type: its core schema and, for Users, the self-service
/// extension (whose attribute names are the org's, so any simple attribute is accepted
/// there; the service checks them against the org's declared attributes).
#[derive(Debug, Clone, Copy)]
pub struct ResourceSchema {
    pub name: &'static str,
    pub core: &'static str,
    pub attributes: &'static [Attribute],
    pub extension: Option<&'static str>,
}

impl ResourceSchema {
    /// The core attribute named `name`, ignoring case.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Whether `urn` names this resource's extension (ignoring case).
    #[must_use]
    pub fn is_extension(&self, urn: &str) -> bool {
        self.extension.is_some_and(|e| e.eq_ignore_ascii_case(urn))
    }
}

const ID: Attribute = Attribute::new("id", Kind::String, "Identifier assigned by the service provider.")
    .case_exact()
    .read_only()
    .unique("server");
const EXTERNAL_ID: Attribute = Attribute::new(
    "externalId",
    Kind::String,
    "Identifier assigned by the provisioning client.",
)
.case_exact();
const META: Attribute = Attribute::new("meta", Kind::Complex, "Resource metadata.")
    .read_only()
    .subs(&[
        Attribute::new("resourceType", Kind::String, "The resource type.")
            .case_exact()
            .read_only(),
        Attribute::new("created", Kind::DateTime, "When the resource was added.").read_only(),
        Attribute::new("lastModified", Kind::DateTime, "When the resource last changed.").read_only(),
        Attribute::new("location", Kind::Reference, "The resource's URI.")
            .case_exact()
            .read_only(),
        Attribute::new("version", Kind::String, "The resource's version (its ETag).")
            .case_exact()
            .read_only(),
    ]);

/// The User resource (RFC 7643 §4.1), as far as this service models it.
pub const USER: ResourceSchema = ResourceSchema {
    name: "User",
    core: USER_SCHEMA,
    attributes: &[
        ID,
        EXTERNAL_ID,
        Attribute::new("userName", Kind::String, "The partner's email address.")
            .required()
            .immutable()
            .unique("server"),
        Attribute::new("name", Kind::Complex, "The components of the user's name.").subs(&[
            Attribute::new("formatted", Kind::String, "The full name, for display."),
            Attribute::new("familyName", Kind::String, "The family name."),
            Attribute::new("givenName", Kind::String, "The given name."),
            Attribute::new("middleName", Kind::String, "The middle name."),
            Attribute::new("honorificPrefix", Kind::String, "A title before the name."),
            Attribute::new("honorificSuffix", Kind::String, "A suffix after the name."),
        ]),
        Attribute::new("displayName", Kind::String, "The name shown for the user."),
        Attribute::new("active", Kind::Boolean, "Whether the user may sign in."),
        Attribute::new("emails", Kind::Complex, "Email addresses of the user.")
            .multi()
            .subs(&[
                Attribute::new("value", Kind::String, "The address."),
                Attribute::new("display", Kind::String, "A display form of the address."),
                Attribute::new("type", Kind::String, "work, home or other."),
                Attribute::new("primary", Kind::Boolean, "Whether this is the primary address."),
            ]),
        Attribute::new("groups", Kind::Complex, "Groups the user belongs to.")
            .multi()
            .read_only()
            .subs(&[
                Attribute::new("value", Kind::String, "The group's id.").read_only(),
                Attribute::new("$ref", Kind::Reference, "The group's URI.").read_only(),
                Attribute::new("display", Kind::String, "The group's name.").read_only(),
                Attribute::new("type", Kind::String, "direct or indirect.").read_only(),
            ]),
        META,
    ],
    extension: Some(SELF_SERVICE_SCHEMA),
};

/// The Group resource (RFC 7643 §4.2).
pub const GROUP: ResourceSchema = ResourceSchema {
    name: "Group",
    core: GROUP_SCHEMA,
    attributes: &[
        ID,
        EXTERNAL_ID,
        Attribute::new("displayName", Kind::String, "The group's name.").required(),
        Attribute::new("members", Kind::Complex, "The group's members.")
            .multi()
            .subs(&[
                Attribute::new("value", Kind::String, "The member's id.").case_exact(),
                Attribute::new("$ref", Kind::Reference, "The member's URI."),
                Attribute::new("display", Kind::String, "The member's name."),
                Attribute::new("type", Kind::String, "User or Group."),
            ]),
        META,
    ],
    extension: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_ignore_case() {
        assert_eq!(USER.attribute("USERNAME").map(|a| a.name), Some("userName"));
        assert_eq!(
            USER.attribute("emails")
                .and_then(|a| a.sub_attribute("VALUE"))
                .map(|a| a.name),
            Some("value")
        );
        assert!(USER.attribute("title").is_none());
        assert!(USER.is_extension(&SELF_SERVICE_SCHEMA.to_uppercase()));
        assert!(!GROUP.is_extension(SELF_SERVICE_SCHEMA));
    }
}
