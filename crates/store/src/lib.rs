//! The store of the live state, used in-process by `portalctl serve` and by the
//! `sqlite:PATH` target of the CLI. It knows nothing of HTTP.
//!
//! Two halves: a durable [`Backend`] (SQLite today; the trait is what a PostgreSQL backend
//! implements) and, in memory, the published [`Snapshot`] (state, access index, revision)
//! with everything that makes a commit cost the size of its batch:
//! - **Validation** judges a batch by the errors it adds, checking only the resources it
//!   may affect ([`rules::added_errors`]), never the whole state.
//! - **Double buffer.** Two copies of the snapshot exist: the published one, which readers
//!   share through an `Arc` and never wait for, and a spare, one batch behind. A commit
//!   brings the spare up to date by replaying the previous batch's writes, applies the new
//!   batch to it (state and access index, incrementally), writes it durably and publishes
//!   it; the old published copy becomes the spare. Nothing is kept per revision, so memory
//!   stays at two copies however many commits are made.
//! - **Read-then-write** callers pass a closure that turns the current state into changes
//!   ([`Store::commit_with`]); it runs under the write lock against the state the batch is
//!   committed on, and is run again if another process committed first.
//!
//! **Architecture invariant:** a batch is written in one durable transaction, checked
//! against the durable head, after it applied and added no rule error; otherwise nothing
//! is written and the published snapshot is untouched.

pub mod audit_index;
pub mod auth;
pub mod backend;
pub mod copy;
mod migrations;
pub mod outbox;
mod postgres;
pub mod reveals;
pub mod scim;
mod sqlite;
pub mod staff;
pub mod testing;
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

pub use audit_index::AuditQuery;
pub use auth::{LinkPurpose, LinkToken, LinkUse, Session, Totp};
pub use backend::{AuditChanges, AuditPage, AuditRecord, Backend, DurableCommitError, Write, WriteRef};
pub use migrations::SCHEMA_VERSION;
pub use outbox::{MailKind, NewMessage, OutboxMessage, OutboxQuery};
pub use portalctl_core::api::{AuditEntry, ChangeMeta, MASK, Problem, Problems};
pub use postgres::{COMMIT_CHANNEL, DatabaseUrl, POSTGRES_SCHEMA_VERSION, PostgresBackend};
pub use scim::ScimProfile;
pub use sqlite::SqliteBackend;
pub use staff::{StaffAction, StaffActionQuery};
pub use tokens::{CreateTokenError, IssuedToken, TokenInfo, TokenScope};

use portalctl_core::access::AccessIndex;
use portalctl_core::model::rules;
use portalctl_core::model::{CalendarDate, Change, Principal, ResourceKey, State};

/// The bytes of changes one audit page carries at most (a batch larger than that alone is
/// truncated and paged through [`Store::audit_changes`]).
pub const AUDIT_PAGE_BYTES: usize = 1024 * 1024;

/// How often a commit is retried when another process committed first.
const CONFLICT_RETRIES: usize = 16;
/// How many commits in a row one process may make on one commit turn while its own writers
/// wait behind each other: handing the turn on saves taking it again and catching up, and
/// the bound lets other replicas' writers, queued on the turn, go next.
const TURN_HANDOFFS: u32 = 8;

/// How long a commit waits for readers to release the spare copy before copying the state.
const SPARE_WAIT: Duration = Duration::from_millis(50);

/// Batches writing more rows than this are not replayed on the spare snapshot: it is copied
/// from the published one instead (see [`Store::commit_with`]). Replaying keeps a copy of
/// the batch's rows until the next commit, which at a million rows is gigabytes; copying
/// costs a moment's work after the commit, during which memory holds three states. Small
/// in unit tests, so the shared suite takes both ways.
const SPARE_REPLAY_MAX: usize = if cfg!(test) { 8 } else { 200_000 };

/// Failures of the database itself.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
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
    #[error("other processes kept committing first; gave up after {0} attempts")]
    Contended(usize),
}

impl StoreError {
    /// Whether the database could not be reached (the connection was refused, lost or
    /// ended by the server), rather than refusing an operation: worth retrying later.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Postgres(error) => {
                error.is_closed()
                    || match error.code() {
                        // Classes 08 (connection exception) and 57 (operator intervention:
                        // shutdown, terminated backend).
                        Some(code) => code.code().starts_with("08") || code.code().starts_with("57"),
                        None => error.as_db_error().is_none(),
                    }
            }
            _ => false,
        }
    }
}

/// Which database a store lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (`FILE` or `sqlite:FILE`).
    Sqlite(PathBuf),
    /// A PostgreSQL database shared by replicas (`postgres://...`).
    Postgres(DatabaseUrl),
}

impl Database {
    /// `postgres://` or `postgresql://` URLs name PostgreSQL; `sqlite:FILE` or any other
    /// text names a SQLite file.
    ///
    /// # Errors
    /// A PostgreSQL URL the driver cannot read.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return DatabaseUrl::parse(text).map(Self::Postgres);
        }
        let path = text.strip_prefix("sqlite:").unwrap_or(text);
        if path.is_empty() {
            return Err("name a SQLite file or a `postgres://` URL".into());
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }
}

