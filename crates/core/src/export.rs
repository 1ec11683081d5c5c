//! Writing a `State` back as config files: the YAML (and CSV rosters for large portals)
//! that `import` produces, such that loading them gives the same state again.
//!
//! **Architecture invariant:** pure; returns file contents, writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::document::{
    ConfigFile, DashboardDoc, FolderDoc, GroupDoc, MemberDoc, PartnerOrgDoc, PortalDoc, PortalTemplateDoc,
    ShareDoc, WorkspaceDoc,
};
use crate::model::{
    AttributeValue, LiveOrigin, Membership, Portal, PortalTexts, PrincipalKind, SessionTtl, State,
};

/// Portals with more members than this get a CSV roster instead of inline entries.
pub const CSV_ROSTER_THRESHOLD: usize = 50;

/// The placeholder written for sensitive values with `--redact-sensitive`.
pub const SENSITIVE_PLACEHOLDER: &str = "FILL-IN-SENSITIVE-VALUE";

/// The config schema, written beside the export so that the files' `$schema` is a relative
/// path, as in the examples: it works offline and matches this build.
pub const SCHEMA_FILE: &str = "portalctl.schema.json";

/// Config files by relative path, and where sensitive values stand.
#[derive(Debug, Default)]
pub struct Export {
    pub files: BTreeMap<String, String>,
    /// (file, `member EMAIL in portal P`, attribute) for every sensitive value written
    /// (or left as a placeholder).
    pub sensitive: Vec<(String, String, String)>,
    /// Registrations awaiting approval, as `(portal, email)`: left out, since listing one
    /// in the config approves it. `plan` on the export lists them as pending.
    pub pending: Vec<(String, String)>,
    /// Members who registered themselves, as `(portal, email)`: owned live, so left out
    /// (with the group entries their registration made); `plan` on the export keeps them.
    pub self_registered: Vec<(String, String)>,
    /// Members their partner org added (partner admins, SCIM): owned live and managed by
    /// the org, so left out; `plan` on the export keeps them.
    pub partner_managed: Vec<crate::plan::ManagedByOrg>,
    /// Whether sensitive values were written as [`SENSITIVE_PLACEHOLDER`]: asked for, or
    /// the state held only their digests (a reader not allowed to see them).
    pub redacted: bool,
}

/// One config file at `path`: the header pointing editors at [`SCHEMA_FILE`] by a path
/// relative to the file, then the document, which leaves out what is empty or default
/// (see the `skip_serializing_if`s in `document.rs`).
fn yaml_file(path: &str, document: &ConfigFile) -> String {
    let body = serde_yaml::to_string(document).expect("config documents serialize");
    let up = "../".repeat(path.matches('/').count());
    format!("# yaml-language-server: $schema={up}{SCHEMA_FILE}\n{body}")
}

/// The portal templates the live portals name, with the values they took from them (from
/// the first portal, in name order, that took each field). A template no field came from
/// is still written, empty, so `template:` resolves.
fn portal_templates(state: &State) -> BTreeMap<String, PortalTemplateDoc> {
    let mut templates: BTreeMap<String, PortalTemplateDoc> = BTreeMap::new();
    for portal in state.portals.values() {
        let Some(name) = &portal.template else { continue };
        let template = templates.entry(name.clone()).or_default();
        for path in &portal.from_template {
            match path.as_str() {
                "color" => {
                    template.color.get_or_insert_with(|| portal.color.clone());
                }
                "logout_url" => {
                    template
                        .logout_url
                        .get_or_insert_with(|| portal.logout_url.clone());
                }
                "home_cover" if template.home_cover.is_none() => {
                    template.home_cover.clone_from(&portal.home_cover);
                }
                "session_ttl" => {
                    template
                        .session_ttl
                        .get_or_insert_with(|| portal.session_ttl.to_string());
                }
                "require_2fa" => {
                    template.require_2fa.get_or_insert(portal.require_2fa);
                }
                "protect" => {
                    template.protect.get_or_insert(portal.protect);
                }
                "invitations" => {
                    template.invitations.get_or_insert(portal.invitations);
                }
                "removal_notice" => {
                    template.removal_notice.get_or_insert(portal.removal_notice);
                }
                "self_registration" if template.self_registration.is_none() => {
                    template.self_registration = portal.self_registration.as_deref().cloned();
                }
                "max_members" if template.max_members.is_none() => {
                    template.max_members = portal.max_members;
                }
                "texts.initiation" | "texts.first_login" | "texts.help_url" => {
                    let texts = template.texts.get_or_insert_with(PortalTexts::default);
                    let (to, from) = match path.as_str() {
                        "texts.initiation" => (&mut texts.initiation, &portal.texts.initiation),
                        "texts.first_login" => (&mut texts.first_login, &portal.texts.first_login),
                        _ => (&mut texts.help_url, &portal.texts.help_url),
                    };
                    if to.is_none() {
                        to.clone_from(from);
                    }
                }
                _ => {}
            }
        }
    }
    templates
}

