//! The rules of groups: every member is a partner.

use super::{Checker, RuleId, Violation};
use crate::model::Pointer;
use crate::model::suggest::did_you_mean;

impl Checker<'_> {
    pub(super) fn group(&mut self, name: &str, group: &crate::model::Group) {
        let at = Pointer::root().join("groups").join(name);
        for email in &group.members {
            if !self.is_partner(email) {
                let hint = self.hint(|| {
                    let known = self.state.members.keys().map(|(_, email)| email.as_str());
                    did_you_mean(email, known).or_else(|| Some("add them to a portal's members first".into()))
                });
                self.push(
                    Violation::error(
                        RuleId::GroupMemberNotPartner,
                        at.join("members").join(email),
                        format!("group `{name}` lists `{email}`, who is not a member of any portal"),
                    )
                    .with_hint(hint),
                );
            }
        }
    }
}
