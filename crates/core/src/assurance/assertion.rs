//! Assertions: statements about access that must always hold, written in the config
//! (`assertions:`) and checked on the desired state (`validate`, `plan`, `diff`) and on
//! the live one (`drift`).
//!
//! Three forms:
//! - `only: [PRINCIPAL…]` with a `folder` or `dashboard`: nobody outside those principals
//!   sees it (a folder: nor any folder or dashboard below it), through any path;
//! - `never: LEVEL|PERMISSION` with `user` or `principals`: none of those partners has it,
//!   on the folder or dashboard when one is named, anywhere otherwise;
//! - `can: LEVEL|PERMISSION` with `user` or `principals` and a `folder` or `dashboard`:
//!   each of those partners has it there.
//!
//! A level is `view` (any access) or `edit`; a permission is one of
//! [`crate::model::BUILTIN_PERMISSIONS`].
//!
//! # Guarantees
//! Evaluation asks [`AccessIndex::for_partners`] about the partners an assertion can
//! concern only: for `only`, the partners reached by a share on the path, its ancestors
//! or below it; for `never` and `can`, the partners named. Its cost follows those
//! partners, never partners × folders.

use std::collections::BTreeSet;

use crate::access::{AccessIndex, ContentKind, FolderAccess, Grant};
use crate::config::diagnostic::RuleId;
use crate::config::document::AssertionDoc;
use crate::config::yaml::{Node, Value};
use crate::config::{Diagnostic, Location, SourceMap};
use crate::model::suggest::did_you_mean;
use crate::model::{
    Access, BUILTIN_PERMISSIONS, CalendarDate, Principal, PrincipalKind, State, normalize_email,
    self_and_ancestors,
};

/// What an assertion says a partner has, or has not: a level or a permission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ability {
    /// `view` (any access at all) or `edit`.
    Level(Access),
    /// A permission usable there, such as `data.export`.
    Permission(String),
}

impl std::fmt::Display for Ability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Level(level) => write!(f, "{level}"),
            Self::Permission(permission) => f.write_str(permission),
        }
    }
}

impl Ability {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "view" => Some(Self::Level(Access::View)),
            "edit" => Some(Self::Level(Access::Edit)),
            permission if BUILTIN_PERMISSIONS.contains(&permission) => {
                Some(Self::Permission(permission.to_string()))
            }
            _ => None,
        }
    }

    /// Whether this access has the ability.
    fn held_by(&self, access: &FolderAccess) -> bool {
        match self {
            Self::Level(level) => access.level >= *level,
            Self::Permission(permission) => access.permissions.contains(permission),
        }
    }
}

/// The three forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Form {
    /// Nobody outside these principals sees the path.
    Only(Vec<Principal>),
    /// The partners named never have this.
    Never(Ability),
    /// The partners named have this on the path.
    Can(Ability),
}

/// One checked assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub name: String,
    /// Where it is written (its `name`).
    pub at: Option<Location>,
    /// The folder or dashboard it is about, if any.
    pub on: Option<(ContentKind, String)>,
    /// The partners it is about (`user` and `principals`), for `never` and `can`.
    pub who: Vec<Principal>,
    pub form: Form,
}

/// How an assertion is broken for one partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    /// `only`: the partner sees the path and is none of the principals allowed (listed).
    Sees(String),
    /// `never`: the partner has what it must never have.
    Has(Ability),
    /// `can`: the partner lacks it (their level there, if any).
    Lacks(Ability, Option<Access>),
    /// `can`: the user named is no active partner at all.
    NotAPartner,
}

/// One partner breaking one assertion, with the grants that do it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The assertion's name.
    pub assertion: String,
    pub at: Option<Location>,
    pub email: String,
    /// The folder or dashboard where it breaks (for `can`, the one asked about).
    pub path: String,
    pub kind: ContentKind,
    pub breach: Breach,
    /// The partner's level there, when they have one.
    pub level: Option<Access>,
    /// The grants that give the access: the paths (user, group, portal, org share) that
    /// break it. Empty for [`Breach::Lacks`] without access.
    pub grants: Vec<Grant>,
}

