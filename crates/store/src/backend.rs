//! The durable half of the store, behind one narrow trait so that a second database
//! (PostgreSQL, for several replicas) plugs in without touching the in-memory snapshot,
//! access index or validation, which live in [`crate::Store`].
//!
//! A backend stores resources by natural key and one audit row per committed batch, whose
//! number is the revision. It knows nothing of the rules: it is handed the rows to write.

use portalctl_core::api::{AuditEntry, ChangeMeta};
use portalctl_core::model::{ResourceKey, ResourceValue, State, WireChange};

use crate::StoreError;
use crate::auth::SqlValue;
use crate::outbox::{NewMessage, OutboxMessage, OutboxQuery};

/// One row to write: the resource's value after the batch, or `None` when it is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub key: ResourceKey,
    pub value: Option<ResourceValue>,
}

impl Write {
    pub fn as_ref(&self) -> WriteRef<'_> {
        WriteRef {
            key: &self.key,
            value: self.value.as_ref(),
        }
    }
}

/// A [`Write`] borrowed from a batch or a state: a commit of a million rows writes them
/// without a copy of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRef<'a> {
    pub key: &'a ResourceKey,
    pub value: Option<&'a ResourceValue>,
}

impl WriteRef<'_> {
    pub fn to_write(self) -> Write {
        Write {
            key: self.key.clone(),
            value: self.value.cloned(),
        }
    }
}

/// The audit row of a batch, with its changes already masked.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub time: String,
    pub token: String,
    pub meta: ChangeMeta,
    /// The changes as sent, then those they caused: a JSON array of wire changes, masked
    /// (`portalctl_core::api::masked_changes_json`), kept as text so that a large batch
    /// is never also a tree of JSON values.
    pub changes_json: String,
    /// How many changes `changes_json` holds.
    pub change_count: u64,
    /// How many of `changes`, at the end, were caused rather than sent.
    pub caused_count: u64,
}

/// Why a backend did not commit.
#[derive(Debug, thiserror::Error)]
pub enum DurableCommitError {
    /// The durable head is not the revision the batch was built on (another process or
    /// replica committed first): nothing was written.
    #[error("the durable head is at revision {current}")]
    Stale { current: u64 },
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// A page of the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
}

/// One row of the audit log as both backends select it for a page: `whole` is the
/// changes' JSON when it fits the page's byte budget (`CASE WHEN changes_bytes <= budget`).
pub(crate) struct AuditRow {
    pub revision: i64,
    pub time: String,
    pub token: String,
    pub meta: String,
    pub change_count: i64,
    pub changes_bytes: i64,
    pub whole: Option<String>,
    pub caused_count: i64,
}

/// A page of the audit log from its rows in revision order, filled up to `max_bytes` of
/// changes (an entry too large for what is left ends the page; one too large for a page
/// of its own comes with the changes that fit, read by `prefix(revision)`, and is marked
/// `changes_truncated`). The one reading of a page, for every backend.
pub(crate) fn audit_page(
    rows: impl Iterator<Item = Result<AuditRow, StoreError>>,
    max_bytes: usize,
    mut prefix: impl FnMut(i64) -> Result<Vec<WireChange>, StoreError>,
) -> Result<AuditPage, StoreError> {
    let to_u64 = |value: i64| u64::try_from(value).unwrap_or(0);
    let mut page = AuditPage::default();
    let mut used = 0usize;
    for row in rows {
        let row = row?;
        let revision = row.revision;
        let corrupt = corrupt_audit(revision);
        let length = usize::try_from(row.changes_bytes).unwrap_or(usize::MAX);
        let fits = used.saturating_add(length) <= max_bytes;
        if !fits && !page.entries.is_empty() {
            break;
        }
        let (changes, changes_truncated) = match row.whole {
            Some(text) if fits => (serde_json::from_str(&text).map_err(&corrupt)?, false),
            _ => {
                let changes = prefix(revision)?;
                let truncated = (changes.len() as u64) < to_u64(row.change_count);
                (changes, truncated)
            }
        };
        used = used.saturating_add(length.saturating_add(row.meta.len()));
        page.entries.push(AuditEntry {
            revision: to_u64(revision),
            time: row.time,
            token: row.token,
            meta: serde_json::from_str(&row.meta).map_err(&corrupt)?,
            change_count: to_u64(row.change_count),
            changes,
            caused_count: to_u64(row.caused_count),
            changes_truncated,
        });
        if changes_truncated || used >= max_bytes {
            break;
        }
    }
    Ok(page)
}

/// Up to `budget` bytes of changes of the audit entry at `revision`, read from their JSON
/// texts in order, at least one: the one reading of a slice of changes, for every backend.
pub(crate) fn changes_within_budget(
    texts: impl Iterator<Item = Result<String, StoreError>>,
    revision: i64,
    budget: usize,
) -> Result<Vec<WireChange>, StoreError> {
    let mut changes = Vec::new();
    let mut used = 0;
    for text in texts {
        let text = text?;
        // One more byte for the comma between changes.
        let size = text.len() + 1;
        if !changes.is_empty() && used + size > budget {
            break;
        }
        used += size;
        changes.push(serde_json::from_str(&text).map_err(corrupt_audit(revision))?);
    }
    Ok(changes)
}

