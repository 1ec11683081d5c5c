//! Merging parsed files into one canonical `State`, recording where every resource and
//! field came from, and reporting keys defined twice (naming both places).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::csv_roster::{self, CsvRow};
use super::document::{ConfigFile, MemberDoc, PortalDoc, PortalTemplateDoc};
use super::yaml::{Node, Position, Value};
use super::{Diagnostic, Location, SourceMap};
use crate::model::rules::RuleId;
use crate::model::suggest::did_you_mean;
use crate::model::{
    Attribute, AttributeValue, AttributeValues, CalendarDate, Dashboard, Folder, Group, Kind, MemberSource,
    Membership, PartnerOrg, Pointer, Portal, Principal, PrincipalKind, SessionTtl, Share, State, Workspace,
    normalize_email,
};

/// One parsed, schema-valid file.
pub struct ParsedFile {
    pub id: u32,
    pub path: PathBuf,
    pub root: Node,
    pub doc: ConfigFile,
}

/// Builds the state from parsed files. Pure: the CSV rosters the files name are read by
/// the caller ([`Merger::roster_paths`]) and handed to [`Merger::finish`].
pub struct Merger {
    pub state: State,
    pub map: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    workspace_seen: bool,
    rosters: Vec<PendingRoster>,
    /// (displayed path, text) of every CSV roster read.
    csv_texts: Vec<(String, String)>,
    /// Where each inline (YAML) member attribute value stands: (attribute, file, position).
    /// Snippets hide the values of sensitive ones; CSV cells are masked by column instead.
    pub inline_attributes: Vec<(String, u32, Position)>,
    /// Portal templates of every file, by name, read before any portal.
    templates: rustc_hash::FxHashMap<String, Arc<TemplateEntry>>,
    /// Assertions and `owners:` lists as written, resolved by the loader once the state
    /// is complete (`crate::assurance`).
    pub assurance: crate::assurance::Written,
}

/// A portal template as written: its file, its node (for positions) and its values.
struct TemplateEntry {
    file: u32,
    node: Node,
    doc: PortalTemplateDoc,
}

/// The portal fields a template may give, as written in YAML.
const TEMPLATE_FIELDS: [&str; 10] = [
    "color",
    "logout_url",
    "home_cover",
    "session_ttl",
    "require_2fa",
    "self_registration",
    "protect",
    "max_members",
    "invitations",
    "removal_notice",
];
const TEXT_FIELDS: [&str; 3] = ["initiation", "first_login", "help_url"];

/// What reading one CSV roster gave: its path as shown to the user, and its text.
pub struct RosterText {
    pub display: String,
    pub text: std::io::Result<String>,
}

/// How many parsed rosters may wait to be merged.
const ROSTERS_AHEAD: usize = 8;

/// A `from_csv` entry, read once every file's attributes are known.
struct PendingRoster {
    file: u32,
    yaml_path: PathBuf,
    portal: String,
    at: Position,
    csv: String,
    defaults: MemberDoc,
}

impl PendingRoster {
    /// The CSV file, relative to the YAML file that names it.
    fn csv_path(&self) -> PathBuf {
        super::source::normalize(&self.yaml_path.parent().unwrap_or(Path::new("")).join(&self.csv))
    }
}

fn empty() -> Node {
    Node {
        value: Value::Null,
        at: Position::default(),
    }
}

fn child<'n>(node: &'n Node, key: &str) -> &'n Node {
    static NULL: std::sync::OnceLock<Node> = std::sync::OnceLock::new();
    node.get(key).unwrap_or_else(|| NULL.get_or_init(empty))
}

/// A mapping indexed by key: sections hold thousands of entries (groups, folders), and
/// looking each up by scanning would be quadratic.
struct Section<'n> {
    entries: rustc_hash::FxHashMap<&'n str, (Position, &'n Node)>,
}

impl<'n> Section<'n> {
    fn new(node: &'n Node) -> Self {
        let entries = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .map(|(key, value)| (key.text.as_str(), (key.at, value)))
                .collect(),
            _ => rustc_hash::FxHashMap::default(),
        };
        Self { entries }
    }

    fn child(&self, key: &str) -> &'n Node {
        static NULL: std::sync::OnceLock<Node> = std::sync::OnceLock::new();
        self.entries
            .get(key)
            .map_or_else(|| NULL.get_or_init(empty), |(_, node)| *node)
    }

    fn key_position(&self, key: &str) -> Option<Position> {
        self.entries.get(key).map(|(at, _)| *at)
    }
}

fn item(node: &Node, index: usize) -> Option<&Node> {
    match &node.value {
        Value::Seq(items) => items.get(index),
        _ => None,
    }
}

impl Merger {
    pub fn new(map: SourceMap) -> Self {
        Self {
            state: State::default(),
            map,
            diagnostics: Vec::new(),
            workspace_seen: false,
            rosters: Vec::new(),
            csv_texts: Vec::new(),
            inline_attributes: Vec::new(),
            templates: rustc_hash::FxHashMap::default(),
            assurance: crate::assurance::Written::default(),
        }
    }

