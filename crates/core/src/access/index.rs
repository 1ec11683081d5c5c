//! `AccessIndex`: lookups precomputed once per `State` and day, so that the access of one
//! partner costs only that partner's grants, never partners × folders.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    Access, AccessKey, CalendarDate, FolderPath, Principal, ResourceKey, ResourceValue, Role, State, VecMap,
    VecSet, normalize_email, paths_below, required_level, role_permissions, self_and_ancestors,
};

/// How a grant reaches the partner.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// A share with `user:<email>`.
    Direct,
    /// A share with a group the partner is in.
    Group,
    /// A share with a portal the partner is an active member of.
    Portal,
    /// A share with a partner org one of the partner's active memberships names.
    Org,
}

/// One path that grants access to a folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Grant {
    pub kind: GrantKind,
    /// The share's principal, e.g. `group:finance`.
    #[schemars(with = "String")]
    pub principal: Principal,
    /// The folder the share is on: the folder itself or one of its ancestors.
    pub shared_folder: FolderPath,
    /// The level this grant gives: the share's level capped by `role`.
    pub level: Access,
    /// The level the share itself names, before the role caps it.
    pub shared_level: Access,
    /// The role that caps this grant: the role in the portal for a portal share, the
    /// partner's highest role in any portal otherwise.
    pub role: String,
    /// The last day the share grants; absent: no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<CalendarDate>,
}

/// What a path that can be shared names: a folder or a dashboard.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    #[default]
    Folder,
    Dashboard,
}

impl ContentKind {
    /// `folder` or `dashboard`, as outputs label a path.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Folder => "folder",
            Self::Dashboard => "dashboard",
        }
    }
}

impl std::fmt::Display for ContentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a partner can do with one folder or dashboard, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FolderAccess {
    /// The path of the folder or dashboard.
    pub folder: FolderPath,
    /// Whether `folder` is a folder or a dashboard.
    #[serde(default)]
    pub kind: ContentKind,
    /// The highest level among the grants.
    pub level: Access,
    /// The permissions the partner can use on the folder: those of the grants' roles,
    /// edit-type ones (all but `*.view`) only through a grant that gives `edit`.
    #[serde(default)]
    pub permissions: VecSet<String>,
    /// Every grant, sorted.
    pub grants: Vec<Grant>,
}

/// One active membership as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seat {
    role: String,
    org: Option<String>,
}

impl Seat {
    fn of(member: &crate::model::Membership) -> Self {
        Self {
            role: member.role.clone(),
            org: member.org.clone(),
        }
    }
}

/// What is declared at one path. A valid state declares a path as one of the two; the
/// index keeps both flags so that updating it follows any state exactly like rebuilding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Declared {
    folder: bool,
    dashboard: bool,
}

impl Declared {
    fn kind(self) -> ContentKind {
        if self.dashboard {
            ContentKind::Dashboard
        } else {
            ContentKind::Folder
        }
    }
}

/// A share as the index keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShareGrant {
    access: Access,
    expires: Option<CalendarDate>,
}

/// Precomputed lookups over one `State` on one day. Owns its data, so it can be cached
/// next to the state it was built from.
///
/// # Guarantees
/// Building costs one pass over memberships, groups, shares and folders. After that,
/// [`AccessIndex::partner_access`] costs the partner's principals × their shares × the
/// folders and dashboards below each shared path, and [`AccessIndex::check`] costs the
/// partner's principals × the depth of the path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessIndex {
    /// Active (not expired, not pending) portals of each email, with the role and org in each.
    portals_by_email: HashMap<String, VecMap<String, Seat>>,
    /// Groups listing each email.
    groups_by_email: HashMap<String, VecSet<String>>,
    /// Active shares by principal: folder → level and end.
    shares_by_principal: HashMap<Principal, BTreeMap<FolderPath, ShareGrant>>,
    /// Declared folders and dashboards, by path.
    content: BTreeMap<FolderPath, Declared>,
    /// Custom roles (built-in ones are known without being listed).
    roles: BTreeMap<String, Role>,
    /// The levels the workspace declares permissions to need (`workspace.permissions`).
    permission_levels: BTreeMap<String, crate::model::PermissionSpec>,
}

impl AccessIndex {
    pub fn new(state: &State, today: CalendarDate) -> Self {
        let mut portals_by_email: HashMap<String, VecMap<String, Seat>> = HashMap::new();
        for ((portal, email), membership) in &state.members {
            if membership.grants_on(today) {
                portals_by_email
                    .entry(email.clone())
                    .or_default()
                    .insert(portal.clone(), Seat::of(membership));
            }
        }
        let mut groups_by_email: HashMap<String, VecSet<String>> = HashMap::new();
        for (name, group) in &state.groups {
            for email in &group.members {
                groups_by_email
                    .entry(normalize_email(email))
                    .or_default()
                    .insert(name.clone());
            }
        }
        let mut shares_by_principal: HashMap<Principal, BTreeMap<FolderPath, ShareGrant>> = HashMap::new();
        for ((folder, principal), share) in &state.shares {
            if share.expires.is_none_or(|day| day >= today) {
                shares_by_principal
                    .entry(principal.clone())
                    .or_default()
                    .insert(folder.clone(), ShareGrant::of(share));
            }
        }
        let mut content: BTreeMap<FolderPath, Declared> = BTreeMap::new();
        for path in state.folders.keys() {
            content.entry(path.clone()).or_default().folder = true;
        }
        for path in state.dashboards.keys() {
            content.entry(path.clone()).or_default().dashboard = true;
        }
        Self {
            portals_by_email,
            groups_by_email,
            shares_by_principal,
            content,
            roles: state.roles.clone(),
            permission_levels: state.workspace.permissions.clone(),
        }
    }

    /// The same lookups as [`AccessIndex::new`], restricted to `emails`: every answer
    /// about one of those emails is exactly the one `new` would give; other emails see
    /// nothing.
    ///
    /// # Guarantees
    /// One scan of the memberships, one probe of each group per email (or one scan of
    /// its members when that is smaller), one scan of the shares, and a range over the
    /// declared folders and dashboards below each kept share. Nothing is allocated for
    /// memberships, groups, shares, folders or dashboards that do not concern `emails`.
    pub fn for_partners(state: &State, today: CalendarDate, emails: &BTreeSet<String>) -> Self {
        let emails: BTreeSet<String> = emails.iter().map(|email| normalize_email(email)).collect();
        let mut portals_by_email: HashMap<String, VecMap<String, Seat>> = HashMap::new();
        if !emails.is_empty() {
            for ((portal, email), membership) in &state.members {
                if emails.contains(email) && membership.grants_on(today) {
                    portals_by_email
                        .entry(email.clone())
                        .or_default()
                        .insert(portal.clone(), Seat::of(membership));
                }
            }
        }
        let mut groups_by_email: HashMap<String, VecSet<String>> = HashMap::new();
        for (name, group) in &state.groups {
            if emails.len() <= group.members.len() {
                for email in &emails {
                    if group.members.contains(email) {
                        groups_by_email
                            .entry(email.clone())
                            .or_default()
                            .insert(name.clone());
                    }
                }
            } else {
                for member in &group.members {
                    if emails.contains(member) {
                        groups_by_email
                            .entry(member.clone())
                            .or_default()
                            .insert(name.clone());
                    }
                }
            }
        }
        let groups: BTreeSet<&str> = groups_by_email.values().flatten().map(String::as_str).collect();
        let portals: BTreeSet<&str> = portals_by_email
            .values()
            .flat_map(VecMap::keys)
            .map(String::as_str)
            .collect();
        let orgs: BTreeSet<&str> = portals_by_email
            .values()
            .flat_map(VecMap::values)
            .filter_map(|seat| seat.org.as_deref())
            .collect();
        let wanted = |principal: &Principal| match principal {
            Principal::User(email) => portals_by_email.contains_key(email),
            Principal::Group(group) => groups.contains(group.as_str()),
            Principal::Portal(portal) => portals.contains(portal.as_str()),
            Principal::Org(org) => orgs.contains(org.as_str()),
        };
        let mut shares_by_principal: HashMap<Principal, BTreeMap<FolderPath, ShareGrant>> = HashMap::new();
        let mut content: BTreeMap<FolderPath, Declared> = BTreeMap::new();
        if !portals_by_email.is_empty() {
            for ((folder, principal), share) in &state.shares {
                if share.expires.is_none_or(|day| day >= today) && wanted(principal) {
                    shares_by_principal
                        .entry(principal.clone())
                        .or_default()
                        .insert(folder.clone(), ShareGrant::of(share));
                    if content.contains_key(folder) {
                        // Another kept share on this path, or above it, copied it and below.
                        continue;
                    }
                    if state.folders.contains_key(folder) {
                        content.entry(folder.clone()).or_default().folder = true;
                    }
                    if state.dashboards.contains_key(folder) {
                        content.entry(folder.clone()).or_default().dashboard = true;
                    }
                    for (path, _) in paths_below(&state.folders, folder) {
                        content.entry(path.clone()).or_default().folder = true;
                    }
                    for (path, _) in paths_below(&state.dashboards, folder) {
                        content.entry(path.clone()).or_default().dashboard = true;
                    }
                }
            }
        }
        Self {
            portals_by_email,
            groups_by_email,
            shares_by_principal,
            content,
            roles: state.roles.clone(),
            permission_levels: state.workspace.permissions.clone(),
        }
    }

