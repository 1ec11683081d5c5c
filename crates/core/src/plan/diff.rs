//! The diff: which resources differ between the live and the desired state, and how.
//!
//! **Architecture invariant:** a pure function of its arguments; no I/O, no clock (the
//! day comes in as a value), deterministic: every map is walked in key order and the
//! result is put in apply order by [`super::order`].
//!
//! # Self-registered members
//! A live member with `source: self_registration` that the config does not list is
//! kept: it is not deleted but reported in [`Plan::self_registered_not_in_git`]. Only
//! when its portal or its partner org is removed by the same plan is it deleted too
//! (with that reason), since it could not outlive them. When the config lists such a
//! member, the listing adopts it: the desired value carries `source: managed`, so the
//! plan shows an update `source: "self_registration" → "managed"` and from then on git
//! owns the membership. `source` is compared like any other field.
//!
//! # Pending registrations
//! A live member with `pending: true` (a self-registration awaiting approval, which grants
//! nothing) that the config does not list is kept likewise and reported in
//! [`Plan::pending_registrations`] (not in `self_registered_not_in_git`). A config that
//! lists it adopts it: the desired value is not pending, so the plan updates it
//! (`pending: true → false`) with the reason [`ChangeReason::ApprovesRegistration`].
//!
//! # Members managed by their partner org
//! A live member with `source: partner_managed` (added by a partner admin or the org's
//! identity provider under the org's `self_management`) that the config does not list is
//! kept and reported in [`Plan::partner_managed`] ("managed by globex"). When the config
//! withdraws the delegation (the org loses `self_management`, or the portal leaves its
//! `self_management.portals`), the plan deletes it with the reason
//! [`ChangeReason::DelegationWithdrawn`], so the access impact shows who loses what; the
//! config keeps someone by listing them, which adopts them (`source → managed`).

use std::collections::{BTreeMap, BTreeSet};

use super::{ChangeReason, Plan, ResourceChange, expiry, order};
use crate::member_mail::{self, MailCounts};
use crate::model::{
    CalendarDate, Group, Resource, ResourceKey, ResourceValue, ResourceVisitor, State, for_each_resource,
};

/// The plan from `live` to the config: drops the grants that expired by `today` from
/// `raw_desired`, diffs, gives each delete of an expired grant the reason
/// `expired <day>`, and lists expired and soon-expiring grants as notices.
///
/// `raw_desired` is the config as loaded, before [`State::without_expired`].
pub fn plan(live: &State, raw_desired: &State, today: CalendarDate) -> Plan {
    let desired = raw_desired.without_expired(today);
    let expired = expiry::expired(raw_desired, today);
    let expired_days: BTreeMap<ResourceKey, CalendarDate> =
        expired.iter().map(|e| (e.key.clone(), e.day)).collect();
    let mut plan = diff_with(live, &desired, &expired_days);
    plan.expired = expired;
    plan.expiring_soon = expiry::expiring_soon(raw_desired, today);
    plan.seats_nearly_used = super::resource_change::SeatsLeft::of(&desired);
    plan.registration_model_changes = super::resource_change::RegistrationModelChange::of(live, &desired);
    plan
}

/// The changes that take `live` to `desired`, field by field, in apply order.
///
/// # Guarantees
/// - Deterministic: the same states give an equal plan.
/// - `live.apply(&diff(live, desired).changes())` gives `desired`, plus the
///   self-registered members `desired` does not list (see the module docs).
/// - `diff(s, s)` is empty.
///
/// # Assumptions
/// Every member of `desired` names a partner org that `desired` has (as the rules
/// require): deleting an org also revokes the partners still in it.
pub fn diff(live: &State, desired: &State) -> Plan {
    diff_with(live, desired, &BTreeMap::new())
}

