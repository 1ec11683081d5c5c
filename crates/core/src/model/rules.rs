//! Semantic rules over a `State`, shared by `validate` and the service so the two can
//! never disagree about what is valid. Each problem is reported at a canonical
//! [`Pointer`]; callers map pointers to source locations or API fields.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use super::suggest::did_you_mean;
use super::{
    BUILTIN_PERMISSIONS, BUILTIN_ROLES, CalendarDate, Change, Membership, Pointer, Principal, ResourceKey,
    State, dashboard_folder, email_domain, is_dns_label, is_hex_color, is_https_url, is_valid_email,
    is_valid_folder_path,
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
            related: Vec::new(),
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

/// Which rule a [`Violation`] breaks: problems are compared by rule and place, never by
/// their message text, which may quote live data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleId {
    WorkspaceName,
    OwnerDomainInvalid,
    EnumWithoutValues,
    ValuesOnNonEnum,
    EnumValueRepeated,
    BuiltinRoleRedefined,
    RoleExtendsUnknown,
    UnknownPermission,
    RoleCycle,
    OrgWithoutDomains,
    OrgDomainInvalid,
    OrgDomainInOwnerDomain,
    PortalNameNotDnsLabel,
    PortalDisplayName,
    PortalColor,
    PortalLogoutUrl,
    PortalHomeCover,
    PortalSessionTtl,
    RegistrationUnknownRole,
    RegistrationOwnerDomain,
    RegistrationNoDomains,
    RegistrationUnknownGroup,
    PortalText,
    PortalHelpUrl,
    PortalSeatLimit,
    OrgSeatLimit,
    MemberUnknownPortal,
    MemberInvalidEmail,
    MemberInOwnerDomain,
    MemberUnknownRole,
    MemberUnknownOrg,
    MemberOutsideOrgDomains,
    MemberAttributeUndeclared,
    MemberAttributeInvalid,
    MemberAttributeMissing,
    MemberAttributeContradictsOrg,
    OrgAttributeUndeclared,
    MembershipExpired,
    PartnerOrgDiffers,
    PartnerAttributesDiffer,
    GroupMemberNotPartner,
    FolderPathInvalid,
    /// A dashboard path that is not a well-formed path.
    DashboardPathInvalid,
    /// A dashboard whose folder (its path without the last segment) is not declared.
    DashboardUnknownFolder,
    /// A path declared both as a folder and as a dashboard.
    DashboardIsFolder,
    /// A folder or dashboard below a dashboard: dashboards hold nothing.
    InsideDashboard,
    ShareUnknownFolder,
    ShareUnknownGroup,
    ShareUnknownPortal,
    ShareUnknownOrg,
    ShareUnknownUser,
    ShareExpired,
}