    /// Brings the index up to date with one changed resource: `before` and `after` are its
    /// values in the states before and after the change (`None`: absent).
    ///
    /// # Guarantees
    /// After every changed key of a batch went through `update`, the index equals
    /// [`AccessIndex::new`] of the new state on the same day. Costs the size of the change:
    /// for a group, the members that differ between `before` and `after`.
    pub fn update(
        &mut self,
        key: &ResourceKey,
        before: Option<&ResourceValue>,
        after: Option<&ResourceValue>,
        today: CalendarDate,
    ) {
        let active = |expires: Option<CalendarDate>| expires.is_none_or(|day| day >= today);
        match key.access() {
            AccessKey::Member { portal, email } => match after {
                Some(ResourceValue::Member(member)) if member.grants_on(today) => {
                    self.portals_by_email
                        .entry(email.clone())
                        .or_default()
                        .insert(portal.clone(), Seat::of(member));
                }
                _ => remove_from(&mut self.portals_by_email, email, portal),
            },
            AccessKey::Group(name) => {
                // The entries that differ, found by walking both sorted sets without a copy
                // of either: adding one entry to a group of 10,000 costs that entry.
                let empty = BTreeSet::new();
                let (old, new) = match (before, after) {
                    (Some(ResourceValue::Group(old)), Some(ResourceValue::Group(new))) => {
                        (&old.members, &new.members)
                    }
                    (Some(ResourceValue::Group(old)), _) => (&old.members, &empty),
                    (_, Some(ResourceValue::Group(new))) => (&empty, &new.members),
                    _ => (&empty, &empty),
                };
                let removed: Vec<String> = old.difference(new).map(|email| normalize_email(email)).collect();
                // Another spelling of a removed address may stay in the group: a scan of the
                // group for a few removals, a set of its addresses for many.
                let staying: Option<std::collections::HashSet<String>> =
                    (removed.len() > 8).then(|| new.iter().map(|email| normalize_email(email)).collect());
                for normalized in &removed {
                    let stays = match &staying {
                        Some(staying) => staying.contains(normalized),
                        None => new
                            .iter()
                            .any(|other| other.trim().eq_ignore_ascii_case(normalized)),
                    };
                    if !stays {
                        remove_from(&mut self.groups_by_email, normalized, name);
                    }
                }
                for email in new.difference(old) {
                    self.groups_by_email
                        .entry(normalize_email(email))
                        .or_default()
                        .insert(name.clone());
                }
            }
            AccessKey::Share { folder, principal } => match after {
                Some(ResourceValue::Share(share)) if active(share.expires) => {
                    self.shares_by_principal
                        .entry(principal.clone())
                        .or_default()
                        .insert(folder.clone(), ShareGrant::of(share));
                }
                _ => remove_from(&mut self.shares_by_principal, principal, folder),
            },
            AccessKey::Folder(path) => self.declare(path, after.is_some(), |declared| &mut declared.folder),
            AccessKey::Dashboard(path) => {
                self.declare(path, after.is_some(), |declared| &mut declared.dashboard);
            }
            AccessKey::Role(name) => match after {
                Some(ResourceValue::Role(role)) => {
                    self.roles.insert(name.clone(), role.clone());
                }
                _ => {
                    self.roles.remove(name);
                }
            },
            AccessKey::Workspace => {
                if let Some(ResourceValue::Workspace(workspace)) = after {
                    self.permission_levels = workspace.permissions.clone();
                }
            }
            AccessKey::PartnerOrg(_) | AccessKey::Portal(_) | AccessKey::None => {}
        }
    }

    /// Sets or clears one flag of what is declared at `path`, dropping the entry once
    /// nothing is, as a rebuilt index would not have it.
    fn declare(&mut self, path: &str, present: bool, flag: impl Fn(&mut Declared) -> &mut bool) {
        if present {
            *flag(self.content.entry(path.to_string()).or_default()) = true;
        } else if let Some(declared) = self.content.get_mut(path) {
            *flag(declared) = false;
            if *declared == Declared::default() {
                self.content.remove(path);
            }
        }
    }

    /// What `path` is declared as: `None` when it is neither a folder nor a dashboard.
    pub fn kind_of(&self, path: &str) -> Option<ContentKind> {
        self.content.get(path).map(|declared| declared.kind())
    }

    /// Every permission of a role, `extends` followed.
    fn permissions_of_role(&self, role: &str) -> BTreeSet<String> {
        role_permissions(role, |name| self.roles.get(name))
    }

    /// The role that caps a grant of `kind` through `principal`, and its permissions:
    /// the role in the portal for a portal grant; for any other grant the partner's
    /// highest role (one giving `reports.edit` first, then the smallest name), with the
    /// permissions of every role the partner holds.
    fn capping_role(
        &self,
        portals: &VecMap<String, Seat>,
        principal: &Principal,
    ) -> (String, BTreeSet<String>) {
        if let Principal::Portal(portal) = principal
            && let Some(seat) = portals.get(portal)
        {
            return (seat.role.clone(), self.permissions_of_role(&seat.role));
        }
        let mut best: Option<(bool, &String)> = None;
        let mut permissions = BTreeSet::new();
        for role in portals.values().map(|seat| &seat.role) {
            let own = self.permissions_of_role(role);
            let edits = own.contains(EDIT_PERMISSION);
            if best.is_none_or(|(best_edits, best_role)| {
                (edits, std::cmp::Reverse(role)) > (best_edits, std::cmp::Reverse(best_role))
            }) {
                best = Some((edits, role));
            }
            permissions.extend(own);
        }
        (
            best.map(|(_, role)| role.clone()).unwrap_or_default(),
            permissions,
        )
    }

    /// How many emails hold an active seat somewhere.
    pub fn partner_count(&self) -> usize {
        self.portals_by_email.len()
    }

    /// Whether the email has at least one active portal membership.
    pub fn is_active_partner(&self, email: &str) -> bool {
        self.portals_by_email.contains_key(&normalize_email(email))
    }

    /// The principals that reach `email`, with how they reach it; empty for a non-partner.
    fn principals_of(&self, email: &str) -> Vec<(GrantKind, Principal)> {
        let Some(portals) = self.portals_by_email.get(email) else {
            return Vec::new();
        };
        let mut principals = vec![(GrantKind::Direct, Principal::User(email.to_string()))];
        if let Some(groups) = self.groups_by_email.get(email) {
            principals.extend(
                groups
                    .iter()
                    .map(|group| (GrantKind::Group, Principal::Group(group.clone()))),
            );
        }
        principals.extend(
            portals
                .keys()
                .map(|portal| (GrantKind::Portal, Principal::Portal(portal.clone()))),
        );
        let orgs: BTreeSet<&String> = portals.values().filter_map(|seat| seat.org.as_ref()).collect();
        principals.extend(
            orgs.into_iter()
                .map(|org| (GrantKind::Org, Principal::Org(org.clone()))),
        );
        principals
    }

