//! Embedded, versioned schema migrations, tracked in `PRAGMA user_version`.
//!
//! A newer binary upgrades an older database by running the missing steps in one
//! transaction; an older binary refuses a newer database rather than guess.

use rusqlite::Connection;

use super::StoreError;

/// Each step moves the schema from version `index` to `index + 1`.
const STEPS: &[&str] = &[
    // 1: resources keyed by natural key with the value as JSON; one audit row per commit.
    "CREATE TABLE resources (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID;
    CREATE TABLE audit (
        revision INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        token TEXT NOT NULL,
        meta TEXT NOT NULL,
        change_count INTEGER NOT NULL,
        changes TEXT NOT NULL
    );",
    // 2: the revision that last wrote each resource, and deletions kept as tombstones, so a
    // copy of the state can catch up by reading only what changed since its revision; and
    // the size of each audit entry's changes, so a page is bounded without reading them.
    "ALTER TABLE resources ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE resources ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX resources_by_revision ON resources (revision);
    ALTER TABLE audit ADD COLUMN changes_bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE audit SET changes_bytes = length(CAST(changes AS BLOB));",
    // 3: how many of an audit entry's changes the batch caused rather than sent (partners,
    // group entries and shares revoked with a deleted org); older entries caused none that
    // they recorded.
    "ALTER TABLE audit ADD COLUMN caused_count INTEGER NOT NULL DEFAULT 0;",
    // 4: the outbox, mail waiting to be sent (times in milliseconds since the epoch). Not
    // part of the state: no revision, no audit.
    "CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        portal TEXT NOT NULL,
        recipient TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        sent_at INTEGER,
        last_error TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;",
    // 5: partner sign-in: link tokens, sessions, TOTP enrolments, recovery codes (hashes
    // of the secrets handed out; TOTP keys apart from the state).
    crate::auth::TABLES,
    // 6: tokens created by the service (their SHA-256, never the token).
    crate::tokens::TABLES,
    // 7: what staff did in the console that changes no resource (their batches are in
    // the audit log).
    crate::staff::TABLES,
    // 8: the SCIM profiles of partner orgs' people (`scim.rs`): not state.
    crate::scim::TABLES,
    // 9: the read audit of sensitive values revealed to an admin token (who, what, when;
    // never a value).
    crate::reveals::SQLITE_TABLE,
    // 10: the audit log by subject and actor, filled on read (`audit_index.rs`).
    crate::audit_index::TABLES,
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: u32 = STEPS.len() as u32;

/// Brings the database to [`SCHEMA_VERSION`].
///
/// # Errors
/// [`StoreError::TooNew`] when the database was written by a newer portalctl.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for step in &STEPS[found as usize..] {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_an_empty_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn refuses_a_newer_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        let error = migrate(&mut conn).unwrap_err();
        assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
        assert!(error.to_string().contains("newer portalctl"), "{error}");
    }

    #[test]
    fn version_1_rows_gain_revisions_and_sizes() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(STEPS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO resources (kind, key, value) VALUES ('group', '[\"g\"]', '{}');
             INSERT INTO audit VALUES (1, 't', 'admin', '{}', 1, '[{\"op\":\"delete\"}]');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let (revision, deleted): (i64, i64) = conn
            .query_row("SELECT revision, deleted FROM resources", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((revision, deleted), (0, 0));
        let bytes: i64 = conn
            .query_row("SELECT changes_bytes FROM audit", [], |row| row.get(0))
            .unwrap();
        assert_eq!(bytes, 17);
        let caused: i64 = conn
            .query_row("SELECT caused_count FROM audit", [], |row| row.get(0))
            .unwrap();
        assert_eq!(caused, 0);
    }

    #[test]
    fn version_2_audit_rows_gain_a_caused_count_of_zero() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(STEPS[0]).unwrap();
        conn.execute_batch(STEPS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO audit (revision, time, token, meta, change_count, changes, changes_bytes)
             VALUES (1, 't', 'admin', '{}', 1, '[{\"op\":\"delete\"}]', 17);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let (count, caused): (i64, i64) = conn
            .query_row("SELECT change_count, caused_count FROM audit", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .unwrap();
        assert_eq!((count, caused), (1, 0));
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }
}
