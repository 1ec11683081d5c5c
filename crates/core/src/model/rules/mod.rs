//! Semantic rules over a `State`, shared by `validate` and the service so the two can
//! never disagree about what is valid. Each problem is reported at a canonical
//! [`Pointer`]; callers map pointers to source locations or API fields.
//!
//! This module holds the shared machinery (rule ids, violations, the scope of a batch,
//! [`check`]); the rules of each kind live in a module of their own.

mod attribute;
mod dashboard;
mod folder;
mod group;
mod membership;
mod partner_org;
mod partner_portals;
mod portal;
mod role;
mod seat_limit;
mod share;
mod table;
mod workspace;

pub use partner_portals::PartnerPortals;
pub use seat_limit::{seat_limit_errors, seat_limit_errors_with};
pub use table::{Origin, RULES, Rule, RuleId};

use std::collections::BTreeSet;

use rustc_hash::FxHashSet;

use crate::model::suggest::did_you_mean;

use super::{
    BUILTIN_ROLES, CalendarDate, Change, Membership, Pointer, Principal, ResourceKey, State, email_domain,
    is_valid_email, paths_below,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub severity: Severity,
    /// Which rule is broken.
    pub rule: RuleId,
    /// Where the offending value is.
    pub at: Pointer,
    /// What the rule is about when `at` does not say it, e.g. the missing attribute's key.
    pub subject: Option<String>,
    pub message: String,
    pub hint: Option<String>,
    /// Where a "did you mean" hint for `hint` is looked for, when it has not been yet:
    /// resolved only for problems someone is shown ([`Violation::resolve_hint`]).
    pub suggestion: Option<Suggestion>,
    /// Other places the problem involves, e.g. the first definition of a conflicting value.
    pub related: Vec<(Pointer, String)>,
}

impl Violation {
    fn error(rule: RuleId, at: Pointer, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            rule,
            at,
            subject: None,
            message: message.into(),
            hint: None,
            suggestion: None,
            related: Vec::new(),
        }
    }

    /// A hint to be looked for among `among` (see [`Suggestion`]).
    fn suggesting(mut self, among: Among, word: &str) -> Self {
        self.suggestion = Some(Suggestion {
            word: word.to_string(),
            among,
            otherwise: None,
        });
        self
    }

    /// [`Violation::suggesting`], with `otherwise` as the hint when nothing is close.
    fn suggesting_or(mut self, among: Among, word: &str, otherwise: impl Into<String>) -> Self {
        self.suggestion = Some(Suggestion {
            word: word.to_string(),
            among,
            otherwise: Some(otherwise.into()),
        });
        self
    }

    /// Looks for the hint this violation's suggestion names, in `state`.
    ///
    /// # Guarantees
    /// Costs one scan of the collection the suggestion names (all partners' emails for a
    /// missing partner): call it for the problems a caller is shown, not for every one.
    pub fn resolve_hint(&mut self, state: &State) {
        if let Some(suggestion) = self.suggestion.take()
            && self.hint.is_none()
        {
            self.hint = suggestion.resolve(state);
        }
    }

    fn warning(rule: RuleId, at: Pointer, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(rule, at, message)
        }
    }

    /// Names what the rule is about when the pointer alone does not (a missing attribute).
    fn about(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// What identifies this problem across two states: never the message, which may
    /// quote live data.
    pub fn identity(&self) -> ProblemId {
        ProblemId {
            at: self.at.to_string(),
            rule: self.rule,
            subject: self.subject.clone(),
        }
    }

    fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    fn with_related(mut self, at: Pointer, label: impl Into<String>) -> Self {
        self.related.push((at, label.into()));
        self
    }
}

/// Where a "did you mean" hint looks for the name a violation quotes. Looking may scan a
/// whole collection (a hundred thousand partners' emails), so a scoped check, which the
/// store runs under its writer lock, leaves it to [`Violation::resolve_hint`], called
/// for the few problems a caller is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The name that was not found.
    pub word: String,
    pub among: Among,
    /// The hint when no name is close.
    pub otherwise: Option<String>,
}

/// The collection a [`Suggestion`] looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Among {
    Roles,
    Portals,
    PartnerOrgs,
    Groups,
    Folders,
    /// Every partner's email.
    Partners,
}

impl Suggestion {
    /// The closest name in `state`, as a hint, else `otherwise`.
    pub fn resolve(&self, state: &State) -> Option<String> {
        self.resolve_unless(state, &|| false).unwrap_or_default()
    }

