//! End-to-end tests: the real binary, in temp dirs, with servers on port 0.

mod abuse;
mod access_model;
mod assurance;
mod cascades;
mod cli;
mod concurrency;
mod first_steps;
mod hostile;
mod live_owned;
mod masking;
mod output_schemas;
mod outputs;
mod partner_pages;
mod pending;
mod readme;
mod reconcile;
mod replicas;
mod review;
mod review_campaign;
mod rules;
mod schema;
mod schema_mistakes;
mod server;
mod support;
mod templates;
mod validate;
