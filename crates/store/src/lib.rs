//! The SQLite store of the live state: used in-process by `portalctl serve`, and by the
//! `sqlite:PATH` target of the CLI. It knows nothing of HTTP.
//!
//! Resources live in one table keyed by `(kind, natural key)` with the value as JSON; each
//! committed batch adds one audit row, whose number is the state's revision. The current
//! `State` is kept in memory behind one lock (a single writer), so reads cost no parsing
//! and a commit writes only the rows that changed.
//!
//! **Architecture invariant:** a batch commits in one SQLite transaction after the whole
//! resulting state passed `State::apply` and `rules::check`; otherwise nothing is written.

mod migrations;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, params};

pub use migrations::SCHEMA_VERSION;
pub use portalctl_core::api::{AuditEntry, ChangeMeta, MASK, Problem};

use portalctl_core::model::rules::{self, Severity};
use portalctl_core::model::{CalendarDate, Change, Kind, Principal, ResourceKey, ResourceValue, State};

/// Failures of the database itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database has schema version {found}, newer than this portalctl supports ({supported}); \
         use a newer portalctl"
    )]
    TooNew { found: u32, supported: u32 },
    #[error("the database holds a malformed {kind} `{key}`: {message}")]
    Corrupt {
        kind: String,
        key: String,
        message: String,
    },
    #[error("cannot encode the audit entry: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Why a batch was not committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// `expected_revision` is not the current revision.
    #[error("the state is at revision {current}, not the expected one")]
    Stale { current: u64 },
    /// At least one change is invalid; nothing was written.
    #[error("{} problem(s) in the batch", .0.len())]
    Invalid(Vec<Problem>),
    /// The batch deletes a portal whose live `protect` is true.
    #[error("portal `{0}` is protected: set `protect: false` first")]
    Protected(String),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// The committed state and its revision (0 for an empty database).
#[derive(Debug, Default)]
pub struct Snapshot {
    pub state: State,
    pub revision: u64,
}

/// A handle on one database file. Cheap to share behind an `Arc`.
pub struct Store {
    path: PathBuf,
    inner: Mutex<Inner>,
    /// The last committed snapshot, for readers while a commit holds `inner`.
    published: Mutex<Arc<Snapshot>>,
}

struct Inner {
    conn: Connection,
    snapshot: Arc<Snapshot>,
    /// The rule errors the committed state already has, as (pointer, message): a batch is
    /// judged by the errors it adds, so one bad row written by an older version does not
    /// block every later write.
    errors: HashSet<(String, String)>,
}

fn error_set(state: &State, today: CalendarDate) -> HashSet<(String, String)> {
    rules::check(state, today)
        .into_iter()
        .filter(|violation| violation.severity == Severity::Error)
        .map(|violation| (violation.at.to_string(), violation.message))
        .collect()
}

fn current_revision(conn: &Connection) -> Result<u64, StoreError> {
    let revision: i64 = conn.query_row("SELECT COALESCE(MAX(revision), 0) FROM audit", [], |row| {
        row.get(0)
    })?;
    Ok(u64::try_from(revision).unwrap_or(0))
}