    /// As [`Suggestion::resolve`], but gives up (`None`) as soon as `stop` says so; `stop`
    /// is asked every [`STOP_CHECK_EVERY`] names, so a search over a large collection ends
    /// within a few microseconds of being told to.
    pub fn resolve_unless(&self, state: &State, stop: &dyn Fn() -> bool) -> Option<Option<String>> {
        let word = self.word.as_str();
        let stopped = std::cell::Cell::new(false);
        let mut seen = 0usize;
        let mut go_on = |_: &&str| {
            seen += 1;
            if seen.is_multiple_of(STOP_CHECK_EVERY) && stop() {
                stopped.set(true);
            }
            !stopped.get()
        };
        let found = match self.among {
            Among::Roles => did_you_mean(
                word,
                BUILTIN_ROLES
                    .iter()
                    .copied()
                    .chain(state.roles.keys().map(String::as_str))
                    .take_while(&mut go_on),
            ),
            Among::Portals => did_you_mean(
                word,
                state.portals.keys().map(String::as_str).take_while(&mut go_on),
            ),
            Among::PartnerOrgs => did_you_mean(
                word,
                state
                    .partner_orgs
                    .keys()
                    .map(String::as_str)
                    .take_while(&mut go_on),
            ),
            Among::Groups => did_you_mean(
                word,
                state.groups.keys().map(String::as_str).take_while(&mut go_on),
            ),
            Among::Folders => did_you_mean(
                word,
                state.folders.keys().map(String::as_str).take_while(&mut go_on),
            ),
            Among::Partners => did_you_mean(
                word,
                state
                    .members
                    .keys()
                    .map(|(_, email)| email.as_str())
                    .take_while(&mut go_on),
            ),
        };
        if stopped.get() {
            return None;
        }
        Some(found.or_else(|| self.otherwise.clone()))
    }
}

/// How many names a hint search compares between two questions whether to stop
/// ([`Suggestion::resolve_unless`]): about 50 µs of work.
pub const STOP_CHECK_EVERY: usize = 1024;

/// The identity of a problem: its place, its rule and, where the place is shared by
/// several problems of one rule, what it is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProblemId {
    pub at: String,
    pub rule: RuleId,
    pub subject: Option<String>,
}

/// Checks every rule and returns every violation, in a deterministic order.
///
/// `today` decides which `expires` dates are in the past (a warning, not an error).
pub fn check(state: &State, today: CalendarDate) -> Vec<Violation> {
    let partners = state.members.keys().map(|(_, email)| email.as_str()).collect();
    let mut checker = Checker {
        state,
        today,
        partners: Some(partners),
        hint: None,
        hints: true,
        keep: Keep::all(),
        out: Vec::new(),
    };
    checker.workspace();
    checker.all_attributes();
    checker.all_roles();
    for (name, org) in &state.partner_orgs {
        checker.partner_org(name, org);
    }
    for (name, portal) in &state.portals {
        checker.portal(name, portal);
    }
    checker.all_members();
    for (name, group) in &state.groups {
        checker.group(name, group);
    }
    for path in state.folders.keys() {
        checker.folder(path);
    }
    for path in state.dashboards.keys() {
        checker.dashboard(path);
    }
    for ((folder, principal), share) in &state.shares {
        checker.share(folder, principal, share);
    }
    checker.out
}

/// The resources a batch may have broken a rule of: the rules of everything else give the
/// same answers before and after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Check everything: the batch changes something every resource depends on.
    pub everything: bool,
    /// The attribute declarations' own rules (a declaration changed in nothing a partner's
    /// or an org's values are checked against).
    pub attributes: bool,
    pub roles: bool,
    pub partner_orgs: BTreeSet<String>,
    pub portals: BTreeSet<String>,
    /// Every membership of these emails (one email is one partner: they are checked together).
    pub partners: BTreeSet<String>,
    /// Whole groups.
    pub groups: BTreeSet<String>,
    /// Single entries of groups, `(group, email)`: those a batch added to a group that
    /// existed, and a deleted partner's.
    pub group_members: BTreeSet<(String, String)>,
    pub folders: BTreeSet<String>,
    pub dashboards: BTreeSet<String>,
    pub shares: BTreeSet<(String, Principal)>,
}