impl Violation {
    /// One line: who, what, where, and through which grants.
    pub fn describe(&self) -> String {
        let on = content(self.kind, &self.path);
        let what = match &self.breach {
            Breach::Sees(allowed) => format!(
                "{} has {} on {on} and is not in {allowed}",
                self.email,
                self.level.map_or_else(|| "access".to_string(), |l| l.to_string())
            ),
            Breach::Has(ability) => format!("{} has {ability} on {on}", self.email),
            Breach::Lacks(ability, None) => format!("{} has no access to {on}, not {ability}", self.email),
            Breach::Lacks(ability, Some(level)) => {
                format!("{} has {level} on {on}, not {ability}", self.email)
            }
            Breach::NotAPartner => format!("{} is no active partner, so has nothing on {on}", self.email),
        };
        if self.grants.is_empty() {
            return what;
        }
        format!("{what}, via {}", via(&self.grants, &self.path))
    }
}

fn content(kind: ContentKind, path: &str) -> String {
    match kind {
        ContentKind::Folder => path.to_string(),
        ContentKind::Dashboard => format!("dashboard {path}"),
    }
}

/// `group finance (shared on /Partners, view), user share (edit)`.
pub fn via(grants: &[Grant], path: &str) -> String {
    let parts: Vec<String> = grants
        .iter()
        .map(|grant| {
            let mut text = format!("{} {}", grant.principal.kind(), grant.principal.name());
            if grant.shared_folder == path {
                text.push_str(&format!(" ({})", grant.level));
            } else {
                text.push_str(&format!(" (shared on {}, {})", grant.shared_folder, grant.level));
            }
            text
        })
        .collect();
    parts.join(", ")
}

