//! The shape of one config file, as users write it. These types generate the JSON Schema
//! (`portalctl schema`), are what a file deserialises into once the schema holds (then
//! merged into the canonical `State` by `merge.rs`), and are what `export` serialises.
//!
//! The schema states every rule that can be checked within one file (patterns, enums,
//! `propertyNames`, "exactly one of"), so an editor flags what `validate` flags. Where the
//! domain rules (`model::rules`, `merge.rs`) report the same mistake with a better message,
//! `schema_check` leaves it to them (see `schema_check::reported_by_rules`). Every pattern
//! here accepts at least what the rules accept: the schema may be looser, never stricter.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{
    Access, Attribute, AttributeValues, BUILTIN_PERMISSIONS, OrgKind, PortalTexts, Role, SelfRegistration,
};

pub use crate::model::patterns::{
    COLOR_PATTERN, DATE_PATTERN, DNS_LABEL_PATTERN, FOLDER_PATH_PATTERN, HTTPS_URL_PATTERN,
    SESSION_TTL_PATTERN,
};
/// `local@domain.tld`, surrounding spaces allowed (a config's emails are trimmed); looser
/// than `model::is_valid_email`, which the rules run with a better message. (The service
/// takes emails in their canonical form: `model::patterns::EMAIL_PATTERN`.)
pub const EMAIL_PATTERN: &str = r"^\s*[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\s*$";

/// A portalctl config file. A config is a directory of these, merged; each section may
/// appear in any file, and `workspace` in exactly one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "portalctl config file")]
pub struct ConfigFile {
    /// The company that owns the portals. Exactly one file declares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<WorkspaceDoc>,
    /// User attributes partners may carry, keyed by attribute name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, AttributeSchema>")]
    pub attributes: BTreeMap<String, Attribute>,
    /// Custom roles, keyed by name. `viewer` and `editor` are built in. A role decides
    /// the most a share gives (`edit` needs `reports.edit`) and which permissions a
    /// partner can use on a folder (all but `*.view` need `edit` access there).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, RoleSchema>")]
    pub roles: BTreeMap<String, Role>,
    /// Partner organisations, keyed by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub partner_orgs: BTreeMap<String, PartnerOrgDoc>,
    /// Portal templates, keyed by name: the values portals naming them with `template:`
    /// take for the fields they do not set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub portal_templates: BTreeMap<String, PortalTemplateDoc>,
    /// Portals, keyed by technical name (a DNS label: lowercase letters, digits and `-`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": DNS_LABEL_PATTERN }))]
    pub portals: BTreeMap<String, PortalDoc>,
    /// Groups of partners, keyed by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, GroupDoc>,
    /// Report folders, keyed by path (`/Partners/Finance`), with their shares.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": FOLDER_PATH_PATTERN }))]
    pub folders: BTreeMap<String, FolderDoc>,
    /// Dashboards, keyed by path: a declared folder's path and the dashboard's name
    /// (`/Partners/Finance/Q3 Revenue`). A dashboard is seen by whoever sees its folder
    /// (shares on the folder and its parents apply) and by its own shares.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = { "pattern": FOLDER_PATH_PATTERN }))]
    pub dashboards: BTreeMap<String, DashboardDoc>,
    /// Statements about access that must always hold, checked by `validate`, `plan`,
    /// `diff` and `drift`: who alone may see a folder (`only`), what some partners may
    /// never do (`never`), what a partner must be able to do (`can`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<AssertionDoc>,
}

/// An owner: an email (`lea@acme.com`) or a code host handle (`@lea`, `@acme/partner-ops`).
pub const OWNER_PATTERN: &str =
    r"^\s*(@[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?|[^@\s]+@[^@\s.]+(\.[^@\s.]+)+)\s*$";
/// A principal of an assertion: `org:NAME`, `group:NAME`, `portal:NAME` or `user:EMAIL`.
pub const ASSERTION_PRINCIPAL_PATTERN: &str = r"^(org|group|portal|user):\S.*$";

