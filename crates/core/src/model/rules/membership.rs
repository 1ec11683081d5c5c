//! The rules of memberships: a known portal, role and org, an email outside the owner
//! domains and inside the org's, fitting attributes, and one identity per partner.

use rustc_hash::FxHashMap as HashMap;

use super::attribute::mismatch;
use super::{Among, Checker, RuleId, Violation, in_domain};
use crate::model::suggest::did_you_mean;
use crate::model::{Pointer, email_domain, is_valid_email};

impl Checker<'_> {
    pub(super) fn all_members(&mut self) {
        // email -> first membership, for the one-partner-one-identity rule.
        let mut first_seen: HashMap<&str, (&str, &crate::model::Membership)> =
            HashMap::with_capacity_and_hasher(self.state.members.len(), Default::default());
        for ((portal, email), member) in &self.state.members {
            let first = first_seen.get(email.as_str()).copied();
            if self.member(portal, email, member, first) && first.is_none() {
                first_seen.insert(email, (portal, member));
            }
        }
    }

    /// Every membership of one partner, in portal order.
    pub(super) fn partner(&mut self, email: &str, memberships: &[(&str, &crate::model::Membership)]) {
        let mut first = None;
        for &(portal, member) in memberships {
            if self.member(portal, email, member, first) && first.is_none() {
                first = Some((portal, member));
            }
        }
    }

    /// One membership; `first` is the partner's first membership, in portal order. Returns
    /// whether the email is valid (only then does it take part in the identity rule).
    pub(super) fn member(
        &mut self,
        portal: &str,
        email: &str,
        member: &crate::model::Membership,
        first: Option<(&str, &crate::model::Membership)>,
    ) -> bool {
        // Built only when a rule fails: 100k pointers per check would dominate its cost.
        let at = || Pointer::root().join("members").join(portal).join(email);
        if !self.state.portals.contains_key(portal) {
            self.push(
                Violation::error(
                    RuleId::MemberUnknownPortal,
                    at(),
                    format!("unknown portal `{portal}`"),
                )
                .suggesting(Among::Portals, portal),
            );
        }
        if !is_valid_email(email) {
            self.push(Violation::error(
                RuleId::MemberInvalidEmail,
                at().join("email"),
                format!("`{email}` is not a valid email address"),
            ));
            return false;
        }
        if let Some(owner) = self.owner_domain_of(email) {
            self.push(
                Violation::error(
                    RuleId::MemberInOwnerDomain,
                    at().join("email"),
                    format!("`{email}` is in the owner domain `{owner}`: staff cannot be partners"),
                )
                .with_hint(Some(
                    "owner domains are listed under `workspace.owner_domains`".into(),
                )),
            );
        }
        if !self.role_exists(&member.role) {
            self.push(
                Violation::error(
                    RuleId::MemberUnknownRole,
                    at().join("role"),
                    format!("unknown role `{}`", member.role),
                )
                .suggesting(Among::Roles, &member.role),
            );
        }
        if let Some(org_name) = &member.org {
            match self.state.partner_orgs.get(org_name) {
                None => {
                    self.push(
                        Violation::error(
                            RuleId::MemberUnknownOrg,
                            at().join("org"),
                            format!("unknown partner org `{org_name}`"),
                        )
                        .suggesting(Among::PartnerOrgs, org_name),
                    );
                }
                Some(org) => {
                    let domain = email_domain(email).unwrap_or_default();
                    if !org.domains.iter().any(|allowed| in_domain(domain, allowed)) {
                        // Reported at the email (the culprit, more often than the org), with
                        // the near domain when it is a typo: `globex.co` for `globex.com`.
                        let local = email.rsplit_once('@').map_or(email, |(local, _)| local);
                        let hint =
                            crate::model::suggest::closest(domain, org.domains.iter().map(String::as_str))
                                .map(|near| format!("did you mean `{local}@{near}`?"));
                        self.push(
                            Violation::error(
                                RuleId::MemberOutsideOrgDomains,
                                at(),
                                format!(
                                    "`{email}` is not in a domain of partner org `{org_name}` ({})",
                                    org.domains.iter().cloned().collect::<Vec<_>>().join(", ")
                                ),
                            )
                            .with_hint(hint)
                            .with_related(at().join("org"), "the org"),
                        );
                    }
                }
            }
        }
        self.member_attributes(&at, member);
        if let Some(day) = member.expires
            && day < self.today
        {
            self.push(Violation::warning(
                RuleId::MembershipExpired,
                at().join("expires"),
                format!(
                    "membership of `{email}` expired on {day}; it grants nothing and `plan` will remove it"
                ),
            ));
        }
        if let Some((first_portal, first)) = first {
            let first_at = || Pointer::root().join("members").join(first_portal).join(email);
            if first.org != member.org {
                self.push(
                    Violation::error(
                        RuleId::PartnerOrgDiffers,
                        at().join("org"),
                        format!(
                            "`{email}` has org {} in portal `{portal}` but {} in portal `{first_portal}`",
                            show_org(member.org.as_deref()),
                            show_org(first.org.as_deref())
                        ),
                    )
                    .with_related(first_at().join("org"), "first set here")
                    .with_hint(Some(
                        "one email is one partner: give it the same org everywhere".into(),
                    )),
                );
            }
            if first.attributes != member.attributes {
                self.push(
                    Violation::error(
                        RuleId::PartnerAttributesDiffer,
                        at().join("attributes"),
                        format!("`{email}` has different attributes in portal `{portal}` than in portal `{first_portal}`"),
                    )
                    .with_related(first_at().join("attributes"), "first set here")
                    .with_hint(Some("one email is one partner: give it the same attributes everywhere".into())),
                );
            }
        }
        true
    }

    pub(super) fn member_attributes(&mut self, at: &dyn Fn() -> Pointer, member: &crate::model::Membership) {
        let declared = &self.state.attributes;
        let no_values = crate::model::AttributeValues::new();
        let org_values = member
            .org
            .as_ref()
            .and_then(|org| self.state.partner_orgs.get(org))
            .map_or(&no_values, |org| &org.attributes);
        for (key, value) in &member.attributes {
            // Built only for a violation: three attributes per partner are millions.
            let value_at = || at().join("attributes").join(key);
            if let Some(supplied) = org_values.get(key)
                && supplied != value
            {
                let sensitive = declared.get(key).is_some_and(|attribute| attribute.sensitive);
                let message = if sensitive {
                    format!("attribute `{key}` contradicts the value its partner org supplies")
                } else {
                    format!("attribute `{key}` is `{value}`, but its partner org supplies `{supplied}`")
                };
                self.push(
                    Violation::error(RuleId::MemberAttributeContradictsOrg, value_at(), message)
                        .with_hint(Some("omit it: members inherit their org's values".into())),
                );
            }
            match declared.get(key) {
                None => self.push(
                    Violation::error(
                        RuleId::MemberAttributeUndeclared,
                        value_at(),
                        format!("undeclared attribute `{key}`"),
                    )
                    .with_hint(
                        did_you_mean(key, declared.keys().map(String::as_str))
                            .or_else(|| Some("declare it under `attributes:` first".into())),
                    ),
                ),
                Some(attribute) => {
                    if let Some(why) = mismatch(value, attribute) {
                        let shown = if attribute.sensitive {
                            "value".to_string()
                        } else {
                            format!("`{value}`")
                        };
                        self.push(Violation::error(
                            RuleId::MemberAttributeInvalid,
                            value_at(),
                            format!("attribute `{key}`: {shown} does not fit: {why}"),
                        ));
                    }
                }
            }
        }
        for (key, attribute) in declared {
            if attribute.required && !member.attributes.contains_key(key) && !org_values.contains_key(key) {
                self.push(
                    Violation::error(
                        RuleId::MemberAttributeMissing,
                        at().join("attributes"),
                        format!("required attribute `{key}` is missing"),
                    )
                    .about(key.clone()),
                );
            }
        }
    }
}

fn show_org(org: Option<&str>) -> String {
    org.map_or_else(|| "(none)".to_string(), |org| format!("`{org}`"))
}
