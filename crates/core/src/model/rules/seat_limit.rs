//! Seat limits: a portal's `max_members` members, a partner org's `max_members` partners
//! across its portals; checked on a whole state, and on a batch by the members it adds.

use std::collections::{BTreeMap, BTreeSet};

use super::partner_portals::changed_partners;
use super::{Checker, RuleId, Violation, members_of_portal};
use crate::model::{Change, Pointer, ResourceKey, State};

impl Checker<'_> {
    /// The seat limit of one partner org: the partner past it is reported.
    pub(super) fn org_seats(&mut self, name: &str, org: &crate::model::PartnerOrg, at: &Pointer) {
        let Some(limit) = org.max_members else { return };
        if let Some((portals, changes)) = self.hint {
            // The kept partners of the org (before the batch), corrected by the partners
            // the batch writes: the size of the batch, and of the org only when it is over
            // its limit, never a pass over every membership.
            let changed = changed_partners(changes);
            let holds_here = |email: &str| {
                self.memberships(email)
                    .into_iter()
                    .find(|(_, member)| member.org.as_deref() == Some(name))
                    .map(|(portal, _)| portal)
            };
            let kept = portals.org_seats(name)
                - changed
                    .iter()
                    .filter(|email| portals.holds_seat(name, email))
                    .count();
            let seats = kept + changed.iter().filter(|email| holds_here(email).is_some()).count();
            if seats <= limit as usize {
                return;
            }
            // The partner past the limit, as the pass below meets it: partners in the order
            // of their first membership in the org, by (portal, email).
            let mut firsts: Vec<(&str, &str)> = portals
                .org_partners(name)
                .filter(|email| changed.binary_search(email).is_err())
                .chain(changed.iter().copied())
                .filter_map(|email| holds_here(email).map(|portal| (portal, email)))
                .collect();
            firsts.sort_unstable();
            let (portal, email) = firsts[limit as usize];
            self.org_seats_past(name, limit, firsts.len(), portal, email, at);
            return;
        }
        // Seats are partners: one in two portals takes one seat.
        let mut seats: BTreeSet<&str> = BTreeSet::new();
        let mut past = None;
        for ((portal, email), member) in &self.state.members {
            if member.org.as_deref() == Some(name) && seats.insert(email) && seats.len() == limit as usize + 1
            {
                past = Some((portal.as_str(), email.as_str()));
            }
        }
        if let Some((portal, email)) = past {
            self.org_seats_past(name, limit, seats.len(), portal, email, at);
        }
    }

    /// Reports the partner `email` (first met in `portal`) as past the org's limit.
    fn org_seats_past(
        &mut self,
        name: &str,
        limit: u32,
        seats: usize,
        portal: &str,
        email: &str,
        at: &Pointer,
    ) {
        self.push(
            Violation::error(
                RuleId::OrgSeatLimit,
                Pointer::member(portal, email),
                format!("partner org `{name}` allows {limit} partner(s) across its portals; it has {seats}"),
            )
            .with_hint(Some("raise the org's `max_members` or remove partners".into()))
            .with_related(at.join("max_members"), "the limit"),
        );
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

/// As [`seat_limit_errors`], finding partners' memberships and orgs' seats through `kept`,
/// kept for `before`: an org's seats cost the batch, not a pass over every membership.
pub fn seat_limit_errors_with(
    before: &State,
    after: &State,
    changes: &[Change],
    kept: Option<&super::PartnerPortals>,
) -> Vec<Violation> {
    let hint = kept.map(|kept| (kept, changes));
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
    let orgs: BTreeMap<String, isize> = candidate_orgs
        .into_iter()
        .map(|org| {
            let gain: isize = partners
                .iter()
                .map(|email| isize::from(holds(after, email, &org)) - isize::from(holds(before, email, &org)))
                .sum();
            (org, gain)
        })
        .filter(|(_, gain)| *gain > 0)
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
        .keys()
        .filter_map(|org| {
            let limit = after.partner_orgs.get(org).and_then(|o| o.max_members)?;
            Some((org.clone(), limit))
        })
        .collect();
    if let Some(kept) = kept {
        // The kept partners count the seats before; the batch's partners are every
        // partner whose seats changed, so their gain is the whole difference.
        for (org, &limit) in &limited {
            let seats_before = kept.org_seats(org);
            let count = seats_before.saturating_add_signed(orgs[org]);
            if count > limit as usize {
                out.push(org_over_limit(org, limit, count));
            }
        }
        return out;
    }
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
            out.push(org_over_limit(org, limit, count));
        }
    }
    out
}

fn org_over_limit(org: &str, limit: u32, count: usize) -> Violation {
    Violation::error(
        RuleId::OrgSeatLimit,
        Pointer::root().join("partner_orgs").join(org).join("max_members"),
        format!("partner org `{org}` allows {limit} partner(s) across its portals; this would make {count}"),
    )
}