impl Scope {
    /// What `changes`, turning `before` into `after`, may have broken.
    ///
    /// # Guarantees
    /// Costs the size of the batch, plus a scan of one collection for the rare changes that
    /// other resources refer to by name (deleting a role, a portal, a group, a partner's
    /// last membership, changing an org's domains: with kept portals, only the org's
    /// partners), and a range over the dashboards inside a changed folder or the folders
    /// and dashboards below a changed dashboard. An attribute made stricter costs a pass
    /// over the orgs, and over the memberships for those it may break unless the kept
    /// counts (`of_batch_with`) prove none is (one that only loosens costs the
    /// declarations). A change to the workspace, or deleting an org (which revokes its
    /// partners), scopes everything.
    pub fn of_batch(before: &State, after: &State, changes: &[Change]) -> Self {
        Self::of_batch_with(before, after, changes, None)
    }

    /// As [`Scope::of_batch`], finding a partner's memberships through `portals` (kept for
    /// `before`) instead of a seek per portal.
    pub fn of_batch_with(
        before: &State,
        after: &State,
        changes: &[Change],
        portals: Option<&PartnerPortals>,
    ) -> Self {
        let hint = portals.map(|portals| (portals, changes));
        let is_partner = |state: &State, email: &str| !memberships_in(state, email, hint).is_empty();
        let mut scope = Self::default();
        // A batch that touches a large part of the state (an apply from empty, an import)
        // costs the full check anyway; scoping it would scan the state once per change
        // of an org or a role.
        let size = after.members.len() + after.shares.len() + after.groups.len() + after.portals.len();
        if changes.len() > 1_000 && changes.len() * 4 > size {
            scope.everything = true;
            return scope;
        }
        let mut orgs: BTreeSet<&str> = BTreeSet::new();
        let mut declarations: Vec<Tightened<'_>> = Vec::new();
        for change in changes {
            let deleted = matches!(change, Change::Delete { .. });
            match change.key() {
                ResourceKey::Workspace => scope.everything = true,
                ResourceKey::Attribute(name) => {
                    // Members' and orgs' values are checked against an attribute's type,
                    // values and `required`; `sensitive` changes messages only and
                    // `self_service` no rule. Changing neither of the first three costs the
                    // declarations, not every partner.
                    fn checked<'s>(
                        state: &'s State,
                        name: &str,
                    ) -> Option<(crate::model::AttributeType, &'s Vec<String>, bool)> {
                        state
                            .attributes
                            .get(name)
                            .map(|attribute| (attribute.kind, &attribute.values, attribute.required))
                    }
                    let (old, new) = (before.attributes.get(name), after.attributes.get(name));
                    match (checked(before, name), checked(after, name)) {
                        (Some(old), Some(new)) if old == new => scope.attributes = true,
                        // Accepting every value it accepted and requiring no more cannot
                        // add an error to a partner or an org.
                        _ if old.zip(new).is_some_and(|(old, new)| loosens(old, new)) => {
                            scope.attributes = true;
                        }
                        // Otherwise only the partners and orgs it may break: those with
                        // a value it accepted and no longer does, or without one when it
                        // becomes required (found below, in one pass for every attribute
                        // of the batch).
                        _ => {
                            scope.attributes = true;
                            declarations.push(Tightened::new(name, old, new));
                        }
                    }
                }
                ResourceKey::PartnerOrg(_) if deleted => scope.everything = true,
                ResourceKey::PartnerOrg(name) => {
                    scope.partner_orgs.insert(name.clone());
                    // A group may name people at the domains of an org that delegates its
                    // roster: when its domains or its delegation change, every group entry
                    // that is not a partner is judged again.
                    let delegation_same = match (before.partner_orgs.get(name), after.partner_orgs.get(name))
                    {
                        (Some(old), Some(new)) => {
                            old.domains == new.domains
                                && old.self_management.is_some() == new.self_management.is_some()
                        }
                        _ => false,
                    };
                    if !delegation_same {
                        scope
                            .group_members
                            .extend(after.groups.iter().flat_map(|(group, entry)| {
                                entry
                                    .members
                                    .iter()
                                    .filter(|email| !is_partner(after, email))
                                    .map(move |email| (group.clone(), email.clone()))
                            }));
                    }
                    // Its partners are judged against its domains and attribute values:
                    // added below, in one pass for every org of the batch, unless neither
                    // changed (a seat limit, a kind, a delegation is the org's own rule).
                    let same_for_partners =
                        match (before.partner_orgs.get(name), after.partner_orgs.get(name)) {
                            (Some(old), Some(new)) => {
                                old.domains == new.domains && old.attributes == new.attributes
                            }
                            _ => false,
                        };
                    if !same_for_partners {
                        orgs.insert(name.as_str());
                    }
                }
                ResourceKey::Role(name) => {
                    scope.roles = true;
                    // Self-managed orgs compare roles, through `extends` too: every one of
                    // them is rechecked (few orgs delegate; a scan of the orgs).
                    scope.partner_orgs.extend(
                        after
                            .partner_orgs
                            .iter()
                            .filter(|(_, org)| org.self_management.is_some())
                            .map(|(org_name, _)| org_name.clone()),
                    );
                    if deleted {
                        scope.portals.extend(
                            after
                                .portals
                                .iter()
                                .filter(|(_, portal)| {
                                    portal
                                        .self_registration
                                        .as_ref()
                                        .is_some_and(|registration| registration.default_role == *name)
                                })
                                .map(|(technical_name, _)| technical_name.clone()),
                        );
                        scope.partners.extend(
                            after
                                .members
                                .iter()
                                .filter(|(_, member)| member.role == *name)
                                .map(|((_, email), _)| email.clone()),
                        );
                    }
                }
                ResourceKey::Portal(name) => {
                    scope.portals.insert(name.clone());
                    if deleted {
                        scope.partner_orgs.extend(
                            after
                                .partner_orgs
                                .iter()
                                .filter(|(_, org)| {
                                    org.self_management
                                        .as_ref()
                                        .is_some_and(|delegation| delegation.portals.contains(name))
                                })
                                .map(|(org_name, _)| org_name.clone()),
                        );
                        scope
                            .partners
                            .extend(members_of_portal(after, name).map(|(email, _)| email.clone()));
                        scope
                            .shares
                            .extend(shares_with(after, &Principal::Portal(name.clone())));
                    }
                }
                ResourceKey::Member { email, portal } => {
                    scope.partners.insert(email.clone());
                    // Seat limits count the members of the portal and of the partner's org.
                    if after.portals.get(portal).is_some_and(|p| p.max_members.is_some()) {
                        scope.portals.insert(portal.clone());
                    }
                    let key = (portal.clone(), email.clone());
                    for state in [before, after] {
                        if let Some(org) = state.members.get(&key).and_then(|m| m.org.as_ref())
                            && after.partner_orgs.get(org).is_some_and(|o| {
                                // Its seat limit, or its partner admins, count this member.
                                o.max_members.is_some()
                                    || o.self_management
                                        .as_ref()
                                        .is_some_and(|d| d.admins.contains(email))
                            })
                        {
                            scope.partner_orgs.insert(org.clone());
                        }
                    }
                    if deleted && !is_partner(after, email) && is_partner(before, email) {
                        scope.group_members.extend(
                            after
                                .groups
                                .iter()
                                .filter(|(_, group)| group.members.contains(email))
                                .map(|(name, _)| (name.clone(), email.clone())),
                        );
                        scope
                            .shares
                            .extend(shares_with(after, &Principal::User(email.clone())));
                    }
                }
                ResourceKey::Group(name) => {
                    // Only an entry the batch added can break the group's one rule (every
                    // entry is a partner): a group that existed is checked entry by entry,
                    // at the cost of the change, not of the group.
                    match (before.groups.get(name), after.groups.get(name)) {
                        (Some(old), Some(new)) => scope.group_members.extend(
                            new.members
                                .difference(&old.members)
                                .map(|email| (name.clone(), email.clone())),
                        ),
                        _ => {
                            scope.groups.insert(name.clone());
                        }
                    }
                    if deleted {
                        scope
                            .shares
                            .extend(shares_with(after, &Principal::Group(name.clone())));
                    }
                }
                ResourceKey::Folder(path) => {
                    scope.folders.insert(path.clone());
                    // A dashboard at the same path, and those inside the folder, name it.
                    scope.dashboards.insert(path.clone());
                    scope
                        .dashboards
                        .extend(paths_below(&after.dashboards, path).map(|(path, _)| path.clone()));
                    if deleted {
                        scope.shares.extend(shares_on(after, path));
                    }
                }
                ResourceKey::Dashboard(path) => {
                    scope.dashboards.insert(path.clone());
                    // What lies below a dashboard is an error, whichever came first.
                    scope
                        .folders
                        .extend(paths_below(&after.folders, path).map(|(path, _)| path.clone()));
                    scope
                        .dashboards
                        .extend(paths_below(&after.dashboards, path).map(|(path, _)| path.clone()));
                    if deleted {
                        scope.shares.extend(shares_on(after, path));
                    }
                }
                ResourceKey::Share { folder, principal } => {
                    scope.shares.insert((folder.clone(), principal.clone()));
                }
            }
        }
        if !declarations.is_empty() {
            scope.partner_orgs.extend(
                after
                    .partner_orgs
                    .iter()
                    .filter(|(_, org)| declarations.iter().any(|tightened| tightened.breaks_org(org)))
                    .map(|(name, _)| name.clone()),
            );
            // Judged on `after`: a partner whose values, or whose org's, the batch changed
            // is in scope already. The kept counts (for `before`) prove most stricter
            // declarations break no membership the batch left alone, without the pass.
            let breaks_none = portals.is_some_and(|kept| {
                declarations
                    .iter()
                    .all(|tightened| tightened.breaks_no_membership(kept))
            });
            if !breaks_none {
                scope.partners.extend(
                    after
                        .members
                        .iter()
                        .filter(|(_, member)| {
                            declarations
                                .iter()
                                .any(|tightened| tightened.breaks_member(member, after))
                        })
                        .map(|((_, email), _)| email.clone()),
                );
            }
        }
        if let Some(kept) = portals {
            // The org's partners before the batch; one that holds it only after is one the
            // batch wrote, and is in scope already.
            for org in orgs {
                scope.partners.extend(kept.org_partners(org).map(str::to_string));
            }
        } else if !orgs.is_empty() {
            scope.partners.extend(
                after
                    .members
                    .iter()
                    .filter(|(_, member)| member.org.as_deref().is_some_and(|org| orgs.contains(org)))
                    .map(|((_, email), _)| email.clone()),
            );
        }
        scope
    }
}

