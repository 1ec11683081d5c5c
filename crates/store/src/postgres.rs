//! The PostgreSQL [`Backend`]: several `serve` replicas on one database.
//!
//! The schema mirrors SQLite's (resources by natural key with the revision that last wrote
//! them and deletion tombstones; one audit row per batch) plus a one-row `head` table. A
//! commit locks that row (`SELECT ... FOR UPDATE`), so commits from every replica are
//! serialised and checked against the durable head; it sends `NOTIFY portalctl_commit`
//! inside the transaction, so listeners hear of it exactly when it is visible.
//!
//! Connections are plain `postgres` clients (tokio-postgres behind a blocking facade: the
//! store is called from blocking threads): one for commits, a few for reads, one that
//! listens. A closed connection is dropped and opened again on next use, so the backend
//! reconnects by itself after the database restarts or terminates it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Statement};

use crate::StoreError;
use crate::auth::SqlValue;
use crate::backend::{AuditChanges, AuditPage, AuditRecord, Backend, DurableCommitError, Write, WriteRef};
use crate::outbox::{self, MessageRow, NewMessage, OutboxMessage, OutboxQuery};
use crate::sqlite::{parse_row, parse_state};
use portalctl_core::model::{State, WireChange};

/// The channel commits are announced on.
pub const COMMIT_CHANNEL: &str = "portalctl_commit";

/// How many read connections a backend keeps.
const READERS: usize = 4;

/// How long connecting may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A `postgres://` URL whose password never reaches output: [`fmt::Display`] and
/// [`fmt::Debug`] show `***` in its place.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
}

impl DatabaseUrl {
    /// Accepts `postgres://` and `postgresql://` URLs.
    ///
    /// # Errors
    /// Any other scheme, or a URL the driver cannot read (the message holds no password).
    pub fn parse(text: &str) -> Result<Self, String> {
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err("a PostgreSQL URL starts with `postgres://`".into());
        }
        text.parse::<postgres::Config>()
            .map_err(|error| format!("cannot read the PostgreSQL URL: {error}"))?;
        Ok(Self {
            url: text.to_string(),
        })
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The same server with another database name (tests and `migrate` use it).
    #[must_use]
    pub fn with_database(&self, name: &str) -> Self {
        let (base, query) = match self.url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.url.as_str(), None),
        };
        let scheme_end = base.find("://").map_or(0, |at| at + 3);
        let path_start = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |at| scheme_end + at);
        let mut url = format!("{}/{name}", &base[..path_start]);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        Self { url }
    }

    fn redacted(&self) -> String {
        let Some(scheme_end) = self.url.find("://").map(|at| at + 3) else {
            return "***".into();
        };
        let rest = &self.url[scheme_end..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let mut shown = self.url[..scheme_end].to_string();
        match rest[..authority_end].rfind('@') {
            Some(at) => {
                let userinfo = &rest[..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => shown.push_str(&format!("{user}:***")),
                    None => shown.push_str(userinfo),
                }
                shown.push_str(&rest[at..authority_end]);
            }
            None => shown.push_str(&rest[..authority_end]),
        }
        let path = &rest[authority_end..];
        // A password may also come as a `password=` query parameter.
        match path.split_once('?') {
            Some((path, query)) => {
                shown.push_str(path);
                shown.push('?');
                let parameters: Vec<String> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((name, _)) if name.eq_ignore_ascii_case("password") => format!("{name}=***"),
                        _ => pair.to_string(),
                    })
                    .collect();
                shown.push_str(&parameters.join("&"));
            }
            None => shown.push_str(path),
        }
        shown
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "DatabaseUrl({})", self.redacted())
    }
}

/// Opens a connection to `url`.
///
/// # Errors
/// [`StoreError::Postgres`] when the server is unreachable or refuses.
pub fn connect(url: &DatabaseUrl) -> Result<Client, StoreError> {
    let mut config: postgres::Config = url
        .expose()
        .parse()
        .map_err(|error: postgres::Error| StoreError::Unavailable(error.to_string()))?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name("portalctl");
    config.connect(NoTls).map_err(StoreError::from)
}

/// One connection, opened on first use and again after it was lost.
struct Slot {
    client: Mutex<Option<Connection>>,
}

/// A connection and the statements prepared on it.
struct Connection {
    client: Client,
    /// By SQL text. A statement sent as text is parsed in a round trip of its own every
    /// time it runs (and closed in another message); the commit path runs the same few
    /// on every write (issue 26).
    prepared: HashMap<&'static str, Statement>,
}

