//! A fresh PostgreSQL database per test, for the tests of every crate that need one.
//!
//! Tests read the server's URL from `PORTALCTL_TEST_POSTGRES`; without it they are skipped
//! (they say so on stderr). Each [`TestDatabase`] has a random name and is dropped (with
//! its connections) when the value is.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::DatabaseUrl;
use crate::postgres::connect;

/// The variable holding the URL of the PostgreSQL server tests may use.
pub const TEST_POSTGRES_VARIABLE: &str = "PORTALCTL_TEST_POSTGRES";

/// A database created for one test and dropped after it.
pub struct TestDatabase {
    server: DatabaseUrl,
    name: String,
    url: DatabaseUrl,
}

impl TestDatabase {
    /// A new empty database, or `None` (with a note on stderr) when
    /// `PORTALCTL_TEST_POSTGRES` is not set.
    ///
    /// # Panics
    /// When the variable is set but the server cannot be reached: a test that was asked to
    /// run on PostgreSQL must not pass without it.
    #[must_use]
    pub fn create() -> Option<Self> {
        let Ok(text) = std::env::var(TEST_POSTGRES_VARIABLE) else {
            eprintln!("skipped: set {TEST_POSTGRES_VARIABLE}");
            return None;
        };
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let server =
            DatabaseUrl::parse(&text).unwrap_or_else(|error| panic!("{TEST_POSTGRES_VARIABLE}: {error}"));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let name = format!(
            "portalctl_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let mut client = connect(&server).unwrap_or_else(|error| panic!("{server}: {error}"));
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
        let url = server.with_database(&name);
        Some(Self { server, name, url })
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs SQL on the test database (to plant rows a test needs).
    ///
    /// # Panics
    /// When the SQL fails.
    pub fn execute(&self, sql: &str) {
        let mut client = connect(&self.url).unwrap_or_else(|error| panic!("{}: {error}", self.url));
        client
            .batch_execute(sql)
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// Ends every other connection to the test database, as a database restart would.
    ///
    /// # Panics
    /// When the server cannot be reached.
    pub fn terminate_connections(&self) {
        let mut client = connect(&self.server).unwrap_or_else(|error| panic!("{}: {error}", self.server));
        client
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            )
            .unwrap_or_else(|error| panic!("cannot terminate connections: {error}"));
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut client) = connect(&self.server) {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}
