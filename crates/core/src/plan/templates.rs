//! Template changes: a portal template's value is written once and reaches many portals,
//! so a plan states it once ("template partner-default: color on 240 portals") before the
//! per-portal changes, which renderers fold.
//!
//! **Architecture invariant:** pure; derived from a [`Plan`] alone (each portal's desired
//! value names its template and the fields it took from it).

use std::collections::BTreeMap;

use super::{Action, Plan, ResourceChange};
use crate::model::{ResourceKey, ResourceValue};

/// One template change: the template, the fields it changed, and the portals they reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateChange {
    pub template: String,
    /// Changed field paths (`color`, `texts.help_url`), sorted.
    pub fields: Vec<String>,
    /// Technical names of the portals, sorted.
    pub portals: Vec<String>,
}

impl TemplateChange {
    /// The summary line: `template partner-default: color on 240 portals`.
    pub fn summary(&self) -> String {
        let count = self.portals.len();
        let noun = if count == 1 { "portal" } else { "portals" };
        format!(
            "template {}: {} on {count} {noun}",
            self.template,
            self.fields.join(", ")
        )
    }
}

/// The changed fields of a portal update that its template gave, when the portal follows
/// a template.
fn inherited_fields(change: &ResourceChange) -> Option<(&str, Vec<String>)> {
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
    let fields: Vec<String> = change
        .fields()
        .iter()
        .filter(|field| inherited(&field.path))
        .map(|field| field.path.clone())
        .collect();
    (!fields.is_empty()).then_some((template, fields))
}

/// Whether every changed field of this portal update came from its template: renderers
/// fold such changes under the template's summary line.
pub fn only_from_template(change: &ResourceChange) -> bool {
    inherited_fields(change).is_some_and(|(_, fields)| fields.len() == change.fields().len())
}

/// The template changes of a plan, grouped by template and changed fields, in name order.
pub fn template_changes(plan: &Plan) -> Vec<TemplateChange> {
    let mut groups: BTreeMap<(String, Vec<String>), Vec<String>> = BTreeMap::new();
    for change in &plan.resources {
        if let (Some((template, fields)), ResourceKey::Portal(name)) = (inherited_fields(change), &change.key)
        {
            groups
                .entry((template.to_string(), fields))
                .or_default()
                .push(name.clone());
        }
    }
    groups
        .into_iter()
        .map(|((template, fields), mut portals)| {
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
        let folded = plan.resources.iter().filter(|c| only_from_template(c)).count();
        assert_eq!(folded, 3);
    }
}
