//! Changes: the unit that plans contain, `apply` sends and the service commits.
//!
//! On the wire a change is `{"op": "put"|"delete", "kind": "member", "key": ["globex",
//! "alice@globex.com"], "value": {...}}`; `key` holds the natural key's parts (none for
//! the workspace, two for members and shares, one otherwise) and `value` is present
//! exactly for `put`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Attribute, Folder, Group, Membership, PartnerOrg, Pointer, Portal, Principal, Role, Share, State,
    Workspace,
};

/// The kinds of resource, in the order parents come before children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Workspace,
    Attribute,
    Role,
    PartnerOrg,
    Portal,
    Member,
    Group,
    Folder,
    Share,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Workspace,
        Kind::Attribute,
        Kind::Role,
        Kind::PartnerOrg,
        Kind::Portal,
        Kind::Member,
        Kind::Group,
        Kind::Folder,
        Kind::Share,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Workspace => "workspace",
            Kind::Attribute => "attribute",
            Kind::Role => "role",
            Kind::PartnerOrg => "partner_org",
            Kind::Portal => "portal",
            Kind::Member => "member",
            Kind::Group => "group",
            Kind::Folder => "folder",
            Kind::Share => "share",
        }
    }

    /// The section of a `State` (and of its canonical pointers) holding this kind.
    pub fn section(self) -> &'static str {
        match self {
            Kind::Workspace => "workspace",
            Kind::Attribute => "attributes",
            Kind::Role => "roles",
            Kind::PartnerOrg => "partner_orgs",
            Kind::Portal => "portals",
            Kind::Member => "members",
            Kind::Group => "groups",
            Kind::Folder => "folders",
            Kind::Share => "shares",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The natural key of one resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceKey {
    Workspace,
    Attribute(String),
    Role(String),
    PartnerOrg(String),
    Portal(String),
    Member { portal: String, email: String },
    Group(String),
    Folder(String),
    Share { folder: String, principal: Principal },
}

impl ResourceKey {
    pub fn kind(&self) -> Kind {
        match self {
            Self::Workspace => Kind::Workspace,
            Self::Attribute(_) => Kind::Attribute,
            Self::Role(_) => Kind::Role,
            Self::PartnerOrg(_) => Kind::PartnerOrg,
            Self::Portal(_) => Kind::Portal,
            Self::Member { .. } => Kind::Member,
            Self::Group(_) => Kind::Group,
            Self::Folder(_) => Kind::Folder,
            Self::Share { .. } => Kind::Share,
        }
    }

    /// The key's parts as on the wire.
    pub fn parts(&self) -> Vec<String> {
        match self {
            Self::Workspace => Vec::new(),
            Self::Attribute(name)
            | Self::Role(name)
            | Self::PartnerOrg(name)
            | Self::Portal(name)
            | Self::Group(name)
            | Self::Folder(name) => vec![name.clone()],
            Self::Member { portal, email } => vec![portal.clone(), email.clone()],
            Self::Share { folder, principal } => vec![folder.clone(), principal.to_string()],
        }
    }

    pub fn from_parts(kind: Kind, parts: &[String]) -> Result<Self, String> {
        let expected = match kind {
            Kind::Workspace => 0,
            Kind::Member | Kind::Share => 2,
            _ => 1,
        };
        if parts.len() != expected {
            return Err(format!(
                "a {kind} key has {expected} part(s), found {}",
                parts.len()
            ));
        }
        let one = || parts[0].clone();
        Ok(match kind {
            Kind::Workspace => Self::Workspace,
            Kind::Attribute => Self::Attribute(one()),
            Kind::Role => Self::Role(one()),
            Kind::PartnerOrg => Self::PartnerOrg(one()),
            Kind::Portal => Self::Portal(one()),
            Kind::Group => Self::Group(one()),
            Kind::Folder => Self::Folder(one()),
            Kind::Member => Self::Member {
                portal: one(),
                email: super::normalize_email(&parts[1]),
            },
            Kind::Share => Self::Share {
                folder: one(),
                principal: parts[1].parse()?,
            },
        })
    }

    /// Where this resource lives in a `State`, as the rules report it.
    pub fn pointer(&self) -> Pointer {
        let section = Pointer::root().join(self.kind().section());
        self.parts()
            .iter()
            .fold(section, |pointer, part| pointer.join(part))
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Workspace => f.write_str("workspace"),
            Self::Member { portal, email } => write!(f, "member {email} in portal {portal}"),
            Self::Share { folder, principal } => write!(f, "share {folder} with {principal}"),
            other => write!(f, "{} {}", other.kind(), other.parts().join("")),
        }
    }
}