/// Leaves out of a portal's document the fields its template gives with the same value;
/// a value that differs stays on the portal, so nothing is lost. An explicit `false` is
/// written where the template would otherwise give `true`.
fn without_template_values(doc: &mut PortalDoc, portal: &Portal, template: &PortalTemplateDoc) {
    fn drop_if_same<T: PartialEq>(field: &mut Option<T>, template: Option<&T>) {
        if field.is_some() && field.as_ref() == template {
            *field = None;
        }
    }
    let from = |path: &str| portal.from_template.contains(path);
    if from("color") {
        drop_if_same(&mut doc.color, template.color.as_ref());
    }
    if from("logout_url") {
        drop_if_same(&mut doc.logout_url, template.logout_url.as_ref());
    }
    if from("home_cover") {
        drop_if_same(&mut doc.home_cover, template.home_cover.as_ref());
    }
    let effective_ttl = portal.session_ttl.to_string();
    if from("session_ttl") && template.session_ttl.as_ref() == Some(&effective_ttl) {
        doc.session_ttl = None;
    } else if template.session_ttl.is_some() {
        // The portal's own value, even the default, or the template's would apply.
        doc.session_ttl = Some(effective_ttl);
    }
    if from("self_registration") {
        drop_if_same(&mut doc.self_registration, template.self_registration.as_ref());
    }
    if from("max_members") {
        drop_if_same(&mut doc.max_members, template.max_members.as_ref());
    }
    for (path, value, template_value, default) in [
        ("require_2fa", portal.require_2fa, template.require_2fa, false),
        ("protect", portal.protect, template.protect, false),
        ("invitations", portal.invitations, template.invitations, true),
        (
            "removal_notice",
            portal.removal_notice,
            template.removal_notice,
            false,
        ),
    ] {
        let field = match path {
            "require_2fa" => &mut doc.require_2fa,
            "protect" => &mut doc.protect,
            "invitations" => &mut doc.invitations,
            _ => &mut doc.removal_notice,
        };
        *field = match template_value {
            Some(given) if from(path) && given == value => None,
            Some(_) => Some(value),
            None => (value != default).then_some(value),
        };
    }
    if let (Some(texts), Some(given)) = (doc.texts.as_mut(), template.texts.as_ref()) {
        if from("texts.initiation") {
            drop_if_same(&mut texts.initiation, given.initiation.as_ref());
        }
        if from("texts.first_login") {
            drop_if_same(&mut texts.first_login, given.first_login.as_ref());
        }
        if from("texts.help_url") {
            drop_if_same(&mut texts.help_url, given.help_url.as_ref());
        }
        if texts.is_empty() {
            doc.texts = None;
        }
    }
}

