//! Template changes: a portal template's value is written once and reaches many portals,
//! so a plan states it once ("template partner-default: color on 240 portals", with each
//! field's old and new value) before the per-portal changes, which renderers fold.
//!
//! **Architecture invariant:** pure; derived from a [`Plan`] alone (each portal's desired
//! value names its template and the fields it took from it).

use std::collections::BTreeMap;

use super::{Action, FieldChange, Plan, ResourceChange};
use crate::model::{ResourceKey, ResourceValue};

/// One template change: the template, the fields it changed (old and new value), and
/// the portals they reach. Portals whose inherited fields moved from different old values
/// are different changes, each stated once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateChange {
    pub template: String,
    /// The changed fields (`color`, `texts.help_url`), in path order, with their values.
    pub fields: Vec<FieldChange>,
    /// Technical names of the portals, sorted.
    pub portals: Vec<String>,
}

impl TemplateChange {
    /// The summary line: `template partner-default: color on 240 portals`.
    pub fn summary(&self) -> String {
        let count = self.portals.len();
        let noun = if count == 1 { "portal" } else { "portals" };
        let paths: Vec<&str> = self.fields.iter().map(|field| field.path.as_str()).collect();
        format!(
            "template {}: {} on {count} {noun}",
            self.template,
            paths.join(", ")
        )
    }
}

/// The changed fields of a portal update that its template gave, when the portal follows
/// a template.
fn inherited_fields(change: &ResourceChange) -> Option<(&str, Vec<FieldChange>)> {
    if change.action != Action::Update || !matches!(change.key, ResourceKey::Portal(_)) {
        return None;
    }
    let Some(ResourceValue::Portal(portal)) = &change.after else {
        return None;
    };
    let template = portal.template.as_deref()?;
    let inherited = |path: &str| {
        portal.from_template.contains(path)
            || portal
                .from_template
                .iter()
                .any(|field| field.strip_prefix(path).is_some_and(|rest| rest.starts_with('.')))
    };
    let fields: Vec<FieldChange> = change
        .fields()
        .into_iter()
        .filter(|field| inherited(&field.path))
        .collect();
    (!fields.is_empty()).then_some((template, fields))
}

/// Whether every changed field of this portal update came from its template: renderers
/// fold such changes under the template's summary line.
pub fn only_from_template(change: &ResourceChange) -> bool {
    inherited_fields(change).is_some_and(|(_, fields)| fields.len() == change.fields().len())
}

/// The template changes of a plan, grouped by template and changed fields (paths and
/// values), in name order.
pub fn template_changes(plan: &Plan) -> Vec<TemplateChange> {
    // Keyed by the template and each field's path and delta as text (values are JSON,
    // which has no order of its own); the fields themselves ride along.
    type Group = (Vec<FieldChange>, Vec<String>);
    let mut groups: BTreeMap<(String, Vec<(String, String)>), Group> = BTreeMap::new();
    for change in &plan.resources {
        if let (Some((template, fields)), ResourceKey::Portal(name)) = (inherited_fields(change), &change.key)
        {
            let key = fields
                .iter()
                .map(|field| (field.path.clone(), format!("{:?}", field.delta)))
                .collect();
            groups
                .entry((template.to_string(), key))
                .or_insert_with(|| (fields, Vec::new()))
                .1
                .push(name.clone());
        }
    }
    groups
        .into_iter()
        .map(|((template, _), (fields, mut portals))| {
            portals.sort();
            TemplateChange {
                template,
                fields,
                portals,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Portal, State};

    fn portal(color: &str, template: Option<&str>) -> Portal {
        let mut portal: Portal = serde_json::from_value(serde_json::json!({
            "name": "P", "color": color, "logout_url": "https://a.io/bye"
        }))
        .unwrap();
        if let Some(template) = template {
            portal.template = Some(template.into());
            portal.from_template.insert("color".into());
        }
        portal
    }

    #[test]
    fn a_template_change_is_one_line_with_the_portals_it_reaches() {
        let mut live = State::default();
        let mut desired = State::default();
        for name in ["a", "b", "c"] {
            live.portals
                .insert(name.into(), portal("#000000", Some("partner-default")));
            desired
                .portals
                .insert(name.into(), portal("#FFFFFF", Some("partner-default")));
        }
        // a portal with its own colour is not the template's change
        live.portals.insert("own".into(), portal("#000000", None));
        desired.portals.insert("own".into(), portal("#FFFFFF", None));
        let plan = super::super::diff(&live, &desired);
        let changes = template_changes(&plan);
        assert_eq!(changes.len(), 1);
        assert_eq!(
            changes[0].summary(),
            "template partner-default: color on 3 portals"
        );
        assert_eq!(changes[0].portals, ["a", "b", "c"]);
        assert_eq!(
            changes[0].fields[0].delta,
            super::super::FieldDelta::Value {
                before: Some(serde_json::json!("#000000")),
                after: Some(serde_json::json!("#FFFFFF")),
            },
            "the change carries the old and the new value"
        );
        let folded = plan.resources.iter().filter(|c| only_from_template(c)).count();
        assert_eq!(folded, 3);
    }

    #[test]
    fn portals_moving_from_different_values_are_different_changes() {
        let mut live = State::default();
        let mut desired = State::default();
        for (name, old) in [("a", "#000000"), ("b", "#000000"), ("c", "#111111")] {
            live.portals
                .insert(name.into(), portal(old, Some("partner-default")));
            desired
                .portals
                .insert(name.into(), portal("#FFFFFF", Some("partner-default")));
        }
        let changes = template_changes(&super::super::diff(&live, &desired));
        let portals: Vec<_> = changes.iter().map(|change| change.portals.clone()).collect();
        assert_eq!(
            portals,
            [vec!["a".to_string(), "b".into()], vec!["c".to_string()]]
        );
    }
}
