//! Access impact: who gains or loses access to which folder between two states, and
//! through which grant — what a reviewer approves in a pull request.
//!
//! **Architecture invariant:** pure and incremental. No I/O, no clock (`today` is a
//! parameter). The partners to evaluate come from the plan's resource changes only, and
//! each side is evaluated with [`AccessIndex::for_partners`], so the cost follows the
//! size of the change, never partners × folders.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use crate::model::{
    Access, AccessKey, CalendarDate, Principal, ResourceKey, State, VecSet, self_and_ancestors,
};
use crate::plan::Plan;

use rustc_hash::FxHashMap;

use super::{AccessIndex, AccessSignature, ContentKind, FolderAccess, Grant};

/// One partner's access to one folder or dashboard, before and after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessChange {
    pub email: String,
    /// The path of the folder or dashboard.
    pub folder: String,
    /// Whether `folder` is a folder or a dashboard (as after the change; as before it for
    /// a loss).
    pub kind: ContentKind,
    /// `None`: no access before (a gain).
    pub before: Option<Access>,
    /// `None`: no access after (a loss).
    pub after: Option<Access>,
    /// The grants that explain the change: the grants after for a gain or a level
    /// change, the grants before for a loss. Sorted.
    pub via: Vec<Grant>,
    /// The permissions usable on the folder before (empty: no access).
    pub permissions_before: VecSet<String>,
    /// The permissions usable on the folder after (empty: no access).
    pub permissions_after: VecSet<String>,
}

impl AccessChange {
    /// A new folder, a higher level, or a permission more at the same level.
    pub fn is_gain(&self) -> bool {
        self.after > self.before
            || (self.after == self.before && !self.permissions_after.is_subset(&self.permissions_before))
    }

    /// A folder gone, a lower level, or a permission less at the same level.
    pub fn is_loss(&self) -> bool {
        self.after < self.before
            || (self.after == self.before && !self.permissions_before.is_subset(&self.permissions_after))
    }

    /// The permissions gained, then those lost, on the folder.
    pub fn permission_delta(&self) -> (Vec<&str>, Vec<&str>) {
        let gained = self
            .permissions_after
            .difference(&self.permissions_before)
            .map(String::as_str)
            .collect();
        let lost = self
            .permissions_before
            .difference(&self.permissions_after)
            .map(String::as_str)
            .collect();
        (gained, lost)
    }
}

/// Every change of effective access, sorted by email, then folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessImpact {
    pub changes: Vec<AccessChange>,
}

impl AccessImpact {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many distinct partners gain a folder or a higher level.
    pub fn partners_gaining(&self) -> usize {
        self.count_partners(AccessChange::is_gain)
    }

    /// How many distinct partners lose a folder or get a lower level.
    pub fn partners_losing(&self) -> usize {
        self.count_partners(AccessChange::is_loss)
    }

    fn count_partners(&self, keep: impl Fn(&AccessChange) -> bool) -> usize {
        let emails: BTreeSet<&str> = self
            .changes
            .iter()
            .filter(|change| keep(change))
            .map(|change| change.email.as_str())
            .collect();
        emails.len()
    }

    /// The totals line, e.g. `3 partners gain access, 1 loses`.
    pub fn totals(&self) -> String {
        ImpactView::counts(self).totals()
    }
}

/// The first changes of an access impact and its totals, without the rest: what a
/// bounded summary shows, in memory that does not grow with the impact (an apply from
/// empty at a million partners has millions of changes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImpactSummary {
    /// The first changes, in the order of [`AccessImpact::changes`].
    pub first: Vec<AccessChange>,
    /// The counts of the whole impact.
    pub counts: ImpactCounts,
}

