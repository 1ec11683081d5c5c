//! The pure core of portalctl: the canonical model and its rules, loading configs from a
//! [`config::ConfigSource`], planning, effective access and its impact, rendering, drift
//! classification, export, and the service's wire types.
//!
//! **Architecture invariant:** no I/O. This crate's dependency tree holds no tokio,
//! reqwest, axum, rusqlite or git2; its code reads no file, clock or environment and
//! spawns threads in one place only ([`config`]'s parallel file parsing). The clock and
//! "today" come in as values, read once per command by the caller. `tests/tidy.rs`
//! enforces what the dependency graph cannot.

pub mod access;
pub mod api;
pub mod assurance;
pub mod config;
pub mod drift;
pub mod export;
pub mod model;
pub mod plan;
pub mod render;