struct SlotGuard<'a> {
    guard: MutexGuard<'a, Option<Connection>>,
    /// Whether the connection was opened for this use (session state such as `LISTEN` is
    /// gone).
    fresh: bool,
}

impl SlotGuard<'_> {
    /// Drops the connection, so the next user opens a new one.
    fn discard(&mut self) {
        *self.guard = None;
    }

    fn connection(&mut self) -> &mut Connection {
        // `Slot::connected` only hands out a guard whose connection is set.
        self.guard.as_mut().expect("a connected slot")
    }

    fn client(&mut self) -> &mut Client {
        &mut self.connection().client
    }

    /// `sql` prepared on this connection, once for the connection's life.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        let connection = self.connection();
        if let Some(statement) = connection.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = connection.client.prepare(sql)?;
        connection.prepared.insert(sql, statement.clone());
        Ok(statement)
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        // A connection lost mid-use is dropped, so the next user reconnects.
        if self
            .guard
            .as_ref()
            .is_some_and(|connection| connection.client.is_closed())
        {
            *self.guard = None;
        }
    }
}

impl Slot {
    fn new() -> Self {
        Self {
            client: Mutex::new(None),
        }
    }

    fn lock(&self, url: &DatabaseUrl) -> Result<SlotGuard<'_>, StoreError> {
        let guard = self.client.lock().unwrap_or_else(PoisonError::into_inner);
        Self::connected(guard, url)
    }

    fn try_lock(&self, url: &DatabaseUrl) -> Option<Result<SlotGuard<'_>, StoreError>> {
        let guard = self.client.try_lock().ok()?;
        Some(Self::connected(guard, url))
    }

    fn connected<'a>(
        mut guard: MutexGuard<'a, Option<Connection>>,
        url: &DatabaseUrl,
    ) -> Result<SlotGuard<'a>, StoreError> {
        let fresh = guard
            .as_ref()
            .is_none_or(|connection| connection.client.is_closed());
        if fresh {
            *guard = Some(Connection {
                client: connect(url)?,
                prepared: HashMap::new(),
            });
        }
        Ok(SlotGuard { guard, fresh })
    }
}

/// Each step moves the schema from version `index` to `index + 1`.
const STEPS: &[&str] = &[
    // 1: resources by natural key with tombstones and the revision that wrote them; one
    // audit row per batch; the head row that commits lock.
    "CREATE TABLE head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        revision BIGINT NOT NULL
    );
    INSERT INTO head VALUES (1, 0);
    CREATE TABLE resources (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        revision BIGINT NOT NULL,
        deleted BOOLEAN NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE INDEX resources_by_revision ON resources (revision);
    CREATE TABLE audit (
        revision BIGINT PRIMARY KEY,
        time TEXT NOT NULL,
        token TEXT NOT NULL,
        meta TEXT NOT NULL,
        change_count BIGINT NOT NULL,
        changes TEXT NOT NULL,
        changes_bytes BIGINT NOT NULL
    );",
    // 2: how many of an audit entry's changes the batch caused rather than sent.
    "ALTER TABLE audit ADD COLUMN caused_count BIGINT NOT NULL DEFAULT 0;",
    // 3: the outbox, mail waiting to be sent (times in milliseconds since the epoch).
    "CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        portal TEXT NOT NULL,
        recipient TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        sent_at BIGINT,
        last_error TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;",
    // 4: partner sign-in: link tokens, sessions, TOTP enrolments, recovery codes.
    crate::auth::TABLES,
    // 5: tokens created by the service (their SHA-256, never the token).
    crate::tokens::TABLES,
    // 6: what staff did in the console that changes no resource (their batches are in
    // the audit log).
    crate::staff::TABLES,
    // 7: the SCIM profiles of partner orgs' people (`scim.rs`): not state.
    crate::scim::TABLES,
    // 8: the read audit of sensitive values revealed to an admin token.
    crate::reveals::POSTGRES_TABLE,
    // 9: the audit log by subject and actor, filled on read (`audit_index.rs`).
    crate::audit_index::TABLES,
];

/// The PostgreSQL schema version this binary writes.
pub const POSTGRES_SCHEMA_VERSION: u32 = STEPS.len() as u32;

