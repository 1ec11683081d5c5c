//! `PartnerPortals`: the portals each email has a membership in, kept beside a state by the
//! store so that the rules find one partner's memberships in a lookup instead of one seek
//! per portal (issue 26: at 1,000 portals that seek loop was most of a small write).

use rustc_hash::FxHashMap;

use crate::model::{Change, ResourceKey, State, VecSet};

/// Every email with a membership, and the portals it has one in (pending and expired
/// memberships included: the rules judge those too).
///
/// # Guarantees
/// Building costs one pass over the memberships; [`PartnerPortals::update`] costs one
/// membership. After updates for every member key a batch wrote, it equals one built from
/// the resulting state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerPortals {
    by_email: FxHashMap<String, VecSet<String>>,
}

impl PartnerPortals {
    pub fn new(state: &State) -> Self {
        let mut by_email: FxHashMap<String, VecSet<String>> = FxHashMap::default();
        for (portal, email) in state.members.keys() {
            by_email.entry(email.clone()).or_default().insert(portal.clone());
        }
        Self { by_email }
    }

    /// Records whether the membership `key` exists now (other keys are ignored).
    pub fn update(&mut self, key: &ResourceKey, present: bool) {
        let ResourceKey::Member { portal, email } = key else {
            return;
        };
        if present {
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