impl std::fmt::Display for Database {
    /// The file, or the URL without its password.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(formatter, "{}", path.display()),
            Self::Postgres(url) => write!(formatter, "{url}"),
        }
    }
}

/// Why a batch was not committed.
#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    /// `expected_revision` is not the current revision.
    #[error("the state is at revision {current}, not the expected one")]
    Stale { current: u64 },
    /// At least one change is invalid; nothing was written.
    #[error("{} problem(s) in the batch", .0.total)]
    Invalid(Problems),
    /// Every problem of the batch breaks a rule about other resources (a reference to a
    /// missing one, a cycle, overlapping domains: [`RuleId::depends_on_other_resources`])
    /// or deletes what does not exist:
    /// the batch conflicts with the current state; nothing was written.
    ///
    /// [`RuleId::depends_on_other_resources`]: portalctl_core::model::rules::RuleId::depends_on_other_resources
    #[error("{} problem(s) with the current state", .0.total)]
    Conflict(Problems),
    /// The batch deletes a portal whose live `protect` is true.
    #[error("portal `{0}` is protected: set `protect: false` first")]
    Protected(String),
    /// The batch would take a portal or partner org past its `max_members`.
    #[error("{} seat limit(s) passed", .0.total)]
    SeatLimit(Problems),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// The committed state, its revision and its access index, published together.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub state: State,
    pub revision: u64,
    /// The access index of `state` on `day`.
    pub index: AccessIndex,
    pub day: CalendarDate,
    /// The portals of every email in `state`, for the rules of the next batch.
    pub partners: rules::PartnerPortals,
}

impl Snapshot {
    fn new(state: State, revision: u64, day: CalendarDate) -> Self {
        let index = AccessIndex::new(&state, day);
        let partners = rules::PartnerPortals::new(&state);
        Self {
            state,
            revision,
            index,
            day,
            partners,
        }
    }

    /// Applies rows written by a batch (its own or another process's) to the state and
    /// the access index.
    fn replay(&mut self, writes: &[Write]) -> Result<(), StoreError> {
        let (changes, befores, revoked) = apply_writes(&mut self.state, writes, self.revision)?;
        for (change, before) in changes.iter().zip(&befores) {
            let after = match change {
                Change::Put { value, .. } => Some(value),
                Change::Delete { .. } => None,
            };
            self.partners.update(change.key(), before.as_ref(), after);
        }
        if revoked {
            self.index = AccessIndex::new(&self.state, self.day);
        } else {
            for (change, before) in changes.iter().zip(&befores) {
                let after = self.state.get(change.key());
                self.index
                    .update(change.key(), before.as_ref(), after.as_ref(), self.day);
            }
        }
        Ok(())
    }
}

/// Applies rows to `state`: deletions of partner orgs first, as the batch that wrote them
/// did, then everything else. Returns the changes made, each key's value before them, and
/// whether an org was deleted (which revokes more than the rows name).
#[expect(clippy::type_complexity, reason = "a private helper's three results")]
fn apply_writes(
    state: &mut State,
    writes: &[Write],
    revision: u64,
) -> Result<
    (
        Vec<Change>,
        Vec<Option<portalctl_core::model::ResourceValue>>,
        bool,
    ),
    StoreError,
> {
    let mut ordered: Vec<&Write> = writes.iter().collect();
    ordered.sort_by_key(|write| !matches!((&write.key, &write.value), (ResourceKey::PartnerOrg(_), None)));
    let mut changes: Vec<Change> = Vec::with_capacity(writes.len());
    let mut revoked = false;
    for write in ordered {
        match &write.value {
            Some(value) => changes.push(Change::Put {
                key: write.key.clone(),
                value: value.clone(),
            }),
            None if state.get(&write.key).is_some() => {
                revoked |= matches!(write.key, ResourceKey::PartnerOrg(_));
                changes.push(Change::Delete {
                    key: write.key.clone(),
                });
            }
            None => {}
        }
    }
    let befores: Vec<_> = changes.iter().map(|change| state.get(change.key())).collect();
    state.apply(&changes).map_err(|errors| StoreError::Corrupt {
        kind: "batch".into(),
        key: revision.to_string(),
        message: errors
            .into_iter()
            .map(|error| error.message)
            .collect::<Vec<_>>()
            .join("; "),
    })?;
    Ok((changes, befores, revoked))
}

/// A handle on one store. Cheap to share behind an `Arc`.
pub struct Store {
    path: PathBuf,
    backend: Box<dyn Backend>,
    /// The single writer: the spare copy and what it lacks.
    writer: Mutex<Writer>,
    /// The published snapshot. Readers hold the read lock only to clone the `Arc`.
    published: RwLock<Arc<Snapshot>>,
    /// Whether a spare copy is kept for the next commit (not for a one-off process).
    keeps_spare: bool,
    /// Composes the mail a batch's roster changes send, enqueued with the batch.
    roster_mail: std::sync::OnceLock<Arc<dyn RosterMail>>,
    /// Whether a refused commit's hints are left to the caller ([`Store::leave_hints_to_caller`]).
    hints_left_to_caller: std::sync::atomic::AtomicBool,
    /// Whether a commit is waiting for a reader to let go of the spare copy
    /// ([`Store::a_writer_waits`]).
    writer_waits: std::sync::atomic::AtomicBool,
    /// How many commits wait for the writer: the last one's turn is handed on to them.
    writers_queued: std::sync::atomic::AtomicUsize,
    /// How many commit turns were handed on ([`Store::turns_handed_on`]).
    turns_handed_on: std::sync::atomic::AtomicU64,
}

