//! The SQLite [`Backend`]: one file in WAL mode, a writer connection for commits and a
//! reader connection for the audit log and the head, so reads never queue behind a write.
//!
//! Resources live in one table keyed by `(kind, natural key)` with the value as JSON, the
//! revision that last wrote them and a `deleted` flag: a deletion is kept as a tombstone so
//! that [`Backend::writes_since`] can tell a copy what it missed.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::auth::SqlValue;
use crate::backend::{AuditChanges, AuditPage, AuditRecord, Backend, DurableCommitError, Write, WriteRef};
use crate::outbox::{self, MessageRow, NewMessage, OutboxMessage, OutboxQuery};
use crate::{StoreError, migrations};
use portalctl_core::model::{Change, Kind, ResourceKey, ResourceValue, State, WireChange};

/// A SQLite database file.
pub struct SqliteBackend {
    writer: Mutex<Connection>,
    /// A few read connections, so one long audit read does not hold up the others.
    readers: Vec<Mutex<Connection>>,
    /// The thread that checkpoints the write-ahead log, for a long-running process
    /// ([`SqliteBackend::open_checkpointing_in_background`]); stopped when dropped.
    _checkpointer: Option<Checkpointer>,
}

/// How often the background checkpointer copies the write-ahead log into the database.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The log size (in pages) at which a commit checkpoints by itself even with a background
/// checkpointer: a backstop should the checkpointer fall behind (100,000 pages: 400 MB).
const BACKSTOP_CHECKPOINT_PAGES: i64 = 100_000;