/// Brings the database to [`POSTGRES_SCHEMA_VERSION`], one replica at a time (an advisory
/// lock), and refuses a newer schema.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction()?;
    // Two replicas starting together on an empty database must not both create it.
    tx.execute("SELECT pg_advisory_xact_lock(7358001)", &[])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let found: Option<i32> = tx
        .query_opt("SELECT version FROM schema_version", &[])?
        .map(|row| row.get(0));
    let found = found.map_or(0, |version| u32::try_from(version).unwrap_or(0));
    if found > POSTGRES_SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            found,
            supported: POSTGRES_SCHEMA_VERSION,
        });
    }
    if found == POSTGRES_SCHEMA_VERSION {
        return Ok(());
    }
    for step in &STEPS[found as usize..] {
        tx.batch_execute(step)?;
    }
    tx.execute("DELETE FROM schema_version", &[])?;
    tx.execute(
        "INSERT INTO schema_version VALUES ($1)",
        &[&i32::try_from(POSTGRES_SCHEMA_VERSION).unwrap_or(i32::MAX)],
    )?;
    tx.commit()?;
    Ok(())
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Inserts `mail` on `client` (inside the caller's transaction), due now.
fn insert_mail(
    client: &mut impl postgres::GenericClient,
    mail: &[NewMessage],
) -> Result<Vec<u64>, StoreError> {
    if mail.is_empty() {
        return Ok(Vec::new());
    }
    let now = outbox::now_millis();
    let mut columns: [Vec<&str>; 6] = Default::default();
    for message in mail {
        columns[0].push(&message.portal);
        columns[1].push(&message.recipient);
        columns[2].push(message.kind.as_str());
        columns[3].push(&message.subject);
        columns[4].push(&message.text);
        columns[5].push(&message.html);
    }
    // One statement for any number of messages; `WITH ORDINALITY` keeps their order.
    let rows = client.query(
        "INSERT INTO outbox (portal, recipient, kind, subject, text_body, html_body, created_at, attempts, next_attempt_at)
         SELECT portal, recipient, kind, subject, text_body, html_body, $7, 0, $7
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              WITH ORDINALITY AS mail(portal, recipient, kind, subject, text_body, html_body, n)
         ORDER BY n
         RETURNING id",
        &[
            &columns[0],
            &columns[1],
            &columns[2],
            &columns[3],
            &columns[4],
            &columns[5],
            &now,
        ],
    )?;
    let mut ids: Vec<u64> = rows.iter().map(|row| to_u64(row.get(0))).collect();
    ids.sort_unstable();
    Ok(ids)
}

fn postgres_params(params: &[SqlValue]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|value| -> Box<dyn postgres::types::ToSql + Sync> {
            match value {
                SqlValue::Int(int) => Box::new(*int),
                SqlValue::Text(text) => Box::new(text.clone()),
            }
        })
        .collect()
}

fn message_row(row: &postgres::Row) -> MessageRow {
    MessageRow {
        id: row.get(0),
        portal: row.get(1),
        recipient: row.get(2),
        kind: row.get(3),
        subject: row.get(4),
        text: row.get(5),
        html: row.get(6),
        created_at: row.get(7),
        attempts: i64::from(row.get::<_, i32>(8)),
        next_attempt_at: row.get(9),
        sent_at: row.get(10),
        last_error: row.get(11),
    }
}

/// A PostgreSQL database shared by any number of replicas.
pub struct PostgresBackend {
    url: DatabaseUrl,
    writer: Slot,
    readers: Vec<Slot>,
    listener: Slot,
    /// Whether `listener` has run `LISTEN` since it connected.
    listening: Mutex<bool>,
    /// Whether the writer connection holds the commit turn ([`Backend::take_turn`]).
    in_turn: std::sync::atomic::AtomicBool,
}