/// A statement about access that must always hold. It names where (`folder` or
/// `dashboard`), who (`user` or `principals`), and exactly one of `only`, `never`, `can`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{ "required": ["only"] }, { "required": ["never"] }, { "required": ["can"] }]))]
pub struct AssertionDoc {
    /// What the assertion states, in words; failures name it.
    pub name: String,
    /// The folder it is about (with its sub-folders and dashboards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = FOLDER_PATH_PATTERN))]
    pub folder: Option<String>,
    /// The dashboard it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = FOLDER_PATH_PATTERN))]
    pub dashboard: Option<String>,
    /// One partner the assertion is about (for `never` and `can`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = EMAIL_PATTERN))]
    pub user: Option<String>,
    /// The partners the assertion is about (for `never` and `can`): `org:NAME`,
    /// `group:NAME`, `portal:NAME` or `user:EMAIL`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("items" = { "type": "string", "pattern": ASSERTION_PRINCIPAL_PATTERN }))]
    pub principals: Vec<String>,
    /// Nobody but these principals sees the folder or dashboard, through any path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("items" = { "type": "string", "pattern": ASSERTION_PRINCIPAL_PATTERN }, "minItems" = 1))]
    pub only: Option<Vec<String>>,
    /// A level (`view`: any access, `edit`) or a permission (`data.export`) the partners
    /// never have: on the folder or dashboard when one is named, else anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub never: Option<String>,
    /// A level (`view`, `edit`) or a permission every partner named has on the folder or
    /// dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can: Option<String>,
}

/// The company that owns the portals.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceDoc {
    /// The company's name.
    pub name: String,
    /// The company's own email domains; partners may not have an email in them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_domains: Vec<String>,
    /// The level a share must grant for a permission to apply on a folder or dashboard:
    /// `files.transfer: {requires: view}`. Undeclared: `*.view` ones need `view`, the rest
    /// `edit`; `reports.view` and `reports.edit` keep theirs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("propertyNames" = { "enum": crate::model::BUILTIN_PERMISSIONS }))]
    pub permissions: BTreeMap<String, crate::model::PermissionSpec>,
    /// Who may use the staff console (`/console` of `portalctl serve`): `viewers`,
    /// `approvers`, `admins`, each emails in the owner domains or `group:NAME` of `groups`.
    #[serde(default, skip_serializing_if = "crate::model::Console::is_empty")]
    pub console: crate::model::Console,
}

/// A partner organisation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerOrgDoc {
    /// Email domains of the organisation; its partners must have an email in one of them.
    pub domains: Vec<String>,
    /// What the organisation is to the company; default `other`.
    #[serde(default, skip_serializing_if = "is_default_kind")]
    pub kind: OrgKind,
    /// At most this many of the organisation's partners across all its portals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Attribute values every member of the org inherits (e.g. `tenant_id: c-001`): a
    /// member may omit them; a member value that contradicts one is an error.
    #[serde(default, skip_serializing_if = "AttributeValues::is_empty")]
    pub attributes: AttributeValues,
    /// Who must approve access changes here: emails or code host handles
    /// (`@acme/partner-ops`). `plan --format markdown` names them; `portalctl codeowners`
    /// writes CODEOWNERS lines for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("items" = { "type": "string", "pattern": OWNER_PATTERN }))]
    pub owners: Vec<String>,
    /// Delegate the org's roster to its own admins and identity provider: `admins` (members
    /// of the org), `portals` where they may add people, `max_role` they may give,
    /// `default_role` for people their identity provider creates, `scim: true` to let it
    /// provision. People they add are owned live: `apply` never prunes them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_management: Option<crate::model::SelfManagement>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's `skip_serializing_if` passes a reference"
)]
fn is_default_kind(kind: &OrgKind) -> bool {
    *kind == OrgKind::default()
}