    /// What decides the access of `email`, less who the partner is: see [`AccessSignature`].
    pub fn signature(&self, email: &str) -> AccessSignature {
        let email = normalize_email(email);
        let mut signature = AccessSignature::default();
        let Some(portals) = self.portals_by_email.get(&email) else {
            return signature;
        };
        let mut capped_by_every_role = false;
        for (_, principal) in self.principals_of(&email) {
            if !self.shares_by_principal.contains_key(&principal) {
                continue;
            }
            match principal {
                Principal::User(email) => {
                    signature.user = Some(email);
                    capped_by_every_role = true;
                }
                Principal::Group(group) => {
                    signature.groups.push(group);
                    capped_by_every_role = true;
                }
                Principal::Portal(portal) => {
                    let role = portals
                        .get(&portal)
                        .map(|seat| seat.role.clone())
                        .unwrap_or_default();
                    signature.portals.push((portal, role));
                }
                Principal::Org(org) => {
                    signature.orgs.push(org);
                    capped_by_every_role = true;
                }
            }
        }
        if capped_by_every_role {
            signature.roles = portals.values().map(|seat| seat.role.clone()).collect();
            signature.roles.sort_unstable();
            signature.roles.dedup();
        }
        signature
    }

    /// The shared path and the folders and dashboards declared below it, with their kinds.
    fn covered<'a>(&'a self, shared: &'a str) -> impl Iterator<Item = (&'a str, ContentKind)> + 'a {
        let below =
            paths_below(&self.content, shared).map(|(path, declared)| (path.as_str(), declared.kind()));
        let own = self.kind_of(shared).unwrap_or_default();
        std::iter::once((shared, own)).chain(below)
    }

    /// Everything `email` can see (folders and dashboards), sorted by path, each with
    /// every grant and the permissions usable there.
    pub fn partner_access(&self, email: &str) -> Vec<FolderAccess> {
        self.access_through(&normalize_email(email), |_| true)
    }

    /// Everything `email` can open in `portal`: what [`AccessIndex::partner_access`]
    /// lists, less the grants of other portals' `portal:` shares (a share with the
    /// partner, their groups or their org reaches them in every portal they are in).
    /// Empty unless `email` is an active member of `portal`: a portal's home and
    /// `GET /v1/access/{email}?portal=` both answer with this.
    pub fn partner_access_in(&self, email: &str, portal: &str) -> Vec<FolderAccess> {
        let email = normalize_email(email);
        if !self.is_active_member(&email, portal) {
            return Vec::new();
        }
        self.access_through(&email, |principal| match principal {
            Principal::Portal(other) => other == portal,
            Principal::Group(_) | Principal::User(_) | Principal::Org(_) => true,
        })
    }

    /// Whether `email` has an active membership of `portal`.
    pub fn is_active_member(&self, email: &str, portal: &str) -> bool {
        self.portals_by_email
            .get(&normalize_email(email))
            .is_some_and(|portals| portals.get(portal).is_some())
    }

    /// The access of `email` (normalised) through the principals `include` keeps.
    fn access_through(&self, email: &str, include: impl Fn(&Principal) -> bool) -> Vec<FolderAccess> {
        let Some(portals) = self.portals_by_email.get(email) else {
            return Vec::new();
        };
        let mut by_folder: BTreeMap<&str, (ContentKind, Vec<Grant>, BTreeSet<String>)> = BTreeMap::new();
        for (kind, principal) in self.principals_of(email) {
            if !include(&principal) {
                continue;
            }
            let Some(shares) = self.shares_by_principal.get(&principal) else {
                continue;
            };
            let (role, role_permissions) = self.capping_role(portals, &principal);
            let cap = cap_of(&role_permissions);
            for (shared, share) in shares {
                let level = share.access.min(cap);
                for (folder, content_kind) in self.covered(shared) {
                    let (_, grants, permissions) =
                        by_folder
                            .entry(folder)
                            .or_insert((content_kind, Vec::new(), BTreeSet::new()));
                    permissions.extend(self.usable(&role_permissions, level));
                    grants.push(Grant {
                        kind,
                        principal: principal.clone(),
                        shared_folder: shared.clone(),
                        level,
                        shared_level: share.access,
                        role: role.clone(),
                        expires: share.expires,
                    });
                }
            }
        }
        by_folder
            .into_iter()
            .filter_map(|(folder, (kind, mut grants, permissions))| {
                grants.sort();
                let level = grants.iter().map(|grant| grant.level).max()?;
                Some(FolderAccess {
                    folder: folder.to_string(),
                    kind,
                    level,
                    permissions: permissions.into(),
                    grants,
                })
            })
            .collect()
    }

    /// The level `email` has on `folder`, or `None`. A folder that is neither declared nor
    /// itself shared is reached by nothing.
    pub fn check(&self, email: &str, folder: &str) -> Option<Access> {
        self.decide(email, folder).map(|(level, _)| level)
    }

    /// The level `email` has on the `kind` at `path`, and the permissions usable there, or
    /// `None`. A dashboard is answered only when `path` is a declared dashboard; a folder
    /// only when `path` is not one (an undeclared folder is reached by its own shares
    /// only, as [`AccessIndex::decide`] says).
    ///
    /// # Guarantees
    /// The cost of [`AccessIndex::decide`].
    pub fn decide_on(
        &self,
        email: &str,
        kind: ContentKind,
        path: &str,
    ) -> Option<(Access, BTreeSet<String>)> {
        if !self.answers_as(kind, path) {
            return None;
        }
        self.decide(email, path)
    }

    /// Whether `path` is asked about as what it is: a dashboard only where one is
    /// declared, a folder anywhere else (an undeclared folder is reached by its own
    /// shares only, as [`AccessIndex::decide`] says).
    fn answers_as(&self, kind: ContentKind, path: &str) -> bool {
        let declared = self.kind_of(path);
        match kind {
            ContentKind::Dashboard => declared == Some(ContentKind::Dashboard),
            ContentKind::Folder => declared != Some(ContentKind::Dashboard),
        }
    }

    /// The level `email` has on `folder` (a folder or a dashboard: a dashboard inherits
    /// the shares of its folder and the folder's ancestors) and the permissions usable
    /// there, or `None`.
    ///
    /// # Guarantees
    /// Costs the partner's principals × the depth of the folder, plus one walk of each
    /// held role's `extends` chain.
    pub fn decide(&self, email: &str, folder: &str) -> Option<(Access, BTreeSet<String>)> {
        let email = normalize_email(email);
        let portals = self.portals_by_email.get(&email)?;
        let principals = self.principals_of(&email);
        let declared = self.content.contains_key(folder);
        let mut best: Option<Access> = None;
        let mut permissions = BTreeSet::new();
        for (_, principal) in &principals {
            let Some(shares) = self.shares_by_principal.get(principal) else {
                continue;
            };
            let mut shared: Option<Access> = None;
            for (depth, ancestor) in self_and_ancestors(folder).enumerate() {
                if depth > 0 && !declared {
                    break;
                }
                if let Some(share) = shares.get(ancestor) {
                    shared = shared.max(Some(share.access));
                }
            }
            let Some(shared) = shared else { continue };
            let (_, role_permissions) = self.capping_role(portals, principal);
            let level = shared.min(cap_of(&role_permissions));
            permissions.extend(self.usable(&role_permissions, level));
            best = best.max(Some(level));
        }
        best.map(|level| (level, permissions))
    }
}

/// What decides a partner's access under one index, less who the partner is: the
/// principals that reach the partner and have shares, and the roles that cap them. Two
/// partners with equal signatures see the same folders and dashboards, at the same
/// levels, with the same permissions and grants ([`AccessIndex::partner_access`]); only
/// a direct share names its partner, so a signature holding one is the partner's own.
/// An impact over millions of grants compares each pair of signatures once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AccessSignature {
    /// The partner's email, when a share names them directly.
    user: Option<String>,
    /// The partner's groups that have shares, in the index's order.
    groups: Vec<String>,
    /// The partner's portals that have shares, each with the partner's role there.
    portals: Vec<(String, String)>,
    /// The orgs of the partner's seats that have shares.
    orgs: Vec<String>,
    /// Every role the partner holds, sorted, when a share that is not a portal's is
    /// capped by them; empty otherwise.
    roles: Vec<String>,
}

