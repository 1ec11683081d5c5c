//! The rules of partner orgs: domains, attribute values (their seat limit is in `seat_limit.rs`).

use super::attribute::mismatch;
use super::{Checker, RuleId, Violation, in_domain, is_domain};
use crate::model::Pointer;

impl Checker<'_> {
    pub(super) fn partner_org(&mut self, name: &str, org: &crate::model::PartnerOrg) {
        let at = Pointer::root().join("partner_orgs").join(name);
        self.org_seats(name, org, &at);
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
}
