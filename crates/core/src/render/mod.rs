//! Rendering plans for people and tools: [`text`] for a terminal, [`json`] for tools
//! (a versioned wire contract), [`markdown`] for a pull-request comment; and [`rules`],
//! the list and explanations of the rules diagnostics name (`portalctl rules`).
//!
//! Every other output document has its one home here as well, each with the forms its
//! command offers: [`drift`], [`explain`], [`history`] and [`validate`].
//!
//! **Architecture invariant:** renderers are pure functions from a [`PlanReport`] to a
//! `String`: no I/O, no clock, no environment (the caller decides about colour). They
//! read only [`crate::plan::ResourceChange::fields`], where sensitive values are
//! already masked, never the raw values, so no format can show a sensitive value.
//!
//! Every format has the same sections, in this order: the access impact (who gains and
//! loses access to which folder, with totals; only when the caller computed one), the
//! context (target, commit), the resource changes, the notices, the summary. With
//! [`PlanReport::redact_emails`], every email anywhere in the output is shown as
//! [`redact_email`] gives it.

pub mod drift;
pub mod explain;
pub mod history;
pub mod impact;
pub mod json;
mod lines;
pub mod markdown;
mod notice;
mod redact;
pub mod rules;
pub mod text;
pub mod validate;

#[cfg(test)]
pub(crate) mod fixture;

use crate::access::ImpactView;
use crate::plan::Plan;

pub use redact::{RedactingWriter, redact_email, redact_text};

/// A plan with the context the caller knows.
#[derive(Debug, Clone, Copy)]
pub struct PlanReport<'a> {
    pub plan: &'a Plan,
    /// The target's display name (no credentials), e.g. `sqlite:portalctl.db`.
    pub target: &'a str,
    /// The SHA-256 (hex) of the config files, when known.
    pub config_digest: Option<&'a str>,
    /// The git commit of the config, when it is in a repository.
    pub git_commit: Option<&'a str>,
    /// Who gains or loses access, rendered first; `None` leaves the section out.
    pub access_impact: Option<&'a dyn ImpactView>,
    /// Show every email as [`redact_email`] gives it (`--redact-emails`).
    pub redact_emails: bool,
    /// The owners whose approval the plan needs (markdown names them); `None` or empty
    /// leaves the section out.
    pub approvals: Option<&'a crate::assurance::owners::Approvals>,
    /// The command whose output this is, for the markdown heading: `portalctl plan`,
    /// `portalctl diff`.
    pub command: &'a str,
}

impl<'a> PlanReport<'a> {
    pub fn new(plan: &'a Plan, target: &'a str) -> Self {
        Self {
            plan,
            target,
            config_digest: None,
            git_commit: None,
            access_impact: None,
            redact_emails: false,
            approvals: None,
            command: "portalctl plan",
        }
    }
}

/// `1 portal`, `3 portals`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// An RFC 3339 time without its fraction of a second: `2026-11-30T03:09:13Z`. The store
/// keeps nanoseconds, which a report or a log for people has no use for.
pub fn whole_seconds(time: &str) -> String {
    match time.find('.') {
        Some(dot) => {
            let rest = &time[dot + 1..];
            let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            format!("{}{}", &time[..dot], &rest[digits..])
        }
        None => time.to_string(),
    }
}

pub use notice::Notice;
pub(crate) use notice::pending_message;
pub use notice::{approve_hint, managed_list, pending_list};

#[cfg(test)]
mod tests {
    #[test]
    fn whole_seconds_drops_only_the_fraction() {
        for (time, expected) in [
            ("2026-11-30T03:09:13.123456789Z", "2026-11-30T03:09:13Z"),
            ("2026-11-30T03:09:13Z", "2026-11-30T03:09:13Z"),
            ("2026-11-30T03:09:13.5+02:00", "2026-11-30T03:09:13+02:00"),
        ] {
            assert_eq!(super::whole_seconds(time), expected, "{time}");
        }
    }

    #[test]
    fn counts_read_as_english() {
        assert_eq!(super::count(1, "portal"), "1 portal");
        assert_eq!(super::count(0, "warning"), "0 warnings");
        assert_eq!(super::count(2, "share"), "2 shares");
    }
}