impl AccessSignature {
    /// Whether a direct share names the partner: then no other partner has this signature.
    pub fn names_the_partner(&self) -> bool {
        self.user.is_some()
    }
}

/// One partner's level on a path, from a reverse lookup, with the seats it was decided
/// with (for counting partners per portal and org without finding them again).
#[derive(Debug, Clone, Copy)]
pub struct PartnerLevel<'e, 's> {
    pub email: &'e str,
    pub level: Access,
    seats: &'s VecMap<String, Seat>,
}

impl<'s> PartnerLevel<'_, 's> {
    /// The portals where the partner holds an active seat, with the seat's org.
    pub fn seats(&self) -> impl Iterator<Item = (&'s str, Option<&'s str>)> + 's {
        self.seats
            .iter()
            .map(|(portal, seat)| (portal.as_str(), seat.org.as_deref()))
    }
}

/// The levels the principals sharing one path give, found once, so that each partner of
/// a reverse lookup costs a few lookups in these small maps. Their keys are portal, org,
/// group and role names and shared-with emails, all declared, so FxHash is safe here.
struct SharedLevels<'s> {
    users: FxHashMap<&'s str, Access>,
    groups: FxHashMap<&'s str, Access>,
    portals: FxHashMap<&'s str, Access>,
    orgs: FxHashMap<&'s str, Access>,
    /// Whether each role met so far may edit; roles are few, so a list beats a map.
    edits_by_role: std::cell::RefCell<Vec<(&'s str, bool)>>,
}

impl<'s> SharedLevels<'s> {
    /// The levels on `path` of the `sharing` principals, or `None` when `kind` is not what
    /// is declared at `path` (nobody opens it then).
    fn new(index: &AccessIndex, sharing: &[&'s Principal], kind: ContentKind, path: &str) -> Option<Self> {
        if !index.answers_as(kind, path) {
            return None;
        }
        let declared = index.content.contains_key(path);
        let mut levels = Self {
            users: FxHashMap::default(),
            groups: FxHashMap::default(),
            portals: FxHashMap::default(),
            orgs: FxHashMap::default(),
            edits_by_role: std::cell::RefCell::new(Vec::new()),
        };
        for principal in sharing {
            let Some(shares) = index.shares_by_principal.get(*principal) else {
                continue;
            };
            let mut shared: Option<Access> = None;
            for (depth, ancestor) in self_and_ancestors(path).enumerate() {
                if depth > 0 && !declared {
                    break;
                }
                if let Some(share) = shares.get(ancestor) {
                    shared = shared.max(Some(share.access));
                }
            }
            let Some(shared) = shared else { continue };
            let (by_name, name) = match principal {
                Principal::User(email) => (&mut levels.users, email.as_str()),
                Principal::Group(group) => (&mut levels.groups, group.as_str()),
                Principal::Portal(portal) => (&mut levels.portals, portal.as_str()),
                Principal::Org(org) => (&mut levels.orgs, org.as_str()),
            };
            let level = by_name.entry(name).or_insert(shared);
            *level = (*level).max(shared);
        }
        Some(levels)
    }

    fn edits(&self, index: &AccessIndex, role: &'s str) -> bool {
        let mut known = self.edits_by_role.borrow_mut();
        if let Some((_, edits)) = known.iter().find(|(name, _)| *name == role) {
            return *edits;
        }
        let edits = index.permissions_of_role(role).contains(EDIT_PERMISSION);
        known.push((role, edits));
        edits
    }

    /// The level of the partner `email` (normalised) holding `seats`, or `None`.
    fn level_of(
        &self,
        index: &'s AccessIndex,
        email: &str,
        seats: &'s VecMap<String, Seat>,
    ) -> Option<Access> {
        let cap = |edits: bool| if edits { Access::Edit } else { Access::View };
        // A grant other than a portal's is capped by every role the partner holds.
        let any_edits = || cap(seats.values().any(|seat| self.edits(index, &seat.role)));
        let mut best: Option<Access> = None;
        if let Some(level) = self.users.get(email) {
            best = best.max(Some((*level).min(any_edits())));
        }
        if !self.groups.is_empty()
            && let Some(member_of) = index.groups_by_email.get(email)
        {
            for group in member_of {
                if let Some(level) = self.groups.get(group.as_str()) {
                    best = best.max(Some((*level).min(any_edits())));
                }
            }
        }
        for (portal, seat) in seats.iter() {
            if let Some(level) = self.portals.get(portal.as_str()) {
                best = best.max(Some((*level).min(cap(self.edits(index, &seat.role)))));
            }
            if let Some(org) = &seat.org
                && let Some(level) = self.orgs.get(org.as_str())
            {
                best = best.max(Some((*level).min(any_edits())));
            }
        }
        best
    }
}

impl AccessIndex {
    /// The level each of `emails` has on `path`, as [`AccessIndex::decide_on`] decides it
    /// but without the permissions: for a reverse lookup ("who can open this?") over
    /// many partners. `sharing` names the principals with a share on `path` or one of its
    /// ancestors (expired shares among them are ignored, as the index ignores them).
    /// Emails that are no active partner are left out.
    ///
    /// # Guarantees
    /// Each sharing principal's level on the path and each role's cap are found once;
    /// each email then costs one lookup of its seats and a few lookups in small maps, and
    /// no allocation (unless it needs normalising), where `decide_on` builds the
    /// partner's principals and permission sets.
    pub fn levels_on<'s, 'e>(
        &'s self,
        sharing: &[&'s Principal],
        emails: impl IntoIterator<Item = &'e str>,
        kind: ContentKind,
        path: &str,
    ) -> Vec<PartnerLevel<'e, 's>> {
        let Some(shared) = SharedLevels::new(self, sharing, kind, path) else {
            return Vec::new();
        };
        let mut levels = Vec::new();
        for email in emails {
            let normalized;
            let key = if email
                .bytes()
                .any(|byte| byte.is_ascii_uppercase() || byte.is_ascii_whitespace())
            {
                normalized = normalize_email(email);
                normalized.as_str()
            } else {
                email
            };
            let Some(seats) = self.portals_by_email.get(key) else {
                continue;
            };
            if let Some(level) = shared.level_of(self, key, seats) {
                levels.push(PartnerLevel { email, level, seats });
            }
        }
        levels
    }

    /// [`AccessIndex::levels_on`] over every active partner, in no particular order: for a
    /// share that reaches most partners.
    ///
    /// # Guarantees
    /// One pass over the index's partners, without looking any of them up.
    pub fn levels_of_every_partner<'s>(
        &'s self,
        sharing: &[&'s Principal],
        kind: ContentKind,
        path: &str,
    ) -> Vec<PartnerLevel<'s, 's>> {
        let Some(shared) = SharedLevels::new(self, sharing, kind, path) else {
            return Vec::new();
        };
        self.portals_by_email
            .iter()
            .filter_map(|(email, seats)| {
                let level = shared.level_of(self, email, seats)?;
                Some(PartnerLevel { email, level, seats })
            })
            .collect()
    }
}

/// The permission that lets a role use `edit` shares.
const EDIT_PERMISSION: &str = "reports.edit";

/// The highest level a role with these permissions may use.
fn cap_of(permissions: &BTreeSet<String>) -> Access {
    if permissions.contains(EDIT_PERMISSION) {
        Access::Edit
    } else {
        Access::View
    }
}

impl AccessIndex {
    /// The permissions usable through a grant of `level`: those whose required level
    /// ([`crate::model::required_level`]) the grant reaches.
    fn usable<'p>(
        &'p self,
        permissions: &'p BTreeSet<String>,
        level: Access,
    ) -> impl Iterator<Item = String> + 'p {
        permissions
            .iter()
            .filter(move |permission| required_level(permission, &self.permission_levels) <= level)
            .cloned()
    }
}