/// Reads one written assertion against the merged state; `None` (and diagnostics) when
/// it does not make sense.
pub(super) fn resolve(
    file: u32,
    node: &Node,
    doc: AssertionDoc,
    state: &State,
    map: &SourceMap,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Assertion> {
    let at = |key: &str| {
        let position = node.get(key).map_or(node.at, |child| child.at);
        map.file_location(file, position.line, position.column)
    };
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut fail = |key: &str, message: String, hint: Option<String>| {
        problems.push(Diagnostic::error(RuleId::AssertionInvalid, Some(at(key)), message).with_hint(hint));
    };
    let mut item_problems: Vec<Diagnostic> = Vec::new();
    let name = doc.name.trim().to_string();
    if name.is_empty() {
        fail("name", "an assertion needs a `name`".into(), None);
    }
    let forms: Vec<&str> = [
        ("only", doc.only.is_some()),
        ("never", doc.never.is_some()),
        ("can", doc.can.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, set)| set.then_some(key))
    .collect();
    let mut ok = true;
    if forms.len() != 1 {
        let message = if forms.is_empty() {
            format!("assertion `{name}` states none of `only`, `never` or `can`")
        } else {
            format!(
                "assertion `{name}` states {}: it states exactly one of `only`, `never` or `can`",
                forms
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )
        };
        fail(
            forms.get(1).copied().unwrap_or("name"),
            message,
            Some("write one assertion per statement".into()),
        );
        ok = false;
    }
    let on = match (&doc.folder, &doc.dashboard) {
        (Some(_), Some(_)) => {
            fail(
                "dashboard",
                format!("assertion `{name}` names both a `folder` and a `dashboard`"),
                Some("write one assertion for each".into()),
            );
            ok = false;
            None
        }
        (Some(folder), None) => {
            let folder = folder.trim();
            if !state.folders.contains_key(folder) {
                fail(
                    "folder",
                    format!("assertion `{name}` names an unknown folder `{folder}`"),
                    did_you_mean(folder, state.folders.keys().map(String::as_str)),
                );
                ok = false;
            }
            Some((ContentKind::Folder, folder.to_string()))
        }
        (None, Some(dashboard)) => {
            let dashboard = dashboard.trim();
            if !state.dashboards.contains_key(dashboard) {
                fail(
                    "dashboard",
                    format!("assertion `{name}` names an unknown dashboard `{dashboard}`"),
                    did_you_mean(dashboard, state.dashboards.keys().map(String::as_str)),
                );
                ok = false;
            }
            Some((ContentKind::Dashboard, dashboard.to_string()))
        }
        (None, None) => None,
    };
    let mut who = Vec::new();
    if let Some(user) = &doc.user {
        let email = normalize_email(user);
        if state.is_partner(&email) {
            who.push(Principal::User(email));
        } else {
            fail(
                "user",
                format!("assertion `{name}` names `{email}`, who is a member of no portal"),
                did_you_mean(&email, state.members.keys().map(|(_, e)| e.as_str())),
            );
            ok = false;
        }
    }
    let principals_node = node.get("principals");
    for (index, text) in doc.principals.iter().enumerate() {
        match principal(text, state) {
            Ok(principal) => who.push(principal),
            Err((message, hint)) => {
                let position = item_at(principals_node, index).unwrap_or(node.at);
                item_problems.push(
                    Diagnostic::error(
                        RuleId::AssertionInvalid,
                        Some(map.file_location(file, position.line, position.column)),
                        format!("assertion `{name}`: {message}"),
                    )
                    .with_hint(hint),
                );
                ok = false;
            }
        }
    }
    let form = if let Some(only) = &doc.only {
        if !who.is_empty() {
            fail(
                if doc.user.is_some() { "user" } else { "principals" },
                format!(
                    "assertion `{name}` uses `only`, which names who may see; `user` and `principals` belong to `never` and `can`"
                ),
                Some("list the principals allowed under `only`".into()),
            );
            ok = false;
        }
        if on.is_none() {
            fail(
                "only",
                format!("assertion `{name}` uses `only` without a `folder` or `dashboard`"),
                None,
            );
            ok = false;
        }
        let only_node = node.get("only");
        let mut allowed = Vec::new();
        for (index, text) in only.iter().enumerate() {
            match principal(text, state) {
                Ok(principal) => allowed.push(principal),
                Err((message, hint)) => {
                    let position = item_at(only_node, index).unwrap_or(node.at);
                    item_problems.push(
                        Diagnostic::error(
                            RuleId::AssertionInvalid,
                            Some(map.file_location(file, position.line, position.column)),
                            format!("assertion `{name}`: {message}"),
                        )
                        .with_hint(hint),
                    );
                    ok = false;
                }
            }
        }
        Some(Form::Only(allowed))
    } else {
        let (key, text) = match (&doc.never, &doc.can) {
            (Some(text), _) => ("never", text),
            (None, Some(text)) => ("can", text),
            (None, None) => ("name", &String::new()),
        };
        if who.is_empty() && ok {
            fail(
                key,
                format!(
                    "assertion `{name}` uses `{key}` without a `user` or `principals` to say whom it is about"
                ),
                None,
            );
            ok = false;
        }
        if key == "can" && on.is_none() {
            fail(
                "can",
                format!("assertion `{name}` uses `can` without a `folder` or `dashboard`"),
                None,
            );
            ok = false;
        }
        match Ability::parse(text) {
            Some(ability) if key == "never" => Some(Form::Never(ability)),
            Some(ability) if key == "can" => Some(Form::Can(ability)),
            Some(_) => None,
            None if key == "name" => None,
            None => {
                let known = ["view", "edit"]
                    .into_iter()
                    .chain(BUILTIN_PERMISSIONS.iter().copied());
                fail(
                    key,
                    format!(
                        "assertion `{name}`: `{}` is neither a level (`view`, `edit`) nor a permission",
                        text.trim()
                    ),
                    did_you_mean(text.trim(), known),
                );
                ok = false;
                None
            }
        }
    };
    diagnostics.extend(problems);
    diagnostics.extend(item_problems);
    let form = form?;
    ok.then(|| Assertion {
        name,
        at: Some(at("name")),
        on,
        who,
        form,
    })
}

fn item_at(node: Option<&Node>, index: usize) -> Option<crate::config::yaml::Position> {
    match &node?.value {
        Value::Seq(items) => items.get(index).map(|item| item.at),
        _ => None,
    }
}

/// Parses `org:NAME`, `group:NAME`, `portal:NAME` or `user:EMAIL` and checks that it exists.
fn principal(text: &str, state: &State) -> Result<Principal, (String, Option<String>)> {
    let text = text.trim();
    let Some((kind, name)) = text.split_once(':') else {
        return Err((
            format!("`{text}` is not a principal"),
            Some("write `org:NAME`, `group:NAME`, `portal:NAME` or `user:EMAIL`".into()),
        ));
    };
    let Some(kind) = PrincipalKind::ALL.into_iter().find(|k| k.as_str() == kind) else {
        return Err((
            format!("`{kind}:` is not a kind of principal"),
            did_you_mean(kind, PrincipalKind::ALL.map(PrincipalKind::as_str)),
        ));
    };
    let name = name.trim();
    let principal = Principal::new(kind, name);
    let (known, names): (bool, Vec<&str>) = match &principal {
        Principal::Org(org) => (
            state.partner_orgs.contains_key(org),
            state.partner_orgs.keys().map(String::as_str).collect(),
        ),
        Principal::Group(group) => (
            state.groups.contains_key(group),
            state.groups.keys().map(String::as_str).collect(),
        ),
        Principal::Portal(portal) => (
            state.portals.contains_key(portal),
            state.portals.keys().map(String::as_str).collect(),
        ),
        Principal::User(email) => (state.is_partner(email), Vec::new()),
    };
    if known {
        Ok(principal)
    } else {
        Err((
            format!(
                "{} `{}` is not declared",
                kind.as_str().replace("org", "partner org"),
                principal.name()
            ),
            did_you_mean(principal.name(), names),
        ))
    }
}

/// Who is reached by principals, as assertions need it: active memberships by email
/// and by org, built once per evaluation on first use.
struct People<'s> {
    state: &'s State,
    today: CalendarDate,
    seats: std::cell::OnceCell<Seats<'s>>,
}

