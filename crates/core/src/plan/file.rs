//! The saved plan (`plan --out FILE`, `apply FILE`): self-contained, like Terraform's. It
//! holds the changes to send and what `apply` needs to refuse a stale or foreign plan and
//! to name the commit; no token and no sensitive value. `apply FILE` works from any
//! directory and reads no config, unless the plan writes sensitive values (of members or
//! of partner orgs): each is held as its digest ([`crate::model::masking::digest`], owner
//! the member's email or `org:{name}`), the plan names the config it was made from by its
//! absolute path (`sensitive_values_from`), and `apply FILE` reads the values back from
//! there (or from `--config DIR`), each checked against its digest: a value the config
//! lacks or that changed since the plan is refused, naming its owner and attribute
//! ([`PlanFile::restore_sensitive`]), never the value.
//!
//! **Architecture invariant:** no I/O here: the caller reads and writes the bytes,
//! computes the config digest and finds the git commit.
//!
//! # Format (version 3)
//! ```json
//! {
//!   "format_version": 3,
//!   "created_by": "portalctl 0.1.0",
//!   "target": "https://portal.example:8443",
//!   "live_revision": 42,
//!   "config_digest": "sha256:9f86d0…",
//!   "git_commit": "3b18e512…",
//!   "git_author": "Ana <ana@acme.io>",
//!   "git_dirty": false,
//!   "sensitive_values_from": "/home/ci/acme/config",
//!   "changes": [{"op": "put", "kind": "member", "key": ["globex", "a@globex.com"], "value": {…}}]
//! }
//! ```
//! `changes` are in apply order, in the wire format of [`Change`]; `sensitive_values_from`
//! is there only when a change writes a sensitive value. Version 2 had no
//! `sensitive_values_from` (`apply` needed `--config DIR`) and is still read. Version 1
//! recorded the config's path, which `apply` loaded again relative to the directory it ran
//! in.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Plan;
use crate::model::{AttributeValues, Change, ResourceKey, ResourceValue, State, masking};

/// The `created_by` of plans this build makes.
pub const CREATED_BY: &str = concat!("portalctl ", env!("CARGO_PKG_VERSION"));

/// What the caller knows about the plan's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFileHeader {
    /// The tool and version that made the plan, e.g. `portalctl 0.1.0`.
    pub created_by: String,
    /// The target as shown to users; any `user:password@` in it is dropped.
    pub target: String,
    /// The live revision the plan was made against, when the target has one.
    pub live_revision: Option<u64>,
    /// The SHA-256 of the config files the plan was made from.
    pub config_digest: String,
    /// The git commit of the config, its author and whether the tree was dirty, when it
    /// is in a repository.
    pub git_commit: Option<String>,
    pub git_author: Option<String>,
    pub git_dirty: Option<bool>,
    /// The absolute path of the config the plan is made from: kept in the plan only when
    /// it writes sensitive values, which `apply` reads back from it.
    pub config_path: Option<String>,
}

/// A saved plan. See the module docs for the format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "portalctl saved plan (plan --out FILE)")]
pub struct PlanFile {
    #[schemars(extend("const" = Self::FORMAT_VERSION))]
    pub format_version: u32,
    pub created_by: String,
    pub target: String,
    pub live_revision: Option<u64>,
    /// The digest of the config the plan was made from (for the record; `apply` does not
    /// read the config).
    pub config_digest: String,
    pub git_commit: Option<String>,
    #[serde(default)]
    pub git_author: Option<String>,
    #[serde(default)]
    pub git_dirty: Option<bool>,
    /// When the plan writes sensitive values (held here as digests): the absolute path of
    /// the config it was made from, which `apply` reads them back from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive_values_from: Option<String>,
    pub changes: Vec<Change>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("the plan file is not valid JSON of a saved plan")]
    Parse(#[source] serde_json::Error),
    #[error("the plan file has format version {found}; this portalctl reads version {supported}")]
    UnsupportedVersion { found: u32, supported: u32 },
    #[error(
        "plan is stale: the live state is at revision {current}, the plan was made at revision {planned}"
    )]
    Stale { planned: u64, current: u64 },
    /// Sensitive values the plan writes that the config given back lacks or holds with
    /// another value than the one planned (each list sorted, neither holding a value).
    #[error("{}", unrestored(missing, changed))]
    SensitiveValuesNotRestored {
        missing: Vec<SensitiveValue>,
        changed: Vec<SensitiveValue>,
    },
}

