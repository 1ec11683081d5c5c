//! The rules of custom roles: no built-in redefined, known parents and permissions, no cycles.

use std::collections::BTreeSet;

use super::{Checker, RuleId, Violation};
use crate::model::suggest::did_you_mean;
use crate::model::{
    Access, BUILTIN_PERMISSIONS, BUILTIN_ROLES, FIXED_LEVEL_PERMISSIONS, Pointer, required_level,
    role_permissions,
};

impl Checker<'_> {
    /// A permission a role lists that no grant can ever let it use: it needs `edit` and
    /// the role is capped at `view` (it lacks `reports.edit`), so every edit share to a
    /// holder comes out as view and the permission never applies.
    fn unreachable_permissions(&mut self) {
        let declared = &self.state.workspace.permissions;
        for (name, role) in &self.state.roles {
            // A redefined built-in or an unknown parent is reported already; what the role
            // can use is not known then.
            if BUILTIN_ROLES.contains(&name.as_str())
                || role
                    .extends
                    .as_deref()
                    .is_some_and(|parent| !self.role_exists(parent))
            {
                continue;
            }
            let all = role_permissions(name, |other| self.state.roles.get(other));
            if all.contains("reports.edit") {
                continue;
            }
            for permission in &role.permissions {
                if BUILTIN_PERMISSIONS.contains(&permission.as_str())
                    && required_level(permission, declared) == Access::Edit
                {
                    self.push(
                        Violation::warning(
                            RuleId::PermissionUnreachable,
                            Pointer::root().join("roles").join(name).join("permissions").join(permission),
                            format!(
                                "role `{name}` can never use `{permission}`: it needs an `edit` grant, and the role is capped at `view` (it lacks `reports.edit`)"
                            ),
                        )
                        .with_hint(Some(format!(
                            "if `{permission}` should apply where the role can view, declare it under `workspace`: `permissions: {{{permission}: {{requires: view}}}}`; else give the role `reports.edit`"
                        ))),
                    );
                }
            }
        }
    }

    /// `workspace.permissions`: known permissions only, and the fixed ones unchanged.
    pub(super) fn permission_levels(&mut self) {
        for (permission, spec) in &self.state.workspace.permissions {
            let at = Pointer::root()
                .join("workspace")
                .join("permissions")
                .join(permission);
            if !BUILTIN_PERMISSIONS.contains(&permission.as_str()) {
                self.push(
                    Violation::error(
                        RuleId::PermissionLevelFixed,
                        at,
                        format!("unknown permission `{permission}`"),
                    )
                    .with_hint(did_you_mean(permission, BUILTIN_PERMISSIONS.iter().copied())),
                );
            } else if FIXED_LEVEL_PERMISSIONS.contains(&permission.as_str())
                && spec.requires != required_level(permission, &std::collections::BTreeMap::new())
            {
                self.push(Violation::error(
                    RuleId::PermissionLevelFixed,
                    at,
                    format!(
                        "`{permission}` always requires `{}`; its level cannot be changed",
                        required_level(permission, &std::collections::BTreeMap::new())
                    ),
                ));
            }
        }
    }

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
        self.unreachable_permissions();
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