/// The value of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceValue {
    Workspace(Workspace),
    Attribute(Attribute),
    Role(Role),
    PartnerOrg(PartnerOrg),
    Portal(Portal),
    Member(Membership),
    Group(Group),
    Folder(Folder),
    Share(Share),
}

impl ResourceValue {
    pub fn kind(&self) -> Kind {
        match self {
            Self::Workspace(_) => Kind::Workspace,
            Self::Attribute(_) => Kind::Attribute,
            Self::Role(_) => Kind::Role,
            Self::PartnerOrg(_) => Kind::PartnerOrg,
            Self::Portal(_) => Kind::Portal,
            Self::Member(_) => Kind::Member,
            Self::Group(_) => Kind::Group,
            Self::Folder(_) => Kind::Folder,
            Self::Share(_) => Kind::Share,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let value = match self {
            Self::Workspace(v) => serde_json::to_value(v),
            Self::Attribute(v) => serde_json::to_value(v),
            Self::Role(v) => serde_json::to_value(v),
            Self::PartnerOrg(v) => serde_json::to_value(v),
            Self::Portal(v) => serde_json::to_value(v),
            Self::Member(v) => serde_json::to_value(v),
            Self::Group(v) => serde_json::to_value(v),
            Self::Folder(v) => serde_json::to_value(v),
            Self::Share(v) => serde_json::to_value(v),
        };
        value.expect("model types serialize to JSON")
    }

    pub fn from_json(kind: Kind, value: serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            Kind::Workspace => Self::Workspace(serde_json::from_value(value)?),
            Kind::Attribute => Self::Attribute(serde_json::from_value(value)?),
            Kind::Role => Self::Role(serde_json::from_value(value)?),
            Kind::PartnerOrg => Self::PartnerOrg(serde_json::from_value(value)?),
            Kind::Portal => Self::Portal(serde_json::from_value(value)?),
            Kind::Member => Self::Member(serde_json::from_value(value)?),
            Kind::Group => Self::Group(serde_json::from_value(value)?),
            Kind::Folder => Self::Folder(serde_json::from_value(value)?),
            Kind::Share => Self::Share(serde_json::from_value(value)?),
        })
    }
}

/// Create-or-replace a resource, or delete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "WireChange", into = "WireChange")]
#[schemars(with = "WireChange")]
pub enum Change {
    Put { key: ResourceKey, value: ResourceValue },
    Delete { key: ResourceKey },
}

impl Change {
    pub fn key(&self) -> &ResourceKey {
        match self {
            Self::Put { key, .. } | Self::Delete { key } => key,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Put,
    Delete,
}

/// A change as it travels in `POST /v1/changes` and in plan files.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WireChange {
    pub op: Op,
    pub kind: Kind,
    /// The natural key's parts: `[]` for the workspace, `[portal, email]` for a member,
    /// `[folder, principal]` for a share, `[name]` otherwise.
    #[serde(default)]
    pub key: Vec<String>,
    /// The whole new value, for `put` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
}

impl TryFrom<WireChange> for Change {
    type Error = String;