/// Renders `state` as config files. With `redact_sensitive`, sensitive attribute values
/// are written as [`SENSITIVE_PLACEHOLDER`].
pub fn export(state: &State, redact_sensitive: bool) -> Export {
    let mut export = Export::default();
    // Every section of the state, by name (no `..`): a new kind does not compile until
    // export says where it is written, so an import cannot silently drop one.
    let State {
        workspace: _,
        attributes: _,
        roles: _,
        partner_orgs: _,
        portals: _,
        members: _,
        groups: _,
        folders: _,
        dashboards: _,
        shares: _,
    } = state;
    // Digests (a state read without the values) are redacted too: a digest written as the
    // value would be applied as the value.
    let holds_digest = |values: &crate::model::AttributeValues| {
        values
            .into_iter()
            .any(|(_, value)| crate::model::masking::is_digest(value))
    };
    let redact_sensitive = redact_sensitive
        || state
            .members
            .values()
            .any(|member| holds_digest(&member.attributes))
        || state
            .partner_orgs
            .values()
            .any(|org| holds_digest(&org.attributes));
    export.redacted = redact_sensitive;
    export
        .files
        .insert(SCHEMA_FILE.into(), crate::config::schema_json());
    let sensitive: BTreeSet<&str> = state
        .attributes
        .iter()
        .filter(|(_, a)| a.sensitive)
        .map(|(k, _)| k.as_str())
        .collect();

    let templates = portal_templates(state);
    let workspace = ConfigFile {
        workspace: Some(WorkspaceDoc {
            name: state.workspace.name.clone(),
            owner_domains: state.workspace.owner_domains.iter().cloned().collect(),
            permissions: state.workspace.permissions.clone(),
            console: state.workspace.console.clone(),
        }),
        attributes: state.attributes.clone(),
        roles: state.roles.clone(),
        partner_orgs: state
            .partner_orgs
            .iter()
            .map(|(name, org)| {
                let doc = PartnerOrgDoc {
                    // Owners live in git only: the service does not hold them.
                    owners: Vec::new(),
                    domains: org.domains.iter().cloned().collect(),
                    kind: org.kind,
                    max_members: org.max_members,
                    attributes: exported_attributes(
                        &org.attributes,
                        &sensitive,
                        redact_sensitive,
                        ("workspace.yaml", &format!("partner org {name}")),
                        &mut export.sensitive,
                    ),
                    self_management: org.self_management.clone(),
                };
                (name.clone(), doc)
            })
            .collect(),
        portal_templates: templates.clone(),
        ..ConfigFile::default()
    };
    export
        .files
        .insert("workspace.yaml".into(), yaml_file("workspace.yaml", &workspace));

    let mut members_by_portal: BTreeMap<&str, Vec<(&str, &Membership)>> = BTreeMap::new();
    for ((portal, email), membership) in &state.members {
        match membership.live_origin() {
            Some(LiveOrigin::Pending) => {
                export.pending.push((portal.clone(), email.clone()));
                continue;
            }
            Some(LiveOrigin::SelfRegistered) => {
                export.self_registered.push((portal.clone(), email.clone()));
                continue;
            }
            Some(LiveOrigin::PartnerManaged) => {
                export.partner_managed.push(crate::plan::ManagedByOrg {
                    portal: portal.clone(),
                    email: email.clone(),
                    org: membership.org.clone().unwrap_or_default(),
                });
                continue;
            }
            None => {}
        }
        members_by_portal
            .entry(portal)
            .or_default()
            .push((email, membership));
    }
    for (name, portal) in &state.portals {
        let file = format!("portals/{name}.yaml");
        let members = members_by_portal.remove(name.as_str()).unwrap_or_default();
        let entries = if members.len() > CSV_ROSTER_THRESHOLD {
            let csv_file = format!("rosters/{name}.csv");
            let csv = roster_csv(
                &members,
                &sensitive,
                redact_sensitive,
                &csv_file,
                name,
                &mut export.sensitive,
            );
            export.files.insert(csv_file, csv);
            vec![MemberDoc {
                from_csv: Some(format!("../rosters/{name}.csv")),
                ..MemberDoc::default()
            }]
        } else {
            members
                .iter()
                .map(|(email, membership)| {
                    let attributes = exported_attributes(
                        &membership.attributes,
                        &sensitive,
                        redact_sensitive,
                        (&file, &format!("member {email} in portal {name}")),
                        &mut export.sensitive,
                    );
                    MemberDoc {
                        email: Some((*email).to_string()),
                        from_csv: None,
                        role: Some(membership.role.clone()),
                        org: membership.org.clone(),
                        attributes,
                        expires: membership.expires.map(|day| day.to_string()),
                    }
                })
                .collect()
        };
        let mut doc = PortalDoc {
            // Owners live in git only: the service does not hold them.
            owners: Vec::new(),
            name: portal.name.clone(),
            template: portal.template.clone(),
            color: Some(portal.color.clone()),
            logout_url: Some(portal.logout_url.clone()),
            home_cover: portal.home_cover.clone(),
            session_ttl: (portal.session_ttl != SessionTtl::default())
                .then(|| portal.session_ttl.to_string()),
            require_2fa: portal.require_2fa.then_some(true),
            self_registration: portal.self_registration.as_deref().cloned(),
            protect: portal.protect.then_some(true),
            texts: (!portal.texts.is_empty()).then(|| (*portal.texts).clone()),
            max_members: portal.max_members,
            invitations: (!portal.invitations).then_some(false),
            removal_notice: portal.removal_notice.then_some(true),
            members: entries,
        };
        if let Some(template) = portal.template.as_ref().and_then(|name| templates.get(name)) {
            without_template_values(&mut doc, portal, template);
        }
        let document = ConfigFile {
            portals: BTreeMap::from([(name.clone(), doc)]),
            ..ConfigFile::default()
        };
        export.files.insert(file.clone(), yaml_file(&file, &document));
    }

    if !state.groups.is_empty() {
        let document = ConfigFile {
            groups: state
                .groups
                .iter()
                .map(|(name, group)| {
                    let doc = GroupDoc {
                        description: group.description.clone(),
                        members: group
                            .members
                            .iter()
                            .filter(|email| !group.entry_is_live_owned(email))
                            .cloned()
                            .collect(),
                    };
                    (name.clone(), doc)
                })
                .collect(),
            ..ConfigFile::default()
        };
        export
            .files
            .insert("groups.yaml".into(), yaml_file("groups.yaml", &document));
    }

    if !state.folders.is_empty() {
        let folders = state
            .folders
            .iter()
            .map(|(path, folder)| {
                let doc = FolderDoc {
                    // Owners live in git only: the service does not hold them.
                    owners: Vec::new(),
                    description: folder.description.clone(),
                    shares: share_docs(state, path),
                };
                (path.clone(), doc)
            })
            .collect();
        let document = ConfigFile {
            folders,
            ..ConfigFile::default()
        };
        export
            .files
            .insert("folders.yaml".into(), yaml_file("folders.yaml", &document));
    }

    if !state.dashboards.is_empty() {
        let dashboards = state
            .dashboards
            .iter()
            .map(|(path, dashboard)| {
                let doc = DashboardDoc {
                    description: dashboard.description.clone(),
                    shares: share_docs(state, path),
                };
                (path.clone(), doc)
            })
            .collect();
        let document = ConfigFile {
            dashboards,
            ..ConfigFile::default()
        };
        export
            .files
            .insert("dashboards.yaml".into(), yaml_file("dashboards.yaml", &document));
    }
    export
}

