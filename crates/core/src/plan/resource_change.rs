//! The plan itself: the resource changes that take the live state to the desired one,
//! in the order they must be applied, plus what a reviewer should know besides.
//!
//! **Architecture invariant:** plain data, no I/O. The raw `before`/`after` values are
//! here so that [`Plan::changes`] can build the wire changes; anything shown to a person
//! must come from [`ResourceChange::fields`], where sensitive values are already masked.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use super::{Expired, ExpiringSoon, FieldChange, Summary};
use crate::member_mail::MailCounts;
use crate::model::{CalendarDate, Change, Kind, ResourceKey, ResourceValue, State};

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    /// The Terraform-like sign: `+`, `~` or `-`.
    pub fn sign(self) -> char {
        match self {
            Self::Create => '+',
            Self::Update => '~',
            Self::Delete => '-',
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource created, updated or deleted. Its `Debug` output leaves out the raw
/// values, so logging a plan cannot leak a sensitive one.
#[derive(Clone, PartialEq, Eq)]
pub struct ResourceChange {
    pub key: ResourceKey,
    pub action: Action,
    /// The live value; `None` for a create. Raw: may hold sensitive values.
    pub before: Option<ResourceValue>,
    /// The desired value; `None` for a delete. Raw: may hold sensitive values.
    pub after: Option<ResourceValue>,
    /// Why the change happens when the reason is not simply "the config says so".
    pub reason: Option<ChangeReason>,
    /// The attribute keys whose member values [`ResourceChange::fields`] masks; one set
    /// shared by every change of a plan.
    sensitive: Arc<BTreeSet<String>>,
}

/// Why a resource is deleted although the config may still list it, or although the
/// service added it (a self-registered member); or what an update means besides its
/// fields (a listing that approves a pending registration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeReason {
    /// The grant's `expires` day has passed.
    Expired(CalendarDate),
    /// A self-registered member whose portal the plan removes.
    PortalRemoved(String),
    /// A self-registered member whose partner org the plan removes.
    PartnerOrgRemoved(String),
    /// A member its partner org added, whose org no longer delegates the portal
    /// (`self_management` removed, or the portal left its `portals`).
    DelegationWithdrawn(String),
    /// An update of a live member whose registration awaits approval: the config lists
    /// it, so the plan approves it (`pending: true → false`).
    ApprovesRegistration,
}

impl fmt::Display for ChangeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Expired(day) => write!(f, "expired {day}"),
            Self::PortalRemoved(portal) => write!(f, "portal {portal} is removed"),
            Self::PartnerOrgRemoved(org) => write!(f, "partner org {org} is removed"),
            Self::DelegationWithdrawn(org) => {
                write!(f, "partner org {org} no longer manages its people here")
            }
            Self::ApprovesRegistration => f.write_str("approve pending registration"),
        }
    }
}

impl ResourceChange {
    /// `sensitive`: the attribute keys whose member values are masked in [`Self::fields`].
    pub fn new(
        key: ResourceKey,
        before: Option<ResourceValue>,
        after: Option<ResourceValue>,
        reason: Option<ChangeReason>,
        sensitive: Arc<BTreeSet<String>>,
    ) -> Self {
        let action = match (&before, &after) {
            (None, _) => Action::Create,
            (Some(_), Some(_)) => Action::Update,
            (Some(_), None) => Action::Delete,
        };
        Self {
            key,
            action,
            before,
            after,
            reason,
            sensitive,
        }
    }

    pub fn kind(&self) -> Kind {
        self.key.kind()
    }

    /// What a person sees: every field of a created or deleted resource, the changed
    /// fields of an updated one, sensitive values masked.
    ///
    /// Built on each call rather than kept: a plan that creates 100k partners would
    /// otherwise hold every field of every one as JSON (most of `apply`'s peak memory),
    /// while renderers read each change's fields once and `apply` in a pipeline reads
    /// none.
    pub fn fields(&self) -> Vec<FieldChange> {
        super::field::between(self.before.as_ref(), self.after.as_ref(), &self.sensitive)
    }