/// Whether `new` accepts every value `old` accepted and requires no more: the same type
/// with at least its enum values, or an enum made a string.
fn loosens(old: &crate::model::Attribute, new: &crate::model::Attribute) -> bool {
    accepts_every_value(old, new) && (old.required || !new.required)
}

/// Whether `new` accepts every value `old` accepted: the same type with at least its enum
/// values, or an enum made a string.
fn accepts_every_value(old: &crate::model::Attribute, new: &crate::model::Attribute) -> bool {
    use crate::model::AttributeType::{Enum, String};
    match (old.kind, new.kind) {
        (Enum, Enum) => old.values.iter().all(|value| new.values.contains(value)),
        (Enum, String) => true,
        (old_kind, new_kind) => old_kind == new_kind,
    }
}

/// An attribute declaration a batch changed in what values are checked against, not only
/// by loosening it: who it may break.
struct Tightened<'a> {
    name: &'a str,
    old: Option<&'a crate::model::Attribute>,
    new: Option<&'a crate::model::Attribute>,
    /// For an enum that stays one, the values it no longer accepts: what a value that
    /// fitted must be to fail now (one comparison per value, not two checks).
    removed: Option<Vec<&'a str>>,
}

impl<'a> Tightened<'a> {
    fn new(
        name: &'a str,
        old: Option<&'a crate::model::Attribute>,
        new: Option<&'a crate::model::Attribute>,
    ) -> Self {
        use crate::model::AttributeType::Enum;
        let removed = old.zip(new).and_then(|(old, new)| {
            (old.kind == Enum && new.kind == Enum).then(|| {
                old.values
                    .iter()
                    .filter(|value| !new.values.contains(value))
                    .map(String::as_str)
                    .collect()
            })
        });
        Self {
            name,
            old,
            new,
            removed,
        }
    }