#[derive(Default)]
struct Seats<'s> {
    /// email → the orgs of its active memberships.
    orgs_of: rustc_hash::FxHashMap<&'s str, Vec<&'s str>>,
    /// org → the emails of its active members.
    members_of: rustc_hash::FxHashMap<&'s str, Vec<&'s str>>,
}

impl<'s> People<'s> {
    fn new(state: &'s State, today: CalendarDate) -> Self {
        Self {
            state,
            today,
            seats: std::cell::OnceCell::new(),
        }
    }

    fn seats(&self) -> &Seats<'s> {
        self.seats.get_or_init(|| {
            let mut seats = Seats::default();
            for ((_, email), member) in &self.state.members {
                if let Some(org) = member.org.as_deref()
                    && member.grants_on(self.today)
                {
                    seats.orgs_of.entry(email.as_str()).or_default().push(org);
                    seats.members_of.entry(org).or_default().push(email.as_str());
                }
            }
            seats
        })
    }

    /// Whether the principal reaches `email` (an active partner).
    fn reaches(&self, principal: &Principal, email: &str) -> bool {
        match principal {
            Principal::User(user) => user == email,
            Principal::Group(group) => self
                .state
                .groups
                .get(group)
                .is_some_and(|group| group.members.contains(email)),
            Principal::Portal(portal) => self
                .state
                .members
                .get(&(portal.clone(), email.to_string()))
                .is_some_and(|member| member.grants_on(self.today)),
            Principal::Org(org) => self
                .seats()
                .orgs_of
                .get(email)
                .is_some_and(|orgs| orgs.contains(&org.as_str())),
        }
    }

    /// The active partners a principal reaches.
    fn reached(&self, principal: &Principal, into: &mut BTreeSet<String>) {
        match principal {
            Principal::User(email) => {
                into.insert(email.clone());
            }
            Principal::Group(group) => {
                if let Some(group) = self.state.groups.get(group) {
                    into.extend(group.members.iter().cloned());
                }
            }
            Principal::Portal(portal) => into.extend(
                self.state
                    .members
                    .range((portal.clone(), String::new())..)
                    .take_while(|((p, _), _)| p == portal)
                    .filter(|(_, member)| member.grants_on(self.today))
                    .map(|((_, email), _)| email.clone()),
            ),
            Principal::Org(org) => {
                if let Some(members) = self.seats().members_of.get(org.as_str()) {
                    into.extend(members.iter().map(|email| (*email).to_string()));
                }
            }
        }
    }
}

/// Whether `path` is `scope` or, for a folder scope, below it.
fn within(scope: &(ContentKind, String), path: &str) -> bool {
    let (kind, root) = scope;
    path == root
        || (*kind == ContentKind::Folder
            && path.len() > root.len()
            && path.starts_with(root.as_str())
            && path.as_bytes()[root.len()] == b'/')
}

