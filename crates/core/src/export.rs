//! Writing a `State` back as config files: the YAML (and CSV rosters for large portals)
//! that `import` produces, such that loading them gives the same state again.
//!
//! **Architecture invariant:** pure; returns file contents, writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde_yaml::{Mapping, Value};

use crate::model::{AttributeValue, Membership, State};

/// Portals with more members than this get a CSV roster instead of inline entries.
pub const CSV_ROSTER_THRESHOLD: usize = 50;

/// The placeholder written for sensitive values with `--redact-sensitive`.
pub const SENSITIVE_PLACEHOLDER: &str = "FILL-IN-SENSITIVE-VALUE";

const HEADER: &str = "# yaml-language-server: $schema=https://portalctl.dev/schemas/portalctl.schema.json\n";

/// Config files by relative path, and where sensitive values stand.
#[derive(Debug, Default)]
pub struct Export {
    pub files: BTreeMap<String, String>,
    /// (file, `member EMAIL in portal P`, attribute) for every sensitive value written
    /// (or left as a placeholder).
    pub sensitive: Vec<(String, String, String)>,
}

fn key(text: &str) -> Value {
    Value::String(text.to_string())
}

fn strings<'a>(items: impl IntoIterator<Item = &'a String>) -> Value {
    Value::Sequence(items.into_iter().map(|s| key(s)).collect())
}

fn attribute_value(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::Boolean(b) => Value::Bool(*b),
        AttributeValue::Integer(i) => Value::Number((*i).into()),
        AttributeValue::String(s) => key(s),
    }
}

fn yaml_file(root: Mapping) -> String {
    let body = serde_yaml::to_string(&Value::Mapping(root)).expect("YAML values serialize");
    format!("{HEADER}{body}")
}

/// The value of a portal field path (`color`, `texts.help_url`) in a serialised portal.
fn field_value<'m>(map: &'m Mapping, path: &str) -> Option<&'m Value> {
    match path.split_once('.') {
        None => map.get(path),
        Some((outer, inner)) => map.get(outer)?.as_mapping()?.get(inner),
    }
}

/// The portal templates the live portals name, with the values they took from them (from
/// the first portal, in name order, that took each field). A template no field came from
/// is still written, empty, so `template:` resolves.
fn portal_templates(state: &State) -> BTreeMap<String, Mapping> {
    let mut templates: BTreeMap<String, Mapping> = BTreeMap::new();
    for portal in state.portals.values() {
        let Some(name) = &portal.template else { continue };
        let template = templates.entry(name.clone()).or_default();
        let Ok(Value::Mapping(fields)) = serde_yaml::to_value(portal) else {
            continue;
        };
        for path in &portal.from_template {
            let Some(value) = field_value(&fields, path) else {
                continue;
            };
            match path.split_once('.') {
                None => {
                    template.entry(key(path)).or_insert_with(|| value.clone());
                }
                Some((outer, inner)) => {
                    let nested = template
                        .entry(key(outer))
                        .or_insert_with(|| Value::Mapping(Mapping::new()));
                    if let Value::Mapping(nested) = nested {
                        nested.entry(key(inner)).or_insert_with(|| value.clone());
                    }
                }
            }
        }
    }
    templates
}

/// Drops from a serialised portal the fields its template gives with the same value; a
/// value that differs stays on the portal, so nothing is lost.
fn without_template_values(map: &mut Mapping, from_template: &BTreeSet<String>, template: &Mapping) {
    for path in from_template {
        if field_value(map, path) != field_value(template, path) {
            continue;
        }
        match path.split_once('.') {
            None => {
                map.remove(path.as_str());
            }
            Some((outer, inner)) => {
                if let Some(Value::Mapping(nested)) = map.get_mut(outer) {
                    nested.remove(inner);
                    if nested.is_empty() {
                        map.remove(outer);
                    }
                }
            }
        }
    }
}

