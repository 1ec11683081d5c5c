//! The rules of custom roles: no built-in redefined, known parents and permissions, no cycles.

use std::collections::BTreeSet;

use super::{Checker, RuleId, Violation};
use crate::model::suggest::did_you_mean;
use crate::model::{BUILTIN_PERMISSIONS, BUILTIN_ROLES, Pointer};

impl Checker<'_> {
    pub(super) fn all_roles(&mut self) {
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
}
