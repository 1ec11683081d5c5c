//! The service's wire contract: request and response bodies, the audit log's entries and
//! the problems of a refused batch. These types are shared by the server (which writes
//! them), the store (which keeps audit entries) and the clients (which read them), so they
//! live here, below all three, rather than in any one of them.
//!
//! **Architecture invariant:** plain data with serde and schemars derives; no I/O.

mod audit;
mod error_body;
mod problem;
pub mod wire;

pub use audit::{AuditEntry, ChangeMeta, MASK, RevealEntry, RevealPage, masked_changes_json, plan_id};
pub use error_body::{ErrorBody, ErrorDetail};
pub use problem::{MAX_LISTED_PROBLEMS, Problem, Problems, from_change_errors, from_violations};
