//! Which mail a change to a portal's roster sends: an invitation to a member added by
//! `apply` or the admin API, the result of a pending registration (approved when it starts
//! granting, refused when it is deleted), and a notice to a removed member when the portal
//! asks for one. The one definition of these rules: `plan` counts with it, and the service
//! enqueues with it in the transaction that commits the batch.
//!
//! **Architecture invariant:** pure; decides from the values before and after a change and
//! the portal's settings, never from where the change came.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{Change, MemberSource, Membership, Portal, ResourceKey, ResourceValue, State};

/// A message a roster change sends to the member concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberMail {
    /// A member added by `apply` or the admin API, to a portal with `invitations: true`.
    Invitation,
    /// A pending registration now grants access (approved through the API, or listed in the
    /// config).
    Approved,
    /// A pending registration was deleted.
    Refused,
    /// A member who granted access was removed from a portal with `removal_notice: true`.
    AccessRemoved,
}

/// Which mail, if any, a member's change sends.
///
/// `portal` is the member's portal after the change, or before it when the change deletes
/// the portal too.
///
/// - created, granting (not pending) and managed by git or by the partner's org (not
///   self-registered, whose owner verified the address and is told by the sign-up pages),
///   with `portal.invitations`: `Invitation`;
/// - pending before, not pending after: `Approved`;
/// - pending before, deleted: `Refused`;
/// - not pending before, deleted, with `portal.removal_notice`: `AccessRemoved`.
pub fn mail_for(
    before: Option<&Membership>,
    after: Option<&Membership>,
    portal: &Portal,
) -> Option<MemberMail> {
    match (before, after) {
        (None, Some(after)) => {
            let invited = matches!(after.source, MemberSource::Managed | MemberSource::PartnerManaged);
            (!after.pending && invited && portal.invitations).then_some(MemberMail::Invitation)
        }
        (Some(before), Some(after)) => (before.pending && !after.pending).then_some(MemberMail::Approved),
        (Some(before), None) if before.pending => Some(MemberMail::Refused),
        (Some(_), None) => portal.removal_notice.then_some(MemberMail::AccessRemoved),
        (None, None) => None,
    }
}

/// One message to one member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberMailing {
    pub mail: MemberMail,
    pub portal: String,
    pub email: String,
}

/// The mail a batch of changes sends when committed on `before`, in the batch's order.
/// A change of a member whose portal is in neither the batch nor `before` (a batch the
/// rules will refuse) sends nothing.
pub fn mailings(before: &State, changes: &[Change]) -> Vec<MemberMailing> {
    let portals_put: BTreeMap<&str, &Portal> = changes
        .iter()
        .filter_map(|change| match change {
            Change::Put {
                key: ResourceKey::Portal(name),
                value: ResourceValue::Portal(portal),
            } => Some((name.as_str(), portal)),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for change in changes {
        let ResourceKey::Member { portal, email } = change.key() else {
            continue;
        };
        let after = match change {
            Change::Put {
                value: ResourceValue::Member(membership),
                ..
            } => Some(membership),
            _ => None,
        };
        let was = before.members.get(&(portal.clone(), email.clone()));
        let Some(settings) = portals_put
            .get(portal.as_str())
            .copied()
            .or_else(|| before.portals.get(portal))
        else {
            continue;
        };
        if let Some(mail) = mail_for(was, after, settings) {
            out.push(MemberMailing {
                mail,
                portal: portal.clone(),
                email: email.clone(),
            });
        }
    }
    out
}

/// How many messages of each kind a plan or a batch sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailCounts {
    pub invitations: usize,
    pub approvals: usize,
    pub refusals: usize,
    pub removal_notices: usize,
}

impl MailCounts {
    pub fn add(&mut self, mail: MemberMail) {
        match mail {
            MemberMail::Invitation => self.invitations += 1,
            MemberMail::Approved => self.approvals += 1,
            MemberMail::Refused => self.refusals += 1,
            MemberMail::AccessRemoved => self.removal_notices += 1,
        }
    }

    pub fn total(self) -> usize {
        self.invitations + self.approvals + self.refusals + self.removal_notices
    }

    pub fn is_empty(self) -> bool {
        self.total() == 0
    }
}

/// `sends 12,400 invitations, 1 approval result and 2 removal notices`; empty counts say
/// `sends no mail`.
impl fmt::Display for MailCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = [
            (self.invitations, "invitation", "invitations"),
            (self.approvals, "approval", "approvals"),
            (self.refusals, "refusal", "refusals"),
            (self.removal_notices, "removal notice", "removal notices"),
        ]
        .into_iter()
        .filter(|(count, _, _)| *count > 0)
        .map(|(count, one, many)| format!("{} {}", grouped(count), if count == 1 { one } else { many }))
        .collect();
        match parts.as_slice() {
            [] => f.write_str("sends no mail"),
            [only] => write!(f, "sends {only}"),
            [rest @ .., last] => write!(f, "sends {} and {last}", rest.join(", ")),
        }
    }
}