    /// The wire change that performs this resource change.
    pub fn to_change(&self) -> Change {
        match (&self.action, &self.after) {
            (Action::Create | Action::Update, Some(value)) => Change::Put {
                key: self.key.clone(),
                value: value.clone(),
            },
            _ => Change::Delete {
                key: self.key.clone(),
            },
        }
    }
}

impl fmt::Debug for ResourceChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceChange")
            .field("key", &self.key)
            .field("action", &self.action)
            .field("fields", &self.fields())
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// The difference between a live and a desired state, ready to render and to apply.
///
/// # Guarantees
/// - `resources` is in apply order: creates and updates first, parents before children
///   (kind order: workspace, attribute, role, partner_org, portal, member, group, folder,
///   share; by key within a kind, extended roles before the roles that extend them);
///   then deletes, children before parents (the reverse order). Every delete of a child
///   comes before the delete of its parent.
/// - Applying [`Plan::changes`] to the live state gives the desired state, except for
///   what the live side owns and the config does not list, which is kept (see
///   [`Plan::self_registered_not_in_git`], [`Plan::pending_registrations`],
///   [`Plan::partner_managed`] and
///   [`Plan::live_group_entries`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub resources: Vec<ResourceChange>,
    /// Live members who joined through self-registration and that the config does not
    /// list, as `(portal, email)`, sorted. They are kept, not deleted; `import` adopts them.
    pub self_registered_not_in_git: Vec<(String, String)>,
    /// Live registrations awaiting approval (`pending: true`) that the config does not
    /// list, as `(portal, email)`, sorted. They grant nothing and are kept, not deleted:
    /// an admin approves them through the API, or the config adopts them by listing them.
    pub pending_registrations: Vec<(String, String)>,
    /// Live members that their partner org added (a partner admin or SCIM) and the config
    /// does not list, sorted: owned live, kept ("managed by globex").
    pub partner_managed: Vec<ManagedByOrg>,
    /// Live group entries that a registration made (owned live) and the config does not
    /// declare, as `(group, email)`, sorted. They are kept, not removed.
    pub live_group_entries: Vec<(String, String)>,
    /// Grants in the config past their `expires` day, sorted by key. Those still live
    /// are deleted by this plan, with the reason `expired <day>`.
    pub expired: Vec<Expired>,
    /// Grants in the config that expire within [`super::expiry::EXPIRING_SOON_DAYS`] days.
    pub expiring_soon: Vec<ExpiringSoon>,
    /// Attribute keys declared `sensitive: true` in either state: their values are
    /// masked in `fields` and in saved plan files.
    pub sensitive_attributes: BTreeSet<String>,
    /// Portals and partner orgs of the config at 90% or more of their `max_members`.
    pub seats_nearly_used: Vec<SeatsLeft>,
    /// Portals whose self-registration groups change, with the live members who joined
    /// through self-registration: the change reaches partners who register later, not them.
    pub registration_model_changes: Vec<RegistrationModelChange>,
    /// The mail applying the plan sends (`crate::member_mail`): invitations to the members
    /// it adds, results to the registrations it approves, removal notices.
    pub mail: MailCounts,
}

/// A live member that its partner org manages: `email` in `portal`, managed by `org`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ManagedByOrg {
    pub portal: String,
    pub email: String,
    pub org: String,
}

/// A self-registration model whose groups change, and who it does not move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationModelChange {
    pub portal: String,
    pub groups_added: Vec<String>,
    pub groups_removed: Vec<String>,
    /// Live members of the portal who joined through self-registration, sorted.
    pub self_registered: Vec<String>,
}

impl RegistrationModelChange {
    /// The model changes between `live` and `desired`, by portal.
    pub fn of(live: &crate::model::State, desired: &crate::model::State) -> Vec<Self> {
        let groups = |state: &crate::model::State, portal: &str| -> BTreeSet<String> {
            state
                .portals
                .get(portal)
                .and_then(|p| p.self_registration.as_ref())
                .map(|r| r.groups.clone())
                .unwrap_or_default()
        };
        let mut out = Vec::new();
        for name in desired
            .portals
            .keys()
            .filter(|name| live.portals.contains_key(*name))
        {
            let (before, after) = (groups(live, name), groups(desired, name));
            if before == after {
                continue;
            }
            let self_registered = live
                .members
                .range((name.clone(), String::new())..)
                .take_while(|((portal, _), _)| portal == name)
                .filter(|(_, m)| m.source == crate::model::MemberSource::SelfRegistration)
                .map(|((_, email), _)| email.clone())
                .collect();
            out.push(Self {
                portal: name.clone(),
                groups_added: after.difference(&before).cloned().collect(),
                groups_removed: before.difference(&after).cloned().collect(),
                self_registered,
            });
        }
        out
    }
}