/// Who holds a sensitive value a saved plan writes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SensitiveOwner {
    Member { portal: String, email: String },
    PartnerOrg { name: String },
}

impl SensitiveOwner {
    /// The owner the digest is salted with, as [`State::masked`] salts it.
    fn salt(&self) -> String {
        match self {
            Self::Member { email, .. } => email.clone(),
            Self::PartnerOrg { name } => format!("org:{name}"),
        }
    }

    /// The owner of the sensitive values `change` writes, and those values, if any.
    fn of(change: &Change) -> Option<(Self, &AttributeValues)> {
        match change {
            Change::Put {
                key: ResourceKey::Member { portal, email },
                value: ResourceValue::Member(member),
            } => Some((
                Self::Member {
                    portal: portal.clone(),
                    email: email.clone(),
                },
                &member.attributes,
            )),
            Change::Put {
                key: ResourceKey::PartnerOrg(name),
                value: ResourceValue::PartnerOrg(org),
            } => Some((Self::PartnerOrg { name: name.clone() }, &org.attributes)),
            _ => None,
        }
    }

    /// The same owner's values in `state`.
    fn values_in<'a>(&self, state: &'a State) -> Option<&'a AttributeValues> {
        match self {
            Self::Member { portal, email } => state
                .members
                .get(&(portal.clone(), email.clone()))
                .map(|member| &member.attributes),
            Self::PartnerOrg { name } => state.partner_orgs.get(name).map(|org| &org.attributes),
        }
    }
}

impl fmt::Display for SensitiveOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Member { portal, email } => write!(f, "member {email} in portal {portal}"),
            Self::PartnerOrg { name } => write!(f, "partner org {name}"),
        }
    }
}

/// One sensitive value a saved plan writes, named by its owner and attribute (never by
/// its value): "`contract_ref` of member alice@globex.com in portal globex".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SensitiveValue {
    pub owner: SensitiveOwner,
    pub attribute: String,
}