impl PostgresBackend {
    /// Connects to and migrates the database at `url`.
    ///
    /// # Errors
    /// [`StoreError::TooNew`] for a schema of a newer portalctl; an unreachable server.
    pub fn open(url: &DatabaseUrl) -> Result<Self, StoreError> {
        let backend = Self {
            url: url.clone(),
            writer: Slot::new(),
            readers: (0..READERS).map(|_| Slot::new()).collect(),
            listener: Slot::new(),
            listening: Mutex::new(false),
            in_turn: std::sync::atomic::AtomicBool::new(false),
        };
        migrate(backend.writer.lock(&backend.url)?.client())?;
        Ok(backend)
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Runs `work` on a read connection; when that connection turns out lost (the server
    /// restarted or ended it), once more on a new one: a read is safe to repeat.
    fn read<T>(
        &self,
        mut work: impl FnMut(&mut SlotGuard<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.reader()?;
        match work(&mut guard) {
            Err(error) if error.is_unavailable() => {
                guard.discard();
                drop(guard);
                work(&mut self.reader()?)
            }
            other => other,
        }
    }

    /// Writes `writes` and `record` as revision `expected + 1` in one transaction on
    /// `writer`; `sent_commit` turns true once what commits is sent.
    ///
    /// # Guarantees
    /// One round trip, whatever the batch: one statement, its own transaction, that moves
    /// the head (if it is still `expected`), writes the rows and the audit entry and
    /// announces the commit. With mail, three more: the statement and the mail go
    /// between `START TRANSACTION` and `COMMIT`.
    fn write_batch(
        writer: &mut SlotGuard<'_>,
        expected: u64,
        writes: &[WriteRef<'_>],
        record: &AuditRecord,
        mail: &[NewMessage],
        sent_commit: &mut bool,
    ) -> Result<u64, DurableCommitError> {
        let commit_batch = writer.statement(COMMIT_BATCH)?;
        let read_head = writer.statement(READ_HEAD)?;
        let revision = to_i64(expected + 1);
        let mut kinds = Vec::with_capacity(writes.len());
        let mut keys = Vec::with_capacity(writes.len());
        let mut values = Vec::with_capacity(writes.len());
        let mut deleted = Vec::with_capacity(writes.len());
        for write in writes {
            kinds.push(write.key.kind().as_str().to_string());
            keys.push(serde_json::to_string(&write.key.parts()).map_err(StoreError::from)?);
            match write.value {
                Some(value) => {
                    values.push(serde_json::to_string(value).map_err(StoreError::from)?);
                    deleted.push(false);
                }
                None => {
                    values.push("null".to_string());
                    deleted.push(true);
                }
            }
        }
        let meta = serde_json::to_string(&record.meta).map_err(StoreError::from)?;
        let changes_json = &record.changes_json;
        let count = to_i64(record.change_count);
        let bytes = to_i64(changes_json.len() as u64);
        let caused = to_i64(record.caused_count);
        let params: [&(dyn postgres::types::ToSql + Sync); 12] = [
            &kinds,
            &keys,
            &values,
            &deleted,
            &revision,
            &record.time,
            &record.token,
            &meta,
            &count,
            changes_json,
            &bytes,
            &caused,
        ];
        if mail.is_empty() {
            // The statement is its own transaction: one round trip commits the batch. Once
            // it is sent, whether it committed is unknown if the connection is lost.
            *sent_commit = true;
            let advanced = writer
                .client()
                .query(&commit_batch, &params)
                .map_err(StoreError::from)?;
            if advanced.is_empty() {
                let current: i64 = writer
                    .client()
                    .query_one(&read_head, &[])
                    .map_err(StoreError::from)?
                    .get(0);
                return Err(DurableCommitError::Stale {
                    current: to_u64(current),
                });
            }
            return Ok(to_u64(revision));
        }
        let mut tx = writer.client().transaction().map_err(StoreError::from)?;
        // The head row's lock (taken by the statement's `UPDATE`) serialises commits from
        // every replica; the rows are written only if the head was `expected`.
        let advanced = tx.query(&commit_batch, &params).map_err(StoreError::from)?;
        if advanced.is_empty() {
            let current: i64 = tx.query_one(&read_head, &[]).map_err(StoreError::from)?.get(0);
            return Err(DurableCommitError::Stale {
                current: to_u64(current),
            });
        }
        insert_mail(&mut tx, mail)?;
        *sent_commit = true;
        tx.commit().map_err(StoreError::from)?;
        Ok(to_u64(revision))
    }

    /// A free read connection, or the first one to be freed.
    fn reader(&self) -> Result<SlotGuard<'_>, StoreError> {
        for reader in &self.readers {
            if let Some(guard) = reader.try_lock(&self.url) {
                return guard;
            }
        }
        self.readers[0].lock(&self.url)
    }

    fn changes_slice(
        client: &mut impl postgres::GenericClient,
        revision: i64,
        offset: usize,
        limit: usize,
        budget: usize,
    ) -> Result<Vec<WireChange>, StoreError> {
        let rows = client.query(
            "SELECT change.value::text FROM audit,
                    jsonb_array_elements(audit.changes::jsonb) WITH ORDINALITY AS change(value, n)
             WHERE audit.revision = $1 ORDER BY change.n LIMIT $2 OFFSET $3",
            &[&revision, &to_i64(limit as u64), &to_i64(offset as u64)],
        )?;
        crate::backend::changes_within_budget(rows.iter().map(|row| Ok(row.get(0))), revision, budget)
    }

    /// The first changes of `revision` that fit in `budget` bytes (at least one).
    fn changes_prefix(
        client: &mut impl postgres::GenericClient,
        revision: i64,
        budget: usize,
    ) -> Result<Vec<WireChange>, StoreError> {
        let row = client.query_one(
            "SELECT substring(convert_to(changes, 'UTF8') FROM 1 FOR $2::int) FROM audit WHERE revision = $1",
            &[&revision, &i32::try_from(budget + 1).unwrap_or(i32::MAX)],
        )?;
        let prefix: Vec<u8> = row.get(0);
        let changes = crate::sqlite::parse_changes_prefix(&prefix);
        if changes.is_empty() {
            return Self::changes_slice(client, revision, 0, 1, usize::MAX);
        }
        Ok(changes)
    }
}

/// A read-only transaction that sees one snapshot of the database throughout, so that the
/// head it reads and the rows it reads agree.
fn snapshot_transaction(client: &mut postgres::Client) -> Result<postgres::Transaction<'_>, postgres::Error> {
    client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
}

/// The key of the session-level advisory lock that queues commits across replicas
/// ("portalctl" in ASCII, truncated to 63 bits).
const COMMIT_TURN_LOCK: i64 = 0x706f_7274_616c_6374;

// The commit path's statements, prepared once per connection (`SlotGuard::statement`).

/// The turn's timeout first (a session setting), then the wait, in one round trip. The
/// timeout, 120 s, is how long a replica waits for its turn before it answers that the
/// database is unavailable: far beyond any commit, short of a client's patience.
const TAKE_TURN: &str = "SELECT set_config('lock_timeout', '120s', false), pg_advisory_lock($1)";
const READ_HEAD: &str = "SELECT revision FROM head WHERE id = 1";
/// The head, and each resource written after `$1` (none: one row of `NULL`s).
const WRITES_SINCE: &str = "SELECT head.revision, written.kind, written.key,
     CASE WHEN NOT written.deleted THEN written.value END
     FROM head LEFT JOIN resources AS written ON written.revision > $1
     WHERE head.id = 1";
const END_TURN: &str = "SELECT pg_advisory_unlock($1)";
/// A whole batch as revision `$5`, if the head is still `$5 - 1` (else no row): the head
/// moved, one row per resource (arrays unnested server-side, however large the batch),
/// the audit entry, and the commit announced on `COMMIT` with the revision as payload
/// (`pg_notify` is `NOTIFY` as a function; the channel is the literal of
/// `COMMIT_CHANNEL`, which a test keeps equal). Data-modifying `WITH` parts see one
/// another only through `RETURNING`, hence each write's `advanced` guard.
const COMMIT_BATCH: &str = "WITH advanced AS (
         UPDATE head SET revision = $5::bigint WHERE id = 1 AND revision = $5::bigint - 1 RETURNING revision
     ), written AS (
         INSERT INTO resources (kind, key, value, revision, deleted)
         SELECT batch.kind, batch.key, batch.value, advanced.revision, batch.deleted
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[]) AS batch(kind, key, value, deleted),
              advanced
         ON CONFLICT (kind, key) DO UPDATE
         SET value = EXCLUDED.value, revision = EXCLUDED.revision, deleted = EXCLUDED.deleted
     ), audited AS (
         INSERT INTO audit (revision, time, token, meta, change_count, changes, changes_bytes, caused_count)
         SELECT advanced.revision, $6::text, $7::text, $8::text, $9::bigint, $10::text, $11::bigint, $12::bigint
         FROM advanced
     )
     SELECT pg_notify('portalctl_commit', revision::text) FROM advanced";

