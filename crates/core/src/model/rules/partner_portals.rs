//! `PartnerPortals`: the portals each email has a membership in, and the partners of each
//! org, kept beside a state by the store so that the rules find one partner's memberships
//! in a lookup instead of one seek per portal (issue 26: at 1,000 portals that seek loop
//! was most of a small write), and count an org's seats without a pass over every
//! membership (issue 26: 2–4 ms of every `org PUT` with a seat limit at 100k).

use rustc_hash::FxHashMap;

use crate::model::{Change, ResourceKey, ResourceValue, State, VecSet};

/// Every email with a membership, and the portals it has one in (pending and expired
/// memberships included: the rules judge those too); every org named by a membership, and
/// the emails whose memberships name it.
///
/// # Guarantees
/// Building costs one pass over the memberships; [`PartnerPortals::update`] costs one
/// membership. After updates for every member key a batch wrote, it equals one built from
/// the resulting state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerPortals {
    by_email: FxHashMap<String, VecSet<String>>,
    /// Per org, each partner and how many of its memberships name the org (a seat is a
    /// partner, not a membership: one in two portals takes one).
    by_org: FxHashMap<String, FxHashMap<String, u32>>,
}

impl PartnerPortals {
    pub fn new(state: &State) -> Self {
        let mut partners = Self::default();
        for ((portal, email), member) in &state.members {
            partners
                .by_email
                .entry(email.clone())
                .or_default()
                .insert(portal.clone());
            if let Some(org) = &member.org {
                partners.add_seat(org, email);
            }
        }
        partners
    }

    /// Records the membership `key` going from `old` to `new` (other keys are ignored).
    pub fn update(&mut self, key: &ResourceKey, old: Option<&ResourceValue>, new: Option<&ResourceValue>) {
        let ResourceKey::Member { portal, email } = key else {
            return;
        };
        fn org_of(value: Option<&ResourceValue>) -> Option<&str> {
            match value {
                Some(ResourceValue::Member(member)) => member.org.as_deref(),
                _ => None,
            }
        }
        if new.is_some() {
            self.by_email
                .entry(email.clone())
                .or_default()
                .insert(portal.clone());
        } else if let Some(portals) = self.by_email.get_mut(email) {
            portals.remove(portal);
            if portals.is_empty() {
                self.by_email.remove(email);
            }
        }
        if let Some(org) = org_of(old)
            && let Some(partners) = self.by_org.get_mut(org)
            && let Some(memberships) = partners.get_mut(email)
        {
            *memberships -= 1;
            if *memberships == 0 {
                partners.remove(email);
                if partners.is_empty() {
                    self.by_org.remove(org);
                }
            }
        }
        if let Some(org) = org_of(new) {
            self.add_seat(org, email);
        }
    }

    fn add_seat(&mut self, org: &str, email: &str) {
        let partners = match self.by_org.get_mut(org) {
            Some(partners) => partners,
            None => self.by_org.entry(org.to_string()).or_default(),
        };
        match partners.get_mut(email) {
            Some(memberships) => *memberships += 1,
            None => {
                partners.insert(email.to_string(), 1);
            }
        }
    }

    /// The emails with a membership naming `org`, in no order.
    pub(super) fn org_partners(&self, org: &str) -> impl Iterator<Item = &str> {
        self.by_org
            .get(org)
            .into_iter()
            .flat_map(|partners| partners.keys().map(String::as_str))
    }

    /// How many partners `org` has: its seats.
    pub(super) fn org_seats(&self, org: &str) -> usize {
        self.by_org.get(org).map_or(0, FxHashMap::len)
    }

    /// Whether a membership of `email` names `org`.
    pub(super) fn holds_seat(&self, org: &str, email: &str) -> bool {
        self.by_org
            .get(org)
            .is_some_and(|partners| partners.contains_key(email))
    }

    /// The portals where `email` may have a membership in the state these portals were
    /// kept for, or in that state after `changes`: a superset, in order.
    pub(super) fn candidates<'c>(&'c self, email: &str, changes: &'c [Change]) -> Vec<&'c str> {
        let mut portals: Vec<&str> = self
            .by_email
            .get(email)
            .map(|portals| portals.iter().map(String::as_str).collect())
            .unwrap_or_default();
        for change in changes {
            if let ResourceKey::Member {
                portal,
                email: changed,
            } = change.key()
                && changed == email
            {
                portals.push(portal);
            }
        }
        portals.sort_unstable();
        portals.dedup();
        portals
    }
}

/// The emails whose memberships `changes` writes, each once, in order.
pub(super) fn changed_partners(changes: &[Change]) -> Vec<&str> {
    let mut emails: Vec<&str> = changes
        .iter()
        .filter_map(|change| match change.key() {
            ResourceKey::Member { email, .. } => Some(email.as_str()),
            _ => None,
        })
        .collect();
    emails.sort_unstable();
    emails.dedup();
    emails
}