/// A thread running `PRAGMA wal_checkpoint(PASSIVE)` every [`CHECKPOINT_EVERY`] on a
/// connection of its own, until dropped.
struct Checkpointer {
    stop: std::sync::Arc<(Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = connect(path)?;
        let stop = std::sync::Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let stopping = std::sync::Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                let (stopped, wake) = &*stopping;
                let mut done = stopped.lock().unwrap_or_else(PoisonError::into_inner);
                while !*done {
                    done = wake
                        .wait_timeout(done, CHECKPOINT_EVERY)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                    // PASSIVE: copies what no reader still needs, never waits for a writer
                    // or blocks one. A failure is retried at the next tick.
                    if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                        tracing::warn!(%error, "checkpointing the write-ahead log failed");
                    }
                }
            })
            .map_err(|error| StoreError::Unavailable(format!("cannot start a thread: {error}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How many read connections a backend keeps.
const READERS: usize = 4;

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A connection holds no state of ours that a panic could leave half-updated.
    connection.lock().unwrap_or_else(PoisonError::into_inner)
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn head_of(conn: &Connection) -> Result<u64, StoreError> {
    let revision: i64 = conn.query_row("SELECT COALESCE(MAX(revision), 0) FROM audit", [], |row| {
        row.get(0)
    })?;
    Ok(to_u64(revision))
}

/// Column `at` of `row` as text borrowed from SQLite's row buffer.
fn text_at<'row>(row: &'row rusqlite::Row<'_>, at: usize) -> Result<&'row str, StoreError> {
    row.get_ref(at)?.as_str().map_err(|error| {
        StoreError::from(rusqlite::Error::FromSqlConversionFailure(
            at,
            rusqlite::types::Type::Text,
            Box::new(error),
        ))
    })
}

pub(crate) fn parse_row(
    kind_text: &str,
    key_text: &str,
    value_text: Option<&str>,
) -> Result<Write, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        kind: kind_text.to_string(),
        key: key_text.to_string(),
        message,
    };
    let kind = Kind::from_wire(kind_text).ok_or_else(|| corrupt(format!("unknown kind `{kind_text}`")))?;
    let parts: Vec<String> = serde_json::from_str(key_text).map_err(|error| corrupt(error.to_string()))?;
    let key = ResourceKey::from_parts(kind, &parts).map_err(corrupt)?;
    let value = value_text
        .map(|text| ResourceValue::from_json_str(kind, text))
        .transpose()
        .map_err(|error| corrupt(error.to_string()))?;
    Ok(Write { key, value })
}

/// The columns of an audit page's query, in its order.
fn audit_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<crate::backend::AuditRow> {
    Ok(crate::backend::AuditRow {
        revision: row.get(0)?,
        time: row.get(1)?,
        token: row.get(2)?,
        meta: row.get(3)?,
        change_count: row.get(4)?,
        changes_bytes: row.get(5)?,
        whole: row.get(6)?,
        caused_count: row.get(7)?,
    })
}

/// The changes that come whole in `prefix`, the start of a JSON array of changes.
pub(crate) fn parse_changes_prefix(prefix: &[u8]) -> Vec<WireChange> {
    let mut changes = Vec::new();
    // Skip `[`, then read one change at a time; a change cut by the prefix ends it.
    let mut at = prefix
        .iter()
        .position(|byte| *byte == b'[')
        .map_or(prefix.len(), |at| at + 1);
    while at < prefix.len() {
        let mut stream = serde_json::Deserializer::from_slice(&prefix[at..]).into_iter::<WireChange>();
        match stream.next() {
            Some(Ok(change)) => changes.push(change),
            _ => break,
        }
        at += stream.byte_offset();
        // Skip the comma (and any whitespace) before the next change.
        while at < prefix.len() && matches!(prefix[at], b',' | b' ' | b'\n' | b'\r' | b'\t') {
            at += 1;
        }
        if prefix.get(at) == Some(&b']') {
            break;
        }
    }
    changes
}

fn state_of_puts(puts: Vec<Change>) -> Result<State, StoreError> {
    let mut state = State::default();
    state.apply_owned(puts).map_err(|errors| StoreError::Corrupt {
        kind: "resource".into(),
        key: String::new(),
        message: errors
            .into_iter()
            .map(|error| error.message)
            .collect::<Vec<_>>()
            .join("; "),
    })?;
    Ok(state)
}

/// The state made of stored rows (each with a value).
pub(crate) fn parse_state(rows: Vec<Write>) -> Result<State, StoreError> {
    let puts: Vec<Change> = rows
        .into_iter()
        .filter_map(|write| {
            write.value.map(|value| Change::Put {
                key: write.key,
                value,
            })
        })
        .collect();
    state_of_puts(puts)
}

/// Inserts `mail` on `conn` (inside the caller's transaction), due now.
fn insert_mail(conn: &Connection, mail: &[NewMessage]) -> Result<Vec<u64>, StoreError> {
    if mail.is_empty() {
        return Ok(Vec::new());
    }
    let now = outbox::now_millis();
    let mut insert = conn.prepare_cached(
        "INSERT INTO outbox (portal, recipient, kind, subject, text_body, html_body, created_at, attempts, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?7) RETURNING id",
    )?;
    let mut ids = Vec::with_capacity(mail.len());
    for message in mail {
        let id: i64 = insert.query_row(
            params![
                message.portal,
                message.recipient,
                message.kind.as_str(),
                message.subject,
                message.text,
                message.html,
                now
            ],
            |row| row.get(0),
        )?;
        ids.push(to_u64(id));
    }
    Ok(ids)
}

fn message_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: row.get(0)?,
        portal: row.get(1)?,
        recipient: row.get(2)?,
        kind: row.get(3)?,
        subject: row.get(4)?,
        text: row.get(5)?,
        html: row.get(6)?,
        created_at: row.get(7)?,
        attempts: row.get(8)?,
        next_attempt_at: row.get(9)?,
        sent_at: row.get(10)?,
        last_error: row.get(11)?,
    })
}

/// A statement of [`crate::auth`] in SQLite's spelling: `$n` becomes `?n` (numbered
/// positional parameters, whatever order they appear in).
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

fn sqlite_params(params: &[SqlValue]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|value| match value {
            SqlValue::Int(Some(int)) => rusqlite::types::Value::Integer(*int),
            SqlValue::Text(Some(text)) => rusqlite::types::Value::Text(text.clone()),
            SqlValue::Int(None) | SqlValue::Text(None) => rusqlite::types::Value::Null,
        })
        .collect()
}