    fn location(&self, pointer: &Pointer) -> Option<Location> {
        self.map.exact(pointer)
    }

    fn loc(&self, file: u32, at: Position) -> Location {
        self.map.file_location(file, at.line, at.column)
    }

    fn error(
        &mut self,
        rule: RuleId,
        file: u32,
        at: Position,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let location = self.loc(file, at);
        self.diagnostics
            .push(Diagnostic::error(rule, Some(location), message).with_hint(hint));
    }

    /// Records a resource; `false` (and a diagnostic naming both places) when it is already defined.
    fn define(&mut self, pointer: &Pointer, file: u32, at: Position, what: &str) -> bool {
        if let Some(first) = self.location(pointer) {
            let location = self.loc(file, at);
            self.diagnostics.push(
                Diagnostic::error(
                    RuleId::DefinedTwice,
                    Some(location),
                    format!("{what} is defined twice"),
                )
                .with_related(first, "first defined here"),
            );
            return false;
        }
        self.map.record(pointer, file, at.line, at.column);
        true
    }

    /// Records one entry of a section (`attributes.tier`): its pointer, or `None` (and a
    /// diagnostic naming both places) when it is already defined.
    fn define_entry(&mut self, file: u32, section: &Section<'_>, kind: Kind, name: &str) -> Option<Pointer> {
        let pointer = Pointer::root().join(kind.section()).join(name);
        let at = section.key_position(name).unwrap_or_default();
        let what = format!("{} `{name}`", kind.as_str().replace('_', " "));
        self.define(&pointer, file, at, &what).then_some(pointer)
    }

    fn note(&mut self, pointer: &Pointer, file: u32, node: &Node) {
        if node.at != Position::default() {
            self.map.record(pointer, file, node.at.line, node.at.column);
        }
    }

    /// Reads the portal templates of one file; call it for every file before [`Self::add`],
    /// since a portal may name a template written in another file.
    pub fn add_templates(&mut self, file: &mut ParsedFile) {
        let templates = std::mem::take(&mut file.doc.portal_templates);
        let section = Section::new(child(&file.root, "portal_templates"));
        for (name, doc) in templates {
            let pointer = Pointer::root().join("portal_templates").join(&name);
            let at = section.key_position(&name).unwrap_or_default();
            if !self.define(&pointer, file.id, at, &format!("portal template `{name}`")) {
                continue;
            }
            let node = section.child(&name).clone();
            self.templates.insert(
                name,
                Arc::new(TemplateEntry {
                    file: file.id,
                    node,
                    doc,
                }),
            );
        }
    }

    pub fn add(&mut self, file: ParsedFile) {
        let ParsedFile {
            id,
            path,
            root,
            mut doc,
        } = file;
        self.add_assurance(id, &root, &mut doc);
        if let Some(workspace) = doc.workspace {
            let at = root.key_position("workspace").unwrap_or_default();
            let pointer = Pointer::root().join("workspace");
            if self.workspace_seen {
                self.define(&pointer, id, at, "`workspace`");
            } else {
                self.workspace_seen = true;
                self.map.record(&pointer, id, at.line, at.column);
                let node = child(&root, "workspace");
                self.note(&pointer.join("name"), id, child(node, "name"));
                let domains = child(node, "owner_domains");
                let mut owner_domains = std::collections::BTreeSet::new();
                for (index, domain) in workspace.owner_domains.iter().enumerate() {
                    let domain = domain.trim().to_ascii_lowercase();
                    if let Some(n) = item(domains, index) {
                        self.note(&pointer.join("owner_domains").join(&domain), id, n);
                    }
                    owner_domains.insert(domain);
                }
                let permissions_node = child(node, "permissions");
                for permission in workspace.permissions.keys() {
                    if let Some(at) = permissions_node.key_position(permission) {
                        let pointer = pointer.join("permissions").join(permission);
                        self.map.record(&pointer, id, at.line, at.column);
                    }
                }
                let console = workspace.console.normalized();
                self.note_console(&pointer.join("console"), id, child(node, "console"), &console);
                self.state.workspace = Workspace {
                    name: workspace.name,
                    owner_domains,
                    permissions: workspace.permissions,
                    console,
                };
            }
        }
        self.add_attributes(id, &root, doc.attributes);
        self.add_roles(id, &root, doc.roles);
        self.add_orgs(id, &root, doc.partner_orgs);
        let portals = Section::new(child(&root, "portals"));
        for (name, portal) in doc.portals {
            self.add_portal(id, &path, &portals, name, portal);
        }
        self.add_groups(id, &root, doc.groups);
        self.add_folders(id, &root, doc.folders);
        self.add_dashboards(id, &root, doc.dashboards);
    }

