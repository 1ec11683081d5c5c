//! End-to-end tests: the real binary, in temp dirs, with servers on port 0.

mod concurrency;
mod reconcile;
mod review;
mod schema;
mod server;
#[allow(dead_code, reason = "each test module uses a different subset of the helpers")]
mod support;
mod validate;