impl fmt::Display for SensitiveValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` of {}", self.attribute, self.owner)
    }
}

/// The message of [`PlanFileError::SensitiveValuesNotRestored`].
fn unrestored(missing: &[SensitiveValue], changed: &[SensitiveValue]) -> String {
    let list = |values: &[SensitiveValue]| {
        values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    match missing.len() {
        0 => {}
        1 => parts.push(format!(
            "the config has no value for sensitive attribute {}",
            list(missing)
        )),
        _ => parts.push(format!(
            "the config has no value for sensitive attributes {}",
            list(missing)
        )),
    }
    match changed.len() {
        0 => {}
        1 => parts.push(format!(
            "the config's value of sensitive attribute {} is not the one planned",
            list(changed)
        )),
        _ => parts.push(format!(
            "the config's values of sensitive attributes {} are not the ones planned",
            list(changed)
        )),
    }
    parts.join("; ")
}

impl PlanFile {
    pub const FORMAT_VERSION: u32 = 3;
    /// Older versions this build still reads.
    const READS_ALSO: [u32; 1] = [2];

    /// A saved plan of `plan`, with its sensitive values replaced by their digests.
    pub fn new(header: PlanFileHeader, plan: &Plan) -> Self {
        let changes = plan
            .changes()
            .into_iter()
            .map(|mut change| {
                let salt = SensitiveOwner::of(&change).map(|(owner, _)| owner.salt());
                let attributes = match &mut change {
                    Change::Put {
                        value: ResourceValue::Member(member),
                        ..
                    } => Some(&mut member.attributes),
                    Change::Put {
                        value: ResourceValue::PartnerOrg(org),
                        ..
                    } => Some(&mut org.attributes),
                    _ => None,
                };
                if let (Some(salt), Some(attributes)) = (salt, attributes) {
                    for (key, value) in attributes {
                        if plan.sensitive_attributes.contains(key) && !masking::is_digest(value) {
                            *value = masking::digest(&salt, key, value);
                        }
                    }
                }
                change
            })
            .collect();
        let mut file = Self {
            format_version: Self::FORMAT_VERSION,
            created_by: header.created_by,
            target: without_credentials(&header.target),
            live_revision: header.live_revision,
            config_digest: header.config_digest,
            git_commit: header.git_commit,
            git_author: header.git_author,
            git_dirty: header.git_dirty,
            sensitive_values_from: None,
            changes,
        };
        if file.sensitive_values() > 0 {
            file.sensitive_values_from = header.config_path;
        }
        file
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a plan file serializes to JSON");
        text.push('\n');
        text
    }

    /// Reads a saved plan, refusing format versions this build does not read (it reads
    /// its own and version 2, which lacks `sensitive_values_from`).
    ///
    /// # Errors
    /// Malformed JSON or changes, or a format version this build does not read.
    pub fn from_json(text: &str) -> Result<Self, PlanFileError> {
        #[derive(Deserialize)]
        struct Version {
            format_version: u32,
        }
        let version: Version = serde_json::from_str(text).map_err(PlanFileError::Parse)?;
        if version.format_version != Self::FORMAT_VERSION
            && !Self::READS_ALSO.contains(&version.format_version)
        {
            return Err(PlanFileError::UnsupportedVersion {
                found: version.format_version,
                supported: Self::FORMAT_VERSION,
            });
        }
        serde_json::from_str(text).map_err(PlanFileError::Parse)
    }

    /// Refuses the plan when the live state moved since it was made: `live_revision` is
    /// the live revision now (`None` when the target has none: nothing to compare then).
    ///
    /// # Errors
    /// [`PlanFileError::Stale`]; the caller adds "run `portalctl plan` again".
    pub fn check_current(&self, live_revision: Option<u64>) -> Result<(), PlanFileError> {
        match (self.live_revision, live_revision) {
            (Some(planned), Some(current)) if planned != current => {
                Err(PlanFileError::Stale { planned, current })
            }
            _ => Ok(()),
        }
    }

    /// How many sensitive values the plan writes (held as digests until
    /// [`PlanFile::restore_sensitive`]).
    pub fn sensitive_values(&self) -> usize {
        self.sensitive_needs().len()
    }

    /// The sensitive values the plan writes (held as digests until
    /// [`PlanFile::restore_sensitive`]), by owner and attribute, sorted.
    pub fn sensitive_needs(&self) -> Vec<SensitiveValue> {
        let mut out: Vec<SensitiveValue> = self
            .changes
            .iter()
            .filter_map(SensitiveOwner::of)
            .flat_map(|(owner, values)| {
                values
                    .into_iter()
                    .filter(|(_, value)| masking::is_digest(value))
                    .map(move |(attribute, _)| SensitiveValue {
                        owner: owner.clone(),
                        attribute: attribute.clone(),
                    })
            })
            .collect();
        out.sort();
        out
    }

    /// Puts the sensitive values back from `desired` (a config), each checked against
    /// the digest the plan holds, so the value applied is the one planned.
    ///
    /// # Errors
    /// [`PlanFileError::SensitiveValuesNotRestored`], naming every value the config lacks
    /// or holds with another value; nothing is changed then.
    pub fn restore_sensitive(&mut self, desired: &State) -> Result<(), PlanFileError> {
        let mut restored = self.changes.clone();
        let (mut missing, mut changed) = (Vec::new(), Vec::new());
        for change in &mut restored {
            let Some((owner, _)) = SensitiveOwner::of(change) else {
                continue;
            };
            let wanted = owner.values_in(desired);
            let attributes = match change {
                Change::Put {
                    value: ResourceValue::Member(member),
                    ..
                } => &mut member.attributes,
                Change::Put {
                    value: ResourceValue::PartnerOrg(org),
                    ..
                } => &mut org.attributes,
                Change::Put { .. } | Change::Delete { .. } => continue,
            };
            for (attribute, value) in attributes {
                if !masking::is_digest(value) {
                    continue;
                }
                let named = || SensitiveValue {
                    owner: owner.clone(),
                    attribute: attribute.clone(),
                };
                match wanted.and_then(|values| values.get(attribute.as_str())) {
                    None => missing.push(named()),
                    Some(original) if masking::digest(&owner.salt(), attribute, original) != *value => {
                        changed.push(named());
                    }
                    Some(original) => *value = original.clone(),
                }
            }
        }
        if !missing.is_empty() || !changed.is_empty() {
            missing.sort();
            changed.sort();
            return Err(PlanFileError::SensitiveValuesNotRestored { missing, changed });
        }
        self.changes = restored;
        Ok(())
    }
}

/// A target as it may be shown or saved: `scheme://user:secret@host/…` becomes
/// `scheme://host/…`; anything else is unchanged.
pub fn without_credentials(target: &str) -> String {
    let Some((scheme, rest)) = target.split_once("://") else {
        return target.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => target.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attribute, AttributeType, AttributeValue, MemberSource, Membership};
    use crate::plan::diff;

    const SECRET: &str = "C-4411-SECRET";

    fn desired() -> State {
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
        state.attributes.insert(
            "region".into(),
            Attribute {
                kind: AttributeType::String,
                values: Vec::new(),
                required: false,
                sensitive: false,
                self_service: false,
            },
        );
        state.members.insert(
            ("globex".into(), "a@globex.com".into()),
            Membership {
                role: "viewer".into(),
                org: None,
                attributes: [
                    ("contract_ref".to_string(), AttributeValue::String(SECRET.into())),
                    ("region".to_string(), AttributeValue::String("emea".into())),
                ]
                .into(),
                expires: None,
                source: MemberSource::Managed,
                pending: false,
            },
        );
        state
    }

    fn header() -> PlanFileHeader {
        PlanFileHeader {
            created_by: "portalctl 0.1.0".into(),
            target: "https://ci:hunter2@portal.example:8443/".into(),
            live_revision: Some(7),
            config_digest: "ab".repeat(32),
            git_commit: None,
            git_author: None,
            git_dirty: None,
            config_path: Some("/work/acme/config".into()),
        }
    }

    #[test]
    fn holds_no_sensitive_value_and_restores_it_exactly() {
        let desired = desired();
        let plan = diff(&State::default(), &desired);
        let file = PlanFile::new(header(), &plan);
        let json = file.to_json();
        assert!(!json.contains(SECRET), "{json}");
        assert!(!json.contains("config_path"), "self-contained: {json}");
        // Where `apply` reads the sensitive values back from: the config, by absolute path.
        assert!(
            json.contains("\"sensitive_values_from\": \"/work/acme/config\""),
            "{json}"
        );
        assert_eq!(PlanFile::from_json(&json).unwrap().sensitive_values(), 1);
        assert!(json.contains("emea"));
        assert!(!json.contains("hunter2"), "{json}");
        assert!(
            json.contains("\"target\": \"https://portal.example:8443/\""),
            "{json}"
        );

        let mut read = PlanFile::from_json(&json).unwrap();
        read.restore_sensitive(&desired).unwrap();
        assert_eq!(read.changes, plan.changes());
    }

    #[test]
    fn restore_fails_when_the_config_lost_the_value() {
        let desired = desired();
        let mut file = PlanFile::new(header(), &diff(&State::default(), &desired));
        let before = file.clone();
        let error = file.restore_sensitive(&State::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the config has no value for sensitive attribute `contract_ref` of member a@globex.com in portal globex"
        );
        assert_eq!(file, before);
        // A config whose value is not the planned one is refused too.
        let mut other = desired.clone();
        other.members.values_mut().for_each(|member| {
            member
                .attributes
                .insert("contract_ref".into(), AttributeValue::String("OTHER".into()));
        });
        let error = file.restore_sensitive(&other).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the config's value of sensitive attribute `contract_ref` of member a@globex.com in portal globex is not the one planned"
        );
        assert!(!error.to_string().contains("OTHER") && !error.to_string().contains(SECRET));
        assert_eq!(file, before);
    }

    /// Regression (issue 21 audit, gap 1): a partner org's sensitive value was saved in
    /// clear in the plan file. It is held as its digest (owner `org:{name}`, as the live
    /// side masks it) and restored from the config like a member's.
    #[test]
    fn holds_no_sensitive_value_of_a_partner_org_and_restores_it() {
        let mut desired = desired();
        desired.partner_orgs.insert(
            "globex".into(),
            crate::model::PartnerOrg {
                domains: ["globex.com".to_string()].into(),
                attributes: [(
                    "contract_ref".to_string(),
                    AttributeValue::String("ORG-SECRET-7".into()),
                )]
                .into(),
                ..Default::default()
            },
        );
        let plan = diff(&State::default(), &desired);
        let file = PlanFile::new(header(), &plan);
        let json = file.to_json();
        assert!(!json.contains("ORG-SECRET-7") && !json.contains(SECRET), "{json}");
        // The digest is the one the live side shows a reader, so plans compare them.
        let AttributeValue::String(live_digest) =
            desired.masked().partner_orgs["globex"].attributes["contract_ref"].clone()
        else {
            panic!("a digest is a string")
        };
        assert!(json.contains(&live_digest), "{json}");
        let needs: Vec<String> = file.sensitive_needs().iter().map(ToString::to_string).collect();
        assert_eq!(
            needs,
            [
                "`contract_ref` of member a@globex.com in portal globex",
                "`contract_ref` of partner org globex"
            ]
        );
        let mut read = PlanFile::from_json(&json).unwrap();
        read.restore_sensitive(&desired).unwrap();
        assert_eq!(read.changes, plan.changes());

        // Every value the config cannot give back is named, none by its value.
        let mut other = desired.clone();
        other.partner_orgs.get_mut("globex").unwrap().attributes = [(
            "contract_ref".to_string(),
            AttributeValue::String("ORG-OTHER".into()),
        )]
        .into();
        other.members.clear();
        let mut read = PlanFile::from_json(&json).unwrap();
        let error = read.restore_sensitive(&other).unwrap_err().to_string();
        assert_eq!(
            error,
            "the config has no value for sensitive attribute `contract_ref` of member a@globex.com in portal globex; \
             the config's value of sensitive attribute `contract_ref` of partner org globex is not the one planned"
        );
        assert_eq!(read, PlanFile::from_json(&json).unwrap(), "nothing restored");
    }

    #[test]
    fn names_no_config_when_no_sensitive_value_is_written() {
        let file = PlanFile::new(header(), &Plan::default());
        assert_eq!(file.sensitive_values_from, None);
        assert!(!file.to_json().contains("/work/acme"), "{}", file.to_json());
    }

    #[test]
    fn reads_version_2_plans_and_refuses_other_format_versions() {
        let mut file = PlanFile::new(header(), &Plan::default());
        file.format_version = 2;
        assert_eq!(PlanFile::from_json(&file.to_json()).unwrap().format_version, 2);
        file.format_version = 1;
        let error = PlanFile::from_json(&file.to_json()).unwrap_err();
        assert!(matches!(
            error,
            PlanFileError::UnsupportedVersion { found: 1, .. }
        ));
    }

    #[test]
    fn refuses_a_plan_when_the_live_state_moved() {
        let file = PlanFile::new(header(), &Plan::default());
        assert!(file.check_current(Some(7)).is_ok());
        assert!(file.check_current(None).is_ok());
        let stale = file.check_current(Some(8)).unwrap_err();
        assert_eq!(
            stale.to_string(),
            "plan is stale: the live state is at revision 8, the plan was made at revision 7"
        );
        assert!(CREATED_BY.starts_with("portalctl "));
    }

    #[test]
    fn drops_credentials_from_targets() {
        assert_eq!(without_credentials("https://u:p@h:1/x@y"), "https://h:1/x@y");
        assert_eq!(without_credentials("sqlite:portalctl.db"), "sqlite:portalctl.db");
        assert_eq!(without_credentials("http://h:8080"), "http://h:8080");
    }
}