fn diff_with(live: &State, desired: &State, expired: &BTreeMap<ResourceKey, CalendarDate>) -> Plan {
    let sensitive: BTreeSet<String> = live
        .attributes
        .iter()
        .chain(&desired.attributes)
        .filter(|(_, attribute)| attribute.sensitive)
        .map(|(key, _)| key.clone())
        .collect();

    let mut pairs: Vec<Pair> = Vec::new();
    if live.workspace != desired.workspace {
        pairs.push(Pair {
            key: ResourceKey::Workspace,
            before: Some(ResourceValue::Workspace(live.workspace.clone())),
            after: Some(ResourceValue::Workspace(desired.workspace.clone())),
        });
    }
    for_each_resource(&mut Compare {
        live,
        desired,
        pairs: &mut pairs,
    });

    let shared_sensitive = std::sync::Arc::new(sensitive.clone());
    let mut self_registered_not_in_git = Vec::new();
    let mut pending_registrations = Vec::new();
    let mut partner_managed = Vec::new();
    let mut live_group_entries = Vec::new();
    let mut resources = Vec::with_capacity(pairs.len());
    for Pair {
        key,
        before,
        mut after,
    } in pairs
    {
        if let (ResourceKey::Group(name), Some(ResourceValue::Group(old)), Some(ResourceValue::Group(new))) =
            (&key, &before, &mut after)
        {
            for email in keep_live_entries(old, new, live, desired) {
                live_group_entries.push((name.clone(), email));
            }
            if before.as_ref() == after.as_ref() {
                continue;
            }
        }
        let mut reason = expired.get(&key).copied().map(ChangeReason::Expired);
        if after.is_none()
            && reason.is_none()
            && let (ResourceKey::Member { portal, email }, Some(ResourceValue::Member(member))) =
                (&key, &before)
            && member.live_origin().is_some()
        {
            // Kept, but holding a value its org supplied that git now changes: the value
            // follows the org's (a declared member's is merged again from the config),
            // so the batch does not break `member-attribute-contradicts-org`.
            if doomed(member, portal, desired).is_none()
                && let Some(followed) = follow_org_values(member, live, desired)
            {
                resources.push(ResourceChange::new(
                    key.clone(),
                    before.clone(),
                    Some(ResourceValue::Member(followed)),
                    None,
                    std::sync::Arc::clone(&shared_sensitive),
                ));
            }
            match doomed(member, portal, desired) {
                None if member.pending => {
                    pending_registrations.push((portal.clone(), email.clone()));
                    continue;
                }
                None if let Some(org) = member.managing_org() => {
                    partner_managed.push(super::ManagedByOrg {
                        portal: portal.clone(),
                        email: email.clone(),
                        org: org.to_string(),
                    });
                    continue;
                }
                None => {
                    self_registered_not_in_git.push((portal.clone(), email.clone()));
                    continue;
                }
                Some(why) => reason = Some(why),
            }
        }
        if let (Some(ResourceValue::Member(old)), Some(ResourceValue::Member(new))) = (&before, &after)
            && old.pending
            && !new.pending
        {
            reason = Some(ChangeReason::ApprovesRegistration);
        }
        resources.push(ResourceChange::new(
            key,
            before,
            after,
            reason,
            std::sync::Arc::clone(&shared_sensitive),
        ));
    }
    self_registered_not_in_git.sort();
    pending_registrations.sort();
    partner_managed.sort();
    live_group_entries.sort();
    let mut mail = MailCounts::default();
    for change in &resources {
        if let ResourceKey::Member { portal, .. } = &change.key
            && let Some(settings) = desired.portals.get(portal).or_else(|| live.portals.get(portal))
        {
            fn member(value: Option<&ResourceValue>) -> Option<&crate::model::Membership> {
                match value {
                    Some(ResourceValue::Member(member)) => Some(member),
                    _ => None,
                }
            }
            let (before, after) = (member(change.before.as_ref()), member(change.after.as_ref()));
            if let Some(sent) = member_mail::mail_for(before, after, settings) {
                mail.add(sent);
            }
        }
    }

    Plan {
        resources: order::apply_order(resources),
        self_registered_not_in_git,
        pending_registrations,
        partner_managed,
        live_group_entries,
        expired: Vec::new(),
        expiring_soon: Vec::new(),
        sensitive_attributes: sensitive,
        seats_nearly_used: Vec::new(),
        registration_model_changes: Vec::new(),
        mail,
    }
}