    /// Records where each console entry is written, at the pointers the rules report.
    fn note_console(&mut self, pointer: &Pointer, file: u32, node: &Node, console: &crate::model::Console) {
        let entries = |list: &Node| -> Vec<(String, Node)> {
            let mut found = Vec::new();
            let mut index = 0;
            while let Some(n) = item(list, index) {
                if let Value::String(text) = &n.value {
                    let entry = match text.trim().strip_prefix(crate::model::CONSOLE_GROUP_PREFIX) {
                        Some(group) => format!("{}{}", crate::model::CONSOLE_GROUP_PREFIX, group.trim()),
                        None => crate::model::normalize_email(text.trim()),
                    };
                    found.push((entry, n.clone()));
                }
                index += 1;
            }
            found
        };
        let groups = child(node, "groups");
        for name in console.groups.keys() {
            for (email, n) in entries(child(groups, name)) {
                self.note(&pointer.join("groups").join(name).join(&email), file, &n);
            }
        }
        for role in crate::model::StaffRole::ALL {
            for (entry, n) in entries(child(node, role.list_key())) {
                self.note(&pointer.join(role.list_key()).join(&entry), file, &n);
            }
        }
    }

    /// Keeps the assertions and `owners:` lists of a file for the loader to resolve.
    fn add_assurance(&mut self, id: u32, root: &Node, doc: &mut ConfigFile) {
        use crate::assurance::owners::Owned;
        let assertions = child(root, "assertions");
        for (index, assertion) in std::mem::take(&mut doc.assertions).into_iter().enumerate() {
            let node = item(assertions, index).cloned().unwrap_or_else(empty);
            self.assurance.assertions.push((id, node, assertion));
        }
        let mut owned = Vec::new();
        for (section, names) in [
            (
                "portals",
                doc.portals
                    .iter()
                    .filter(|(_, d)| !d.owners.is_empty())
                    .map(|(n, _)| n.clone())
                    .collect::<Vec<_>>(),
            ),
            (
                "folders",
                doc.folders
                    .iter()
                    .filter(|(_, d)| !d.owners.is_empty())
                    .map(|(n, _)| n.clone())
                    .collect(),
            ),
            (
                "partner_orgs",
                doc.partner_orgs
                    .iter()
                    .filter(|(_, d)| !d.owners.is_empty())
                    .map(|(n, _)| n.clone())
                    .collect(),
            ),
        ] {
            let section_node = child(root, section);
            for name in names {
                let node = child(child(section_node, &name), "owners").clone();
                let what = match section {
                    "portals" => Owned::Portal(name),
                    "folders" => Owned::Folder(name),
                    _ => Owned::Org(name),
                };
                owned.push((id, what, node));
            }
        }
        self.assurance.owners.extend(owned);
    }

    fn add_attributes(&mut self, id: u32, root: &Node, attributes: BTreeMap<String, Attribute>) {
        let section = Section::new(child(root, "attributes"));
        for (key, attribute) in attributes {
            let Some(pointer) = self.define_entry(id, &section, Kind::Attribute, &key) else {
                continue;
            };
            let node = section.child(&key);
            self.note(&pointer.join("type"), id, child(node, "type"));
            self.note(&pointer.join("values"), id, child(node, "values"));
            self.state.attributes.insert(key, attribute);
        }
    }

    fn add_roles(&mut self, id: u32, root: &Node, roles: BTreeMap<String, crate::model::Role>) {
        let section = Section::new(child(root, "roles"));
        for (name, role) in roles {
            let Some(pointer) = self.define_entry(id, &section, Kind::Role, &name) else {
                continue;
            };
            let node = section.child(&name);
            self.note(&pointer.join("extends"), id, child(node, "extends"));
            let permissions = child(node, "permissions");
            if let Value::Seq(items) = &permissions.value {
                for n in items {
                    if let Value::String(permission) = &n.value {
                        self.note(&pointer.join("permissions").join(permission), id, n);
                    }
                }
            }
            self.state.roles.insert(name, role);
        }
    }

    fn add_orgs(&mut self, id: u32, root: &Node, orgs: BTreeMap<String, super::document::PartnerOrgDoc>) {
        let section = Section::new(child(root, "partner_orgs"));
        for (name, org) in orgs {
            let Some(pointer) = self.define_entry(id, &section, Kind::PartnerOrg, &name) else {
                continue;
            };
            let node = section.child(&name);
            let domains_node = child(node, "domains");
            self.note(&pointer.join("domains"), id, domains_node);
            self.note(&pointer.join("max_members"), id, child(node, "max_members"));
            let mut domains = std::collections::BTreeSet::new();
            for (index, domain) in org.domains.iter().enumerate() {
                let domain = domain.trim().to_ascii_lowercase();
                if let Some(n) = item(domains_node, index) {
                    self.note(&pointer.join("domains").join(&domain), id, n);
                }
                domains.insert(domain);
            }
            let attributes_node = child(node, "attributes");
            for key in org.attributes.keys() {
                let value = child(attributes_node, key);
                self.note(&pointer.join("attributes").join(key), id, value);
                // An org's sensitive value is hidden in snippets as a member's is.
                self.inline_attributes.push((key.clone(), id, value.at));
            }
            self.state.partner_orgs.insert(
                name,
                PartnerOrg {
                    domains,
                    kind: org.kind,
                    max_members: org.max_members,
                    attributes: org.attributes,
                    self_management: org.self_management,
                },
            );
        }
    }