impl PostgresBackend {
    /// Takes the commit turn on `writer` and reads the head once it is granted.
    fn turn_on(&self, writer: &mut SlotGuard<'_>) -> Result<Option<u64>, StoreError> {
        // A session-level advisory lock on the writer connection: PostgreSQL grants it in
        // the order it was asked for, it outlives the commit's own transaction, and it is
        // released if the connection (or the replica) dies.
        let take = writer.statement(TAKE_TURN)?;
        let read_head = writer.statement(READ_HEAD)?;
        let client = writer.client();
        // The timeout first (a session setting), then the wait, in one round trip.
        client
            .execute(&take, &[&COMMIT_TURN_LOCK])
            .map_err(StoreError::from)?;
        self.in_turn.store(true, std::sync::atomic::Ordering::Relaxed);
        // Read after the lock is granted (a statement sees the rows committed when it
        // starts): every commit made before the turn is in it.
        let head: i64 = client
            .query_one(&read_head, &[])
            .map_err(StoreError::from)?
            .get(0);
        Ok(Some(to_u64(head)))
    }
}

impl Backend for PostgresBackend {
    fn take_turn(&self) -> Result<Option<u64>, StoreError> {
        let mut writer = self.writer.lock(&self.url)?;
        match self.turn_on(&mut writer) {
            // A connection found lost before the lock was granted holds no lock: once more
            // on a new one (a client may not see the loss until it writes to it).
            Err(error)
                if error.is_unavailable() && !self.in_turn.load(std::sync::atomic::Ordering::Relaxed) =>
            {
                writer.discard();
                drop(writer);
                let mut writer = self.writer.lock(&self.url)?;
                self.turn_on(&mut writer)
            }
            other => other,
        }
    }