/// A seat limit close to full in the desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatsLeft {
    /// `portal globex` or `partner org globex`.
    pub what: String,
    pub used: u32,
    pub limit: u32,
}

impl SeatsLeft {
    /// Seats used from this share of the limit on are worth a notice.
    pub const NOTICE_PERCENT: u64 = 90;

    /// The limits of `state` at [`Self::NOTICE_PERCENT`] or more, portals first.
    pub fn of(state: &crate::model::State) -> Vec<Self> {
        let near = |used: usize, limit: u32| (used as u64) * 100 >= u64::from(limit) * Self::NOTICE_PERCENT;
        let mut out = Vec::new();
        for (name, portal) in &state.portals {
            let Some(limit) = portal.max_members else { continue };
            let used = state
                .members
                .range((name.clone(), String::new())..)
                .take_while(|((p, _), _)| p == name)
                .count();
            if near(used, limit) {
                out.push(Self {
                    what: format!("portal {name}"),
                    used: u32::try_from(used).unwrap_or(u32::MAX),
                    limit,
                });
            }
        }
        // The partners of every org with a limit, in one pass over the members (not one
        // per org: thousands of limited orgs times a million members).
        let mut partners: BTreeMap<&str, BTreeSet<&str>> = state
            .partner_orgs
            .iter()
            .filter(|(_, org)| org.max_members.is_some())
            .map(|(name, _)| (name.as_str(), BTreeSet::new()))
            .collect();
        if !partners.is_empty() {
            for ((_, email), member) in &state.members {
                if let Some(emails) = member.org.as_deref().and_then(|org| partners.get_mut(org)) {
                    emails.insert(email.as_str());
                }
            }
        }
        for (name, org) in &state.partner_orgs {
            let Some(limit) = org.max_members else { continue };
            let used = partners.get(name.as_str()).map_or(0, BTreeSet::len);
            if near(used, limit) {
                out.push(Self {
                    what: format!("partner org {name}"),
                    used: u32::try_from(used).unwrap_or(u32::MAX),
                    limit,
                });
            }
        }
        out
    }
}

impl Plan {
    /// Whether the plan changes nothing (notices may still be present).
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The state applying this plan to `live` leaves, for judging its access impact.
    /// That is `desired` unless `live` holds members or group entries owned live (a
    /// self-registration, a partner's own people), which the plan keeps and `desired`
    /// lacks: then it is `live` with the plan applied, so a partner the plan keeps is not
    /// shown as losing their access.
    pub fn state_after<'a>(&self, live: &State, desired: &'a State) -> std::borrow::Cow<'a, State> {
        let holds_live_owned = live.members.values().any(|member| member.live_origin().is_some())
            || live.groups.values().any(|group| !group.joined_live.is_empty());
        if self.is_empty() || !holds_live_owned {
            return std::borrow::Cow::Borrowed(desired);
        }
        let mut after = live.clone();
        match after.apply(&self.changes()) {
            Ok(()) => std::borrow::Cow::Owned(after),
            // A plan is the diff of `live` and `desired`, so it applies; were it not to,
            // `desired` is the closest answer.
            Err(_) => std::borrow::Cow::Borrowed(desired),
        }
    }

    /// The wire changes, in apply order.
    pub fn changes(&self) -> Vec<Change> {
        self.resources.iter().map(ResourceChange::to_change).collect()
    }

    /// The wire changes, in apply order, moving the desired values instead of copying them.
    pub fn into_changes(self) -> Vec<Change> {
        self.resources
            .into_iter()
            .map(|resource| match (resource.action, resource.after) {
                (Action::Create | Action::Update, Some(value)) => Change::Put {
                    key: resource.key,
                    value,
                },
                _ => Change::Delete { key: resource.key },
            })
            .collect()
    }

    /// Counts per kind and action.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.resources)
    }

    /// Whether there is anything to tell a reviewer: changes or notices.
    pub fn has_notices(&self) -> bool {
        !self.self_registered_not_in_git.is_empty()
            || !self.pending_registrations.is_empty()
            || !self.partner_managed.is_empty()
            || !self.live_group_entries.is_empty()
            || !self.expired.is_empty()
            || !self.expiring_soon.is_empty()
    }
}