/// Composes the mail that a batch's roster changes send (invitations, approval results,
/// removal notices: [`portalctl_core::member_mail`]). A store given one
/// ([`Store::send_roster_mail`]) enqueues that mail in the transaction of every batch it
/// commits, whichever endpoint or command sent the batch.
pub trait RosterMail: Send + Sync {
    /// The messages `changes` send when committed on `before`.
    fn mail_for(&self, before: &State, changes: &[Change]) -> Vec<NewMessage>;
}

struct Writer {
    /// The previously published snapshot, and the writes that bring it to the published
    /// one; `None` after a failure left it in an unknown state (the next commit copies).
    spare: Option<(Arc<Snapshot>, Vec<Write>)>,
    /// The copy of the snapshot loaded at start-up, being made on its own thread: the
    /// first working copy when nothing was published since.
    copying: Option<std::thread::JoinHandle<Snapshot>>,
    /// The commit turn, kept by the last commit for the writer queued behind it, with how
    /// many commits in a row it served (see [`TURN_HANDOFFS`]).
    kept_turn: Option<u32>,
}

/// A raised flag, lowered when dropped.
struct WaitingFlag<'a>(&'a std::sync::atomic::AtomicBool);

impl<'a> WaitingFlag<'a> {
    fn raise(flag: &'a std::sync::atomic::AtomicBool) -> Self {
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        Self(flag)
    }
}

impl Drop for WaitingFlag<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A copy of `snapshot` being made on a thread of its own (`None` if no thread starts:
/// the next commit then copies the snapshot itself).
fn copy_on_a_thread(snapshot: &Arc<Snapshot>) -> Option<std::thread::JoinHandle<Snapshot>> {
    let original = Arc::clone(snapshot);
    std::thread::Builder::new()
        .name("spare-copy".into())
        .spawn(move || (*original).clone())
        .ok()
}

/// The commit turn of [`Backend::take_turn`], given up when dropped (also on an early
/// return or a panic) unless handed on, and the head it was taken at.
struct Turn<'a> {
    backend: &'a dyn Backend,
    head: Option<u64>,
    /// How many commits this turn served before this one.
    served: u32,
    /// Kept for the next writer of this process: not given up when dropped.
    handed_on: bool,
}

impl<'a> Turn<'a> {
    fn take(backend: &'a dyn Backend) -> Result<Self, StoreError> {
        Ok(Self {
            head: backend.take_turn()?,
            backend,
            served: 0,
            handed_on: false,
        })
    }

