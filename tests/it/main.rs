//! End-to-end tests: the real binary, in temp dirs, with servers on port 0.

mod cli;
mod concurrency;
mod hostile;
mod reconcile;
mod replicas;
mod review;
mod schema;
mod server;
mod support;
mod validate;