impl ShareGrant {
    fn of(share: &crate::model::Share) -> Self {
        Self {
            access: share.access,
            expires: share.expires,
        }
    }
}

/// Removes `item` from the collection under `key`, and the entry once it is empty, so an
/// updated index equals a rebuilt one.
fn remove_from<K, C, I>(map: &mut HashMap<K, C>, key: &K, item: &I)
where
    K: std::hash::Hash + Eq,
    C: Removable<I>,
    I: ?Sized,
{
    if let Some(collection) = map.get_mut(key) {
        collection.remove_item(item);
        if collection.is_empty_collection() {
            map.remove(key);
        }
    }
}

trait Removable<I: ?Sized> {
    fn remove_item(&mut self, item: &I);
    fn is_empty_collection(&self) -> bool;
}

impl Removable<String> for VecSet<String> {
    fn remove_item(&mut self, item: &String) {
        self.remove(item);
    }
    fn is_empty_collection(&self) -> bool {
        self.is_empty()
    }
}

impl<V> Removable<String> for BTreeMap<String, V> {
    fn remove_item(&mut self, item: &String) {
        self.remove(item);
    }
    fn is_empty_collection(&self) -> bool {
        self.is_empty()
    }
}

impl<V> Removable<String> for VecMap<String, V> {
    fn remove_item(&mut self, item: &String) {
        self.remove(item);
    }
    fn is_empty_collection(&self) -> bool {
        self.is_empty()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::{Folder, Group, MemberSource, Membership, Share};

    fn day(text: &str) -> CalendarDate {
        text.parse().unwrap()
    }

    const TODAY: &str = "2026-11-26";

    /// Members `a@x.com`, `b@x.com` in portal `p`; `c@x.com` in `q` (expired yesterday);
    /// group `g` = {b, c}; folders /A, /A/B, /A/B/C, /Z.
    fn state() -> State {
        let mut state = State::default();
        let member = |expires: Option<&str>| Membership {
            role: "editor".into(),
            org: None,
            attributes: Default::default(),
            expires: expires.map(day),
            source: MemberSource::Managed,
            pending: false,
        };
        state.members.insert(("p".into(), "a@x.com".into()), member(None));
        state
            .members
            .insert(("p".into(), "b@x.com".into()), member(Some(TODAY)));
        state
            .members
            .insert(("q".into(), "c@x.com".into()), member(Some("2026-11-25")));
        state.groups.insert(
            "g".into(),
            Group {
                description: None,
                members: ["b@x.com".to_string(), "c@x.com".to_string()].into(),
                joined_live: Default::default(),
            },
        );
        for folder in ["/A", "/A/B", "/A/B/C", "/AB", "/Z"] {
            state.folders.insert(folder.into(), Folder::default());
        }
        state
    }

    fn share(state: &mut State, folder: &str, principal: &str, access: Access, expires: Option<&str>) {
        state.shares.insert(
            (folder.into(), principal.parse().unwrap()),
            Share {
                access,
                expires: expires.map(day),
            },
        );
    }

    fn check(state: &State, email: &str, folder: &str) -> Option<Access> {
        AccessIndex::new(state, day(TODAY)).check(email, folder)
    }

    #[test]
    fn direct_share_reaches_the_user_only() {
        let mut state = state();
        share(&mut state, "/Z", "user:a@x.com", Access::View, None);
        assert_eq!(check(&state, "A@x.com", "/Z"), Some(Access::View));
        assert_eq!(check(&state, "b@x.com", "/Z"), None);
    }

    #[test]
    fn group_share_reaches_active_group_members() {
        let mut state = state();
        share(&mut state, "/Z", "group:g", Access::Edit, None);
        assert_eq!(check(&state, "b@x.com", "/Z"), Some(Access::Edit));
        assert_eq!(check(&state, "a@x.com", "/Z"), None);
        // c is in the group but its only membership expired: a partner no more.
        assert_eq!(check(&state, "c@x.com", "/Z"), None);
    }

    #[test]
    fn portal_share_reaches_every_active_member() {
        let mut state = state();
        share(&mut state, "/Z", "portal:p", Access::View, None);
        assert_eq!(check(&state, "a@x.com", "/Z"), Some(Access::View));
        assert_eq!(check(&state, "b@x.com", "/Z"), Some(Access::View));
        share(&mut state, "/A", "portal:q", Access::View, None);
        assert_eq!(check(&state, "c@x.com", "/A"), None);
    }

    #[test]
    fn a_portal_lists_its_own_portal_shares_and_the_partners_other_grants() {
        let mut state = state();
        let member = state.members[&("p".to_string(), "a@x.com".to_string())].clone();
        state.members.insert(("q".into(), "a@x.com".into()), member);
        share(&mut state, "/A", "portal:p", Access::View, None);
        share(&mut state, "/Z", "portal:q", Access::Edit, None);
        share(&mut state, "/AB", "user:a@x.com", Access::View, None);
        share(&mut state, "/A/B", "portal:q", Access::Edit, None);
        let index = AccessIndex::new(&state, day(TODAY));
        let listed = |portal: &str| -> Vec<(String, Access, usize)> {
            index
                .partner_access_in("a@x.com", portal)
                .into_iter()
                .map(|access| (access.folder, access.level, access.grants.len()))
                .collect()
        };
        let entry = |folder: &str, level, grants| (folder.to_string(), level, grants);
        assert_eq!(
            listed("p"),
            [
                entry("/A", Access::View, 1),
                entry("/A/B", Access::View, 1),
                entry("/A/B/C", Access::View, 1),
                entry("/AB", Access::View, 1),
            ]
        );
        assert_eq!(
            listed("q"),
            [
                entry("/A/B", Access::Edit, 1),
                entry("/A/B/C", Access::Edit, 1),
                entry("/AB", Access::View, 1),
                entry("/Z", Access::Edit, 1),
            ]
        );
        assert_eq!(index.partner_access("a@x.com").len(), 5);
        // Not a member of the portal (or not an active one): nothing.
        assert!(index.partner_access_in("a@x.com", "r").is_empty());
        assert!(index.partner_access_in("c@x.com", "q").is_empty());
        assert!(index.is_active_member("A@x.com", "q"));
        assert!(!index.is_active_member("c@x.com", "q"));
    }

    #[test]
    fn a_share_covers_declared_sub_folders_only() {
        let mut state = state();
        share(&mut state, "/A", "user:a@x.com", Access::View, None);
        assert_eq!(check(&state, "a@x.com", "/A/B/C"), Some(Access::View));
        assert_eq!(check(&state, "a@x.com", "/AB"), None);
        assert_eq!(check(&state, "a@x.com", "/A/Undeclared"), None);
        let folders: Vec<String> = AccessIndex::new(&state, day(TODAY))
            .partner_access("a@x.com")
            .into_iter()
            .map(|access| access.folder)
            .collect();
        assert_eq!(folders, ["/A", "/A/B", "/A/B/C"]);
    }

    /// Regression: a sibling such as `/A B` or `/A-old` sorts between `/A` and `/A/B`, and
    /// stopped the walk below `/A` before it reached `/A/B`.
    #[test]
    fn a_share_covers_what_is_below_it_past_siblings_that_sort_in_between() {
        let mut state = state();
        for folder in ["/A B", "/A-old"] {
            state
                .folders
                .insert(folder.into(), crate::model::Folder::default());
        }
        state
            .dashboards
            .insert("/A/B/Q3 Revenue".into(), crate::model::Dashboard::default());
        share(&mut state, "/A", "user:a@x.com", Access::View, None);
        let today = day(TODAY);
        for index in [
            AccessIndex::new(&state, today),
            AccessIndex::for_partners(&state, today, &["a@x.com".to_string()].into()),
        ] {
            let paths: Vec<String> = index
                .partner_access("a@x.com")
                .into_iter()
                .map(|access| access.folder)
                .collect();
            assert_eq!(paths, ["/A", "/A/B", "/A/B/C", "/A/B/Q3 Revenue"]);
        }
    }

    #[test]
    fn highest_level_wins_and_every_path_is_kept() {
        let mut state = state();
        share(&mut state, "/A", "portal:p", Access::View, None);
        share(&mut state, "/A/B", "group:g", Access::Edit, None);
        share(&mut state, "/A/B", "user:b@x.com", Access::View, None);
        let index = AccessIndex::new(&state, day(TODAY));
        assert_eq!(index.check("b@x.com", "/A/B/C"), Some(Access::Edit));
        assert_eq!(index.check("b@x.com", "/A"), Some(Access::View));
        let access = index.partner_access("b@x.com");
        let b = access.iter().find(|a| a.folder == "/A/B").unwrap();
        assert_eq!(b.level, Access::Edit);
        let kinds: Vec<GrantKind> = b.grants.iter().map(|g| g.kind).collect();
        assert_eq!(kinds, [GrantKind::Direct, GrantKind::Group, GrantKind::Portal]);
        assert_eq!(b.grants[2].shared_folder, "/A");
    }

    #[test]
    fn expired_grants_grant_nothing_the_day_after() {
        let mut state = state();
        share(&mut state, "/Z", "user:a@x.com", Access::Edit, Some("2026-11-25"));
        share(&mut state, "/A", "user:a@x.com", Access::View, Some(TODAY));
        assert_eq!(check(&state, "a@x.com", "/Z"), None);
        assert_eq!(check(&state, "a@x.com", "/A"), Some(Access::View));
        // b's membership ends today: still a partner today, not tomorrow.
        share(&mut state, "/Z", "portal:p", Access::View, None);
        assert_eq!(check(&state, "b@x.com", "/Z"), Some(Access::View));
        let tomorrow = AccessIndex::new(&state, day("2026-11-27"));
        assert_eq!(tomorrow.check("b@x.com", "/Z"), None);
    }

    #[test]
    fn for_partners_answers_like_the_full_index() {
        let mut state = state();
        share(&mut state, "/A", "portal:p", Access::View, None);
        share(&mut state, "/A/B", "group:g", Access::Edit, None);
        share(&mut state, "/A/B", "user:b@x.com", Access::View, None);
        share(&mut state, "/Z", "user:a@x.com", Access::Edit, Some("2026-11-25"));
        share(&mut state, "/AB", "portal:q", Access::Edit, None);
        let today = day(TODAY);
        let full = AccessIndex::new(&state, today);
        let all = ["a@x.com", "b@x.com", "c@x.com", "nobody@x.com"];
        for picked in [&all[..], &all[..1], &all[1..2], &all[2..]] {
            let emails: BTreeSet<String> = picked.iter().map(ToString::to_string).collect();
            let some = AccessIndex::for_partners(&state, today, &emails);
            for email in picked {
                assert_eq!(some.partner_access(email), full.partner_access(email), "{email}");
                assert_eq!(some.is_active_partner(email), full.is_active_partner(email));
                for folder in ["/A", "/A/B", "/A/B/C", "/AB", "/Z", "/Q"] {
                    assert_eq!(some.check(email, folder), full.check(email, folder));
                }
            }
        }
        let only_a = AccessIndex::for_partners(&state, today, &["a@x.com".to_string()].into());
        assert!(only_a.partner_access("b@x.com").is_empty());
    }

    /// The base state with dashboards `/A/B/Dash` and `/Z/Board`.
    fn with_dashboards() -> State {
        let mut state = state();
        for path in ["/A/B/Dash", "/Z/Board"] {
            state
                .dashboards
                .insert(path.into(), crate::model::Dashboard::default());
        }
        state
    }

    fn check_on(state: &State, email: &str, kind: ContentKind, path: &str) -> Option<Access> {
        AccessIndex::new(state, day(TODAY))
            .decide_on(email, kind, path)
            .map(|(level, _)| level)
    }

    #[test]
    fn a_dashboard_inherits_its_folders_and_their_parents_shares() {
        let mut state = with_dashboards();
        share(&mut state, "/A", "portal:p", Access::View, None);
        share(&mut state, "/A/B", "group:g", Access::Edit, None);
        let dashboard = ContentKind::Dashboard;
        assert_eq!(
            check_on(&state, "a@x.com", dashboard, "/A/B/Dash"),
            Some(Access::View)
        );
        assert_eq!(
            check_on(&state, "b@x.com", dashboard, "/A/B/Dash"),
            Some(Access::Edit)
        );
        // Another folder's dashboard, and an undeclared dashboard, are not reached.
        assert_eq!(check_on(&state, "a@x.com", dashboard, "/Z/Board"), None);
        assert_eq!(check_on(&state, "a@x.com", dashboard, "/A/B/Other"), None);
        let access = AccessIndex::new(&state, day(TODAY)).partner_access("b@x.com");
        let dash = access.iter().find(|a| a.folder == "/A/B/Dash").unwrap();
        assert_eq!(dash.kind, ContentKind::Dashboard);
        assert_eq!(dash.level, Access::Edit);
        let shared: Vec<&str> = dash.grants.iter().map(|g| g.shared_folder.as_str()).collect();
        assert_eq!(shared, ["/A/B", "/A"]);
        assert_eq!(
            access.iter().find(|a| a.folder == "/A/B").unwrap().kind,
            ContentKind::Folder
        );
    }

    #[test]
    fn a_dashboard_share_adds_to_the_dashboard_only() {
        let mut state = with_dashboards();
        share(&mut state, "/Z", "user:a@x.com", Access::View, None);
        share(&mut state, "/Z/Board", "user:b@x.com", Access::View, None);
        share(&mut state, "/Z/Board", "user:a@x.com", Access::Edit, None);
        let index = AccessIndex::new(&state, day(TODAY));
        let dashboard = ContentKind::Dashboard;
        // b sees the dashboard through its own share, not the folder it is in.
        assert_eq!(
            index.decide_on("b@x.com", dashboard, "/Z/Board").map(|d| d.0),
            Some(Access::View)
        );
        assert_eq!(index.check("b@x.com", "/Z"), None);
        // a: view on the folder, edit on the dashboard (the higher grant wins).
        assert_eq!(
            index.decide_on("a@x.com", dashboard, "/Z/Board").map(|d| d.0),
            Some(Access::Edit)
        );
        assert_eq!(index.check("a@x.com", "/Z"), Some(Access::View));
        // Asked as the wrong kind, a path answers nothing.
        assert_eq!(index.decide_on("b@x.com", ContentKind::Folder, "/Z/Board"), None);
        assert_eq!(index.decide_on("a@x.com", dashboard, "/Z"), None);
        let paths: Vec<(String, ContentKind)> = index
            .partner_access("b@x.com")
            .into_iter()
            .map(|access| (access.folder, access.kind))
            .collect();
        assert_eq!(paths, [("/Z/Board".to_string(), ContentKind::Dashboard)]);
    }

    #[test]
    fn a_dashboard_share_is_capped_by_the_role() {
        let mut state = roles_state();
        state
            .dashboards
            .insert("/Z/Board".into(), crate::model::Dashboard::default());
        share(&mut state, "/Z/Board", "user:d@x.com", Access::Edit, None);
        let index = AccessIndex::new(&state, day(TODAY));
        // d is a viewer and an auditor: no reports.edit, so view.
        let (level, permissions) = index
            .decide_on("d@x.com", ContentKind::Dashboard, "/Z/Board")
            .unwrap();
        assert_eq!(level, Access::View);
        assert_eq!(permissions.into_iter().collect::<Vec<_>>(), ["reports.view"]);
    }

    #[test]
    fn for_partners_answers_like_the_full_index_on_dashboards() {
        let mut state = with_dashboards();
        share(&mut state, "/A", "portal:p", Access::View, None);
        share(&mut state, "/A/B", "group:g", Access::Edit, None);
        share(&mut state, "/Z/Board", "user:a@x.com", Access::Edit, None);
        let today = day(TODAY);
        let full = AccessIndex::new(&state, today);
        for email in ["a@x.com", "b@x.com", "c@x.com"] {
            let some = AccessIndex::for_partners(&state, today, &[email.to_string()].into());
            assert_eq!(some.partner_access(email), full.partner_access(email), "{email}");
            for path in ["/A/B/Dash", "/Z/Board", "/Z", "/A/B"] {
                for kind in [ContentKind::Folder, ContentKind::Dashboard] {
                    assert_eq!(
                        some.decide_on(email, kind, path),
                        full.decide_on(email, kind, path),
                        "{email} {path}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_pending_registration_grants_nothing_until_approved() {
        let mut state = state();
        let pending = Membership {
            role: "editor".into(),
            org: Some("o".into()),
            attributes: Default::default(),
            expires: None,
            source: MemberSource::SelfRegistration,
            pending: true,
        };
        let key = ("p".to_string(), "new@x.com".to_string());
        state.members.insert(key.clone(), pending.clone());
        state
            .groups
            .get_mut("g")
            .unwrap()
            .members
            .insert("new@x.com".into());
        share(&mut state, "/A", "portal:p", Access::View, None);
        share(&mut state, "/A/B", "group:g", Access::Edit, None);
        share(&mut state, "/Z", "user:new@x.com", Access::Edit, None);
        share(&mut state, "/AB", "org:o", Access::View, None);
        let today = day(TODAY);
        let emails: BTreeSet<String> = ["new@x.com".to_string()].into();
        for index in [
            AccessIndex::new(&state, today),
            AccessIndex::for_partners(&state, today, &emails),
        ] {
            assert!(!index.is_active_partner("new@x.com"));
            assert!(index.partner_access("new@x.com").is_empty());
            for folder in ["/A", "/A/B", "/Z", "/AB"] {
                assert_eq!(index.check("new@x.com", folder), None, "{folder}");
            }
            // The others still see what the portal share gives them.
            assert_eq!(
                index.check("a@x.com", "/A").is_some(),
                index.is_active_partner("a@x.com")
            );
        }
        // Approving it (an update of the member) grants through every path at once.
        let mut index = AccessIndex::new(&state, today);
        let approved = Membership {
            pending: false,
            ..pending.clone()
        };
        let member_key = ResourceKey::Member {
            portal: key.0.clone(),
            email: key.1.clone(),
        };
        index.update(
            &member_key,
            Some(&ResourceValue::Member(pending.clone())),
            Some(&ResourceValue::Member(approved.clone())),
            today,
        );
        state.members.insert(key.clone(), approved.clone());
        assert_eq!(index, AccessIndex::new(&state, today));
        assert!(index.is_active_partner("new@x.com"));
        assert_eq!(index.check("new@x.com", "/A/B"), Some(Access::Edit));
        assert_eq!(index.check("new@x.com", "/Z"), Some(Access::Edit));
        assert_eq!(index.check("new@x.com", "/AB"), Some(Access::View));
        // And making it pending again takes it all back.
        index.update(
            &member_key,
            Some(&ResourceValue::Member(approved)),
            Some(&ResourceValue::Member(pending.clone())),
            today,
        );
        state.members.insert(key, pending);
        assert_eq!(index, AccessIndex::new(&state, today));
        assert!(!index.is_active_partner("new@x.com"));
    }

    #[test]
    fn a_non_member_sees_nothing() {
        let mut state = state();
        share(&mut state, "/A", "user:nobody@x.com", Access::Edit, None);
        let index = AccessIndex::new(&state, day(TODAY));
        assert_eq!(index.check("nobody@x.com", "/A"), None);
        assert!(index.partner_access("nobody@x.com").is_empty());
        assert!(!index.is_active_partner("nobody@x.com"));
    }

    /// a@x.com is an editor in `p` and a viewer in `q`; d@x.com is a viewer in `p` and an
    /// `auditor` (viewer + data.export) in `q`.
    fn roles_state() -> State {
        let mut state = state();
        let member = |role: &str| Membership {
            role: role.into(),
            org: None,
            attributes: Default::default(),
            expires: None,
            source: MemberSource::Managed,
            pending: false,
        };
        state
            .members
            .insert(("q".into(), "a@x.com".into()), member("viewer"));
        state
            .members
            .insert(("p".into(), "d@x.com".into()), member("viewer"));
        state
            .members
            .insert(("q".into(), "d@x.com".into()), member("auditor"));
        state.roles.insert(
            "auditor".into(),
            crate::model::Role {
                description: None,
                extends: Some("viewer".into()),
                permissions: ["data.export".to_string()].into(),
            },
        );
        state
    }

    fn permissions(index: &AccessIndex, email: &str, folder: &str) -> Vec<String> {
        index
            .decide(email, folder)
            .map(|(_, permissions)| permissions.into_iter().collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_viewer_with_an_edit_share_gets_view() {
        let mut state = roles_state();
        share(&mut state, "/Z", "user:d@x.com", Access::Edit, None);
        let index = AccessIndex::new(&state, day(TODAY));
        assert_eq!(index.check("d@x.com", "/Z"), Some(Access::View));
        let access = index.partner_access("d@x.com");
        assert_eq!(access[0].grants[0].shared_level, Access::Edit);
        assert_eq!(access[0].grants[0].level, Access::View);
        // Edit-type permissions need edit: data.export is not usable, reports.view is.
        assert_eq!(permissions(&index, "d@x.com", "/Z"), ["reports.view"]);
    }

    #[test]
    fn a_portal_grant_is_capped_by_the_role_in_that_portal() {
        let mut state = roles_state();
        share(&mut state, "/A", "portal:q", Access::Edit, None);
        share(&mut state, "/Z", "portal:p", Access::Edit, None);
        share(&mut state, "/AB", "user:a@x.com", Access::Edit, None);
        let index = AccessIndex::new(&state, day(TODAY));
        // a is a viewer in q, an editor in p.
        assert_eq!(index.check("a@x.com", "/A"), Some(Access::View));
        assert_eq!(index.check("a@x.com", "/Z"), Some(Access::Edit));
        // A user share takes the highest role in any portal: editor.
        assert_eq!(index.check("a@x.com", "/AB"), Some(Access::Edit));
        assert_eq!(
            permissions(&index, "a@x.com", "/AB"),
            ["dashboards.create", "reports.edit", "reports.view"]
        );
        assert_eq!(permissions(&index, "a@x.com", "/A"), ["reports.view"]);
    }

    #[test]
    fn custom_roles_give_their_permissions_and_extends() {
        let mut state = roles_state();
        state.roles.insert(
            "auditor".into(),
            crate::model::Role {
                description: None,
                extends: Some("editor".into()),
                permissions: ["data.export".to_string()].into(),
            },
        );
        share(&mut state, "/A", "portal:q", Access::Edit, None);
        let index = AccessIndex::new(&state, day(TODAY));
        assert_eq!(index.check("d@x.com", "/A/B"), Some(Access::Edit));
        assert_eq!(
            permissions(&index, "d@x.com", "/A/B"),
            ["dashboards.create", "data.export", "reports.edit", "reports.view"]
        );
        assert_eq!(index.partner_access("d@x.com")[0].permissions.len(), 4);
    }

    #[test]
    fn an_org_share_reaches_every_member_of_the_org_in_any_portal() {
        let mut state = roles_state();
        for key in [("p", "a@x.com"), ("q", "d@x.com")] {
            if let Some(member) = state.members.get_mut(&(key.0.into(), key.1.into())) {
                member.org = Some("contoso".into());
            }
        }
        share(&mut state, "/A", "org:contoso", Access::Edit, Some("2026-12-31"));
        let index = AccessIndex::new(&state, day(TODAY));
        // a is an editor in p: edit; d is at most an auditor: view.
        assert_eq!(index.check("a@x.com", "/A/B"), Some(Access::Edit));
        assert_eq!(index.check("d@x.com", "/A/B"), Some(Access::View));
        assert_eq!(index.check("b@x.com", "/A"), None);
        let grant = &index.partner_access("d@x.com")[0].grants[0];
        assert_eq!(
            (grant.kind, grant.principal.to_string().as_str()),
            (GrantKind::Org, "org:contoso")
        );
        assert_eq!(grant.expires, Some(day("2026-12-31")));
        // Removing the org revokes the share and its members.
        let mut revoked = state.clone();
        let change = crate::model::Change::Delete {
            key: ResourceKey::PartnerOrg("contoso".into()),
        };
        revoked
            .partner_orgs
            .insert("contoso".into(), crate::model::PartnerOrg::default());
        revoked.apply(std::slice::from_ref(&change)).unwrap();
        let index = AccessIndex::new(&revoked, day(TODAY));
        assert_eq!(index.check("d@x.com", "/A"), None);
        assert!(revoked.shares.is_empty());
    }

    /// Changes of the kinds the index follows, valid and expired, for the property tests
    /// (here and of the impact).
    pub(in crate::access) fn universe() -> Vec<crate::model::Change> {
        use crate::model::{Change, Kind};
        let value = |kind, json: serde_json::Value| ResourceValue::from_json(kind, json).unwrap();
        let mut changes = Vec::new();
        for portal in ["p", "q"] {
            for email in ["a@x.com", "b@x.com", "c@x.com"] {
                let key = ResourceKey::Member {
                    portal: portal.into(),
                    email: email.into(),
                };
                for member in [
                    serde_json::json!({"role": "viewer"}),
                    serde_json::json!({"role": "viewer", "org": "o"}),
                    serde_json::json!({"role": "auditor"}),
                    serde_json::json!({"role": "editor", "org": "o"}),
                    serde_json::json!({"role": "viewer", "expires": "2020-01-01"}),
                    serde_json::json!({"role": "viewer", "org": "o", "source": "self_registration", "pending": true}),
                ] {
                    changes.push(Change::Put {
                        key: key.clone(),
                        value: value(Kind::Member, member),
                    });
                }
                changes.push(Change::Delete { key });
            }
        }
        for members in [
            serde_json::json!(["a@x.com"]),
            serde_json::json!(["A@x.com", "b@x.com"]),
        ] {
            let key = ResourceKey::Group("g".into());
            changes.push(Change::Put {
                key,
                value: value(Kind::Group, serde_json::json!({"members": members})),
            });
        }
        changes.push(Change::Delete {
            key: ResourceKey::Group("g".into()),
        });
        for (folder, principal) in [
            ("/A", "group:g"),
            ("/A/B", "user:a@x.com"),
            ("/A", "portal:p"),
            ("/A/B", "org:o"),
        ] {
            let key = ResourceKey::Share {
                folder: folder.into(),
                principal: principal.parse().unwrap(),
            };
            for share in [
                serde_json::json!({"access": "view"}),
                serde_json::json!({"access": "edit", "expires": "2020-01-01"}),
            ] {
                changes.push(Change::Put {
                    key: key.clone(),
                    value: value(Kind::Share, share),
                });
            }
            changes.push(Change::Delete { key });
        }
        for role in [
            serde_json::json!({"permissions": ["reports.edit"]}),
            serde_json::json!({"extends": "viewer", "permissions": ["data.export"]}),
        ] {
            let key = ResourceKey::Role("auditor".into());
            changes.push(Change::Put {
                key: key.clone(),
                value: value(Kind::Role, role),
            });
            changes.push(Change::Delete { key });
        }
        for path in ["/A", "/A/B"] {
            let key = ResourceKey::Folder(path.into());
            changes.push(Change::Put {
                key: key.clone(),
                value: value(Kind::Folder, serde_json::json!({})),
            });
            changes.push(Change::Delete { key });
        }
        // A dashboard in /A/B, and one at /A/B itself (invalid, but the index follows it).
        for path in ["/A/B/D", "/A/B"] {
            let key = ResourceKey::Dashboard(path.into());
            changes.push(Change::Put {
                key: key.clone(),
                value: value(Kind::Dashboard, serde_json::json!({"description": "d"})),
            });
            changes.push(Change::Delete { key });
        }
        let key = ResourceKey::Share {
            folder: "/A/B/D".into(),
            principal: "user:b@x.com".parse().unwrap(),
        };
        changes.push(Change::Put {
            key: key.clone(),
            value: value(Kind::Share, serde_json::json!({"access": "edit"})),
        });
        changes.push(Change::Delete { key });
        changes
    }

    proptest::proptest! {
        /// Updating an index change by change gives the index of the new state.
        #[test]
        fn updating_equals_rebuilding(
            setup in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..30),
            batch in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 1..8),
        ) {
            let universe = universe();
            let today = day(TODAY);
            let mut state = State::default();
            for pick in &setup {
                let _ = state.apply(std::slice::from_ref(pick.get(&universe)));
            }
            let mut index = AccessIndex::new(&state, today);
            for pick in &batch {
                let change = pick.get(&universe);
                let before = state.get(change.key());
                if state.apply(std::slice::from_ref(change)).is_ok() {
                    index.update(change.key(), before.as_ref(), state.get(change.key()).as_ref(), today);
                }
            }
            proptest::prop_assert_eq!(index, AccessIndex::new(&state, today));
        }

        /// Partners with equal signatures see exactly the same folders, levels,
        /// permissions and grants: what an impact summary relies on to compare each pair
        /// of signatures once.
        #[test]
        fn equal_signatures_give_equal_access(
            setup in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..40),
        ) {
            let universe = universe();
            let mut state = State::default();
            for pick in &setup {
                let _ = state.apply(std::slice::from_ref(pick.get(&universe)));
            }
            let index = AccessIndex::new(&state, day(TODAY));
            let emails = ["a@x.com", "b@x.com", "c@x.com", "A@x.com"];
            for first in emails {
                for second in emails {
                    if index.signature(first) == index.signature(second) {
                        proptest::prop_assert_eq!(
                            index.partner_access(first),
                            index.partner_access(second),
                            "{} and {} have the signature {:?}", first, second, index.signature(first)
                        );
                    }
                }
            }
        }

        /// The reverse lookup's levels are the levels `decide_on` gives each partner.
        #[test]
        fn levels_on_equals_deciding_each_partner(
            setup in proptest::collection::vec(proptest::prelude::any::<proptest::sample::Index>(), 0..30),
        ) {
            let universe = universe();
            let today = day(TODAY);
            let mut state = State::default();
            for pick in &setup {
                let _ = state.apply(std::slice::from_ref(pick.get(&universe)));
            }
            let index = AccessIndex::new(&state, today);
            let mut members: Vec<&str> = state.members.keys().map(|(_, email)| email.as_str()).collect();
            members.sort_unstable();
            members.dedup();
            let mut emails = members.clone();
            emails.extend(state.groups.values().flat_map(|group| group.members.iter().map(String::as_str)));
            emails.sort_unstable();
            emails.dedup();
            for path in ["/A", "/A/B", "/A/B/C", "/Z"] {
                let sharing: Vec<&Principal> = state
                    .shares
                    .keys()
                    .filter(|(folder, _)| self_and_ancestors(path).any(|ancestor| ancestor == folder))
                    .map(|(_, principal)| principal)
                    .collect();
                for kind in [ContentKind::Folder, ContentKind::Dashboard] {
                    let fast: Vec<(&str, Access)> = index
                        .levels_on(&sharing, emails.iter().copied(), kind, path)
                        .into_iter()
                        .map(|partner| (partner.email, partner.level))
                        .collect();
                    let mut every: Vec<(&str, Access)> = index
                        .levels_of_every_partner(&sharing, kind, path)
                        .into_iter()
                        .map(|partner| (partner.email, partner.level))
                        .collect();
                    every.sort_unstable();
                    // Members' emails are normalised: each partner once, as the index keeps it.
                    let every_slow: Vec<(&str, Access)> = members
                        .iter()
                        .filter_map(|email| index.decide_on(email, kind, path).map(|(level, _)| (*email, level)))
                        .collect();
                    proptest::prop_assert_eq!(every, every_slow, "every partner: {} {:?}", path, kind);
                    let slow: Vec<(&str, Access)> = emails
                        .iter()
                        .filter_map(|email| index.decide_on(email, kind, path).map(|(level, _)| (*email, level)))
                        .collect();
                    proptest::prop_assert_eq!(fast, slow, "{} {:?}", path, kind);
                }
            }
        }
    }
}
