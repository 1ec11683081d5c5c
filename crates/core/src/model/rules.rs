//! Semantic rules over a `State`, shared by `validate` and the service so the two can
//! never disagree about what is valid. Each problem is reported at a canonical
//! [`Pointer`]; callers map pointers to source locations or API fields.

use std::collections::BTreeSet;

use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use super::suggest::did_you_mean;
use super::{
    BUILTIN_PERMISSIONS, BUILTIN_ROLES, CalendarDate, Pointer, Principal, State, email_domain, is_dns_label,
    is_hex_color, is_https_url, is_valid_email, is_valid_folder_path,
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
    /// Where the offending value is.
    pub at: Pointer,
    pub message: String,
    pub hint: Option<String>,
    /// Other places the problem involves, e.g. the first definition of a conflicting value.
    pub related: Vec<(Pointer, String)>,
}

impl Violation {
    fn error(at: Pointer, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            at,
            message: message.into(),
            hint: None,
            related: Vec::new(),
        }
    }

    fn warning(at: Pointer, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(at, message)
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

/// Checks every rule and returns every violation, in a deterministic order.
///
/// `today` decides which `expires` dates are in the past (a warning, not an error).
pub fn check(state: &State, today: CalendarDate) -> Vec<Violation> {
    let partners = state.members.keys().map(|(_, email)| email.as_str()).collect();
    let mut checker = Checker {
        state,
        today,
        partners,
        out: Vec::new(),
    };
    checker.workspace();
    checker.attributes();
    checker.roles();
    checker.partner_orgs();
    checker.portals();
    checker.members();
    checker.groups();
    checker.folders_and_shares();
    checker.out
}

struct Checker<'a> {
    state: &'a State,
    today: CalendarDate,
    /// Every email with a membership somewhere, built once: rules look it up per reference.
    partners: FxHashSet<&'a str>,
    out: Vec<Violation>,
}

fn in_domain(domain: &str, owner: &str) -> bool {
    domain == owner || domain.strip_suffix(owner).is_some_and(|rest| rest.ends_with('.'))
}

