//! Changes: the unit that plans contain, `apply` sends and the service commits.
//!
//! On the wire a change is `{"op": "put"|"delete", "kind": "member", "key": ["globex",
//! "alice@globex.com"], "value": {...}}`; `key` holds the natural key's parts (none for
//! the workspace, two for members and shares, one otherwise) and `value` is present
//! exactly for `put`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Kind, Pointer, Principal, ResourceKey, ResourceValue, State};

impl ResourceKey {
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
    /// `[folder, principal]` for a share, `[name]` otherwise. The two parts of a member or
    /// share key are told apart by their form, so either order is read as the same key.
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
    /// The change deletes what does not exist: a conflict with the current state, not a
    /// malformed change.
    pub missing: bool,
}

impl State {
    /// Applies a batch of changes in order. Structural problems (a value of the wrong
    /// kind, deleting what does not exist, deleting the workspace) are errors, one per
    /// offending change; the state is left untouched unless every change applies.
    /// Domain rules are not checked here: run [`super::rules::check`] on the result.
    ///
    /// Deleting a partner org also removes its partners from every portal, group and
    /// `user:` share, so access is revoked rather than orphaned.
    pub fn apply(&mut self, changes: &[Change]) -> Result<(), Vec<ChangeError>> {
        self.check_applies(changes)?;
        for change in changes {
            match change {
                Change::Put { key, value } => self.apply_put(key, value.clone()),
                Change::Delete { key } => self.apply_delete(key),
            }
        }
        Ok(())
    }

    /// As [`State::apply`], moving the values in instead of copying them.
    ///
    /// # Errors
    /// As [`State::apply`]; the state is untouched then.
    pub fn apply_owned(&mut self, changes: Vec<Change>) -> Result<(), Vec<ChangeError>> {
        self.check_applies(&changes)?;
        for change in changes {
            match change {
                Change::Put { key, value } => self.apply_put(&key, value),
                Change::Delete { key } => self.apply_delete(&key),
            }
        }
        Ok(())
    }

    fn check_applies(&self, changes: &[Change]) -> Result<(), Vec<ChangeError>> {
        let errors: Vec<ChangeError> = {
            // Puts are remembered only for the deletes after them: a batch of puts alone
            // (a million rows read from a store) needs no map of its keys.
            let has_deletes = changes
                .iter()
                .any(|change| matches!(change, Change::Delete { .. }));
            let mut probe = PresenceProbe::new(self, has_deletes);
            changes
                .iter()
                .enumerate()
                .filter_map(|(index, change)| {
                    probe.check(change).err().map(|(message, missing)| ChangeError {
                        index,
                        message,
                        missing,
                    })
                })
                .collect()
        };
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    fn apply_put(&mut self, key: &ResourceKey, value: ResourceValue) {
        let put = self.put(key, value);
        debug_assert!(put, "kinds were checked before applying");
    }

    fn apply_delete(&mut self, key: &ResourceKey) {
        // Presence was checked before applying, but a member, group entry or share that an
        // earlier org deletion in the same batch revoked is already gone.
        self.remove(key);
        if let ResourceKey::PartnerOrg(org) = key {
            self.revoke_org(org);
        }
    }

    /// Removes the `org:` shares of `org`, and every partner of `org` from portals, groups
    /// and `user:` shares.
    fn revoke_org(&mut self, org: &str) {
        self.shares
            .retain(|(_, principal), _| !matches!(principal, Principal::Org(name) if name == org));
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
            group.joined_live.retain(|email| !revoked.contains(email));
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
    /// Whether puts must be remembered: some delete may name what they put.
    remember_puts: bool,
}

impl<'a> PresenceProbe<'a> {
    fn new(state: &'a State, remember_puts: bool) -> Self {
        Self {
            state,
            overrides: std::collections::HashMap::new(),
            remember_puts,
        }
    }

    fn exists(&self, key: &ResourceKey) -> bool {
        if let Some(present) = self.overrides.get(key) {
            return *present;
        }
        self.state.contains(key)
    }

    /// `Err` with the message and whether the change deletes what does not exist.
    fn check(&mut self, change: &Change) -> Result<(), (String, bool)> {
        match change {
            Change::Put { key, value } => {
                if key.kind() != value.kind() {
                    return Err((
                        format!("a {} key with a {} value", key.kind(), value.kind()),
                        false,
                    ));
                }
                if self.remember_puts {
                    self.overrides.insert(key.clone(), true);
                }
                Ok(())
            }
            Change::Delete {
                key: ResourceKey::Workspace,
            } => Err(("the workspace cannot be deleted".into(), false)),
            Change::Delete { key } => {
                if !self.exists(key) {
                    return Err((format!("{key} does not exist"), true));
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
    use crate::model::{Access, Group, MemberSource, Membership, PartnerOrg, Share};

    fn member(org: Option<&str>) -> Membership {
        Membership {
            role: "viewer".into(),
            org: org.map(str::to_string),
            attributes: Default::default(),
            expires: None,
            source: MemberSource::Managed,
            pending: false,
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
                joined_live: Default::default(),
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