impl RuleId {
    /// Whether the rule judges a resource by other resources (a reference to one, a role
    /// cycle, a seat limit, overlapping domains, attributes declared elsewhere, one
    /// partner's entries across portals): no schema of a request can express it, and a
    /// request refused only by such rules conflicts with the current state (the service
    /// answers `409 conflicts_with_state`). The other rules hold of one resource alone,
    /// and the OpenAPI document states them (`422 invalid_changes`).
    pub fn depends_on_other_resources(self) -> bool {
        match self {
            Self::WorkspaceName
            | Self::OwnerDomainInvalid
            | Self::EnumWithoutValues
            | Self::ValuesOnNonEnum
            | Self::EnumValueRepeated
            | Self::BuiltinRoleRedefined
            | Self::UnknownPermission
            | Self::OrgWithoutDomains
            | Self::OrgDomainInvalid
            | Self::PortalNameNotDnsLabel
            | Self::PortalDisplayName
            | Self::PortalColor
            | Self::PortalLogoutUrl
            | Self::PortalHomeCover
            | Self::PortalSessionTtl
            | Self::RegistrationNoDomains
            | Self::PortalText
            | Self::PortalHelpUrl
            | Self::MemberInvalidEmail
            | Self::FolderPathInvalid
            | Self::DashboardPathInvalid
            | Self::MembershipExpired
            | Self::ShareExpired => false,
            Self::RoleExtendsUnknown
            | Self::RoleCycle
            | Self::OrgDomainInOwnerDomain
            | Self::RegistrationUnknownRole
            | Self::RegistrationOwnerDomain
            | Self::RegistrationUnknownGroup
            | Self::PortalSeatLimit
            | Self::OrgSeatLimit
            | Self::MemberUnknownPortal
            | Self::MemberInOwnerDomain
            | Self::MemberUnknownRole
            | Self::MemberUnknownOrg
            | Self::MemberOutsideOrgDomains
            | Self::MemberAttributeUndeclared
            | Self::MemberAttributeInvalid
            | Self::MemberAttributeMissing
            | Self::MemberAttributeContradictsOrg
            | Self::OrgAttributeUndeclared
            | Self::PartnerOrgDiffers
            | Self::PartnerAttributesDiffer
            | Self::GroupMemberNotPartner
            | Self::ShareUnknownFolder
            | Self::ShareUnknownGroup
            | Self::ShareUnknownPortal
            | Self::ShareUnknownOrg
            | Self::ShareUnknownUser
            | Self::DashboardUnknownFolder
            | Self::DashboardIsFolder
            | Self::InsideDashboard => true,
        }
    }
}

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
        hints: true,
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
    pub roles: bool,
    pub partner_orgs: BTreeSet<String>,
    pub portals: BTreeSet<String>,
    /// Every membership of these emails (one email is one partner: they are checked together).
    pub partners: BTreeSet<String>,
    pub groups: BTreeSet<String>,
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
    /// last membership, changing an org's domains), and a range over the dashboards inside
    /// a changed folder or the folders and dashboards below a changed dashboard. A change
    /// to the workspace or an attribute, or deleting an org (which revokes its partners),
    /// scopes everything.
    pub fn of_batch(before: &State, after: &State, changes: &[Change]) -> Self {
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
        for change in changes {
            let deleted = matches!(change, Change::Delete { .. });
            match change.key() {
                ResourceKey::Workspace | ResourceKey::Attribute(_) => scope.everything = true,
                ResourceKey::PartnerOrg(_) if deleted => scope.everything = true,
                ResourceKey::PartnerOrg(name) => {
                    // Its partners are added below, in one pass for every org of the batch.
                    scope.partner_orgs.insert(name.clone());
                    orgs.insert(name.as_str());
                }
                ResourceKey::Role(name) => {
                    scope.roles = true;
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
                            && after
                                .partner_orgs
                                .get(org)
                                .is_some_and(|o| o.max_members.is_some())
                        {
                            scope.partner_orgs.insert(org.clone());
                        }
                    }
                    if deleted && !is_partner(after, email) && is_partner(before, email) {
                        scope.groups.extend(
                            after
                                .groups
                                .iter()
                                .filter(|(_, group)| group.members.contains(email))
                                .map(|(name, _)| name.clone()),
                        );
                        scope
                            .shares
                            .extend(shares_with(after, &Principal::User(email.clone())));
                    }
                }
                ResourceKey::Group(name) => {
                    scope.groups.insert(name.clone());
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
                        .extend(paths_below(&after.dashboards, path).cloned());
                    if deleted {
                        scope.shares.extend(shares_on(after, path));
                    }
                }
                ResourceKey::Dashboard(path) => {
                    scope.dashboards.insert(path.clone());
                    // What lies below a dashboard is an error, whichever came first.
                    scope.folders.extend(paths_below(&after.folders, path).cloned());
                    scope
                        .dashboards
                        .extend(paths_below(&after.dashboards, path).cloned());
                    if deleted {
                        scope.shares.extend(shares_on(after, path));
                    }
                }
                ResourceKey::Share { folder, principal } => {
                    scope.shares.insert((folder.clone(), principal.clone()));
                }
            }
        }
        if !orgs.is_empty() {
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

/// The keys of `map` strictly below `path` (`/A` → `/A/B`, `/A/B/C`, not `/AB`).
fn paths_below<'a, V>(
    map: &'a std::collections::BTreeMap<String, V>,
    path: &str,
) -> impl Iterator<Item = &'a String> {
    let prefix = format!("{path}/");
    map.range(prefix.clone()..)
        .map(|(key, _)| key)
        .take_while(move |key| key.starts_with(&prefix))
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

fn is_partner(state: &State, email: &str) -> bool {
    !memberships_of(state, email).is_empty()
}

/// Checks the rules of the resources in `scope` only, in the order [`check`] would.
/// Hints are left out: they are for the problems a caller is shown, which
/// [`added_errors`] recomputes.
pub fn check_scope(state: &State, scope: &Scope, today: CalendarDate) -> Vec<Violation> {
    scoped(state, scope, today, false)
}

