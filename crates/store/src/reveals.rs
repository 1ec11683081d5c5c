//! The read audit of sensitive values: one entry each time an `admin` token asked to see
//! sensitive attribute values in clear (`?reveal=sensitive`), with who asked, what was
//! read, at which revision and when — written before the values leave the service, so a
//! reveal that cannot be recorded does not happen.
//!
//! **Architecture invariant:** an entry names what was read (a request path, a resource),
//! never a value; it is not a batch, so it has no revision of its own and does not reach
//! `GET /v1/state`, plans, drift or import.

use time::OffsetDateTime;

use crate::auth::SqlValue;
use crate::outbox::{from_millis, to_millis};
use crate::{Store, StoreError};
pub use portalctl_core::api::RevealEntry;

/// The table in SQLite (step 7 of its migrations).
pub(crate) const SQLITE_TABLE: &str = "
    CREATE TABLE reveal_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time BIGINT NOT NULL,
        token TEXT NOT NULL,
        read TEXT NOT NULL,
        revision BIGINT NOT NULL
    );";

/// The table in PostgreSQL (step 6 of its migrations).
pub(crate) const POSTGRES_TABLE: &str = "
    CREATE TABLE reveal_audit (
        id BIGSERIAL PRIMARY KEY,
        time BIGINT NOT NULL,
        token TEXT NOT NULL,
        read TEXT NOT NULL,
        revision BIGINT NOT NULL
    );";

fn corrupt(message: &str) -> StoreError {
    StoreError::Corrupt {
        kind: "reveal audit entry".into(),
        key: String::new(),
        message: message.into(),
    }
}

fn entry_of(row: Vec<SqlValue>) -> Result<RevealEntry, StoreError> {
    let [id, time, token, read, revision]: [SqlValue; 5] = row
        .try_into()
        .map_err(|_| corrupt("a row has the wrong number of columns"))?;
    let int = |value: SqlValue, column: &str| match value {
        SqlValue::Int(Some(value)) => {
            u64::try_from(value).map_err(|_| corrupt(&format!("`{column}` is negative")))
        }
        _ => Err(corrupt(&format!("`{column}` is missing"))),
    };
    let text = |value: SqlValue, column: &str| match value {
        SqlValue::Text(Some(text)) => Ok(text),
        _ => Err(corrupt(&format!("`{column}` is missing"))),
    };
    let SqlValue::Int(Some(millis)) = time else {
        return Err(corrupt("`time` is missing"));
    };
    let time = from_millis(millis)?
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|error| corrupt(&error.to_string()))?;
    Ok(RevealEntry {
        id: int(id, "id")?,
        time,
        token: text(token, "token")?,
        read: text(read, "read")?,
        revision: int(revision, "revision")?,
    })
}

impl Store {
    /// Records that the token named `token` read sensitive values in clear: `read` says
    /// what (`GET /v1/portals/globex/members/alice@globex.com`), `revision` the state they
    /// were read from. Returns the entry.
    ///
    /// # Guarantees
    /// Written (committed) when this returns: a caller reveals only after it did.
    ///
    /// # Errors
    /// Storage errors.
    pub fn record_reveal(
        &self,
        token: &str,
        read: &str,
        revision: u64,
        now: OffsetDateTime,
    ) -> Result<RevealEntry, StoreError> {
        let rows = self.backend.sql_query(
            "INSERT INTO reveal_audit (time, token, read, revision) VALUES ($1, $2, $3, $4)
             RETURNING id, time, token, read, revision",
            &[
                SqlValue::Int(Some(to_millis(now))),
                SqlValue::Text(Some(token.to_string())),
                SqlValue::Text(Some(read.to_string())),
                SqlValue::Int(Some(i64::try_from(revision).unwrap_or(i64::MAX))),
            ],
        )?;
        rows.into_iter()
            .next()
            .ok_or_else(|| corrupt("the insert returned no row"))
            .and_then(entry_of)
    }

    /// The reveals with an id above `after`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn reveals(&self, after: u64, limit: usize) -> Result<Vec<RevealEntry>, StoreError> {
        self.backend
            .sql_query(
                "SELECT id, time, token, read, revision FROM reveal_audit WHERE id > $1 ORDER BY id LIMIT $2",
                &[
                    SqlValue::Int(Some(i64::try_from(after).unwrap_or(i64::MAX))),
                    SqlValue::Int(Some(i64::try_from(limit).unwrap_or(i64::MAX))),
                ],
            )?
            .into_iter()
            .map(entry_of)
            .collect()
    }

    /// The newest `limit` reveals, newest first (what `portalctl history --reveals` shows).
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn latest_reveals(&self, limit: usize) -> Result<Vec<RevealEntry>, StoreError> {
        self.backend
            .sql_query(
                "SELECT id, time, token, read, revision FROM reveal_audit ORDER BY id DESC LIMIT $1",
                &[SqlValue::Int(Some(i64::try_from(limit).unwrap_or(i64::MAX)))],
            )?
            .into_iter()
            .map(entry_of)
            .collect()
    }
}
