//! Portals: branded partner portals, keyed by a DNS-label technical name.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Portal {
    /// Display name; not blank.
    #[schemars(extend("pattern" = super::patterns::NOT_BLANK_PATTERN))]
    pub name: String,
    /// Brand colour, `#RRGGBB`.
    #[schemars(extend("pattern" = super::patterns::COLOR_PATTERN))]
    pub color: String,
    /// Absolute https URL partners land on after logging out.
    #[schemars(extend("pattern" = super::patterns::HTTPS_URL_PATTERN))]
    pub logout_url: String,
    /// Absolute https URL of the home page cover image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = super::patterns::HTTPS_URL_PATTERN))]
    pub home_cover: Option<String>,
    #[serde(default)]
    pub session_ttl: SessionTtl,
    #[serde(default)]
    pub require_2fa: bool,
    // Boxed, like `texts`, to keep a `Change` small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_registration: Option<Box<SelfRegistration>>,
    /// While the live portal says `protect: true`, it cannot be deleted.
    #[serde(default)]
    pub protect: bool,
    /// Texts partners see: the initiation text, the first-login dialog, the help link.
    // Boxed: most portals have none, and a `Change` carries a whole portal.
    #[serde(default, skip_serializing_if = "PortalTexts::is_empty")]
    pub texts: Box<PortalTexts>,
    /// At most this many members; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_members: Option<u32>,
    /// Mail an invitation to each member added by `apply` or the admin API (and to each
    /// pending registration when it is approved); default true. Self-registered members
    /// verified their address and get no invitation.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub invitations: bool,
    /// Mail a notice to each member removed from the portal; default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removal_notice: bool,
    /// The portal template this portal's unset fields come from. Templates are written in
    /// the config; the portal keeps the template's name and which of its fields came from
    /// it, so plans group a template change and the API shows where a value came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The fields (`color`, `texts.help_url`, ...) whose value is the template's.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub from_template: BTreeSet<String>,
}

fn yes() -> bool {
    true
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_true(value: &bool) -> bool {
    *value
}

/// What partners read in a portal (reference: "Partner Portal Initiation Text", the
/// "First Time" dialog, the "Help" link).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PortalTexts {
    /// Shown to a partner invited to the portal; at most 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    pub initiation: Option<String>,
    /// The dialog shown at a partner's first login; at most 2000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    pub first_login: Option<String>,
    /// Absolute https URL of the portal's help page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = super::patterns::HTTPS_URL_PATTERN))]
    pub help_url: Option<String>,
}

impl PortalTexts {
    /// The longest text a partner is shown, in characters.
    pub const MAX_CHARS: usize = 2000;

    pub fn is_empty(&self) -> bool {
        self.initiation.is_none() && self.first_login.is_none() && self.help_url.is_none()
    }
}

/// Enabled self-registration needs allowed domains (the rules refuse it without).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [
    { "properties": { "enabled": { "type": "boolean", "enum": [false] } } },
    { "properties": { "allowed_domains": { "minItems": 1 } }, "required": ["allowed_domains"] }
]))]
pub struct SelfRegistration {
    pub enabled: bool,
    pub default_role: String,
    /// Email domains that may sign up: `example.com` admits exactly that domain,
    /// `*.example.com` its subdomains.
    #[serde(default)]
    #[schemars(extend("items" = { "type": "string", "pattern": super::patterns::ALLOWED_DOMAIN_PATTERN }))]
    pub allowed_domains: BTreeSet<String>,
    /// Groups a self-registered partner joins, so they see the folders shared with them.
    /// Changing this list affects partners who register afterwards, not existing members.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub groups: BTreeSet<String>,
    /// `required`: a registration is pending (it grants nothing, and joins no group) until
    /// an admin approves it (`POST /v1/portals/{portal}/members/{email}/approve`) or the
    /// config lists the member. Pending registrations count toward seat limits.
    #[serde(default, skip_serializing_if = "Approval::is_default")]
    pub approval: Approval,
}

impl SelfRegistration {
    /// Whether a new registration waits for an admin's approval.
    pub fn needs_approval(&self) -> bool {
        self.approval == Approval::Required
    }
}

/// Whether a self-registration waits for an admin's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// A registration grants access at once.
    #[default]
    None,
    /// A registration is pending until an admin approves it.
    Required,
}

impl Approval {
    /// Whether this is the default (`none`), which configs and the API leave out.
    pub fn is_default(&self) -> bool {
        *self == Self::None
    }
}

/// How long a portal session lasts, written `18h`, `90m`, `1h30m`; within 5m..24h.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionTtl {
    minutes: u32,
}

impl SessionTtl {
    pub const MIN_MINUTES: u32 = 5;
    pub const MAX_MINUTES: u32 = 24 * 60;

    pub fn from_minutes(minutes: u32) -> Self {
        Self { minutes }
    }

    pub fn minutes(self) -> u32 {
        self.minutes
    }

    pub fn in_range(self) -> bool {
        (Self::MIN_MINUTES..=Self::MAX_MINUTES).contains(&self.minutes)
    }
}

impl Default for SessionTtl {
    fn default() -> Self {
        Self { minutes: 18 * 60 }
    }
}

impl FromStr for SessionTtl {
    type Err = String;