fn scoped(state: &State, scope: &Scope, today: CalendarDate, hints: bool) -> Vec<Violation> {
    if scope.everything {
        return check(state, today);
    }
    let mut checker = Checker {
        state,
        today,
        partners: None,
        hints,
        out: Vec::new(),
    };
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
        checker.partner(email, &memberships_of(state, email));
    }
    for name in &scope.groups {
        if let Some(group) = state.groups.get(name) {
            checker.group(name, group);
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
    checker.out
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
    let scope = Scope::of_batch(before, after, changes);
    let existing: FxHashSet<ProblemId> = check_scope(before, &scope, today)
        .iter()
        .filter(|violation| violation.severity == Severity::Error)
        .map(Violation::identity)
        .collect();
    let added: Vec<Violation> = check_scope(after, &scope, today)
        .into_iter()
        .filter(|violation| {
            violation.severity == Severity::Error && !existing.contains(&violation.identity())
        })
        .collect();
    if added.is_empty() || scope.everything {
        return added;
    }
    // Recheck with hints, only for the problems the caller will see.
    let wanted: FxHashSet<ProblemId> = added.iter().map(Violation::identity).collect();
    scoped(after, &scope, today, true)
        .into_iter()
        .filter(|violation| violation.severity == Severity::Error && wanted.contains(&violation.identity()))
        .collect()
}

struct Checker<'a> {
    state: &'a State,
    today: CalendarDate,
    /// Every email with a membership somewhere, built once by a full check: rules look it
    /// up per reference. `None` in a scoped check, which asks the state instead.
    partners: Option<FxHashSet<&'a str>>,
    /// Whether to compute "did you mean" hints, which may scan a whole collection.
    hints: bool,
    out: Vec<Violation>,
}

fn in_domain(domain: &str, owner: &str) -> bool {
    domain == owner || domain.strip_suffix(owner).is_some_and(|rest| rest.ends_with('.'))
}

impl<'a> Checker<'a> {
    fn push(&mut self, violation: Violation) {
        self.out.push(violation);
    }

    fn hint(&self, make: impl FnOnce() -> Option<String>) -> Option<String> {
        if self.hints { make() } else { None }
    }

