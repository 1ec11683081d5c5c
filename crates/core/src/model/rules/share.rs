//! The rules of shares: a declared folder or dashboard, a known principal, not expired.

use super::{Checker, RuleId, Violation};
use crate::model::suggest::did_you_mean;
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
                let hint = self.hint(|| did_you_mean(name, self.state.groups.keys().map(String::as_str)));
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownGroup,
                        at().join("group"),
                        format!("unknown group `{name}`"),
                    )
                    .with_hint(hint),
                );
            }
            Principal::Portal(name) if !self.state.portals.contains_key(name) => {
                let hint = self.hint(|| did_you_mean(name, self.state.portals.keys().map(String::as_str)));
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownPortal,
                        at().join("portal"),
                        format!("unknown portal `{name}`"),
                    )
                    .with_hint(hint),
                );
            }
            Principal::Org(name) if !self.state.partner_orgs.contains_key(name) => {
                let hint =
                    self.hint(|| did_you_mean(name, self.state.partner_orgs.keys().map(String::as_str)));
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownOrg,
                        at().join("org"),
                        format!("unknown partner org `{name}`"),
                    )
                    .with_hint(hint),
                );
            }
            Principal::User(email) if !self.is_partner(email) => {
                let hint = self.hint(|| {
                    let known = self.state.members.keys().map(|(_, email)| email.as_str());
                    did_you_mean(email, known)
                        .or_else(|| Some("shares to `user:` must name a portal member".into()))
                });
                self.push(
                    Violation::error(
                        RuleId::ShareUnknownUser,
                        at().join("user"),
                        format!("`{email}` is not a member of any portal"),
                    )
                    .with_hint(hint),
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