    fn try_from(wire: WireChange) -> Result<Self, Self::Error> {
        let key = ResourceKey::from_parts(wire.kind, &wire.key)?;
        match (wire.op, wire.value) {
            (Op::Delete, None) => Ok(Change::Delete { key }),
            (Op::Delete, Some(_)) => Err("a delete carries no `value`".into()),
            (Op::Put, None) => Err("a put needs a `value`".into()),
            (Op::Put, Some(value)) => {
                let value =
                    ResourceValue::from_json(wire.kind, value).map_err(|error| format!("value: {error}"))?;
                Ok(Change::Put { key, value })
            }
        }
    }
}

impl From<Change> for WireChange {
    fn from(change: Change) -> Self {
        match change {
            Change::Put { key, value } => WireChange {
                op: Op::Put,
                kind: key.kind(),
                key: key.parts(),
                value: Some(value.to_json()),
            },
            Change::Delete { key } => WireChange {
                op: Op::Delete,
                kind: key.kind(),
                key: key.parts(),
                value: None,
            },
        }
    }
}

/// Why one change in a batch cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeError {
    /// Index of the change in its batch.
    pub index: usize,
    pub message: String,
}

impl State {
    /// The current value of a resource.
    pub fn get(&self, key: &ResourceKey) -> Option<ResourceValue> {
        Some(match key {
            ResourceKey::Workspace => ResourceValue::Workspace(self.workspace.clone()),
            ResourceKey::Attribute(name) => ResourceValue::Attribute(self.attributes.get(name)?.clone()),
            ResourceKey::Role(name) => ResourceValue::Role(self.roles.get(name)?.clone()),
            ResourceKey::PartnerOrg(name) => ResourceValue::PartnerOrg(self.partner_orgs.get(name)?.clone()),
            ResourceKey::Portal(name) => ResourceValue::Portal(self.portals.get(name)?.clone()),
            ResourceKey::Member { portal, email } => {
                ResourceValue::Member(self.members.get(&(portal.clone(), email.clone()))?.clone())
            }
            ResourceKey::Group(name) => ResourceValue::Group(self.groups.get(name)?.clone()),
            ResourceKey::Folder(path) => ResourceValue::Folder(self.folders.get(path)?.clone()),
            ResourceKey::Share { folder, principal } => {
                ResourceValue::Share(self.shares.get(&(folder.clone(), principal.clone()))?.clone())
            }
        })
    }

    /// Applies a batch of changes in order. Structural problems (a value of the wrong
    /// kind, deleting what does not exist, deleting the workspace) are errors, one per
    /// offending change; the state is left untouched unless every change applies.
    /// Domain rules are not checked here: run [`super::rules::check`] on the result.
    ///
    /// Deleting a partner org also removes its partners from every portal, group and
    /// `user:` share, so access is revoked rather than orphaned.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), Vec<ChangeError>> {
        let errors: Vec<ChangeError> = {
            let mut probe = PresenceProbe::new(self);
            changes
                .iter()
                .enumerate()
                .filter_map(|(index, change)| {
                    probe
                        .check(change)
                        .err()
                        .map(|message| ChangeError { index, message })
                })
                .collect()
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        for change in changes {
            self.apply_one(change);
        }
        Ok(())
    }