/// Every way `state` breaks the assertions on `today`, in assertion order, then by email.
///
/// # Guarantees
/// One [`AccessIndex::for_partners`] for the partners all the assertions concern
/// together (one pass over memberships and shares), then each partner's access once per
/// assertion concerning them.
pub fn evaluate(assertions: &[Assertion], state: &State, today: CalendarDate) -> Vec<Violation> {
    if assertions.is_empty() {
        return Vec::new();
    }
    let people = People::new(state, today);
    let concerned: Vec<BTreeSet<String>> = assertions
        .iter()
        .map(|assertion| match &assertion.form {
            Form::Only(allowed) => only_candidates(assertion, allowed, &people),
            Form::Never(_) | Form::Can(_) => named(assertion, &people),
        })
        .collect();
    let everyone: BTreeSet<String> = concerned.iter().flatten().cloned().collect();
    let index = AccessIndex::for_partners(state, today, &everyone);
    let mut violations = Vec::new();
    for (assertion, emails) in assertions.iter().zip(&concerned) {
        match &assertion.form {
            Form::Only(allowed) => only(assertion, allowed, emails, &index, &mut violations),
            Form::Never(ability) => never(assertion, ability, emails, &index, &mut violations),
            Form::Can(ability) => can(assertion, ability, emails, &index, &mut violations),
        }
    }
    violations
}

fn violation(assertion: &Assertion, email: &str, access: &FolderAccess, breach: Breach) -> Violation {
    Violation {
        assertion: assertion.name.clone(),
        at: assertion.at.clone(),
        email: email.to_string(),
        path: access.folder.clone(),
        kind: access.kind,
        breach,
        level: Some(access.level),
        grants: access.grants.clone(),
    }
}

/// The partners an `only` assertion may concern: those reached by a share on the path,
/// an ancestor or (for a folder) below it, and none of the principals allowed.
fn only_candidates(assertion: &Assertion, allowed: &[Principal], people: &People<'_>) -> BTreeSet<String> {
    let Some(scope) = &assertion.on else {
        return BTreeSet::new();
    };
    let state = people.state;
    let mut principals: BTreeSet<&Principal> = BTreeSet::new();
    for ancestor in self_and_ancestors(&scope.1) {
        principals.extend(state.shares_on(ancestor).map(|(principal, _)| principal));
    }
    if scope.0 == ContentKind::Folder {
        let below = format!("{}/", scope.1);
        principals.extend(
            state
                .shares
                .range((below.clone(), Principal::Group(String::new()))..)
                .take_while(|((path, _), _)| path.starts_with(&below))
                .map(|((_, principal), _)| principal),
        );
    }
    let mut candidates = BTreeSet::new();
    for principal in principals {
        people.reached(principal, &mut candidates);
    }
    candidates.retain(|email| !allowed.iter().any(|principal| people.reaches(principal, email)));
    candidates
}

fn only(
    assertion: &Assertion,
    allowed: &[Principal],
    candidates: &BTreeSet<String>,
    index: &AccessIndex,
    out: &mut Vec<Violation>,
) {
    let Some(scope) = &assertion.on else { return };
    for email in candidates {
        let access = index.partner_access(email);
        if let Some(first) = access.iter().find(|access| within(scope, &access.folder)) {
            let allowed = allowed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            out.push(violation(assertion, email, first, Breach::Sees(allowed)));
        }
    }
}

fn named(assertion: &Assertion, people: &People<'_>) -> BTreeSet<String> {
    let mut emails = BTreeSet::new();
    for principal in &assertion.who {
        people.reached(principal, &mut emails);
    }
    emails
}

fn never(
    assertion: &Assertion,
    ability: &Ability,
    emails: &BTreeSet<String>,
    index: &AccessIndex,
    out: &mut Vec<Violation>,
) {
    for email in emails {
        let access = index.partner_access(email);
        let found = access.iter().find(|access| {
            assertion
                .on
                .as_ref()
                .is_none_or(|scope| within(scope, &access.folder))
                && ability.held_by(access)
        });
        if let Some(access) = found {
            out.push(violation(assertion, email, access, Breach::Has(ability.clone())));
        }
    }
}