    fn add_portal(&mut self, id: u32, path: &Path, section: &Section<'_>, name: String, doc: PortalDoc) {
        let Some(pointer) = self.define_entry(id, section, Kind::Portal, &name) else {
            return;
        };
        let node = section.child(&name);
        let template = match &doc.template {
            None => None,
            Some(template) => {
                let found = self.templates.get(template).cloned();
                if found.is_none() {
                    let known: Vec<&str> = self.templates.keys().map(String::as_str).collect();
                    self.error(
                        RuleId::UnknownTemplate,
                        id,
                        child(node, "template").at,
                        format!("portal `{name}` names an unknown portal template `{template}`"),
                        did_you_mean(template, known),
                    );
                }
                self.note(&pointer.join("template"), id, child(node, "template"));
                found
            }
        };
        let mut from_template = std::collections::BTreeSet::new();
        for field in ["name"].into_iter().chain(TEMPLATE_FIELDS) {
            let own = child(node, field);
            if own.at != Position::default() || field == "name" {
                self.note(&pointer.join(field), id, own);
            } else if let Some(template) = &template
                && let Some(given) = template.node.get(field)
            {
                self.map.record(
                    &pointer.join(field),
                    template.file,
                    given.at.line,
                    given.at.column,
                );
                from_template.insert(field.to_string());
            }
        }
        let own_texts = child(node, "texts");
        for field in TEXT_FIELDS {
            let text_pointer = pointer.join("texts").join(field);
            if let Some(own) = own_texts.get(field) {
                self.note(&text_pointer, id, own);
            } else if let Some(template) = &template
                && let Some(given) = template.node.get("texts").and_then(|texts| texts.get(field))
            {
                self.map
                    .record(&text_pointer, template.file, given.at.line, given.at.column);
                from_template.insert(format!("texts.{field}"));
            }
        }
        // Positions inside `self_registration` come from whichever side gave it.
        let (registration, registration_file) = match (&template, from_template.contains("self_registration"))
        {
            (Some(template), true) => (child(&template.node, "self_registration"), template.file),
            _ => (child(node, "self_registration"), id),
        };
        self.note(
            &pointer.join("self_registration").join("default_role"),
            registration_file,
            child(registration, "default_role"),
        );
        let allowed = child(registration, "allowed_domains");
        self.note(
            &pointer.join("self_registration").join("allowed_domains"),
            registration_file,
            allowed,
        );
        let groups = child(registration, "groups");
        self.note(
            &pointer.join("self_registration").join("groups"),
            registration_file,
            groups,
        );
        let given = template.as_ref().map(|t| t.doc.clone()).unwrap_or_default();
        let self_registration = doc.self_registration.or(given.self_registration);
        if let Some(reg) = &self_registration {
            for (index, domain) in reg.allowed_domains.iter().enumerate() {
                if let Some(n) = item(allowed, index) {
                    self.note(
                        &pointer
                            .join("self_registration")
                            .join("allowed_domains")
                            .join(domain),
                        registration_file,
                        n,
                    );
                }
            }
            for (index, group) in reg.groups.iter().enumerate() {
                if let Some(n) = item(groups, index) {
                    self.note(
                        &pointer.join("self_registration").join("groups").join(group),
                        registration_file,
                        n,
                    );
                }
            }
        }
        let session_ttl = match doc
            .session_ttl
            .as_deref()
            .or(given.session_ttl.as_deref())
            .map(str::parse::<SessionTtl>)
        {
            None => SessionTtl::default(),
            Some(Ok(ttl)) => ttl,
            Some(Err(why)) => {
                match (&template, from_template.contains("session_ttl")) {
                    (Some(template), true) => {
                        let at = child(&template.node, "session_ttl").at;
                        let why = format!(
                            "{why} (in portal template `{}`, used by portal `{name}`)",
                            doc.template.as_deref().unwrap_or_default()
                        );
                        self.error(RuleId::PortalSessionTtl, template.file, at, why, None);
                    }
                    _ => self.error(
                        RuleId::PortalSessionTtl,
                        id,
                        child(node, "session_ttl").at,
                        why,
                        None,
                    ),
                }
                SessionTtl::default()
            }
        };
        let own_texts = doc.texts.unwrap_or_default();
        let given_texts = given.texts.unwrap_or_default();
        let texts = Box::new(crate::model::PortalTexts {
            initiation: own_texts.initiation.or(given_texts.initiation),
            first_login: own_texts.first_login.or(given_texts.first_login),
            help_url: own_texts.help_url.or(given_texts.help_url),
        });
        let color = doc.color.or(given.color);
        let logout_url = doc.logout_url.or(given.logout_url);
        for (field, value) in [("color", &color), ("logout_url", &logout_url)] {
            if value.is_none() {
                let at = section.key_position(&name).unwrap_or_default();
                let whence = if template.is_some() {
                    "nor does its template"
                } else {
                    "and names no `template`"
                };
                self.error(
                    RuleId::PortalFieldMissing,
                    id,
                    at,
                    format!("portal `{name}` does not set `{field}`, {whence}"),
                    None,
                );
            }
        }
        self.state.portals.insert(
            name.clone(),
            Portal {
                name: doc.name,
                color: color.unwrap_or_default(),
                logout_url: logout_url.unwrap_or_default(),
                home_cover: doc.home_cover.or(given.home_cover),
                session_ttl,
                require_2fa: doc.require_2fa.or(given.require_2fa).unwrap_or(false),
                self_registration: self_registration.map(Box::new),
                protect: doc.protect.or(given.protect).unwrap_or(false),
                texts,
                max_members: doc.max_members.or(given.max_members),
                invitations: doc.invitations.or(given.invitations).unwrap_or(true),
                removal_notice: doc.removal_notice.or(given.removal_notice).unwrap_or(false),
                template: template.is_some().then(|| doc.template.clone()).flatten(),
                from_template,
            },
        );
        let members = child(node, "members");
        for (index, member) in doc.members.into_iter().enumerate() {
            let member_node = item(members, index).cloned().unwrap_or_else(empty);
            self.add_member_doc(id, path, &name, &member_node, member);
        }
    }

