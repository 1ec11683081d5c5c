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
    let mut portals = BTreeSet::new();
    let mut orgs = BTreeSet::new();
    for change in changes {
        if let ResourceKey::Member { portal, email } = change.key() {
            portals.insert(portal.clone());
            if let Some(org) = after
                .members
                .get(&(portal.clone(), email.clone()))
                .and_then(|member| member.org.clone())
            {
                orgs.insert(org);
            }
        }
    }
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