    fn apply_one(&mut self, change: &Change) {
        match change {
            Change::Put { key, value } => match (key, value.clone()) {
                (ResourceKey::Workspace, ResourceValue::Workspace(v)) => self.workspace = v,
                (ResourceKey::Attribute(k), ResourceValue::Attribute(v)) => {
                    self.attributes.insert(k.clone(), v);
                }
                (ResourceKey::Role(k), ResourceValue::Role(v)) => {
                    self.roles.insert(k.clone(), v);
                }
                (ResourceKey::PartnerOrg(k), ResourceValue::PartnerOrg(v)) => {
                    self.partner_orgs.insert(k.clone(), v);
                }
                (ResourceKey::Portal(k), ResourceValue::Portal(v)) => {
                    self.portals.insert(k.clone(), v);
                }
                (ResourceKey::Member { portal, email }, ResourceValue::Member(v)) => {
                    self.members.insert((portal.clone(), email.clone()), v);
                }
                (ResourceKey::Group(k), ResourceValue::Group(v)) => {
                    self.groups.insert(k.clone(), v);
                }
                (ResourceKey::Folder(k), ResourceValue::Folder(v)) => {
                    self.folders.insert(k.clone(), v);
                }
                (ResourceKey::Share { folder, principal }, ResourceValue::Share(v)) => {
                    self.shares.insert((folder.clone(), principal.clone()), v);
                }
                _ => unreachable!("kinds were checked before applying"),
            },
            Change::Delete { key } => match key {
                ResourceKey::Workspace => unreachable!("workspace deletes were refused before applying"),
                ResourceKey::Attribute(k) => {
                    self.attributes.remove(k);
                }
                ResourceKey::Role(k) => {
                    self.roles.remove(k);
                }
                ResourceKey::PartnerOrg(k) => {
                    self.partner_orgs.remove(k);
                    self.revoke_org(k);
                }
                ResourceKey::Portal(k) => {
                    self.portals.remove(k);
                }
                ResourceKey::Member { portal, email } => {
                    self.members.remove(&(portal.clone(), email.clone()));
                }
                ResourceKey::Group(k) => {
                    self.groups.remove(k);
                }
                ResourceKey::Folder(k) => {
                    self.folders.remove(k);
                }
                ResourceKey::Share { folder, principal } => {
                    self.shares.remove(&(folder.clone(), principal.clone()));
                }
            },
        }
    }

    /// Removes every partner of `org` from portals, groups and `user:` shares.
    fn revoke_org(&mut self, org: &str) {
        let mut revoked = std::collections::BTreeSet::new();
        self.members.retain(|(_, email), member| {
            let keep = member.org.as_deref() != Some(org);
            if !keep {
                revoked.insert(email.clone());
            }
            keep
        });
        if revoked.is_empty() {
            return;
        }
        for group in self.groups.values_mut() {
            group.members.retain(|email| !revoked.contains(email));
        }
        self.shares.retain(
            |(_, principal), _| !matches!(principal, Principal::User(email) if revoked.contains(email)),
        );
    }
}

/// Tracks which keys exist while a batch is checked, so that "create then delete" in one
/// batch is judged in order without touching the state.
struct PresenceProbe<'a> {
    state: &'a State,
    overrides: std::collections::HashMap<ResourceKey, bool>,
}

impl<'a> PresenceProbe<'a> {
    fn new(state: &'a State) -> Self {
        Self {
            state,
            overrides: std::collections::HashMap::new(),
        }
    }

    fn exists(&self, key: &ResourceKey) -> bool {
        if let Some(present) = self.overrides.get(key) {
            return *present;
        }
        match key {
            ResourceKey::Workspace => true,
            ResourceKey::Attribute(k) => self.state.attributes.contains_key(k),
            ResourceKey::Role(k) => self.state.roles.contains_key(k),
            ResourceKey::PartnerOrg(k) => self.state.partner_orgs.contains_key(k),
            ResourceKey::Portal(k) => self.state.portals.contains_key(k),
            ResourceKey::Member { portal, email } => {
                self.state.members.contains_key(&(portal.clone(), email.clone()))
            }
            ResourceKey::Group(k) => self.state.groups.contains_key(k),
            ResourceKey::Folder(k) => self.state.folders.contains_key(k),
            ResourceKey::Share { folder, principal } => self
                .state
                .shares
                .contains_key(&(folder.clone(), principal.clone())),
        }
    }