    fn add_member_doc(&mut self, id: u32, path: &Path, portal: &str, node: &Node, doc: MemberDoc) {
        match (&doc.email, &doc.from_csv) {
            (Some(_), Some(_)) => {
                self.error(
                    RuleId::RosterEntry,
                    id,
                    node.at,
                    "a roster entry has either `email` or `from_csv`, not both",
                    None,
                );
            }
            (None, None) => {
                self.error(
                    RuleId::RosterEntry,
                    id,
                    node.at,
                    "a roster entry needs `email` (one partner) or `from_csv` (a CSV roster)",
                    None,
                );
            }
            (None, Some(csv)) => {
                if !doc.attributes.is_empty() || doc.expires.is_some() {
                    self.error(
                        RuleId::RosterEntry,
                        id,
                        node.at,
                        "a `from_csv` entry takes only `role` and `org` defaults",
                        Some("put attributes and expiry dates in the CSV's columns".into()),
                    );
                }
                self.rosters.push(PendingRoster {
                    file: id,
                    yaml_path: path.to_path_buf(),
                    portal: portal.to_string(),
                    at: child(node, "from_csv").at,
                    csv: csv.clone(),
                    defaults: doc,
                });
            }
            (Some(email), None) => {
                let email = normalize_email(email);
                let pointer = Pointer::root().join("members").join(portal).join(&email);
                let email_at = child(node, "email").at;
                if !self.define(
                    &pointer,
                    id,
                    email_at,
                    &format!("member `{email}` of portal `{portal}`"),
                ) {
                    return;
                }
                self.map
                    .record(&pointer.join("email"), id, email_at.line, email_at.column);
                for field in ["role", "org", "expires", "attributes"] {
                    self.note(&pointer.join(field), id, child(node, field));
                }
                let attributes_node = child(node, "attributes");
                for key in doc.attributes.keys() {
                    let value = child(attributes_node, key);
                    self.note(&pointer.join("attributes").join(key), id, value);
                    self.inline_attributes.push((key.clone(), id, value.at));
                }
                let Some(role) = doc.role else {
                    self.error(
                        RuleId::RosterEntry,
                        id,
                        node.at,
                        format!("member `{email}` needs a `role`"),
                        None,
                    );
                    return;
                };
                let expires = self.parse_date(id, child(node, "expires").at, doc.expires.as_deref());
                self.state.members.insert(
                    (portal.to_string(), email),
                    Membership {
                        role,
                        org: doc.org,
                        attributes: doc.attributes,
                        expires,
                        source: MemberSource::Managed,
                        pending: false,
                    },
                );
            }
        }
    }

    fn parse_date(&mut self, file: u32, at: Position, text: Option<&str>) -> Option<CalendarDate> {
        match text.map(str::parse::<CalendarDate>) {
            None => None,
            Some(Ok(day)) => Some(day),
            Some(Err(why)) => {
                self.error(
                    RuleId::InvalidDate,
                    file,
                    at,
                    why,
                    Some("dates are written `YYYY-MM-DD`".into()),
                );
                None
            }
        }
    }