#[cfg(test)]
mod seat_tests {
    use super::*;
    use crate::model::{Membership, Portal, State};

    #[test]
    fn a_plan_says_how_many_seats_remain_from_ninety_percent() {
        let mut state = State::default();
        let mut portal: Portal = serde_json::from_value(serde_json::json!({
            "name": "P", "color": "#0F62FE", "logout_url": "https://a.io/bye", "max_members": 10
        }))
        .unwrap();
        state.portals.insert("globex".into(), portal.clone());
        let member: Membership = serde_json::from_value(serde_json::json!({"role": "viewer"})).unwrap();
        for n in 0..8 {
            state
                .members
                .insert(("globex".into(), format!("u{n}@g.com")), member.clone());
        }
        assert!(SeatsLeft::of(&state).is_empty(), "80% is not close");
        state.members.insert(("globex".into(), "u8@g.com".into()), member);
        let seats = SeatsLeft::of(&state);
        assert_eq!(seats.len(), 1);
        let plan = crate::plan::plan(
            &state,
            &state,
            crate::model::CalendarDate::from_ymd(2026, 1, 1).unwrap(),
        );
        let notices = crate::render::Notice::all(&plan);
        assert_eq!(
            notices.last().unwrap().message(),
            "portal globex uses 9 of 10 seats: 1 left"
        );
        portal.max_members = None;
        state.portals.insert("globex".into(), portal);
        assert!(SeatsLeft::of(&state).is_empty());
    }

    #[test]
    fn an_org_counts_each_partner_once_across_portals() {
        use crate::model::PartnerOrg;
        let mut state = State::default();
        let limited = |limit: Option<u32>| -> PartnerOrg {
            serde_json::from_value(serde_json::json!({"domains": ["g.com"], "max_members": limit})).unwrap()
        };
        state.partner_orgs.insert("globex".into(), limited(Some(10)));
        state.partner_orgs.insert("initech".into(), limited(Some(10)));
        state.partner_orgs.insert("open".into(), limited(None));
        let member = |org: &str| -> Membership {
            serde_json::from_value(serde_json::json!({"role": "viewer", "org": org})).unwrap()
        };
        for n in 0..9 {
            // Each globex partner sits in two portals: still one seat of the org.
            for portal in ["a", "b"] {
                state
                    .members
                    .insert((portal.into(), format!("u{n}@g.com")), member("globex"));
            }
            state
                .members
                .insert(("a".into(), format!("o{n}@g.com")), member("open"));
        }
        state
            .members
            .insert(("a".into(), "i@g.com".into()), member("initech"));
        let seats = SeatsLeft::of(&state);
        assert_eq!(seats.len(), 1, "{seats:?}");
        assert_eq!(
            (seats[0].what.as_str(), seats[0].used, seats[0].limit),
            ("partner org globex", 9, 10)
        );
    }
}

#[cfg(test)]
mod into_changes_tests {
    use crate::model::{Folder, Group, ResourceKey, State};

    #[test]
    fn moving_the_changes_out_gives_what_copying_gives() {
        let mut live = State::default();
        live.folders.insert("/Old".into(), Folder::default());
        live.groups.insert("g".into(), Group::default());
        let mut desired = State::default();
        desired.folders.insert("/New".into(), Folder::default());
        let group = Group {
            description: Some("changed".into()),
            ..Group::default()
        };
        desired.groups.insert("g".into(), group);
        let plan = crate::plan::diff(&live, &desired);
        let copied = plan.changes();
        assert_eq!(copied.len(), 3, "a create, an update and a delete");
        assert!(
            copied
                .iter()
                .any(|c| c.key() == &ResourceKey::Folder("/Old".into()))
        );
        assert_eq!(plan.into_changes(), copied);
    }
}
