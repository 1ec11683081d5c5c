//! The shape of one config file, as users write it. These types generate the JSON Schema
//! (`portalctl schema`) and are what a file deserialises into once the schema holds; they
//! are then merged into the canonical `State` by `merge.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::{
    Access, Attribute, AttributeValue, CalendarDate, OrgKind, Role, SelfRegistration, SessionTtl,
};

/// A portalctl config file. A config is a directory of these, merged; each section may
/// appear in any file, and `workspace` in exactly one.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "portalctl config file")]
pub struct ConfigFile {
    /// The company that owns the portals. Exactly one file declares it.
    pub workspace: Option<WorkspaceDoc>,
    /// User attributes partners may carry, keyed by attribute name.
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    /// Custom roles, keyed by name. `viewer` and `editor` are built in. A role decides
    /// the most a share gives (`edit` needs `reports.edit`) and which permissions a
    /// partner can use on a folder (all but `*.view` need `edit` access there).
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
    /// Partner organisations, keyed by name.
    #[serde(default)]
    pub partner_orgs: BTreeMap<String, PartnerOrgDoc>,
    /// Portals, keyed by technical name (a DNS label).
    #[serde(default)]
    pub portals: BTreeMap<String, PortalDoc>,
    /// Groups of partners, keyed by name.
    #[serde(default)]
    pub groups: BTreeMap<String, GroupDoc>,
    /// Report folders, keyed by path (`/Partners/Finance`), with their shares.
    #[serde(default)]
    pub folders: BTreeMap<String, FolderDoc>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceDoc {
    pub name: String,
    /// The company's own email domains; partners may not have an email in them.
    #[serde(default)]
    pub owner_domains: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerOrgDoc {
    /// Email domains of the organisation.
    pub domains: Vec<String>,
    #[serde(default)]
    pub kind: OrgKind,
    /// Attribute values every member of the org inherits (e.g. `tenant_id: c-001`): a
    /// member may omit them; a member value that contradicts one is an error.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalDoc {
    /// Display name.
    pub name: String,
    /// Brand colour, `#RRGGBB`.
    pub color: String,
    /// Absolute https URL partners land on after logging out.
    pub logout_url: String,
    /// Absolute https URL of the home page cover image.
    pub home_cover: Option<String>,
    /// Session length, 5m..24h; default 18h.
    #[schemars(with = "Option<SessionTtl>")]
    pub session_ttl: Option<String>,
    #[serde(default)]
    pub require_2fa: bool,
    pub self_registration: Option<SelfRegistration>,
    /// Refuse to delete this portal while the live portal says `protect: true`.
    #[serde(default)]
    pub protect: bool,
    /// The roster: inline entries and CSV files.
    #[serde(default)]
    pub members: Vec<MemberDoc>,
}

/// One roster entry: either a partner (`email`) or a CSV roster (`from_csv`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberDoc {
    /// The partner's email (compared case-insensitively).
    pub email: Option<String>,
    /// A CSV roster, relative to this file: header `email`, optional `role`, `org`,
    /// `expires` and one `attributes.<key>` column per attribute.
    pub from_csv: Option<String>,
    /// The role; with `from_csv`, the default for rows that leave `role` empty.
    pub role: Option<String>,
    /// The partner org; with `from_csv`, the default for rows that leave `org` empty.
    pub org: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
    /// Access ends after this day (UTC).
    #[schemars(with = "Option<CalendarDate>")]
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDoc {
    pub description: Option<String>,
    /// Member emails; each must be a member of some portal.
    #[serde(default)]
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FolderDoc {
    pub description: Option<String>,
    #[serde(default)]
    pub shares: Vec<ShareDoc>,
}

/// A share names exactly one of `group`, `portal`, `org` or `user`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareDoc {
    /// A group name.
    pub group: Option<String>,
    /// A portal technical name: all its members.
    pub portal: Option<String>,
    /// A partner's email.
    pub user: Option<String>,
    /// A partner org: every member it lists, in any portal.
    pub org: Option<String>,
    /// The most the share grants. The partner's role caps it: `edit` needs a role with
    /// `reports.edit` (`viewer` gets `view`). A portal share is capped by the role in that
    /// portal, any other share by the partner's highest role in any portal.
    pub access: Access,
    /// The share grants nothing after this day (UTC).
    #[schemars(with = "Option<CalendarDate>")]
    pub expires: Option<String>,
}

/// The JSON Schema of a config file, as `portalctl schema` prints it.
pub fn schema() -> serde_json::Value {
    // Optional keys are simply not required; `null` is not a value users mean to write,
    // and `anyOf [T, null]` would hide the precise error inside T behind a vague one.
    let mut schema = serde_json::to_value(schemars::schema_for!(ConfigFile)).expect("schemas serialize");
    drop_null(&mut schema);
    if let Some(object) = schema.as_object_mut() {
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
