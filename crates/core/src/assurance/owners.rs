//! Owners: who must approve access changes to a portal, a folder (and everything below
//! it, the nearest folder with owners winning) or a partner org. Emails or code host
//! handles (`@lea`, `@acme/partner-ops`).

use std::collections::{BTreeMap, BTreeSet};

use crate::access::ImpactView;
use crate::config::diagnostic::RuleId;
use crate::config::yaml::{Node, Value};
use crate::config::{Diagnostic, Location, SourceMap};
use crate::model::{Pointer, ResourceKey, ResourceValue, State, self_and_ancestors};
use crate::plan::Plan;

/// What an `owners:` list is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Owned {
    Portal(String),
    Folder(String),
    Org(String),
}

impl std::fmt::Display for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Portal(name) => write!(f, "portal {name}"),
            Self::Folder(path) => write!(f, "folder {path}"),
            Self::Org(name) => write!(f, "partner org {name}"),
        }
    }
}

/// One `owners:` list and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerList {
    pub owners: Vec<String>,
    pub at: Option<Location>,
}

/// Every `owners:` list of a config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owners {
    pub lists: BTreeMap<Owned, OwnerList>,
}

/// Whether `owner` is an email or a code host handle.
pub fn is_owner(owner: &str) -> bool {
    if let Some(handle) = owner.strip_prefix('@') {
        let mut parts = handle.splitn(2, '/');
        let valid = |part: &str| {
            !part.is_empty()
                && part.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        };
        return parts.next().is_some_and(valid) && parts.next().is_none_or(valid);
    }
    crate::model::is_valid_email(owner)
}