    fn is_partner(&self, email: &str) -> bool {
        match &self.partners {
            Some(partners) => partners.contains(email),
            None => is_partner(self.state, email),
        }
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

    fn workspace(&mut self) {
        let at = Pointer::root().join("workspace");
        if self.state.workspace.name.trim().is_empty() {
            self.push(Violation::error(
                RuleId::WorkspaceName,
                at.join("name"),
                "the workspace needs a name",
            ));
        }
        for domain in &self.state.workspace.owner_domains {
            if !is_domain(domain) {
                self.push(Violation::error(
                    RuleId::OwnerDomainInvalid,
                    at.join("owner_domains").join(domain),
                    format!("`{domain}` is not a domain name"),
                ));
            }
        }
    }

    fn all_attributes(&mut self) {
        for (key, attribute) in &self.state.attributes {
            let at = Pointer::root().join("attributes").join(key);
            let is_enum = attribute.kind == super::AttributeType::Enum;
            if is_enum && attribute.values.is_empty() {
                self.push(Violation::error(
                    RuleId::EnumWithoutValues,
                    at.join("type"),
                    format!("enum attribute `{key}` lists no `values`"),
                ));
            }
            if !is_enum && !attribute.values.is_empty() {
                self.push(Violation::error(
                    RuleId::ValuesOnNonEnum,
                    at.join("values"),
                    format!(
                        "`values` only applies to enum attributes, and `{key}` is a {}",
                        attribute.kind
                    ),
                ));
            }
            let mut seen = BTreeSet::new();
            for value in &attribute.values {
                if !seen.insert(value) {
                    self.push(
                        Violation::error(
                            RuleId::EnumValueRepeated,
                            at.join("values"),
                            format!("enum value `{value}` is listed twice"),
                        )
                        .about(value.clone()),
                    );
                }
            }
        }
    }

    fn all_roles(&mut self) {
        for (name, role) in &self.state.roles {
            let at = Pointer::root().join("roles").join(name);
            if BUILTIN_ROLES.contains(&name.as_str()) {
                self.push(
                    Violation::error(
                        RuleId::BuiltinRoleRedefined,
                        at.clone(),
                        format!("`{name}` is a built-in role and cannot be redefined"),
                    )
                    .with_hint(Some(
                        "give the custom role another name and `extends` the built-in one".into(),
                    )),
                );
            }
            if let Some(parent) = &role.extends
                && !self.role_exists(parent)
            {
                self.push(
                    Violation::error(
                        RuleId::RoleExtendsUnknown,
                        at.join("extends"),
                        format!("role `{name}` extends unknown role `{parent}`"),
                    )
                    .with_hint(did_you_mean(parent, self.role_names())),
                );
            }
            for permission in &role.permissions {
                if !BUILTIN_PERMISSIONS.contains(&permission.as_str()) {
                    let hint = did_you_mean(permission, BUILTIN_PERMISSIONS.iter().copied())
                        .or_else(|| Some(format!("known permissions: {}", BUILTIN_PERMISSIONS.join(", "))));
                    self.push(
                        Violation::error(
                            RuleId::UnknownPermission,
                            at.join("permissions").join(permission),
                            format!("unknown permission `{permission}`"),
                        )
                        .with_hint(hint),
                    );
                }
            }
        }
        // Cycles: follow `extends` from each role; report each cycle once, at its smallest name.
        let mut reported = BTreeSet::new();
        for start in self.state.roles.keys() {
            let mut path = vec![start.as_str()];
            let mut current = start.as_str();
            while let Some(parent) = self
                .state
                .roles
                .get(current)
                .and_then(|role| role.extends.as_deref())
            {
                if let Some(at) = path.iter().position(|name| *name == parent) {
                    let cycle: Vec<&str> = path[at..].to_vec();
                    let smallest = cycle.iter().min().copied().unwrap_or(parent);
                    if smallest == start && reported.insert(smallest.to_string()) {
                        let mut shown = cycle.clone();
                        shown.push(parent);
                        self.push(Violation::error(
                            RuleId::RoleCycle,
                            Pointer::root().join("roles").join(start).join("extends"),
                            format!("roles extend each other in a cycle: {}", shown.join(" → ")),
                        ));
                    }
                    break;
                }
                path.push(parent);
                current = parent;
            }
        }
    }

    fn partner_org(&mut self, name: &str, org: &super::PartnerOrg) {
        let at = Pointer::root().join("partner_orgs").join(name);
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
        for (key, value) in &org.attributes {
            let value_at = at.join("attributes").join(key);
            match self.state.attributes.get(key) {
                None => self.push(
                    Violation::error(
                        RuleId::OrgAttributeUndeclared,
                        value_at,
                        format!("undeclared attribute `{key}`"),
                    )
                    .with_hint(Some("declare it under `attributes:` first".into())),
                ),
                Some(attribute) => {
                    if let Some(why) = mismatch(value, attribute) {
                        self.push(Violation::error(
                            RuleId::MemberAttributeInvalid,
                            value_at,
                            format!("attribute `{key}` of partner org `{name}`: {why}"),
                        ));
                    }
                }
            }
        }
        if org.domains.is_empty() {
            self.push(Violation::error(
                RuleId::OrgWithoutDomains,
                at.join("domains"),
                format!("partner org `{name}` lists no domains"),
            ));
        }
        for domain in &org.domains {
            let domain_at = at.join("domains").join(domain);
            if !is_domain(domain) {
                self.push(Violation::error(
                    RuleId::OrgDomainInvalid,
                    domain_at,
                    format!("`{domain}` is not a domain name"),
                ));
            } else if let Some(owner) = self
                .state
                .workspace
                .owner_domains
                .iter()
                .find(|owner| in_domain(domain, owner))
            {
                self.push(Violation::error(
                    RuleId::OrgDomainInOwnerDomain,
                    domain_at,
                    format!(
                        "partner org `{name}` claims `{domain}`, which is within the owner domain `{owner}`"
                    ),
                ));
            }
        }
    }

    fn portal(&mut self, technical_name: &str, portal: &super::Portal) {
        let first_new = self.out.len();
        self.portal_fields(technical_name, portal);
        self.portal_seats(technical_name, portal);
        // A value taken from a template is written once for many portals: say so, and
        // which portal met the problem (the diagnostic stands at the template's line).
        if let Some(template) = &portal.template {
            let prefix = format!(
                "{}/",
                Pointer::root().join("portals").join(technical_name).as_str()
            );
            for violation in &mut self.out[first_new..] {
                let field = violation.at.as_str().strip_prefix(&prefix).unwrap_or_default();
                let field = field.split('/').take(2).collect::<Vec<_>>();
                let inherited = portal
                    .from_template
                    .contains(field.first().copied().unwrap_or_default())
                    || portal.from_template.contains(&field.join("."));
                if inherited {
                    violation.message = format!(
                        "{} (from portal template `{template}`, used by portal `{technical_name}`)",
                        violation.message
                    );
                }
            }
        }
    }

    /// The seat limit of one portal: the member past it is reported (members in email
    /// order; `validate` moves the report to the first member past it in file order).
    fn portal_seats(&mut self, technical_name: &str, portal: &super::Portal) {
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
                    "portal `{technical_name}` allows {limit} member(s); `{email}` is member {} of {count}",
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

    fn portal_fields(&mut self, technical_name: &str, portal: &super::Portal) {
        let at = Pointer::root().join("portals").join(technical_name);
        for (field, text) in [
            ("initiation", &portal.texts.initiation),
            ("first_login", &portal.texts.first_login),
        ] {
            if let Some(text) = text
                && text.chars().count() > super::PortalTexts::MAX_CHARS
            {
                self.push(Violation::error(
                    RuleId::PortalText,
                    at.join("texts").join(field),
                    format!(
                        "the {field} text has {} characters; at most {} are shown",
                        text.chars().count(),
                        super::PortalTexts::MAX_CHARS
                    ),
                ));
            }
        }
        if let Some(help) = &portal.texts.help_url
            && !is_https_url(help)
        {
            self.push(Violation::error(
                RuleId::PortalHelpUrl,
                at.join("texts").join("help_url"),
                format!("`{help}` is not an absolute https:// URL"),
            ));
        }
        if !is_dns_label(technical_name) {
            self.push(
                Violation::error(
                    RuleId::PortalNameNotDnsLabel,
                    at.clone(),
                    format!("portal name `{technical_name}` is not a DNS label"),
                )
                .with_hint(Some(
                    "use 1 to 63 lowercase letters, digits and `-`, not starting or ending with `-`".into(),
                )),
            );
        }
        if portal.name.trim().is_empty() {
            self.push(Violation::error(
                RuleId::PortalDisplayName,
                at.join("name"),
                "the portal needs a display `name`",
            ));
        }
        if !is_hex_color(&portal.color) {
            self.push(Violation::error(
                RuleId::PortalColor,
                at.join("color"),
                format!("`{}` is not a colour: expected `#RRGGBB`", portal.color),
            ));
        }
        if !is_https_url(&portal.logout_url) {
            self.push(Violation::error(
                RuleId::PortalLogoutUrl,
                at.join("logout_url"),
                format!("`{}` is not an absolute https:// URL", portal.logout_url),
            ));
        }
        if let Some(cover) = &portal.home_cover
            && !is_https_url(cover)
        {
            self.push(Violation::error(
                RuleId::PortalHomeCover,
                at.join("home_cover"),
                format!("`{cover}` is not an absolute https:// URL"),
            ));
        }
        if !portal.session_ttl.in_range() {
            self.push(Violation::error(
                RuleId::PortalSessionTtl,
                at.join("session_ttl"),
                format!("session_ttl `{}` is outside 5m..24h", portal.session_ttl),
            ));
        }
        if let Some(registration) = &portal.self_registration {
            let reg_at = at.join("self_registration");
            if !self.role_exists(&registration.default_role) {
                self.push(
                    Violation::error(
                        RuleId::RegistrationUnknownRole,
                        reg_at.join("default_role"),
                        format!("unknown role `{}`", registration.default_role),
                    )
                    .with_hint(did_you_mean(&registration.default_role, self.role_names())),
                );
            }
            for domain in &registration.allowed_domains {
                if let Some(owner) = self
                    .state
                    .workspace
                    .owner_domains
                    .iter()
                    .find(|owner| in_domain(domain, owner))
                {
                    self.push(Violation::error(
                        RuleId::RegistrationOwnerDomain,
                        reg_at.join("allowed_domains").join(domain),
                        format!("self-registration may not allow `{domain}`, which is within the owner domain `{owner}`"),
                    ));
                }
            }
            for group in &registration.groups {
                if !self.state.groups.contains_key(group) {
                    self.push(
                        Violation::error(
                            RuleId::RegistrationUnknownGroup,
                            reg_at.join("groups").join(group),
                            format!("self-registration joins unknown group `{group}`"),
                        )
                        .with_hint(did_you_mean(group, self.state.groups.keys().map(String::as_str))),
                    );
                }
            }
            if registration.enabled && registration.allowed_domains.is_empty() {
                self.push(
                    Violation::error(
                        RuleId::RegistrationNoDomains,
                        reg_at.join("allowed_domains"),
                        "self-registration is enabled but allows no domains",
                    )
                    .with_hint(Some("list the partner domains that may register".into())),
                );
            }
        }
    }

    fn all_members(&mut self) {
        // email -> first membership, for the one-partner-one-identity rule.
        let mut first_seen: HashMap<&str, (&str, &super::Membership)> =
            HashMap::with_capacity_and_hasher(self.state.members.len(), Default::default());
        for ((portal, email), member) in &self.state.members {
            let first = first_seen.get(email.as_str()).copied();
            if self.member(portal, email, member, first) && first.is_none() {
                first_seen.insert(email, (portal, member));
            }
        }
    }

    /// Every membership of one partner, in portal order.
    fn partner(&mut self, email: &str, memberships: &[(&str, &super::Membership)]) {
        let mut first = None;
        for &(portal, member) in memberships {
            if self.member(portal, email, member, first) && first.is_none() {
                first = Some((portal, member));
            }
        }
    }

    /// One membership; `first` is the partner's first membership, in portal order. Returns
    /// whether the email is valid (only then does it take part in the identity rule).
    fn member(
        &mut self,
        portal: &str,
        email: &str,
        member: &super::Membership,
        first: Option<(&str, &super::Membership)>,
    ) -> bool {
        // Built only when a rule fails: 100k pointers per check would dominate its cost.
        let at = || Pointer::root().join("members").join(portal).join(email);
        if !self.state.portals.contains_key(portal) {
            let hint = self.hint(|| did_you_mean(portal, self.state.portals.keys().map(String::as_str)));
            self.push(
                Violation::error(
                    RuleId::MemberUnknownPortal,
                    at(),
                    format!("unknown portal `{portal}`"),
                )
                .with_hint(hint),
            );
        }
        if !is_valid_email(email) {
            self.push(Violation::error(
                RuleId::MemberInvalidEmail,
                at().join("email"),
                format!("`{email}` is not a valid email address"),
            ));
            return false;
        }
        if let Some(owner) = self.owner_domain_of(email) {
            self.push(
                Violation::error(
                    RuleId::MemberInOwnerDomain,
                    at().join("email"),
                    format!("`{email}` is in the owner domain `{owner}`: staff cannot be partners"),
                )
                .with_hint(Some(
                    "owner domains are listed under `workspace.owner_domains`".into(),
                )),
            );
        }
        if !self.role_exists(&member.role) {
            let hint = self.hint(|| did_you_mean(&member.role, self.role_names()));
            self.push(
                Violation::error(
                    RuleId::MemberUnknownRole,
                    at().join("role"),
                    format!("unknown role `{}`", member.role),
                )
                .with_hint(hint),
            );
        }
        if let Some(org_name) = &member.org {
            match self.state.partner_orgs.get(org_name) {
                None => {
                    let hint = self
                        .hint(|| did_you_mean(org_name, self.state.partner_orgs.keys().map(String::as_str)));
                    self.push(
                        Violation::error(
                            RuleId::MemberUnknownOrg,
                            at().join("org"),
                            format!("unknown partner org `{org_name}`"),
                        )
                        .with_hint(hint),
                    );
                }
                Some(org) => {
                    let domain = email_domain(email).unwrap_or_default();
                    if !org.domains.iter().any(|allowed| in_domain(domain, allowed)) {
                        self.push(Violation::error(
                            RuleId::MemberOutsideOrgDomains,
                            at().join("org"),
                            format!(
                                "`{email}` is not in a domain of partner org `{org_name}` ({})",
                                org.domains.iter().cloned().collect::<Vec<_>>().join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        self.member_attributes(&at, member);
        if let Some(day) = member.expires
            && day < self.today
        {
            self.push(Violation::warning(
                RuleId::MembershipExpired,
                at().join("expires"),
                format!(
                    "membership of `{email}` expired on {day}; it grants nothing and `plan` will remove it"
                ),
            ));
        }
        if let Some((first_portal, first)) = first {
            let first_at = || Pointer::root().join("members").join(first_portal).join(email);
            if first.org != member.org {
                self.push(
                    Violation::error(
                        RuleId::PartnerOrgDiffers,
                        at().join("org"),
                        format!(
                            "`{email}` has org {} in portal `{portal}` but {} in portal `{first_portal}`",
                            show_org(member.org.as_deref()),
                            show_org(first.org.as_deref())
                        ),
                    )
                    .with_related(first_at().join("org"), "first set here")
                    .with_hint(Some(
                        "one email is one partner: give it the same org everywhere".into(),
                    )),
                );
            }
            if first.attributes != member.attributes {
                self.push(
                    Violation::error(
                        RuleId::PartnerAttributesDiffer,
                        at().join("attributes"),
                        format!("`{email}` has different attributes in portal `{portal}` than in portal `{first_portal}`"),
                    )
                    .with_related(first_at().join("attributes"), "first set here")
                    .with_hint(Some("one email is one partner: give it the same attributes everywhere".into())),
                );
            }
        }
        true
    }

    fn member_attributes(&mut self, at: &dyn Fn() -> Pointer, member: &super::Membership) {
        let declared = &self.state.attributes;
        let no_values = super::AttributeValues::new();
        let org_values = member
            .org
            .as_ref()
            .and_then(|org| self.state.partner_orgs.get(org))
            .map_or(&no_values, |org| &org.attributes);
        for (key, value) in &member.attributes {
            // Built only for a violation: three attributes per partner are millions.
            let value_at = || at().join("attributes").join(key);
            if let Some(supplied) = org_values.get(key)
                && supplied != value
            {
                let sensitive = declared.get(key).is_some_and(|attribute| attribute.sensitive);
                let message = if sensitive {
                    format!("attribute `{key}` contradicts the value its partner org supplies")
                } else {
                    format!("attribute `{key}` is `{value}`, but its partner org supplies `{supplied}`")
                };
                self.push(
                    Violation::error(RuleId::MemberAttributeContradictsOrg, value_at(), message)
                        .with_hint(Some("omit it: members inherit their org's values".into())),
                );
            }
            match declared.get(key) {
                None => self.push(
                    Violation::error(
                        RuleId::MemberAttributeUndeclared,
                        value_at(),
                        format!("undeclared attribute `{key}`"),
                    )
                    .with_hint(
                        did_you_mean(key, declared.keys().map(String::as_str))
                            .or_else(|| Some("declare it under `attributes:` first".into())),
                    ),
                ),
                Some(attribute) => {
                    if let Some(why) = mismatch(value, attribute) {
                        let shown = if attribute.sensitive {
                            "value".to_string()
                        } else {
                            format!("`{value}`")
                        };
                        self.push(Violation::error(
                            RuleId::MemberAttributeInvalid,
                            value_at(),
                            format!("attribute `{key}`: {shown} does not fit: {why}"),
                        ));
                    }
                }
            }
        }
        for (key, attribute) in declared {
            if attribute.required && !member.attributes.contains_key(key) && !org_values.contains_key(key) {
                self.push(
                    Violation::error(
                        RuleId::MemberAttributeMissing,
                        at().join("attributes"),
                        format!("required attribute `{key}` is missing"),
                    )
                    .about(key.clone()),
                );
            }
        }
    }

    fn group(&mut self, name: &str, group: &super::Group) {
        let at = Pointer::root().join("groups").join(name);
        for email in &group.members {
            if !self.is_partner(email) {
                let hint = self.hint(|| {
                    let known = self.state.members.keys().map(|(_, email)| email.as_str());
                    did_you_mean(email, known).or_else(|| Some("add them to a portal's members first".into()))
                });
                self.push(
                    Violation::error(
                        RuleId::GroupMemberNotPartner,
                        at.join("members").join(email),
                        format!("group `{name}` lists `{email}`, who is not a member of any portal"),
                    )
                    .with_hint(hint),
                );
            }
        }
    }

    fn folder(&mut self, path: &str) {
        let at = Pointer::root().join("folders").join(path);
        if !is_valid_folder_path(path) {
            self.push(
                Violation::error(
                    RuleId::FolderPathInvalid,
                    at.clone(),
                    format!("`{path}` is not a folder path"),
                )
                .with_hint(Some("folder paths look like `/Partners/Finance`".into())),
            );
        }
        self.inside_dashboard("folder", path, at);
    }

    fn dashboard(&mut self, path: &str) {
        let at = Pointer::root().join("dashboards").join(path);
        if !is_valid_folder_path(path) {
            self.push(
                Violation::error(
                    RuleId::DashboardPathInvalid,
                    at,
                    format!("`{path}` is not a dashboard path"),
                )
                .with_hint(Some(
                    "dashboard paths name a declared folder and the dashboard, like `/Partners/Finance/Q3 Revenue`"
                        .into(),
                )),
            );
            return;
        }
        match dashboard_folder(path) {
            None => self.push(
                Violation::error(
                    RuleId::DashboardUnknownFolder,
                    at.clone(),
                    format!("dashboard `{path}` is not inside a folder"),
                )
                .with_hint(Some(
                    "a dashboard lies inside a declared folder, like `/Partners/Finance/Q3 Revenue`".into(),
                )),
            ),
            Some(folder) if !self.state.folders.contains_key(folder) => {
                let hint = self.hint(|| {
                    did_you_mean(folder, self.state.folders.keys().map(String::as_str))
                        .or_else(|| Some(format!("declare the folder `{folder}` under `folders:`")))
                });
                self.push(
                    Violation::error(
                        RuleId::DashboardUnknownFolder,
                        at.clone(),
                        format!("dashboard `{path}` is in folder `{folder}`, which is not declared"),
                    )
                    .with_hint(hint),
                );
            }
            Some(_) => {}
        }
        if self.state.folders.contains_key(path) {
            self.push(
                Violation::error(
                    RuleId::DashboardIsFolder,
                    at.clone(),
                    format!("`{path}` is declared both as a folder and as a dashboard"),
                )
                .with_related(
                    Pointer::root().join("folders").join(path),
                    "declared as a folder here",
                ),
            );
        }
        self.inside_dashboard("dashboard", path, at);
    }

    /// A folder or dashboard at `path` below a declared dashboard: reported at `at`.
    fn inside_dashboard(&mut self, what: &str, path: &str, at: Pointer) {
        let Some(dashboard) = super::self_and_ancestors(path)
            .skip(1)
            .find(|ancestor| self.state.dashboards.contains_key(*ancestor))
        else {
            return;
        };
        self.push(
            Violation::error(
                RuleId::InsideDashboard,
                at,
                format!("{what} `{path}` lies inside dashboard `{dashboard}`; a dashboard holds no folders or dashboards"),
            )
            .with_related(Pointer::root().join("dashboards").join(dashboard), "the dashboard"),
        );
    }

    fn share(&mut self, folder: &str, principal: &Principal, share: &super::Share) {
        // Built only for a violation.
        let at = || {
            Pointer::root()
                .join("shares")
                .join(folder)
                .join(&principal.to_string())
        };
        if !self.state.folders.contains_key(folder) && !self.state.dashboards.contains_key(folder) {
            self.push(Violation::error(
                RuleId::ShareUnknownFolder,
                at(),
                format!("share on `{folder}`, but no folder or dashboard is declared there"),
            ));
        }
        match principal {
            Principal::Group(name) if !self.state.groups.contains_key(name) => {
                let hint = self.hint(|| did_you_mean(name, self.state.groups.keys().map(String::as_str)));
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownGroup,
                        at().join("group"),
                        format!("unknown group `{name}`"),
                    )
                    .with_hint(hint),
                );
            }
            Principal::Portal(name) if !self.state.portals.contains_key(name) => {
                let hint = self.hint(|| did_you_mean(name, self.state.portals.keys().map(String::as_str)));
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownPortal,
                        at().join("portal"),
                        format!("unknown portal `{name}`"),
                    )
                    .with_hint(hint),
                );
            }
            Principal::Org(name) if !self.state.partner_orgs.contains_key(name) => {
                let hint =
                    self.hint(|| did_you_mean(name, self.state.partner_orgs.keys().map(String::as_str)));
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownOrg,
                        at().join("org"),
                        format!("unknown partner org `{name}`"),
                    )
                    .with_hint(hint),
                );
            }
            Principal::User(email) if !self.is_partner(email) => {
                let hint = self.hint(|| {
                    let known = self.state.members.keys().map(|(_, email)| email.as_str());
                    did_you_mean(email, known)
                        .or_else(|| Some("shares to `user:` must name a portal member".into()))
                });
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownUser,
                        at().join("user"),
                        format!("`{email}` is not a member of any portal"),
                    )
                    .with_hint(hint),
                );
            }
            _ => {}
        }
        if let Some(day) = share.expires
            && day < self.today
        {
            self.push(Violation::warning(
                RuleId::ShareExpired,
                at().join("expires"),
                format!("share of `{folder}` with {principal} expired on {day}; it grants nothing and `plan` will remove it"),
            ));
        }
    }
}

fn show_org(org: Option<&str>) -> String {
    org.map_or_else(|| "(none)".to_string(), |org| format!("`{org}`"))
}

/// Why `value` does not fit `attribute`, or `None`; for a sensitive attribute only the
/// expected type, since the reason may quote the value.
fn mismatch(value: &super::AttributeValue, attribute: &super::Attribute) -> Option<String> {
    let why = value.check(attribute).err()?;
    Some(if attribute.sensitive {
        format!("expected {}", attribute.kind)
    } else {
        why
    })
}

fn is_domain(domain: &str) -> bool {
    is_valid_email(&format!("x@{domain}")) && domain == domain.to_ascii_lowercase()
}

#[cfg(test)]
mod tests;
