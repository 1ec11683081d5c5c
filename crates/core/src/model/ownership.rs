//! Ownership: which parts of a live state git owns and which the live side owns.
//!
//! Git owns every declared resource. The live side owns, by design, the members who
//! registered themselves (approved or awaiting approval), the group entries their
//! registration made, and the members a partner org added itself under its
//! `self_management` (through its partner admins or SCIM): "managed by globex". `plan` and `apply` keep what the live side owns and never prune it,
//! `drift` lists it apart as expected, and `import` leaves it out and says so. This is the
//! one place that says what is owned live; every command asks [`State::is_live_owned`] or
//! [`Membership::live_origin`].
//!
//! **Architecture invariant:** pure; no I/O.

use std::collections::BTreeSet;

use super::{Change, Group, MemberSource, Membership, ResourceKey, ResourceValue, State};

/// Why a registration cannot be approved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("no portal `{0}`")]
    NoPortal(String),
    #[error("no member {email} in portal {portal}")]
    NoMember { portal: String, email: String },
}

/// Why the live side owns a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LiveOrigin {
    /// Registered through the portal's self-registration, and approved where it had to be.
    SelfRegistered,
    /// A registration awaiting approval: it grants nothing yet.
    Pending,
    /// Added by its partner org (a partner admin or the org's identity provider): managed
    /// by the org named in the membership.
    PartnerManaged,
}

/// A piece of state the live side may own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveKey<'a> {
    /// A portal membership.
    Member { portal: &'a str, email: &'a str },
    /// One email's entry in a group.
    GroupEntry { group: &'a str, email: &'a str },
}

impl Membership {
    /// Who owns the membership on the live side: `None` when git does (a managed member).
    pub fn live_origin(&self) -> Option<LiveOrigin> {
        if self.pending {
            Some(LiveOrigin::Pending)
        } else {
            match self.source {
                MemberSource::Managed => None,
                MemberSource::SelfRegistration => Some(LiveOrigin::SelfRegistered),
                MemberSource::PartnerManaged => Some(LiveOrigin::PartnerManaged),
            }
        }
    }

    /// The partner org managing this membership, when its org added it.
    pub fn managing_org(&self) -> Option<&str> {
        (self.source == MemberSource::PartnerManaged)
            .then_some(self.org.as_deref())
            .flatten()
    }
}

impl State {
    /// Whether `org` delegates its roster in `portal` in this state: it has
    /// `self_management` listing the portal. A member its org added outlives the delegation
    /// only while this holds.
    pub fn delegates(&self, org: &str, portal: &str) -> bool {
        self.partner_orgs
            .get(org)
            .and_then(|found| found.self_management.as_ref())
            .is_some_and(|delegation| delegation.portals.contains(portal))
    }
}

impl Group {
    /// Whether `email`'s entry in the group is owned live.
    pub fn entry_is_live_owned(&self, email: &str) -> bool {
        self.joined_live.contains(email) && self.members.contains(email)
    }
}

impl State {
    /// The changes that approve `email`'s pending registration in `portal` (none when it
    /// is not pending, so a retried approval writes nothing) and the membership after them:
    /// the member stops being pending and joins the portal's registration groups as they
    /// are now, as entries owned live.
    ///
    /// # Errors
    /// No such portal or member.
    pub fn approval(&self, portal: &str, email: &str) -> Result<(Vec<Change>, Membership), ApprovalError> {
        let found = self
            .portals
            .get(portal)
            .ok_or_else(|| ApprovalError::NoPortal(portal.to_string()))?;
        let member = self
            .members
            .get(&(portal.to_string(), email.to_string()))
            .ok_or_else(|| ApprovalError::NoMember {
                portal: portal.to_string(),
                email: email.to_string(),
            })?;
        if !member.pending {
            return Ok((Vec::new(), member.clone()));
        }
        let mut approved = member.clone();
        approved.pending = false;
        let mut changes = vec![Change::Put {
            key: ResourceKey::Member {
                portal: portal.to_string(),
                email: email.to_string(),
            },
            value: ResourceValue::Member(approved.clone()),
        }];
        if let Some(registration) = &found.self_registration {
            changes.extend(self.join_live(&registration.groups, email));
        }
        Ok((changes, approved))
    }

    /// Puts of the groups among `names` that exist and do not list `email` yet, with it
    /// added as an entry owned live (what a registration joins).
    pub fn join_live(&self, names: &BTreeSet<String>, email: &str) -> Vec<Change> {
        names
            .iter()
            .filter_map(|name| {
                let mut group = self.groups.get(name)?.clone();
                group.join_live(email).then(|| Change::Put {
                    key: ResourceKey::Group(name.clone()),
                    value: ResourceValue::Group(group),
                })
            })
            .collect()
    }

    /// Whether the live side owns `key` in this state: a member who registered themselves
    /// (or awaits approval), or a group entry such a registration made. Absent keys are
    /// not owned live.
    pub fn is_live_owned(&self, key: LiveKey<'_>) -> bool {
        match key {
            LiveKey::Member { portal, email } => self
                .members
                .get(&(portal.to_string(), email.to_string()))
                .is_some_and(|member| member.live_origin().is_some()),
            LiveKey::GroupEntry { group, email } => self
                .groups
                .get(group)
                .is_some_and(|found| found.entry_is_live_owned(email)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(source: MemberSource, pending: bool) -> Membership {
        Membership {
            role: "viewer".into(),
            org: None,
            attributes: Default::default(),
            expires: None,
            source,
            pending,
        }
    }

    #[test]
    fn registrations_and_the_group_entries_they_made_are_owned_live() {
        let mut state = State::default();
        for (email, source, pending) in [
            ("a@x.com", MemberSource::Managed, false),
            ("b@x.com", MemberSource::SelfRegistration, false),
            ("c@x.com", MemberSource::SelfRegistration, true),
        ] {
            state
                .members
                .insert(("p".into(), email.into()), member(source, pending));
        }
        let mut group = Group::default();
        group.members.insert("a@x.com".into());
        assert!(group.join_live("b@x.com"));
        assert!(!group.join_live("a@x.com"), "a declared entry stays declared");
        state.groups.insert("g".into(), group);

        let member = |email| LiveKey::Member { portal: "p", email };
        let entry = |email| LiveKey::GroupEntry { group: "g", email };
        assert!(!state.is_live_owned(member("a@x.com")));
        assert!(state.is_live_owned(member("b@x.com")));
        assert!(state.is_live_owned(member("c@x.com")));
        assert!(!state.is_live_owned(member("nobody@x.com")));
        assert!(!state.is_live_owned(entry("a@x.com")));
        assert!(state.is_live_owned(entry("b@x.com")));
        assert!(!state.is_live_owned(LiveKey::GroupEntry {
            group: "none",
            email: "b@x.com"
        }));
        assert_eq!(
            state.members[&("p".to_string(), "c@x.com".to_string())].live_origin(),
            Some(LiveOrigin::Pending)
        );
    }
}