/// Why a live-owned member the config does not list must go anyway: its portal or its
/// partner org is gone from the desired state, or (for a member its org added) the org no
/// longer delegates the portal.
/// A member owned live (self-registered, or added by its org) with the values its org
/// supplied in `live` that `desired`'s org changes or drops, moved to `desired`'s; `None`
/// when nothing moves. Values the member states itself are left alone.
fn follow_org_values(
    member: &crate::model::Membership,
    live: &State,
    desired: &State,
) -> Option<crate::model::Membership> {
    let org = member.org.as_deref()?;
    let (old, new) = (
        &live.partner_orgs.get(org)?.attributes,
        &desired.partner_orgs.get(org)?.attributes,
    );
    let mut followed = member.clone();
    for (name, value) in old.iter() {
        if member.attributes.get(name) == Some(value) && new.get(name) != Some(value) {
            match new.get(name) {
                Some(next) => {
                    followed.attributes.insert(name.clone(), next.clone());
                }
                None => {
                    followed.attributes.remove(name);
                }
            }
        }
    }
    (followed != *member).then_some(followed)
}

fn doomed(member: &crate::model::Membership, portal: &str, desired: &State) -> Option<ChangeReason> {
    doomed_by(member.org.as_deref(), portal, desired).or_else(|| {
        member
            .managing_org()
            .filter(|org| !desired.delegates(org, portal))
            .map(|org| ChangeReason::DelegationWithdrawn(org.to_string()))
    })
}

/// Why a self-registered member the config does not list must go anyway: its portal or
/// its partner org is gone from the desired state.
fn doomed_by(org: Option<&str>, portal: &str, desired: &State) -> Option<ChangeReason> {
    if !desired.portals.contains_key(portal) {
        return Some(ChangeReason::PortalRemoved(portal.to_string()));
    }
    match org {
        Some(org) if !desired.partner_orgs.contains_key(org) => {
            Some(ChangeReason::PartnerOrgRemoved(org.to_string()))
        }
        _ => None,
    }
}

/// Adds to `desired` (the config's value of a group) the entries of `live` (its live value)
/// that are owned live and stay: the email is not declared in the group (declaring it adopts
/// the entry) and remains a member of some portal after the plan, declared or kept as a
/// live-owned member. Returns the entries kept.
fn keep_live_entries(
    live_group: &Group,
    desired_group: &mut Group,
    live: &State,
    desired: &State,
) -> Vec<String> {
    let mut kept = Vec::new();
    for email in &live_group.joined_live {
        if live_group.entry_is_live_owned(email)
            && !desired_group.members.contains(email)
            && stays_a_member(email, live, desired)
        {
            kept.push(email.clone());
        }
    }
    for email in &kept {
        desired_group.join_live(email);
    }
    kept
}

/// Whether `email` is a member of some portal once the plan is applied: the config lists
/// it, or it is a live-owned member that the plan keeps.
fn stays_a_member(email: &str, live: &State, desired: &State) -> bool {
    live.portals.keys().chain(desired.portals.keys()).any(|portal| {
        let key = (portal.clone(), email.to_string());
        desired.members.contains_key(&key)
            || live.members.get(&key).is_some_and(|member| {
                member.live_origin().is_some() && doomed(member, portal, desired).is_none()
            })
    })
}

/// A resource whose value differs: absent on one side, or different on both.
struct Pair {
    key: ResourceKey,
    before: Option<ResourceValue>,
    after: Option<ResourceValue>,
}

/// Collects the pairs of every kind kept in a map, in key order.
struct Compare<'a> {
    live: &'a State,
    desired: &'a State,
    pairs: &'a mut Vec<Pair>,
}

