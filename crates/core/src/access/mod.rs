//! Effective access: which folders a partner can see, at which level, and every path
//! that grants it (a direct `user:` share, a group, a portal).
//!
//! **Architecture invariant:** this module is pure. It does no I/O and reads no clock:
//! `today` is a parameter, so the same `State` and day always give the same answer.
//!
//! The rules:
//! - a partner needs at least one active portal membership to see anything;
//! - a share reaches `user:e` itself, every member of `group:g`, and every active member
//!   of `portal:p`;
//! - a membership or share grants while `expires >= today` (the day is the last one that
//!   still grants) and nothing afterwards;
//! - a share on a folder applies to the folder and every declared sub-folder and
//!   dashboard; a share on a dashboard applies to the dashboard only;
//! - the effective level is the highest of all grants (`edit` over `view`).
//!
//! [`impact`] compares two states for the partners a plan touches: who gains or loses
//! access to which folder, and through which grant.

mod impact;
mod index;

pub use impact::{
    AccessChange, AccessImpact, ImpactCounts, ImpactSummary, ImpactView, ImpactWalk, impact, impact_summary,
};
pub use index::{AccessIndex, AccessSignature, ContentKind, FolderAccess, Grant, GrantKind};
