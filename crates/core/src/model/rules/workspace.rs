//! The workspace's rules: a name, owner domains that are domain names, and console staff
//! in those domains, named directly or through a declared group.

use super::{Checker, RuleId, Violation, is_domain};
use crate::model::{CONSOLE_GROUP_PREFIX, Pointer, StaffRole, email_domain, is_valid_email};

impl Checker<'_> {
    pub(super) fn workspace(&mut self) {
        self.permission_levels();
        let at = Pointer::root().join("workspace");
        if self.state.workspace.name.trim().is_empty() {
            self.push(Violation::error(
                RuleId::WorkspaceName,
                at.join("name"),
                "the workspace needs a name",
            ));
        }
        for domain in &self.state.workspace.owner_domains {
            if !is_domain(domain) {
                self.push(Violation::error(
                    RuleId::OwnerDomainInvalid,
                    at.join("owner_domains").join(domain),
                    format!("`{domain}` is not a domain name"),
                ));
            }
        }
        self.console_staff();
    }

    /// Console staff are owner-domain emails; a `group:NAME` entry names a declared group.
    fn console_staff(&mut self) {
        let workspace = &self.state.workspace;
        let console = &workspace.console;
        let at = Pointer::root().join("workspace").join("console");
        let outside = |email: &str| {
            !is_valid_email(email)
                || !email_domain(email).is_some_and(|domain| workspace.owner_domains.contains(domain))
        };
        let mut violations = Vec::new();
        let owners = workspace
            .owner_domains
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let staff_violation = |pointer: Pointer, email: &str| {
            Violation::error(
                RuleId::ConsoleStaffOutsideOwnerDomains,
                pointer,
                format!("`{email}` is not an email in an owner domain ({owners})"),
            )
        };
        for (group, members) in &console.groups {
            for email in members {
                if outside(email) {
                    violations.push(staff_violation(at.join("groups").join(group).join(email), email));
                }
            }
        }
        for role in StaffRole::ALL {
            for entry in console.list(role) {
                let pointer = at.join(role.list_key()).join(entry);
                match entry.strip_prefix(CONSOLE_GROUP_PREFIX) {
                    Some(group) if !console.groups.contains_key(group) => {
                        let declared = console
                            .groups
                            .keys()
                            .map(|name| format!("`{name}`"))
                            .collect::<Vec<_>>();
                        let mut violation = Violation::error(
                            RuleId::ConsoleGroupUnknown,
                            pointer,
                            format!(
                                "no console group `{group}` is declared under `workspace.console.groups`"
                            ),
                        );
                        if let Some(close) =
                            crate::model::suggest::closest(group, console.groups.keys().map(String::as_str))
                        {
                            violation = violation.with_hint(Some(format!("did you mean `group:{close}`?")));
                        } else if !declared.is_empty() {
                            violation = violation
                                .with_hint(Some(format!("declared groups: {}", declared.join(", "))));
                        }
                        violations.push(violation);
                    }
                    None if outside(entry) => violations.push(staff_violation(pointer, entry)),
                    Some(_) | None => {}
                }
            }
        }
        for violation in violations {
            self.push(violation);
        }
    }
}