impl ResourceVisitor for Compare<'_> {
    fn visit<R: Resource>(&mut self) {
        let (live, desired) = (R::entries(self.live), R::entries(self.desired));
        for (key, after) in desired {
            match live.get(key) {
                Some(before) if before == after => {}
                before => self.pairs.push(Pair {
                    key: R::resource_key(key),
                    before: before.cloned().map(R::into_value),
                    after: Some(after.clone().into_value()),
                }),
            }
        }
        for (key, before) in live {
            if !desired.contains_key(key) {
                self.pairs.push(Pair {
                    key: R::resource_key(key),
                    before: Some(before.clone().into_value()),
                    after: None,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Action;
    use super::*;
    use crate::model::{
        Attribute, AttributeType, AttributeValue, MemberSource, Membership, Portal, SessionTtl,
    };

    fn portal() -> Portal {
        Portal {
            name: "Globex".into(),
            color: "#0F62FE".into(),
            logout_url: "https://globex.example/bye".into(),
            home_cover: None,
            session_ttl: SessionTtl::default(),
            require_2fa: false,
            self_registration: None,
            protect: false,
            texts: Default::default(),
            max_members: None,
            invitations: true,
            removal_notice: false,
            template: None,
            from_template: Default::default(),
        }
    }

    fn member(source: MemberSource, expires: Option<&str>) -> Membership {
        Membership {
            role: "viewer".into(),
            org: None,
            attributes: Default::default(),
            expires: expires.map(|d| d.parse().unwrap()),
            source,
            pending: false,
        }
    }

    fn key(email: &str) -> ResourceKey {
        ResourceKey::Member {
            portal: "globex".into(),
            email: email.into(),
        }
    }

    #[test]
    fn members_an_org_added_are_kept_while_it_delegates_and_go_when_it_stops() {
        let delegating = |portals: &[&str]| crate::model::PartnerOrg {
            self_management: Some(crate::model::SelfManagement {
                portals: portals.iter().map(ToString::to_string).collect(),
                max_role: "editor".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.partner_orgs.insert("globex".into(), delegating(&["globex"]));
        live.members.insert(
            ("globex".into(), "pam@globex.com".into()),
            Membership {
                org: Some("globex".into()),
                ..member(MemberSource::PartnerManaged, None)
            },
        );
        let mut desired = live.clone();
        desired.members.clear();

        let kept = diff(&live, &desired);
        assert!(kept.is_empty(), "{:?}", kept.resources);
        assert_eq!(
            kept.partner_managed,
            [crate::plan::ManagedByOrg {
                portal: "globex".into(),
                email: "pam@globex.com".into(),
                org: "globex".into()
            }]
        );

        for withdrawn in [crate::model::PartnerOrg::default(), delegating(&["other"])] {
            desired.partner_orgs.insert("globex".into(), withdrawn);
            let gone = diff(&live, &desired);
            let deletes: Vec<_> = gone
                .resources
                .iter()
                .filter(|change| change.action == Action::Delete)
                .collect();
            assert_eq!(deletes.len(), 1);
            assert_eq!(deletes[0].key, key("pam@globex.com"));
            assert_eq!(
                deletes[0].reason,
                Some(ChangeReason::DelegationWithdrawn("globex".into()))
            );
            assert!(gone.partner_managed.is_empty());
        }
    }

    #[test]
    fn keeps_self_registered_members_the_config_does_not_list() {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members.insert(
            ("globex".into(), "self@x.com".into()),
            member(MemberSource::SelfRegistration, None),
        );
        live.members.insert(
            ("globex".into(), "old@x.com".into()),
            member(MemberSource::Managed, None),
        );
        let mut desired = live.clone();
        desired.members.clear();
        let plan = diff(&live, &desired);
        let deleted: Vec<&ResourceKey> = plan.resources.iter().map(|c| &c.key).collect();
        assert_eq!(deleted, [&key("old@x.com")]);
        assert_eq!(
            plan.self_registered_not_in_git,
            [("globex".to_string(), "self@x.com".to_string())]
        );
    }

    #[test]
    fn a_listing_adopts_a_self_registered_member() {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members.insert(
            ("globex".into(), "self@x.com".into()),
            member(MemberSource::SelfRegistration, None),
        );
        let mut desired = live.clone();
        desired.members.insert(
            ("globex".into(), "self@x.com".into()),
            member(MemberSource::Managed, None),
        );
        let plan = diff(&live, &desired);
        assert_eq!(plan.resources.len(), 1);
        assert_eq!(plan.resources[0].action, Action::Update);
        assert_eq!(plan.resources[0].fields()[0].path, "source");
        assert!(plan.self_registered_not_in_git.is_empty());
    }

    fn pending(email: &str) -> ((String, String), Membership) {
        (
            ("globex".into(), email.into()),
            Membership {
                pending: true,
                ..member(MemberSource::SelfRegistration, None)
            },
        )
    }

    #[test]
    fn keeps_pending_registrations_the_config_does_not_list_and_says_so() {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members
            .extend([pending("wait@x.com"), pending("also@x.com")]);
        live.members.insert(
            ("globex".into(), "self@x.com".into()),
            member(MemberSource::SelfRegistration, None),
        );
        let mut desired = live.clone();
        desired.members.clear();
        let plan = diff(&live, &desired);
        assert!(plan.is_empty(), "{:?}", plan.resources);
        assert_eq!(
            plan.pending_registrations,
            [
                ("globex".to_string(), "also@x.com".to_string()),
                ("globex".to_string(), "wait@x.com".to_string())
            ]
        );
        assert_eq!(
            plan.self_registered_not_in_git,
            [("globex".to_string(), "self@x.com".to_string())]
        );
        assert!(plan.has_notices());
        let notices = crate::render::Notice::all(&plan);
        let message = notices.last().unwrap().message();
        assert!(
            message.starts_with(
                "2 registrations awaiting approval: also@x.com in portal globex, wait@x.com in portal globex (granting nothing, kept); approve each with `portalctl approve PORTAL EMAIL` (e.g. `portalctl approve globex also@x.com`)"
            ),
            "{message}"
        );
        assert!(message.ends_with("or adopt them in git"), "{message}");
    }

    /// Live: `self@x.com` registered to globex and joined `finance` through it;
    /// `ann@x.com` is declared in `finance`.
    fn live_with_a_registration_in_a_group() -> State {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members.insert(
            ("globex".into(), "ann@x.com".into()),
            member(MemberSource::Managed, None),
        );
        live.members.insert(
            ("globex".into(), "self@x.com".into()),
            member(MemberSource::SelfRegistration, None),
        );
        let mut finance = Group::default();
        finance.members.insert("ann@x.com".into());
        finance.join_live("self@x.com");
        live.groups.insert("finance".into(), finance);
        live
    }

    /// Regression (issue 21, defect 1): the next `apply` of an unchanged config removed a
    /// self-registered partner from the groups their registration joined.
    #[test]
    fn keeps_the_group_entries_a_registration_made() {
        let live = live_with_a_registration_in_a_group();
        let mut desired = live.clone();
        desired
            .members
            .remove(&("globex".to_string(), "self@x.com".to_string()));
        desired
            .groups
            .get_mut("finance")
            .unwrap()
            .remove_member("self@x.com");
        let plan = diff(&live, &desired);
        assert!(plan.is_empty(), "{:?}", plan.resources);
        assert_eq!(
            plan.live_group_entries,
            [("finance".to_string(), "self@x.com".to_string())]
        );
        assert!(plan.has_notices());

        // A change to the group keeps the entry in what is sent.
        desired.groups.get_mut("finance").unwrap().description = Some("Finance".into());
        let plan = diff(&live, &desired);
        let mut applied = live.clone();
        applied.apply(&plan.changes()).unwrap();
        assert!(applied.is_live_owned(crate::model::LiveKey::GroupEntry {
            group: "finance",
            email: "self@x.com"
        }));
        assert_eq!(applied.groups["finance"].description.as_deref(), Some("Finance"));
    }

    #[test]
    fn a_group_entry_owned_live_goes_with_its_member_or_is_adopted() {
        let live = live_with_a_registration_in_a_group();
        // The portal goes: the member goes, and their entry with them.
        let mut desired = State::default();
        desired.groups.insert("finance".into(), Group::default());
        let plan = diff(&live, &desired);
        assert!(plan.live_group_entries.is_empty());
        let mut applied = live.clone();
        applied.apply(&plan.changes()).unwrap();
        assert!(applied.groups["finance"].members.is_empty());

        // The config lists the email in the group: git owns the entry from now on.
        let mut desired = live.clone();
        desired
            .members
            .remove(&("globex".to_string(), "self@x.com".to_string()));
        let finance = desired.groups.get_mut("finance").unwrap();
        finance.joined_live.clear();
        let plan = diff(&live, &desired);
        assert!(plan.live_group_entries.is_empty());
        assert_eq!(plan.resources.len(), 1, "{:?}", plan.resources);
        let mut applied = live.clone();
        applied.apply(&plan.changes()).unwrap();
        assert!(!applied.is_live_owned(crate::model::LiveKey::GroupEntry {
            group: "finance",
            email: "self@x.com"
        }));
    }

    #[test]
    fn a_listing_approves_a_pending_registration() {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members.extend([pending("join@x.com")]);
        let mut desired = live.clone();
        desired.members.insert(
            ("globex".into(), "join@x.com".into()),
            member(MemberSource::Managed, None),
        );
        let plan = diff(&live, &desired);
        assert!(plan.pending_registrations.is_empty());
        assert_eq!(plan.resources.len(), 1);
        let change = &plan.resources[0];
        assert_eq!(change.action, Action::Update);
        assert_eq!(change.reason, Some(ChangeReason::ApprovesRegistration));
        let pending_field = change.fields().into_iter().find(|f| f.path == "pending").unwrap();
        assert_eq!(
            pending_field.delta,
            super::super::field::FieldDelta::Value {
                before: Some(serde_json::json!(true)),
                after: Some(serde_json::json!(false)),
            }
        );
        let mut applied = live.clone();
        applied.apply(&plan.changes()).unwrap();
        assert_eq!(applied, desired);
    }

    #[test]
    fn a_pending_registration_goes_with_its_portal() {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members.extend([pending("wait@x.com")]);
        let plan = diff(&live, &State::default());
        assert!(plan.pending_registrations.is_empty());
        assert_eq!(plan.resources[0].key, key("wait@x.com"));
        assert_eq!(
            plan.resources[0].reason,
            Some(ChangeReason::PortalRemoved("globex".into()))
        );
    }

    #[test]
    fn self_registered_members_go_with_their_portal() {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members.insert(
            ("globex".into(), "self@x.com".into()),
            member(MemberSource::SelfRegistration, None),
        );
        let plan = diff(&live, &State::default());
        assert_eq!(plan.resources[0].key, key("self@x.com"));
        assert_eq!(
            plan.resources[0].reason,
            Some(ChangeReason::PortalRemoved("globex".into()))
        );
        assert_eq!(plan.resources[1].key, ResourceKey::Portal("globex".into()));
    }

    #[test]
    fn deletes_expired_grants_and_says_why() {
        let mut live = State::default();
        live.portals.insert("globex".into(), portal());
        live.members.insert(
            ("globex".into(), "temp@x.com".into()),
            member(MemberSource::Managed, Some("2027-03-31")),
        );
        let raw = live.clone();
        let today = "2027-04-02".parse().unwrap();
        let plan = plan(&live, &raw, today);
        assert_eq!(plan.resources.len(), 1);
        assert_eq!(plan.resources[0].action, Action::Delete);
        assert_eq!(
            plan.resources[0]
                .reason
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("expired 2027-03-31")
        );
        assert_eq!(plan.expired.len(), 1);
    }

    #[test]
    fn masks_attributes_declared_sensitive_on_either_side() {
        let mut live = State::default();
        live.attributes.insert(
            "contract_ref".into(),
            Attribute {
                kind: AttributeType::String,
                values: Vec::new(),
                required: false,
                sensitive: true,
                self_service: false,
            },
        );
        let mut desired = State::default();
        let mut with_ref = member(MemberSource::Managed, None);
        with_ref
            .attributes
            .insert("contract_ref".into(), AttributeValue::String("C-SECRET-1".into()));
        desired
            .members
            .insert(("globex".into(), "a@x.com".into()), with_ref);
        let plan = diff(&live, &desired);
        assert!(
            !format!(
                "{:?}",
                plan.resources
                    .iter()
                    .map(ResourceChange::fields)
                    .collect::<Vec<_>>()
            )
            .contains("C-SECRET-1")
        );
        assert!(plan.sensitive_attributes.contains("contract_ref"));
    }
}
