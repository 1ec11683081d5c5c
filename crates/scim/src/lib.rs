//! SCIM 2.0 as a library: the resource types of RFC 7643 (User, Group, the list, error and
//! discovery documents), the filter grammar of RFC 7644 §3.4.2.2 (a parser to an AST, a
//! printer and an evaluator), and the PATCH engine of RFC 7644 §3.5.2, applied to a User
//! or a Group, in the dialects identity providers actually send (Okta, Entra ID).
//!
//! **Architecture invariant:** no I/O and no dependency on the server, the store or any
//! network crate: `serde`, `serde_json` and `thiserror` only. The service provider in
//! `portalctl-server` and a later SCIM *target* for `plan`/`apply` both build on it.
//!
//! Attribute names are case-insensitive everywhere (RFC 7643 §2.1): the parser keeps them
//! as written, and every lookup ([`schema::ResourceSchema::attribute`], the evaluator, the
//! PATCH engine) compares them ignoring ASCII case.

pub mod discovery;
pub mod error;
pub mod filter;
pub mod patch;
pub mod resource;
pub mod schema;

pub use error::{Error, ScimType};
pub use filter::Filter;
pub use patch::{PatchOp, PatchOperation, PatchRequest};
pub use resource::{Email, Group, GroupRef, Member, Meta, Name, SelfService, User};

/// The core User schema (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The extension that carries an org's self-service attributes on a User, in the style of
/// RFC 7643 §4.3's enterprise extension: `{"<urn>": {"region": "emea", ...}}`.
pub const SELF_SERVICE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:portalctl:2.0:User";
/// The list response message (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The PATCH request message (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The error message (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The service provider configuration (RFC 7643 §5).
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// A resource type document (RFC 7643 §6).
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// A schema document (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
