//! The rules of groups: every member is a partner, or may become one through their org's
//! delegated roster.

use super::{Among, Checker, RuleId, Violation};
use crate::model::Pointer;

impl Checker<'_> {
    pub(super) fn group(&mut self, name: &str, group: &crate::model::Group) {
        for email in &group.members {
            self.group_member(name, email);
        }
    }

    /// The rule of one entry of a group: a batch that adds one entry to a group of ten
    /// thousand checks that entry, not the group.
    pub(super) fn group_member(&mut self, name: &str, email: &str) {
        if !self.is_partner(email) && !self.is_delegated(email) {
            // A group naming a million strangers: count them without building each one.
            if self.only_counts(RuleId::GroupMemberNotPartner) {
                return;
            }
            self.push(
                Violation::error(
                    RuleId::GroupMemberNotPartner,
                    Pointer::root()
                        .join("groups")
                        .join(name)
                        .join("members")
                        .join(email),
                    format!(
                        "group `{name}` lists `{email}`, who is not a member of any portal nor at a domain of an org that manages its people"
                    ),
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
