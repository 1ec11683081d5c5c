//! Moving a store from SQLite to PostgreSQL (`portalctl migrate`): every resource row with
//! the revision that wrote it (tombstones included) and the whole audit log with its
//! revisions (and how many of each entry's changes the batch caused), so `history` and
//! `drift` attribution survive the move and replicas can catch up from any revision; the
//! read audit of sensitive values, with its ids; and the console's action log
//! (`console_actions`), whose rows no revision covers. The audit log's index by subject
//! (`audit_subjects`) is derived: the destination rebuilds it on its first search.

use std::path::Path;

use rusqlite::Connection;

use crate::postgres::{COMMIT_CHANNEL, connect};
use crate::{DatabaseUrl, PostgresBackend, SqliteBackend, StoreError};

/// How many rows one insert statement carries.
const CHUNK: usize = 5_000;

/// Resource rows gathered for one insert, column by column.
type ResourceColumns = (Vec<String>, Vec<String>, Vec<String>, Vec<i64>, Vec<bool>);

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the destination already holds a store (revision {revision}, {resources} resource rows); \
         pass --replace to overwrite it"
    )]
    NotEmpty { revision: u64, resources: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopySummary {
    pub revision: u64,
    pub resources: u64,
    pub audit_entries: u64,
    /// Entries of the read audit (`reveal=sensitive` reads).
    pub reveals: u64,
    /// Rows of the console's action log.
    pub console_actions: u64,
}

/// Copies the SQLite store at `from` into the PostgreSQL database at `to` (migrating both
/// schemas first), in one PostgreSQL transaction: the destination shows the old contents
/// or the whole copy. Refuses a destination that holds anything unless `replace`.
///
/// # Errors
/// [`CopyError::NotEmpty`]; storage errors on either side.
pub fn sqlite_to_postgres(from: &Path, to: &DatabaseUrl, replace: bool) -> Result<CopySummary, CopyError> {
    if !from.exists() {
        return Err(StoreError::Unavailable(format!("no SQLite store at `{}`", from.display())).into());
    }
    // Brings both schemas up to date (and refuses newer ones).
    drop(SqliteBackend::open(from)?);
    drop(PostgresBackend::open(to)?);
    let source = Connection::open(from).map_err(StoreError::from)?;
    let mut client = connect(to)?;
    let mut tx = client.transaction().map_err(StoreError::from)?;
    let revision: i64 = tx
        .query_one("SELECT revision FROM head WHERE id = 1 FOR UPDATE", &[])
        .map_err(StoreError::from)?
        .get(0);
    let resources: i64 = tx
        .query_one("SELECT count(*) FROM resources", &[])
        .map_err(StoreError::from)?
        .get(0);
    if revision != 0 || resources != 0 {
        if !replace {
            return Err(CopyError::NotEmpty {
                revision: u64::try_from(revision).unwrap_or(0),
                resources: u64::try_from(resources).unwrap_or(0),
            });
        }
        tx.batch_execute(
            "DELETE FROM resources; DELETE FROM audit; DELETE FROM reveal_audit;
             DELETE FROM console_actions; DELETE FROM audit_subjects;
             UPDATE audit_subjects_done SET revision = 0;",
        )
        .map_err(StoreError::from)?;
    }
    // One read transaction on the source, so the rows and the audit log agree.
    source.execute_batch("BEGIN").map_err(StoreError::from)?;
    let mut copied_resources = 0u64;
    {
        let mut statement = source
            .prepare("SELECT kind, key, value, revision, deleted FROM resources")
            .map_err(StoreError::from)?;
        let mut rows = statement.query([]).map_err(StoreError::from)?;
        let mut batch = ResourceColumns::default();
        loop {
            let row = rows.next().map_err(StoreError::from)?;
            if let Some(row) = row {
                batch.0.push(row.get(0).map_err(StoreError::from)?);
                batch.1.push(row.get(1).map_err(StoreError::from)?);
                batch.2.push(row.get(2).map_err(StoreError::from)?);
                batch.3.push(row.get(3).map_err(StoreError::from)?);
                batch.4.push(row.get::<_, i64>(4).map_err(StoreError::from)? != 0);
            }
            if batch.0.len() >= CHUNK || (row.is_none() && !batch.0.is_empty()) {
                copied_resources += batch.0.len() as u64;
                tx.execute(
                    "INSERT INTO resources (kind, key, value, revision, deleted)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bool[])",
                    &[&batch.0, &batch.1, &batch.2, &batch.3, &batch.4],
                )
                .map_err(StoreError::from)?;
                batch = Default::default();
            }
            if row.is_none() {
                break;
            }
        }
    }
    let mut copied_audit = 0u64;
    let mut head = 0i64;
    {
        let mut statement = source
            .prepare(
                "SELECT revision, time, token, meta, change_count, changes, changes_bytes, caused_count
                 FROM audit ORDER BY revision",
            )
            .map_err(StoreError::from)?;
        let mut rows = statement.query([]).map_err(StoreError::from)?;
        let insert = tx
            .prepare(
                "INSERT INTO audit (revision, time, token, meta, change_count, changes, changes_bytes, caused_count)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let revision: i64 = row.get(0).map_err(StoreError::from)?;
            let time: String = row.get(1).map_err(StoreError::from)?;
            let token: String = row.get(2).map_err(StoreError::from)?;
            let meta: String = row.get(3).map_err(StoreError::from)?;
            let count: i64 = row.get(4).map_err(StoreError::from)?;
            let changes: String = row.get(5).map_err(StoreError::from)?;
            let bytes: i64 = row.get(6).map_err(StoreError::from)?;
            let caused: i64 = row.get(7).map_err(StoreError::from)?;
            tx.execute(
                &insert,
                &[&revision, &time, &token, &meta, &count, &changes, &bytes, &caused],
            )
            .map_err(StoreError::from)?;
            head = head.max(revision);
            copied_audit += 1;
        }
    }
    let mut copied_reveals = 0u64;
    {
        let mut statement = source
            .prepare("SELECT id, time, token, read, revision FROM reveal_audit ORDER BY id")
            .map_err(StoreError::from)?;
        let mut rows = statement.query([]).map_err(StoreError::from)?;
        let insert = tx
            .prepare("INSERT INTO reveal_audit (id, time, token, read, revision) VALUES ($1, $2, $3, $4, $5)")
            .map_err(StoreError::from)?;
        while let Some(row) = rows.next().map_err(StoreError::from)? {
            let id: i64 = row.get(0).map_err(StoreError::from)?;
            let time: i64 = row.get(1).map_err(StoreError::from)?;
            let token: String = row.get(2).map_err(StoreError::from)?;
            let read: String = row.get(3).map_err(StoreError::from)?;
            let revision: i64 = row.get(4).map_err(StoreError::from)?;
            tx.execute(&insert, &[&id, &time, &token, &read, &revision])
                .map_err(StoreError::from)?;
            copied_reveals += 1;
        }
        // The next reveal recorded on PostgreSQL follows the copied ids.
        tx.batch_execute(
            "SELECT setval(pg_get_serial_sequence('reveal_audit', 'id'),
                           COALESCE((SELECT max(id) FROM reveal_audit), 1),
                           (SELECT count(*) > 0 FROM reveal_audit))",
        )
        .map_err(StoreError::from)?;
    }
    let console_actions = copy_console_actions(&source, &mut tx)?;
    source.execute_batch("COMMIT").map_err(StoreError::from)?;
    tx.execute("UPDATE head SET revision = $1 WHERE id = 1", &[&head])
        .map_err(StoreError::from)?;
    tx.batch_execute(&format!("NOTIFY {COMMIT_CHANNEL}"))
        .map_err(StoreError::from)?;
    tx.commit().map_err(StoreError::from)?;
    Ok(CopySummary {
        revision: u64::try_from(head).unwrap_or(0),
        resources: copied_resources,
        audit_entries: copied_audit,
        reveals: copied_reveals,
        console_actions,
    })
}

