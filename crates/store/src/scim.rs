//! What an identity provider keeps about a person that is not access state: the SCIM
//! profile (`externalId`, `name`, `displayName`, the emails, whether the user is `active`,
//! and the roles a deactivated user held), one row per partner org and email, beside the
//! state like the tokens and sessions.
//!
//! Access lives in the state only: a SCIM user's memberships are partner-managed members,
//! committed with the audit log; this row never grants anything. A deactivated user has no
//! membership left (their seat is free) and keeps this row, so the identity provider can
//! read and reactivate them.
//!
//! None of this reaches `GET /v1/state`, plans, import or the audit log.

use time::OffsetDateTime;

use crate::auth::SqlValue;
use crate::outbox::{from_millis, to_millis};
use crate::{Store, StoreError};

/// The table, the same in both dialects (`BIGINT` is SQLite's `INTEGER`).
pub(crate) const TABLES: &str = "
    CREATE TABLE scim_users (
        org TEXT NOT NULL,
        email TEXT NOT NULL,
        external_id TEXT,
        profile TEXT NOT NULL,
        active BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        modified_at BIGINT NOT NULL,
        PRIMARY KEY (org, email)
    );";

/// One SCIM user's profile row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimProfile {
    pub org: String,
    /// Lowercase, as the state keys partners.
    pub email: String,
    pub external_id: Option<String>,
    /// The rest of the profile as JSON (`name`, `displayName`, `emails`, and `roles` kept
    /// while deactivated), written and read by the server.
    pub profile: String,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
}

const COLUMNS: &str = "org, email, external_id, profile, active, created_at, modified_at";

fn corrupt(message: &str) -> StoreError {
    StoreError::Corrupt {
        kind: "SCIM profile".into(),
        key: String::new(),
        message: message.into(),
    }
}

fn profile_of(row: Vec<SqlValue>) -> Result<ScimProfile, StoreError> {
    let [org, email, external_id, profile, active, created_at, modified_at]: [SqlValue; 7] =
        row.try_into()
            .map_err(|_| corrupt("a row has the wrong number of columns"))?;
    let text = |value: SqlValue, column: &str| match value {
        SqlValue::Text(Some(text)) => Ok(text),
        _ => Err(corrupt(&format!("`{column}` is missing"))),
    };
    let int = |value: SqlValue, column: &str| match value {
        SqlValue::Int(Some(value)) => Ok(value),
        _ => Err(corrupt(&format!("`{column}` is missing"))),
    };
    Ok(ScimProfile {
        org: text(org, "org")?,
        email: text(email, "email")?,
        external_id: match external_id {
            SqlValue::Text(text) => text,
            SqlValue::Int(_) => None,
        },
        profile: text(profile, "profile")?,
        active: int(active, "active")? != 0,
        created_at: from_millis(int(created_at, "created_at")?)?,
        modified_at: from_millis(int(modified_at, "modified_at")?)?,
    })
}

impl Store {
    /// Every SCIM profile of `org`, by email.
    ///
    /// # Errors
    /// Storage errors.
    pub fn scim_profiles(&self, org: &str) -> Result<Vec<ScimProfile>, StoreError> {
        self.backend
            .sql_query(
                &format!("SELECT {COLUMNS} FROM scim_users WHERE org = $1 ORDER BY email"),
                &[SqlValue::Text(Some(org.to_string()))],
            )?
            .into_iter()
            .map(profile_of)
            .collect()
    }

    /// Writes `profile` (insert or replace), keeping the first `created_at`.
    ///
    /// # Errors
    /// Storage errors.
    pub fn put_scim_profile(&self, profile: &ScimProfile) -> Result<(), StoreError> {
        self.backend.sql_execute(
            &format!(
                "INSERT INTO scim_users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (org, email) DO UPDATE SET external_id = excluded.external_id,
                   profile = excluded.profile, active = excluded.active, modified_at = excluded.modified_at"
            ),
            &[
                SqlValue::Text(Some(profile.org.clone())),
                SqlValue::Text(Some(profile.email.clone())),
                SqlValue::Text(profile.external_id.clone()),
                SqlValue::Text(Some(profile.profile.clone())),
                SqlValue::Int(Some(i64::from(profile.active))),
                SqlValue::Int(Some(to_millis(profile.created_at))),
                SqlValue::Int(Some(to_millis(profile.modified_at))),
            ],
        )?;
        Ok(())
    }

    /// Deletes the profile of `email` in `org`; whether there was one.
    ///
    /// # Errors
    /// Storage errors.
    pub fn delete_scim_profile(&self, org: &str, email: &str) -> Result<bool, StoreError> {
        Ok(self.backend.sql_execute(
            "DELETE FROM scim_users WHERE org = $1 AND email = $2",
            &[
                SqlValue::Text(Some(org.to_string())),
                SqlValue::Text(Some(email.to_string())),
            ],
        )? > 0)
    }
}