    /// The turn the previous commit of this process kept: nobody else committed since,
    /// so the head is the revision this process published last.
    fn kept(backend: &'a dyn Backend, head: u64, served: u32) -> Self {
        Self {
            backend,
            head: Some(head),
            served,
            handed_on: false,
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if !self.handed_on {
            self.backend.end_turn();
        }
    }
}

/// Whether the batch deletes a partner org, which revokes rows it does not name.
fn deletes_an_org(changes: &[Change]) -> bool {
    changes.iter().any(|change| {
        matches!(
            change,
            Change::Delete {
                key: ResourceKey::PartnerOrg(_)
            }
        )
    })
}

/// The last change of each key, in the order of the batch.
fn last_changes(changes: &[Change]) -> impl Iterator<Item = &Change> {
    let mut last: std::collections::HashMap<&ResourceKey, usize> =
        std::collections::HashMap::with_capacity(changes.len());
    for (at, change) in changes.iter().enumerate() {
        last.insert(change.key(), at);
    }
    let mut positions: Vec<usize> = last.into_values().collect();
    positions.sort_unstable();
    positions.into_iter().map(move |at| &changes[at])
}

/// The keys a batch may have changed: its own, plus, when it deletes a partner org, every
/// member, group, `user:` and `org:` share, which the org's revocation may have changed.
fn touched_keys(changes: &[Change], before: &State) -> Vec<ResourceKey> {
    let mut keys: Vec<ResourceKey> = changes.iter().map(|change| change.key().clone()).collect();
    if deletes_an_org(changes) {
        keys.extend(before.members.keys().map(|(portal, email)| ResourceKey::Member {
            portal: portal.clone(),
            email: email.clone(),
        }));
        keys.extend(before.groups.keys().cloned().map(ResourceKey::Group));
        keys.extend(
            before
                .shares
                .keys()
                .filter(|(_, principal)| matches!(principal, Principal::User(_) | Principal::Org(_)))
                .map(|(folder, principal)| ResourceKey::Share {
                    folder: folder.clone(),
                    principal: principal.clone(),
                }),
        );
    }
    let mut seen = std::collections::HashSet::new();
    keys.retain(|key| seen.insert(key.clone()));
    keys
}

/// The changes a batch caused beyond those sent: each written row whose key no sent change
/// names (a partner, group entry or share revoked with a deleted partner org), as a put of
/// its new value or a delete, in kind order (then by key).
fn caused_changes(sent: &[Change], writes: &[WriteRef<'_>]) -> Vec<Change> {
    let named: std::collections::HashSet<&ResourceKey> = sent.iter().map(Change::key).collect();
    let mut caused: Vec<Change> = writes
        .iter()
        .filter(|write| !named.contains(write.key))
        .map(|write| match write.value {
            Some(value) => Change::Put {
                key: write.key.clone(),
                value: value.clone(),
            },
            None => Change::Delete {
                key: write.key.clone(),
            },
        })
        .collect();
    caused.sort_by(|a, b| a.key().cmp(b.key()));
    caused
}

/// "Did you mean" hints a refusal gets at most: each may scan a whole collection (every
/// partner's email for an unknown one).
pub const HINTS_PER_REFUSAL: usize = 5;

/// `error` with the hints of its first problems looked for in `state` (the state the batch
/// was refused on), after the writer lock is released.
fn with_hints(error: CommitError, state: &State) -> CommitError {
    match error {
        CommitError::Invalid(mut problems) => {
            problems.resolve_hints(state, HINTS_PER_REFUSAL);
            CommitError::Invalid(problems)
        }
        CommitError::Conflict(mut problems) => {
            problems.resolve_hints(state, HINTS_PER_REFUSAL);
            CommitError::Conflict(problems)
        }
        other => other,
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) and migrates the SQLite database at `path`, and loads the
    /// state.
    ///
    /// # Errors
    /// [`StoreError::TooNew`] for a database of a newer portalctl; SQLite errors; a
    /// malformed row.
    pub fn open(path: &Path, today: CalendarDate) -> Result<Self, StoreError> {
        Self::with_backend(
            path.to_path_buf(),
            Box::new(SqliteBackend::open_checkpointing_in_background(path)?),
            today,
        )
    }

    /// Opens (creating or migrating if needed) the SQLite file or PostgreSQL database, and
    /// loads the state.
    ///
    /// # Errors
    /// As [`Store::open`]; an unreachable PostgreSQL server.
    pub fn open_database(database: &Database, today: CalendarDate) -> Result<Self, StoreError> {
        match database {
            Database::Sqlite(path) => Self::open(path, today),
            Database::Postgres(url) => Self::with_backend(
                PathBuf::from(url.to_string()),
                Box::new(PostgresBackend::open(url)?),
                today,
            ),
        }
    }

    /// A store over any backend; `path` names it in messages.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn with_backend(
        path: PathBuf,
        backend: Box<dyn Backend>,
        today: CalendarDate,
    ) -> Result<Self, StoreError> {
        Self::loaded(path, backend, today, true)
    }

    /// A store for a process that commits once or twice and exits (the CLI's `sqlite:`
    /// target): no spare snapshot is kept between commits, so none is copied at start-up
    /// or after a commit; each commit copies the published snapshot instead.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_for_few_commits(path: &Path, today: CalendarDate) -> Result<Self, StoreError> {
        Self::loaded(
            path.to_path_buf(),
            Box::new(SqliteBackend::open(path)?),
            today,
            false,
        )
    }

