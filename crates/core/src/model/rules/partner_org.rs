//! The rules of partner orgs: domains, attribute values, delegated self-management (their
//! seat limit is in `seat_limit.rs`).

use super::attribute::mismatch;
use super::{Among, Checker, RuleId, Violation, in_domain, is_domain};
use crate::model::{Pointer, SelfManagement};

impl Checker<'_> {
    pub(super) fn partner_org(&mut self, name: &str, org: &crate::model::PartnerOrg) {
        let at = Pointer::root().join("partner_orgs").join(name);
        self.org_seats(name, org, &at);
        if let Some(delegation) = &org.self_management {
            self.self_management(name, delegation, &at.join("self_management"));
        }
        for (key, value) in &org.attributes {
            let value_at = at.join("attributes").join(key);
            match self.state.attributes.get(key) {
                None => self.push(
                    Violation::error(
                        RuleId::OrgAttributeUndeclared,
                        value_at,
                        format!("undeclared attribute `{key}`"),
                    )
                    .with_hint(Some("declare it under `attributes:` first".into())),
                ),
                Some(attribute) => {
                    if let Some(why) = mismatch(value, attribute) {
                        self.push(Violation::error(
                            RuleId::MemberAttributeInvalid,
                            value_at,
                            format!("attribute `{key}` of partner org `{name}`: {why}"),
                        ));
                    }
                }
            }
        }
        if org.domains.is_empty() {
            self.push(Violation::error(
                RuleId::OrgWithoutDomains,
                at.join("domains"),
                format!("partner org `{name}` lists no domains"),
            ));
        }
        for domain in &org.domains {
            let domain_at = at.join("domains").join(domain);
            if !is_domain(domain) {
                self.push(Violation::error(
                    RuleId::OrgDomainInvalid,
                    domain_at,
                    format!("`{domain}` is not a domain name"),
                ));
            } else if let Some(owner) = self
                .state
                .workspace
                .owner_domains
                .iter()
                .find(|owner| in_domain(domain, owner))
            {
                self.push(Violation::error(
                    RuleId::OrgDomainInOwnerDomain,
                    domain_at,
                    format!(
                        "partner org `{name}` claims `{domain}`, which is within the owner domain `{owner}`"
                    ),
                ));
            }
        }
    }

    /// Partner admins are members of the org; the roles exist and the default is within
    /// the maximum; the delegated portals exist; SCIM has somewhere to put people.
    fn self_management(&mut self, name: &str, delegation: &SelfManagement, at: &Pointer) {
        for admin in &delegation.admins {
            let in_org = self
                .memberships(admin)
                .iter()
                .any(|(_, member)| member.org.as_deref() == Some(name));
            if !in_org {
                self.push(
                    Violation::error(
                        RuleId::SelfManagementAdminNotMember,
                        at.join("admins").join(admin),
                        format!("partner admin `{admin}` is not a member of partner org `{name}`"),
                    )
                    .with_hint(Some(format!(
                        "add `{admin}` with `org: {name}` to a portal's members, or remove it from `admins`"
                    ))),
                );
            }
        }
        let mut roles_known = true;
        for (field, role) in [
            ("max_role", Some(&delegation.max_role)),
            ("default_role", delegation.default_role.as_ref()),
        ] {
            let Some(role) = role else { continue };
            if !self.role_exists(role) {
                roles_known = false;
                self.push(
                    Violation::error(
                        RuleId::SelfManagementUnknownRole,
                        at.join(field),
                        format!("unknown role `{role}` as the `{field}` of partner org `{name}`"),
                    )
                    .suggesting(Among::Roles, role),
                );
            }
        }
        let default_role = delegation.default_role();
        if roles_known && !self.state.role_within(default_role, &delegation.max_role) {
            self.push(
                Violation::error(
                    RuleId::SelfManagementDefaultAboveMax,
                    at.join("default_role"),
                    format!(
                        "the default role `{default_role}` of partner org `{name}` grants permissions its `max_role` `{}` does not",
                        delegation.max_role
                    ),
                )
                .with_hint(Some("lower `default_role`, or raise `max_role`".into())),
            );
        }
        for portal in &delegation.portals {
            if !self.state.portals.contains_key(portal) {
                self.push(
                    Violation::error(
                        RuleId::SelfManagementUnknownPortal,
                        at.join("portals").join(portal),
                        format!("partner org `{name}` delegates unknown portal `{portal}`"),
                    )
                    .suggesting(Among::Portals, portal),
                );
            }
        }
        if delegation.scim && delegation.portals.is_empty() {
            self.push(
                Violation::error(
                    RuleId::SelfManagementScimWithoutPortals,
                    at.join("portals"),
                    format!(
                        "partner org `{name}` lets its identity provider provision people (`scim: true`) but delegates no portal for them"
                    ),
                )
                .with_hint(Some("list the portals its people join under `self_management.portals`".into())),
            );
        }
    }
}