    /// Whether a value that fitted (or was undeclared) may now fail, with another rule or
    /// at all; a value that failed before fails at the same place by the same rule.
    fn breaks_value(&self, value: &crate::model::AttributeValue) -> bool {
        if let Some(removed) = &self.removed {
            return matches!(value, crate::model::AttributeValue::String(value) if removed.contains(&value.as_str()));
        }
        match (self.old, self.new) {
            (Some(old), Some(new)) => value.check(old).is_ok() && value.check(new).is_err(),
            _ => true,
        }
    }

    /// Whether the counts `kept` for the state before the batch prove that no membership
    /// the batch left alone may break: none carries a value that may now fail, and when
    /// the attribute becomes required, every membership carries a value. `false` means
    /// "perhaps": the pass decides.
    fn breaks_no_membership(&self, kept: &PartnerPortals) -> bool {
        let carriers = kept.carriers(self.name);
        let values_hold = carriers == 0
            || match &self.removed {
                Some(removed) => removed.iter().all(|value| !kept.may_carry(self.name, value)),
                None => self
                    .old
                    .zip(self.new)
                    .is_some_and(|(old, new)| accepts_every_value(old, new)),
            };
        values_hold && (!self.becomes_required() || carriers == kept.memberships())
    }

    fn becomes_required(&self) -> bool {
        self.new.is_some_and(|new| new.required) && !self.old.is_some_and(|old| old.required)
    }

