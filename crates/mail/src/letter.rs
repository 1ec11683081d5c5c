//! Composing one message: its subject, a plain-text part and an HTML part, branded with
//! the portal's name, colour and texts.
//!
//! **Architecture invariant:** pure. The words of each message are chosen here, in Rust,
//! and laid out by two askama templates (`templates/letter.txt`, `templates/letter.html`),
//! so a template mistake is a build error and every message has both parts. This is the
//! one composer of the service's mail: the sign-in and verification links the pages send,
//! and the invitations, approval results and removal notices a batch sends
//! ([`crate::roster`]).

use std::fmt;

use askama::Template;
use portalctl_core::model::Portal;
// The pages' own choice of text colour, so a mail's header reads like the portal's pages.
use portalctl_pages::text_color_on;

/// What a message is for. The wire name is what the outbox stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LetterKind {
    /// A one-time sign-in link, asked for on the sign-in page.
    SignInLink,
    /// The link that proves a self-registering partner owns the address.
    SignUpVerification,
    /// A member was added by `apply` or the admin API (or a pending one approved).
    Invitation,
    /// A pending registration was approved.
    Approved,
    /// A pending registration was refused.
    Refused,
    /// A member was removed (only for portals that ask for the notice).
    AccessRemoved,
}

impl LetterKind {
    pub const ALL: [Self; 6] = [
        Self::SignInLink,
        Self::SignUpVerification,
        Self::Invitation,
        Self::Approved,
        Self::Refused,
        Self::AccessRemoved,
    ];

    pub fn wire_name(self) -> &'static str {
        match self {
            Self::SignInLink => "sign_in_link",
            Self::SignUpVerification => "sign_up_verification",
            Self::Invitation => "invitation",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::AccessRemoved => "access_removed",
        }
    }

    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.wire_name() == name)
    }
}

impl fmt::Display for LetterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.wire_name())
    }
}

/// What of a portal its mail shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branding {
    pub portal_name: String,
    /// `#RRGGBB`.
    pub color: String,
    /// The portal's initiation text, shown in invitations and sign-up mail.
    pub initiation: Option<String>,
    pub help_url: Option<String>,
}

impl Branding {
    pub fn of(portal: &Portal) -> Self {
        Self {
            portal_name: portal.name.clone(),
            color: portal.color.clone(),
            initiation: portal.texts.initiation.clone(),
            help_url: portal.texts.help_url.clone(),
        }
    }
}

/// One message to compose.
#[derive(Debug, Clone, Copy)]
pub struct Letter<'a> {
    pub kind: LetterKind,
    pub branding: &'a Branding,
    /// The recipient's address, named in the text.
    pub to: &'a str,
    /// The link the message carries (none for a refusal or a removal notice).
    pub link: Option<&'a str>,
    /// How long the link works, in minutes, when it expires.
    pub link_valid_minutes: Option<u32>,
}

/// A composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

struct Action {
    label: String,
    link: String,
}

/// What both templates are given.
struct Content {
    subject: String,
    portal_name: String,
    color: String,
    on_color: &'static str,
    heading: String,
    paragraphs: Vec<String>,
    action: Option<Action>,
    notes: Vec<String>,
    help_url: Option<String>,
}

#[derive(Template)]
#[template(path = "letter.txt")]
struct TextPart<'a> {
    portal_name: &'a str,
    heading: &'a str,
    paragraphs: &'a [String],
    action: &'a Option<Action>,
    notes: &'a [String],
    help_url: &'a Option<String>,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct HtmlPart<'a> {
    subject: &'a str,
    portal_name: &'a str,
    color: &'a str,
    on_color: &'a str,
    heading: &'a str,
    paragraphs: &'a [String],
    action: &'a Option<Action>,
    notes: &'a [String],
    help_url: &'a Option<String>,
}