    fn add_groups(&mut self, id: u32, root: &Node, groups: BTreeMap<String, super::document::GroupDoc>) {
        let section = Section::new(child(root, "groups"));
        for (name, group) in groups {
            let Some(pointer) = self.define_entry(id, &section, Kind::Group, &name) else {
                continue;
            };
            let members_node = child(section.child(&name), "members");
            let mut members = std::collections::BTreeSet::new();
            for (index, email) in group.members.iter().enumerate() {
                let email = normalize_email(email);
                let at = item(members_node, index).map(|n| n.at).unwrap_or_default();
                let member_pointer = pointer.join("members").join(&email);
                if !members.insert(email.clone()) {
                    self.define(&member_pointer, id, at, &format!("`{email}` in group `{name}`"));
                    continue;
                }
                self.map.record(&member_pointer, id, at.line, at.column);
            }
            self.state.groups.insert(
                name,
                Group {
                    description: group.description,
                    members,
                    joined_live: std::collections::BTreeSet::new(),
                },
            );
        }
    }

    fn add_folders(&mut self, id: u32, root: &Node, folders: BTreeMap<String, super::document::FolderDoc>) {
        let section = Section::new(child(root, "folders"));
        for (path, folder) in folders {
            if self.define_entry(id, &section, Kind::Folder, &path).is_none() {
                continue;
            }
            self.add_shares(id, &path, child(section.child(&path), "shares"), folder.shares);
            self.state.folders.insert(
                path,
                Folder {
                    description: folder.description,
                },
            );
        }
    }

    fn add_dashboards(
        &mut self,
        id: u32,
        root: &Node,
        dashboards: BTreeMap<String, super::document::DashboardDoc>,
    ) {
        let section = Section::new(child(root, "dashboards"));
        for (path, dashboard) in dashboards {
            if self.define_entry(id, &section, Kind::Dashboard, &path).is_none() {
                continue;
            }
            self.add_shares(id, &path, child(section.child(&path), "shares"), dashboard.shares);
            self.state.dashboards.insert(
                path,
                Dashboard {
                    description: dashboard.description,
                },
            );
        }
    }

    /// The shares listed under the folder or dashboard at `path`.
    fn add_shares(
        &mut self,
        id: u32,
        path: &str,
        shares_node: &Node,
        shares: Vec<super::document::ShareDoc>,
    ) {
        for (index, share) in shares.into_iter().enumerate() {
            let node = item(shares_node, index).cloned().unwrap_or_else(empty);
            let named: Vec<(PrincipalKind, String)> = [
                (PrincipalKind::Group, &share.group),
                (PrincipalKind::Portal, &share.portal),
                (PrincipalKind::User, &share.user),
                (PrincipalKind::Org, &share.org),
            ]
            .into_iter()
            .filter_map(|(kind, name)| name.as_ref().map(|name| (kind, name.clone())))
            .collect();
            let [(kind, name)] = named.as_slice() else {
                self.error(
                    RuleId::SharePrincipal,
                    id,
                    node.at,
                    "a share names exactly one of `group`, `portal`, `org` or `user`",
                    None,
                );
                continue;
            };
            let principal = Principal::new(*kind, name);
            let share_pointer = Pointer::root()
                .join("shares")
                .join(path)
                .join(&principal.to_string());
            if !self.define(
                &share_pointer,
                id,
                node.at,
                &format!("the share of `{path}` with {principal}"),
            ) {
                continue;
            }
            for field in [kind.as_str(), "access", "expires"] {
                self.note(&share_pointer.join(field), id, child(&node, field));
            }
            let expires = self.parse_date(id, child(&node, "expires").at, share.expires.as_deref());
            self.state.shares.insert(
                (path.to_string(), principal),
                Share {
                    access: share.access,
                    expires,
                },
            );
        }
    }

    /// The CSV rosters the merged files name (`from_csv`), in the order
    /// [`Merger::finish`] expects their texts.
    pub fn roster_paths(&self) -> Vec<PathBuf> {
        self.rosters.iter().map(PendingRoster::csv_path).collect()
    }

    /// Adds the CSV rosters, now that every attribute declaration is known:
    /// `roster_texts` holds what reading each of [`Merger::roster_paths`] gave, in order.
    /// `complete` says whether every file was merged; a missing workspace is only
    /// reported then (it may sit in a file that failed to parse).
    pub fn finish(
        mut self,
        complete: bool,
        roster_texts: Vec<RosterText>,
    ) -> (State, SourceMap, Vec<Diagnostic>, Vec<(String, String)>) {
        if complete && !self.workspace_seen {
            self.diagnostics.push(
                Diagnostic::error(RuleId::NoWorkspace, None, "no file declares the `workspace`").with_hint(
                    Some("add `workspace: {name: ..., owner_domains: [...]}` to one file".into()),
                ),
            );
        }
        let rosters = std::mem::take(&mut self.rosters);
        self.add_rosters(rosters, roster_texts);
        inherit_org_attributes(&mut self.state);
        (self.state, self.map, self.diagnostics, self.csv_texts)
    }