    fn breaks_org(&self, org: &crate::model::PartnerOrg) -> bool {
        org.attributes
            .get(self.name)
            .is_some_and(|value| self.breaks_value(value))
    }

    /// Whether `member` (of `state`) may break; its org is looked up only for a missing
    /// value, not for every membership of the pass.
    fn breaks_member(&self, member: &Membership, state: &State) -> bool {
        match member.attributes.get(self.name) {
            Some(value) => self.breaks_value(value),
            None => {
                self.becomes_required()
                    && !member
                        .org
                        .as_ref()
                        .and_then(|org| state.partner_orgs.get(org))
                        .is_some_and(|org| org.attributes.contains_key(self.name))
            }
        }
    }
}

/// The members of one portal, by email.
fn members_of_portal<'a>(
    state: &'a State,
    portal: &'a str,
) -> impl Iterator<Item = (&'a String, &'a Membership)> {
    state
        .members
        .range((portal.to_string(), String::new())..)
        .take_while(move |((member_portal, _), _)| member_portal == portal)
        .map(|((_, email), member)| (email, member))
}

/// The shares on `path` itself.
fn shares_on(state: &State, path: &str) -> Vec<(String, Principal)> {
    state
        .shares
        .range((path.to_string(), Principal::LEAST)..)
        .take_while(|((folder, _), _)| folder == path)
        .map(|(key, _)| key.clone())
        .collect()
}

/// The shares granted to `principal`.
fn shares_with(state: &State, principal: &Principal) -> Vec<(String, Principal)> {
    state
        .shares
        .keys()
        .filter(|(_, shared_with)| shared_with == principal)
        .cloned()
        .collect()
}

/// The distinct portals named by memberships (declared or not), in order, found by
/// skipping from one portal's members to the next: costs the number of portals.
fn member_portals(state: &State) -> Vec<&str> {
    let mut portals = Vec::new();
    let mut next = state.members.keys().next();
    while let Some((portal, _)) = next {
        portals.push(portal.as_str());
        // The smallest name above `portal` is `portal` followed by NUL.
        next = state
            .members
            .range((format!("{portal}\0"), String::new())..)
            .next()
            .map(|(key, _)| key);
    }
    portals
}

/// Every membership of `email`, in portal order, without scanning all members.
fn memberships_of<'a>(state: &'a State, email: &str) -> Vec<(&'a str, &'a Membership)> {
    member_portals(state)
        .into_iter()
        .filter_map(|portal| {
            state
                .members
                .get_key_value(&(portal.to_string(), email.to_string()))
                .map(|((portal, _), member)| (portal.as_str(), member))
        })
        .collect()
}

/// The portals kept for the state before a batch, and the batch: where to look for an
/// email's memberships in that state or the one after it.
type Hint<'a> = Option<(&'a PartnerPortals, &'a [Change])>;

/// [`memberships_of`], looked up in the portals `hint` names when there is one.
fn memberships_in<'a>(state: &'a State, email: &str, hint: Hint<'_>) -> Vec<(&'a str, &'a Membership)> {
    let Some((portals, changes)) = hint else {
        return memberships_of(state, email);
    };
    let mut key = (String::new(), email.to_string());
    portals
        .candidates(email, changes)
        .into_iter()
        .filter_map(|portal| {
            portal.clone_into(&mut key.0);
            state
                .members
                .get_key_value(&key)
                .map(|((portal, _), member)| (portal.as_str(), member))
        })
        .collect()
}

/// Checks the rules of the resources in `scope` only, in the order [`check`] would.
/// Hints are left unresolved (see [`Suggestion`]): they are for the problems a caller
/// is shown.
pub fn check_scope(state: &State, scope: &Scope, today: CalendarDate) -> Vec<Violation> {
    scoped(state, scope, today, false, None)
}

fn scoped(state: &State, scope: &Scope, today: CalendarDate, hints: bool, hint: Hint<'_>) -> Vec<Violation> {
    scoped_kept(state, scope, today, hints, hint, Keep::all()).0
}