/// Declares a struct holding the settings a portal template may give, between the
/// struct's own fields: each setting's type, its serde and schema attributes (and its
/// description where a portal and a template say the same) are written here once, while
/// `PortalDoc` and `PortalTemplateDoc` describe the settings they mean differently (the
/// JSON Schema shows both). A setting described by each must be described in both, or
/// neither compiles.
macro_rules! with_portal_settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$lead_meta:meta])* pub $lead:ident: $lead_ty:ty,)*
            ..settings {
                $(#[$color:meta])* color,
                $(#[$logout_url:meta])* logout_url,
                $(#[$session_ttl:meta])* session_ttl,
                $(#[$require_2fa:meta])* require_2fa,
                $(#[$self_registration:meta])* self_registration,
                $(#[$protect:meta])* protect,
                $(#[$texts:meta])* texts,
                $(#[$max_members:meta])* max_members,
            }
            $($(#[$trail_meta:meta])* pub $trail:ident: $trail_ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$lead_meta])* pub $lead: $lead_ty,)*
            $(#[$color])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("pattern" = COLOR_PATTERN))]
            pub color: Option<String>,
            $(#[$logout_url])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("pattern" = HTTPS_URL_PATTERN))]
            pub logout_url: Option<String>,
            /// Absolute https URL of the home page cover image.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("pattern" = HTTPS_URL_PATTERN))]
            pub home_cover: Option<String>,
            $(#[$session_ttl])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(extend("pattern" = SESSION_TTL_PATTERN))]
            pub session_ttl: Option<String>,
            $(#[$require_2fa])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub require_2fa: Option<bool>,
            $(#[$self_registration])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schemars(with = "Option<SelfRegistrationSchema>")]
            pub self_registration: Option<SelfRegistration>,
            $(#[$protect])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub protect: Option<bool>,
            $(#[$texts])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub texts: Option<PortalTexts>,
            $(#[$max_members])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub max_members: Option<u32>,
            /// Mail an invitation to each member added by `apply` or the admin API (and to a
            /// pending registration when approved); default true.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub invitations: Option<bool>,
            /// Mail a notice to each member removed from the portal; default false.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub removal_notice: Option<bool>,
            $($(#[$trail_meta])* pub $trail: $trail_ty,)*
        }
    };
}

with_portal_settings! {
    /// A branded partner portal.
    #[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PortalDoc {
        /// Display name.
        pub name: String,
        /// A portal template (under `portal_templates`) giving the fields this portal leaves
        /// out; the portal's own values win.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub template: Option<String>,
        ..settings {
            /// Brand colour, `#RRGGBB`; required unless the template sets it.
            color,
            /// Absolute https URL partners land on after logging out; required unless the
            /// template sets it.
            logout_url,
            /// Session length such as `18h`, `90m` or `1h30m`, between 5m and 24h; default 18h.
            session_ttl,
            /// Partners must log in with a second factor; default false.
            require_2fa,
            /// Whether and how partners may sign themselves up; absent means they may not.
            self_registration,
            /// Refuse to delete this portal while the live portal says `protect: true`.
            protect,
            /// Texts partners see in the portal: an initiation text, a first-login dialog and a
            /// help link.
            texts,
            /// At most this many members in this portal.
            max_members,
        }
        /// The roster: inline entries and CSV files.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub members: Vec<MemberDoc>,
        /// Who must approve access changes here: emails or code host handles
        /// (`@acme/partner-ops`). `plan --format markdown` names them; `portalctl codeowners`
        /// writes CODEOWNERS lines for them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[schemars(extend("items" = { "type": "string", "pattern": OWNER_PATTERN }))]
        pub owners: Vec<String>,
    }
}

with_portal_settings! {
    /// A portal template: any portal field except `name` and `members`.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PortalTemplateDoc {
        ..settings {
            /// Brand colour, `#RRGGBB`.
            color,
            /// Absolute https URL partners land on after logging out.
            logout_url,
            /// Session length such as `18h`, `90m` or `1h30m`, between 5m and 24h.
            session_ttl,
            /// Partners must log in with a second factor.
            require_2fa,
            /// Whether and how partners may sign themselves up.
            self_registration,
            /// Refuse to delete portals made from this template while live says `protect: true`.
            protect,
            /// Texts partners see; a portal's own texts win one by one.
            texts,
            /// At most this many members per portal.
            max_members,
        }
    }
}

/// One roster entry: either a partner (`email`) or a CSV roster (`from_csv`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{ "required": ["email"] }, { "required": ["from_csv"] }]))]
pub struct MemberDoc {
    /// The partner's email (compared case-insensitively).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = EMAIL_PATTERN))]
    pub email: Option<String>,
    /// A CSV roster, relative to this file: header `email`, optional `role`, `org`,
    /// `expires` and one `attributes.<key>` column per attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_csv: Option<String>,
    /// The role; with `from_csv`, the default for rows that leave `role` empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The partner org; with `from_csv`, the default for rows that leave `org` empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The partner's attribute values, keyed by declared attribute name.
    #[serde(default, skip_serializing_if = "AttributeValues::is_empty")]
    pub attributes: AttributeValues,
    /// Access ends after this day (UTC), `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = DATE_PATTERN, "format" = "date"))]
    pub expires: Option<String>,
}

/// A named group of partners, for sharing folders with.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDoc {
    /// What the group is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Member emails; each must be a member of some portal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("items" = { "type": "string", "pattern": EMAIL_PATTERN }))]
    pub members: Vec<String>,
}

/// A report folder and who it is shared with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderDoc {
    /// What the folder holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who sees the folder (and its subfolders), and at which level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<ShareDoc>,
    /// Who must approve access changes on the folder and below it (the nearest folder
    /// with owners wins): emails or code host handles (`@acme/partner-ops`).
    /// `plan --format markdown` names them; `portalctl codeowners` writes CODEOWNERS lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("items" = { "type": "string", "pattern": OWNER_PATTERN }))]
    pub owners: Vec<String>,
}

/// A dashboard and who it is shared with, beyond those who see its folder.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardDoc {
    /// What the dashboard shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who sees the dashboard, and at which level, in addition to the shares of its
    /// folder and the folder's parents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<ShareDoc>,
}

/// A share names exactly one of `group`, `portal`, `org` or `user`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{ "required": ["group"] }, { "required": ["portal"] }, { "required": ["user"] }, { "required": ["org"] }]))]
pub struct ShareDoc {
    /// A group name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// A portal technical name: all its members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal: Option<String>,
    /// A partner's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = EMAIL_PATTERN))]
    pub user: Option<String>,
    /// A partner org: every member it lists, in any portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// The most the share grants, `view` or `edit`. The partner's role caps it: `edit`
    /// needs a role with `reports.edit` (`viewer` gets `view`). A portal share is capped
    /// by the role in that portal, any other share by the partner's highest role in any
    /// portal.
    pub access: Access,
    /// The share grants nothing after this day (UTC), `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = DATE_PATTERN, "format" = "date"))]
    pub expires: Option<String>,
}

// Schema-only mirrors of the model types a file holds as they are (`Attribute`, `Role`,
// `SelfRegistration`): the same keys (a test compares them), with the descriptions and
// constraints an editor shows. The model types stay plain, because they also shape the
// service API and its OpenAPI document.

/// A user attribute partners may carry.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Attribute")]
#[expect(dead_code, reason = "schema only, never constructed")]
struct AttributeSchema {
    /// The type of the values: `string`, `integer`, `boolean` or `enum` (with `values`).
    #[serde(rename = "type")]
    kind: crate::model::AttributeType,
    /// Allowed values, for `type: enum` only.
    #[serde(default)]
    values: Vec<String>,
    /// Every member must have a value; default false.
    #[serde(default)]
    required: bool,
    /// Values are masked in every output; default false.
    #[serde(default)]
    sensitive: bool,
    /// A self-registering partner may set it; default false. Any other attribute in a
    /// self-registration is refused: attributes drive row-level data.
    #[serde(default)]
    self_service: bool,
}

/// A custom role: a set of permissions, possibly extending another role.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Role")]
#[expect(dead_code, reason = "schema only, never constructed")]
struct RoleSchema {
    /// What the role is for.
    description: Option<String>,
    /// A role whose permissions this one inherits (`viewer`, `editor` or a custom role).
    extends: Option<String>,
    /// Permissions the role grants, from the portal's built-in vocabulary.
    #[serde(default)]
    #[schemars(extend("items" = { "type": "string", "enum": BUILTIN_PERMISSIONS }), extend("uniqueItems" = true))]
    permissions: Vec<String>,
}

/// Self-registration: partners from allowed domains may sign themselves up.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SelfRegistration")]
#[expect(dead_code, reason = "schema only, never constructed")]
struct SelfRegistrationSchema {
    /// Whether the sign-up page is open.
    enabled: bool,
    /// The role a self-registered partner gets.
    default_role: String,
    /// Email domains allowed to sign up: `example.com` admits exactly that domain,
    /// `*.example.com` its subdomains (not `example.com` itself).
    #[serde(default)]
    #[schemars(extend("items" = { "type": "string", "pattern": crate::model::patterns::ALLOWED_DOMAIN_PATTERN }))]
    allowed_domains: Vec<String>,
    /// Groups a self-registered partner joins, so they see the folders shared with them.
    /// Changing this list affects partners who register afterwards, not existing members.
    #[serde(default)]
    groups: Vec<String>,
    /// `none` (default): a registration grants access at once. `required`: it is pending,
    /// granting nothing and joining no group, until an admin approves it through the API
    /// or the config lists the member; `plan` and `drift` list the pending ones. Pending
    /// registrations count toward seat limits.
    #[serde(default)]
    approval: crate::model::Approval,
}

/// The JSON Schema of a config file, as `portalctl schema` prints it.
pub fn schema() -> serde_json::Value {
    // Optional keys are simply not required; `null` is not a value users mean to write,
    // and `anyOf [T, null]` would hide the precise error inside T behind a vague one.
    let mut schema = serde_json::to_value(schemars::schema_for!(ConfigFile)).expect("schemas serialize");
    drop_null(&mut schema);
    if let Some(object) = schema.as_object_mut() {
        // Top-level `x-` keys are the user's own (holders for YAML anchors); see load.rs.
        object.insert(
            "patternProperties".into(),
            serde_json::json!({ "^x-": { "description": "Ignored by portalctl: a place for YAML anchors (`x-defaults: &defaults`)." } }),
        );
        object.insert(
            "$id".into(),
            serde_json::Value::String("https://portalctl.dev/schemas/portalctl.schema.json".into()),
        );
    }
    schema
}

/// Removes `null` as an allowed type everywhere: `type: [T, "null"]` becomes `type: T`
/// and `anyOf: [S, {type: null}]` becomes `S`.
fn drop_null(schema: &mut serde_json::Value) {
    match schema {
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::Array(types)) = object.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    object.insert("type".into(), only);
                }
            }
            let is_null = |s: &serde_json::Value| s.get("type").is_some_and(|t| t == "null");
            if let Some(serde_json::Value::Array(options)) = object.get("anyOf")
                && options.len() == 2
                && options.iter().any(is_null)
            {
                let kept = options.iter().find(|s| !is_null(s)).cloned().unwrap_or_default();
                object.remove("anyOf");
                if let serde_json::Value::Object(kept) = kept {
                    for (key, value) in kept {
                        object.entry(key).or_insert(value);
                    }
                }
            }
            object.values_mut().for_each(drop_null);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property_names<T: JsonSchema>() -> Vec<String> {
        let schema = serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialize");
        let mut names: Vec<String> = schema["properties"]
            .as_object()
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn schema_mirrors_have_the_model_types_keys() {
        assert_eq!(property_names::<AttributeSchema>(), property_names::<Attribute>());
        assert_eq!(property_names::<RoleSchema>(), property_names::<Role>());
        assert_eq!(
            property_names::<SelfRegistrationSchema>(),
            property_names::<SelfRegistration>()
        );
    }

    /// Editors show descriptions on hover: every property of the schema has one.
    #[test]
    fn every_property_has_a_description() {
        fn walk(at: &str, value: &serde_json::Value, missing: &mut Vec<String>) {
            if let Some(properties) = value.get("properties").and_then(serde_json::Value::as_object) {
                for (name, property) in properties {
                    if property.get("description").is_none() {
                        missing.push(format!("{at}/{name}"));
                    }
                }
            }
            if let Some(object) = value.as_object() {
                for (key, child) in object {
                    walk(&format!("{at}/{key}"), child, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk("", &schema(), &mut missing);
        assert!(
            missing.is_empty(),
            "properties without a description: {missing:?}"
        );
    }

    fn pattern_matches(pattern: &str, text: &str) -> bool {
        jsonschema::is_valid(
            &serde_json::json!({ "pattern": pattern }),
            &serde_json::json!(text),
        )
    }

    proptest::proptest! {
        /// The schema is never stricter than `validate`: whatever a rule accepts, its
        /// pattern accepts (strings drawn near each rule's boundary). These are the
        /// patterns `validate` leaves to the rules; `session_ttl` and dates it checks by
        /// the schema's own pattern, so there the pattern is the rule.
        #[test]
        fn a_pattern_never_refuses_what_its_rule_accepts(
            folder in "(/[a-zA-Z. \\\\]{0,4}){0,4}",
            email in "[ ]?[a-zA-Z0-9.+@-]{0,6}@[a-zA-Z0-9.@-]{0,10}[ ]?",
            label in "[a-zA-Z0-9_-]{0,9}",
            color in "#?[0-9a-gA-G]{5,7}",
            url in "(https?://)?[a-z./?# ]{0,10}",
        ) {
            use crate::model::{is_dns_label, is_hex_color, is_https_url, is_valid_email, is_valid_folder_path};
            if is_valid_folder_path(&folder) { proptest::prop_assert!(pattern_matches(FOLDER_PATH_PATTERN, &folder), "{folder:?}"); }
            if is_valid_email(crate::model::normalize_email(&email).as_str()) { proptest::prop_assert!(pattern_matches(EMAIL_PATTERN, &email), "{email:?}"); }
            if is_dns_label(&label) { proptest::prop_assert!(pattern_matches(DNS_LABEL_PATTERN, &label), "{label:?}"); }
            if is_hex_color(&color) { proptest::prop_assert!(pattern_matches(COLOR_PATTERN, &color), "{color:?}"); }
            if is_https_url(&url) { proptest::prop_assert!(pattern_matches(HTTPS_URL_PATTERN, &url), "{url:?}"); }
        }
    }

    #[test]
    fn patterns_accept_what_the_rules_accept() {
        let matches = |pattern: &str, text: &str| {
            jsonschema::is_valid(
                &serde_json::json!({ "pattern": pattern }),
                &serde_json::json!(text),
            )
        };
        for folder in ["/a", "/Partners/Finance", "/.hidden", "/...", "/a/..b"] {
            assert!(crate::model::is_valid_folder_path(folder), "{folder}");
            assert!(matches(FOLDER_PATH_PATTERN, folder), "{folder}");
        }
        for folder in ["Partners", "/", "/a/", "/a/./b", "/a/../b", "/..", r"/a\b"] {
            assert!(!crate::model::is_valid_folder_path(folder), "{folder}");
            assert!(!matches(FOLDER_PATH_PATTERN, folder), "{folder}");
        }
        for email in ["alice@globex.com", "ALICE@Globex.Co.uk", "a.b+c@x-y.io"] {
            assert!(crate::model::is_valid_email(email), "{email}");
            assert!(matches(EMAIL_PATTERN, email), "{email}");
        }
        for (pattern, good, bad) in [
            (COLOR_PATTERN, "#0f62FE", "blue"),
            (HTTPS_URL_PATTERN, "https://acme.io/bye?x=1", "http://acme.io/bye"),
            (SESSION_TTL_PATTERN, "1h30m", ""),
            (DNS_LABEL_PATTERN, "globex-2", "Globex_Portal"),
        ] {
            assert!(matches(pattern, good), "{pattern} should accept {good}");
            assert!(!matches(pattern, bad), "{pattern} should refuse {bad}");
        }
    }
}