fn can(
    assertion: &Assertion,
    ability: &Ability,
    emails: &BTreeSet<String>,
    index: &AccessIndex,
    out: &mut Vec<Violation>,
) {
    let Some((kind, path)) = &assertion.on else { return };
    // A user named who is no active partner breaks `can` (a group or org may be empty).
    for principal in &assertion.who {
        if let Principal::User(email) = principal
            && !index.is_active_partner(email)
        {
            out.push(Violation {
                assertion: assertion.name.clone(),
                at: assertion.at.clone(),
                email: email.clone(),
                path: path.clone(),
                kind: *kind,
                breach: Breach::NotAPartner,
                level: None,
                grants: Vec::new(),
            });
        }
    }
    for email in emails {
        if !index.is_active_partner(email) {
            continue;
        }
        let access = index
            .partner_access(email)
            .into_iter()
            .find(|access| access.folder == *path);
        match access {
            Some(access) if ability.held_by(&access) => {}
            Some(access) => out.push(violation(
                assertion,
                email,
                &access,
                Breach::Lacks(ability.clone(), Some(access.level)),
            )),
            None => out.push(Violation {
                assertion: assertion.name.clone(),
                at: assertion.at.clone(),
                email: email.clone(),
                path: path.clone(),
                kind: *kind,
                breach: Breach::Lacks(ability.clone(), None),
                level: None,
                grants: Vec::new(),
            }),
        }
    }
}

/// How many violations of one assertion become diagnostics; the rest are counted.
const SHOWN_PER_ASSERTION: usize = 10;

