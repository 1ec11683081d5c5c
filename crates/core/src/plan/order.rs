//! Apply order: creates and updates parents-first, then deletes children-first, so that
//! a service checking references change by change never sees a dangling one.
//!
//! **Architecture invariant:** no I/O; a total order on keys, so the result never
//! depends on the order changes were found in.

use std::collections::{BTreeMap, BTreeSet};

use super::{Action, ResourceChange};
use crate::model::{Kind, ResourceValue};

/// Puts in kind order (parents first; within a kind by key, extended roles before the
/// roles extending them, parent folders before sub-folders), then deletes in exactly
/// the reverse order.
pub(super) fn apply_order(changes: Vec<ResourceChange>) -> Vec<ResourceChange> {
    let (mut puts, mut deletes): (Vec<_>, Vec<_>) = changes
        .into_iter()
        .partition(|change| change.action != Action::Delete);
    // `ResourceKey`'s variants are declared in kind order, so key order is kind order.
    puts.sort_by(|a, b| a.key.cmp(&b.key));
    deletes.sort_by(|a, b| a.key.cmp(&b.key));
    let mut puts = extended_roles_first(puts, |change| change.after.as_ref());
    let mut deletes = extended_roles_first(deletes, |change| change.before.as_ref());
    deletes.reverse();
    puts.append(&mut deletes);
    puts
}

/// Reorders the (contiguous, key-sorted) role changes so that a role comes after the
/// role it extends when both are in the list. Cycles fall back to name order.
fn extended_roles_first(
    changes: Vec<ResourceChange>,
    value: impl Fn(&ResourceChange) -> Option<&ResourceValue>,
) -> Vec<ResourceChange> {
    let extends: BTreeMap<String, Option<String>> = changes
        .iter()
        .filter_map(|change| match (&change.key, value(change)) {
            (crate::model::ResourceKey::Role(name), Some(ResourceValue::Role(role))) => {
                Some((name.clone(), role.extends.clone()))
            }
            (crate::model::ResourceKey::Role(name), _) => Some((name.clone(), None)),
            _ => None,
        })
        .collect();
    if extends.len() < 2 {
        return changes;
    }
    let mut ordered: Vec<String> = Vec::with_capacity(extends.len());
    let mut placed: BTreeSet<String> = BTreeSet::new();
    for name in extends.keys() {
        // Walk up the `extends` chain, then place from the top down.
        let mut chain = vec![name.clone()];
        let mut seen = BTreeSet::from([name.clone()]);
        while let Some(Some(parent)) = chain.last().and_then(|current| extends.get(current))
            && extends.contains_key(parent)
            && seen.insert(parent.clone())
        {
            chain.push(parent.clone());
        }
        for role in chain.into_iter().rev() {
            if placed.insert(role.clone()) {
                ordered.push(role);
            }
        }
    }
    let rank: BTreeMap<&str, usize> = ordered
        .iter()
        .enumerate()
        .map(|(index, name)| (name.as_str(), index))
        .collect();
    let (mut roles, others): (Vec<_>, Vec<_>) = changes
        .into_iter()
        .partition(|change| change.kind() == Kind::Role);
    roles.sort_by_key(|change| match &change.key {
        crate::model::ResourceKey::Role(name) => rank.get(name.as_str()).copied().unwrap_or(usize::MAX),
        _ => usize::MAX,
    });
    // Put the roles back where role keys sort among the others.
    let at = others
        .iter()
        .take_while(|change| change.kind() < Kind::Role)
        .count();
    let mut out = others;
    out.splice(at..at, roles);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceKey, Role};

    fn change(key: ResourceKey, action: Action, value: Option<ResourceValue>) -> ResourceChange {
        let before = if action == Action::Create {
            None
        } else {
            value.clone()
        };
        let after = if action == Action::Delete { None } else { value };
        let mut change = ResourceChange::new(key, before, after, None, std::sync::Arc::default());
        // Ordering looks at the action and key only; these changes carry no values.
        change.action = action;
        change
    }

    fn role(extends: Option<&str>) -> Option<ResourceValue> {
        Some(ResourceValue::Role(Role {
            description: None,
            extends: extends.map(str::to_string),
            permissions: BTreeSet::new(),
        }))
    }

    fn shown(changes: &[ResourceChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{} {}", c.action.sign(), c.key))
            .collect()
    }

    #[test]
    fn puts_parents_first_and_deletes_children_first() {
        let changes = vec![
            change(ResourceKey::Folder("/A".into()), Action::Delete, None),
            change(ResourceKey::Folder("/A/B".into()), Action::Delete, None),
            change(ResourceKey::Portal("p".into()), Action::Delete, None),
            change(ResourceKey::Folder("/C/D".into()), Action::Create, None),
            change(ResourceKey::Folder("/C".into()), Action::Create, None),
            change(ResourceKey::Group("g".into()), Action::Update, None),
            change(ResourceKey::Attribute("a".into()), Action::Create, None),
        ];
        assert_eq!(
            shown(&apply_order(changes)),
            [
                "+ attribute a",
                "~ group g",
                "+ folder /C",
                "+ folder /C/D",
                "- folder /A/B",
                "- folder /A",
                "- portal p"
            ]
        );
    }

    #[test]
    fn extended_roles_come_first() {
        let changes = vec![
            change(ResourceKey::Role("a".into()), Action::Create, role(Some("b"))),
            change(ResourceKey::Role("b".into()), Action::Create, role(Some("c"))),
            change(ResourceKey::Role("c".into()), Action::Create, role(None)),
            change(ResourceKey::Attribute("x".into()), Action::Create, None),
            change(ResourceKey::Role("x".into()), Action::Delete, role(Some("y"))),
            change(ResourceKey::Role("y".into()), Action::Delete, role(None)),
        ];
        assert_eq!(
            shown(&apply_order(changes)),
            [
                "+ attribute x",
                "+ role c",
                "+ role b",
                "+ role a",
                "- role x",
                "- role y"
            ]
        );
    }
}