impl SqliteBackend {
    /// Opens (creating if needed) and migrates the database at `path`.
    ///
    /// # Errors
    /// [`StoreError::TooNew`] for a database of a newer portalctl; SQLite errors.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut writer = connect(path)?;
        migrations::migrate(&mut writer)?;
        let readers = (0..READERS)
            .map(|_| connect(path).map(Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            writer: Mutex::new(writer),
            readers,
            _checkpointer: None,
        })
    }

    /// As [`SqliteBackend::open`], for a long-running process (`serve`): the write-ahead
    /// log is checkpointed by a thread of its own, not by the commit that happens to cross
    /// SQLite's 1,000-page mark (which then copies 4 MB and syncs the file while every
    /// other write waits: the slowest small write of the abuse benchmark).
    ///
    /// # Errors
    /// As [`SqliteBackend::open`]; the thread cannot start.
    pub fn open_checkpointing_in_background(path: &Path) -> Result<Self, StoreError> {
        let mut backend = Self::open(path)?;
        match Checkpointer::start(path) {
            Ok(checkpointer) => {
                for conn in std::iter::once(&backend.writer).chain(&backend.readers) {
                    lock(conn).pragma_update(None, "wal_autocheckpoint", BACKSTOP_CHECKPOINT_PAGES)?;
                }
                backend._checkpointer = Some(checkpointer);
            }
            // Commits then checkpoint as SQLite does by default: slower now and then, never
            // wrong.
            Err(error) => tracing::warn!(%error, "no background checkpoints"),
        }
        Ok(backend)
    }

    /// A free read connection, or the first one to be freed.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        for reader in &self.readers {
            if let Ok(conn) = reader.try_lock() {
                return conn;
            }
        }
        lock(&self.readers[0])
    }

    /// The first changes of `revision` that fit in `budget` bytes (at least one), read from
    /// the start of the stored array only: the cost follows the budget, not the batch.
    fn changes_prefix(
        conn: &Connection,
        revision: i64,
        budget: usize,
    ) -> Result<Vec<WireChange>, StoreError> {
        let prefix: Vec<u8> = conn.query_row(
            "SELECT substr(CAST(changes AS BLOB), 1, ?2) FROM audit WHERE revision = ?1",
            params![revision, to_i64(budget as u64 + 1)],
            |row| row.get(0),
        )?;
        let mut changes = parse_changes_prefix(&prefix);
        if changes.is_empty() {
            // One change larger than the budget: it still comes, alone.
            changes = Self::changes_slice(conn, revision, 0, 1, usize::MAX)?;
        }
        Ok(changes)
    }

    /// Up to `budget` bytes of the changes of `revision` from `offset`, at least one.
    fn changes_slice(
        conn: &Connection,
        revision: i64,
        offset: usize,
        limit: usize,
        budget: usize,
    ) -> Result<Vec<WireChange>, StoreError> {
        let mut statement = conn.prepare_cached(
            "SELECT changes.value FROM audit, json_each(audit.changes) AS changes
             WHERE audit.revision = ?1 ORDER BY changes.key LIMIT ?2 OFFSET ?3",
        )?;
        let texts = statement.query_map(
            params![revision, to_i64(limit as u64), to_i64(offset as u64)],
            |row| row.get::<_, String>(0),
        )?;
        crate::backend::changes_within_budget(
            texts.map(|text| text.map_err(StoreError::from)),
            revision,
            budget,
        )
    }
}

