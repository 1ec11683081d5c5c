//! The mail a batch's roster changes send, composed for the outbox: the store calls
//! [`RosterMailer`] in the transaction of every batch it commits
//! ([`portalctl_store::Store::send_roster_mail`]), so an invitation is stored with the
//! change that adds the member, or not at all.

use portalctl_core::member_mail::{MemberMail, mailings};
use portalctl_core::model::{Change, ResourceKey, ResourceValue, State};
use portalctl_store::{MailKind, NewMessage, RosterMail};

use crate::{Branding, Letter, LetterKind};

/// Where partners reach the service: links in mail start with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Links {
    /// `https://portals.acme.io`, without a trailing slash.
    pub public_url: String,
    /// With `portals.acme.io`, portal `globex`'s pages are at `globex.portals.acme.io`.
    pub host_suffix: Option<String>,
}

impl Links {
    pub fn new(public_url: &str, host_suffix: Option<String>) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            host_suffix,
        }
    }

    /// The absolute URL of portal `portal`'s page `path` (which starts with `/`), as the
    /// service serves it (`serve`'s `PagesSettings::page_url` builds the same).
    pub fn page_url(&self, portal: &str, path: &str) -> String {
        match &self.host_suffix {
            Some(suffix) => {
                let scheme = if self.public_url.starts_with("https://") {
                    "https"
                } else {
                    "http"
                };
                let port = self
                    .public_url
                    .rsplit_once(':')
                    .filter(|(_, port)| port.bytes().all(|byte| byte.is_ascii_digit()))
                    .map(|(_, port)| format!(":{port}"))
                    .unwrap_or_default();
                format!("{scheme}://{portal}.{suffix}{port}{path}")
            }
            None => format!("{}/p/{portal}{path}", self.public_url),
        }
    }
}

/// Composes invitations, approval results and removal notices with the portal's branding.
#[derive(Debug, Clone)]
pub struct RosterMailer {
    pub links: Links,
}

impl RosterMail for RosterMailer {
    fn mail_for(&self, before: &State, changes: &[Change]) -> Vec<NewMessage> {
        let mailings = mailings(before, changes);
        if mailings.is_empty() {
            return Vec::new();
        }
        let portal_of = |name: &str| {
            changes
                .iter()
                .find_map(|change| match change {
                    Change::Put {
                        key: ResourceKey::Portal(key),
                        value: ResourceValue::Portal(portal),
                    } if key == name => Some(portal),
                    _ => None,
                })
                .or_else(|| before.portals.get(name))
        };
        let mut branding: Option<(String, Branding)> = None;
        let mut out = Vec::with_capacity(mailings.len());
        for mailing in mailings {
            let Some(portal) = portal_of(&mailing.portal) else {
                continue;
            };
            // Batches list a portal's members together: brand once per run of them.
            if branding.as_ref().is_none_or(|(name, _)| *name != mailing.portal) {
                branding = Some((mailing.portal.clone(), Branding::of(portal)));
            }
            let Some((_, brand)) = &branding else { continue };
            let (kind, letter_kind, link) = match mailing.mail {
                MemberMail::Invitation => (
                    MailKind::Invitation,
                    LetterKind::Invitation,
                    Some(self.links.page_url(&mailing.portal, "/")),
                ),
                MemberMail::Approved => (
                    MailKind::Approval,
                    LetterKind::Approved,
                    Some(self.links.page_url(&mailing.portal, "/")),
                ),
                MemberMail::Refused => (MailKind::Approval, LetterKind::Refused, None),
                MemberMail::AccessRemoved => (MailKind::AccessRemoved, LetterKind::AccessRemoved, None),
            };
            let composed = Letter {
                kind: letter_kind,
                branding: brand,
                to: &mailing.email,
                link: link.as_deref(),
                link_valid_minutes: None,
            }
            .compose();
            out.push(NewMessage {
                portal: mailing.portal,
                recipient: mailing.email,
                kind,
                subject: composed.subject,
                text: composed.text,
                html: composed.html,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_page_links_as_the_service_serves_them() {
        let path = Links::new("https://portals.acme.io/", None);
        assert_eq!(path.page_url("globex", "/"), "https://portals.acme.io/p/globex/");
        let hosts = Links::new("https://portals.acme.io", Some("portals.acme.io".into()));
        assert_eq!(hosts.page_url("globex", "/"), "https://globex.portals.acme.io/");
        let local = Links::new("http://127.0.0.1:7878", Some("localtest.me".into()));
        assert_eq!(
            local.page_url("globex", "/x"),
            "http://globex.localtest.me:7878/x"
        );
    }
}