    /// Parses every roster — in parallel, since they are independent — and merges their
    /// rows in order as they come, so diagnostics and the state do not depend on timing,
    /// and only a few rosters' parsed rows wait at once (at a million partners, all of
    /// them would be half a gigabyte).
    fn add_rosters(&mut self, rosters: Vec<PendingRoster>, texts: Vec<RosterText>) {
        debug_assert_eq!(rosters.len(), texts.len(), "one text per roster path");
        // About one record per line: room for them all up front spares the source map
        // its rehashes as it grows.
        let lines: usize = texts
            .iter()
            .filter_map(|read| read.text.as_ref().ok())
            .map(|text| text.bytes().filter(|byte| *byte == b'\n').count())
            .sum();
        self.map.reserve(lines);
        let parse = |read: RosterText| {
            let parsed = read.text.as_ref().ok().map(|text| csv_roster::parse(text));
            (read.display, read.text, parsed)
        };
        let mut rosters = rosters.into_iter();
        super::parallel::for_each_in_order(texts, ROSTERS_AHEAD, parse, |(display, text, parsed)| {
            if let Some(roster) = rosters.next() {
                self.add_roster(roster, display, text, parsed);
            }
        });
    }

    fn add_roster(
        &mut self,
        roster: PendingRoster,
        display: String,
        text: std::io::Result<String>,
        parsed: Option<csv_roster::Parsed>,
    ) {
        let (text, Some(parsed)) = (match text {
            Ok(text) => (text, parsed),
            Err(error) => {
                self.error(
                    RuleId::UnreadableFile,
                    roster.file,
                    roster.at,
                    format!("cannot read roster `{}`: {error}", roster.csv),
                    None,
                );
                return;
            }
        }) else {
            return;
        };
        let file = self.map.add_file(display.clone());
        self.csv_texts.push((display, text));
        for problem in parsed.problems {
            self.error(
                RuleId::CsvShape,
                file,
                Position {
                    line: problem.line,
                    column: problem.column,
                },
                problem.message,
                problem.hint,
            );
        }
        for row in parsed.rows {
            self.add_csv_row(file, &roster, row);
        }
    }

    fn add_csv_row(&mut self, file: u32, roster: &PendingRoster, row: CsvRow) {
        let at = |column: u32| Position {
            line: row.line,
            column,
        };
        let email = normalize_email(&row.email.0);
        let pointer = Pointer::member(&roster.portal, &email);
        if let Some(first) = self.location(&pointer) {
            let location = self.loc(file, at(row.email.1));
            self.diagnostics.push(
                Diagnostic::error(
                    RuleId::DefinedTwice,
                    Some(location),
                    format!("member `{email}` of portal `{}` is defined twice", roster.portal),
                )
                .with_related(first, "first defined here"),
            );
            return;
        }
        self.map.record_row(
            pointer,
            file,
            row.line,
            Arc::clone(&row.header),
            row.columns.clone(),
        );
        let role = row
            .role
            .map(|(role, _)| role)
            .or_else(|| roster.defaults.role.clone());
        let Some(role) = role else {
            self.error(
                RuleId::RosterEntry,
                file,
                at(1),
                format!("member `{email}` has no role"),
                Some("fill the `role` column or give `role:` next to `from_csv`".into()),
            );
            return;
        };
        let org = row
            .org
            .map(|(org, _)| org)
            .or_else(|| roster.defaults.org.clone());
        let expires = match &row.expires {
            Some((text, column)) => self.parse_date(file, at(*column), Some(text)),
            None => None,
        };
        let mut attributes = AttributeValues::new();
        for (key, text, column) in row.attributes {
            match self.state.attributes.get(&key) {
                // Undeclared: keep it as text so the shared rule reports it with a suggestion.
                None => {
                    attributes.insert(key, AttributeValue::String(text));
                }
                Some(attribute) => match AttributeValue::parse_as(&text, attribute.kind) {
                    Ok(value) => {
                        attributes.insert(key, value);
                    }
                    Err(why) => {
                        let why = if attribute.sensitive {
                            format!("expected {}", attribute.kind)
                        } else {
                            why
                        };
                        self.error(
                            RuleId::MemberAttributeInvalid,
                            file,
                            at(column),
                            format!("attribute `{key}`: {why}"),
                            None,
                        );
                    }
                },
            }
        }
        attributes.shrink_to_fit();
        self.state.members.insert(
            (roster.portal.clone(), email),
            Membership {
                role,
                org,
                attributes,
                expires,
                source: MemberSource::Managed,
                pending: false,
            },
        );
    }
}