/// Copies the console's action log (a destination that held a store had it emptied).
fn copy_console_actions(source: &Connection, tx: &mut postgres::Transaction<'_>) -> Result<u64, StoreError> {
    let mut statement =
        source.prepare("SELECT at, actor, action, subject, detail FROM console_actions ORDER BY at")?;
    let mut rows = statement.query([])?;
    let insert = tx.prepare(
        "INSERT INTO console_actions (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)",
    )?;
    let mut copied = 0;
    while let Some(row) = rows.next()? {
        let at: i64 = row.get(0)?;
        let actor: String = row.get(1)?;
        let action: String = row.get(2)?;
        let subject: String = row.get(3)?;
        let detail: String = row.get(4)?;
        tx.execute(&insert, &[&at, &actor, &action, &subject, &detail])?;
        copied += 1;
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use portalctl_core::model::{CalendarDate, Change, ResourceKey, ResourceValue, Workspace};
    use time::OffsetDateTime;

    use super::*;
    use crate::{AuditQuery, ChangeMeta, StaffAction, StaffActionQuery, Store};

    #[test]
    fn the_console_action_log_moves_and_the_audit_index_is_rebuilt() {
        let Some(database) = crate::testing::TestDatabase::create() else {
            return;
        };
        let today = CalendarDate::from_ymd(2026, 11, 26).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("from.db");
        let store = Store::open(&path, today).unwrap();
        let workspace = Change::Put {
            key: ResourceKey::Workspace,
            value: ResourceValue::Workspace(Workspace {
                name: "Acme".into(),
                owner_domains: ["acme.io".to_string()].into(),
                ..Workspace::default()
            }),
        };
        store
            .commit(Some(0), &[workspace], &ChangeMeta::default(), "ci", today)
            .unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        for (offset, action) in [(0, "view-as"), (1, "end-sessions")] {
            store
                .record_staff_action(&StaffAction {
                    at: at + time::Duration::seconds(offset),
                    actor: "staff:ann@acme.io".into(),
                    action: action.into(),
                    subject: "globex/alice@globex.com".into(),
                    detail: "d".into(),
                })
                .unwrap();
        }
        let actions = |store: &Store| {
            store
                .staff_actions(&StaffActionQuery {
                    limit: 10,
                    ..StaffActionQuery::default()
                })
                .unwrap()
        };
        let by_ci = AuditQuery {
            actor: Some("ci".into()),
            limit: 10,
            ..AuditQuery::default()
        };
        let searched = store.audit_search(&by_ci).unwrap();
        let before = actions(&store);
        drop(store);
        let summary = sqlite_to_postgres(&path, database.url(), false).unwrap();
        assert_eq!((summary.audit_entries, summary.console_actions), (1, 2));
        // Again over it: replaced, not doubled.
        let summary = sqlite_to_postgres(&path, database.url(), true).unwrap();
        assert_eq!(summary.console_actions, 2);
        let copied = Store::open_database(&crate::Database::Postgres(database.url().clone()), today).unwrap();
        assert_eq!(actions(&copied), before);
        let found = copied.audit_search(&by_ci).unwrap();
        assert_eq!(
            found.iter().map(|entry| entry.revision).collect::<Vec<_>>(),
            searched.iter().map(|entry| entry.revision).collect::<Vec<_>>()
        );
        assert_eq!(found.len(), 1);
        let by_name = copied
            .audit_search(&AuditQuery {
                resource: Some("acme.io".into()),
                limit: 10,
                ..AuditQuery::default()
            })
            .unwrap();
        assert!(by_name.is_empty(), "a value that is not an email is no subject");
    }
}