/// The access impact of `plan`, which takes `before` to `after`.
///
/// # Assumptions
/// `before` and `after` hold no expired grants (pass `live` and
/// `desired.without_expired(today)`, or two desired states without expired grants), and
/// `plan` is their diff: a partner whose access changes is named by one of its resource
/// changes.
///
/// # Guarantees
/// Only partners reached by a changed member, group, share, folder, dashboard or portal,
/// or holding a changed role (or one extending it), are evaluated; attributes, orgs and
/// the workspace change no folder access. The result is deterministic and sorted.
pub fn impact(before: &State, after: &State, plan: &Plan, today: CalendarDate) -> AccessImpact {
    let mut changes = Vec::new();
    if let Some(compared) = Compared::new(before, after, plan, today) {
        for email in &compared.affected {
            changes.extend(compared.changes_of(email));
        }
    }
    AccessImpact { changes }
}

/// [`impact`]'s first `limit` changes and its totals, keeping nothing else.
///
/// # Assumptions
/// As [`impact`].
///
/// # Guarantees
/// As [`ImpactWalk::new`]: partners are counted by their signatures, and only the first
/// `limit` changes are compared one by one.
pub fn impact_summary(
    before: &State,
    after: &State,
    plan: &Plan,
    today: CalendarDate,
    limit: usize,
) -> ImpactSummary {
    let walk = ImpactWalk::new(before, after, plan, today);
    let mut first = Vec::new();
    if limit > 0 {
        walk.for_each_partner(|changes| {
            let room = limit - first.len();
            first.extend(changes.iter().take(room).cloned());
            if first.len() < limit {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        });
    }
    ImpactSummary {
        first,
        counts: walk.counts(),
    }
}

/// How many changes an access impact has, and how many partners gain and lose.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImpactCounts {
    pub changes: usize,
    pub partners_gaining: usize,
    pub partners_losing: usize,
}

impl ImpactCounts {
    /// The totals line, e.g. `3 partners gain access, 1 loses`.
    pub fn totals(&self) -> String {
        let gain = match self.partners_gaining {
            1 => "1 partner gains access".to_string(),
            gaining => format!("{gaining} partners gain access"),
        };
        let lose = match self.partners_losing {
            1 => "1 loses".to_string(),
            losing => format!("{losing} lose"),
        };
        format!("{gain}, {lose}")
    }
}

/// An access impact as reports read it: held whole ([`AccessImpact`]), or walked partner
/// by partner ([`ImpactWalk`]) so that a report of millions of changes holds one
/// partner's at a time.
pub trait ImpactView {
    fn counts(&self) -> ImpactCounts;
    /// Calls `each` with every change, in the impact's order (email, then folder), until
    /// it breaks.
    fn for_each_change(&self, each: &mut dyn FnMut(&AccessChange) -> ControlFlow<()>);
    /// Calls `each` with every folder or dashboard some change is on, at least once each.
    fn for_each_changed_folder(&self, each: &mut dyn FnMut(&str));

    fn is_empty(&self) -> bool {
        self.counts().changes == 0
    }
}

impl std::fmt::Debug for dyn ImpactView + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImpactView")
            .field("counts", &self.counts())
            .finish()
    }
}

impl ImpactView for AccessImpact {
    fn counts(&self) -> ImpactCounts {
        ImpactCounts {
            changes: self.changes.len(),
            partners_gaining: self.partners_gaining(),
            partners_losing: self.partners_losing(),
        }
    }

    fn for_each_change(&self, each: &mut dyn FnMut(&AccessChange) -> ControlFlow<()>) {
        for change in &self.changes {
            if each(change).is_break() {
                return;
            }
        }
    }

    fn for_each_changed_folder(&self, each: &mut dyn FnMut(&str)) {
        for change in &self.changes {
            each(&change.folder);
        }
    }
}

/// The access impact of a plan, counted up front and compared partner by partner only
/// when read: what `plan`, `diff` and `apply` print. Its memory is the two indexes of the
/// affected partners and one partner's changes, not the impact (an apply from empty where
/// 10,000 partners each open 2,500 folders is 25 million changes).
pub struct ImpactWalk {
    compared: Option<Compared>,
    counts: ImpactCounts,
    folders: BTreeSet<String>,
}