impl<'a> Checker<'a> {
    fn push(&mut self, violation: Violation) {
        self.out.push(violation);
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
            self.push(Violation::error(at.join("name"), "the workspace needs a name"));
        }
        for domain in &self.state.workspace.owner_domains {
            if !is_domain(domain) {
                self.push(Violation::error(
                    at.join("owner_domains").join(domain),
                    format!("`{domain}` is not a domain name"),
                ));
            }
        }
    }

    fn attributes(&mut self) {
        for (key, attribute) in &self.state.attributes {
            let at = Pointer::root().join("attributes").join(key);
            let is_enum = attribute.kind == super::AttributeType::Enum;
            if is_enum && attribute.values.is_empty() {
                self.push(Violation::error(
                    at.join("type"),
                    format!("enum attribute `{key}` lists no `values`"),
                ));
            }
            if !is_enum && !attribute.values.is_empty() {
                self.push(Violation::error(
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
                    self.push(Violation::error(
                        at.join("values"),
                        format!("enum value `{value}` is listed twice"),
                    ));
                }
            }
        }
    }

    fn roles(&mut self) {
        for (name, role) in &self.state.roles {
            let at = Pointer::root().join("roles").join(name);
            if BUILTIN_ROLES.contains(&name.as_str()) {
                self.push(
                    Violation::error(
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

    fn partner_orgs(&mut self) {
        for (name, org) in &self.state.partner_orgs {
            let at = Pointer::root().join("partner_orgs").join(name);
            if org.domains.is_empty() {
                self.push(Violation::error(
                    at.join("domains"),
                    format!("partner org `{name}` lists no domains"),
                ));
            }
            for domain in &org.domains {
                let domain_at = at.join("domains").join(domain);
                if !is_domain(domain) {
                    self.push(Violation::error(
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
                        domain_at,
                        format!("partner org `{name}` claims `{domain}`, which is within the owner domain `{owner}`"),
                    ));
                }
            }
        }
    }

    fn portals(&mut self) {
        for (technical_name, portal) in &self.state.portals {
            let at = Pointer::root().join("portals").join(technical_name);
            if !is_dns_label(technical_name) {
                self.push(
                    Violation::error(
                        at.clone(),
                        format!("portal name `{technical_name}` is not a DNS label"),
                    )
                    .with_hint(Some(
                        "use 1 to 63 lowercase letters, digits and `-`, not starting or ending with `-`"
                            .into(),
                    )),
                );
            }
            if portal.name.trim().is_empty() {
                self.push(Violation::error(
                    at.join("name"),
                    "the portal needs a display `name`",
                ));
            }
            if !is_hex_color(&portal.color) {
                self.push(Violation::error(
                    at.join("color"),
                    format!("`{}` is not a colour: expected `#RRGGBB`", portal.color),
                ));
            }
            if !is_https_url(&portal.logout_url) {
                self.push(Violation::error(
                    at.join("logout_url"),
                    format!("`{}` is not an absolute https:// URL", portal.logout_url),
                ));
            }
            if let Some(cover) = &portal.home_cover
                && !is_https_url(cover)
            {
                self.push(Violation::error(
                    at.join("home_cover"),
                    format!("`{cover}` is not an absolute https:// URL"),
                ));
            }
            if !portal.session_ttl.in_range() {
                self.push(Violation::error(
                    at.join("session_ttl"),
                    format!("session_ttl `{}` is outside 5m..24h", portal.session_ttl),
                ));
            }
            if let Some(registration) = &portal.self_registration {
                let reg_at = at.join("self_registration");
                if !self.role_exists(&registration.default_role) {
                    self.push(
                        Violation::error(
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
                            reg_at.join("allowed_domains").join(domain),
                            format!("self-registration may not allow `{domain}`, which is within the owner domain `{owner}`"),
                        ));
                    }
                }
                if registration.enabled && registration.allowed_domains.is_empty() {
                    self.push(
                        Violation::error(
                            reg_at.join("allowed_domains"),
                            "self-registration is enabled but allows no domains",
                        )
                        .with_hint(Some("list the partner domains that may register".into())),
                    );
                }
            }
        }
    }

    fn members(&mut self) {
        // email -> (pointer of first membership) for the one-partner-one-identity rule.
        let mut first_seen: HashMap<&str, (&str, &super::Membership)> =
            HashMap::with_capacity_and_hasher(self.state.members.len(), Default::default());
        for ((portal, email), member) in &self.state.members {
            // Built only when a rule fails: 100k pointers per check would dominate its cost.
            let at = || Pointer::root().join("members").join(portal).join(email);
            if !self.state.portals.contains_key(portal) {
                self.push(
                    Violation::error(at(), format!("unknown portal `{portal}`")).with_hint(did_you_mean(
                        portal,
                        self.state.portals.keys().map(String::as_str),
                    )),
                );
            }
            if !is_valid_email(email) {
                self.push(Violation::error(
                    at().join("email"),
                    format!("`{email}` is not a valid email address"),
                ));
                continue;
            }
            if let Some(owner) = self.owner_domain_of(email) {
                self.push(
                    Violation::error(
                        at().join("email"),
                        format!("`{email}` is in the owner domain `{owner}`: staff cannot be partners"),
                    )
                    .with_hint(Some(
                        "owner domains are listed under `workspace.owner_domains`".into(),
                    )),
                );
            }
            if !self.role_exists(&member.role) {
                self.push(
                    Violation::error(at().join("role"), format!("unknown role `{}`", member.role))
                        .with_hint(did_you_mean(&member.role, self.role_names())),
                );
            }
            if let Some(org_name) = &member.org {
                match self.state.partner_orgs.get(org_name) {
                    None => self.push(
                        Violation::error(at().join("org"), format!("unknown partner org `{org_name}`"))
                            .with_hint(did_you_mean(
                                org_name,
                                self.state.partner_orgs.keys().map(String::as_str),
                            )),
                    ),
                    Some(org) => {
                        let domain = email_domain(email).unwrap_or_default();
                        if !org.domains.iter().any(|allowed| in_domain(domain, allowed)) {
                            self.push(Violation::error(
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
                    at().join("expires"),
                    format!("membership of `{email}` expired on {day}; it grants nothing and `plan` will remove it"),
                ));
            }
            match first_seen.get(email.as_str()) {
                None => {
                    first_seen.insert(email, (portal, member));
                }
                Some((first_portal, first)) => {
                    let first_at = Pointer::root().join("members").join(first_portal).join(email);
                    if first.org != member.org {
                        self.push(
                            Violation::error(
                                at().join("org"),
                                format!(
                                    "`{email}` has org {} in portal `{portal}` but {} in portal `{first_portal}`",
                                    show_org(member.org.as_deref()),
                                    show_org(first.org.as_deref())
                                ),
                            )
                            .with_related(first_at.join("org"), "first set here")
                            .with_hint(Some("one email is one partner: give it the same org everywhere".into())),
                        );
                    }
                    if first.attributes != member.attributes {
                        self.push(
                            Violation::error(
                                at().join("attributes"),
                                format!("`{email}` has different attributes in portal `{portal}` than in portal `{first_portal}`"),
                            )
                            .with_related(first_at.join("attributes"), "first set here")
                            .with_hint(Some("one email is one partner: give it the same attributes everywhere".into())),
                        );
                    }
                }
            }
        }
    }

    fn member_attributes(&mut self, at: &dyn Fn() -> Pointer, member: &super::Membership) {
        let declared = &self.state.attributes;
        for (key, value) in &member.attributes {
            let value_at = at().join("attributes").join(key);
            match declared.get(key) {
                None => self.push(
                    Violation::error(value_at, format!("undeclared attribute `{key}`")).with_hint(
                        did_you_mean(key, declared.keys().map(String::as_str))
                            .or_else(|| Some("declare it under `attributes:` first".into())),
                    ),
                ),
                Some(attribute) => {
                    if let Err(why) = value.check(attribute) {
                        let shown = if attribute.sensitive {
                            "value".to_string()
                        } else {
                            format!("`{value}`")
                        };
                        let why = if attribute.sensitive {
                            format!("expected {}", attribute.kind)
                        } else {
                            why
                        };
                        self.push(Violation::error(
                            value_at,
                            format!("attribute `{key}`: {shown} does not fit: {why}"),
                        ));
                    }
                }
            }
        }
        for (key, attribute) in declared {
            if attribute.required && !member.attributes.contains_key(key) {
                self.push(Violation::error(
                    at().join("attributes"),
                    format!("required attribute `{key}` is missing"),
                ));
            }
        }
    }

    fn groups(&mut self) {
        for (name, group) in &self.state.groups {
            let at = Pointer::root().join("groups").join(name);
            for email in &group.members {
                if !self.partners.contains(email.as_str()) {
                    let known = self.state.members.keys().map(|(_, email)| email.as_str());
                    self.push(
                        Violation::error(
                            at.join("members").join(email),
                            format!("group `{name}` lists `{email}`, who is not a member of any portal"),
                        )
                        .with_hint(
                            did_you_mean(email, known)
                                .or_else(|| Some("add them to a portal's members first".into())),
                        ),
                    );
                }
            }
        }
    }

    fn folders_and_shares(&mut self) {
        for path in self.state.folders.keys() {
            if !is_valid_folder_path(path) {
                self.push(
                    Violation::error(
                        Pointer::root().join("folders").join(path),
                        format!("`{path}` is not a folder path"),
                    )
                    .with_hint(Some("folder paths look like `/Partners/Finance`".into())),
                );
            }
        }
        for ((folder, principal), share) in &self.state.shares {
            let at = Pointer::root()
                .join("shares")
                .join(folder)
                .join(&principal.to_string());
            if !self.state.folders.contains_key(folder) {
                self.push(Violation::error(
                    at.clone(),
                    format!("share on unknown folder `{folder}`"),
                ));
            }
            match principal {
                Principal::Group(name) if !self.state.groups.contains_key(name) => self.push(
                    Violation::error(at.join("group"), format!("unknown group `{name}`"))
                        .with_hint(did_you_mean(name, self.state.groups.keys().map(String::as_str))),
                ),
                Principal::Portal(name) if !self.state.portals.contains_key(name) => self.push(
                    Violation::error(at.join("portal"), format!("unknown portal `{name}`"))
                        .with_hint(did_you_mean(name, self.state.portals.keys().map(String::as_str))),
                ),
                Principal::User(email) if !self.partners.contains(email.as_str()) => {
                    let known = self.state.members.keys().map(|(_, email)| email.as_str());
                    self.push(
                        Violation::error(
                            at.join("user"),
                            format!("`{email}` is not a member of any portal"),
                        )
                        .with_hint(
                            did_you_mean(email, known)
                                .or_else(|| Some("shares to `user:` must name a portal member".into())),
                        ),
                    );
                }
                _ => {}
            }
            if let Some(day) = share.expires
                && day < self.today
            {
                self.push(Violation::warning(
                    at.join("expires"),
                    format!("share of `{folder}` with {principal} expired on {day}; it grants nothing and `plan` will remove it"),
                ));
            }
        }
    }
}

fn show_org(org: Option<&str>) -> String {
    org.map_or_else(|| "(none)".to_string(), |org| format!("`{org}`"))
}

fn is_domain(domain: &str) -> bool {
    is_valid_email(&format!("x@{domain}")) && domain == domain.to_ascii_lowercase()
}