    fn loaded(
        path: PathBuf,
        backend: Box<dyn Backend>,
        today: CalendarDate,
        keeps_spare: bool,
    ) -> Result<Self, StoreError> {
        let (state, revision) = backend.load()?;
        let snapshot = Arc::new(Snapshot::new(state, revision, today));
        // The spare is copied now, so that memory at rest already holds both copies, but on
        // a thread of its own: a copy of a million partners takes a second or two, which
        // start-up need not wait for. The first commit waits for it if it is not done.
        let copying = keeps_spare.then(|| copy_on_a_thread(&snapshot)).flatten();
        Ok(Self {
            path,
            backend,
            writer: Mutex::new(Writer {
                spare: None,
                copying,
                kept_turn: None,
            }),
            published: RwLock::new(snapshot),
            keeps_spare,
            roster_mail: std::sync::OnceLock::new(),
            hints_left_to_caller: std::sync::atomic::AtomicBool::new(false),
            writer_waits: std::sync::atomic::AtomicBool::new(false),
            writers_queued: std::sync::atomic::AtomicUsize::new(0),
            turns_handed_on: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durable backend, for reads that need no snapshot.
    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        // A panic cannot leave `Writer` half-updated: the spare is taken out while in use.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The published snapshot, never waiting for a commit.
    pub fn published(&self) -> Arc<Snapshot> {
        Arc::clone(&self.published.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn publish(&self, snapshot: Arc<Snapshot>) {
        *self.published.write().unwrap_or_else(PoisonError::into_inner) = snapshot;
    }

    /// The committed state and revision, shared: no copy is made. Catches up first with
    /// commits made by another process on the same database, unless a commit is in
    /// progress here (then the published snapshot is returned at once).
    ///
    /// # Errors
    /// Storage errors while catching up.
    pub fn snapshot(&self, today: CalendarDate) -> Result<Arc<Snapshot>, StoreError> {
        let published = self.published();
        if self.backend.head()? == published.revision {
            return Ok(published);
        }
        match self.writer.try_lock() {
            Ok(mut writer) => self.refresh(&mut writer, today),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                self.refresh(&mut poisoned.into_inner(), today)
            }
            Err(std::sync::TryLockError::WouldBlock) => Ok(published),
        }
    }

    /// The committed state at the database's head (or newer), for a decision that must
    /// see every commit acknowledged so far, on any replica: a partner page after a
    /// removal through another replica. Unlike [`Store::snapshot`], when a commit or a
    /// catch-up holds the writer here it waits for it rather than answer the older
    /// published snapshot (which a catch-up in progress on a loaded machine made a page
    /// answer with a removed member's access).
    ///
    /// # Errors
    /// Storage errors while reading the head or catching up.
    pub fn newest_snapshot(&self, today: CalendarDate) -> Result<Arc<Snapshot>, StoreError> {
        let head = self.backend.head()?;
        let published = self.published();
        if published.revision >= head {
            return Ok(published);
        }
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        // Whoever held the writer may have published the head meanwhile.
        let published = self.published();
        if published.revision >= head {
            return Ok(published);
        }
        self.refresh(&mut writer, today)
    }

    /// A copy of the committed state and its revision.
    ///
    /// # Errors
    /// As [`Store::snapshot`].
    pub fn read_state(&self, today: CalendarDate) -> Result<(State, u64), StoreError> {
        let snapshot = self.snapshot(today)?;
        Ok((snapshot.state.clone(), snapshot.revision))
    }

    /// Whether a commit is waiting (up to a few tens of ms) for a reader to let go of a
    /// snapshot it could reuse instead of copying the state: a reader doing optional work
    /// on a snapshot (a "did you mean" search) stops when this says so.
    pub fn a_writer_waits(&self) -> bool {
        self.writer_waits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many times a commit kept the database's commit turn for the next writer of
    /// this process instead of giving it up (PostgreSQL; always 0 on SQLite).
    pub fn turns_handed_on(&self) -> u64 {
        self.turns_handed_on.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A working copy equal to the published snapshot: the spare brought up to date when
    /// no reader holds it any more, else a copy.
    fn working_copy(&self, writer: &mut Writer, published: &Arc<Snapshot>) -> Snapshot {
        if let Some(copying) = writer.copying.take()
            && let Ok(copy) = copying.join()
            && writer.spare.is_none()
            && copy.revision == published.revision
            && copy.day == published.day
        {
            return copy;
        }
        if let Some((mut spare, pending)) = writer.spare.take() {
            let deadline = Instant::now() + SPARE_WAIT;
            let mut waiting = None;
            loop {
                match Arc::get_mut(&mut spare) {
                    Some(copy) => {
                        drop(waiting.take());
                        if copy.replay(&pending).is_ok() {
                            copy.revision = published.revision;
                            if copy.day != published.day {
                                copy.index = AccessIndex::new(&copy.state, published.day);
                                copy.day = published.day;
                            }
                            break;
                        }
                        // Cannot happen: the spare is one batch behind by construction.
                        tracing::warn!("the spare snapshot did not catch up; copying the state");
                        return (**published).clone();
                    }
                    None if Instant::now() < deadline => {
                        waiting.get_or_insert_with(|| WaitingFlag::raise(&self.writer_waits));
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    None => {
                        let copying = Instant::now();
                        let copy = (**published).clone();
                        tracing::debug!(
                            waited_ms = SPARE_WAIT.as_millis() as u64,
                            copy_ms = copying.elapsed().as_millis() as u64,
                            "a reader held the spare snapshot: the state was copied"
                        );
                        return copy;
                    }
                }
            }
            return Arc::try_unwrap(spare).unwrap_or_else(|shared| (*shared).clone());
        }
        (**published).clone()
    }

    /// Catches up with commits another process made, from the rows they wrote.
    fn refresh(&self, writer: &mut Writer, today: CalendarDate) -> Result<Arc<Snapshot>, StoreError> {
        let published = self.published();
        let (writes, head) = self.backend.writes_since(published.revision)?;
        if head == published.revision {
            return Ok(published);
        }
        let mut working = self.working_copy(writer, &published);
        if working.replay(&writes).is_err() {
            // The rows do not apply to our copy (it should not happen): load everything.
            let (state, revision) = self.backend.load()?;
            working = Snapshot::new(state, revision, today);
        }
        working.revision = head;
        if working.day != today {
            working.index = AccessIndex::new(&working.state, today);
            working.day = today;
        }
        let snapshot = Arc::new(working);
        self.publish(Arc::clone(&snapshot));
        if self.keeps_spare {
            writer.spare = Some((published, writes));
        }
        Ok(snapshot)
    }

    /// Commits `changes` as one batch and returns the new revision. An empty batch commits
    /// nothing and returns the current revision.
    ///
    /// # Guarantees
    /// As [`Store::commit_with`].
    ///
    /// # Errors
    /// [`CommitError::Stale`] when `expected_revision` is given and not current; otherwise
    /// as [`Store::commit_with`].
    pub fn commit(
        &self,
        expected_revision: Option<u64>,
        changes: &[Change],
        meta: &ChangeMeta,
        actor: &str,
        today: CalendarDate,
    ) -> Result<u64, CommitError> {
        self.commit_with(meta, actor, today, |_, revision| {
            if let Some(expected) = expected_revision
                && expected != revision
            {
                return Err(CommitError::Stale { current: revision });
            }
            // Borrowed: a batch of a million changes is not copied.
            Ok(changes)
        })
    }

    /// Builds a batch from the current state with `build` and commits it on exactly that
    /// state: the read-then-write of an endpoint cannot lose a concurrent update.
    ///
    /// # Guarantees
    /// - `build` sees the state and revision the batch is committed on; when another
    ///   process commits first, the store catches up and calls `build` again.
    /// - All or nothing: the resources and the audit entry are written in one transaction,
    ///   and only when every change applies and the result breaks no rule it did not
    ///   already break. Removing a partner org revokes its partners everywhere in the same
    ///   batch. An empty batch commits nothing and returns the current revision.
    /// - Costs the size of the batch (plus the reverse lookups of [`rules::Scope`]), not
    ///   the size of the state; readers keep the published snapshot meanwhile.
    ///
    /// # Errors
    /// Whatever `build` returns; [`CommitError::Protected`] when deleting a portal whose
    /// committed `protect` is true; [`CommitError::Invalid`] with one problem per offence;
    /// storage errors.
    pub fn commit_with<E, Batch>(
        &self,
        meta: &ChangeMeta,
        actor: &str,
        today: CalendarDate,
        mut build: impl FnMut(&State, u64) -> Result<Batch, E>,
    ) -> Result<u64, E>
    where
        E: From<CommitError>,
        Batch: AsRef<[Change]>,
    {
        self.commit_with_mail(meta, actor, today, |state, revision| {
            build(state, revision).map(|batch| (batch, Vec::new()))
        })
    }

    /// As [`Store::commit_with`], where `build` also returns the mail the batch causes: the
    /// messages are enqueued in the outbox in the same durable transaction as the batch, so
    /// a change and its mail are stored together or not at all. An empty batch commits
    /// nothing and enqueues nothing.
    ///
    /// # Guarantees
    /// As [`Store::commit_with`]; `build` runs again (and its mail is built again) when
    /// another process committed first, so the mail always describes the committed batch.
    ///
    /// # Errors
    /// As [`Store::commit_with`].
    pub fn commit_with_mail<E, Batch>(
        &self,
        meta: &ChangeMeta,
        actor: &str,
        today: CalendarDate,
        mut build: impl FnMut(&State, u64) -> Result<(Batch, Vec<NewMessage>), E>,
    ) -> Result<u64, E>
    where
        E: From<CommitError>,
        Batch: AsRef<[Change]>,
    {
        use std::sync::atomic::Ordering::Relaxed;
        self.writers_queued.fetch_add(1, Relaxed);
        let mut writer = self.lock_writer();
        self.writers_queued.fetch_sub(1, Relaxed);
        // The database's turn to commit (across replicas), held until this commit ends, or
        // kept by the commit before this one for it.
        let mut turn = match writer.kept_turn.take() {
            Some(served) => Turn::kept(self.backend.as_ref(), self.published().revision, served),
            None => Turn::take(self.backend.as_ref()).map_err(CommitError::from)?,
        };
        // The head when the turn was granted; a retry asks the database again.
        let mut head_at_turn = turn.head;
        for _ in 0..CONFLICT_RETRIES {
            let current = match head_at_turn.take() {
                // Nobody committed since this process last did: nothing to read back.
                Some(head) if head == self.published().revision => self.published(),
                _ => self.refresh(&mut writer, today).map_err(CommitError::from)?,
            };
            let (batch, mut mail) = build(&current.state, current.revision)?;
            let changes = batch.as_ref();
            if changes.is_empty() {
                return Ok(current.revision);
            }
            if let Some(roster_mail) = self.roster_mail.get() {
                mail.extend(roster_mail.mail_for(&current.state, changes));
            }
            match self.try_commit(&mut writer, &current, changes, &mail, meta, actor, today) {
                Err(CommitError::Storage(StoreError::Contended(_))) => {
                    // Another process committed on a turn this one thought it held (kept
                    // across a lost connection): wait for the turn again.
                    if turn.served > 0 {
                        drop(turn);
                        turn = Turn::take(self.backend.as_ref()).map_err(CommitError::from)?;
                        head_at_turn = turn.head;
                    }
                }
                Err(error) => {
                    // Hints may scan every partner: looked for once other writers may go.
                    drop(turn);
                    drop(writer);
                    if self
                        .hints_left_to_caller
                        .load(std::sync::atomic::Ordering::Relaxed)
                    {
                        return Err(error.into());
                    }
                    return Err(with_hints(error, &current.state).into());
                }
                Ok(revision) => {
                    // Hand the turn on to a writer of this process queued behind this one,
                    // a few times in a row at most.
                    if turn.head.is_some()
                        && turn.served + 1 < TURN_HANDOFFS
                        && self.writers_queued.load(Relaxed) > 0
                    {
                        turn.handed_on = true;
                        writer.kept_turn = Some(turn.served + 1);
                        self.turns_handed_on.fetch_add(1, Relaxed);
                    }
                    return Ok(revision);
                }
            }
        }
        Err(CommitError::from(StoreError::Contended(CONFLICT_RETRIES)).into())
    }

    /// From now on, a refused commit's problems keep their unresolved suggestions
    /// ([`portalctl_core::api::Problem::suggestion`]) for the caller to resolve (at most
    /// [`HINTS_PER_REFUSAL`]) once it no longer holds up other writers: the service queues
    /// writers itself, and a writer's turn lasts until the commit returns.
    pub fn leave_hints_to_caller(&self) {
        self.hints_left_to_caller
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// From now on, every committed batch enqueues the mail `composer` says its roster
    /// changes send, in the batch's own transaction (a batch that fails enqueues nothing).
    /// Set once; a second call is ignored and returns `false`.
    pub fn send_roster_mail(&self, composer: Arc<dyn RosterMail>) -> bool {
        self.roster_mail.set(composer).is_ok()
    }

    /// Enqueues `mail` on its own (mail no change causes: a sign-in link), due at once;
    /// returns the messages' ids.
    ///
    /// # Errors
    /// Storage errors.
    pub fn enqueue(&self, mail: &[NewMessage]) -> Result<Vec<u64>, StoreError> {
        self.backend.enqueue(mail)
    }

    /// Messages of the outbox matching `query`, newest first.
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, StoreError> {
        self.backend.outbox(query)
    }

    /// Leases up to `limit` unsent messages due at `now`, oldest first, until `now +
    /// lease`: no other sender (in this process or another replica) claims them before
    /// then. Each claim counts as an attempt. A sender marks each one sent
    /// ([`Store::mark_sent`]) or failed ([`Store::mark_failed`]); one it never marks is
    /// claimed again when the lease ends (at-least-once delivery).
    ///
    /// # Errors
    /// Storage errors; a malformed row.
    pub fn claim_outbox(
        &self,
        now: time::OffsetDateTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let until = now.saturating_add(time::Duration::try_from(lease).unwrap_or(time::Duration::MAX));
        self.backend
            .claim_outbox(outbox::to_millis(now), outbox::to_millis(until), limit)
    }

    /// Marks message `id` sent at `at` (a message already sent keeps its first time);
    /// `false` when there is no such message.
    ///
    /// # Errors
    /// Storage errors.
    pub fn mark_sent(&self, id: u64, at: time::OffsetDateTime) -> Result<bool, StoreError> {
        Ok(self.backend.mark_sent(&[id], outbox::to_millis(at))? > 0)
    }

    /// Marks the messages `ids` sent at `at` in one statement (what a sender does after
    /// the SMTP server accepted a claimed batch); returns how many exist.
    ///
    /// # Errors
    /// Storage errors.
    pub fn mark_all_sent(&self, ids: &[u64], at: time::OffsetDateTime) -> Result<usize, StoreError> {
        self.backend.mark_sent(ids, outbox::to_millis(at))
    }

    /// Records why sending message `id` failed and when it is due again; `false` when
    /// there is no such unsent message.
    ///
    /// # Errors
    /// Storage errors.
    pub fn mark_failed(
        &self,
        id: u64,
        error: &str,
        retry_at: time::OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.backend.mark_failed(id, error, outbox::to_millis(retry_at))
    }

    #[expect(clippy::too_many_arguments, reason = "a private step of `commit_with_mail`")]
    fn try_commit(
        &self,
        writer: &mut Writer,
        current: &Arc<Snapshot>,
        changes: &[Change],
        mail: &[NewMessage],
        meta: &ChangeMeta,
        actor: &str,
        today: CalendarDate,
    ) -> Result<u64, CommitError> {
        let before = &current.state;
        for change in changes {
            if let Change::Delete {
                key: ResourceKey::Portal(name),
            } = change
                && before.portals.get(name).is_some_and(|portal| portal.protect)
            {
                return Err(CommitError::Protected(name.clone()));
            }
        }
        let mut working = self.working_copy(writer, current);
        if let Err(errors) = working.state.apply(changes) {
            // `apply` changes nothing when it refuses: the copy is still current.
            writer.spare = Some((Arc::new(working), Vec::new()));
            // Deleting what does not exist conflicts with the current state.
            let missing = errors.iter().all(|error| error.missing);
            let problems = portalctl_core::api::from_change_errors(errors, changes);
            return Err(if missing {
                CommitError::Conflict(problems)
            } else {
                CommitError::Invalid(problems)
            });
        }
        let revokes = deletes_an_org(changes);
        // The rows to write, and each one's value before the batch. Without an org deleted,
        // a row's new value is its key's last change in the batch: borrowed from it, not
        // copied out of the state (a million rows for an apply from empty). Deleting an org
        // revokes rows the batch does not name: those are read from the state.
        let (revoked, revoked_olds): (Vec<Write>, Vec<_>) = if revokes {
            touched_keys(changes, before)
                .into_iter()
                .filter_map(|key| {
                    let old = before.get(&key);
                    let new = working.state.get(&key);
                    (old != new).then_some((Write { key, value: new }, old))
                })
                .unzip()
        } else {
            Default::default()
        };
        let (writes, olds): (Vec<WriteRef<'_>>, Vec<_>) = if revokes {
            (revoked.iter().map(Write::as_ref).collect(), revoked_olds)
        } else {
            last_changes(changes)
                .filter_map(|change| {
                    let new = match change {
                        Change::Put { value, .. } => Some(value),
                        Change::Delete { .. } => None,
                    };
                    let old = before.get(change.key());
                    (old.as_ref() != new).then(|| {
                        let write = WriteRef {
                            key: change.key(),
                            value: new,
                        };
                        (write, old)
                    })
                })
                .unzip()
        };
        let roll_back = |mut working: Snapshot, writer: &mut Writer| {
            // Undo the batch on the copy (the index was not touched yet), so it can stay
            // the spare. Deleting an org again could revoke more than the batch touched:
            // then drop the copy and let the next commit copy the state.
            let creates_org = writes
                .iter()
                .zip(&olds)
                .any(|(write, old)| matches!((write.key, old), (ResourceKey::PartnerOrg(_), None)));
            let undo: Vec<Write> = writes
                .iter()
                .zip(&olds)
                .map(|(write, old)| Write {
                    key: write.key.clone(),
                    value: old.clone(),
                })
                .collect();
            if !creates_org && apply_writes(&mut working.state, &undo, working.revision).is_ok() {
                writer.spare = Some((Arc::new(working), Vec::new()));
            }
        };
        let seats = rules::seat_limit_errors_with(before, &working.state, changes, Some(&current.partners));
        if !seats.is_empty() {
            roll_back(working, writer);
            return Err(CommitError::SeatLimit(portalctl_core::api::from_violations(
                &seats, changes,
            )));
        }
        // Listed: what a refusal shows; the rest are counted, never held (a batch naming a
        // million unknown partners would otherwise build a million problems).
        let added = rules::added_errors_listed(
            before,
            &working.state,
            changes,
            today,
            Some(&current.partners),
            portalctl_core::api::MAX_LISTED_PROBLEMS,
        );
        if added.total > 0 {
            roll_back(working, writer);
            let mut problems = portalctl_core::api::from_violations(&added.listed, changes);
            problems.total = added.total;
            return Err(if added.all_depend_on_other_resources {
                CommitError::Conflict(problems)
            } else {
                CommitError::Invalid(problems)
            });
        }
        // Only an org's deletion causes rows the batch does not name.
        let caused = if revokes {
            caused_changes(changes, &writes)
        } else {
            Vec::new()
        };
        let changes_json =
            portalctl_core::api::masked_changes_json(changes.iter().chain(&caused), before, &working.state)
                .map_err(|error| CommitError::Storage(StoreError::from(error)))?;
        let record = AuditRecord {
            time: now_rfc3339(),
            token: actor.to_string(),
            meta: meta.clone(),
            changes_json,
            change_count: (changes.len() + caused.len()) as u64,
            caused_count: caused.len() as u64,
        };
        let revision = match self.backend.commit(current.revision, &writes, &record, mail) {
            Ok(revision) => revision,
            Err(error) => {
                roll_back(working, writer);
                return Err(match error {
                    DurableCommitError::Stale { .. } => CommitError::Storage(StoreError::Contended(1)),
                    DurableCommitError::Storage(error) => CommitError::Storage(error),
                });
            }
        };
        if working.day == today {
            for (write, old) in writes.iter().zip(&olds) {
                working.index.update(write.key, old.as_ref(), write.value, today);
            }
        } else {
            working.index = AccessIndex::new(&working.state, today);
            working.day = today;
        }
        for (write, old) in writes.iter().zip(&olds) {
            working.partners.update(write.key, old.as_ref(), write.value);
        }
        working.revision = revision;
        let published = Arc::new(working);
        self.publish(Arc::clone(&published));
        if !self.keeps_spare {
            writer.spare = None;
        } else if writes.len() <= SPARE_REPLAY_MAX {
            writer.spare = Some((
                Arc::clone(current),
                writes.iter().map(|write| write.to_write()).collect(),
            ));
        } else {
            // Keeping a large batch's rows to replay on the spare would hold a second copy
            // of every value: the spare is copied from the published snapshot instead, on
            // a thread, after the commit (the next commit waits for it if need be).
            writer.spare = None;
            writer.copying = copy_on_a_thread(&published);
        }
        Ok(revision)
    }

    /// Every committed batch with a revision above `after`, oldest first, at most
    /// `limit`, each with all its changes (for the in-process target, which reads the
    /// whole history).
    ///
    /// # Errors
    /// Storage errors; a malformed audit row.
    pub fn audit(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = self.backend.audit_page(after, limit, AUDIT_PAGE_BYTES)?.entries;
        for entry in &mut entries {
            if entry.changes_truncated {
                let all = self
                    .backend
                    .audit_changes(entry.revision, 0, usize::MAX >> 1)?
                    .map(|slice| slice.changes)
                    .unwrap_or_default();
                entry.changes = all;
                entry.changes_truncated = false;
            }
        }
        Ok(entries)
    }

    /// One page of the audit log, bounded by `limit` entries and [`AUDIT_PAGE_BYTES`].
    ///
    /// # Errors
    /// Storage errors; a malformed audit row.
    pub fn audit_page(&self, after: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(self.backend.audit_page(after, limit, AUDIT_PAGE_BYTES)?.entries)
    }

    /// Changes `offset..offset + limit` of the batch at `revision`, `None` for no such batch.
    ///
    /// # Errors
    /// Storage errors; a malformed audit row.
    pub fn audit_changes(
        &self,
        revision: u64,
        offset: usize,
        limit: usize,
    ) -> Result<Option<AuditChanges>, StoreError> {
        self.backend.audit_changes(revision, offset, limit)
    }
}

#[cfg(test)]
mod tests;
