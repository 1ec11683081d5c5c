//! End-to-end tests: the real binary, in temp dirs, with servers on port 0.
//!
//! Modules are arranged by what they exercise, so a test of a command is found in the
//! command's module:
//! - by command: one module per `portalctl` command (`validate`, `plan`, `apply`, ...;
//!   `tokens` is `token` and the service's tokens; `cli` the command line as a whole: help,
//!   completions, man page, colour), each with reviewed insta snapshots of the command's
//!   text output on the shipped examples (`snapshots/it__MODULE__NAME.snap`);
//! - cross-cutting: tests that chain commands (`workflow`), how every command reaches its
//!   target (`targets`), concurrency, hostile input, replicas, abuse of `serve`, and the
//!   features checked through several commands at once (assertions, templates, the JSON
//!   output schemas, the schema's mistake corpus, the README's examples);
//! - service surfaces: what `portalctl serve` answers, one module per surface (admin API,
//!   partner pages, console, people, SCIM, mail, and the access model, masking and pending
//!   registrations through it);
//! - harness: shared helpers (`support`), the browser and the SMTP sink.

// By command.
mod apply;
mod approve;
mod cli;
mod codeowners;
mod diff;
mod drift;
mod explain;
mod history;
mod import;
mod outbox;
mod plan;
mod report;
mod review;
mod rules;
mod schema;
mod tokens;
mod validate;

// Cross-cutting.
mod abuse;
mod assurance;
mod concurrency;
mod hostile;
mod output_schemas;
mod readme;
mod replicas;
mod schema_mistakes;
mod targets;
mod templates;
mod workflow;

// Service surfaces.
mod access_model;
mod console;
mod mail;
mod masking;
mod partner_pages;
mod pending;
mod people;
mod scim;
mod server;

// Harness.
mod browser;
mod mail_harness;
mod support;
