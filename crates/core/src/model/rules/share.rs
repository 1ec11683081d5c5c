//! The rules of shares: a declared folder or dashboard, a known principal, not expired.

use super::{Among, Checker, RuleId, Violation};
use crate::model::{Pointer, Principal};

impl Checker<'_> {
    pub(super) fn share(&mut self, folder: &str, principal: &Principal, share: &crate::model::Share) {
        // Built only for a violation.
        let at = || {
            Pointer::root()
                .join("shares")
                .join(folder)
                .join(&principal.to_string())
        };
        if !self.state.folders.contains_key(folder) && !self.state.dashboards.contains_key(folder) {
            self.push(Violation::error(
                RuleId::ShareUnknownFolder,
                at(),
                format!("share on `{folder}`, but no folder or dashboard is declared there"),
            ));
        }
        match principal {
            Principal::Group(name) if !self.state.groups.contains_key(name) => {
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownGroup,
                        at().join("group"),
                        format!("unknown group `{name}`"),
                    )
                    .suggesting(Among::Groups, name),
                );
            }
            Principal::Portal(name) if !self.state.portals.contains_key(name) => {
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownPortal,
                        at().join("portal"),
                        format!("unknown portal `{name}`"),
                    )
                    .suggesting(Among::Portals, name),
                );
            }
            Principal::Org(name) if !self.state.partner_orgs.contains_key(name) => {
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownOrg,
                        at().join("org"),
                        format!("unknown partner org `{name}`"),
                    )
                    .suggesting(Among::PartnerOrgs, name),
                );
            }
            Principal::User(email) if !self.is_partner(email) => {
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownUser,
                        at().join("user"),
                        format!("`{email}` is not a member of any portal"),
                    )
                    .suggesting_or(
                        Among::Partners,
                        email,
                        "shares to `user:` must name a portal member",
                    ),
                );
            }
            _ => {}
        }
        if let Some(day) = share.expires
            && day < self.today
        {
            self.push(Violation::warning(
                RuleId::ShareExpired,
                at().join("expires"),
                format!("share of `{folder}` with {principal} expired on {day}; it grants nothing and `plan` will remove it"),
            ));
        }
    }
}