fn load_state(conn: &Connection) -> Result<State, StoreError> {
    let mut statement = conn.prepare("SELECT kind, key, value FROM resources ORDER BY kind, key")?;
    let mut rows = statement.query([])?;
    let mut puts = Vec::new();
    while let Some(row) = rows.next()? {
        let kind_text: String = row.get(0)?;
        let key_text: String = row.get(1)?;
        let value_text: String = row.get(2)?;
        let corrupt = |message: String| StoreError::Corrupt {
            kind: kind_text.clone(),
            key: key_text.clone(),
            message,
        };
        let kind: Kind = serde_json::from_value(serde_json::Value::String(kind_text.clone()))
            .map_err(|error| corrupt(error.to_string()))?;
        let parts: Vec<String> =
            serde_json::from_str(&key_text).map_err(|error| corrupt(error.to_string()))?;
        let key = ResourceKey::from_parts(kind, &parts).map_err(corrupt)?;
        let value: serde_json::Value =
            serde_json::from_str(&value_text).map_err(|error| corrupt(error.to_string()))?;
        let value = ResourceValue::from_json(kind, value).map_err(|error| corrupt(error.to_string()))?;
        puts.push(Change::Put { key, value });
    }
    let mut state = State::default();
    state.apply(&puts).map_err(|errors| StoreError::Corrupt {
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

/// The keys a batch may have touched: its own, plus, when it deletes a partner org, every
/// member, group and `user:` share, which the org's revocation may have changed.
fn touched_keys(changes: &[Change], before: &State) -> Vec<ResourceKey> {
    let mut keys: Vec<ResourceKey> = changes.iter().map(|change| change.key().clone()).collect();
    let revokes = changes.iter().any(|change| {
        matches!(
            change,
            Change::Delete {
                key: ResourceKey::PartnerOrg(_)
            }
        )
    });
    if revokes {
        keys.extend(before.members.keys().map(|(portal, email)| ResourceKey::Member {
            portal: portal.clone(),
            email: email.clone(),
        }));
        keys.extend(before.groups.keys().cloned().map(ResourceKey::Group));
        keys.extend(
            before
                .shares
                .keys()
                .filter(|(_, principal)| matches!(principal, Principal::User(_)))
                .map(|(folder, principal)| ResourceKey::Share {
                    folder: folder.clone(),
                    principal: principal.clone(),
                }),
        );
    }
    let mut seen = HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    keys
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`, and loads the state.
    ///
    /// # Errors
    /// [`StoreError::TooNew`] for a database of a newer portalctl; SQLite errors; a
    /// malformed row.
    pub fn open(path: &Path, today: CalendarDate) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrations::migrate(&mut conn)?;
        let state = load_state(&conn)?;
        let revision = current_revision(&conn)?;
        let errors = error_set(&state, today);
        let snapshot = Arc::new(Snapshot { state, revision });
        Ok(Self {
            path: path.to_path_buf(),
            published: Mutex::new(Arc::clone(&snapshot)),
            inner: Mutex::new(Inner {
                conn,
                snapshot,
                errors,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic cannot leave `Inner` half-updated: the snapshot is swapped last.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, snapshot: &Arc<Snapshot>) {
        *self.published.lock().unwrap_or_else(PoisonError::into_inner) = Arc::clone(snapshot);
    }

    /// Reloads the state when another process committed to the same file.
    fn refresh(&self, inner: &mut Inner, today: CalendarDate) -> Result<(), StoreError> {
        let revision = current_revision(&inner.conn)?;
        if revision != inner.snapshot.revision {
            let state = load_state(&inner.conn)?;
            inner.errors = error_set(&state, today);
            inner.snapshot = Arc::new(Snapshot { state, revision });
            self.publish(&inner.snapshot);
        }
        Ok(())
    }

    /// The committed state and revision, shared: no copy is made. While a commit is in
    /// progress in this process, readers get the last committed snapshot at once rather
    /// than wait for it.
    ///
    /// # Errors
    /// SQLite errors while checking for commits by another process.
    pub fn snapshot(&self, today: CalendarDate) -> Result<Arc<Snapshot>, StoreError> {
        let mut inner = match self.inner.try_lock() {
            Ok(inner) => inner,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                return Ok(Arc::clone(
                    &self.published.lock().unwrap_or_else(PoisonError::into_inner),
                ));
            }
        };
        self.refresh(&mut inner, today)?;
        Ok(Arc::clone(&inner.snapshot))
    }

    /// A copy of the committed state and its revision.
    ///
    /// # Errors
    /// As [`Store::snapshot`].
    pub fn read_state(&self, today: CalendarDate) -> Result<(State, u64), StoreError> {
        let snapshot = self.snapshot(today)?;
        Ok((snapshot.state.clone(), snapshot.revision))
    }

    /// Commits `changes` as one batch and returns the new revision. An empty batch commits
    /// nothing and returns the current revision.
    ///
    /// # Guarantees
    /// All or nothing: the resources and the audit entry are written in one transaction,
    /// and only when every change applies and the result breaks no rule it did not already
    /// break. Removing a partner org revokes its partners everywhere in the same batch.
    ///
    /// # Errors
    /// [`CommitError::Stale`] when `expected_revision` is given and not current;
    /// [`CommitError::Protected`] when deleting a portal whose committed `protect` is true;
    /// [`CommitError::Invalid`] with one problem per offence; storage errors.
    pub fn commit(
        &self,
        expected_revision: Option<u64>,
        changes: &[Change],
        meta: &ChangeMeta,
        actor: &str,
        today: CalendarDate,
    ) -> Result<u64, CommitError> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        self.refresh(inner, today)?;
        let before = &inner.snapshot.state;
        let current = inner.snapshot.revision;
        if expected_revision.is_some_and(|expected| expected != current) {
            return Err(CommitError::Stale { current });
        }
        if changes.is_empty() {
            return Ok(current);
        }
        for change in changes {
            if let Change::Delete {
                key: ResourceKey::Portal(name),
            } = change
                && before.portals.get(name).is_some_and(|portal| portal.protect)
            {
                return Err(CommitError::Protected(name.clone()));
            }
        }
        let mut after = before.clone();
        after.apply(changes).map_err(|errors| {
            CommitError::Invalid(portalctl_core::api::from_change_errors(errors, changes))
        })?;
        let violations: Vec<_> = rules::check(&after, today)
            .into_iter()
            .filter(|violation| violation.severity == Severity::Error)
            .collect();
        let added: Vec<_> = violations
            .iter()
            .filter(|violation| {
                !inner
                    .errors
                    .contains(&(violation.at.to_string(), violation.message.clone()))
            })
            .cloned()
            .collect();
        if !added.is_empty() {
            return Err(CommitError::Invalid(portalctl_core::api::from_violations(
                &added, changes,
            )));
        }
        let revision = current + 1;
        let audit_changes =
            serde_json::to_string(&portalctl_core::api::masked_changes(changes, before, &after))
                .map_err(StoreError::from)?;
        let meta_json = serde_json::to_string(meta).map_err(StoreError::from)?;
        let time = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let tx = inner.conn.transaction().map_err(StoreError::from)?;
        {
            let mut upsert = tx
                .prepare_cached("INSERT OR REPLACE INTO resources (kind, key, value) VALUES (?1, ?2, ?3)")
                .map_err(StoreError::from)?;
            let mut delete = tx
                .prepare_cached("DELETE FROM resources WHERE kind = ?1 AND key = ?2")
                .map_err(StoreError::from)?;
            for key in touched_keys(changes, before) {
                let new = after.get(&key);
                if new == before.get(&key) {
                    continue;
                }
                let key_json = serde_json::to_string(&key.parts()).map_err(StoreError::from)?;
                let kind = key.kind().as_str();
                match new {
                    Some(value) => {
                        let value_json = serde_json::to_string(&value.to_json()).map_err(StoreError::from)?;
                        upsert
                            .execute(params![kind, key_json, value_json])
                            .map_err(StoreError::from)?;
                    }
                    None => {
                        delete
                            .execute(params![kind, key_json])
                            .map_err(StoreError::from)?;
                    }
                }
            }
            tx.execute(
                "INSERT INTO audit (revision, time, token, meta, change_count, changes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    i64::try_from(revision).unwrap_or(i64::MAX),
                    time,
                    actor,
                    meta_json,
                    i64::try_from(changes.len()).unwrap_or(i64::MAX),
                    audit_changes
                ],
            )
            .map_err(StoreError::from)?;
        }
        tx.commit().map_err(StoreError::from)?;
        inner.errors = violations
            .into_iter()
            .map(|violation| (violation.at.to_string(), violation.message))
            .collect();
        inner.snapshot = Arc::new(Snapshot {
            state: after,
            revision,
        });
        self.publish(&inner.snapshot);
        Ok(revision)
    }

    /// Committed batches with a revision above `after`, oldest first, at most `limit`.
    ///
    /// # Errors
    /// SQLite errors; a malformed audit row.
    pub fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let inner = self.lock();
        let mut statement = inner.conn.prepare_cached(
            "SELECT revision, time, token, meta, change_count, changes FROM audit
             WHERE revision > ?1 ORDER BY revision LIMIT ?2",
        )?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = statement.query(params![after, limit])?;
        let mut entries = Vec::new();
        while let Some(row) = rows.next()? {
            let revision: i64 = row.get(0)?;
            let meta: String = row.get(3)?;
            let count: i64 = row.get(4)?;
            let changes: String = row.get(5)?;
            let corrupt = |error: serde_json::Error| StoreError::Corrupt {
                kind: "audit entry".into(),
                key: revision.to_string(),
                message: error.to_string(),
            };
            entries.push(AuditEntry {
                revision: u64::try_from(revision).unwrap_or(0),
                time: row.get(1)?,
                token: row.get(2)?,
                meta: serde_json::from_str(&meta).map_err(corrupt)?,
                change_count: u64::try_from(count).unwrap_or(0),
                changes: serde_json::from_str(&changes).map_err(corrupt)?,
            });
        }
        Ok(entries)
    }
}

#[cfg(test)]
mod tests;