impl Letter<'_> {
    /// The subject and both parts.
    pub fn compose(&self) -> Composed {
        let content = self.content();
        let text = TextPart {
            portal_name: &content.portal_name,
            heading: &content.heading,
            paragraphs: &content.paragraphs,
            action: &content.action,
            notes: &content.notes,
            help_url: &content.help_url,
        }
        .render()
        .expect("the text template writes into a String, which cannot fail");
        let html = HtmlPart {
            subject: &content.subject,
            portal_name: &content.portal_name,
            color: &content.color,
            on_color: content.on_color,
            heading: &content.heading,
            paragraphs: &content.paragraphs,
            action: &content.action,
            notes: &content.notes,
            help_url: &content.help_url,
        }
        .render()
        .expect("the HTML template writes into a String, which cannot fail");
        Composed {
            subject: content.subject,
            text,
            html,
        }
    }

    fn content(&self) -> Content {
        let name = &self.branding.portal_name;
        let to = self.to;
        let action = |label: String| {
            self.link.map(|link| Action {
                label,
                link: link.to_string(),
            })
        };
        let validity = self
            .link_valid_minutes
            .map(|minutes| format!("The link works once, for {}.", duration_words(minutes)));
        let (subject, heading, mut paragraphs, action, mut notes) = match self.kind {
            LetterKind::SignInLink => (
                format!("Your sign-in link for {name}"),
                format!("Sign in to {name}"),
                vec![format!("Use the button below to sign in to {name} as {to}.")],
                action("Sign in".into()),
                vec![
                    "If you did not ask to sign in, ignore this message: nobody can sign in without it."
                        .to_string(),
                ],
            ),
            LetterKind::SignUpVerification => (
                format!("Confirm your address for {name}"),
                format!("Confirm your address for {name}"),
                self.initiation()
                    .into_iter()
                    .chain([format!(
                        "Someone asked to join {name} with this address, {to}. Confirm that it is yours to finish signing up."
                    )])
                    .collect(),
                action("Confirm my address".into()),
                vec![
                    "If it was not you, ignore this message: nothing is created without it."
                        .to_string(),
                ],
            ),
            LetterKind::Invitation => (
                format!("You are invited to {name}"),
                format!("You are invited to {name}"),
                self.initiation()
                    .into_iter()
                    .chain([format!(
                        "You now have access to the {name} partner portal as {to}."
                    )])
                    .collect(),
                action(format!("Open {name}")),
                vec![format!(
                    "You sign in with this address: the portal sends a one-time link to {to} each time."
                )],
            ),
            LetterKind::Approved => (
                format!("Your access to {name} is approved"),
                format!("Welcome to {name}"),
                vec![format!(
                    "Your registration for {name} as {to} was approved: you can sign in now."
                )],
                action(format!("Open {name}")),
                Vec::new(),
            ),
            LetterKind::Refused => (
                format!("Your registration for {name} was not approved"),
                "Your registration was not approved".to_string(),
                vec![format!(
                    "Your registration for {name} as {to} was not approved. If you think this is a mistake, contact your partner manager."
                )],
                None,
                Vec::new(),
            ),
            LetterKind::AccessRemoved => (
                format!("Your access to {name} has ended"),
                format!("Your access to {name} has ended"),
                vec![format!(
                    "Your access to the {name} partner portal as {to} has ended. If you think this is a mistake, contact your partner manager."
                )],
                None,
                Vec::new(),
            ),
        };
        if paragraphs.is_empty() {
            paragraphs.push(String::new());
        }
        if action.is_some()
            && let Some(validity) = validity
        {
            notes.insert(0, validity);
        }
        Content {
            subject,
            portal_name: name.clone(),
            color: self.branding.color.clone(),
            on_color: text_color_on(&self.branding.color),
            heading,
            paragraphs,
            action,
            notes,
            help_url: self.branding.help_url.clone(),
        }
    }

    fn initiation(&self) -> Option<String> {
        self.branding
            .initiation
            .as_ref()
            .filter(|text| !text.trim().is_empty())
            .cloned()
    }
}

/// `15 minutes`, `1 hour`, `2 days`.
fn duration_words(minutes: u32) -> String {
    let (count, unit) = if minutes.is_multiple_of(24 * 60) {
        (minutes / (24 * 60), "day")
    } else if minutes.is_multiple_of(60) {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branding() -> Branding {
        Branding {
            portal_name: "Globex <Partners>".into(),
            color: "#0F62FE".into(),
            initiation: Some("Welcome, partner & friend.".into()),
            help_url: Some("https://help.acme.io/portal".into()),
        }
    }

    fn letter(kind: LetterKind, link: Option<&str>) -> Composed {
        let branding = branding();
        Letter {
            kind,
            branding: &branding,
            to: "alice@globex.com",
            link,
            link_valid_minutes: matches!(kind, LetterKind::SignInLink | LetterKind::SignUpVerification)
                .then_some(15),
        }
        .compose()
    }

    #[test]
    fn every_kind_has_both_parts_with_its_link() {
        let link = "https://portals.acme.io/p/globex/?email=alice%40globex.com&x=1";
        for kind in LetterKind::ALL {
            let with_link = !matches!(kind, LetterKind::Refused | LetterKind::AccessRemoved);
            let composed = letter(kind, with_link.then_some(link));
            assert!(
                composed.subject.contains("Globex <Partners>"),
                "{kind}: {}",
                composed.subject
            );
            assert!(composed.text.contains("Globex <Partners>"), "{kind}");
            assert!(
                composed.html.contains("Globex &#60;Partners&#62;"),
                "{kind}: {}",
                composed.html
            );
            assert!(!composed.html.contains("<Partners>"), "{kind}: not escaped");
            assert!(composed.html.contains("background:#0F62FE"), "{kind}");
            assert!(
                composed.text.contains("Help: https://help.acme.io/portal"),
                "{kind}"
            );
            assert_eq!(composed.text.contains(link), with_link, "{kind}");
            assert_eq!(composed.html.contains("x=1"), with_link, "{kind}");
        }
    }

    #[test]
    fn names_each_kind_on_the_wire_and_back() {
        for kind in LetterKind::ALL {
            assert_eq!(LetterKind::from_wire(kind.wire_name()), Some(kind));
        }
        assert_eq!(LetterKind::from_wire("newsletter"), None);
    }

    #[test]
    fn says_how_long_a_link_works() {
        let composed = letter(LetterKind::SignInLink, Some("https://x.example/l"));
        assert!(composed.text.contains("The link works once, for 15 minutes."));
        assert_eq!(duration_words(60), "1 hour");
        assert_eq!(duration_words(2 * 24 * 60), "2 days");
        assert_eq!(duration_words(90), "90 minutes");
    }

    #[test]
    fn renders_an_invitation() {
        let composed = letter(LetterKind::Invitation, Some("https://portals.acme.io/p/globex/"));
        insta::assert_snapshot!(format!("Subject: {}\n\n{}", composed.subject, composed.text));
    }
}