/// Gives each member the attribute values its org supplies and it omits, as a
/// self-registration does; a value it states is kept, and the rules report it when it
/// contradicts the org's.
fn inherit_org_attributes(state: &mut State) {
    for member in state.members.values_mut() {
        let Some(org) = member.org.as_ref().and_then(|org| state.partner_orgs.get(org)) else {
            continue;
        };
        for (key, value) in &org.attributes {
            if !member.attributes.contains_key(key) {
                member.attributes.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Merging through `load`, one config per case: what ends in the state, and which
    //! diagnostics (message and place) merging reports.

    use super::super::{MemorySource, load};
    use crate::model::{CalendarDate, Principal, State};

    const WORKSPACE: &str = "workspace: {name: Acme, owner_domains: [acme.io]}\n";

    /// Config files as (path, text).
    type Files<'a> = &'a [(&'a str, &'a str)];

    fn merge(files: &[(&str, &str)]) -> (State, Vec<String>) {
        let mut source = MemorySource::default();
        for (path, text) in files {
            source = source.with(path, text);
        }
        let today = CalendarDate::from_ymd(2026, 11, 26).expect("a real date");
        let loaded = load(&source, today).expect("memory sources always list");
        let diagnostics = loaded
            .diagnostics
            .iter()
            .map(|diagnostic| match &diagnostic.location {
                Some(location) => format!("{location}: {}", diagnostic.message),
                None => diagnostic.message.clone(),
            })
            .collect();
        (loaded.state, diagnostics)
    }

    /// Asserts that merging `files` reports a diagnostic containing each of `expected`.
    fn check_reports(files: &[(&str, &str)], expected: &[&str]) {
        let (_, diagnostics) = merge(files);
        for wanted in expected {
            assert!(
                diagnostics.iter().any(|d| d.contains(wanted)),
                "no diagnostic contains {wanted:?}: {diagnostics:#?}"
            );
        }
    }

    #[test]
    fn reports_what_merging_cannot_accept_at_its_place() {
        let cases: &[(Files, &[&str])] = &[
            (
                &[("a.yaml", "groups: {g: {members: []}}\n")],
                &["no file declares the `workspace`"],
            ),
            (
                &[
                    ("w.yaml", WORKSPACE),
                    ("a.yaml", "groups: {g: {}}\n"),
                    ("b.yaml", "groups:\n  g: {}\n"),
                ],
                &["b.yaml:2:3: group `g` is defined twice"],
            ),
            (
                &[
                    ("w.yaml", WORKSPACE),
                    ("b.yaml", "attributes:\n  tier: {type: string}\n"),
                    ("c.yaml", "attributes: {tier: {type: string}}\n"),
                ],
                &["attribute `tier` is defined twice"],
            ),
            (
                &[
                    ("w.yaml", WORKSPACE),
                    ("a.yaml", "partner_orgs: {globex: {domains: [globex.com]}}\n"),
                    ("b.yaml", "partner_orgs: {globex: {domains: [globex.com]}}\n"),
                ],
                &["partner org `globex` is defined twice"],
            ),
            (
                &[("w.yaml", WORKSPACE), ("x.yaml", WORKSPACE)],
                &["`workspace` is defined twice"],
            ),
            (
                &[
                    ("w.yaml", WORKSPACE),
                    (
                        "f.yaml",
                        "folders:\n  /P:\n    shares:\n      - {group: g, portal: p, access: view}\n",
                    ),
                ],
                &["f.yaml:4:9: a share names exactly one of `group`, `portal`, `org` or `user`"],
            ),
            (
                &[
                    ("w.yaml", WORKSPACE),
                    ("g.yaml", "groups:\n  g:\n    members: [a@x.com, A@X.com]\n"),
                ],
                &["`a@x.com` in group `g` is defined twice"],
            ),
        ];
        for (files, expected) in cases {
            check_reports(files, expected);
        }
    }

    #[test]
    fn builds_the_state_from_every_file() {
        let (state, diagnostics) = merge(&[
            ("w.yaml", WORKSPACE),
            ("g.yaml", "groups:\n  finance:\n    members: [Alice@Globex.com]\n"),
            (
                "f.yaml",
                "folders:\n  /P:\n    shares:\n      - {group: finance, access: view}\n      - {user: Bob@Globex.com, access: edit}\n",
            ),
        ]);
        assert_eq!(state.workspace.name, "Acme");
        assert_eq!(
            state.groups["finance"].members.iter().collect::<Vec<_>>(),
            ["alice@globex.com"],
            "emails are normalised"
        );
        let principals: Vec<String> = state.shares_on("/P").map(|(p, _)| p.to_string()).collect();
        assert_eq!(principals, ["group:finance", "user:bob@globex.com"]);
        assert!(state.folders.contains_key("/P"));
        assert!(
            state
                .shares
                .contains_key(&("/P".to_string(), Principal::Group("finance".into())))
        );
        assert!(
            diagnostics.iter().all(|d| !d.contains("defined twice")),
            "{diagnostics:#?}"
        );
    }
}