impl Owners {
    pub(super) fn resolve(
        written: Vec<(u32, Owned, Node)>,
        state: &State,
        map: &SourceMap,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Self {
        let mut lists = BTreeMap::new();
        for (file, owned, node) in written {
            let declared = match &owned {
                Owned::Portal(name) => state.portals.contains_key(name),
                Owned::Folder(path) => state.folders.contains_key(path),
                Owned::Org(name) => state.partner_orgs.contains_key(name),
            };
            if !declared || lists.contains_key(&owned) {
                continue; // defined twice: the merge reported it
            }
            let mut owners = Vec::new();
            if let Value::Seq(items) = &node.value {
                for item in items {
                    let Value::String(text) = &item.value else {
                        continue; // the schema reported it
                    };
                    let owner = text.trim().to_string();
                    if !is_owner(&owner) {
                        diagnostics.push(
                            Diagnostic::error(
                                RuleId::OwnerInvalid,
                                Some(map.file_location(file, item.at.line, item.at.column)),
                                format!(
                                    "`{owner}` is neither an email nor a handle such as `@acme/partner-ops`"
                                ),
                            )
                            .with_hint(Some(format!("the owners of {owned} approve its access changes"))),
                        );
                    } else if owners.contains(&owner) {
                        diagnostics.push(Diagnostic::error(
                            RuleId::OwnerInvalid,
                            Some(map.file_location(file, item.at.line, item.at.column)),
                            format!("`{owner}` is listed twice among the owners of {owned}"),
                        ));
                    } else {
                        owners.push(owner);
                    }
                }
            }
            let at = Some(map.file_location(file, node.at.line, node.at.column));
            lists.insert(owned, OwnerList { owners, at });
        }
        Self { lists }
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    fn of(&self, owned: &Owned) -> &[String] {
        self.lists.get(owned).map_or(&[], |list| list.owners.as_slice())
    }

    /// The owners of a portal.
    pub fn of_portal(&self, portal: &str) -> &[String] {
        self.of(&Owned::Portal(portal.to_string()))
    }

    /// The owners of a partner org.
    pub fn of_org(&self, org: &str) -> &[String] {
        self.of(&Owned::Org(org.to_string()))
    }

    /// The owners of a folder or dashboard path: those of the nearest folder (the path
    /// itself or an ancestor) that has owners, with that folder.
    pub fn of_path(&self, path: &str) -> Option<(&str, &[String])> {
        if self.is_empty() {
            return None;
        }
        self_and_ancestors(path).find_map(|folder| {
            match self.lists.get_key_value(&Owned::Folder(folder.to_string())) {
                Some((Owned::Folder(folder), list)) if !list.owners.is_empty() => {
                    Some((folder.as_str(), list.owners.as_slice()))
                }
                _ => None,
            }
        })
    }

    /// What a resource's change needs approving by, as (owner, why) pairs: a portal's or
    /// member's portal, a member's org, a folder's, dashboard's or share's folder.
    fn for_key(&self, key: &ResourceKey, values: &[Option<&ResourceValue>], into: &mut Approvals) {
        match key {
            ResourceKey::Portal(portal) => into.add(self.of_portal(portal), &Owned::Portal(portal.clone())),
            ResourceKey::PartnerOrg(org) => into.add(self.of_org(org), &Owned::Org(org.clone())),
            ResourceKey::Member { portal, .. } => {
                into.add(self.of_portal(portal), &Owned::Portal(portal.clone()));
                for value in values.iter().flatten() {
                    if let ResourceValue::Member(member) = value
                        && let Some(org) = &member.org
                    {
                        into.add(self.of_org(org), &Owned::Org(org.clone()));
                    }
                }
            }
            ResourceKey::Folder(path)
            | ResourceKey::Dashboard(path)
            | ResourceKey::Share { folder: path, .. } => {
                if let Some((folder, owners)) = self.of_path(path) {
                    into.add(owners, &Owned::Folder(folder.to_string()));
                }
            }
            _ => {}
        }
    }

    /// The owners whose approval a plan needs, each with what of theirs it touches: the
    /// portals, orgs and folders its resource changes touch, and the folders where its
    /// access impact changes someone's access.
    pub fn approvals(&self, plan: &Plan, impact: Option<&dyn ImpactView>) -> Approvals {
        let mut approvals = Approvals::default();
        if self.is_empty() {
            return approvals;
        }
        for change in &plan.resources {
            self.for_key(
                &change.key,
                &[change.before.as_ref(), change.after.as_ref()],
                &mut approvals,
            );
        }
        if let Some(impact) = impact {
            impact.for_each_changed_folder(&mut |path| {
                if let Some((folder, owners)) = self.of_path(path) {
                    approvals.add(owners, &Owned::Folder(folder.to_string()));
                }
            });
        }
        approvals
    }

    /// The owners of what each config file declares, by the file's displayed path: a
    /// portal's file (and its CSV rosters) by the portal's and its members' orgs' owners,
    /// a folder's, dashboard's or share's by the folder's, an org's by the org's, a group's
    /// by the owners of the folders it is shared on. Files declaring nothing owned are left out.
    pub fn by_file(&self, state: &State, map: &SourceMap) -> BTreeMap<String, BTreeSet<String>> {
        let mut files: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        if self.is_empty() {
            return files;
        }
        let mut add = |pointer: Pointer, owners: &[String]| {
            if owners.is_empty() {
                return;
            }
            if let Some(location) = map.exact(&pointer) {
                files
                    .entry(location.file)
                    .or_default()
                    .extend(owners.iter().cloned());
            }
        };
        let root = Pointer::root();
        for name in state.portals.keys() {
            add(root.join("portals").join(name), self.of_portal(name));
        }
        for name in state.partner_orgs.keys() {
            add(root.join("partner_orgs").join(name), self.of_org(name));
        }
        for ((portal, email), member) in &state.members {
            let mut owners = self.of_portal(portal).to_vec();
            if let Some(org) = &member.org {
                owners.extend(self.of_org(org).iter().cloned());
            }
            add(Pointer::member(portal, email), &owners);
        }
        let folder_owners = |path: &str| self.of_path(path).map_or(&[][..], |(_, owners)| owners);
        for path in state.folders.keys() {
            add(root.join("folders").join(path), folder_owners(path));
        }
        for path in state.dashboards.keys() {
            add(root.join("dashboards").join(path), folder_owners(path));
        }
        let mut group_owners: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (folder, principal) in state.shares.keys() {
            let owners = folder_owners(folder);
            add(
                root.join("shares").join(folder).join(&principal.to_string()),
                owners,
            );
            if let crate::model::Principal::Group(group) = principal {
                group_owners
                    .entry(group.as_str())
                    .or_default()
                    .extend(owners.iter().cloned());
            }
        }
        for (group, owners) in group_owners {
            let owners: Vec<String> = owners.into_iter().collect();
            add(root.join("groups").join(group), &owners);
        }
        files
    }
}

/// Owners and what of theirs a change touches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approvals {
    pub by_owner: BTreeMap<String, BTreeSet<Owned>>,
}

impl Approvals {
    fn add(&mut self, owners: &[String], owned: &Owned) {
        for owner in owners {
            self.by_owner
                .entry(owner.clone())
                .or_default()
                .insert(owned.clone());
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_owner.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_emails_or_handles() {
        for good in ["lea@acme.com", "@lea", "@acme/partner-ops", "@a.b/c_d"] {
            assert!(is_owner(good), "{good}");
        }
        for bad in [
            "lea",
            "@",
            "@/x",
            "@acme/",
            "@acme/a/b",
            "@-x",
            "lea@",
            "@acme/ops team",
        ] {
            assert!(!is_owner(bad), "{bad}");
        }
    }

    #[test]
    fn the_nearest_folder_with_owners_wins() {
        let mut owners = Owners::default();
        for (path, list) in [
            ("/Partners", vec!["@acme/ops"]),
            ("/Partners/Finance", vec!["@acme/finance"]),
        ] {
            owners.lists.insert(
                Owned::Folder(path.into()),
                OwnerList {
                    owners: list.into_iter().map(String::from).collect(),
                    at: None,
                },
            );
        }
        let check = |path: &str, expected: Option<(&str, &str)>| {
            let found = owners
                .of_path(path)
                .map(|(folder, list)| (folder, list[0].as_str()));
            assert_eq!(found, expected, "{path}");
        };
        check(
            "/Partners/Finance/Q3",
            Some(("/Partners/Finance", "@acme/finance")),
        );
        check("/Partners/Finance", Some(("/Partners/Finance", "@acme/finance")));
        check("/Partners/Deals", Some(("/Partners", "@acme/ops")));
        check("/Other", None);
    }
}
