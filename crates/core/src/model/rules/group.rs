//! The rules of groups: every member is a partner.

use super::{Among, Checker, RuleId, Violation};
use crate::model::Pointer;

impl Checker<'_> {
    pub(super) fn group(&mut self, name: &str, group: &crate::model::Group) {
        let at = Pointer::root().join("groups").join(name);
        for email in &group.members {
            if !self.is_partner(email) {
                self.push(
                    Violation::error(
                        RuleId::GroupMemberNotPartner,
                        at.join("members").join(email),
                        format!("group `{name}` lists `{email}`, who is not a member of any portal"),
                    )
                    .suggesting_or(
                        Among::Partners,
                        email,
                        "add them to a portal's members first",
                    ),
                );
            }
        }
    }
}
