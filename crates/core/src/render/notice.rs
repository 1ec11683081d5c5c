//! Notices: what a reviewer should know besides the changes: expired grants, grants
//! expiring soon, self-registered members that are not in git, registrations awaiting
//! approval. Shared by every format so they all say the same thing.
//!
//! **Architecture invariant:** no I/O; notices come in a fixed order (expired, expiring
//! soon, self-registered, pending registrations, members managed by their org, group
//! entries owned live; each sorted by key).

use std::collections::BTreeSet;

use crate::model::ResourceKey;
use crate::plan::{Action, Expired, ExpiringSoon, ManagedByOrg, Plan, RegistrationModelChange, SeatsLeft};

/// One thing to tell the reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice<'a> {
    /// A grant in the config past its `expires` day; `removed` when this plan deletes it
    /// from the live side.
    Expired {
        expired: &'a Expired,
        removed: bool,
    },
    ExpiringSoon(&'a ExpiringSoon),
    /// A live self-registered member the config does not list: kept.
    SelfRegisteredNotInGit {
        portal: &'a str,
        email: &'a str,
    },
    /// Live registrations awaiting approval that the config does not list, as
    /// `(portal, email)`: kept, granting nothing. One notice for all of them.
    PendingRegistrations(&'a [(String, String)]),
    /// Live members that their partner org added (partner admins, SCIM) and the config
    /// does not list: owned live, kept. One notice for all of them.
    PartnerManaged(&'a [ManagedByOrg]),
    /// Live group entries that registrations made and the config does not declare, as
    /// `(group, email)`: owned live, kept. One notice for all of them.
    LiveGroupEntries(&'a [(String, String)]),
    /// A portal or partner org using 90% or more of its seats.
    SeatsLeft(&'a SeatsLeft),
    /// A self-registration model's groups change: who registered before keeps theirs.
    RegistrationModel(&'a RegistrationModelChange),
}

impl Notice<'_> {
    /// Every notice of a plan, in order.
    pub fn all(plan: &Plan) -> Vec<Notice<'_>> {
        let deleted: BTreeSet<&ResourceKey> = plan
            .resources
            .iter()
            .filter(|change| change.action == Action::Delete)
            .map(|change| &change.key)
            .collect();
        let expired = plan.expired.iter().map(|expired| Notice::Expired {
            expired,
            removed: deleted.contains(&expired.key),
        });
        let soon = plan.expiring_soon.iter().map(Notice::ExpiringSoon);
        let self_registered = plan
            .self_registered_not_in_git
            .iter()
            .map(|(portal, email)| Notice::SelfRegisteredNotInGit { portal, email });
        let pending = (!plan.pending_registrations.is_empty())
            .then_some(Notice::PendingRegistrations(&plan.pending_registrations));
        let managed =
            (!plan.partner_managed.is_empty()).then_some(Notice::PartnerManaged(&plan.partner_managed));
        let entries = (!plan.live_group_entries.is_empty())
            .then_some(Notice::LiveGroupEntries(&plan.live_group_entries));
        let seats = plan.seats_nearly_used.iter().map(Notice::SeatsLeft);
        let models = plan
            .registration_model_changes
            .iter()
            .map(Notice::RegistrationModel);
        expired
            .chain(soon)
            .chain(self_registered)
            .chain(pending)
            .chain(managed)
            .chain(entries)
            .chain(seats)
            .chain(models)
            .collect()
    }

    /// The kind of notice as the JSON `type` says it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "expired",
            Self::ExpiringSoon(_) => "expiring_soon",
            Self::SelfRegisteredNotInGit { .. } => "self_registered_not_in_git",
            Self::PendingRegistrations(_) => "pending_registrations",
            Self::PartnerManaged(_) => "partner_managed",
            Self::LiveGroupEntries(_) => "live_group_entries",
            Self::SeatsLeft(_) => "seats_left",
            Self::RegistrationModel(_) => "registration_model",
        }
    }

    /// One line for a person.
    pub fn message(&self) -> String {
        match self {
            Self::Expired {
                expired,
                removed: true,
            } => {
                format!("{} expired {}: this plan removes it", expired.key, expired.day)
            }
            Self::Expired {
                expired,
                removed: false,
            } => format!(
                "{} expired {} and grants nothing: remove it from the config",
                expired.key, expired.day
            ),
            Self::ExpiringSoon(soon) => match soon.days_left {
                0 => format!("{} expires {}: today is its last day", soon.key, soon.day),
                1 => format!("{} expires {}, in 1 day", soon.key, soon.day),
                days => format!("{} expires {}, in {days} days", soon.key, soon.day),
            },
            Self::SelfRegisteredNotInGit { portal, email } => format!(
                "member {email} in portal {portal} is self-registered, not in git: it is kept; adopt it with `portalctl import`"
            ),
            Self::PendingRegistrations(pending) => pending_message(pending),
            Self::PartnerManaged(managed) => format!("{} (owned live, kept)", managed_list(managed)),
            Self::LiveGroupEntries(entries) => {
                let listed: Vec<String> = entries
                    .iter()
                    .map(|(group, email)| format!("{email} in group {group}"))
                    .collect();
                format!(
                    "{} that registrations made {} kept (owned live, not in git): {}",
                    if entries.len() == 1 {
                        "1 group entry".to_string()
                    } else {
                        format!("{} group entries", entries.len())
                    },
                    if entries.len() == 1 { "is" } else { "are" },
                    listed.join(", ")
                )
            }
            Self::SeatsLeft(seats) => format!(
                "{} uses {} of {} seats: {} left",
                seats.what,
                seats.used,
                seats.limit,
                seats.limit.saturating_sub(seats.used)
            ),
            Self::RegistrationModel(model) => {
                let mut changes = Vec::new();
                if !model.groups_added.is_empty() {
                    changes.push(format!("joins {}", model.groups_added.join(", ")));
                }
                if !model.groups_removed.is_empty() {
                    changes.push(format!("no longer joins {}", model.groups_removed.join(", ")));
                }
                let who = match model.self_registered.len() {
                    0 => "no partner has registered yet".to_string(),
                    1 => format!("{} registered before and is not moved", model.self_registered[0]),
                    n => format!(
                        "the {n} who registered before ({}) are not moved",
                        model.self_registered.join(", ")
                    ),
                };
                format!(
                    "self-registration in portal {} now {}: partners who register from now on; {who} (list them under the group to change their access)",
                    model.portal,
                    changes.join(" and ")
                )
            }
        }
    }
}

/// `2 members managed by their partner org: a@globex.com in portal globex (managed by
/// globex), ...`.
pub fn managed_list(managed: &[ManagedByOrg]) -> String {
    let listed: Vec<String> = managed
        .iter()
        .map(|member| {
            format!(
                "{} in portal {} (managed by {})",
                member.email, member.portal, member.org
            )
        })
        .collect();
    let count = match managed.len() {
        1 => "1 member".to_string(),
        n => format!("{n} members"),
    };
    format!("{count} managed by their partner org: {}", listed.join(", "))
}

/// `2 registrations awaiting approval: a@x.com in portal globex, b@x.com in portal globex;
/// approve with ... or adopt them in git`.
pub(crate) fn pending_message(pending: &[(String, String)]) -> String {
    let them = if pending.len() == 1 { "it" } else { "them" };
    format!(
        "{} (granting nothing, kept); {} or adopt {them} in git",
        pending_list(pending),
        approve_hint(pending)
    )
}

/// How to approve the registrations: the real command for one, the command's form (with
/// the first as an example) for several.
pub fn approve_hint(pending: &[(String, String)]) -> String {
    match pending {
        [] => String::new(),
        [(portal, email)] => format!("approve with `portalctl approve {portal} {email}`"),
        [(portal, email), ..] => format!(
            "approve each with `portalctl approve PORTAL EMAIL` (e.g. `portalctl approve {portal} {email}`)"
        ),
    }
}

/// `2 registrations awaiting approval: a@x.com in portal globex, b@x.com in portal globex`.
pub fn pending_list(pending: &[(String, String)]) -> String {
    let listed: Vec<String> = pending
        .iter()
        .map(|(portal, email)| format!("{email} in portal {portal}"))
        .collect();
    let count = match pending.len() {
        1 => "1 registration".to_string(),
        n => format!("{n} registrations"),
    };
    format!("{count} awaiting approval: {}", listed.join(", "))
}
