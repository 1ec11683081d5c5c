//! End-to-end tests: the real binary, in temp dirs, with servers on port 0.

mod access_model;
mod cascades;
mod cli;
mod concurrency;
mod hostile;
mod output_schemas;
mod outputs;
mod pending;
mod reconcile;
mod replicas;
mod review;
mod rules;
mod schema;
mod schema_mistakes;
mod server;
mod support;
mod templates;
mod validate;
