//! What the staff console keeps beside the state: a log of the console's actions that
//! change no resource (a partner's sessions ended, an invitation resent, a token created
//! or revoked, a partner viewed as), each with the staff member who did it. Actions that
//! change resources (approving a registration) are committed batches: the audit log
//! holds them with the staff member as the actor. Neither holds a secret.

use time::OffsetDateTime;

use crate::auth::{SqlValue, int_at, text_at};
use crate::outbox::{from_millis, to_millis};
use crate::{Store, StoreError};

/// The table, the same in both dialects.
pub(crate) const TABLES: &str = "
    CREATE TABLE console_actions (
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX console_actions_by_time ON console_actions (at);";

/// One console action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffAction {
    pub at: OffsetDateTime,
    /// `staff:EMAIL`, or `token:NAME` for a script with an admin token.
    pub actor: String,
    /// What was done: `end-sessions`, `resend-invitation`, `create-token`,
    /// `revoke-token`, `view-as`.
    pub action: String,
    /// What it was done to: `globex/alice@globex.com`, a token's name.
    pub subject: String,
    /// A short, secret-free note.
    pub detail: String,
}

/// Which actions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffActionQuery {
    /// Only this actor's.
    pub actor: Option<String>,
    /// Only those whose subject contains this text.
    pub subject: Option<String>,
    pub limit: usize,
}

impl Store {
    /// Records a console action.
    ///
    /// # Errors
    /// Storage errors.
    pub fn record_staff_action(&self, action: &StaffAction) -> Result<(), StoreError> {
        self.backend.sql_execute(
            "INSERT INTO console_actions (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
            &[
                SqlValue::int(to_millis(action.at)),
                SqlValue::text(&action.actor),
                SqlValue::text(&action.action),
                SqlValue::text(&action.subject),
                SqlValue::text(&action.detail),
            ],
        )?;
        Ok(())
    }

    /// Console actions matching `query`, newest first.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn staff_actions(&self, query: &StaffActionQuery) -> Result<Vec<StaffAction>, StoreError> {
        let limit = i64::try_from(query.limit.clamp(1, 1000)).unwrap_or(1000);
        let rows = self.backend.sql_query(
            "SELECT at, actor, action, subject, detail FROM console_actions
             WHERE ($1 = '' OR actor = $1) AND ($2 = '' OR subject LIKE '%' || $2 || '%')
             ORDER BY at DESC LIMIT $3",
            &[
                SqlValue::text(query.actor.as_deref().unwrap_or_default()),
                SqlValue::text(
                    &query
                        .subject
                        .as_deref()
                        .unwrap_or_default()
                        .replace(['%', '_'], ""),
                ),
                SqlValue::int(limit),
            ],
        )?;
        rows.into_iter()
            .map(|mut row| {
                Ok(StaffAction {
                    at: from_millis(int_at(&row, 0, "console action")?)?,
                    actor: text_at(&mut row, 1, "console action")?,
                    action: text_at(&mut row, 2, "console action")?,
                    subject: text_at(&mut row, 3, "console action")?,
                    detail: text_at(&mut row, 4, "console action")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_listed_newest_first_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let today = portalctl_core::model::CalendarDate::from_ymd(2026, 11, 26).unwrap();
        let store = Store::open(&dir.path().join("s.db"), today).unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for (offset, actor, subject) in [
            (0, "staff:ann@acme.io", "globex/alice@globex.com"),
            (1, "staff:bo@acme.io", "globex/bob@globex.com"),
            (2, "staff:ann@acme.io", "ci"),
        ] {
            store
                .record_staff_action(&StaffAction {
                    at: at + time::Duration::seconds(offset),
                    actor: actor.into(),
                    action: "end-sessions".into(),
                    subject: subject.into(),
                    detail: String::new(),
                })
                .unwrap();
        }
        let all = store
            .staff_actions(&StaffActionQuery {
                limit: 10,
                ..StaffActionQuery::default()
            })
            .unwrap();
        assert_eq!(
            all.iter().map(|a| a.subject.as_str()).collect::<Vec<_>>(),
            ["ci", "globex/bob@globex.com", "globex/alice@globex.com"]
        );
        let ann = store
            .staff_actions(&StaffActionQuery {
                actor: Some("staff:ann@acme.io".into()),
                subject: Some("globex".into()),
                limit: 10,
            })
            .unwrap();
        assert_eq!(ann.len(), 1);
        assert_eq!(ann[0].subject, "globex/alice@globex.com");
    }
}