impl ImpactWalk {
    /// The impact of `plan`, which takes `before` to `after`.
    ///
    /// # Assumptions
    /// As [`impact`].
    ///
    /// # Guarantees
    /// The counts and changed folders are those of [`impact`]. They are found comparing
    /// each pair of partner signatures once ([`AccessIndex::signature`]): the changes of
    /// a partner follow from its signatures before and after, and two partners with the
    /// same pair have the same changes but for the email. A partner named by a direct
    /// share is compared on its own.
    pub fn new(before: &State, after: &State, plan: &Plan, today: CalendarDate) -> Self {
        let mut walk = Self {
            compared: Compared::new(before, after, plan, today),
            counts: ImpactCounts::default(),
            folders: BTreeSet::new(),
        };
        let Some(compared) = &walk.compared else {
            return walk;
        };
        let mut tallies: FxHashMap<(AccessSignature, AccessSignature), Tally> = FxHashMap::default();
        for email in &compared.affected {
            let signatures = (compared.old.signature(email), compared.new.signature(email));
            let tally = if signatures.0.names_the_partner() || signatures.1.names_the_partner() {
                // Nobody else shares these signatures: not worth keeping.
                Tally::of(&compared.changes_of(email), &mut walk.folders)
            } else {
                *tallies
                    .entry(signatures)
                    .or_insert_with(|| Tally::of(&compared.changes_of(email), &mut walk.folders))
            };
            walk.counts.changes += tally.changes;
            walk.counts.partners_gaining += usize::from(tally.gains);
            walk.counts.partners_losing += usize::from(tally.loses);
        }
        walk
    }

    /// Calls `each` with the changes of every partner that has some, in email order,
    /// until it breaks.
    pub fn for_each_partner(&self, mut each: impl FnMut(&[AccessChange]) -> ControlFlow<()>) {
        let Some(compared) = &self.compared else {
            return;
        };
        for email in &compared.affected {
            let changes = compared.changes_of(email);
            if !changes.is_empty() && each(&changes).is_break() {
                return;
            }
        }
    }
}

impl ImpactView for ImpactWalk {
    fn counts(&self) -> ImpactCounts {
        self.counts
    }

    fn for_each_change(&self, each: &mut dyn FnMut(&AccessChange) -> ControlFlow<()>) {
        self.for_each_partner(|changes| {
            for change in changes {
                each(change)?;
            }
            ControlFlow::Continue(())
        });
    }

    fn for_each_changed_folder(&self, each: &mut dyn FnMut(&str)) {
        for folder in &self.folders {
            each(folder);
        }
    }
}

/// What one partner's changes add to the counts.
#[derive(Debug, Clone, Copy)]
struct Tally {
    changes: usize,
    gains: bool,
    loses: bool,
}

impl Tally {
    /// The tally of `changes`, adding their folders to `folders`.
    fn of(changes: &[AccessChange], folders: &mut BTreeSet<String>) -> Self {
        for change in changes {
            if !folders.contains(&change.folder) {
                folders.insert(change.folder.clone());
            }
        }
        Self {
            changes: changes.len(),
            gains: changes.iter().any(AccessChange::is_gain),
            loses: changes.iter().any(AccessChange::is_loss),
        }
    }
}

/// The partners whose access a plan may change, in email order, with both states'
/// indexes restricted to them.
struct Compared {
    affected: BTreeSet<String>,
    old: AccessIndex,
    new: AccessIndex,
}

impl Compared {
    /// `None` when the plan reaches no partner.
    fn new(before: &State, after: &State, plan: &Plan, today: CalendarDate) -> Option<Self> {
        let mut reach = Reach::default();
        for change in &plan.resources {
            reach.add(&change.key, before, after);
        }
        let affected = reach.emails(before, after);
        if affected.is_empty() {
            return None;
        }
        Some(Self {
            old: AccessIndex::for_partners(before, today, &affected),
            new: AccessIndex::for_partners(after, today, &affected),
            affected,
        })
    }

