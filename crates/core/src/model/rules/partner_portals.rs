//! `PartnerPortals`: the portals each email has a membership in, and the partners of each
//! org, kept beside a state by the store so that the rules find one partner's memberships
//! in a lookup instead of one seek per portal (issue 26: at 1,000 portals that seek loop
//! was most of a small write), and count an org's seats without a pass over every
//! membership (issue 26: 2–4 ms of every `org PUT` with a seat limit at 100k), and
//! know without a pass over every membership that an attribute made stricter breaks no
//! partner (issue 26: that pass was 21–25 ms of such a write at 100k).

use rustc_hash::FxHashMap;

use std::hash::{Hash, Hasher};

use crate::model::{AttributeValue, Change, Membership, ResourceKey, ResourceValue, State, VecSet};

/// Buckets of string values counted per attribute: enough that an enum's few values
/// rarely share one (sharing only costs the pass the counts stand in for).
const VALUE_BUCKETS: usize = 1024;

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
    /// How many memberships there are.
    memberships: usize,
    /// Per attribute name some membership carries a value for: who carries it.
    attributes: FxHashMap<String, Carriers>,
}

/// The memberships carrying a value for one attribute: how many, and how many of their
/// string values fall in each bucket of the value's hash. A bucket at zero proves that no
/// membership holds a value; one above zero only says that one may.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Carriers {
    memberships: usize,
    string_values: Box<[u32]>,
}

impl Default for Carriers {
    fn default() -> Self {
        Self {
            memberships: 0,
            string_values: vec![0; VALUE_BUCKETS].into_boxed_slice(),
        }
    }
}

/// The bucket of a string value: FxHash, deterministic, so that kept counts equal rebuilt
/// ones; its keys are values the workspace's own members carry, and a crafted collision
/// costs a pass, never a wrong answer.
fn value_bucket(value: &str) -> usize {
    let mut hasher = rustc_hash::FxHasher::default();
    value.hash(&mut hasher);
    (hasher.finish() % VALUE_BUCKETS as u64) as usize
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
            partners.count_membership(member, 1);
        }
        partners
    }

    /// Adds (`step` 1) or takes away (`step` -1) one membership and its values.
    fn count_membership(&mut self, member: &Membership, step: isize) {
        self.memberships = self.memberships.saturating_add_signed(step);
        for (name, value) in member.attributes.iter() {
            let carriers = match self.attributes.get_mut(name.as_str()) {
                Some(carriers) => carriers,
                None => self.attributes.entry(name.clone()).or_default(),
            };
            carriers.memberships = carriers.memberships.saturating_add_signed(step);
            if let AttributeValue::String(value) = value {
                let bucket = &mut carriers.string_values[value_bucket(value)];
                *bucket = if step > 0 {
                    bucket.saturating_add(1)
                } else {
                    bucket.saturating_sub(1)
                };
            }
            if carriers.memberships == 0 {
                self.attributes.remove(name.as_str());
            }
        }
    }

    /// How many memberships there are.
    pub(super) fn memberships(&self) -> usize {
        self.memberships
    }

    /// How many memberships carry a value for the attribute `name`.
    pub(super) fn carriers(&self, name: &str) -> usize {
        self.attributes
            .get(name)
            .map_or(0, |carriers| carriers.memberships)
    }

    /// Whether some membership may carry the string `value` for the attribute `name`:
    /// `false` is certain, `true` is "perhaps".
    pub(super) fn may_carry(&self, name: &str, value: &str) -> bool {
        self.attributes
            .get(name)
            .is_some_and(|carriers| carriers.string_values[value_bucket(value)] > 0)
    }

    /// Records the membership `key` going from `old` to `new` (other keys are ignored).
    pub fn update(&mut self, key: &ResourceKey, old: Option<&ResourceValue>, new: Option<&ResourceValue>) {
        let ResourceKey::Member { portal, email } = key else {
            return;
        };
        fn member_of(value: Option<&ResourceValue>) -> Option<&Membership> {
            match value {
                Some(ResourceValue::Member(member)) => Some(member),
                _ => None,
            }
        }
        let org_of = |value| member_of(value).and_then(|member| member.org.as_deref());
        if let Some(member) = member_of(old) {
            self.count_membership(member, -1);
        }
        if let Some(member) = member_of(new) {
            self.count_membership(member, 1);
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
