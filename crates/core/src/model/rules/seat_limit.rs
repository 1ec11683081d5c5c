//! Seat limits: a portal's `max_members` members, a partner org's `max_members` partners
//! across its portals; checked on a whole state, and on a batch by the members it adds.

use std::collections::{BTreeMap, BTreeSet};

use super::{Checker, RuleId, Violation, members_of_portal};
use crate::model::{Change, Pointer, ResourceKey, State};

impl Checker<'_> {
    /// The seat limit of one partner org: the partner past it is reported.
    pub(super) fn org_seats(&mut self, name: &str, org: &crate::model::PartnerOrg, at: &Pointer) {
        if let Some(limit) = org.max_members {
            // Seats are partners: one in two portals takes one seat.
            let mut seats: BTreeSet<&str> = BTreeSet::new();
            let mut past = None;
            for ((portal, email), member) in &self.state.members {
                if member.org.as_deref() == Some(name)
                    && seats.insert(email)
                    && seats.len() == limit as usize + 1
                {
                    past = Some((portal.as_str(), email.as_str()));
                }
            }
            if let Some((portal, email)) = past {
                self.push(
                    Violation::error(
                        RuleId::OrgSeatLimit,
                        Pointer::member(portal, email),
                        format!(
                            "partner org `{name}` allows {limit} partner(s) across its portals; it has {}",
                            seats.len()
                        ),
                    )
                    .with_hint(Some("raise the org's `max_members` or remove partners".into()))
                    .with_related(at.join("max_members"), "the limit"),
                );
            }
        }
    }

    /// The seat limit of one portal: the member past it is reported (members in email
    /// order; `validate` moves the report to the first member past it in file order, so
    /// the message names no email: "this" is whichever member the report points at).
    pub(super) fn portal_seats(&mut self, technical_name: &str, portal: &crate::model::Portal) {
        let Some(limit) = portal.max_members else { return };
        let limit = limit as usize;
        let mut members = members_of_portal(self.state, technical_name);
        let Some((email, _)) = members.nth(limit) else {
            return;
        };
        let count = limit + 1 + members.count();
        self.push(
            Violation::error(
                RuleId::PortalSeatLimit,
                Pointer::member(technical_name, email),
                format!(
                    "portal `{technical_name}` allows {limit} member(s) and has {count}: this is member {}",
                    limit + 1
                ),
            )
            .with_hint(Some("raise `max_members` or remove members".into()))
            .with_related(
                Pointer::root()
                    .join("portals")
                    .join(technical_name)
                    .join("max_members"),
                "the limit",
            ),
        );
    }
}

/// Seat limits a batch passes: a portal or partner org that is over its `max_members`
/// after the batch and has more members than before (so removing members from a portal
/// that is already over its limit is allowed). The service answers these with 409.
pub fn seat_limit_errors(before: &State, after: &State, changes: &[Change]) -> Vec<Violation> {
    seat_limit_errors_with(before, after, changes, None)
}

/// As [`seat_limit_errors`], finding partners' memberships through `portals`, kept for
/// `before`.
pub fn seat_limit_errors_with(
    before: &State,
    after: &State,
    changes: &[Change],
    portals: Option<&super::PartnerPortals>,
) -> Vec<Violation> {
    let hint = portals.map(|portals| (portals, changes));
    // Only a portal or org that gains seats can pass its limit: the batch's own keys say
    // which do (one lookup per change, a few per partner), so the members of the state are
    // counted only for a limited portal or org the batch adds seats to, never for a
    // batch that removes or edits members.
    let mut keys: BTreeSet<(&String, &String)> = BTreeSet::new();
    for change in changes {
        if let ResourceKey::Member { portal, email } = change.key() {
            keys.insert((portal, email));
        }
    }
    let mut portal_gain: BTreeMap<&str, isize> = BTreeMap::new();
    let mut partners: BTreeSet<&str> = BTreeSet::new();
    let mut candidate_orgs: BTreeSet<String> = BTreeSet::new();
    for &(portal, email) in &keys {
        let key = (portal.clone(), email.clone());
        let (old, new) = (before.members.get(&key), after.members.get(&key));
        if after.portals.get(portal).is_some_and(|p| p.max_members.is_some()) {
            *portal_gain.entry(portal.as_str()).or_default() +=
                isize::from(new.is_some()) - isize::from(old.is_some());
        }
        partners.insert(email.as_str());
        for member in [old, new].into_iter().flatten() {
            if let Some(org) = &member.org
                && after
                    .partner_orgs
                    .get(org)
                    .is_some_and(|o| o.max_members.is_some())
            {
                candidate_orgs.insert(org.clone());
            }
        }
    }
    let portals: BTreeSet<String> = portal_gain
        .into_iter()
        .filter(|(_, gain)| *gain > 0)
        .map(|(portal, _)| portal.to_string())
        .collect();
    // An org gains a seat when one of the batch's partners holds it after and not before.
    let holds = |state: &State, email: &str, org: &str| {
        super::memberships_in(state, email, hint)
            .iter()
            .any(|(_, member)| member.org.as_deref() == Some(org))
    };
    let orgs: BTreeSet<String> = candidate_orgs
        .into_iter()
        .filter(|org| {
            let gain: isize = partners
                .iter()
                .map(|email| isize::from(holds(after, email, org)) - isize::from(holds(before, email, org)))
                .sum();
            gain > 0
        })
        .collect();
    let mut out = Vec::new();
    for portal in portals {
        let Some(limit) = after.portals.get(&portal).and_then(|p| p.max_members) else {
            continue;
        };
        let count = members_of_portal(after, &portal).count();
        if count > limit as usize && count > members_of_portal(before, &portal).count() {
            out.push(Violation::error(
                RuleId::PortalSeatLimit,
                Pointer::root().join("portals").join(&portal).join("max_members"),
                format!("portal `{portal}` allows {limit} member(s); this would make {count}"),
            ));
        }
    }
    let limited: BTreeMap<String, u32> = orgs
        .into_iter()
        .filter_map(|org| {
            let limit = after.partner_orgs.get(&org).and_then(|o| o.max_members)?;
            Some((org, limit))
        })
        .collect();
    // The distinct partners of each limited org, in one pass over a state's members (not
    // one per org: a batch may touch thousands of limited orgs).
    fn org_seats<'s>(state: &'s State, limited: &BTreeMap<String, u32>) -> BTreeMap<&'s str, usize> {
        let mut partners: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        if !limited.is_empty() {
            for ((_, email), member) in &state.members {
                if let Some(org) = member.org.as_deref().filter(|org| limited.contains_key(*org)) {
                    partners.entry(org).or_default().insert(email.as_str());
                }
            }
        }
        partners
            .into_iter()
            .map(|(org, emails)| (org, emails.len()))
            .collect()
    }
    let (seats_after, seats_before) = (org_seats(after, &limited), org_seats(before, &limited));
    for (org, &limit) in &limited {
        let count = seats_after.get(org.as_str()).copied().unwrap_or(0);
        if count > limit as usize && count > seats_before.get(org.as_str()).copied().unwrap_or(0) {
            out.push(Violation::error(
                RuleId::OrgSeatLimit,
                Pointer::root().join("partner_orgs").join(org).join("max_members"),
                format!("partner org `{org}` allows {limit} partner(s) across its portals; this would make {count}"),
            ));
        }
    }
    out
}