/// The shares on the folder or dashboard at `path`, as written under it.
/// `values` as a file holds them: each sensitive attribute is listed in `listed` (file,
/// owner, attribute) and, when redacting, its value is the placeholder.
fn exported_attributes(
    values: &crate::model::AttributeValues,
    sensitive: &BTreeSet<&str>,
    redact: bool,
    (file, owner): (&str, &str),
    listed: &mut Vec<(String, String, String)>,
) -> crate::model::AttributeValues {
    values
        .into_iter()
        .map(|(attribute, value)| {
            let value = if sensitive.contains(attribute.as_str()) {
                listed.push((file.to_string(), owner.to_string(), attribute.clone()));
                if redact {
                    AttributeValue::String(SENSITIVE_PLACEHOLDER.into())
                } else {
                    value.clone()
                }
            } else {
                value.clone()
            };
            (attribute.clone(), value)
        })
        .collect()
}

fn share_docs(state: &State, path: &str) -> Vec<ShareDoc> {
    state
        .shares_on(path)
        .map(|(principal, share)| {
            let mut doc = ShareDoc {
                group: None,
                portal: None,
                user: None,
                org: None,
                access: share.access,
                expires: share.expires.map(|day| day.to_string()),
            };
            let name = Some(principal.name().to_string());
            match principal.kind() {
                PrincipalKind::Group => doc.group = name,
                PrincipalKind::Portal => doc.portal = name,
                PrincipalKind::User => doc.user = name,
                PrincipalKind::Org => doc.org = name,
            }
            doc
        })
        .collect()
}

