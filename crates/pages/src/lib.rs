//! The partner pages of `portalctl serve`, rendered on the server.
//!
//! Pure: a view model in, HTML out; no I/O, no clock, no randomness (the server passes
//! CSRF tokens and secrets in). One template struct per page, all extending one layout
//! (`templates/base.html`): askama checks every template and every field it reads at
//! compile time. The pages need no script; styles come from one vendored stylesheet
//! ([`STYLESHEET`], served at [`stylesheet_path`] with a long cache lifetime) and a tiny
//! per-portal one with the brand colours ([`theme_css`]), so the Content-Security-Policy
//! allows no inline script or style.
//!
//! Issues 23 (staff console) and 24 (partner admins) build their pages on the same layout,
//! [`Theme`] and stylesheet.

pub mod console;

use std::sync::OnceLock;

use askama::Template;
use sha2::Digest;

/// The stylesheet every page links.
pub const STYLESHEET: &str = include_str!("../assets/portal.css");

/// Where the stylesheet is served: its name carries a hash of its content, so it can be
/// cached for a year and a new version is a new URL.
pub fn stylesheet_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| format!("/assets/portal-{}.css", short_hash(STYLESHEET)))
}

fn short_hash(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    digest[..6].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// An `#RRGGBB` colour's channels, `None` for anything else.
fn channels(color: &str) -> Option<[u8; 3]> {
    let hex = color.strip_prefix('#')?;
    if hex.len() != 6 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |at: usize| u8::from_str_radix(&hex[at..at + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// The relative luminance of a colour (WCAG 2).
fn luminance([red, green, blue]: [u8; 3]) -> f64 {
    let linear = |channel: u8| {
        let value = f64::from(channel) / 255.0;
        if value <= 0.039_28 {
            value / 12.92
        } else {
            ((value + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
}

/// The WCAG contrast ratio of two luminances.
fn contrast(a: f64, b: f64) -> f64 {
    let (light, dark) = if a > b { (a, b) } else { (b, a) };
    (light + 0.05) / (dark + 0.05)
}

/// Text on `color`: black or white, whichever contrasts more (at least 4.5:1 for any
/// colour, since one of the two always reaches it).
pub fn text_color_on(color: &str) -> &'static str {
    let Some(channels) = channels(color) else {
        return "#ffffff";
    };
    let background = luminance(channels);
    if contrast(background, 0.0) >= contrast(background, 1.0) {
        "#000000"
    } else {
        "#ffffff"
    }
}

/// The per-portal stylesheet: the brand colour and the text colour that reads on it.
pub fn theme_css(color: &str) -> String {
    let color = if channels(color).is_some() {
        color
    } else {
        "#0f62fe"
    };
    format!(
        ":root {{ --brand: {color}; --on-brand: {}; }}\n",
        text_color_on(color)
    )
}

/// What every page shows of its portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// The portal's display name.
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    pub home_cover: Option<String>,
    pub help_url: Option<String>,
    /// The path prefix of the portal's pages: `/p/globex`, or empty when the portal is
    /// served on a host of its own.
    pub base: String,
    /// The shared stylesheet's path.
    pub stylesheet: &'static str,
    /// Changes with the colour, so a browser fetches the portal stylesheet again.
    pub theme_version: String,
}

impl Theme {
    pub fn new(
        name: &str,
        color: &str,
        home_cover: Option<&str>,
        help_url: Option<&str>,
        base: &str,
    ) -> Self {
        Self {
            name: name.to_string(),
            color: color.to_string(),
            home_cover: home_cover.map(str::to_string),
            help_url: help_url.map(str::to_string),
            base: base.to_string(),
            stylesheet: stylesheet_path(),
            theme_version: color.trim_start_matches('#').to_ascii_lowercase(),
        }
    }
}

/// The sign-in page: one `email` input.
#[derive(Debug, Template)]
#[template(path = "sign_in.html")]
pub struct SignIn {
    pub theme: Theme,
    pub csrf: String,
    /// The address typed, shown again after an error.
    pub email: String,
    pub error: Option<String>,
    /// Whether the portal takes sign-ups (a link to the sign-up page).
    pub sign_up: bool,
}

/// A page that only says something: a link was sent, a link is no longer valid, access
/// ended.
#[derive(Debug, Template)]
#[template(path = "message.html")]
pub struct Message {
    pub theme: Theme,
    pub title: String,
    pub paragraphs: Vec<String>,
    /// A button: where it goes, and its label.
    pub link: Option<(String, String)>,
}

/// The landing of a link from a mail: one button that posts the token, so a mail
/// scanner that fetches the link does not use it up.
#[derive(Debug, Template)]
#[template(path = "confirm.html")]
pub struct Confirm {
    pub theme: Theme,
    pub csrf: String,
    pub title: String,
    pub explanation: String,
    pub button: String,
    pub action: String,
    pub token: String,
}

/// One folder or dashboard on the home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeItem {
    pub path: String,
    /// `folder` or `dashboard`.
    pub kind: String,
    /// `view` or `edit`.
    pub level: String,
    /// The permissions, comma-separated.
    pub permissions: String,
}

/// A partner's home.
#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct Home {
    pub theme: Theme,
    pub csrf: String,
    pub email: String,
    pub items: Vec<HomeItem>,
    /// Non-sensitive attributes: name, value.
    pub attributes: Vec<(String, String)>,
    /// The first-login text, on the first home page after the first sign-in only.
    pub first_login: Option<String>,
    /// Whether the partner manages their org's people here (a link to the People page).
    pub manages_people: bool,
}

/// Enrolment of an authenticator.
#[derive(Debug, Template)]
#[template(path = "totp_enrol.html")]
pub struct TotpEnrol {
    pub theme: Theme,
    pub csrf: String,
    /// The key in base32.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code ([`qr_svg`]).
    pub qr_svg: String,
    pub error: Option<String>,
}

/// The second step of a sign-in with 2FA.
#[derive(Debug, Template)]
#[template(path = "totp_verify.html")]
pub struct TotpVerify {
    pub theme: Theme,
    pub csrf: String,
    pub error: Option<String>,
}

/// The recovery codes, shown once after enrolment.
#[derive(Debug, Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodes {
    pub theme: Theme,
    pub codes: Vec<String>,
}

/// One input of the sign-up form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignUpField {
    /// The attribute's name, also the input's.
    pub name: String,
    pub label: String,
    /// The allowed values of an enum attribute (a select); empty for free text.
    pub options: Vec<String>,
    pub value: String,
    pub required: bool,
}

/// One person on the People page: someone the partner admin's org added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub email: String,
    pub role: String,
}

/// A member of the org on the People page whom its admins do not manage.
#[derive(Debug, Clone)]
pub struct OtherPerson {
    pub email: String,
    pub role: String,
    /// Where they come from: "declared in git" or "self-registered".
    pub origin: String,
}

/// The People page of a partner admin: the org's people in this portal, an invitation
/// form, a role and a remove form per person.
#[derive(Debug, Template)]
#[template(path = "people.html")]
pub struct People {
    pub theme: Theme,
    pub csrf: String,
    pub org: String,
    /// The workspace's name: who manages the people declared in git.
    pub vendor: String,
    /// The org's domains, comma-separated.
    pub domains: String,
    pub max_role: String,
    pub default_role: String,
    /// The roles an admin may give (up to `max_role`), sorted.
    pub roles: Vec<String>,
    pub people: Vec<Person>,
    /// The org's other members of this portal (declared in git, or self-registered):
    /// listed read-only, with their role and where they come from, and no form.
    pub others: Vec<OtherPerson>,
    /// The invitation form's self-service attributes.
    pub fields: Vec<SignUpField>,
    /// The address typed, shown again after an error.
    pub email: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// The sign-up page.
#[derive(Debug, Template)]
#[template(path = "sign_up.html")]
pub struct SignUp {
    pub theme: Theme,
    pub csrf: String,
    pub initiation: Option<String>,
    pub email: String,
    /// The allowed domains, for the hint ("globex.com or globex.de").
    pub domains: String,
    pub fields: Vec<SignUpField>,
    pub error: Option<String>,
}

/// `text` as an SVG QR code (no XML declaration: for inlining in a page).
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(192, 192)
                .quiet_zone(true)
                .build();
            match svg.find("<svg") {
                Some(at) => svg[at..].to_string(),
                None => svg,
            }
        }
        Err(_) => String::new(),
    }
}

/// Renders any page; a template that cannot render (it cannot happen: the templates are
/// checked at compile time and write to a string) becomes a short plain page.
pub fn render(page: &impl Template) -> String {
    page.render()
        .unwrap_or_else(|_| "<!doctype html><title>Error</title><p>This page could not be shown.</p>".into())
}

#[cfg(test)]
mod tests;
