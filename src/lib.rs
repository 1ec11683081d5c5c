//! portalctl: access-as-code for partner portals. This crate is the command line; the
//! library crates under `crates/` do the work (see `ARCHITECTURE.md`). The binary only
//! calls [`run`].

pub mod cli;

pub use cli::run;