/// As [`scoped`], keeping what `keep` says; returns the kept violations and the summary of
/// all those `keep` let through.
fn scoped_kept<'a>(
    state: &'a State,
    scope: &Scope,
    today: CalendarDate,
    hints: bool,
    hint: Hint<'a>,
    keep: Keep<'a>,
) -> (Vec<Violation>, Found) {
    if scope.everything {
        let mut found = Found::default();
        let mut kept = Vec::new();
        for violation in check(state, today) {
            if keep.lets_through(&violation) {
                found.add(violation.rule);
                if kept.len() < keep.at_most {
                    kept.push(violation);
                }
            }
        }
        return (kept, found);
    }
    let mut checker = Checker {
        state,
        today,
        partners: None,
        hint,
        hints,
        keep,
        out: Vec::new(),
    };
    if scope.attributes {
        checker.all_attributes();
    }
    if scope.roles {
        checker.all_roles();
    }
    for name in &scope.partner_orgs {
        if let Some(org) = state.partner_orgs.get(name) {
            checker.partner_org(name, org);
        }
    }
    for name in &scope.portals {
        if let Some(portal) = state.portals.get(name) {
            checker.portal(name, portal);
        }
    }
    for email in &scope.partners {
        let memberships = checker.memberships(email);
        checker.partner(email, &memberships);
    }
    for name in &scope.groups {
        if let Some(group) = state.groups.get(name) {
            checker.group(name, group);
        }
    }
    for (name, email) in &scope.group_members {
        if !scope.groups.contains(name)
            && state
                .groups
                .get(name)
                .is_some_and(|group| group.members.contains(email))
        {
            checker.group_member(name, email);
        }
    }
    for path in &scope.folders {
        if state.folders.contains_key(path) {
            checker.folder(path);
        }
    }
    for path in &scope.dashboards {
        if state.dashboards.contains_key(path) {
            checker.dashboard(path);
        }
    }
    for key in &scope.shares {
        if let Some(share) = state.shares.get(key) {
            checker.share(&key.0, &key.1, share);
        }
    }
    (checker.out, checker.keep.found)
}

/// The errors `after` has that `before` has not, where `changes` turned `before` into
/// `after`: a batch is judged by the errors it adds, so an old bad row does not block
/// every later write.
///
/// # Guarantees
/// The same problems (by [`ProblemId`]) as the errors of `check(after)` minus those of
/// `check(before)`, at the cost of [`Scope::of_batch`] and the checks of its resources.
pub fn added_errors(
    before: &State,
    after: &State,
    changes: &[Change],
    today: CalendarDate,
) -> Vec<Violation> {
    added_errors_with(before, after, changes, today, None)
}

/// As [`added_errors`], finding partners' memberships through `portals`, kept for `before`
/// (the store keeps one beside its snapshot): a lookup instead of a seek per portal.
pub fn added_errors_with(
    before: &State,
    after: &State,
    changes: &[Change],
    today: CalendarDate,
    portals: Option<&PartnerPortals>,
) -> Vec<Violation> {
    added_errors_listed(before, after, changes, today, portals, usize::MAX).listed
}

/// The errors a batch adds ([`added_errors`]): the first `at_most` of them, in the order
/// the checks meet them, and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedErrors {
    pub listed: Vec<Violation>,
    pub total: usize,
    /// Whether every one of them (listed or not) is about another resource
    /// ([`RuleId::depends_on_other_resources`]): the batch conflicts with the state rather
    /// than being invalid on its own.
    pub all_depend_on_other_resources: bool,
}

/// As [`added_errors_with`], keeping the first `at_most` errors and counting the rest.
///
/// # Guarantees
/// Memory follows `at_most`, not the number of errors: a batch naming a million unknown
/// partners is refused without a million violations held at once (each is built, counted
/// and dropped).
pub fn added_errors_listed(
    before: &State,
    after: &State,
    changes: &[Change],
    today: CalendarDate,
    portals: Option<&PartnerPortals>,
    at_most: usize,
) -> AddedErrors {
    let scope = Scope::of_batch_with(before, after, changes, portals);
    let hint = portals.map(|portals| (portals, changes));
    let existing: FxHashSet<ProblemId> = scoped(before, &scope, today, false, hint)
        .iter()
        .filter(|violation| violation.severity == Severity::Error)
        .map(Violation::identity)
        .collect();
    let keep = Keep {
        new_errors_besides: Some(&existing),
        at_most,
        found: Found::default(),
    };
    let (listed, found) = scoped_kept(after, &scope, today, false, hint, keep);
    AddedErrors {
        listed,
        total: found.total,
        all_depend_on_other_resources: !found.any_self_contained,
    }
}

