//! portalctl: access-as-code for partner portals.
//!
//! See `ARCHITECTURE.md` for the bird's-eye view. The binary only calls [`run`].

pub mod access;
pub mod cli;
pub mod config;
pub mod drift;
pub mod export;
pub mod generate;
pub mod gitops;
pub mod model;
pub mod plan;
pub mod provider;
pub mod render;
pub mod server;
pub mod store;
pub mod suggest;

pub use cli::run;
