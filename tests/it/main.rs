//! End-to-end tests: the real binary, in temp dirs, with servers on port 0.

mod schema;
mod support;
mod validate;