fn roster_csv(
    members: &[(&str, &Membership)],
    sensitive: &BTreeSet<&str>,
    redact: bool,
    file: &str,
    portal: &str,
    noted: &mut Vec<(String, String, String)>,
) -> String {
    let attributes: BTreeSet<&str> = members
        .iter()
        .flat_map(|(_, m)| m.attributes.keys().map(String::as_str))
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["email".to_string(), "role".into(), "org".into(), "expires".into()];
    header.extend(attributes.iter().map(|a| format!("attributes.{a}")));
    writer
        .write_record(&header)
        .expect("writing CSV to memory cannot fail");
    for (email, membership) in members {
        let mut row = vec![
            (*email).to_string(),
            membership.role.clone(),
            membership.org.clone().unwrap_or_default(),
            membership.expires.map(|d| d.to_string()).unwrap_or_default(),
        ];
        for attribute in &attributes {
            let cell = match membership.attributes.get(*attribute) {
                None => String::new(),
                Some(_) if sensitive.contains(attribute) && redact => {
                    noted.push((
                        file.to_string(),
                        format!("member {email} in portal {portal}"),
                        (*attribute).to_string(),
                    ));
                    SENSITIVE_PLACEHOLDER.to_string()
                }
                Some(value) => {
                    if sensitive.contains(attribute) {
                        noted.push((
                            file.to_string(),
                            format!("member {email} in portal {portal}"),
                            (*attribute).to_string(),
                        ));
                    }
                    value.to_string()
                }
            };
            row.push(cell);
        }
        writer
            .write_record(&row)
            .expect("writing CSV to memory cannot fail");
    }
    String::from_utf8(writer.into_inner().expect("flushing memory cannot fail"))
        .expect("CSV of UTF-8 is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MemorySource, load};
    use crate::model::CalendarDate;

    const CONFIG: &str = "\
workspace: { name: Acme, owner_domains: [acme.io] }
attributes:
  contract_ref: { type: string, sensitive: true }
roles:
  auditor: { extends: viewer, permissions: [data.export] }
partner_orgs:
  globex: { domains: [globex.com], kind: customer }
portals:
  globex:
    name: Globex
    color: \"#0F62FE\"
    logout_url: https://acme.io/bye
    session_ttl: 1h30m
    self_registration: { enabled: true, default_role: viewer, allowed_domains: [globex.com] }
    members:
      - { email: alice@globex.com, role: auditor, org: globex, attributes: { contract_ref: K-1 }, expires: 2027-01-31 }
  initech:
    name: Initech
    color: \"#000000\"
    logout_url: https://acme.io/bye
groups:
  finance: { members: [alice@globex.com] }
folders:
  /Partners:
    shares:
      - { group: finance, access: view }
      - { portal: globex, access: edit, expires: 2027-01-31 }
      - { user: alice@globex.com, access: view }
dashboards:
  /Partners/Q3 Revenue:
    description: Quarterly revenue by partner
    shares:
      - { portal: initech, access: view }
";

    fn load_files(files: &BTreeMap<String, String>) -> State {
        let source = files
            .iter()
            .fold(MemorySource::default(), |source, (path, text)| {
                source.with(path, text)
            });
        let loaded = load(&source, CalendarDate::from_ymd(2026, 11, 26).expect("a date")).expect("loads");
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        loaded.state
    }

    #[test]
    fn exports_tidy_schema_valid_documents_that_load_back() {
        let state = load_files(&BTreeMap::from([(
            "portalctl.yaml".to_string(),
            CONFIG.to_string(),
        )]));
        let exported = export(&state, false);
        assert_eq!(load_files(&exported.files), state);
        let validator = jsonschema::validator_for(&crate::config::document::schema()).expect("a schema");
        for (path, text) in exported.files.iter().filter(|(path, _)| *path != SCHEMA_FILE) {
            let value: serde_json::Value = serde_yaml::from_str(text).expect("YAML");
            assert!(validator.is_valid(&value), "{path} breaks the schema:\n{text}");
            // Defaults stay out: no `false` flags, no nulls, no empty lists, no default TTL.
            for noise in [": false", ": null", ": []", ": {}", "session_ttl: 18h"] {
                assert!(!text.contains(noise), "{path} holds `{noise}`:\n{text}");
            }
        }
        let globex = &exported.files["portals/globex.yaml"];
        assert!(globex.contains("session_ttl: 1h30m"), "{globex}");
        // Regression (issue 21): the header named a URL; the examples use a relative path.
        assert!(
            globex.starts_with("# yaml-language-server: $schema=../portalctl.schema.json\n"),
            "{globex}"
        );
        assert!(
            exported.files["groups.yaml"]
                .starts_with("# yaml-language-server: $schema=portalctl.schema.json\n")
        );
        assert_eq!(exported.files[SCHEMA_FILE], crate::config::schema_json());
        // A dashboard's shares are written under the dashboard, not under its folder.
        let dashboards = &exported.files["dashboards.yaml"];
        assert!(dashboards.contains("/Partners/Q3 Revenue:"), "{dashboards}");
        assert!(dashboards.contains("portal: initech"), "{dashboards}");
        assert!(!exported.files["folders.yaml"].contains("initech"));
        assert!(globex.contains("contract_ref: K-1"), "{globex}");
        assert_eq!(exported.sensitive.len(), 1);
    }

    #[test]
    fn approval_round_trips_and_pending_registrations_are_left_out() {
        let config = CONFIG.replace(
            "allowed_domains: [globex.com] }",
            "allowed_domains: [globex.com], approval: required }",
        );
        let mut state = load_files(&BTreeMap::from([("portalctl.yaml".to_string(), config)]));
        let globex = state.portals["globex"].self_registration.as_deref().unwrap();
        assert_eq!(globex.approval, crate::model::Approval::Required);
        let mut pending = state.members[&("globex".to_string(), "alice@globex.com".to_string())].clone();
        pending.pending = true;
        pending.source = crate::model::MemberSource::SelfRegistration;
        let key = ("globex".to_string(), "wait@globex.com".to_string());
        state.members.insert(key.clone(), pending);
        let exported = export(&state, false);
        assert_eq!(exported.pending, std::slice::from_ref(&key));
        assert!(exported.files["portals/globex.yaml"].contains("approval: required"));
        assert!(!exported.files["portals/globex.yaml"].contains("wait@globex.com"));
        state.members.remove(&key);
        assert_eq!(load_files(&exported.files), state);
    }

    /// Regression (issue 21, defect 3): `import` wrote self-registered members as managed,
    /// so `plan` on its output changed their `source`.
    #[test]
    fn self_registered_members_and_their_group_entries_are_left_out() {
        let mut state = load_files(&BTreeMap::from([(
            "portalctl.yaml".to_string(),
            CONFIG.to_string(),
        )]));
        let loaded = state.clone();
        let mut member = state.members[&("globex".to_string(), "alice@globex.com".to_string())].clone();
        member.source = crate::model::MemberSource::SelfRegistration;
        let key = ("globex".to_string(), "self@globex.com".to_string());
        state.members.insert(key.clone(), member);
        state
            .groups
            .get_mut("finance")
            .unwrap()
            .join_live("self@globex.com");
        let exported = export(&state, false);
        assert_eq!(exported.self_registered, std::slice::from_ref(&key));
        for text in exported.files.values() {
            assert!(!text.contains("self@globex.com"), "{text}");
        }
        let imported = load_files(&exported.files);
        assert_eq!(imported, loaded);
        assert!(crate::plan::diff(&state, &imported).is_empty());
    }

    #[test]
    fn redaction_writes_the_placeholder() {
        let state = load_files(&BTreeMap::from([(
            "portalctl.yaml".to_string(),
            CONFIG.to_string(),
        )]));
        let exported = export(&state, true);
        let globex = &exported.files["portals/globex.yaml"];
        assert!(!globex.contains("K-1"), "{globex}");
        assert!(globex.contains(SENSITIVE_PLACEHOLDER), "{globex}");
    }
}
