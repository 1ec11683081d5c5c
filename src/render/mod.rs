//! Rendering plans for people and tools: [`text`] for a terminal, [`json`] for tools
//! (a versioned wire contract), [`markdown`] for a pull-request comment.
//!
//! **Architecture invariant:** renderers are pure functions from a [`PlanReport`] to a
//! `String`: no I/O, no clock, no environment (the caller decides about colour). They
//! read only [`crate::plan::ResourceChange::fields`], where sensitive values are
//! already masked, never the raw values, so no format can show a sensitive value.
//!
//! Every format has the same sections, in this order: access impact (reserved: a later
//! change adds who gains and loses access, and it goes first), the context (target,
//! commit), the resource changes, the notices, the summary.

pub mod json;
mod lines;
pub mod markdown;
mod notice;
pub mod text;

#[cfg(test)]
mod fixture;

use crate::plan::Plan;

/// A plan with the context the caller knows.
///
/// Access impact (issue 5) joins here as one more field, e.g.
/// `access_impact: Option<&'a AccessImpact>`; each renderer marks the spot at its top
/// with `// Slot: access impact`, before anything else is written.
#[derive(Debug, Clone, Copy)]
pub struct PlanReport<'a> {
    pub plan: &'a Plan,
    /// The target's display name (no credentials), e.g. `sqlite:portalctl.db`.
    pub target: &'a str,
    /// The SHA-256 (hex) of the config files, when known.
    pub config_digest: Option<&'a str>,
    /// The git commit of the config, when it is in a repository.
    pub git_commit: Option<&'a str>,
}

impl<'a> PlanReport<'a> {
    pub fn new(plan: &'a Plan, target: &'a str) -> Self {
        Self {
            plan,
            target,
            config_digest: None,
            git_commit: None,
        }
    }
}

pub use notice::Notice;