    fn check(&mut self, change: &Change) -> Result<(), String> {
        match change {
            Change::Put { key, value } => {
                if key.kind() != value.kind() {
                    return Err(format!("a {} key with a {} value", key.kind(), value.kind()));
                }
                self.overrides.insert(key.clone(), true);
                Ok(())
            }
            Change::Delete {
                key: ResourceKey::Workspace,
            } => Err("the workspace cannot be deleted".into()),
            Change::Delete { key } => {
                if !self.exists(key) {
                    return Err(format!("{key} does not exist"));
                }
                self.overrides.insert(key.clone(), false);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Access, MemberSource};

    fn member(org: Option<&str>) -> Membership {
        Membership {
            role: "viewer".into(),
            org: org.map(str::to_string),
            attributes: Default::default(),
            expires: None,
            source: MemberSource::Managed,
        }
    }

    #[test]
    fn wire_format_round_trips() {
        let change = Change::Put {
            key: ResourceKey::Member {
                portal: "globex".into(),
                email: "alice@globex.com".into(),
            },
            value: ResourceValue::Member(member(Some("globex"))),
        };
        let json = serde_json::to_string(&change).unwrap();
        assert_eq!(
            json,
            r#"{"op":"put","kind":"member","key":["globex","alice@globex.com"],"value":{"org":"globex","role":"viewer","source":"managed"}}"#
        );
        assert_eq!(serde_json::from_str::<Change>(&json).unwrap(), change);
        let delete = r#"{"op":"delete","kind":"share","key":["/P","group:g"]}"#;
        let parsed: Change = serde_json::from_str(delete).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), delete);
    }

    #[test]
    fn wire_format_rejects_malformed_changes() {
        for bad in [
            r#"{"op":"put","kind":"member","key":["globex"],"value":{"role":"viewer"}}"#,
            r#"{"op":"delete","kind":"role","key":["x"],"value":{}}"#,
            r#"{"op":"put","kind":"role","key":["x"]}"#,
            r#"{"op":"put","kind":"role","key":["x"],"value":{"permisions":[]}}"#,
            r#"{"op":"put","kind":"share","key":["/P","team:x"],"value":{"access":"view"}}"#,
            r#"{"op":"put","kind":"nope","key":[]}"#,
        ] {
            assert!(serde_json::from_str::<Change>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_batch_with_one_bad_change_applies_nothing() {
        let mut state = State::default();
        let changes = vec![
            Change::Put {
                key: ResourceKey::Group("g".into()),
                value: ResourceValue::Group(Group::default()),
            },
            Change::Delete {
                key: ResourceKey::Role("missing".into()),
            },
        ];
        let errors = state.apply(&changes).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].index, 1);
        assert!(state.groups.is_empty());
    }

    #[test]
    fn deleting_an_org_revokes_its_partners_everywhere() {
        let mut state = State::default();
        state.partner_orgs.insert("globex".into(), PartnerOrg::default());
        state
            .members
            .insert(("p".into(), "a@globex.com".into()), member(Some("globex")));
        state
            .members
            .insert(("p".into(), "b@initech.com".into()), member(None));
        state.groups.insert(
            "g".into(),
            Group {
                description: None,
                members: ["a@globex.com".to_string(), "b@initech.com".to_string()].into(),
            },
        );
        state.shares.insert(
            ("/F".into(), Principal::User("a@globex.com".into())),
            Share {
                access: Access::View,
                expires: None,
            },
        );
        state
            .apply(&[Change::Delete {
                key: ResourceKey::PartnerOrg("globex".into()),
            }])
            .unwrap();
        assert_eq!(state.members.len(), 1);
        assert_eq!(state.groups["g"].members.len(), 1);
        assert!(state.shares.is_empty());
    }

    #[test]
    fn keys_point_where_rules_report() {
        let key = ResourceKey::Share {
            folder: "/Partners/Finance".into(),
            principal: Principal::Group("g".into()),
        };
        assert_eq!(key.pointer().as_str(), "/shares/~1Partners~1Finance/group:g");
    }
}