/// The error for an audit entry whose stored JSON does not parse.
pub(crate) fn corrupt_audit(revision: i64) -> impl Fn(serde_json::Error) -> StoreError {
    move |error| StoreError::Corrupt {
        kind: "audit entry".into(),
        key: revision.to_string(),
        message: error.to_string(),
    }
}

/// A slice of the changes of one audit entry.
#[derive(Debug, Clone)]
pub struct AuditChanges {
    pub change_count: u64,
    pub changes: Vec<WireChange>,
}

/// The durable store.
///
/// # Guarantees (every implementation)
/// - [`Backend::commit`] is atomic: the rows and the audit row of revision
///   `expected + 1` are written together, and only when the durable head is `expected`.
/// - Reads ([`Backend::audit_page`], [`Backend::audit_changes`], [`Backend::head`]) do not
///   wait for a commit in progress.
pub trait Backend: Send + Sync {
    /// The whole committed state and its revision (0 for an empty store).
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    fn load(&self) -> Result<(State, u64), StoreError>;

    /// The committed revision.
    ///
    /// # Errors
    /// Storage errors.
    fn head(&self) -> Result<u64, StoreError>;

    /// Writes `writes` and `record` as revision `expected + 1`, and enqueues `mail` in the
    /// same transaction.
    ///
    /// # Errors
    /// [`DurableCommitError::Stale`] when the head is not `expected`; storage errors.
    fn commit(
        &self,
        expected: u64,
        writes: &[WriteRef<'_>],
        record: &AuditRecord,
        mail: &[NewMessage],
    ) -> Result<u64, DurableCommitError>;

    /// Waits for this process's turn to commit, in the order processes asked, across every
    /// process on the database, and keeps it until [`Backend::end_turn`]: a batch built
    /// while the turn is held commits on the head it was built on, so replicas that write
    /// together queue instead of retrying (issue 26). Returns the head once the turn is
    /// taken, `None` when the backend has one writer (SQLite: nothing to wait for).
    ///
    /// # Errors
    /// Storage errors.
    fn take_turn(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }

    /// Gives up the turn [`Backend::take_turn`] took; nothing when none is held.
    fn end_turn(&self) {}

    /// Enqueues `mail` in one transaction, due at once; returns the new messages' ids.
    ///
    /// # Errors
    /// Storage errors.
    fn enqueue(&self, mail: &[NewMessage]) -> Result<Vec<u64>, StoreError>;

    /// Enqueues `mail` and runs one statement of [`crate::auth`] (`sql` with `params`, as
    /// [`Backend::sql_execute`]) in one transaction: both are stored, or neither (a link
    /// and the mail that carries it). Returns the new messages' ids.
    ///
    /// # Errors
    /// Storage errors, from either.
    fn enqueue_with(
        &self,
        mail: &[NewMessage],
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<u64>, StoreError>;

    /// Messages matching `query`, newest first.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Leases up to `limit` unsent messages due at `now` (milliseconds since the epoch),
    /// oldest first: each one's `attempts` grows by one and its `next_attempt_at` becomes
    /// `lease_until`, in one statement, so no other sender claims it meanwhile.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError>;

    /// Marks the messages `ids` sent at `at`, in one statement (a message already sent
    /// keeps its first time); returns how many of them exist.
    ///
    /// # Errors
    /// Storage errors.
    fn mark_sent(&self, ids: &[u64], at: i64) -> Result<usize, StoreError>;

    /// Records why sending message `id` failed and when to try again; `false` when there
    /// is no such unsent message.
    ///
    /// # Errors
    /// Storage errors.
    fn mark_failed(&self, id: u64, error: &str, retry_at: i64) -> Result<bool, StoreError>;

    /// Every resource written by the batches after `revision`, with its value now, and the
    /// head they bring the state to: what a copy at `revision` needs to catch up.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    fn writes_since(&self, revision: u64) -> Result<(Vec<Write>, u64), StoreError>;

    /// Committed batches after revision `after`, oldest first: at most `limit` entries and
    /// about `max_bytes` of changes. The first entry always comes whole unless its changes
    /// alone exceed `max_bytes`; then it carries as many as fit and `changes_truncated`.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    fn audit_page(&self, after: u64, limit: usize, max_bytes: usize) -> Result<AuditPage, StoreError>;

    /// Changes `offset..offset + limit` of the batch at `revision`, or `None` when there is
    /// no such revision.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    fn audit_changes(
        &self,
        revision: u64,
        offset: usize,
        limit: usize,
    ) -> Result<Option<AuditChanges>, StoreError>;

    /// Runs one statement of [`crate::auth`] (written for both dialects, `$n` parameters)
    /// on a connection that may write; returns the rows it changed.
    ///
    /// # Errors
    /// Storage errors.
    fn sql_execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError>;

    /// Runs one statement of [`crate::auth`] that returns rows (a `SELECT`, or a write with
    /// `RETURNING`); columns come back as [`SqlValue`]s, integers and texts.
    ///
    /// # Errors
    /// Storage errors.
    fn sql_query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, StoreError>;

    /// Waits up to `timeout` for a commit made elsewhere (another replica) to be announced;
    /// returns early when one is. A backend that cannot hear of them just waits, and the
    /// caller polls.
    ///
    /// # Errors
    /// Storage errors (the connection that listens was lost).
    fn wait_for_commit(&self, timeout: std::time::Duration) -> Result<(), StoreError> {
        std::thread::sleep(timeout);
        Ok(())
    }
}