    /// The changes of the access of `email`, by folder.
    fn changes_of(&self, email: &str) -> Vec<AccessChange> {
        let mut changes = Vec::new();
        compare(
            email,
            self.old.partner_access(email),
            self.new.partner_access(email),
            &mut changes,
        );
        changes
    }
}

/// Who the plan's changes may affect: emails named outright, and principals whose
/// reach (in either state) is affected. Principals are expanded once at the end, so a
/// plan creating many folders under one shared parent costs that parent's reach once.
#[derive(Default)]
struct Reach {
    emails: BTreeSet<String>,
    principals: BTreeSet<Principal>,
}

impl Reach {
    fn add(&mut self, key: &ResourceKey, before: &State, after: &State) {
        match key.access() {
            AccessKey::Member { email, .. } => {
                self.emails.insert(email.clone());
            }
            AccessKey::Group(name) => match (before.groups.get(name), after.groups.get(name)) {
                (Some(old), Some(new)) => {
                    self.emails
                        .extend(old.members.symmetric_difference(&new.members).cloned());
                }
                _ => {
                    self.principals.insert(Principal::Group(name.clone()));
                }
            },
            AccessKey::Share { principal, .. } => {
                self.principals.insert(principal.clone());
            }
            AccessKey::Folder(folder) | AccessKey::Dashboard(folder) => {
                for state in [before, after] {
                    for ancestor in self_and_ancestors(folder) {
                        self.principals
                            .extend(state.shares_on(ancestor).map(|(principal, _)| principal.clone()));
                    }
                }
            }
            AccessKey::Portal(portal) => {
                self.principals.insert(Principal::Portal(portal.clone()));
            }
            AccessKey::Role(name) => {
                for state in [before, after] {
                    let holders = roles_extending(state, name);
                    self.emails.extend(
                        state
                            .members
                            .iter()
                            .filter(|(_, member)| holders.contains(member.role.as_str()))
                            .map(|((_, email), _)| email.clone()),
                    );
                }
            }
            AccessKey::PartnerOrg(org) => {
                self.principals.insert(Principal::Org(org.clone()));
            }
            AccessKey::Workspace => {
                // A permission's required level changes what every partner holding a role
                // with it can use.
                if before.workspace.permissions != after.workspace.permissions {
                    let changed: BTreeSet<&String> = before
                        .workspace
                        .permissions
                        .keys()
                        .chain(after.workspace.permissions.keys())
                        .filter(|p| {
                            before.workspace.permissions.get(*p) != after.workspace.permissions.get(*p)
                        })
                        .collect();
                    for state in [before, after] {
                        self.emails.extend(
                            state
                                .members
                                .iter()
                                .filter(|(_, member)| {
                                    crate::model::role_permissions(&member.role, |name| state.roles.get(name))
                                        .iter()
                                        .any(|permission| changed.contains(permission))
                                })
                                .map(|((_, email), _)| email.clone()),
                        );
                    }
                }
            }
            AccessKey::None => {}
        }
    }

    /// Every affected email: those named, and everyone each principal reaches before
    /// or after.
    fn emails(mut self, before: &State, after: &State) -> BTreeSet<String> {
        // Org principals are resolved in one pass over the members of each state: a plan
        // creating thousands of orgs would otherwise scan every member once per org.
        let orgs: BTreeSet<&str> = self
            .principals
            .iter()
            .filter_map(|principal| match principal {
                Principal::Org(org) => Some(org.as_str()),
                _ => None,
            })
            .collect();
        for state in [before, after] {
            if !orgs.is_empty() {
                self.emails.extend(
                    state
                        .members
                        .iter()
                        .filter(|(_, member)| member.org.as_deref().is_some_and(|org| orgs.contains(org)))
                        .map(|((_, email), _)| email.clone()),
                );
            }
            for principal in &self.principals {
                if !matches!(principal, Principal::Org(_)) {
                    reached_by(state, principal, &mut self.emails);
                }
            }
        }
        self.emails
    }
}