    fn end_turn(&self) {
        if !self.in_turn.swap(false, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        // A connection lost meanwhile took the lock with it; otherwise it is released here.
        if let Ok(mut writer) = self.writer.lock(&self.url)
            && let Err(error) = writer
                .statement(END_TURN)
                .and_then(|end| Ok(writer.client().execute(&end, &[&COMMIT_TURN_LOCK])?))
        {
            tracing::warn!("could not give up the commit turn: {error}");
            writer.discard();
        }
    }

    fn load(&self) -> Result<(State, u64), StoreError> {
        self.read(|reader| {
            let client = reader.client();
            let mut tx = snapshot_transaction(client)?;
            let head: i64 = tx.query_one("SELECT revision FROM head", &[])?.get(0);
            let mut rows = Vec::new();
            let mut iter = tx.query_raw(
                "SELECT kind, key, value FROM resources WHERE NOT deleted ORDER BY kind, key",
                std::iter::empty::<i32>(),
            )?;
            while let Some(row) = iter.next()? {
                let kind: String = row.get(0);
                let key: String = row.get(1);
                let value: String = row.get(2);
                rows.push(parse_row(&kind, &key, Some(&value))?);
            }
            drop(iter);
            tx.commit()?;
            Ok((parse_state(rows)?, to_u64(head)))
        })
    }

    fn head(&self) -> Result<u64, StoreError> {
        self.read(|reader| {
            let read_head = reader.statement(READ_HEAD)?;
            let revision: i64 = reader.client().query_one(&read_head, &[])?.get(0);
            Ok(to_u64(revision))
        })
    }

    fn commit(
        &self,
        expected: u64,
        writes: &[WriteRef<'_>],
        record: &AuditRecord,
        mail: &[NewMessage],
    ) -> Result<u64, DurableCommitError> {
        let mut writer = self.writer.lock(&self.url)?;
        let mut retried = false;
        loop {
            let mut sent_commit = false;
            match Self::write_batch(&mut writer, expected, writes, record, mail, &mut sent_commit) {
                // A connection found lost before `COMMIT` was sent wrote nothing: once more
                // on a new one. After `COMMIT` the outcome is unknown: the caller catches up.
                Err(DurableCommitError::Storage(error))
                    if !retried && !sent_commit && error.is_unavailable() =>
                {
                    retried = true;
                    writer.discard();
                    drop(writer);
                    writer = self.writer.lock(&self.url)?;
                }
                other => return other,
            }
        }
    }

    fn writes_since(&self, revision: u64) -> Result<(Vec<Write>, u64), StoreError> {
        self.read(|reader| {
            // One statement sees one snapshot: the head and the rows it covers, in one
            // round trip (a commit catching up reads this while other writers wait).
            let since = reader.statement(WRITES_SINCE)?;
            let rows = reader.client().query(&since, &[&to_i64(revision)])?;
            let mut head = None;
            let mut writes = Vec::with_capacity(rows.len());
            for row in rows {
                head = Some(row.get::<_, i64>(0));
                let kind: Option<String> = row.get(1);
                if let Some(kind) = kind {
                    let key: String = row.get(2);
                    let value: Option<String> = row.get(3);
                    writes.push(parse_row(&kind, &key, value.as_deref())?);
                }
            }
            let head = head.ok_or_else(|| StoreError::Unavailable("the head row is missing".into()))?;
            Ok((writes, to_u64(head)))
        })
    }

    fn audit_page(&self, after: u64, limit: usize, max_bytes: usize) -> Result<AuditPage, StoreError> {
        self.read(|reader| {
            let client = reader.client();
            let mut tx = snapshot_transaction(client)?;
            let rows = tx.query(
                "SELECT revision, time, token, meta, change_count, changes_bytes,
                        CASE WHEN changes_bytes <= $3 THEN changes END, caused_count
                 FROM audit WHERE revision > $1 ORDER BY revision LIMIT $2",
                &[&to_i64(after), &to_i64(limit as u64), &to_i64(max_bytes as u64)],
            )?;
            let rows = rows
                .iter()
                .map(|row| -> Result<crate::backend::AuditRow, StoreError> {
                    Ok(crate::backend::AuditRow {
                        revision: row.try_get(0)?,
                        time: row.try_get(1)?,
                        token: row.try_get(2)?,
                        meta: row.try_get(3)?,
                        change_count: row.try_get(4)?,
                        changes_bytes: row.try_get(5)?,
                        whole: row.try_get(6)?,
                        caused_count: row.try_get(7)?,
                    })
                });
            let page = crate::backend::audit_page(rows, max_bytes, |revision| {
                Self::changes_prefix(&mut tx, revision, max_bytes)
            })?;
            tx.commit()?;
            Ok(page)
        })
    }

    fn audit_changes(
        &self,
        revision: u64,
        offset: usize,
        limit: usize,
    ) -> Result<Option<AuditChanges>, StoreError> {
        self.read(|reader| {
            let client = reader.client();
            let mut tx = snapshot_transaction(client)?;
            let count: Option<i64> = tx
                .query_opt(
                    "SELECT change_count FROM audit WHERE revision = $1",
                    &[&to_i64(revision)],
                )?
                .map(|row| row.get(0));
            let Some(count) = count else {
                tx.commit()?;
                return Ok(None);
            };
            let changes = Self::changes_slice(&mut tx, to_i64(revision), offset, limit, usize::MAX)?;
            tx.commit()?;
            Ok(Some(AuditChanges {
                change_count: to_u64(count),
                changes,
            }))
        })
    }

    fn enqueue(&self, mail: &[NewMessage]) -> Result<Vec<u64>, StoreError> {
        // A read connection: commits keep the writer, and an insert needs no head lock.
        // Repeated on a new connection only when the first was found lost before it ran.
        let mut guard = self.reader()?;
        let mut tx = guard.client().transaction()?;
        let ids = insert_mail(&mut tx, mail)?;
        tx.commit()?;
        Ok(ids)
    }

    fn enqueue_with(
        &self,
        mail: &[NewMessage],
        sql: &str,
        params: &[SqlValue],
    ) -> Result<Vec<u64>, StoreError> {
        let values = postgres_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
        let mut guard = self.reader()?;
        let mut tx = guard.client().transaction()?;
        let ids = insert_mail(&mut tx, mail)?;
        tx.execute(sql, &refs)?;
        tx.commit()?;
        Ok(ids)
    }

    fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, StoreError> {
        self.read(|reader| {
            let client = reader.client();
            let rows = client.query(
                &format!(
                    "SELECT {} FROM outbox
                     WHERE ($1::bigint IS NULL OR id < $1) AND (NOT $2 OR sent_at IS NULL)
                       AND ($3::text IS NULL OR portal = $3) AND ($4::text IS NULL OR recipient = $4)
                     ORDER BY id DESC LIMIT $5",
                    outbox::COLUMNS
                ),
                &[
                    &query.before.map(to_i64),
                    &query.unsent_only,
                    &query.portal,
                    &query.recipient,
                    &to_i64(query.limit as u64),
                ],
            )?;
            rows.iter().map(|row| message_row(row).into_message()).collect()
        })
    }

    fn claim_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut guard = self.reader()?;
        // `SKIP LOCKED`: replicas claiming at once take disjoint messages.
        let rows = guard.client().query(
            &format!(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2
                 WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= $1
                              ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
                 RETURNING {}",
                outbox::COLUMNS
            ),
            &[&now, &lease_until, &to_i64(limit as u64)],
        )?;
        let mut messages = rows
            .iter()
            .map(|row| message_row(row).into_message())
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|message| message.id);
        Ok(messages)
    }

