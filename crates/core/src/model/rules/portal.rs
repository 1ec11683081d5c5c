//! The rules of portals: branding, texts, URLs, session length and self-registration
//! (their seat limit is in `seat_limit.rs`).

use super::{Checker, RuleId, Violation, in_domain};
use crate::model::suggest::did_you_mean;
use crate::model::{Pointer, is_dns_label, is_hex_color, is_https_url};

impl Checker<'_> {
    pub(super) fn portal(&mut self, technical_name: &str, portal: &crate::model::Portal) {
        let first_new = self.out.len();
        self.portal_fields(technical_name, portal);
        self.portal_seats(technical_name, portal);
        // A value taken from a template is written once for many portals: say so, and
        // which portal met the problem (the diagnostic stands at the template's line).
        if let Some(template) = &portal.template {
            let prefix = format!(
                "{}/",
                Pointer::root().join("portals").join(technical_name).as_str()
            );
            for violation in &mut self.out[first_new..] {
                let field = violation.at.as_str().strip_prefix(&prefix).unwrap_or_default();
                let field = field.split('/').take(2).collect::<Vec<_>>();
                let inherited = portal
                    .from_template
                    .contains(field.first().copied().unwrap_or_default())
                    || portal.from_template.contains(&field.join("."));
                if inherited {
                    violation.message = format!(
                        "{} (from portal template `{template}`, used by portal `{technical_name}`)",
                        violation.message
                    );
                }
            }
        }
    }

    pub(super) fn portal_fields(&mut self, technical_name: &str, portal: &crate::model::Portal) {
        let at = Pointer::root().join("portals").join(technical_name);
        for (field, text) in [
            ("initiation", &portal.texts.initiation),
            ("first_login", &portal.texts.first_login),
        ] {
            if let Some(text) = text
                && text.chars().count() > crate::model::PortalTexts::MAX_CHARS
            {
                self.push(Violation::error(
                    RuleId::PortalText,
                    at.join("texts").join(field),
                    format!(
                        "the {field} text has {} characters; at most {} are shown",
                        text.chars().count(),
                        crate::model::PortalTexts::MAX_CHARS
                    ),
                ));
            }
        }
        if let Some(help) = &portal.texts.help_url
            && !is_https_url(help)
        {
            self.push(Violation::error(
                RuleId::PortalHelpUrl,
                at.join("texts").join("help_url"),
                format!("`{help}` is not an absolute https:// URL"),
            ));
        }
        if !is_dns_label(technical_name) {
            self.push(
                Violation::error(
                    RuleId::PortalNameNotDnsLabel,
                    at.clone(),
                    format!("portal name `{technical_name}` is not a DNS label"),
                )
                .with_hint(Some(
                    "use 1 to 63 lowercase letters, digits and `-`, not starting or ending with `-`".into(),
                )),
            );
        }
        if portal.name.trim().is_empty() {
            self.push(Violation::error(
                RuleId::PortalDisplayName,
                at.join("name"),
                "the portal needs a display `name`",
            ));
        }
        if !is_hex_color(&portal.color) {
            self.push(Violation::error(
                RuleId::PortalColor,
                at.join("color"),
                format!("`{}` is not a colour: expected `#RRGGBB`", portal.color),
            ));
        }
        if !is_https_url(&portal.logout_url) {
            self.push(Violation::error(
                RuleId::PortalLogoutUrl,
                at.join("logout_url"),
                format!("`{}` is not an absolute https:// URL", portal.logout_url),
            ));
        }
        if let Some(cover) = &portal.home_cover
            && !is_https_url(cover)
        {
            self.push(Violation::error(
                RuleId::PortalHomeCover,
                at.join("home_cover"),
                format!("`{cover}` is not an absolute https:// URL"),
            ));
        }
        if !portal.session_ttl.in_range() {
            self.push(Violation::error(
                RuleId::PortalSessionTtl,
                at.join("session_ttl"),
                format!("session_ttl `{}` is outside 5m..24h", portal.session_ttl),
            ));
        }
        if let Some(registration) = &portal.self_registration {
            let reg_at = at.join("self_registration");
            if !self.role_exists(&registration.default_role) {
                self.push(
                    Violation::error(
                        RuleId::RegistrationUnknownRole,
                        reg_at.join("default_role"),
                        format!("unknown role `{}`", registration.default_role),
                    )
                    .with_hint(did_you_mean(&registration.default_role, self.role_names())),
                );
            }
            for domain in &registration.allowed_domains {
                if let Some(owner) = self
                    .state
                    .workspace
                    .owner_domains
                    .iter()
                    .find(|owner| in_domain(domain.strip_prefix("*.").unwrap_or(domain), owner))
                {
                    self.push(Violation::error(
                        RuleId::RegistrationOwnerDomain,
                        reg_at.join("allowed_domains").join(domain),
                        format!("self-registration may not allow `{domain}`, which is within the owner domain `{owner}`"),
                    ));
                }
            }
            for group in &registration.groups {
                if !self.state.groups.contains_key(group) {
                    self.push(
                        Violation::error(
                            RuleId::RegistrationUnknownGroup,
                            reg_at.join("groups").join(group),
                            format!("self-registration joins unknown group `{group}`"),
                        )
                        .with_hint(did_you_mean(group, self.state.groups.keys().map(String::as_str))),
                    );
                }
            }
            if registration.enabled && registration.allowed_domains.is_empty() {
                self.push(
                    Violation::error(
                        RuleId::RegistrationNoDomains,
                        reg_at.join("allowed_domains"),
                        "self-registration is enabled but allows no domains",
                    )
                    .with_hint(Some("list the partner domains that may register".into())),
                );
            }
        }
    }
}