/// `name` and every role of `state` whose `extends` chain reaches it.
fn roles_extending<'a>(state: &'a State, name: &'a str) -> BTreeSet<&'a str> {
    let mut found: BTreeSet<&str> = [name].into();
    loop {
        let before = found.len();
        for (role, definition) in &state.roles {
            if definition
                .extends
                .as_deref()
                .is_some_and(|parent| found.contains(parent))
            {
                found.insert(role.as_str());
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

/// Adds everyone `principal` reaches in `state`.
fn reached_by(state: &State, principal: &Principal, out: &mut BTreeSet<String>) {
    match principal {
        Principal::User(email) => {
            out.insert(email.clone());
        }
        Principal::Group(name) => {
            if let Some(group) = state.groups.get(name) {
                out.extend(group.members.iter().cloned());
            }
        }
        Principal::Portal(portal) => portal_members(state, portal, out),
        Principal::Org(org) => out.extend(
            state
                .members
                .iter()
                .filter(|(_, member)| member.org.as_deref() == Some(org.as_str()))
                .map(|((_, email), _)| email.clone()),
        ),
    }
}

fn portal_members(state: &State, portal: &str, out: &mut BTreeSet<String>) {
    let start = (portal.to_string(), String::new());
    out.extend(
        state
            .members
            .range(start..)
            .take_while(|((member_portal, _), _)| member_portal == portal)
            .map(|((_, email), _)| email.clone()),
    );
}

/// Merges two folder-sorted access lists of one partner into changes.
fn compare(email: &str, before: Vec<FolderAccess>, after: Vec<FolderAccess>, out: &mut Vec<AccessChange>) {
    let mut old = before.into_iter().peekable();
    let mut new = after.into_iter().peekable();
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.folder.cmp(&b.folder),
        };
        let (was, is) = match order {
            std::cmp::Ordering::Less => (old.next(), None),
            std::cmp::Ordering::Greater => (None, new.next()),
            std::cmp::Ordering::Equal => (old.next(), new.next()),
        };
        let before_level = was.as_ref().map(|access| access.level);
        let after_level = is.as_ref().map(|access| access.level);
        let permissions = |access: &Option<FolderAccess>| {
            access
                .as_ref()
                .map(|access| access.permissions.clone())
                .unwrap_or_default()
        };
        let (permissions_before, permissions_after) = (permissions(&was), permissions(&is));
        if before_level == after_level && permissions_before == permissions_after {
            continue;
        }
        let (folder, kind, via) = match (was, is) {
            (Some(lost), None) => (lost.folder, lost.kind, lost.grants),
            (_, Some(gained)) => (gained.folder, gained.kind, gained.grants),
            (None, None) => continue,
        };
        out.push(AccessChange {
            email: email.to_string(),
            folder,
            kind,
            before: before_level,
            after: after_level,
            via,
            permissions_before,
            permissions_after,
        });
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::access::GrantKind;
    use crate::model::{Folder, Group, MemberSource, Membership, Share};
    use crate::plan::diff;

    fn today() -> CalendarDate {
        CalendarDate::from_ymd(2026, 11, 27).expect("a real day")
    }

    /// An editor: the fixtures' edit shares are not capped.
    fn member(expires: Option<&str>) -> Membership {
        Membership {
            role: "editor".into(),
            org: None,
            attributes: Default::default(),
            expires: expires.map(|day| day.parse().unwrap()),
            source: MemberSource::Managed,
            pending: false,
        }
    }

    /// Portal `p` with a@x.com and b@x.com; group `g` = {a}; folders /P, /P/F, /Q.
    fn base() -> State {
        let mut state = State::default();
        state.members.insert(("p".into(), "a@x.com".into()), member(None));
        state.members.insert(("p".into(), "b@x.com".into()), member(None));
        state.groups.insert(
            "g".into(),
            Group {
                description: None,
                members: ["a@x.com".to_string()].into(),
                joined_live: Default::default(),
            },
        );
        for folder in ["/P", "/P/F", "/Q"] {
            state.folders.insert(folder.into(), Folder::default());
        }
        state
    }

    fn share(state: &mut State, folder: &str, principal: &str, access: Access) {
        state.shares.insert(
            (folder.into(), principal.parse().unwrap()),
            Share {
                access,
                expires: None,
            },
        );
    }

    /// The changes as `sign email before→after folder via kind:principal@shared`.
    fn check(before: &State, after: &State, expected: &[&str]) {
        let plan = diff(before, after);
        let result = impact(
            &before.without_expired(today()),
            &after.without_expired(today()),
            &plan,
            today(),
        );
        let shown: Vec<String> = result
            .changes
            .iter()
            .map(|change| {
                let level = |access: Option<Access>| access.map_or("-".to_string(), |a| a.to_string());
                let via: Vec<String> = change
                    .via
                    .iter()
                    .map(|grant| format!("{}@{}", grant.principal, grant.shared_folder))
                    .collect();
                format!(
                    "{} {}→{} {} via {}",
                    change.email,
                    level(change.before),
                    level(change.after),
                    change.folder,
                    via.join(",")
                )
            })
            .collect();
        assert_eq!(shown, expected);
        // The incremental answer is the full one.
        let everyone: BTreeSet<String> = before
            .members
            .keys()
            .chain(after.members.keys())
            .map(|(_, email)| email.clone())
            .collect();
        let full = AccessImpact {
            changes: {
                let old = AccessIndex::new(&before.without_expired(today()), today());
                let new = AccessIndex::new(&after.without_expired(today()), today());
                let mut changes = Vec::new();
                for email in &everyone {
                    compare(
                        email,
                        old.partner_access(email),
                        new.partner_access(email),
                        &mut changes,
                    );
                }
                changes
            },
        };
        assert_eq!(result, full);
    }

    proptest::proptest! {
        /// A summary and a walk count partners by their signatures: their totals, first
        /// lines, changes and folders are still those of the whole impact, comparing
        /// every partner.
        #[test]
        fn a_summary_and_a_walk_counted_by_signatures_equal_the_whole_impact(
            before_picks in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..40),
            after_picks in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..40),
            limit in 0usize..4,
        ) {
            let universe = crate::access::index::tests::universe();
            let state = |picks: &[proptest::sample::Index]| {
                let mut state = State::default();
                for pick in picks {
                    let _ = state.apply(std::slice::from_ref(pick.get(&universe)));
                }
                state.without_expired(today()).into_owned()
            };
            let (before, after) = (state(&before_picks), state(&after_picks));
            let plan = diff(&before, &after);
            let whole = impact(&before, &after, &plan, today());
            let summary = impact_summary(&before, &after, &plan, today(), limit);
            proptest::prop_assert_eq!(&summary.first[..], &whole.changes[..limit.min(whole.changes.len())]);
            proptest::prop_assert_eq!(summary.counts.changes, whole.changes.len());
            proptest::prop_assert_eq!(summary.counts.partners_gaining, whole.partners_gaining());
            proptest::prop_assert_eq!(summary.counts.partners_losing, whole.partners_losing());
            // The walk that `plan` prints: the same changes in the same order, counted
            // and its folders found by signatures.
            let walk = ImpactWalk::new(&before, &after, &plan, today());
            let mut walked = Vec::new();
            walk.for_each_change(&mut |change| {
                walked.push(change.clone());
                ControlFlow::Continue(())
            });
            proptest::prop_assert_eq!(&walked, &whole.changes);
            proptest::prop_assert_eq!(walk.counts(), ImpactView::counts(&whole));
            let mut folders = BTreeSet::new();
            walk.for_each_changed_folder(&mut |folder| {
                folders.insert(folder.to_string());
            });
            let whole_folders: BTreeSet<String> =
                whole.changes.iter().map(|change| change.folder.clone()).collect();
            proptest::prop_assert_eq!(folders, whole_folders);
        }
    }

    #[test]
    fn a_summary_is_the_impact_cut_after_its_first_changes_with_the_same_totals() {
        let mut before = base();
        share(&mut before, "/Q", "user:a@x.com", Access::View);
        let mut after = base();
        share(&mut after, "/P", "portal:p", Access::View);
        let (before, after) = (before.without_expired(today()), after.without_expired(today()));
        let plan = diff(&before, &after);
        let whole = impact(&before, &after, &plan, today());
        assert!(
            whole.partners_gaining() > 0 && whole.partners_losing() > 0,
            "{whole:?}"
        );
        for limit in [0, 1, 2, whole.changes.len(), whole.changes.len() + 5] {
            let summary = impact_summary(&before, &after, &plan, today(), limit);
            assert_eq!(summary.first, whole.changes[..limit.min(whole.changes.len())]);
            assert_eq!(summary.counts.changes, whole.changes.len());
            assert_eq!(summary.counts.partners_gaining, whole.partners_gaining());
            assert_eq!(summary.counts.partners_losing, whole.partners_losing());
            assert_eq!(summary.counts.totals(), whole.totals());
        }
    }

    #[test]
    fn a_direct_share_reaches_its_user() {
        let before = base();
        let mut after = base();
        share(&mut after, "/Q", "user:b@x.com", Access::View);
        check(&before, &after, &["b@x.com -→view /Q via user:b@x.com@/Q"]);
    }

    #[test]
    fn a_member_added_to_a_shared_group_gains_via_the_group() {
        let mut before = base();
        share(&mut before, "/Q", "group:g", Access::Edit);
        let mut after = before.clone();
        after
            .groups
            .get_mut("g")
            .unwrap()
            .members
            .insert("b@x.com".into());
        check(&before, &after, &["b@x.com -→edit /Q via group:g@/Q"]);
    }

    #[test]
    fn a_member_removed_from_a_portal_loses_via_the_portal() {
        let mut before = base();
        share(&mut before, "/Q", "portal:p", Access::View);
        let mut after = before.clone();
        after.members.remove(&("p".to_string(), "b@x.com".to_string()));
        check(&before, &after, &["b@x.com view→- /Q via portal:p@/Q"]);
    }

    #[test]
    fn a_share_on_a_parent_reaches_its_sub_folders() {
        let before = base();
        let mut after = base();
        share(&mut after, "/P", "portal:p", Access::View);
        check(
            &before,
            &after,
            &[
                "a@x.com -→view /P via portal:p@/P",
                "a@x.com -→view /P/F via portal:p@/P",
                "b@x.com -→view /P via portal:p@/P",
                "b@x.com -→view /P/F via portal:p@/P",
            ],
        );
    }

    #[test]
    fn a_level_change_lists_the_grants_after() {
        let mut before = base();
        share(&mut before, "/P", "user:a@x.com", Access::View);
        let mut after = before.clone();
        share(&mut after, "/P/F", "group:g", Access::Edit);
        check(
            &before,
            &after,
            &["a@x.com view→edit /P/F via user:a@x.com@/P,group:g@/P/F"],
        );
    }

    #[test]
    fn a_created_or_deleted_group_moves_all_its_members() {
        let mut before = base();
        share(&mut before, "/Q", "group:h", Access::View);
        let mut after = before.clone();
        after.groups.insert(
            "h".into(),
            Group {
                description: None,
                members: ["a@x.com".to_string(), "b@x.com".to_string()].into(),
                joined_live: Default::default(),
            },
        );
        check(
            &before,
            &after,
            &[
                "a@x.com -→view /Q via group:h@/Q",
                "b@x.com -→view /Q via group:h@/Q",
            ],
        );
        check(
            &after,
            &before,
            &[
                "a@x.com view→- /Q via group:h@/Q",
                "b@x.com view→- /Q via group:h@/Q",
            ],
        );
    }

    #[test]
    fn a_folder_created_under_a_shared_parent_is_reached() {
        let mut before = base();
        share(&mut before, "/P", "group:g", Access::View);
        let mut after = before.clone();
        after.folders.insert("/P/New".into(), Folder::default());
        check(&before, &after, &["a@x.com -→view /P/New via group:g@/P"]);
    }

    #[test]
    fn an_expired_grant_is_a_loss() {
        let mut before = base();
        share(&mut before, "/Q", "user:a@x.com", Access::View);
        let mut after = before.clone();
        after
            .shares
            .values_mut()
            .for_each(|share| share.expires = Some("2026-11-26".parse().unwrap()));
        // The caller plans against the state without expired grants.
        let after = after.without_expired(today());
        check(&before, &after, &["a@x.com view→- /Q via user:a@x.com@/Q"]);
    }

    #[test]
    fn roles_and_attributes_change_nothing() {
        let mut before = base();
        share(&mut before, "/Q", "portal:p", Access::View);
        let mut after = before.clone();
        after.roles.insert("r".into(), crate::model::Role::default());
        check(&before, &after, &[]);
    }

    #[test]
    fn a_role_change_shows_in_the_impact() {
        let mut before = base();
        before.members.insert(("p".into(), "c@x.com".into()), {
            let mut viewer = member(None);
            viewer.role = "viewer".into();
            viewer
        });
        share(&mut before, "/Q", "user:c@x.com", Access::Edit);
        // The member's role changes: viewer → editor lifts the cap.
        let mut after = before.clone();
        if let Some(member) = after.members.get_mut(&("p".into(), "c@x.com".into())) {
            member.role = "editor".into();
        }
        check(&before, &after, &["c@x.com view→edit /Q via user:c@x.com@/Q"]);
        // A custom role gaining reports.edit changes every holder's level.
        let auditor = |permissions: &[&str]| crate::model::Role {
            description: None,
            extends: Some("viewer".into()),
            permissions: permissions.iter().map(|p| (*p).to_string()).collect(),
        };
        let mut with_role = before.clone();
        with_role.roles.insert("auditor".into(), auditor(&[]));
        if let Some(member) = with_role.members.get_mut(&("p".into(), "c@x.com".into())) {
            member.role = "auditor".into();
        }
        let mut edited = with_role.clone();
        edited.roles.insert("auditor".into(), auditor(&["reports.edit"]));
        check(&with_role, &edited, &["c@x.com view→edit /Q via user:c@x.com@/Q"]);
        // A permission that changes no level still shows.
        let mut exporting = with_role.clone();
        exporting
            .roles
            .insert("auditor".into(), auditor(&["comments.write", "reports.edit"]));
        let plan = diff(&edited, &exporting);
        let result = impact(&edited, &exporting, &plan, today());
        assert_eq!(result.changes.len(), 1);
        assert_eq!(
            result.changes[0].permission_delta(),
            (vec!["comments.write"], vec![])
        );
        assert!(result.changes[0].is_gain());
    }

    #[test]
    fn totals_count_partners_and_agree_in_number() {
        let change = |email: &str, before, after| AccessChange {
            email: email.into(),
            folder: "/F".into(),
            before,
            after,
            via: vec![Grant {
                kind: GrantKind::Direct,
                principal: Principal::User(email.to_string()),
                shared_folder: "/F".into(),
                level: Access::View,
                shared_level: Access::View,
                role: "viewer".into(),
                expires: None,
            }],
            ..AccessChange::default()
        };
        let mut impact = AccessImpact {
            changes: vec![
                change("a@x.com", None, Some(Access::View)),
                change("b@x.com", Some(Access::View), Some(Access::Edit)),
                change("c@x.com", Some(Access::View), None),
            ],
        };
        assert_eq!(impact.totals(), "2 partners gain access, 1 loses");
        impact.changes.remove(0);
        impact.changes.push(change("d@x.com", Some(Access::Edit), None));
        assert_eq!(impact.totals(), "1 partner gains access, 2 lose");
    }
}