impl Backend for SqliteBackend {
    fn load(&self) -> Result<(State, u64), StoreError> {
        let conn = self.reader();
        // One read transaction, so the rows and the head agree.
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let mut statement =
                conn.prepare("SELECT kind, key, value FROM resources WHERE deleted = 0 ORDER BY kind, key")?;
            let mut rows = statement.query([])?;
            let mut puts = Vec::new();
            while let Some(row) = rows.next()? {
                // Borrowed from SQLite's row buffer: no copy of a million texts.
                let write = parse_row(text_at(row, 0)?, text_at(row, 1)?, Some(text_at(row, 2)?))?;
                if let Some(value) = write.value {
                    puts.push(Change::Put {
                        key: write.key,
                        value,
                    });
                }
            }
            Ok((state_of_puts(puts)?, head_of(&conn)?))
        })();
        conn.execute_batch("COMMIT")?;
        result
    }

    fn head(&self) -> Result<u64, StoreError> {
        head_of(&self.reader())
    }

    fn commit(
        &self,
        expected: u64,
        writes: &[WriteRef<'_>],
        record: &AuditRecord,
        mail: &[NewMessage],
    ) -> Result<u64, DurableCommitError> {
        let mut conn = lock(&self.writer);
        // IMMEDIATE: take the write lock before reading the head, so two processes on one
        // file cannot both see the same head and commit on it.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let current = head_of(&tx)?;
        if current != expected {
            return Err(DurableCommitError::Stale { current });
        }
        let revision = expected + 1;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO resources (kind, key, value, revision, deleted) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(StoreError::from)?;
            for write in writes {
                let key_json = serde_json::to_string(&write.key.parts()).map_err(StoreError::from)?;
                let (value_json, deleted) = match write.value {
                    // Straight to text: the untagged value is the JSON `to_json` would build.
                    Some(value) => (serde_json::to_string(value).map_err(StoreError::from)?, 0),
                    None => ("null".to_string(), 1),
                };
                upsert
                    .execute(params![
                        write.key.kind().as_str(),
                        key_json,
                        value_json,
                        to_i64(revision),
                        deleted
                    ])
                    .map_err(StoreError::from)?;
            }
            let changes_json = &record.changes_json;
            tx.execute(
                "INSERT INTO audit (revision, time, token, meta, change_count, changes, changes_bytes, caused_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    to_i64(revision),
                    record.time,
                    record.token,
                    serde_json::to_string(&record.meta).map_err(StoreError::from)?,
                    to_i64(record.change_count),
                    changes_json,
                    to_i64(changes_json.len() as u64),
                    to_i64(record.caused_count),
                ],
            )
            .map_err(StoreError::from)?;
            insert_mail(&tx, mail)?;
        }
        tx.commit().map_err(StoreError::from)?;
        Ok(revision)
    }

    fn enqueue(&self, mail: &[NewMessage]) -> Result<Vec<u64>, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids = insert_mail(&tx, mail)?;
        tx.commit()?;
        Ok(ids)
    }

    fn enqueue_with(
        &self,
        mail: &[NewMessage],
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<u64>, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids = insert_mail(&tx, mail)?;
        tx.prepare_cached(&sqlite_sql(sql))?
            .execute(rusqlite::params_from_iter(sqlite_params(params)))?;
        tx.commit()?;
        Ok(ids)
    }

    fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, StoreError> {
        let conn = self.reader();
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {} FROM outbox
             WHERE (?1 IS NULL OR id < ?1) AND (?2 = 0 OR sent_at IS NULL)
               AND (?3 IS NULL OR portal = ?3) AND (?4 IS NULL OR recipient = ?4)
             ORDER BY id DESC LIMIT ?5",
            outbox::COLUMNS
        ))?;
        let rows = statement.query_map(
            params![
                query.before.map(to_i64),
                query.unsent_only,
                query.portal,
                query.recipient,
                to_i64(query.limit as u64)
            ],
            message_row,
        )?;
        rows.map(|row| row?.into_message()).collect()
    }

    fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let conn = lock(&self.writer);
        // One statement: SQLite runs it under the database's write lock, so two processes
        // on one file never claim the same message.
        let mut statement = conn.prepare_cached(&format!(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2
             WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= ?1
                          ORDER BY id LIMIT ?3)
             RETURNING {}",
            outbox::COLUMNS
        ))?;
        let rows = statement.query_map(params![now, lease_until, to_i64(limit as u64)], message_row)?;
        let mut messages = rows
            .map(|row| row?.into_message())
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|message| message.id);
        Ok(messages)
    }

    fn mark_sent(&self, ids: &[u64], at: i64) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = ids.iter().map(|id| to_i64(*id).to_string()).collect();
        let conn = lock(&self.writer);
        // The ids are integers written here, not input: one statement for the batch.
        let updated = conn.execute(
            &format!(
                "UPDATE outbox SET sent_at = COALESCE(sent_at, ?1), last_error = NULL WHERE id IN ({})",
                ids.join(",")
            ),
            params![at],
        )?;
        Ok(updated)
    }

    fn sql_execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        let conn = lock(&self.writer);
        let mut statement = conn.prepare_cached(&sqlite_sql(sql))?;
        let changed = statement.execute(rusqlite::params_from_iter(sqlite_params(params)))?;
        Ok(changed as u64)
    }

    fn sql_query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, StoreError> {
        // The writer: a query may write (`RETURNING`), and reads of these small tables
        // never wait long behind a commit.
        let conn = lock(&self.writer);
        let mut statement = conn.prepare_cached(&sqlite_sql(sql))?;
        let width = statement.column_count();
        let mut rows = statement.query(rusqlite::params_from_iter(sqlite_params(params)))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(width);
            for at in 0..width {
                values.push(match row.get_ref(at)? {
                    rusqlite::types::ValueRef::Integer(int) => SqlValue::Int(Some(int)),
                    rusqlite::types::ValueRef::Text(text) => {
                        SqlValue::Text(Some(String::from_utf8_lossy(text).into_owned()))
                    }
                    _ => SqlValue::Int(None),
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    fn mark_failed(&self, id: u64, error: &str, retry_at: i64) -> Result<bool, StoreError> {
        let conn = lock(&self.writer);
        let updated = conn.execute(
            "UPDATE outbox SET last_error = ?2, next_attempt_at = ?3 WHERE id = ?1 AND sent_at IS NULL",
            params![to_i64(id), error, retry_at],
        )?;
        Ok(updated > 0)
    }

    fn writes_since(&self, revision: u64) -> Result<(Vec<Write>, u64), StoreError> {
        let conn = self.reader();
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let mut statement = conn.prepare_cached(
                "SELECT kind, key, CASE WHEN deleted = 0 THEN value END FROM resources WHERE revision > ?1",
            )?;
            let mut rows = statement.query(params![to_i64(revision)])?;
            let mut writes = Vec::new();
            while let Some(row) = rows.next()? {
                let kind: String = row.get(0)?;
                let key: String = row.get(1)?;
                let value: Option<String> = row.get(2)?;
                writes.push(parse_row(&kind, &key, value.as_deref())?);
            }
            Ok((writes, head_of(&conn)?))
        })();
        conn.execute_batch("COMMIT")?;
        result
    }

    fn audit_page(&self, after: u64, limit: usize, max_bytes: usize) -> Result<AuditPage, StoreError> {
        let conn = self.reader();
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let mut statement = conn.prepare_cached(
                "SELECT revision, time, token, meta, change_count, changes_bytes,
                        CASE WHEN changes_bytes <= ?3 THEN changes END, caused_count
                 FROM audit WHERE revision > ?1 ORDER BY revision LIMIT ?2",
            )?;
            let mut rows = statement.query(params![
                to_i64(after),
                to_i64(limit as u64),
                to_i64(max_bytes as u64)
            ])?;
            let rows = std::iter::from_fn(|| {
                let row = match rows.next() {
                    Ok(Some(row)) => row,
                    Ok(None) => return None,
                    Err(error) => return Some(Err(error.into())),
                };
                Some(audit_row(row).map_err(StoreError::from))
            });
            crate::backend::audit_page(rows, max_bytes, |revision| {
                Self::changes_prefix(&conn, revision, max_bytes)
            })
        })();
        conn.execute_batch("COMMIT")?;
        result
    }

    fn audit_changes(
        &self,
        revision: u64,
        offset: usize,
        limit: usize,
    ) -> Result<Option<AuditChanges>, StoreError> {
        let conn = self.reader();
        conn.execute_batch("BEGIN")?;
        let result = (|| {
            let count: Option<i64> = conn
                .query_row(
                    "SELECT change_count FROM audit WHERE revision = ?1",
                    params![to_i64(revision)],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(count) = count else {
                return Ok(None);
            };
            let changes = Self::changes_slice(&conn, to_i64(revision), offset, limit, usize::MAX)?;
            Ok(Some(AuditChanges {
                change_count: to_u64(count),
                changes,
            }))
        })();
        conn.execute_batch("COMMIT")?;
        result
    }
}

#[cfg(test)]
mod checkpoint_tests {
    use super::*;

    /// With a checkpointer, commits leave the log to it (up to the backstop); without one
    /// (the CLI's one-off processes) they keep SQLite's default.
    #[test]
    fn commits_leave_checkpoints_to_the_background_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mark = |backend: &SqliteBackend| -> i64 {
            lock(&backend.writer)
                .pragma_query_value(None, "wal_autocheckpoint", |row| row.get(0))
                .unwrap()
        };
        let served = SqliteBackend::open_checkpointing_in_background(&dir.path().join("served.db")).unwrap();
        assert_eq!(mark(&served), BACKSTOP_CHECKPOINT_PAGES);
        assert!(served._checkpointer.is_some());
        let one_off = SqliteBackend::open(&dir.path().join("one-off.db")).unwrap();
        assert_eq!(mark(&one_off), 1000);
        // Dropping the backend stops and joins its thread.
        drop(served);
    }
}