    /// `Nh`, `Nm` or `NhMm` with M < 60, numbers without leading zeros (what
    /// [`fmt::Display`] writes, and `Nm` for any N), so one duration has few spellings and
    /// a pattern states the range exactly (`patterns::SESSION_TTL_IN_RANGE_PATTERN`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            format!(
                "`{text}` is not a duration: expected e.g. `18h`, `90m` or `1h30m` (minutes below 60 after hours)"
            )
        };
        let number = |digits: &str| -> Result<u64, String> {
            let leading_zero = digits.len() > 1 && digits.starts_with('0');
            if digits.is_empty() || leading_zero || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid());
            }
            Ok(digits.parse::<u64>().unwrap_or(u64::MAX))
        };
        let text_trimmed = text.trim();
        let minutes = if let Some((hours, rest)) = text_trimmed.split_once('h') {
            let hours = number(hours)?.saturating_mul(60);
            match rest {
                "" => hours,
                rest => {
                    let minutes = number(rest.strip_suffix('m').ok_or_else(invalid)?)?;
                    if minutes >= 60 {
                        return Err(invalid());
                    }
                    hours.saturating_add(minutes)
                }
            }
        } else {
            number(text_trimmed.strip_suffix('m').ok_or_else(invalid)?)?
        };
        Ok(Self {
            minutes: u32::try_from(minutes).unwrap_or(u32::MAX),
        })
    }
}

impl fmt::Display for SessionTtl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hours, minutes) = (self.minutes / 60, self.minutes % 60);
        match (hours, minutes) {
            (0, m) => write!(f, "{m}m"),
            (h, 0) => write!(f, "{h}h"),
            (h, m) => write!(f, "{h}h{m}m"),
        }
    }
}

impl Serialize for SessionTtl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionTtl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for SessionTtl {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SessionTtl".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": super::patterns::SESSION_TTL_IN_RANGE_PATTERN,
            "description": "Session length such as 18h, 90m or 1h30m (minutes below 60 after hours); between 5m and 24h"
        })
    }
}

/// Whether `name` is a DNS label: lowercase a-z, 0-9 and `-`, 1 to 63 characters, no
/// leading or trailing `-`.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Whether `color` is `#RRGGBB`.
pub fn is_hex_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether `url` is an absolute `https://` URL with a host.
pub fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty()
            && !host.contains(char::is_whitespace)
            && !url.contains(|c: char| c.is_whitespace() || c.is_control())
    })
}

/// Whether `domain` is admitted by the `allowed_domains` entry `allowed`: exactly that
/// domain, or, for `*.example.com`, any subdomain of `example.com` (not `example.com`
/// itself: list it too to admit it).
pub fn admits_domain(allowed: &str, domain: &str) -> bool {
    match allowed.strip_prefix("*.") {
        Some(parent) => domain
            .strip_suffix(parent)
            .is_some_and(|rest| rest.len() > 1 && rest.ends_with('.')),
        None => domain == allowed,
    }
}

/// Whether `entry` is an `allowed_domains` entry: a domain, or `*.` and a domain.
pub fn is_allowed_domain(entry: &str) -> bool {
    let domain = entry.strip_prefix("*.").unwrap_or(entry);
    crate::model::is_valid_email(&format!("x@{domain}")) && domain == domain.to_ascii_lowercase()
}

impl super::ResourceApi for Portal {
    const ITEM_PATH: &'static str = "/v1/portals/{technical_name}";
    const NOUN: &'static str = "portal";
    const DESCRIPTION: &'static str = "Partner portals.";
    const KEY_PARTS: &'static [super::KeyPart] = &[super::KeyPart::PortalName];

    fn attribute_owner(_: &[String]) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_durations() {
        for (text, minutes, canonical) in [
            ("18h", 1080, "18h"),
            ("90m", 90, "1h30m"),
            ("1h30m", 90, "1h30m"),
            ("5m", 5, "5m"),
        ] {
            let ttl: SessionTtl = text.parse().unwrap();
            assert_eq!(ttl.minutes(), minutes);
            assert_eq!(ttl.to_string(), canonical);
        }
        for bad in [
            "", "18", "h", "18x", "1.5h", "-5m", "1m1m", "1h90m", "1h60m", "05m", "m", "1h30", "1hm", "+5m",
        ] {
            assert!(bad.parse::<SessionTtl>().is_err(), "{bad}");
        }
        assert!(!"25h".parse::<SessionTtl>().unwrap().in_range());
        assert!(!"4m".parse::<SessionTtl>().unwrap().in_range());
    }

    #[test]
    fn checks_dns_labels_colors_and_urls() {
        assert!(is_dns_label("globex-emea2"));
        for bad in ["", "-x", "x-", "Globex", "a_b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert!(is_hex_color("#0F62FE"));
        assert!(!is_hex_color("0F62FE") && !is_hex_color("#0F62F") && !is_hex_color("#0G62FE"));
        assert!(is_https_url("https://acme.io/partners/bye"));
        assert!(!is_https_url("http://acme.io") && !is_https_url("https://") && !is_https_url("/bye"));
        assert!(!is_https_url("https://acme.io/\u{0}") && !is_https_url("https://acme.io/a\u{7f}b"));
        for (allowed, domain, admitted) in [
            ("fabrikam.com", "fabrikam.com", true),
            ("fabrikam.com", "sub.fabrikam.com", false),
            ("*.fabrikam.com", "sub.fabrikam.com", true),
            ("*.fabrikam.com", "a.b.fabrikam.com", true),
            ("*.fabrikam.com", "fabrikam.com", false),
            ("*.fabrikam.com", "evilfabrikam.com", false),
        ] {
            assert_eq!(admits_domain(allowed, domain), admitted, "{allowed} {domain}");
        }
        assert!(is_allowed_domain("*.fabrikam.com") && is_allowed_domain("fabrikam.com"));
        assert!(
            !is_allowed_domain("*fabrikam.com") && !is_allowed_domain("*.") && !is_allowed_domain("a.*.com")
        );
    }
}