/// `12400` as `12,400`.
fn grouped(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{SessionTtl, State};

    #[test]
    fn says_what_it_sends() {
        let counts = |invitations, approvals, refusals, removal_notices| MailCounts {
            invitations,
            approvals,
            refusals,
            removal_notices,
        };
        assert_eq!(counts(12_400, 0, 0, 0).to_string(), "sends 12,400 invitations");
        assert_eq!(counts(1, 0, 0, 0).to_string(), "sends 1 invitation");
        assert_eq!(
            counts(1_234_567, 1, 0, 2).to_string(),
            "sends 1,234,567 invitations, 1 approval and 2 removal notices"
        );
        assert_eq!(counts(0, 0, 3, 0).to_string(), "sends 3 refusals");
        assert_eq!(MailCounts::default().to_string(), "sends no mail");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
    }

    fn portal(invitations: bool, removal_notice: bool) -> Portal {
        Portal {
            name: "Globex".into(),
            color: "#0F62FE".into(),
            logout_url: "https://globex.com/bye".into(),
            home_cover: None,
            session_ttl: SessionTtl::default(),
            require_2fa: false,
            self_registration: None,
            protect: false,
            texts: Box::default(),
            max_members: None,
            invitations,
            removal_notice,
            template: None,
            from_template: Default::default(),
        }
    }

    fn member(source: MemberSource, pending: bool) -> Membership {
        Membership {
            role: "viewer".into(),
            org: None,
            attributes: Default::default(),
            expires: None,
            source,
            pending,
        }
    }

    fn check(
        before: Option<(MemberSource, bool)>,
        after: Option<(MemberSource, bool)>,
        settings: (bool, bool),
        expected: Option<MemberMail>,
    ) {
        let before = before.map(|(source, pending)| member(source, pending));
        let after = after.map(|(source, pending)| member(source, pending));
        let portal = portal(settings.0, settings.1);
        assert_eq!(
            mail_for(before.as_ref(), after.as_ref(), &portal),
            expected,
            "{before:?} -> {after:?} with {settings:?}"
        );
    }

    use MemberSource::{Managed, SelfRegistration};

    #[test]
    fn decides_each_roster_change() {
        let on = (true, true);
        let off = (false, false);
        check(None, Some((Managed, false)), on, Some(MemberMail::Invitation));
        check(None, Some((Managed, false)), off, None);
        check(None, Some((SelfRegistration, false)), on, None);
        check(
            None,
            Some((MemberSource::PartnerManaged, false)),
            on,
            Some(MemberMail::Invitation),
        );
        check(None, Some((SelfRegistration, true)), on, None);
        check(
            Some((SelfRegistration, true)),
            Some((SelfRegistration, false)),
            off,
            Some(MemberMail::Approved),
        );
        check(
            Some((SelfRegistration, true)),
            Some((Managed, false)),
            on,
            Some(MemberMail::Approved),
        );
        check(Some((Managed, false)), Some((Managed, false)), on, None);
        check(
            Some((SelfRegistration, true)),
            None,
            off,
            Some(MemberMail::Refused),
        );
        check(Some((Managed, false)), None, on, Some(MemberMail::AccessRemoved));
        check(Some((Managed, false)), None, off, None);
        check(
            Some((SelfRegistration, false)),
            None,
            (true, true),
            Some(MemberMail::AccessRemoved),
        );
    }

    #[test]
    fn a_batch_uses_the_portal_it_puts() {
        let mut before = State::default();
        before.portals.insert("globex".into(), portal(false, false));
        let key = |email: &str| ResourceKey::Member {
            portal: "globex".into(),
            email: email.into(),
        };
        let add = |email: &str| Change::Put {
            key: key(email),
            value: ResourceValue::Member(member(Managed, false)),
        };
        assert!(mailings(&before, &[add("a@globex.com")]).is_empty());
        let turn_on = Change::Put {
            key: ResourceKey::Portal("globex".into()),
            value: ResourceValue::Portal(portal(true, false)),
        };
        let orphan = Change::Put {
            key: ResourceKey::Member {
                portal: "nowhere".into(),
                email: "b@globex.com".into(),
            },
            value: ResourceValue::Member(member(Managed, false)),
        };
        assert_eq!(
            mailings(&before, &[turn_on, add("a@globex.com"), orphan]),
            vec![MemberMailing {
                mail: MemberMail::Invitation,
                portal: "globex".into(),
                email: "a@globex.com".into(),
            }]
        );
    }
}