/// Diagnostics for violations: each at its assertion, naming the partner, the path and
/// the grants, with the places that write each grant (the share; the group membership or
/// roster entry it reaches the partner through).
pub fn to_diagnostics(violations: &[Violation], map: &SourceMap) -> Vec<Diagnostic> {
    use crate::model::Pointer;
    let mut out = Vec::new();
    let mut by_assertion: Vec<(&str, Vec<&Violation>)> = Vec::new();
    for violation in violations {
        match by_assertion.last_mut() {
            Some((name, list)) if *name == violation.assertion => list.push(violation),
            _ => by_assertion.push((&violation.assertion, vec![violation])),
        }
    }
    for (name, list) in by_assertion {
        for violation in list.iter().take(SHOWN_PER_ASSERTION) {
            let mut diagnostic = Diagnostic::error(
                RuleId::AssertionBroken,
                violation.at.clone(),
                format!("assertion `{name}` is broken: {}", violation.describe()),
            );
            for grant in &violation.grants {
                let share = Pointer::root()
                    .join("shares")
                    .join(&grant.shared_folder)
                    .join(&grant.principal.to_string());
                if let Some(location) = map.exact(&share) {
                    diagnostic = diagnostic.with_related(
                        location,
                        format!("the share of {} with {}", grant.shared_folder, grant.principal),
                    );
                }
                let reach = match &grant.principal {
                    Principal::Group(group) => Some((
                        Pointer::root()
                            .join("groups")
                            .join(group)
                            .join("members")
                            .join(&violation.email),
                        format!("{} is in group {group}", violation.email),
                    )),
                    Principal::Portal(portal) => Some((
                        Pointer::member(portal, &violation.email),
                        format!("{} is a member of portal {portal}", violation.email),
                    )),
                    Principal::User(_) | Principal::Org(_) => None,
                };
                if let Some((pointer, label)) = reach
                    && let Some(location) = map.exact(&pointer)
                {
                    diagnostic = diagnostic.with_related(location, label);
                }
            }
            out.push(diagnostic.with_hint(Some(
                "remove the grant, or change the assertion if the access is meant".into(),
            )));
        }
        if list.len() > SHOWN_PER_ASSERTION {
            out.push(Diagnostic::error(
                RuleId::AssertionBroken,
                list[0].at.clone(),
                format!(
                    "assertion `{name}` is broken for {} more partner(s)",
                    list.len() - SHOWN_PER_ASSERTION
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MemorySource, load};

    const BASE: &str = "\
workspace: {name: Acme, owner_domains: [acme.io]}
roles:
  analyst: {extends: editor, permissions: [data.export]}
partner_orgs:
  contoso: {domains: [contoso.com]}
  globex: {domains: [globex.com]}
portals:
  partners:
    name: Partners
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    members:
      - {email: ana@contoso.com, role: editor, org: contoso}
      - {email: alice@globex.com, role: viewer, org: globex}
groups:
  finance: {members: [alice@globex.com]}
folders:
  /Room: {shares: [{org: contoso, access: edit}]}
  /Room/Sub: {}
  /Open: {shares: [{portal: partners, access: edit}]}
dashboards:
  /Room/Sub/Board: {}
";

    /// Loads BASE plus `extra` and the assertion; the names of the partners breaking it,
    /// with where, in order.
    fn check(extra: &str, assertion: &str) -> Vec<String> {
        check_on(&format!("{BASE}{extra}"), assertion)
    }

    /// [`check`] on another config than BASE.
    fn check_on(config: &str, assertion: &str) -> Vec<String> {
        let text = format!("{config}assertions:\n  - name: a\n{assertion}");
        let today = CalendarDate::from_ymd(2026, 11, 26).expect("a day");
        let loaded = load(&MemorySource::default().with("c.yaml", &text), today).expect("loads");
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        evaluate(&loaded.assurance.assertions, &loaded.state, today)
            .into_iter()
            .map(|violation| format!("{} {}", violation.email, violation.path))
            .collect()
    }

    #[test]
    fn only_holds_until_any_path_reaches_someone_else() {
        let only = "    folder: /Room\n    only: [org:contoso]\n";
        assert_eq!(check("", only), Vec::<String>::new());
        // A share below the folder counts (the dashboard's own share is below).
        assert_eq!(
            check("", "    folder: /Room\n    only: [group:finance]\n"),
            ["ana@contoso.com /Room"]
        );
        let with_group = BASE.replace(
            "/Room/Sub: {}",
            "/Room/Sub: {shares: [{group: finance, access: view}]}",
        );
        let text = format!("{with_group}assertions:\n  - name: a\n{only}");
        let today = CalendarDate::from_ymd(2026, 11, 26).expect("a day");
        let loaded = load(&MemorySource::default().with("c.yaml", &text), today).expect("loads");
        let found = evaluate(&loaded.assurance.assertions, &loaded.state, today);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].email.as_str(), found[0].path.as_str()),
            ("alice@globex.com", "/Room/Sub")
        );
        assert_eq!(found[0].grants[0].principal.to_string(), "group:finance");
        // A dashboard assertion is about the dashboard alone.
        assert_eq!(
            check(
                "",
                "    dashboard: /Room/Sub/Board\n    only: [user:ana@contoso.com]\n"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_dashboards_own_share_counts_for_the_folders_above_and_for_itself() {
        let shared = BASE.replace(
            "/Room/Sub/Board: {}",
            "/Room/Sub/Board: {shares: [{user: alice@globex.com, access: view}]}",
        );
        // alice reaches the room through the dashboard alone.
        assert_eq!(
            check_on(&shared, "    folder: /Room\n    only: [org:contoso]\n"),
            ["alice@globex.com /Room/Sub/Board"]
        );
        assert_eq!(
            check_on(
                &shared,
                "    dashboard: /Room/Sub/Board\n    only: [org:contoso]\n"
            ),
            ["alice@globex.com /Room/Sub/Board"]
        );
        assert_eq!(
            check_on(
                &shared,
                "    principals: [org:globex]\n    never: view\n    folder: /Room\n"
            ),
            ["alice@globex.com /Room/Sub/Board"]
        );
        // Without the share, nothing of the room reaches her.
        assert_eq!(
            check(
                "",
                "    principals: [org:globex]\n    never: view\n    folder: /Room\n"
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn never_and_can_follow_roles_and_levels() {
        assert_eq!(
            check("", "    principals: [org:contoso]\n    never: data.export\n"),
            Vec::<String>::new()
        );
        assert_eq!(
            check("", "    principals: [org:globex]\n    never: edit\n"),
            Vec::<String>::new(),
            "a viewer's edit share is capped to view"
        );
        assert_eq!(
            check(
                "",
                "    principals: [org:contoso]\n    never: edit\n    folder: /Open\n"
            ),
            ["ana@contoso.com /Open"]
        );
        assert_eq!(
            check("", "    principals: [group:finance]\n    never: view\n"),
            ["alice@globex.com /Open"]
        );
        assert_eq!(
            check(
                "",
                "    user: ana@contoso.com\n    can: edit\n    folder: /Room/Sub\n"
            ),
            Vec::<String>::new()
        );
        assert_eq!(
            check(
                "",
                "    user: alice@globex.com\n    can: reports.view\n    folder: /Room\n"
            ),
            ["alice@globex.com /Room"]
        );
        assert_eq!(
            check(
                "",
                "    principals: [portal:partners]\n    can: edit\n    folder: /Open\n"
            ),
            ["alice@globex.com /Open"]
        );
    }
}