/// Renders `state` as config files. With `redact_sensitive`, sensitive attribute values
/// are written as [`SENSITIVE_PLACEHOLDER`].
pub fn export(state: &State, redact_sensitive: bool) -> Export {
    let mut export = Export::default();
    let sensitive: BTreeSet<&str> = state
        .attributes
        .iter()
        .filter(|(_, a)| a.sensitive)
        .map(|(k, _)| k.as_str())
        .collect();

    let mut root = Mapping::new();
    let mut workspace = Mapping::new();
    workspace.insert(key("name"), key(&state.workspace.name));
    workspace.insert(key("owner_domains"), strings(&state.workspace.owner_domains));
    root.insert(key("workspace"), Value::Mapping(workspace));
    if !state.attributes.is_empty() {
        root.insert(
            key("attributes"),
            serde_yaml::to_value(&state.attributes).expect("attributes serialize"),
        );
    }
    if !state.roles.is_empty() {
        root.insert(
            key("roles"),
            serde_yaml::to_value(&state.roles).expect("roles serialize"),
        );
    }
    if !state.partner_orgs.is_empty() {
        root.insert(
            key("partner_orgs"),
            serde_yaml::to_value(&state.partner_orgs).expect("orgs serialize"),
        );
    }
    let templates = portal_templates(state);
    if !templates.is_empty() {
        root.insert(
            key("portal_templates"),
            Value::Mapping(
                templates
                    .iter()
                    .map(|(name, fields)| (key(name), Value::Mapping(fields.clone())))
                    .collect(),
            ),
        );
    }
    export.files.insert("workspace.yaml".into(), yaml_file(root));

    let mut members_by_portal: BTreeMap<&str, Vec<(&str, &Membership)>> = BTreeMap::new();
    for ((portal, email), membership) in &state.members {
        members_by_portal
            .entry(portal)
            .or_default()
            .push((email, membership));
    }
    for (name, portal) in &state.portals {
        let file = format!("portals/{name}.yaml");
        let mut fields = serde_yaml::to_value(portal).expect("portals serialize");
        if let Value::Mapping(map) = &mut fields {
            map.remove("from_template");
            let template = portal.template.as_ref().and_then(|t| templates.get(t));
            if let Some(template) = template {
                without_template_values(map, &portal.from_template, template);
            }
            for default_false in ["require_2fa", "protect"] {
                // An explicit `false` stays when the template would otherwise give `true`.
                let template_sets = template.is_some_and(|t| t.contains_key(default_false));
                if !template_sets && map.get(default_false) == Some(&Value::Bool(false)) {
                    map.remove(default_false);
                }
            }
        }
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
            let mut entry = Mapping::new();
            entry.insert(key("from_csv"), key(&format!("../rosters/{name}.csv")));
            vec![Value::Mapping(entry)]
        } else {
            members
                .iter()
                .map(|(email, membership)| {
                    let mut entry = Mapping::new();
                    entry.insert(key("email"), key(email));
                    entry.insert(key("role"), key(&membership.role));
                    if let Some(org) = &membership.org {
                        entry.insert(key("org"), key(org));
                    }
                    if !membership.attributes.is_empty() {
                        let mut attributes = Mapping::new();
                        for (attribute, value) in &membership.attributes {
                            let value = if sensitive.contains(attribute.as_str()) {
                                export.sensitive.push((
                                    file.clone(),
                                    format!("member {email} in portal {name}"),
                                    attribute.clone(),
                                ));
                                if redact_sensitive {
                                    key(SENSITIVE_PLACEHOLDER)
                                } else {
                                    attribute_value(value)
                                }
                            } else {
                                attribute_value(value)
                            };
                            attributes.insert(key(attribute), value);
                        }
                        entry.insert(key("attributes"), Value::Mapping(attributes));
                    }
                    if let Some(day) = membership.expires {
                        entry.insert(key("expires"), key(&day.to_string()));
                    }
                    Value::Mapping(entry)
                })
                .collect()
        };
        if let Value::Mapping(map) = &mut fields
            && !entries.is_empty()
        {
            map.insert(key("members"), Value::Sequence(entries));
        }
        let mut portals = Mapping::new();
        portals.insert(key(name), fields);
        let mut root = Mapping::new();
        root.insert(key("portals"), Value::Mapping(portals));
        export.files.insert(file, yaml_file(root));
    }

    if !state.groups.is_empty() {
        let mut groups = Mapping::new();
        for (name, group) in &state.groups {
            let mut entry = Mapping::new();
            if let Some(description) = &group.description {
                entry.insert(key("description"), key(description));
            }
            entry.insert(key("members"), strings(&group.members));
            groups.insert(key(name), Value::Mapping(entry));
        }
        let mut root = Mapping::new();
        root.insert(key("groups"), Value::Mapping(groups));
        export.files.insert("groups.yaml".into(), yaml_file(root));
    }

    if !state.folders.is_empty() {
        let mut folders = Mapping::new();
        for (path, folder) in &state.folders {
            let mut entry = Mapping::new();
            if let Some(description) = &folder.description {
                entry.insert(key("description"), key(description));
            }
            let shares: Vec<Value> = state
                .shares_on(path)
                .map(|(principal, share)| {
                    let mut item = Mapping::new();
                    item.insert(key(principal.kind().as_str()), key(principal.name()));
                    item.insert(key("access"), key(&share.access.to_string()));
                    if let Some(day) = share.expires {
                        item.insert(key("expires"), key(&day.to_string()));
                    }
                    Value::Mapping(item)
                })
                .collect();
            if !shares.is_empty() {
                entry.insert(key("shares"), Value::Sequence(shares));
            }
            folders.insert(key(path), Value::Mapping(entry));
        }
        let mut root = Mapping::new();
        root.insert(key("folders"), Value::Mapping(folders));
        export.files.insert("folders.yaml".into(), yaml_file(root));
    }
    export
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