    fn mark_sent(&self, ids: &[u64], at: i64) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = ids.iter().map(|id| to_i64(*id)).collect();
        self.read(|reader| {
            let client = reader.client();
            let updated = client.execute(
                "UPDATE outbox SET sent_at = COALESCE(sent_at, $2), last_error = NULL WHERE id = ANY($1)",
                &[&ids, &at],
            )?;
            Ok(usize::try_from(updated).unwrap_or(usize::MAX))
        })
    }

    fn mark_failed(&self, id: u64, error: &str, retry_at: i64) -> Result<bool, StoreError> {
        self.read(|reader| {
            let client = reader.client();
            let updated = client.execute(
                "UPDATE outbox SET last_error = $2, next_attempt_at = $3 WHERE id = $1 AND sent_at IS NULL",
                &[&to_i64(id), &error, &retry_at],
            )?;
            Ok(updated > 0)
        })
    }

    fn sql_execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64, StoreError> {
        let values = postgres_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
        let mut guard = self.reader()?;
        Ok(guard.client().execute(sql, &refs)?)
    }

    fn sql_query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, StoreError> {
        let values = postgres_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(AsRef::as_ref).collect();
        let mut guard = self.reader()?;
        let rows = guard.client().query(sql, &refs)?;
        Ok(rows
            .iter()
            .map(|row| {
                (0..row.len())
                    .map(|at| match *row.columns()[at].type_() {
                        postgres::types::Type::INT8 => SqlValue::Int(row.get(at)),
                        postgres::types::Type::INT4 => {
                            SqlValue::Int(row.get::<_, Option<i32>>(at).map(i64::from))
                        }
                        _ => SqlValue::Text(row.get(at)),
                    })
                    .collect()
            })
            .collect())
    }

    fn wait_for_commit(&self, timeout: Duration) -> Result<(), StoreError> {
        let mut guard = match self.listener.lock(&self.url) {
            Ok(guard) => guard,
            Err(error) => {
                *self.listening.lock().unwrap_or_else(PoisonError::into_inner) = false;
                std::thread::sleep(timeout);
                return Err(error);
            }
        };
        let mut listening = self.listening.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = guard.fresh;
        let client = guard.client();
        if fresh || !*listening {
            client.batch_execute(&format!("LISTEN {COMMIT_CHANNEL}"))?;
            *listening = true;
        }
        let mut notifications = client.notifications();
        let mut waiting = notifications.timeout_iter(timeout);
        let heard = waiting.next();
        if let Err(error) = heard {
            *listening = false;
            return Err(error.into());
        }
        // Several commits may have been announced: one catch-up covers them all.
        drop(waiting);
        let mut more = notifications.iter();
        while let Ok(Some(_)) = more.next() {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_is_announced_on_the_channel_replicas_listen_on() {
        assert!(COMMIT_BATCH.contains(&format!("pg_notify('{COMMIT_CHANNEL}', ")));
    }

    #[test]
    fn the_password_never_shows() {
        let url =
            DatabaseUrl::parse("postgres://alice:s3cret@db.example:5432/portal?sslmode=disable").unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://alice:***@db.example:5432/portal?sslmode=disable"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        let url = DatabaseUrl::parse("postgres://alice@db.example/portal?password=s3cret").unwrap();
        assert_eq!(url.to_string(), "postgres://alice@db.example/portal?password=***");
        let url = DatabaseUrl::parse("postgresql://db.example/portal").unwrap();
        assert_eq!(url.to_string(), "postgresql://db.example/portal");
    }

    #[test]
    fn a_version_1_database_migrates_and_keeps_its_audit_log() {
        let Some(database) = crate::testing::TestDatabase::create() else {
            return;
        };
        database.execute(STEPS[0]);
        database.execute(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version VALUES (1);
             INSERT INTO audit (revision, time, token, meta, change_count, changes, changes_bytes)
                 VALUES (1, 't', 'admin', '{}', 1, '[{\"op\":\"delete\",\"kind\":\"group\",\"key\":[\"g\"]}]', 45);
             UPDATE head SET revision = 1;",
        );
        let backend = PostgresBackend::open(database.url()).unwrap();
        let page = backend.audit_page(0, 10, 1 << 20).unwrap();
        assert_eq!(page.entries.len(), 1);
        assert_eq!(
            (page.entries[0].change_count, page.entries[0].caused_count),
            (1, 0)
        );
        let mut client = connect(database.url()).unwrap();
        let version: i32 = client
            .query_one("SELECT version FROM schema_version", &[])
            .unwrap()
            .get(0);
        assert_eq!(u32::try_from(version).unwrap(), POSTGRES_SCHEMA_VERSION);
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(DatabaseUrl::parse("mysql://x/y").is_err());
        assert!(DatabaseUrl::parse("portal.db").is_err());
    }

    #[test]
    fn another_database_on_the_same_server() {
        let url = DatabaseUrl::parse("postgres://u:p@h:1/test?sslmode=disable").unwrap();
        assert_eq!(
            url.with_database("x").expose(),
            "postgres://u:p@h:1/x?sslmode=disable"
        );
        let url = DatabaseUrl::parse("postgres://h").unwrap();
        assert_eq!(url.with_database("x").expose(), "postgres://h/x");
    }
}
