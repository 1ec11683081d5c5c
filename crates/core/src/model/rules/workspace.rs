//! The workspace's rules: a name, and owner domains that are domain names.

use super::{Checker, RuleId, Violation, is_domain};
use crate::model::Pointer;

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
    }
}
