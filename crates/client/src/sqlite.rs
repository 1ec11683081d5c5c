//! The embedded `sqlite:PATH` target: the service's own store, opened in-process, with the
//! same guarantees (one atomic batch guarded by the revision).
//!
//! Reading the live state goes straight to the database: a `plan` needs the state once,
//! not the service's published snapshot, its spare copy and its access index. The full
//! [`Store`] is opened on the first write or access question.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{Guarantees, Live, Provider, ProviderError};
use portalctl_core::api::wire::AccessResponse;
use portalctl_core::model::{CalendarDate, Change};
use portalctl_store::{
    AuditEntry, Backend, ChangeMeta, CommitError, OutboxMessage, OutboxQuery, SqliteBackend, Store,
};

pub struct SqliteProvider {
    path: PathBuf,
    backend: SqliteBackend,
    store: OnceLock<Store>,
    target: String,
    today: CalendarDate,
    /// Where the mail a commit enqueues links to.
    public_url: String,
}

/// Where mail enqueued through the embedded target links to, unless `PORTALCTL_PUBLIC_URL`
/// says otherwise: `serve`'s default address, which serves the same file.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:7878";

impl SqliteProvider {
    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// # Errors
    /// A database of a newer portalctl; SQLite errors.
    pub fn open(path: &Path, today: CalendarDate) -> Result<Self, ProviderError> {
        Ok(Self {
            path: path.to_path_buf(),
            backend: SqliteBackend::open(path)?,
            store: OnceLock::new(),
            target: format!("sqlite:{}", path.display()),
            today,
            public_url: DEFAULT_PUBLIC_URL.to_string(),
        })
    }

    /// Links in the mail this target's commits enqueue (invitations) start with
    /// `public_url`, the address `serve` will be reached at.
    #[must_use]
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        public_url.trim_end_matches('/').clone_into(&mut self.public_url);
        self
    }

    /// The full store, opened on first use.
    fn store(&self) -> Result<&Store, ProviderError> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        // One command commits once: no spare copy of the state is worth keeping.
        let store = Store::open_for_few_commits(&self.path, self.today)?;
        // Invitations are enqueued with the batch that adds the members, as `serve` does;
        // `serve --smtp` sends them later.
        store.send_roster_mail(std::sync::Arc::new(portalctl_mail::RosterMailer {
            links: portalctl_mail::Links::new(&self.public_url, None),
        }));
        Ok(self.store.get_or_init(|| store))
    }
}

/// Who the audit log names for writes through the embedded target.
const LOCAL_ACTOR: &str = "local";

impl Provider for SqliteProvider {
    fn target(&self) -> &str {
        &self.target
    }

    fn guarantees(&self) -> Guarantees {
        Guarantees {
            atomic: true,
            revision_checked: true,
        }
    }

    fn outbox(&self, query: &OutboxQuery) -> Result<Vec<OutboxMessage>, ProviderError> {
        Ok(self.backend.outbox(query)?)
    }

    fn read(&self) -> Result<Live, ProviderError> {
        let (state, revision) = match self.store.get() {
            Some(store) => store.read_state(self.today)?,
            None => self.backend.load()?,
        };
        Ok(Live { state, revision })
    }

    fn apply(
        &self,
        expected_revision: u64,
        changes: &[Change],
        meta: &ChangeMeta,
    ) -> Result<u64, ProviderError> {
        self.store()?
            .commit(Some(expected_revision), changes, meta, LOCAL_ACTOR, self.today)
            .map_err(|error| match error {
                CommitError::Stale { current } => ProviderError::Stale {
                    expected: expected_revision,
                    current,
                },
                CommitError::Invalid(problems)
                | CommitError::Conflict(problems)
                | CommitError::SeatLimit(problems) => ProviderError::Rejected(problems),
                CommitError::Protected(portal) => ProviderError::Protected(portal),
                CommitError::Storage(error) => ProviderError::Store(error),
            })
    }

    fn audit(&self, after: u64) -> Result<Vec<AuditEntry>, ProviderError> {
        let store = self.store()?;
        super::all_audit_pages(after, |cursor| Ok(store.audit(cursor, super::AUDIT_PAGE)?))
    }

    fn access(&self, email: &str) -> Result<AccessResponse, ProviderError> {
        let snapshot = self.store()?.snapshot(self.today)?;
        let email = portalctl_core::model::normalize_email(email);
        Ok(AccessResponse {
            active_partner: snapshot.index.is_active_partner(&email),
            folders: snapshot.index.partner_access(&email),
            revision: snapshot.revision,
            email,
        })
    }
}