/// What a check keeps of the violations it meets.
struct Keep<'a> {
    /// Only errors, and only those not among these (the errors before a batch).
    new_errors_besides: Option<&'a FxHashSet<ProblemId>>,
    /// The most violations kept; the others are only counted.
    at_most: usize,
    found: Found,
}

impl Keep<'_> {
    fn all() -> Self {
        Self {
            new_errors_besides: None,
            at_most: usize::MAX,
            found: Found::default(),
        }
    }

    fn lets_through(&self, violation: &Violation) -> bool {
        match self.new_errors_besides {
            None => true,
            Some(existing) => {
                violation.severity == Severity::Error
                    && (existing.is_empty() || !existing.contains(&violation.identity()))
            }
        }
    }
}

/// A summary of the violations a check let through, kept or not.
#[derive(Debug, Default, Clone, Copy)]
struct Found {
    total: usize,
    /// Whether one of them is about its own resource alone.
    any_self_contained: bool,
}

impl Found {
    fn add(&mut self, rule: RuleId) {
        self.total += 1;
        self.any_self_contained |= !rule.depends_on_other_resources();
    }
}

struct Checker<'a> {
    state: &'a State,
    today: CalendarDate,
    /// Every email with a membership somewhere, built once by a full check: rules look it
    /// up per reference. `None` in a scoped check, which asks the state instead.
    partners: Option<FxHashSet<&'a str>>,
    /// Where a scoped check looks for a partner's memberships (`None`: a seek per portal).
    hint: Hint<'a>,
    /// Whether to resolve "did you mean" hints at once (a full check), rather than leave
    /// them to the caller (a scoped check: see [`Suggestion`]).
    hints: bool,
    keep: Keep<'a>,
    out: Vec<Violation>,
}

fn in_domain(domain: &str, owner: &str) -> bool {
    domain == owner || domain.strip_suffix(owner).is_some_and(|rest| rest.ends_with('.'))
}

impl<'a> Checker<'a> {
    fn push(&mut self, mut violation: Violation) {
        if !self.keep.lets_through(&violation) {
            return;
        }
        self.keep.found.add(violation.rule);
        if self.out.len() >= self.keep.at_most {
            return;
        }
        if self.hints {
            violation.resolve_hint(self.state);
        }
        self.out.push(violation);
    }

    /// Whether an error of `rule` about to be found would only be counted, not kept (the
    /// check keeps no more, and no error existed before to tell it apart from): if so,
    /// counts it, and the caller need not build it.
    fn only_counts(&mut self, rule: RuleId) -> bool {
        let counted = self.out.len() >= self.keep.at_most
            && self.keep.new_errors_besides.is_some_and(FxHashSet::is_empty);
        if counted {
            self.keep.found.add(rule);
        }
        counted
    }

    fn is_partner(&self, email: &str) -> bool {
        match &self.partners {
            Some(partners) => partners.contains(email),
            None => !self.memberships(email).is_empty(),
        }
    }

    /// Every membership of `email`, in portal order.
    fn memberships(&self, email: &str) -> Vec<(&'a str, &'a Membership)> {
        memberships_in(self.state, email, self.hint)
    }

    /// Whether `email` is at a domain of an org that delegates its roster
    /// (`self_management`): its admins or its identity provider may add them, owned live,
    /// so a group declared in git may name them before (and after) they are a member.
    fn is_delegated(&self, email: &str) -> bool {
        is_delegated(self.state, email)
    }

    fn role_exists(&self, name: &str) -> bool {
        BUILTIN_ROLES.contains(&name) || self.state.roles.contains_key(name)
    }

    fn role_names(&self) -> impl Iterator<Item = &str> {
        BUILTIN_ROLES
            .iter()
            .copied()
            .chain(self.state.roles.keys().map(String::as_str))
    }

    fn owner_domain_of(&self, email: &str) -> Option<&str> {
        let domain = email_domain(email)?;
        self.state
            .workspace
            .owner_domains
            .iter()
            .find(|owner| in_domain(domain, owner))
            .map(String::as_str)
    }
}

/// Whether `email` is at a domain of an org of `state` that delegates its roster.
fn is_delegated(state: &State, email: &str) -> bool {
    let Some(domain) = email_domain(email) else {
        return false;
    };
    state
        .partner_orgs
        .values()
        .any(|org| org.self_management.is_some() && org.domains.iter().any(|owned| in_domain(domain, owned)))
}

fn is_domain(domain: &str) -> bool {
    is_valid_email(&format!("x@{domain}")) && domain == domain.to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
