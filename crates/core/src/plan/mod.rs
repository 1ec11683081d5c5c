//! Planning: the pure middle between a desired and a live [`State`]. [`diff`] compares
//! the two field by field and orders the result so that it can be applied; [`expiry`]
//! explains which grants lapsed; [`safety`] refuses plans a careful operator would not
//! run; [`mod@file`] saves a plan without its sensitive values.
//!
//! **Architecture invariant:** this module does no I/O, reads no clock and no
//! environment: "today" is passed in as a [`CalendarDate`]. Output is deterministic: the
//! same two states always give the same plan, in the same order.
//!
//! [`State`]: crate::model::State
//! [`CalendarDate`]: crate::model::CalendarDate

mod diff;
pub mod expiry;
mod field;
pub mod file;
mod order;
mod resource_change;
pub mod safety;
mod summary;
pub mod templates;

#[cfg(test)]
mod loop_tests;
#[cfg(test)]
mod roundtrip_tests;

pub use diff::{diff, plan};
pub use expiry::{Expired, ExpiringSoon};
pub use field::{FieldChange, FieldDelta, SENSITIVE_MASK};
pub use file::{
    PlanFile, PlanFileError, PlanFileHeader, SensitiveOwner, SensitiveValue, without_credentials,
};
pub use resource_change::{
    Action, ChangeReason, ManagedByOrg, Plan, RegistrationModelChange, ResourceChange, SeatsLeft,
};
pub use safety::{Limits, Refusal};
pub use summary::{KindCounts, Summary};
pub use templates::{TemplateChange, template_changes};
